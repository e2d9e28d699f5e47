"""The Talos OS upgrade plan: gates, an etcd snapshot, then one node at a time, control planes first.

Per node: `talosctl upgrade` (no deprecated flag; talosctl drains, reboots and waits), the node back on the Talos
API, the version it reports checked (the old one means Talos rolled the upgrade back: the plan stops and says so),
the node Ready, then the gates again before the next node. Workers go in batches of `parallel`, never more than
the disruption budget. After the last node, cluster.yaml and the Talos patches record the new version.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from skynet_tui.plan import platform
from skynet_tui.plan.probes import NET_ERRORS, TLS_ERRORS, machine_stage
from skynet_tui.plan.steps import Plan, Step, StepError
from skynet_tui.plan.upgrade_steps import (
    GateRules,
    UpgradeTiming,
    day_two_talosctl,
    fingerprint,
    gates_step,
    milestone,
    node_version,
    record_step,
    snapshot_step,
    wait_ready,
)
from skynet_tui.talos import commands as talos
from skynet_tui.talos.images import installer_image

if TYPE_CHECKING:
    from skynet_tui.runner import Context
    from skynet_tui.spec import Cluster, Node
    from skynet_tui.workspace import Workspace


def batches(cluster: Cluster, parallel: int = 1) -> list[list[Node]]:
    """Control planes one by one, then workers `parallel` at a time (both in cluster.yaml's order)."""
    workers = cluster.workers
    size = max(1, parallel)
    return [[n] for n in cluster.control_planes] + [
        workers[i : i + size] for i in range(0, len(workers), size)
    ]


def _preflight(running: Sequence[str]) -> Step:
    def action(ctx: Context) -> None:
        have = day_two_talosctl(ctx)
        ctx.line(f"talosctl {have}")
        minors = sorted({v.rsplit(".", 1)[0] for v in running if v})
        if minors and have.rsplit(".", 1)[0] not in minors:
            ctx.line(
                f"note: the cluster runs Talos {', '.join(m + '.x' for m in minors)}; Talos recommends the "
                "talosctl of the version the cluster runs",
                stream="err",
            )

    return Step("upgrade-preflight", "Check talosctl and the workspace's credentials", action, timeout=60)


def upgrade_node(node: Node, hop: str, image: str, t: UpgradeTiming) -> Step:
    """Upgrade one node to `hop` and see it back, on `hop`, and Ready."""
    host, ip = node.hostname, node.ip
    within = talos.duration(t.upgrade_timeout)

    def action(ctx: Context) -> None:
        before = node_version(ctx, ip, t) or "?"
        ctx.line(milestone(host, before, hop, "started"))
        result = ctx.run(talos.upgrade(ip, image, ctx.ws.talosconfig, timeout=t.upgrade_timeout))
        if not result.ok:
            if machine_stage(ctx, ip, secure=True) is None:
                raise StepError(
                    f"{host} ({ip}) did not come back within {within} of its upgrade to {hop} "
                    f"(talosctl: {result.tail(1) or 'no output'}). It may be stuck rebooting or failing to boot: "
                    "check its console. The upgrade stopped at this node; the nodes after it were not touched"
                )
            if node_version(ctx, ip, t) != hop:
                raise StepError(f"talosctl upgrade of {host} ({ip}) failed: {result.tail(3) or 'no output'}")
            ctx.line(f"talosctl reported an error, but {host} runs {hop}: going on", stream="err")

        def back() -> tuple[bool, str]:
            stage = machine_stage(ctx, ip, secure=True)
            return stage == "running", f"{host}: {stage or 'not answering (rebooting)'}"

        ctx.wait(back, interval=t.poll, what=f"{host} ({ip}) to come back after its upgrade")
        after = node_version(ctx, ip, t)
        if after != hop:
            raise StepError(
                f"{host} ({ip}) came back on {after or 'an unknown version'}, not {hop}: the upgrade was rolled "
                f"back (Talos booted its previous image). The upgrade stopped at {host}; no other node was touched. "
                f"Look at `talosctl -n {ip} dmesg` for why the new image failed, then run again to retry {host}"
            )
        ctx.line(f"{host} reports Talos {after}")
        wait_ready(ctx, node, t.poll)
        ctx.line(milestone(host, before, hop, "done"))

    def upgraded(ctx: Context) -> bool:
        return node_version(ctx, ip, t) == hop

    return Step(
        f"talos-{hop}-{host}",
        f"Upgrade {host} ({ip}) to Talos {hop}",
        action,
        target=host,
        postcondition=upgraded,
        postcondition_text=f"{host} runs {hop}",
        transient=NET_ERRORS + TLS_ERRORS,
        timeout=t.upgrade_timeout + t.ready_timeout + 2 * t.read_timeout,
        writes_machines=True,
        unit_start=True,
        hint=f"`skynet status` shows {host}'s layers",
    )


def talos_plan(
    cluster: Cluster,
    ws: Workspace,
    hops: Sequence[str],
    *,
    running: Sequence[str] = (),
    env: dict[str, str] | None = None,
    timing: UpgradeTiming | None = None,
    simulated: bool = False,
    allow_degraded: bool = False,
    parallel: int = 1,
    check_only: bool = False,
) -> Plan:
    """Upgrade every node through `hops` (from upgrade.paths.talos_path); `running`: the versions before.

    `check_only` keeps the preflight and the gates only (`--dry-run`): nothing changes."""
    t = timing or UpgradeTiming.from_env(dict(env if env is not None else os.environ))
    target = hops[-1]
    allowed = {*running, *hops}
    rules = GateRules(cluster, allow_degraded=allow_degraded, talos_target=target, talos=allowed)
    steps = [
        _preflight(running),
        gates_step("gates", "Check the gates before anything changes", rules, t, deps=("upgrade-preflight",),
                   wait=t.first_gate_wait),
    ]  # fmt: skip
    name = f"upgrade talos {target}"
    if check_only:
        return Plan(name=f"{name} (dry run)", steps=steps, simulated=simulated,
                    answers=fingerprint("talos-check", target))  # fmt: skip
    steps.append(snapshot_step(cluster, t, deps=("gates",), label=f"talos-{target}"))
    last = "etcd-snapshot"
    for hop in hops:
        image = installer_image(cluster.spec.talos.schematic, hop)
        for batch in batches(cluster, parallel):
            nodes = [upgrade_node(node, hop, image, t) for node in batch]
            for step in nodes:
                step.deps = (last,)
            hosts = [n.hostname for n in batch]
            label = hosts[0] if len(hosts) == 1 else f"{hosts[0]}..{hosts[-1]}"
            gate_id = f"talos-{hop}-{label}-gates"
            steps += nodes
            steps.append(
                gates_step(gate_id, f"Check the gates after {', '.join(hosts)}", rules, t,
                           deps=tuple(s.id for s in nodes), target=hosts[-1])
            )  # fmt: skip
            last = gate_id
    steps.append(record_step(deps=(last,), talos_version=target))
    return Plan(
        name=name,
        steps=steps,
        simulated=simulated,
        answers=fingerprint("talos", target, *(n.hostname for n in cluster.spec.nodes)),
        summary=lambda _finished_at: (
            f"Talos {target} runs on every node ({len(cluster.spec.nodes)}); cluster.yaml and the Talos patches "
            f"record it (committed). The etcd snapshot taken before is in {ws.root / 'backups'}"
        ),
        on_failure=platform.bundle,
    )
