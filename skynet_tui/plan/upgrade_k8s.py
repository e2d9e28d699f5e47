"""The Kubernetes upgrade plan: gates, an etcd snapshot, then per minor on the path a dry run shown for
confirmation, the real `talosctl upgrade-k8s`, every kubelet on the new version and Ready, and the gates again.

`upgrade-k8s` runs against one control plane and upgrades the whole cluster (control-plane components, kube-proxy,
then the kubelet node by node); its kubelet phase gives each node's `upgrade <host> <from> -> <to>` lines. After the
last minor, cluster.yaml and the Talos patches record the new version.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from skynet_tui.plan import platform
from skynet_tui.plan.probes import NET_ERRORS, TLS_ERRORS
from skynet_tui.plan.steps import Plan, Step, StepError
from skynet_tui.plan.upgrade_steps import (
    Confirm,
    GateRules,
    UpgradeTiming,
    day_two_talosctl,
    fingerprint,
    gates_step,
    is_ready,
    kube_nodes,
    kubelet,
    milestone,
    record_step,
    snapshot_step,
    wait_ready,
)
from skynet_tui.talos import commands as talos
from skynet_tui.upgrade.paths import talosctl_for_kubernetes

if TYPE_CHECKING:
    from skynet_tui.runner import Context
    from skynet_tui.spec import Cluster
    from skynet_tui.workspace import Workspace

_NODE_START = re.compile(r'^\s*>\s*"([^"]+)":\s*starting update')


class KubeletProgress:
    """Follows `upgrade-k8s` output: in its kubelet phase each node's start and end become milestone lines."""

    def __init__(
        self, hosts: Mapping[str, str], before: Mapping[str, str], to: str, emit: Callable[[str], None]
    ):
        self.hosts, self.before, self.to, self.emit = hosts, before, to, emit
        self.in_kubelet = False
        self.current: str | None = None

    def __call__(self, stream: str, line: str) -> None:
        text = line.strip()
        if text.startswith("updating kubelet"):
            self.in_kubelet = True
            return
        if not self.in_kubelet:
            return
        match = _NODE_START.match(line)
        if match:
            self.finish()
            self.current = self.hosts.get(match[1], match[1])
            self.emit(milestone(self.current, self.before.get(self.current, "?"), self.to, "started"))
        elif text.startswith("updating manifests"):
            self.finish()
            self.in_kubelet = False

    def finish(self) -> None:
        if self.current is not None:
            self.emit(milestone(self.current, self.before.get(self.current, "?"), self.to, "done"))
            self.current = None


def _preflight(target: str, talos_running: Sequence[str]) -> Step:
    def action(ctx: Context) -> None:
        have = day_two_talosctl(ctx)
        why = talosctl_for_kubernetes(have, target, talos_running)
        if why:
            raise StepError(why)
        ctx.line(f"talosctl {have} can upgrade Kubernetes to {target}")

    return Step("upgrade-preflight", "Check talosctl and the workspace's credentials", action, timeout=60)


def _dry_run(
    cluster: Cluster, hop: str, deps: tuple[str, ...], confirm: Confirm | None, t: UpgradeTiming
) -> Step:
    node = cluster.control_planes[0]

    def action(ctx: Context) -> None:
        result = ctx.run(
            talos.upgrade_k8s(node.ip, hop, ctx.ws.talosconfig, dry_run=True), timeout=t.k8s_timeout
        )
        if not result.ok:
            raise StepError(f"the dry run of Kubernetes {hop} failed: {result.tail(3) or 'no output'}")
        if confirm is not None and not confirm(f"Upgrade Kubernetes to {hop}?", result.text()):
            raise StepError(
                f"the upgrade to Kubernetes {hop} was not confirmed after its dry run; nothing changed"
            )

    return Step(
        f"k8s-{hop}-dry-run",
        f"Dry run: talosctl upgrade-k8s --to {hop} --dry-run (shown for confirmation)",
        action,
        deps=deps,
        transient=NET_ERRORS + TLS_ERRORS,
        timeout=t.k8s_timeout,
        unit_start=True,  # a pause stops before a minor's dry run, never between it and its real run
        hint="the dry run lists what would change, and the APIs and flags the new version removes",
    )


