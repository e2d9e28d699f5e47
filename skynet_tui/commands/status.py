"""`skynet status [--workspace DIR | --kubeconfig F --talosconfig F] [--once [--json]]`: the day-two console.

Without --once it opens the console (the terminal UI). With --once it reads every layer once, prints one line per
layer and the problems (with rich; `--json` for machines) and exits 0 when every checked layer is ok, 1 otherwise,
2 on bad input (no cluster given, a kubeconfig that cannot be used).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from skynet_tui.commands import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from skynet_tui.status.model import Snapshot
from skynet_tui.status.source import Source, SourceError, resolve


def run(args: argparse.Namespace) -> int:
    try:
        source = resolve(workspace=args.workspace, kubeconfig=args.kubeconfig, talosconfig=args.talosconfig)
    except SourceError as exc:
        print(f"skynet status: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.json and not args.once:
        print("skynet status: --json goes with --once", file=sys.stderr)
        return EXIT_USAGE
    if args.once:
        return once(source, as_json=args.json, timeout=args.timeout)
    if not (sys.stdin.isatty() and sys.stdout.isatty()) and not os.environ.get("TEXTUAL_DRIVER"):
        print(
            "skynet status: the console needs a terminal; without one use `skynet status --once`",
            file=sys.stderr,
        )
        return EXIT_USAGE
    from skynet_tui.app import run_app  # Textual (~0.5 s) loads once the cluster is known

    return run_app(console=source)


def once(source: Source, *, as_json: bool, timeout: float) -> int:
    # The status core loads the kubernetes client (~0.3 s): only once the cluster is known.
    from skynet_tui.status.monitor import Monitor
    from skynet_tui.status.report import to_dict

    try:
        monitor = Monitor(source)
    except ValueError as exc:  # a kubeconfig the client cannot use
        print(f"skynet status: {exc}", file=sys.stderr)
        return EXIT_USAGE
    snap = monitor.once(timeout)
    if as_json:
        print(json.dumps(to_dict(snap), indent=2))
    else:
        _print(snap)
    return EXIT_OK if snap.healthy else EXIT_FAILED


def _print(snap: Snapshot) -> None:
    # rich loads for the printed summary only (--json prints without it).
    from rich.console import Console
    from rich.text import Text

    console = Console(highlight=False)
    styles = {"ok": "green", "warn": "yellow", "error": "bold red", "unknown": "dim"}
    marks = {"ok": "●", "warn": "▲", "error": "✖", "unknown": "○"}
    console.print(Text(f"{snap.cluster or 'cluster'} · {snap.taken_at:%Y-%m-%d %H:%M:%S} UTC", style="bold"))
    for layer in snap.layers:
        line = Text(f"{marks[layer.level]} ", style=styles[layer.level])
        line.append(f"{layer.title:<12}", style="bold")
        line.append(f"{layer.level:<8}", style=styles[layer.level])
        line.append(layer.text, style="" if layer.checked else "dim")
        console.print(line)
    if snap.capacity:
        console.print(Text(f"▲ {'Capacity':<12}{snap.capacity}", style="yellow"))
    if snap.backup:
        warn = snap.backup_level == "warn"
        console.print(
            Text(f"{'▲' if warn else '●'} {'Backup':<12}{snap.backup}", style="yellow" if warn else "")
        )
    if snap.access:
        warn = snap.access_level == "warn"
        console.print(
            Text(f"{'▲' if warn else '●'} {'Access':<12}{snap.access}", style="yellow" if warn else ""),
            soft_wrap=True,
        )
    if snap.unshared:
        console.print(Text(f"▲ {'Secrets':<12}{snap.unshared}", style="yellow"))
    if snap.problems:
        console.print(Text(f"\n{len(snap.problems)} problem(s):", style="bold"))
        for problem in snap.problems:
            line = Text(f"  {marks[problem.level]} ", style=styles[problem.level])
            line.append(f"{problem.layer:<11}", style="dim")
            line.append(problem.text)
            console.print(line)
    verdict = "healthy" if snap.healthy else "not healthy"
    console.print(Text(f"\n{verdict}", style="green" if snap.healthy else "bold red"))
