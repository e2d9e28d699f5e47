"""`skynet node add|remove|replace`: a machine joins or leaves the cluster, headless, gated and journaled.

add: discovery finds the machine in maintenance mode (the wizard's scan, its safe disk, its up link, its
fingerprint pinned), cluster.yaml gets the node, and the install's steps run for it alone. remove: refused (exit 2,
with the reason) when it would break etcd quorum or leave no control plane; else cordon, drain, etcd leave, reset,
delete, cluster.yaml without it. replace: remove, then add the new machine with the same hostname, IP and role.
Exit codes: 0 done, 1 failed or stopped (run it again to resume), 2 bad input or refused.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from typing import Any

from rich.console import Console
from rich.text import Text

from skynet_tui import spec
from skynet_tui.commands import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from skynet_tui.commands.target import UsageError, workspace_of
from skynet_tui.events import StepLine
from skynet_tui.headless import run_plan
from skynet_tui.nodes import answers, quorum
from skynet_tui.plan import Plan
from skynet_tui.plan import node as node_plans
from skynet_tui.plan.node_steps import MILESTONE, NodeTiming, leaving_refusal
from skynet_tui.upgrade import live
from skynet_tui.workspace import Workspace


def run(args: argparse.Namespace) -> int:
    try:
        ws = workspace_of(args)
    except UsageError as exc:
        print(f"skynet node: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.action in ("remove", "replace") and not args.name:
        print(f"skynet node {args.action}: NAME (the node's hostname) is required", file=sys.stderr)
        return EXIT_USAGE
    return run_node(
        ws,
        args.action,
        args.name or "",
        address=args.address or "",
        scan=args.scan or "",
        ip=args.ip or "",
        hostname=args.hostname or "",
        role=args.role or "",
        assume_yes=args.yes,
        allow_degraded=args.allow_degraded,
        drain_timeout=args.drain_timeout,
    )


def _say(console: Console, text: str, style: str = "") -> None:
    console.print(Text(text, style=style), soft_wrap=True)


def _refused(console: Console, text: str) -> int:
    _say(console, f"Refused: {text}", "bold red")
    return EXIT_USAGE


def run_node(
    ws: Workspace,
    action: str,
    name: str = "",
    *,
    address: str = "",
    scan: str = "",
    ip: str = "",
    hostname: str = "",
    role: str = "",
    assume_yes: bool = False,
    allow_degraded: bool = False,
    env: dict[str, str] | None = None,
    console: Console | None = None,
    simulated: bool = False,
    timing: NodeTiming | None = None,
    drain_timeout: float | None = None,
) -> int:
    """Check, then run one node action headless; an exit code."""
    console = console or Console(highlight=False)
    if drain_timeout is not None:
        if drain_timeout <= 0:
            return _refused(console, "--drain-timeout takes a number of seconds above 0")
        timing = dataclasses.replace(
            timing or NodeTiming.from_env(env or dict(os.environ)), drain_timeout=drain_timeout
        )
    try:
        cluster = spec.load(ws.cluster_yaml)
    except spec.SpecError as exc:
        print(f"skynet node: {ws.cluster_yaml} is invalid: {exc}", file=sys.stderr)
        return EXIT_USAGE
    node = quorum.find(cluster, name) if name else None
    if action in ("remove", "replace"):
        if node is None:
            return _refused(console, quorum.removal_refusal(cluster, name, []))
        snap = live.read(ws.root, env=env)
        refusal = leaving_refusal(cluster, name, snap)
        if refusal:
            return _refused(console, refusal)
    entry: dict[str, Any] = {}
    if action in ("add", "replace"):
        base = answers.without(cluster, name) if node is not None else cluster
        if node is not None:
            ip, hostname, role = node.ip, node.hostname, node.role
        if not ip:
            return _refused(
                console, "--ip IP is required: the static address the node keeps after its install"
            )
        try:
            found = answers.maintenance_machines(base, env, cidr=scan, only=address)
            machine = answers.choose(found, base, address or scan)
            entry = answers.draft(base, machine, ip=ip, hostname=hostname, role=role)
            answers.with_node(base, entry)
        except answers.NoMachine as exc:
            return _refused(console, str(exc))
        except spec.SpecError as exc:
            return _refused(console, "; ".join(f"{i.path}: {i.message}" for i in exc.issues))
        _show_entry(console, entry)
    plan = _plan(action, cluster, node, entry, ws, env, simulated, timing, allow_degraded)
    if not assume_yes:
        if not sys.stdin.isatty():
            print(f"skynet node {action} changes the machines: pass --yes to confirm", file=sys.stderr)
            return EXIT_USAGE
        if not _ask(console, f"{plan.name.capitalize()} in {cluster.name}?"):
            _say(console, "Nothing changed.")
            return EXIT_USAGE
    started = time.monotonic()
    ok, printer = run_plan(plan, ws, console, title=plan.name, env=env, bare=is_milestone)
    console.print()
    finished = printer.finished
    if ok:
        _say(console, f"✓ {plan.name} in {time.monotonic() - started:.0f}s", "bold green")
        if finished and finished.summary:
            _say(console, finished.summary)
        return EXIT_OK
    _say(console, f"✗ {plan.name} stopped; run the same command again to resume", "bold red")
    for failure in printer.failures:
        _say(console, f"  {failure.info.id}: {failure.note}", "red")
    if finished and finished.support_bundle:
        _say(console, f"Support bundle (redacted, safe to share): {finished.support_bundle}", "bold")
    return EXIT_FAILED


def _plan(
    action: str,
    cluster: spec.Cluster,
    node: spec.Node | None,
    entry: dict[str, Any],
    ws: Workspace,
    env: dict[str, str] | None,
    simulated: bool,
    timing: NodeTiming | None,
    allow_degraded: bool,
) -> Plan:
    options: dict[str, Any] = {
        "env": env,
        "timing": timing,
        "simulated": simulated,
        "allow_degraded": allow_degraded,
    }
    if action == "add":
        return node_plans.add_plan(cluster, entry, ws, **options)
    assert node is not None
    if action == "remove":
        return node_plans.remove_plan(cluster, node, ws, **options)
    return node_plans.replace_plan(cluster, node, entry, ws, **options)


def is_milestone(event: StepLine) -> bool:
    return bool(MILESTONE.match(event.text))


def _show_entry(console: Console, entry: dict[str, Any]) -> None:
    disk = entry.get("installDisk")
    disk_text = ", ".join(f"{k} {v}" for k, v in disk.items()) if isinstance(disk, dict) else str(disk)
    where = entry.get("maintenanceAddress") or entry["ip"]
    _say(
        console, f"New node {entry['hostname']} ({entry['role']}) at {entry['ip']}, found at {where}:", "bold"
    )
    _say(console, f"  install disk {disk_text}; link {entry.get('interface') or entry.get('mac')}")
    if entry.get("certFingerprint"):
        _say(
            console,
            f"  certificate fingerprint {entry['certFingerprint']} (pinned: compare it with its console)",
        )


def _ask(console: Console, question: str) -> bool:
    try:
        return console.input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
    except EOFError:
        return False
