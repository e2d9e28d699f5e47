"""The steps of a node's lifecycle: the gates around it, cordon and drain, etcd leave with membership checked,
reset, the Node deleted, cluster.yaml rewritten (generate, commit, push), and a new node's join.

Every read goes through the step's Context, as in the upgrade plans; the gates are the upgrade's, judged on a
snapshot without the leaving node (it may be dead: that is why it leaves), plus the quorum rule of nodes/quorum.py.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from skynet_tui import sharing, spec
from skynet_tui.generate import generate
from skynet_tui.nodes import answers, drain, quorum
from skynet_tui.plan.probes import NET_ERRORS, TLS_ERRORS, machine_stage
from skynet_tui.plan.steps import Step, StepError, call, on_line
from skynet_tui.plan.upgrade_steps import GateRules, UpgradeTiming, wait_ready
from skynet_tui.status.client import KubeClient, Unreachable
from skynet_tui.talos import commands as talos
from skynet_tui.talos import parse
from skynet_tui.talos import patches as talos_patches
from skynet_tui.upgrade import gates as gate_rules
from skynet_tui.workspace import COMMITTED

if TYPE_CHECKING:
    from skynet_tui.runner import Context
    from skynet_tui.spec import Cluster, Node
    from skynet_tui.status.model import Snapshot

# `node worker-1 removed` / `node worker-1 joined`: one line per node as it leaves or joins the cluster.
MILESTONE = re.compile(r"^node (\S+) (removed|joined)$")


@dataclasses.dataclass(frozen=True)
class NodeTiming(UpgradeTiming):
    """The node plans' waits (seconds; scaled like the install's)."""

    drain_timeout: float = 600.0  # evictions a PodDisruptionBudget refuses are tried again this long
    reset_timeout: float = 600.0


@dataclasses.dataclass(frozen=True)
class LeavingRules(GateRules):
    """The upgrade's gates on the cluster without the leaving node, and etcd's quorum rule for its leaving."""

    leaving: str = ""

    def judge(self, snap: Snapshot) -> tuple[gate_rules.Gate, ...]:
        node = quorum.find(self.cluster, self.leaving)
        if node is None:
            return super().judge(snap)
        others = answers.without(self.cluster, self.leaving)
        talos = dataclasses.replace(
            snap.talos,
            etcd=tuple(r for r in snap.talos.etcd if r.node != node.ip),
            versions=tuple(v for v in snap.talos.versions if v[0] != node.ip),
        )
        seen = dataclasses.replace(
            snap, nodes=tuple(n for n in snap.nodes if n.name != self.leaving), talos=talos
        )
        judged = gate_rules.evaluate(seen, others, allow_degraded=self.allow_degraded)
        refusal = quorum.removal_refusal(self.cluster, self.leaving, healthy_members(self.cluster, snap))
        title = "etcd keeps its quorum without the node"
        return (*judged, gate_rules.Gate("quorum", title, not refusal, refusal or "yes"))


def leaving_refusal(cluster: Cluster, hostname: str, snap: Snapshot) -> str:
    """Why `hostname` may not leave, judged on a snapshot ("" when it may); etcd unread refuses a control plane."""
    node = quorum.find(cluster, hostname)
    if (
        node is not None
        and node.role == "controlplane"
        and len(cluster.control_planes) > 1
        and not snap.talos.known
    ):
        why = "no talosconfig" if not snap.talos.configured else (snap.talos.why or "no answer")
        return f"etcd's members could not be read ({why}): whether {hostname} may leave cannot be judged"
    return quorum.removal_refusal(cluster, hostname, healthy_members(cluster, snap))


def healthy_members(cluster: Cluster, snap: Snapshot) -> list[quorum.Member]:
    """The control planes and whether their etcd answered the snapshot's `etcd status` without errors."""
    return quorum.members(cluster, [r.node for r in snap.talos.etcd if not r.errors and not r.learner])


def kube_api(ctx: Context) -> KubeClient:
    return KubeClient(ctx.ws.kubeconfig, pool_size=4)


def etcd_members(
    ctx: Context, cluster: Cluster, t: UpgradeTiming, *, skip: str = ""
) -> dict[str, str] | None:
    """etcd's members (hostname → member ID) as the first control plane that answers sees them (not `skip`)."""
    for node in cluster.control_planes:
        if node.hostname == skip:
            continue
        result = ctx.run(
            talos.etcd_members(node.ip, ctx.ws.talosconfig), show_stdout=False, timeout=t.read_timeout
        )
        if result.ok:
            return {row.get("HOSTNAME", ""): row.get("ID", "") for row in parse.table(result.stdout)}
    return None


def answers_node(ctx: Context, ip: str) -> bool:
    """Whether the installed node answers the Talos API (mTLS)."""
    return machine_stage(ctx, ip, secure=True) is not None


