"""`skynet demo [--headless] [--workspace DIR] [--nodes C+W] [--keep]`: the whole install against a SIMULATED lab,
then its console; `--stop` ends a kept lab, `--fault F` injects day-two faults into a running one.

The lab is started by the demo's wiring (skynet_tui/demo.py); this command tells the install that its machines
are simulated and shows it headless or in the terminal UI, where "Install complete" continues into the console
of the lab's cluster. The lab stops when the command ends, unless `--keep` hands it to a process of its own.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
import tempfile
from pathlib import Path

from skynet_tui.commands import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from skynet_tui.commands.demo_backup import backup_restore_scenario
from skynet_tui.commands.demo_nodes import REPLACE_NEEDS
from skynet_tui.commands.demo_upgrade import UPGRADE_FROM, upgrade_scenario
from skynet_tui.demo import (
    FaultError,
    Kept,
    LabBusy,
    LabError,
    inject_faults,
    keep,
    kept,
    lose_etcd,
    parse_nodes,
    prepare_demo,
    stop_kept,
)
from skynet_tui.plan.timing import SCALE_ENV

BANNER = "SIMULATED LAB: no real machine is touched; every node, tool and API here is a simulation."
DEMO_TIMING_SCALE = "0.2"


def run(args: argparse.Namespace) -> int:
    if args.stop or args.fault:
        return _day_two(args)
    try:
        control_planes, workers = parse_nodes(args.nodes)
    except ValueError as exc:
        print(f"skynet demo: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if getattr(args, "scenario", "install") == "replace-node" and (control_planes < 2 or workers < 1):
        print(f"skynet demo: {REPLACE_NEEDS}, not {args.nodes}", file=sys.stderr)
        return EXIT_USAGE
    temporary = not args.workspace
    root = Path(args.workspace) if args.workspace else Path(tempfile.mkdtemp(prefix="skynet-demo-"))
    running = kept(root)
    if running is not None:
        print(
            f"skynet demo: a kept lab serves {root} (pid {running.pid}); reach it with "
            f"`skynet status --workspace {root / 'lab'}` or stop it with `skynet demo --stop --workspace {root}`",
            file=sys.stderr,
        )
        return EXIT_FAILED
    if not args.headless:  # headless prints the same banner when the install starts
        print(BANNER, flush=True)
    scenario = getattr(args, "scenario", "install")
    try:
        lab, cluster, ws = prepare_demo(
            root, args.nodes, versions=UPGRADE_FROM if scenario == "upgrade" else None
        )
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
    handed: Kept | None = None
    try:
        # One front end is loaded, not both: `--headless` never imports Textual, the terminal UI no rich printer.
        if args.headless:
            from skynet_tui.headless import run_install

            code = run_install(cluster, ws, env=env, assume_yes=True, simulated=True)
            if code == 0 and scenario == "upgrade":
                code = upgrade_scenario(ws, env)
            if code == 0 and scenario == "replace-node":
                from skynet_tui.commands.demo_nodes import replace_scenario

                code = replace_scenario(ws, env, lab.add_machine)
            if code == 0 and scenario == "backup-restore":
                code = backup_restore_scenario(ws, env, lambda: lose_etcd(lab))
        else:
            from skynet_tui.app import BootstrapArgs, run_app

            # run_app keeps the install's outcome on the terminal once the screen is gone; after "Install
            # complete" the app shows the lab cluster's console until it is quit.
            code = run_app(bootstrap=BootstrapArgs(cluster, ws, env, simulated=True))
        if args.keep and code == 0:
            handed = keep(lab)
    finally:
        if handed is None:
            lab.stop()
    if handed is not None:
        _print_kept(handed, root)
        return EXIT_OK
    if code == 0 and temporary:
        # A finished demo in a temporary folder is not resumed: nothing of it is left behind.
        shutil.rmtree(root, ignore_errors=True)
        print(f"SIMULATED LAB stopped; its temporary folder {root} is removed (--workspace DIR keeps one).")
        return EXIT_OK
    resume = "" if code == 0 else f"; run with --workspace {root} to resume"
    print(f"SIMULATED LAB stopped. Workspace kept in {ws.root}{resume}.", flush=True)
    return int(code or 0)


def _print_kept(lab: Kept, root: Path) -> None:
    q = shlex.quote
    folder = q(str(root))
    ws = q(str(root / "lab"))
    print(
        f"SIMULATED LAB kept running (pid {lab.pid}, Kubernetes API {lab.api_url}). Reach it with:\n"
        f'  export PATH={q(str(lab.bin_dir))}:"$PATH" SKYNET_LAB_DIR={q(str(lab.root))}\n'
        f"  skynet status --workspace {ws}\n"
        f"  kubectl --kubeconfig {q(str(root / 'lab' / 'secrets' / 'kubeconfig'))} get nodes\n"
        f"Inject a day-two fault: skynet demo --fault node-notready=worker-1 --workspace {folder}\n"
        f"Stop it: skynet demo --stop --workspace {folder}",
        flush=True,
    )


def _day_two(args: argparse.Namespace) -> int:
    """--stop or --fault: they act on the lab of --workspace DIR, and on nothing else."""
    if args.stop and args.fault:
        print("skynet demo: use --stop or --fault, not both", file=sys.stderr)
        return EXIT_USAGE
    if not args.workspace:
        what = "--stop" if args.stop else "--fault"
        print(f"skynet demo: {what} needs --workspace DIR (the folder of the demo)", file=sys.stderr)
        return EXIT_USAGE
    root = Path(args.workspace)
    if args.stop:
        pid = stop_kept(root)
        if pid is None:
            print(f"No kept lab runs in {root}; nothing to stop.", flush=True)
        else:
            print(f"SIMULATED LAB stopped (pid {pid}). Workspace kept in {root / 'lab'}.", flush=True)
        return EXIT_OK
    try:
        lines, live = inject_faults(root, args.fault)
    except FaultError as exc:
        print(f"skynet demo: --fault {exc}", file=sys.stderr)
        return EXIT_USAGE
    except LabError as exc:
        print(f"skynet demo: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for line in lines:
        print(f"SIMULATED LAB {line}", flush=True)
    if not live:
        print(f"No lab runs in {root} now: the faults apply when it starts again.", flush=True)
    return EXIT_OK
