"""What the upgrade plans share: their timing, the gates step, the etcd snapshot, reading a node, recording versions.

Every read goes through the step's Context (so a cancel ends it and its lines land in the step's log); the gates
read one status snapshot (upgrade/live.py) and judge it (upgrade/gates.py), waiting for the cluster to settle.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from skynet_tui import kube
from skynet_tui.plan import backup
from skynet_tui.plan.probes import NET_ERRORS, TLS_ERRORS
from skynet_tui.plan.steps import Step, StepError, call
from skynet_tui.plan.timing import Timing
from skynet_tui.talos import commands as talos
from skynet_tui.talos import parse
from skynet_tui.upgrade import gates as gate_rules
from skynet_tui.upgrade import live, record

if TYPE_CHECKING:
    from skynet_tui import launcher
    from skynet_tui.runner import Context
    from skynet_tui.spec import Cluster, Node
    from skynet_tui.status.model import Snapshot

# Confirm(question, what the operator should read first) -> go ahead? Front ends ask; None means --yes.
Confirm = Callable[[str, str], bool]

# `upgrade cp-1 v1.13.8 -> v1.13.9 started|done`: one line per node as its upgrade starts and ends.
MILESTONE = re.compile(r"^upgrade (\S+) (\S+) -> (\S+) (started|done)$")


def milestone(host: str, before: str, after: str, what: str) -> str:
    return f"upgrade {host} {before} -> {after} {what}"


@dataclass(frozen=True)
class UpgradeTiming(Timing):
    """The upgrade plans' waits and timeouts, in seconds (real machines by default; scaled like Timing)."""

    first_gate_wait: float = 120.0  # the gates before anything changes: long enough to ride out a blip
    gate_wait: float = 900.0  # the gates after a node or a step: the cluster settles after a reboot
    upgrade_timeout: float = 1800.0  # talosctl upgrade --timeout: pull, drain, install, reboot, back
    ready_timeout: float = 900.0  # the node Ready in Kubernetes once Talos is back
    k8s_timeout: float = 3600.0  # talosctl upgrade-k8s: every component on every node
    snapshot_timeout: float = 600.0
    read_timeout: float = 90.0  # one status snapshot or one talosctl read (a loaded machine is slow)


def fingerprint(*parts: str) -> str:
    """Identifies one upgrade (what and to where) in the journal: a resumed run skips only its own steps."""
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:16]


# ---------------------------------------------------------------- reading through the step


def day_two_talosctl(ctx: Context) -> str:
    """A day-two plan's first check: the workspace holds its cluster's talosconfig and kubeconfig, and talosctl
    runs; its client version."""
    for path, what in ((ctx.ws.talosconfig, "talosconfig"), (ctx.ws.kubeconfig, "kubeconfig")):
        if not path.is_file():
            raise StepError(f"the workspace has no {what} ({path}): was this cluster installed from it?")
    result = ctx.run(talos.version_client(), show_stdout=False)
    have = parse.client_version(result.stdout) if result.ok else None
    if have is None:
        raise StepError(f"talosctl version --client failed: {result.tail(2) or 'no output'}")
    return have


def talosctl_runner(ctx: Context) -> Callable[..., launcher.Result]:
    """launcher.run's shape for the status core's Talos reader, run through the step (cancel, logs, slots)."""

    def run(
        argv: Sequence[str], *, env: Any = None, timeout: float | None = None, **_: Any
    ) -> launcher.Result:
        return ctx.run(list(argv), show_stdout=False, timeout=timeout)

    return run


def snapshot(ctx: Context, t: UpgradeTiming) -> Snapshot:
    """One status snapshot of the workspace's cluster, its talosctl calls made by this step."""
    return live.read(ctx.ws.root, env=ctx.env, run=talosctl_runner(ctx), timeout=t.read_timeout)


def node_version(ctx: Context, ip: str, t: UpgradeTiming) -> str | None:
    """The Talos version a node reports (`talosctl get versions`), None when it does not answer."""
    result = ctx.run(
        talos.get("versions", ip, talosconfig=ctx.ws.talosconfig), show_stdout=False, timeout=t.read_timeout
    )
    if not result.ok:
        return None
    try:
        found = [
            str((obj.get("spec") or {}).get("version") or "") for obj in parse.json_stream(result.stdout)
        ]
    except ValueError:
        return None
    return next((v for v in found if v), None)


def kube_nodes(ctx: Context) -> dict[str, dict[str, Any]] | None:
    """Kubernetes' Nodes by name, None while the API does not answer."""
    try:
        return {n["metadata"]["name"]: n for n in kube.items(ctx.kube(), "", "v1", "nodes")}
    except kube.KubeError:
        return None


