"""Whether a node may leave the cluster: never the last control plane, never a control plane whose leaving breaks
etcd quorum (pure, judged on the etcd rows of one status snapshot).

etcd removes a member only when the members that remain still have a quorum of started ones (its strict
reconfiguration check); Skynet says so before anything changes, naming the members that are not healthy.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from skynet_tui.spec import Cluster, Node


@dataclass(frozen=True)
class Member:
    """A control plane of cluster.yaml and whether its etcd answered without errors."""

    hostname: str
    healthy: bool


def quorum(members: int) -> int:
    """etcd's quorum of a cluster of `members`: a strict majority."""
    return members // 2 + 1


def members(cluster: Cluster, healthy_ips: Iterable[str]) -> list[Member]:
    """The control planes of cluster.yaml, each healthy when its IP is among `healthy_ips`."""
    ok = set(healthy_ips)
    return [Member(n.hostname, n.ip in ok) for n in cluster.control_planes]


def find(cluster: Cluster, hostname: str) -> Node | None:
    return next((n for n in cluster.spec.nodes if n.hostname == hostname), None)


def removal_refusal(cluster: Cluster, hostname: str, etcd: list[Member]) -> str:
    """Why `hostname` may not leave now ("" when it may): the last control plane, or etcd quorum lost."""
    node = find(cluster, hostname)
    if node is None:
        known = ", ".join(n.hostname for n in cluster.spec.nodes)
        return f"cluster.yaml has no node {hostname!r} (its nodes: {known})"
    if node.role != "controlplane":
        return ""
    if len(cluster.control_planes) == 1:
        return (
            f"{hostname} is the only control plane: removing it would leave the cluster with none (no etcd, no "
            "Kubernetes API). Add a control plane first (skynet node add), then remove this one"
        )
    remaining = [m for m in etcd if m.hostname != hostname]
    healthy = [m.hostname for m in remaining if m.healthy]
    needed = quorum(len(remaining))
    if len(healthy) < needed:
        sick = [m.hostname for m in remaining if not m.healthy]
        return (
            f"removing {hostname} would break etcd quorum: {len(remaining)} member(s) would remain and quorum "
            f"needs {needed} healthy, but only {len(healthy)} are ({', '.join(healthy) or 'none'}; not healthy: "
            f"{', '.join(sick)}). Bring {', '.join(sick)} back first"
        )
    return ""