def cordon_step(node: Node, *, deps: tuple[str, ...]) -> Step:
    def action(ctx: Context) -> None:
        api = kube_api(ctx)
        try:
            found = drain.cordon(api, node.hostname)
        except Unreachable as exc:
            raise StepError(f"the Kubernetes API does not answer: {exc}") from None
        finally:
            api.close()
        ctx.line(
            f"{node.hostname} cordoned" if found else f"{node.hostname} has no Node object: nothing to cordon"
        )

    return Step(
        f"cordon-{node.hostname}", f"Cordon {node.hostname} (no new pods)", action, target=node.hostname,
        deps=deps, transient=NET_ERRORS, timeout=120,
    )  # fmt: skip


def drain_step(node: Node, t: NodeTiming, *, deps: tuple[str, ...]) -> Step:
    def action(ctx: Context) -> None:
        api = kube_api(ctx)
        try:
            moved = drain.drain(
                api, node.hostname, timeout=t.drain_timeout, interval=t.poll, sleep=ctx.sleep, say=ctx.line
            )
        except drain.DrainError as exc:
            raise StepError(str(exc)) from None
        except Unreachable as exc:
            raise StepError(f"the Kubernetes API does not answer: {exc}") from None
        finally:
            api.close()
        ctx.line(f"{node.hostname} drained: {moved} pod(s) evicted")

    return Step(
        f"drain-{node.hostname}",
        f"Drain {node.hostname} through the eviction API (PodDisruptionBudgets respected)",
        action,
        target=node.hostname,
        deps=deps,
        timeout=t.drain_timeout + 2 * t.read_timeout,
        hint="a PodDisruptionBudget holds the pods named: scale their workload up, or relax the budget, and run "
        "the same command again",
    )


def leave_etcd_step(cluster: Cluster, node: Node, t: NodeTiming, *, deps: tuple[str, ...]) -> Step:
    """`talosctl etcd leave` on the node, or `etcd remove-member` from another control plane when it is dead;
    then etcd's member list, read from another control plane, must no longer name it."""
    host = node.hostname
    others = [n.ip for n in cluster.control_planes if n.hostname != host]

    def left(ctx: Context) -> bool:
        members = etcd_members(ctx, cluster, t, skip=host)
        return members is not None and host not in members

    def action(ctx: Context) -> None:
        if answers_node(ctx, node.ip):
            ctx.check(ctx.run(talos.etcd_leave(node.ip, ctx.ws.talosconfig, endpoint=others)))
        else:
            members = etcd_members(ctx, cluster, t, skip=host)
            if members is None:
                raise StepError("no other control plane answers `etcd members`: etcd cannot be changed now")
            if host in members:
                ctx.line(
                    f"{host} does not answer: its member {members[host]} is removed from another control plane"
                )
                first = next(n for n in cluster.control_planes if n.hostname != host)
                ctx.check(ctx.run(talos.etcd_remove_member(first.ip, members[host], ctx.ws.talosconfig)))
        members = etcd_members(ctx, cluster, t, skip=host)
        if members is None or host in members:
            raise StepError(f"etcd still lists {host} as a member after it left: {', '.join(members or {})}")
        ctx.line(f"etcd members now: {', '.join(sorted(members))}")

    return Step(
        f"etcd-leave-{host}", f"{host} leaves etcd (membership checked from another control plane)", action,
        target=host, deps=deps, postcondition=left, postcondition_text=f"etcd does not list {host}",
        transient=NET_ERRORS + TLS_ERRORS, timeout=4 * t.read_timeout, writes_machines=True,
        hint="`talosctl etcd members` on a healthy control plane shows the members",
    )  # fmt: skip


def reset_step(cluster: Cluster, node: Node, t: NodeTiming, *, deps: tuple[str, ...]) -> Step:
    host = node.hostname
    endpoints = [n.ip for n in cluster.control_planes if n.hostname != host]

    def gone(ctx: Context) -> bool:
        return not answers_node(ctx, node.ip)

    def action(ctx: Context) -> None:
        argv = talos.reset(node.ip, ctx.ws.talosconfig, endpoint=endpoints, timeout=t.reset_timeout)
        result = ctx.run(argv, timeout=t.reset_timeout + 30)
        if not result.ok and not gone(ctx):
            raise StepError(f"talosctl reset of {host} failed: {result.tail(3) or 'no output'}")

        def off() -> tuple[bool, str]:
            down = gone(ctx)
            return down, f"{host}: {'wiped, powered off' if down else 'resetting'}"

        ctx.wait(off, interval=t.poll, what=f"{host} to finish its reset")

    return Step(
        f"reset-{host}", f"Reset {host} ({node.ip}): wipe it and power it off", action, target=host, deps=deps,
        postcondition=gone, postcondition_text=f"{host} does not answer (powered off, or its disk is gone)",
        transient=NET_ERRORS, timeout=t.reset_timeout + 2 * t.read_timeout + 60, writes_machines=True,
        hint=f"check {host}'s console",
    )  # fmt: skip


