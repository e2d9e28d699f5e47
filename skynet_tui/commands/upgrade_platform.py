"""`skynet upgrade platform [--yes] [--dry-run]`: the charts Skynet pins now, per Application, with the GitOps diff;
committed and pushed on confirmation (0 done or nothing to do, 1 failed, 2 bad input or not confirmed)."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.text import Text

from skynet_tui import spec
from skynet_tui.commands import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from skynet_tui.headless import Printer, run_plan
from skynet_tui.plan.upgrade_platform import platform_plan
from skynet_tui.upgrade.charts import chart_changes, tree_diff
from skynet_tui.workspace import Workspace, WorkspaceLocked


def run_platform(
    ws: Workspace,
    *,
    assume_yes: bool = False,
    dry_run: bool = False,
    env: dict[str, str] | None = None,
    console: Console | None = None,
    simulated: bool = False,
) -> int:
    console = console or Console(highlight=False)
    try:
        cluster = spec.load(ws.cluster_yaml)
    except spec.SpecError as exc:
        print(f"skynet upgrade: {ws.cluster_yaml} is invalid: {exc}", file=sys.stderr)
        return EXIT_USAGE
    changes = chart_changes(ws, cluster)
    changed, diff = tree_diff(ws, cluster)
    console.print(Text(f"Platform upgrade of {cluster.name}", style="bold"))
    for change in changes:
        console.print(Text(f"  {change.describe()}", style="yellow" if change.major else ""), soft_wrap=True)
    if not changed:
        console.print(
            Text("The GitOps folder already holds what Skynet pins: nothing to upgrade.", style="green")
        )
        return EXIT_OK
    console.print(f"{len(changed)} file(s) under {cluster.spec.gitops.path}/ change.")
    if dry_run:
        console.print(diff, highlight=False, markup=False, soft_wrap=True)
        console.print(Text("--dry-run: nothing written, committed or pushed.", style="bold"))
        return EXIT_OK
    if not assume_yes and not sys.stdin.isatty():
        print(
            "skynet upgrade platform pushes to the GitOps remote: pass --yes (no terminal to ask on)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    holder: list[Printer] = []

    def confirm(question: str, detail: str) -> bool:
        progress = holder[0].progress if holder else None
        if progress is not None:
            progress.stop()
        try:
            return console.input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
        except EOFError:
            return False
        finally:
            if progress is not None:
                progress.start()

    plan = platform_plan(cluster, ws, simulated=simulated, confirm=None if assume_yes else confirm)
    try:
        with ws.lock():
            pass
    except WorkspaceLocked as exc:
        print(f"skynet: {exc}", file=sys.stderr)
        return EXIT_USAGE
    ok, printer = run_plan(plan, ws, console, title=plan.name, env=env, ready=holder.append)
    console.print()
    finished = printer.finished
    if ok:
        console.print(Text("✓ Platform upgraded", style="bold green"))
        if finished and finished.summary:
            console.print(finished.summary, soft_wrap=True)
        return EXIT_OK
    for failure in printer.failures:
        console.print(Text(f"  {failure.info.id}: {failure.note}", style="red"), soft_wrap=True)
    if finished and finished.cancelled:
        console.print(Text("Cancelled. Run the same command again to resume.", style="bold yellow"))
    return EXIT_FAILED
