"""`skynet demo [--headless] [--workspace DIR] [--fresh] [--nodes C+W] [--keep]`: the whole arc against a SIMULATED
lab; `--stop` ends a kept lab, `--fault F` injects day-two faults into a running one.

The lab is started by the demo's wiring (skynet_tui/demo.py); this command tells the install that its machines
are simulated. In the terminal UI the demo walks the wizard from its first step (every answer filled in for the
lab) to the review, the install and the lab cluster's console; `--headless` installs straight away. The demo's
folder is stable (the user's data directory unless --workspace), so a stopped demo resumes when run again;
`--fresh` starts over. The lab stops when the command ends, unless `--keep` hands it to a process of its own.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
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
    default_root,
    demo_env,
    inject_faults,
    keep,
    kept,
    lose_etcd,
    parse_nodes,
    prepare_demo,
    stop_kept,
)

BANNER = "SIMULATED LAB: no real machine is touched; every node, tool and API here is a simulation."


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
    root = Path(args.workspace) if args.workspace else default_root()
    running = kept(root)
    if running is not None:
        print(
            f"skynet demo: a kept lab serves {root} (pid {running.pid}); reach it with "
            f"`skynet status --workspace {root / 'lab'}` or stop it with `skynet demo --stop --workspace {root}`",
            file=sys.stderr,
        )
        return EXIT_FAILED
    if getattr(args, "fresh", False) and root.exists():
        shutil.rmtree(root)
    resumed = (root / "simulated-lab").is_dir()
    if not args.headless:  # headless prints the same banner when the install starts
        print(BANNER, flush=True)
    print(
        f"Demo folder {root} ({'resuming the demo stopped there; --fresh starts over' if resumed else 'new'})",
        flush=True,
    )
    scenario = getattr(args, "scenario", "install")
    try:
        lab, cluster, ws = prepare_demo(
            root, args.nodes, versions=UPGRADE_FROM if scenario == "upgrade" else None
        )
    except LabError as exc:
        print(f"skynet demo: {exc}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, LabBusy) else EXIT_FAILED
    print(
        f"SIMULATED LAB {lab.subnet}: {lab.control_planes} control plane(s), {lab.workers} worker(s); "
        f"workspace {ws.root}",
        flush=True,
    )
    env = demo_env(lab)
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
            from skynet_tui.app import DemoArgs, run_app

            # The wizard from its first step, the review, the install, then the lab cluster's console until it
            # is quit; run_app keeps the install's outcome on the terminal once the screen is gone.
            code = run_app(demo=DemoArgs(cluster, ws, env))
        if args.keep and code == 0:
            handed = keep(lab)
    finally:
        if handed is None:
            lab.stop()
    if handed is not None:
        _print_kept(handed, root)
        return EXIT_OK
    print(
        f"SIMULATED LAB stopped. Workspace kept in {ws.root}: the same command resumes it, --fresh starts over.",
        flush=True,
    )
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
