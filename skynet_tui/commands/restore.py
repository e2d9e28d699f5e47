"""`skynet restore --snapshot FILE [--workspace DIR] [--force] [--yes]`: the guided disaster recovery, headless;
`skynet restore` without --snapshot opens the restore screen (screens/restore.py) on a terminal.

It checks the snapshot, then whether the cluster is really lost: while etcd has quorum it refuses (exit 1) and says
why, unless `--force`. Before the first machine is wiped it asks for the cluster's name to be typed, or takes
`--yes`. Then the restore plan runs (plan/restore.py) and `restore done` is printed once every node is Ready.
Exit codes: 0 restored, 1 refused or failed, 2 bad input (no such snapshot, no terminal and no --yes).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from rich.console import Console
from rich.text import Text

from skynet_tui import spec
from skynet_tui.backup import assess, catalog
from skynet_tui.commands import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from skynet_tui.commands.target import UsageError, workspace_of
from skynet_tui.headless import run_plan
from skynet_tui.plan.restore import DONE, restore_plan
from skynet_tui.workspace import Workspace, WorkspaceLocked


def run(args: argparse.Namespace) -> int:
    try:
        ws = workspace_of(args)
    except UsageError as exc:
        print(f"skynet restore: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.snapshot is None:
        return _screen(ws)
    return run_restore(ws, Path(args.snapshot), force=args.force, assume_yes=args.yes)


def _screen(ws: Workspace) -> int:
    if not (sys.stdin.isatty() and sys.stdout.isatty()) and not os.environ.get("TEXTUAL_DRIVER"):
        print(
            "skynet restore: the restore screen needs a terminal; without one use "
            "`skynet restore --snapshot FILE --yes`",
            file=sys.stderr,
        )
        return EXIT_USAGE
    from skynet_tui.app import run_app  # Textual loads once the workspace is known

    return run_app(restore=ws.root)


def _confirm(console: Console, name: str) -> bool:
    try:
        typed = console.input(f"Type the cluster's name ({name}) to wipe etcd on its control planes: ")
    except EOFError:
        return False
    return typed.strip() == name


def run_restore(
    ws: Workspace,
    snapshot: Path,
    *,
    force: bool = False,
    assume_yes: bool = False,
    env: dict[str, str] | None = None,
    console: Console | None = None,
    simulated: bool = False,
) -> int:
    """Check, judge, confirm, restore; an exit code."""
    console = console or Console(highlight=False)

    def say(text: str, style: str = "") -> None:
        console.print(Text(text, style=style), soft_wrap=True)

    try:
        cluster = spec.load(ws.cluster_yaml)
        catalog.verify(snapshot)
    except spec.SpecError as exc:
        print(f"skynet restore: {ws.cluster_yaml} is invalid: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except catalog.BackupError as exc:
        print(f"skynet restore: {exc}", file=sys.stderr)
        return EXIT_USAGE
    judged = assess.read(cluster, ws.talosconfig, env=env)
    if judged.has_quorum and not force:
        say(f"Refused: {judged.text()}.", "bold red")
        return EXIT_FAILED
    say(judged.text() + ("; --force: restoring anyway" if judged.has_quorum else "."), "yellow")
    say(
        f"The restore wipes etcd's data on {', '.join(judged.control_planes)} (reset EPHEMERAL, reboot) and "
        f"recovers it from {snapshot}: every Kubernetes object goes back to the snapshot."
    )
    if not assume_yes:
        if not sys.stdin.isatty():
            print(
                "skynet restore wipes the control planes: pass --yes (no terminal to ask on)", file=sys.stderr
            )
            return EXIT_USAGE
        if not _confirm(console, cluster.name):
            say("Nothing changed.")
            return EXIT_FAILED
    try:
        with ws.lock():
            pass
    except WorkspaceLocked as exc:
        print(f"skynet: {exc}", file=sys.stderr)
        return EXIT_USAGE
    plan = restore_plan(cluster, ws, snapshot, env=env, simulated=simulated)
    ok, printer = run_plan(plan, ws, console, title=plan.name, env=env)
    if ok:
        finished = printer.finished
        if finished and finished.summary:
            say(finished.summary)
        say(DONE, "bold green")
        return EXIT_OK
    say("✗ The restore stopped", "bold red")
    for failure in printer.failures:
        say(f"  {failure.info.id}: {failure.note}", "red")
    if printer.finished and printer.finished.support_bundle:
        say(f"Support bundle (redacted, safe to share): {printer.finished.support_bundle}", "bold")
    say("Run the same command again to go on: the steps a machine shows done are skipped.")
    return EXIT_FAILED
