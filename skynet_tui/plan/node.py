"""The node plans: remove a node, add one, replace one (remove, then add on a new machine with the same hostname,
IP and role).

Remove: the gates (on the cluster without the node, with etcd's quorum rule), an etcd snapshot, cordon, drain
through the eviction API, for a control plane `etcd leave` (or `remove-member` when it is dead) with the member
list checked, `talosctl reset --graceful`, the Node deleted, cluster.yaml without it (generate, commit, push).
Add: the gates, cluster.yaml with the node (generate, commit, push), then the install's own preflight, verify,
apply and install steps for that node only, its join (Ready; a control plane in etcd's member list), the gates.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from skynet_tui.nodes import answers
from skynet_tui.plan import platform
from skynet_tui.plan.install import install_plan
from skynet_tui.plan.node_steps import (
    LeavingRules,
    NodeTiming,
    cordon_step,
    delete_node_step,
    drain_step,
    forget_step,
    join_step,
    leave_etcd_step,
    record_step,
    reset_step,
)
from skynet_tui.plan.steps import Plan, Step
from skynet_tui.plan.upgrade_steps import GateRules, day_two_talosctl, fingerprint, gates_step, snapshot_step

if TYPE_CHECKING:
    from skynet_tui.runner import Context
    from skynet_tui.spec import Cluster, Node
    from skynet_tui.workspace import Workspace


def _preflight(step_id: str) -> Step:
    def action(ctx: Context) -> None:
        have = day_two_talosctl(ctx)
        ctx.line(f"talosctl {have}")

    return Step(step_id, "Check talosctl and the workspace's credentials", action, timeout=60)


def remove_steps(
    cluster: Cluster, node: Node, t: NodeTiming, *, allow_degraded: bool = False, prefix: str = ""
) -> list[Step]:
    """The steps that take `node` out of the cluster, in order (ids prefixed for a replace)."""
    host = node.hostname
    rules = LeavingRules(cluster, allow_degraded=allow_degraded, leaving=host)
    steps = [
        _preflight(f"{prefix}preflight"),
        gates_step(f"{prefix}gates", f"Check the gates before {host} leaves", rules, t,
                   deps=(f"{prefix}preflight",), wait=t.first_gate_wait),
    ]  # fmt: skip
    snap = snapshot_step(cluster, t, deps=(f"{prefix}gates",), label=f"remove-{host}")
    steps.append(snap)
    steps.append(cordon_step(node, deps=(snap.id,)))
    steps.append(drain_step(node, t, deps=(steps[-1].id,)))
    if node.role == "controlplane":
        steps.append(leave_etcd_step(cluster, node, t, deps=(steps[-1].id,)))
    steps.append(reset_step(cluster, node, t, deps=(steps[-1].id,)))
    steps.append(delete_node_step(node, deps=(steps[-1].id,)))
    steps.append(forget_step(cluster, node, deps=(steps[-1].id,)))
    return steps


def add_steps(
    cluster: Cluster,
    entry: Mapping[str, Any],
    ws: Workspace,
    t: NodeTiming,
    *,
    env: dict[str, str],
    allow_degraded: bool = False,
    deps: tuple[str, ...] = (),
    prefix: str = "",
) -> list[Step]:
    """The steps that bring the machine `entry` describes into `cluster` (which does not hold it yet)."""
    joined = answers.with_node(cluster, entry)
    node = next(n for n in joined.spec.nodes if n.hostname == entry["hostname"])
    host = node.hostname
    first = [_preflight(f"{prefix}preflight")] if not deps else []  # a replace has checked talosctl already
    before = first[0].id if first else deps[0]
    steps = [
        *first,
        gates_step(f"{prefix}gates", f"Check the gates before {host} joins", GateRules(cluster,
                   allow_degraded=allow_degraded), t, deps=(before,), wait=t.first_gate_wait),
        record_step(cluster, entry, deps=(f"{prefix}gates",)),
    ]  # fmt: skip
    # The install's own steps for this node: its preflight, verify, apply and install, as on the first day.
    install = install_plan(joined, ws, env=env, timing=t)
    chain = (f"record-{host}",)
    for kind in ("preflight", "verify", "apply", "install"):
        step = install.get(f"{kind}-{host}")
        step.deps = chain if kind != "apply" else (*chain, f"record-{host}")
        steps.append(step)
        chain = (step.id,)
    steps.append(join_step(joined, node, t, deps=chain))
    steps.append(
        gates_step(f"{prefix}gates-after", f"Check the gates after {host} joined", GateRules(joined,
                   allow_degraded=allow_degraded), t, deps=(f"join-{host}",), target=host)
    )  # fmt: skip
    return steps


def _timing(env: Mapping[str, str] | None, timing: NodeTiming | None) -> NodeTiming:
    return timing or NodeTiming.from_env(dict(env if env is not None else os.environ))


def remove_plan(
    cluster: Cluster,
    node: Node,
    ws: Workspace,
    *,
    env: dict[str, str] | None = None,
    timing: NodeTiming | None = None,
    simulated: bool = False,
    allow_degraded: bool = False,
) -> Plan:
    t = _timing(env, timing)
    return Plan(
        name=f"remove {node.hostname}",
        steps=remove_steps(cluster, node, t, allow_degraded=allow_degraded),
        simulated=simulated,
        answers=fingerprint("node-remove", node.hostname, node.ip),
        summary=lambda _at: (
            f"{node.hostname} left {cluster.name}: drained, reset, deleted, out of cluster.yaml"
        ),
        on_failure=platform.bundle,
    )


def add_plan(
    cluster: Cluster,
    entry: Mapping[str, Any],
    ws: Workspace,
    *,
    env: dict[str, str] | None = None,
    timing: NodeTiming | None = None,
    simulated: bool = False,
    allow_degraded: bool = False,
) -> Plan:
    run_env = dict(env if env is not None else os.environ)
    t = _timing(run_env, timing)
    host = str(entry["hostname"])
    return Plan(
        name=f"add {host}",
        steps=add_steps(cluster, entry, ws, t, env=run_env, allow_degraded=allow_degraded),
        simulated=simulated,
        answers=fingerprint("node-add", host, str(entry["ip"]), str(entry.get("maintenanceAddress") or "")),
        summary=lambda _at: f"{host} joined {cluster.name} and cluster.yaml records it (committed, pushed)",
        on_failure=platform.bundle,
    )


def replace_plan(
    cluster: Cluster,
    node: Node,
    entry: Mapping[str, Any],
    ws: Workspace,
    *,
    env: dict[str, str] | None = None,
    timing: NodeTiming | None = None,
    simulated: bool = False,
    allow_degraded: bool = False,
) -> Plan:
    """Remove `node`, then add the new machine `entry` with the same hostname, IP and role."""
    run_env = dict(env if env is not None else os.environ)
    t = _timing(run_env, timing)
    removing = remove_steps(cluster, node, t, allow_degraded=allow_degraded, prefix="remove-")
    rest = answers.without(cluster, node.hostname)
    adding = add_steps(rest, entry, ws, t, env=run_env, allow_degraded=allow_degraded,
                       deps=(removing[-1].id,), prefix="add-")  # fmt: skip
    return Plan(
        name=f"replace {node.hostname}",
        steps=[*removing, *adding],
        simulated=simulated,
        answers=fingerprint(
            "node-replace", node.hostname, node.ip, str(entry.get("maintenanceAddress") or "")
        ),
        summary=lambda _at: (
            f"{node.hostname} runs on its new machine; cluster.yaml records it (committed, pushed)"
        ),
        on_failure=platform.bundle,
    )
