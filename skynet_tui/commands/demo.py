"""`skynet demo [--headless] [--workspace DIR] [--nodes C+W]`: the whole install against a SIMULATED lab.

The lab is started by the demo's wiring (skynet_tui/demo.py); this command tells the install that its machines
are simulated and shows it headless or in the terminal UI.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from skynet_tui.commands import EXIT_FAILED, EXIT_USAGE
from skynet_tui.demo import LabBusy, LabError, parse_nodes, prepare_demo
from skynet_tui.plan.timing import SCALE_ENV

BANNER = "SIMULATED LAB: no real machine is touched; every node, tool and API here is a simulation."
DEMO_TIMING_SCALE = "0.2"


def run(args: argparse.Namespace) -> int:
    try:
        parse_nodes(args.nodes)
    except ValueError as exc:
        print(f"skynet demo: {exc}", file=sys.stderr)
        return EXIT_USAGE
    temporary = not args.workspace
    root = Path(args.workspace) if args.workspace else Path(tempfile.mkdtemp(prefix="skynet-demo-"))
    if not args.headless:  # headless prints the same banner when the install starts
        print(BANNER, flush=True)
    try:
        lab, cluster, ws = prepare_demo(root, args.nodes)
    except LabError as exc:
        if temporary:
            shutil.rmtree(root, ignore_errors=True)
        print(f"skynet demo: {exc}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, LabBusy) else EXIT_FAILED
    except BaseException:
        if temporary:
            shutil.rmtree(root, ignore_errors=True)
        raise
    print(
        f"SIMULATED LAB {lab.subnet}: {lab.control_planes} control plane(s), {lab.workers} worker(s); "
        f"workspace {ws.root}",
        flush=True,
    )
    env = lab.env()
    # The lab's machines answer in seconds, not minutes: poll and retry the plan's steps faster.
    env.setdefault(SCALE_ENV, DEMO_TIMING_SCALE)
    try:
        # One front end is loaded, not both: `--headless` never imports Textual, the terminal UI no rich printer.
        if args.headless:
            from skynet_tui.headless import run_install

            code = run_install(cluster, ws, env=env, assume_yes=True, simulated=True)
        else:
            from skynet_tui.app import BootstrapArgs, run_app

            # run_app keeps the install's outcome on the terminal once the screen is gone.
            code = run_app(bootstrap=BootstrapArgs(cluster, ws, env, simulated=True))
    finally:
        lab.stop()
    if code == 0 and temporary:
        # A finished demo in a temporary folder is not resumed: nothing of it is left behind.
        shutil.rmtree(root, ignore_errors=True)
        print(f"SIMULATED LAB stopped; its temporary folder {root} is removed (--workspace DIR keeps one).")
        return 0
    resume = "" if code == 0 else f"; run with --workspace {root} to resume"
    print(f"SIMULATED LAB stopped. Workspace kept in {ws.root}{resume}.", flush=True)
    return int(code or 0)
