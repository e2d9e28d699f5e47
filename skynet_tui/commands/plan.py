"""`skynet plan`: the install steps in order, their dependencies, and which a re-run would skip."""

from __future__ import annotations

import argparse

from rich.text import Text

from skynet_tui.commands.answers import answers_and_workspace


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
    console.print(
        f"{len(plan.steps)} steps; a re-run skips {len(skips)} and runs {len(plan.steps) - len(skips)}."
    )
    if any(s.writes_machines and s.id not in skips for s in plan.steps):
        console.print("skynet install asks once before it writes to the machines, unless --yes is given.")
    return 0
