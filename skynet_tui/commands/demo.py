"""`skynet demo [--headless] [--workspace DIR] [--nodes C+W]`: the whole install against a SIMULATED lab.

The one module of the product that uses the lab (skynet_lab): it starts the lab, writes the lab's answers into a
workspace and tells the install that its machines are simulated. The welcome screen's demo entry comes here too.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from skynet_lab.core import Lab, LabError
from skynet_lab.demo import parse_nodes, start_lab
from skynet_tui.commands import EXIT_FAILED, EXIT_USAGE

if TYPE_CHECKING:
    from skynet_tui.spec import Cluster
    from skynet_tui.workspace import Workspace

CLUSTER_NAME = "lab"
BANNER = "SIMULATED LAB: no real machine is touched; every node, tool and API here is a simulation."
SCALE_ENV = "SKYNET_TIMING_SCALE"  # read by the install plan (plan/install.py)
DEMO_TIMING_SCALE = "0.2"


def prepare_demo(
    root: str | Path, nodes: str = "3+2", *, latency: dict[str, float] | None = None
) -> tuple[Lab, Cluster, Workspace]:
    """Start a lab under `root/simulated-lab`, write its answers to `root/<cluster>/cluster.yaml`; the caller stops the lab.

    A second call on the same `root` resumes: the lab reopens its state (same subnet, same machines) and the
    workspace keeps its journal, so the install continues where it stopped.
    """
    from skynet_tui import spec
    from skynet_tui.workspace import Workspace, atomic_write

    root = Path(root).resolve()
    lab = start_lab(root, nodes, latency=latency)
    try:
        cluster = spec.parse(lab.cluster_data(name=CLUSTER_NAME))
        ws = Workspace.at(root / cluster.name)
        ws.root.mkdir(parents=True, exist_ok=True)
        atomic_write(ws.cluster_yaml, spec.dump(cluster))
    except BaseException:
        lab.stop()
        raise
    return lab, cluster, ws


def run(args: argparse.Namespace) -> int:
    try:
        parse_nodes(args.nodes)
    except ValueError as exc:
        print(f"skynet demo: {exc}", file=sys.stderr)
        return EXIT_USAGE
    root = Path(args.workspace) if args.workspace else Path(tempfile.mkdtemp(prefix="skynet-demo-"))
    if not args.headless:  # headless prints the same banner when the install starts
        print(BANNER, flush=True)
    try:
        lab, cluster, ws = prepare_demo(root, args.nodes)
    except LabError as exc:
        print(f"skynet demo: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(
        f"SIMULATED LAB {lab.subnet}: {lab.control_planes} control plane(s), {lab.workers} worker(s); "
        f"workspace {ws.root}",
        flush=True,
    )
    env = lab.env()
    # The lab's machines answer in seconds, not minutes: poll and retry the plan's steps faster.
    env.setdefault(SCALE_ENV, DEMO_TIMING_SCALE)
    try:
        if args.headless:
            from skynet_tui.headless import run_install

            code = run_install(cluster, ws, env=env, assume_yes=True, simulated=True)
        else:
            from skynet_tui.app import BootstrapArgs, run_app

            code = run_app(bootstrap=BootstrapArgs(cluster, ws, env, simulated=True))
            if code == 0:  # the screen with the summary is gone: keep it on the terminal
                from skynet_tui.plan.platform import summary

                print(summary(cluster, ws), flush=True)
    finally:
        lab.stop()
    resume = "" if code == 0 else f"; run with --workspace {root} to resume"
    print(f"SIMULATED LAB stopped. Workspace kept in {ws.root}{resume}.", flush=True)
    return int(code or 0)