def is_ready(node: dict[str, Any]) -> bool:
    conditions = (node.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def kubelet(node: dict[str, Any]) -> str:
    return str(((node.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion") or "").removeprefix(
        "v"
    )


def wait_ready(ctx: Context, node: Node, interval: float, *, kubelet_version: str | None = None) -> None:
    """Wait (to the step's deadline) until the node is Ready, and runs `kubelet_version` when given."""

    def probe() -> tuple[bool, str]:
        nodes = kube_nodes(ctx)
        if nodes is None:
            return False, f"{node.hostname}: the Kubernetes API does not answer"
        found = nodes.get(node.hostname)
        if found is None:
            return False, f"{node.hostname}: not registered in Kubernetes"
        ready = is_ready(found)
        version = kubelet(found)
        if kubelet_version is not None and version != kubelet_version:
            return False, f"{node.hostname}: kubelet {version or '?'}, waiting for {kubelet_version}"
        return ready, f"{node.hostname}: {'Ready' if ready else 'NotReady'}, kubelet {version or '?'}"

    ctx.wait(probe, interval=interval, what=f"{node.hostname} to be Ready")


# ---------------------------------------------------------------- steps


@dataclass(frozen=True)
class GateRules:
    """What one upgrade's gates allow: degraded apps, and the versions it moves between."""

    cluster: Cluster
    allow_degraded: bool = False
    talos_target: str | None = None  # adds the installer-image gate
    talos: Collection[str] | None = None
    kubernetes: Collection[str] | None = None

    def judge(self, snap: Snapshot) -> tuple[gate_rules.Gate, ...]:
        return gate_rules.evaluate(
            snap,
            self.cluster,
            allow_degraded=self.allow_degraded,
            talos_target=self.talos_target,
            talos=self.talos,
            kubernetes=self.kubernetes,
        )


def gates_step(
    step_id: str,
    title: str,
    rules: GateRules,
    t: UpgradeTiming,
    *,
    deps: tuple[str, ...] = (),
    target: str = "cluster",
    wait: float | None = None,
) -> Step:
    """Read and judge the cluster until every gate is open, for `wait` seconds; then fail naming each closed gate.

    A read started inside the window may finish after it (the step's timeout leaves it read_timeout); the
    failure reports the last read that completed."""
    window = t.gate_wait if wait is None else wait

    def action(ctx: Context) -> None:
        shown: set[str] = set()
        until = time.monotonic() + window
        last = ""
        while True:
            judged = rules.judge(snapshot(ctx, t))
            for gate in judged:
                if gate.waived and gate.detail not in shown:
                    shown.add(gate.detail)
                    ctx.line(f"{gate.title}: {gate.detail}", stream="err")
            text = gate_rules.describe(judged)
            if text != last:
                ctx.line(text)
                last = text
            if not gate_rules.closed(judged):
                return
            if time.monotonic() >= until:
                raise StepError(
                    f"the gates stayed closed for {window:.0f}s: {text}. Nothing more was changed"
                )
            ctx.sleep(t.poll)

    return Step(
        step_id,
        title,
        action,
        target=target,
        deps=deps,
        transient=NET_ERRORS + TLS_ERRORS,
        timeout=window + t.read_timeout,
        hint="the gates protect the cluster: fix what they name, then run the same command again to resume",
    )


def snapshot_step(cluster: Cluster, t: UpgradeTiming, *, deps: tuple[str, ...], label: str) -> Step:
    """`talosctl etcd snapshot` into backups/ with its manifest, before the upgrade changes anything."""
    return backup.snapshot_step(
        cluster, t, deps=deps, label=f"before-{label}", reason=f"before upgrade {label}"
    )


def record_step(
    *, deps: tuple[str, ...], talos_version: str | None = None, kubernetes: str | None = None
) -> Step:
    """cluster.yaml and the Talos patches follow the versions the cluster now runs; committed."""

    def action(ctx: Context) -> None:
        changed, committed = call(record.record_versions, ctx.ws, talos=talos_version, kubernetes=kubernetes)
        what = ", ".join(changed) if changed else "nothing changed"
        ctx.line(f"written: {what}; " + ("committed" if committed else "no commit needed"))

    moves = [f"Talos {talos_version}"] if talos_version else []
    moves += [f"Kubernetes {kubernetes}"] if kubernetes else []
    return Step(
        "record",
        f"Record {' and '.join(moves)} in cluster.yaml and the Talos patches (commit)",
        action,
        deps=deps,
        timeout=120,
    )
