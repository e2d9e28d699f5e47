"""The gates an upgrade passes before it starts and between nodes, judged on one status snapshot (pure).

The texts avoid the word "Application": the workspace's redactor learns the strings of the rendered Argo CD chart
under secrets/, the CRD's names among them.

Nodes: every node of cluster.yaml listed and Ready. etcd: every control plane answers, one leader all agree on, no
errors, no learner. Applications: every Argo CD Application Healthy, or `--allow-degraded` (the ones let through
are named). In progress: no node cordoned, no other upgrade half done (versions that differ beyond the ones this
upgrade moves between; a journal that stopped mid-way). Image: the installer image named per Image Factory with the
cluster's schematic (Talos upgrades).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from skynet_tui.spec import Cluster
from skynet_tui.status.model import Snapshot
from skynet_tui.talos.images import installer_image


@dataclass(frozen=True)
class Gate:
    """One gate: whether it lets the upgrade through, and what it saw."""

    id: str  # nodes, etcd, apps, in-progress, image
    title: str
    ok: bool
    detail: str
    waived: tuple[str, ...] = ()  # Applications let through by --allow-degraded


def _names(items: Sequence[str], limit: int = 4) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" +{len(items) - limit}" if len(items) > limit else "")


def nodes_gate(snap: Snapshot, cluster: Cluster) -> Gate:
    title = "All nodes Ready"
    if not snap.api.ok:
        return Gate("nodes", title, False, f"Kubernetes API unreachable: {snap.api.error}")
    kind = snap.kind("nodes")
    if not kind.synced:
        return Gate("nodes", title, False, kind.error or "the nodes are not listed yet")
    listed = {n.name: n for n in snap.nodes}
    missing = [n.hostname for n in cluster.spec.nodes if n.hostname not in listed]
    not_ready = [f"{n.name} {n.status}" for n in snap.nodes if n.ready != "True"]
    if missing or not_ready:
        parts = [f"not registered: {_names(missing)}"] if missing else []
        parts += [f"not Ready: {_names(not_ready)}"] if not_ready else []
        return Gate("nodes", title, False, "; ".join(parts))
    return Gate("nodes", title, True, f"{len(snap.nodes)}/{len(snap.nodes)} Ready")


def etcd_gate(snap: Snapshot, cluster: Cluster) -> Gate:
    title = "etcd healthy, all members, one leader"
    talos = snap.talos
    if not talos.configured:
        return Gate("etcd", title, False, "no talosconfig: etcd cannot be checked")
    if talos.why:
        return Gate("etcd", title, False, f"Talos API: {talos.why}")
    host = {n.ip: n.hostname for n in cluster.spec.nodes}
    rows = talos.etcd
    answered = {r.node for r in rows}
    silent = [n.hostname for n in cluster.control_planes if n.ip not in answered]
    problems = []
    if silent:
        problems.append(
            f"no answer from {_names(silent)}" + (f" ({talos.etcd_why})" if talos.etcd_why else "")
        )
    problems += [f"{host.get(r.node, r.node)}: {r.errors}" for r in rows if r.errors]
    problems += [f"{host.get(r.node, r.node)} is a learner (still joining)" for r in rows if r.learner]
    leaders = {r.leader_id for r in rows if r.leader_id.strip("0")}
    if rows and not leaders:
        problems.append("no leader")
    elif len(leaders) > 1:
        problems.append("the members disagree on the leader")
    if problems:
        return Gate("etcd", title, False, "; ".join(problems))
    leader = next((host.get(r.node, r.node) for r in rows if r.is_leader), "?")
    return Gate("etcd", title, True, f"{len(rows)}/{len(cluster.control_planes)} members, leader {leader}")


def apps_gate(snap: Snapshot, *, allow_degraded: bool = False) -> Gate:
    title = "Argo CD apps Healthy"
    kind = snap.kind("applications")
    if not kind.served:
        return Gate("apps", title, False, "Argo CD is not installed (its CRDs are not served)")
    if not kind.synced:
        return Gate("apps", title, False, kind.error or "the apps are not listed yet")
    unhealthy = [
        f"{a.name} {a.health or 'Unknown'}" + (f" ({a.health_message})" if a.health_message else "")
        for a in snap.apps
        if a.health != "Healthy"
    ]
    if not unhealthy:
        return Gate("apps", title, True, f"{len(snap.apps)}/{len(snap.apps)} Healthy")
    if allow_degraded:
        return Gate(
            "apps", title, True, f"let through (--allow-degraded): {_names(unhealthy)}", tuple(unhealthy)
        )
    return Gate(
        "apps",
        title,
        False,
        f"not Healthy: {_names(unhealthy)}; fix them, or pass --allow-degraded to upgrade anyway",
    )


def progress_gate(
    snap: Snapshot,
    cluster: Cluster,
    *,
    talos: Collection[str] | None = None,
    kubernetes: Collection[str] | None = None,
    pending: str = "",
) -> Gate:
    """No upgrade half done: `talos` / `kubernetes` are the versions this upgrade moves between (None: all alike)."""
    title = "No other upgrade in progress"
    problems = [pending] if pending else []
    cordoned = [n.name for n in snap.nodes if n.cordoned]
    if cordoned:
        problems.append(f"cordoned (a drain under way or left over): {_names(cordoned)}")
    host = {n.ip: n.hostname for n in cluster.spec.nodes}
    talos_now = {v for _, v in snap.talos.versions if v}
    problems += _mixed("Talos", talos_now, talos, {host.get(ip, ip): v for ip, v in snap.talos.versions})
    kubelets = {n.name: n.kubelet.removeprefix("v") for n in snap.nodes if n.kubelet}
    problems += _mixed("Kubernetes", set(kubelets.values()), kubernetes, kubelets)
    if problems:
        return Gate("in-progress", title, False, "; ".join(problems))
    return Gate("in-progress", title, True, "none")


def _mixed(
    what: str, found: set[str], allowed: Collection[str] | None, per_node: dict[str, str]
) -> list[str]:
    if allowed is None:
        if len(found) <= 1:
            return []
        common = max(found, key=lambda v: sum(1 for x in per_node.values() if x == v))
        odd = sorted(name for name, v in per_node.items() if v != common)
        return [f"{what} versions differ ({_names(odd)} not on {common}): finish that upgrade first"]
    strays = sorted(f"{name} on {v}" for name, v in per_node.items() if v not in allowed)
    return [f"{what} versions outside this upgrade: {_names(strays)}"] if strays else []


def image_gate(cluster: Cluster, target: str) -> Gate:
    title = "Installer image named"
    try:
        image = installer_image(cluster.spec.talos.schematic, target)
    except ValueError as exc:
        return Gate("image", title, False, str(exc))
    return Gate("image", title, True, image)


def evaluate(
    snap: Snapshot,
    cluster: Cluster,
    *,
    allow_degraded: bool = False,
    talos_target: str | None = None,
    talos: Collection[str] | None = None,
    kubernetes: Collection[str] | None = None,
    pending: str = "",
) -> tuple[Gate, ...]:
    """Every gate on one snapshot; `talos_target` adds the installer-image gate (Talos upgrades)."""
    gates = [
        nodes_gate(snap, cluster),
        etcd_gate(snap, cluster),
        apps_gate(snap, allow_degraded=allow_degraded),
        progress_gate(snap, cluster, talos=talos, kubernetes=kubernetes, pending=pending),
    ]
    if talos_target is not None:
        gates.append(image_gate(cluster, talos_target))
    return tuple(gates)


def closed(gates: Sequence[Gate]) -> list[Gate]:
    return [g for g in gates if not g.ok]


def describe(gates: Sequence[Gate]) -> str:
    """One line: the closed gates with what they saw, or every gate open."""
    shut = closed(gates)
    if not shut:
        return "gates open: " + " · ".join(f"{g.id} {g.detail}" for g in gates)
    return "; ".join(f"{g.title}: {g.detail}" for g in shut)
