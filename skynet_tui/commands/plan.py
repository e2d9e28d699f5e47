"""`skynet plan`: the install steps in order, their dependencies, and which a re-run would skip; with
`--commands`, every command each step would run, without touching any machine."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from rich.text import Text

from skynet_tui.commands.answers import answers_and_workspace
from skynet_tui.launcher import command_line

if TYPE_CHECKING:
    from rich.console import Console

    from skynet_tui.plan.steps import Plan
    from skynet_tui.workspace import Workspace


def run(args: argparse.Namespace) -> int:
    cluster, ws = answers_and_workspace(args)
    # The plan and its printer load once the answers are valid: a refused file is refused fast.
    from skynet_tui.headless import QuietConsole
    from skynet_tui.plan.install import install_plan

    plan = install_plan(cluster, ws)
    skips = plan.finished_in_journal(ws)
    console = QuietConsole(highlight=False)
    console.print(Text(f"Install plan for {cluster.name} (workspace {ws.root})", style="bold"))
    width = max(len(step.id) for step in plan.steps)
    for number, step in enumerate(plan.order(), 1):
        line = Text(f"{number:>3}. ")
        line.append("skip " if step.id in skips else "run  ", style="cyan" if step.id in skips else "green")
        line.append(f"{step.id:<{width}}  {step.title}")
        if step.deps:
            shown = ", ".join(step.deps[:3]) + (f" +{len(step.deps) - 3}" if len(step.deps) > 3 else "")
            line.append(f"  (after {shown})", style="dim")
        if step.id in skips:
            line.append(f"  [{skips[step.id]}]", style="cyan")
        console.print(line, soft_wrap=True)
        if getattr(args, "commands", False):
            _commands(console, plan, step.id, ws)
    console.print(
        f"{len(plan.steps)} steps; a re-run skips {len(skips)} and runs {len(plan.steps) - len(skips)}."
    )
    if getattr(args, "commands", False):
        console.print(
            f"Commands run from the workspace folder {ws.root} (paths are relative to it).", soft_wrap=True
        )
    if any(s.writes_machines and s.id not in skips for s in plan.steps):
        console.print(
            "skynet install asks once before it writes to the machines, unless --yes is given.",
            soft_wrap=True,
        )
    return 0


def _commands(console: Console, plan: Plan, step_id: str, ws: Workspace) -> None:
    """The step's commands, one `$ …` line each (notes dimmed), as its log will show them."""
    for item in plan.get(step_id).planned_commands():
        if isinstance(item, str):
            console.print(Text(f"       {item}", style="dim"), soft_wrap=True)
        else:
            console.print(Text(f"       {command_line(item, ws.root)}"), soft_wrap=True)
