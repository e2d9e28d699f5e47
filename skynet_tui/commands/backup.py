"""`skynet backup [--workspace DIR] [--keep N]`: an etcd snapshot into the workspace's backups/ (0600, outside git)
with its manifest; `--keep N` then removes all but the newest N. `--list` shows the backups, newest first.

Exit codes: 0 written (or listed), 1 no control plane gave a snapshot, 2 bad input.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from rich.console import Console
from rich.text import Text

from skynet_tui import spec
from skynet_tui.backup import catalog
from skynet_tui.commands import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from skynet_tui.commands.target import UsageError, workspace_of
from skynet_tui.events import StepLine
from skynet_tui.headless import run_plan
from skynet_tui.plan.backup import WRITTEN, backup_plan
from skynet_tui.workspace import Workspace, WorkspaceLocked


def run(args: argparse.Namespace) -> int:
    if args.keep is not None and args.keep < 1:
        print("skynet backup: --keep takes 1 or more (the newest backups kept)", file=sys.stderr)
        return EXIT_USAGE
    try:
        ws = workspace_of(args)
    except UsageError as exc:
        print(f"skynet backup: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.list:
        return show_list(ws, Console(highlight=False))
    return run_backup(ws, keep=args.keep)


def show_list(ws: Workspace, console: Console) -> int:
    backups = catalog.listing(ws.root)
    if not backups:
        console.print(f"No backups in {ws.root / catalog.FOLDER}: take one with `skynet backup`.")
        return EXIT_OK
    now = dt.datetime.now(dt.UTC)
    for backup in backups:
        m = backup.manifest
        what = (
            f"{m.reason}, from {m.node}, Talos {m.talos}, Kubernetes {m.kubernetes}" if m else "no manifest"
        )
        age = catalog.age_text(now - backup.taken)
        console.print(f"{backup.path.relative_to(ws.root)}  {age} ago  ({what})", soft_wrap=True)
    return EXIT_OK


def run_backup(
    ws: Workspace,
    *,
    keep: int | None = None,
    env: dict[str, str] | None = None,
    console: Console | None = None,
    simulated: bool = False,
) -> int:
    """Take one backup headless; an exit code. Prints `backup written <path>` once the snapshot is there."""
    console = console or Console(highlight=False)
    try:
        cluster = spec.load(ws.cluster_yaml)
    except spec.SpecError as exc:
        print(f"skynet backup: {ws.cluster_yaml} is invalid: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        with ws.lock():
            pass
    except WorkspaceLocked as exc:
        print(f"skynet: {exc}", file=sys.stderr)
        return EXIT_USAGE
    plan = backup_plan(cluster, ws, keep=keep, env=env, simulated=simulated)

    def bare(event: StepLine) -> bool:
        return bool(WRITTEN.match(event.text))

    ok, printer = run_plan(plan, ws, console, title=plan.name, env=env, bare=bare)
    if ok:
        return EXIT_OK
    console.print(Text("✗ No backup was written", style="bold red"))
    for failure in printer.failures:
        console.print(Text(f"  {failure.info.id}: {failure.note}", style="red"), soft_wrap=True)
    return EXIT_FAILED
