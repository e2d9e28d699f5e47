"""`skynet upgrade talos|kubernetes --to VERSION [--yes] [--dry-run]`, `skynet upgrade platform`, and `skynet
upgrade` alone: the upgrade screen of a workspace's cluster.

Headless, it prints what runs now, the path and the gates, then runs the plan through the runner (journaled: run
it again to resume). Exit codes: 0 done (or nothing to do; with --dry-run: the gates are open), 1 the upgrade
failed, stopped or its gates are closed, 2 bad input (a target the support matrix refuses, no workspace,
no --yes without a terminal).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from rich.console import Console
from rich.text import Text

from skynet_tui import spec
from skynet_tui.commands import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from skynet_tui.commands.target import UsageError, workspace_of
from skynet_tui.events import StepLine
from skynet_tui.headless import Printer, run_plan
from skynet_tui.plan import Plan, upgrade
from skynet_tui.plan.upgrade_steps import MILESTONE, UpgradeTiming
from skynet_tui.workspace import Workspace, WorkspaceLocked

WHAT = {"talos": "Talos", "kubernetes": "Kubernetes"}


def run(args: argparse.Namespace) -> int:
    try:
        ws = workspace_of(args)
    except UsageError as exc:
        print(f"skynet upgrade: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.kind is None:
        return _screen(ws)
    if args.kind in ("talos", "kubernetes") and not args.to:
        print(f"skynet upgrade {args.kind}: --to VERSION is required", file=sys.stderr)
        return EXIT_USAGE
    if args.kind == "platform":
        from skynet_tui.commands.upgrade_platform import run_platform  # the GitOps renderer loads only here

        return run_platform(ws, assume_yes=args.yes, dry_run=args.dry_run)
    request = upgrade.Request(
        args.kind,
        args.to,
        allow_degraded=args.allow_degraded,
        allow_prerelease=args.pre_release,
        parallel=args.parallel,
    )
    return run_upgrade(ws, request, assume_yes=args.yes, dry_run=args.dry_run)


def _screen(ws: Workspace) -> int:
    if not (sys.stdin.isatty() and sys.stdout.isatty()) and not os.environ.get("TEXTUAL_DRIVER"):
        print(
            "skynet upgrade: the upgrade screen needs a terminal; without one use "
            "`skynet upgrade talos|kubernetes --to VERSION --yes`",
            file=sys.stderr,
        )
        return EXIT_USAGE
    from skynet_tui.app import run_app  # Textual (~0.5 s) loads once the workspace is known

    return run_app(upgrade=ws.root)


# ---------------------------------------------------------------- headless


def is_milestone(event: StepLine) -> bool:
    return bool(MILESTONE.match(event.text))


def show_preview(console: Console, prepared: upgrade.Preview) -> None:
    """What runs now on each node, the path, and the gates."""
    kind = prepared.request.kind
    console.print(Text(f"{WHAT[kind]} upgrade of {prepared.cluster.name}", style="bold"))
    target = prepared.target
    for node in prepared.nodes:
        now = prepared.current(node) or "?"
        line = Text(f"  {node.hostname:<14} {node.ip:<16} {node.role:<13} {now}")
        if prepared.hops and now != target:
            line.append(f" -> {target}", style="green")
        console.print(line)
    if prepared.refusal:
        console.print(Text(f"Refused: {prepared.refusal}", style="bold red"))
        return
    if prepared.nothing_to_do:
        console.print(Text(f"Every node runs {WHAT[kind]} {target} already: nothing to do.", style="green"))
        return
    start = sorted({prepared.current(n) for n in prepared.nodes})
    console.print(f"Path: {' / '.join(start)} -> {' -> '.join(prepared.hops)}")
    order = " then ".join(", ".join(batch) for batch in prepared.order())
    console.print(f"Order: {order}" if kind == "talos" else "Order: talosctl upgrade-k8s, node by node")
    for gate in prepared.gates:
        mark, style = ("✓", "green") if gate.ok else ("✗", "red")
        line = Text(f"  {mark} ", style=style)
        line.append(f"{gate.title}: ", style="bold")
        line.append(gate.detail)
        console.print(line, soft_wrap=True)


def _ask(console: Console, question: str) -> bool:
    try:
        return console.input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
    except EOFError:
        return False


def run_upgrade(
    ws: Workspace,
    request: upgrade.Request,
    *,
    assume_yes: bool = False,
    dry_run: bool = False,
    env: dict[str, str] | None = None,
    console: Console | None = None,
    simulated: bool = False,
    timing: UpgradeTiming | None = None,
) -> int:
    """Preview, then run (or with `dry_run` check) one Talos or Kubernetes upgrade headless; an exit code."""
    console = console or Console(highlight=False)
    try:
        prepared = upgrade.read(ws, request, env=env)
    except spec.SpecError as exc:
        print(f"skynet upgrade: {ws.cluster_yaml} is invalid: {exc}", file=sys.stderr)
        return EXIT_USAGE
    show_preview(console, prepared)
    if prepared.refusal:
        return EXIT_USAGE
    if prepared.nothing_to_do:
        return EXIT_OK
    if not dry_run and not prepared.gates_open:
        console.print(
            Text("The gates are closed: nothing changed. Fix what they name and run again.", style="bold red")
        )
        return EXIT_FAILED
    if not dry_run and not assume_yes:
        if not sys.stdin.isatty():
            print(
                "skynet upgrade changes the machines: pass --yes to confirm (no terminal to ask on)",
                file=sys.stderr,
            )
            return EXIT_USAGE
        if request.kind == "talos" and not _ask(
            console,
            f"Upgrade Talos on {len(prepared.nodes)} node(s) to {prepared.target}, one at a time "
            "(each drains and reboots)?",
        ):
            console.print("Nothing changed.")
            return EXIT_USAGE
    printer: list[Printer] = []

    def confirm(question: str, detail: str) -> bool:
        progress = printer[0].progress if printer else None
        if progress is not None:
            progress.stop()
        try:
            return _ask(console, question)
        finally:
            if progress is not None:
                progress.start()

    plan = upgrade.build(
        prepared,
        ws,
        env=env,
        timing=timing,
        simulated=simulated,
        confirm=None if assume_yes or dry_run else confirm,
        check_only=dry_run,
    )
    if dry_run:
        _show_plan(console, upgrade.build(prepared, ws, env=env, timing=timing, simulated=simulated))
    try:
        with ws.lock():
            pass
    except WorkspaceLocked as exc:
        print(f"skynet: {exc}", file=sys.stderr)
        return EXIT_USAGE
    started = time.monotonic()

    def paused() -> None:
        console.print(
            Text(
                "ctrl+c: pausing once the node under way is done (ctrl+c again stops at once)", style="yellow"
            )
        )

    ok, shown = run_plan(
        plan, ws, console, title=plan.name, env=env, bare=is_milestone, on_pause=paused, ready=printer.append
    )
    return _report(console, shown, prepared, ok, dry_run, time.monotonic() - started)


def _show_plan(console: Console, plan: Plan) -> None:
    steps = plan.steps
    console.print(Text(f"The plan ({len(steps)} steps; --dry-run runs the checks only):", style="bold"))
    for number, step in enumerate(steps, 1):
        console.print(f"  {number:>3}. {step.title}", highlight=False, soft_wrap=True)


def _report(
    console: Console, printer: Printer, prepared: upgrade.Preview, ok: bool, dry_run: bool, elapsed: float
) -> int:
    def say(text: str, style: str = "") -> None:
        console.print(Text(text, style=style), soft_wrap=True)

    console.print()
    finished = printer.finished
    what = WHAT[prepared.request.kind]
    if ok:
        if dry_run:
            say(
                "✓ The gates are open and the checks passed: run again without --dry-run to upgrade.",
                "bold green",
            )
        else:
            say(f"✓ {what} {prepared.target} in {elapsed:.0f}s", "bold green")
            if finished and finished.summary:
                say(finished.summary)
        return EXIT_OK
    if finished and finished.cancelled:
        say(upgrade.stopped_text(printer.state, prepared.cluster), "bold yellow")
        return EXIT_FAILED
    say(
        f"✗ {what} upgrade stopped after {elapsed:.0f}s" if not dry_run else "✗ The checks did not pass",
        "bold red",
    )
    for failure in printer.failures:
        say(f"  {failure.info.id}: {failure.note}", "red")
    if finished and finished.support_bundle:
        say(f"Support bundle (redacted, safe to share): {finished.support_bundle}", "bold")
    return EXIT_FAILED