def _upgrade(
    cluster: Cluster, hop: str, before: Mapping[str, str], deps: tuple[str, ...], t: UpgradeTiming
) -> Step:
    node = cluster.control_planes[0]
    hosts = {n.ip: n.hostname for n in cluster.spec.nodes}

    def action(ctx: Context) -> None:
        progress = KubeletProgress(hosts, before, hop, ctx.line)
        result = ctx.run(
            talos.upgrade_k8s(node.ip, hop, ctx.ws.talosconfig), timeout=t.k8s_timeout, watch=progress
        )
        if result.ok:
            progress.finish()
            return
        ctx.check(result)

    def reached(ctx: Context) -> bool:
        nodes = kube_nodes(ctx)
        return (
            bool(nodes)
            and len(nodes or {}) >= len(cluster.spec.nodes)
            and all(kubelet(n) == hop and is_ready(n) for n in (nodes or {}).values())
        )

    return Step(
        f"k8s-{hop}",
        f"Upgrade Kubernetes to {hop} (talosctl upgrade-k8s on {node.hostname})",
        action,
        target=node.hostname,
        deps=deps,
        postcondition=reached,
        postcondition_text=f"every kubelet runs {hop}",
        transient=NET_ERRORS + TLS_ERRORS,
        attempts=2,  # upgrade-k8s continues where a failed run stopped
        retry_delay=t.retry_delay,
        timeout=t.k8s_timeout,
        writes_machines=True,
        hint="talosctl upgrade-k8s is safe to run again: run the same command to resume",
    )


def _nodes_on(cluster: Cluster, hop: str, deps: tuple[str, ...], t: UpgradeTiming) -> Step:
    def action(ctx: Context) -> None:
        for node in cluster.spec.nodes:
            wait_ready(ctx, node, t.poll, kubelet_version=hop)

    return Step(
        f"k8s-{hop}-nodes",
        f"Wait for every kubelet on {hop} and Ready",
        action,
        deps=deps,
        timeout=t.ready_timeout,
    )


def kubernetes_plan(
    cluster: Cluster,
    ws: Workspace,
    hops: Sequence[str],
    *,
    running: Mapping[str, str] | None = None,
    talos_running: Sequence[str] = (),
    env: dict[str, str] | None = None,
    timing: UpgradeTiming | None = None,
    simulated: bool = False,
    allow_degraded: bool = False,
    confirm: Confirm | None = None,
    check_only: bool = False,
) -> Plan:
    """Upgrade Kubernetes through `hops` (from upgrade.paths.kubernetes_path); `running`: hostname → kubelet before.

    `confirm` is asked after each dry run (None: go ahead, as with --yes). `check_only` (`--dry-run`) keeps the
    preflight, the gates and the first minor's dry run: nothing changes."""
    t = timing or UpgradeTiming.from_env(dict(env if env is not None else os.environ))
    running = dict(running or {})
    target = hops[-1]
    rules = GateRules(cluster, allow_degraded=allow_degraded, kubernetes={*running.values(), *hops})
    steps = [
        _preflight(target, talos_running),
        gates_step("gates", "Check the gates before anything changes", rules, t, deps=("upgrade-preflight",),
                   wait=t.first_gate_wait),
    ]  # fmt: skip
    name = f"upgrade kubernetes {target}"
    if check_only:
        steps.append(_dry_run(cluster, hops[0], ("gates",), None, t))
        return Plan(name=f"{name} (dry run)", steps=steps, simulated=simulated,
                    answers=fingerprint("kubernetes-check", target))  # fmt: skip
    steps.append(snapshot_step(cluster, t, deps=("gates",), label=f"kubernetes-{target}"))
    last = "etcd-snapshot"
    before = running
    for hop in hops:
        dry = _dry_run(cluster, hop, (last,), confirm, t)
        real = _upgrade(cluster, hop, before, (dry.id,), t)
        nodes = _nodes_on(cluster, hop, (real.id,), t)
        gate = gates_step(
            f"k8s-{hop}-gates", f"Check the gates after Kubernetes {hop}", rules, t, deps=(nodes.id,)
        )
        steps += [dry, real, nodes, gate]
        last = gate.id
        before = {host: hop for host in before} or {n.hostname: hop for n in cluster.spec.nodes}
    steps.append(record_step(deps=(last,), kubernetes=target))
    return Plan(
        name=name,
        steps=steps,
        simulated=simulated,
        answers=fingerprint("kubernetes", target, *(n.hostname for n in cluster.spec.nodes)),
        summary=lambda _finished_at: (
            f"Kubernetes {target} runs on every node ({len(cluster.spec.nodes)}); cluster.yaml and the Talos "
            f"patches record it (committed). The etcd snapshot taken before is in {ws.root / 'backups'}"
        ),
        on_failure=platform.bundle,
    )