def delete_node_step(node: Node, *, deps: tuple[str, ...]) -> Step:
    def action(ctx: Context) -> None:
        api = kube_api(ctx)
        try:
            code, body = api.send("DELETE", drain.node_path(node.hostname))
        except Unreachable as exc:
            raise StepError(f"the Kubernetes API does not answer: {exc}") from None
        finally:
            api.close()
        if code == 404:
            ctx.line(f"no Node {node.hostname}: already gone")
        elif code >= 300:
            raise StepError(f"deleting Node {node.hostname}: {body.get('message') or f'HTTP {code}'}")
        else:
            ctx.line(f"Node {node.hostname} deleted")

    return Step(
        f"delete-node-{node.hostname}", f"Delete the Node object {node.hostname}", action, target=node.hostname,
        deps=deps, transient=NET_ERRORS, timeout=120,
    )  # fmt: skip


def rewrite(ctx: Context, edit: Callable[[Cluster], Cluster], message: str, *, push: bool = True) -> Cluster:
    """cluster.yaml and the Talos patches edited and committed, the machine configs rendered again, the
    talosconfig's endpoints set to the control planes, the workspace pushed; the new answers."""
    before = spec.load(ctx.ws.cluster_yaml)
    cluster = call(edit, before)
    files = {"cluster.yaml": spec.dump(cluster), **talos_patches.build(cluster).files()}
    with ctx.ws.lock():
        changed = [rel for rel, text in files.items() if ctx.ws.write(rel, text)]
        for path in sorted(ctx.ws.talos_dir.rglob("*.yaml")) if ctx.ws.talos_dir.is_dir() else []:
            rel = path.relative_to(ctx.ws.root).as_posix()
            if rel not in files:  # the patch of the node that left
                path.unlink()
                changed.append(rel)
        ctx.ws.commit(message, COMMITTED)
    ctx.line(f"written: {', '.join(changed) or 'nothing changed'}")
    call(generate, cluster, ctx.ws, on_line=on_line(ctx), env=ctx.env, push=push)
    ctx.ws.secure_secrets()
    ctx.refresh_secrets()
    ctx.check(ctx.run(talos.config_endpoint(ctx.ws.talosconfig, [n.ip for n in cluster.control_planes])))
    call(sharing.share, ctx.ws, cluster, push=push, env=ctx.env, on_line=on_line(ctx), on_command=ctx.command)
    return cluster


def forget_step(cluster: Cluster, node: Node, *, deps: tuple[str, ...]) -> Step:
    host = node.hostname

    def action(ctx: Context) -> None:
        rewrite(ctx, lambda c: answers.without(c, host) if quorum.find(c, host) else c,
                f"skynet node remove: {host} ({node.ip}, {node.role}) leaves {cluster.name}")  # fmt: skip
        ctx.line(f"node {host} removed")

    return Step(
        f"forget-{host}", f"Remove {host} from cluster.yaml, generate, commit and push", action, target=host,
        deps=deps, learns_secrets=True, timeout=600,
    )  # fmt: skip


def record_step(cluster: Cluster, entry: Mapping[str, Any], *, deps: tuple[str, ...]) -> Step:
    host = str(entry["hostname"])

    def edit(current: Cluster) -> Cluster:
        existing = quorum.find(current, host)
        if existing is not None and existing.ip == entry["ip"]:
            return current  # a resumed run wrote it already
        return answers.with_node(current, entry)

    def action(ctx: Context) -> None:
        rewrite(ctx, edit, f"skynet node add: {host} ({entry['ip']}, {entry['role']}) joins {cluster.name}")

    return Step(
        f"record-{host}", f"Add {host} to cluster.yaml, generate, commit and push", action, target=host,
        deps=deps, learns_secrets=True, timeout=600,
    )  # fmt: skip


def join_step(cluster: Cluster, node: Node, t: NodeTiming, *, deps: tuple[str, ...]) -> Step:
    """The new node Ready in Kubernetes; a control plane also in etcd's member list (read from another one)."""
    host = node.hostname

    def action(ctx: Context) -> None:
        wait_ready(ctx, node, t.poll)
        if node.role == "controlplane":

            def member() -> tuple[bool, str]:
                members = etcd_members(ctx, cluster, t, skip=host)
                if members is None:
                    return False, "etcd members: no control plane answers"
                return host in members, f"etcd members: {', '.join(sorted(members))}"

            ctx.wait(member, interval=t.poll, what=f"{host} to join etcd")
        ctx.line(f"node {host} joined")

    return Step(
        f"join-{host}", f"Wait for {host} to be Ready" + (" and an etcd member" if node.role == "controlplane" else ""),
        action, target=host, deps=deps, transient=NET_ERRORS + TLS_ERRORS,
        timeout=t.ready_timeout + 4 * t.read_timeout,
        hint=f"`skynet status` shows {host}'s layers",
    )  # fmt: skip
