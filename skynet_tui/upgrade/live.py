"""What runs now: each node's Talos and Kubernetes versions from a status snapshot, and one snapshot on demand."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from skynet_tui import launcher
from skynet_tui.spec import Cluster
from skynet_tui.status.model import Snapshot
from skynet_tui.status.monitor import Monitor
from skynet_tui.status.source import of_workspace
from skynet_tui.status.talos import Run

SNAPSHOT_TIMEOUT = 30.0  # one read of every layer (the Kubernetes lists and four talosctl calls)


@dataclass(frozen=True)
class NodeVersions:
    """One node of cluster.yaml as the cluster reports it; "" where it said nothing."""

    hostname: str
    ip: str
    role: str
    talos: str  # `talosctl get versions`: v1.13.9
    kubernetes: str  # the kubelet's version, without the v: 1.36.3
    ready: bool


def node_versions(cluster: Cluster, snap: Snapshot) -> tuple[NodeVersions, ...]:
    """Every node of cluster.yaml, in its order, with what the snapshot says it runs."""
    talos = dict(snap.talos.versions)
    kube = {n.name: n for n in snap.nodes}
    out = []
    for node in cluster.spec.nodes:
        row = kube.get(node.hostname)
        out.append(
            NodeVersions(
                hostname=node.hostname,
                ip=node.ip,
                role=node.role,
                talos=talos.get(node.ip, ""),
                kubernetes=row.kubelet.removeprefix("v") if row else "",
                ready=bool(row and row.ready == "True"),
            )
        )
    return tuple(out)


def missing(found: tuple[NodeVersions, ...], what: str) -> list[str]:
    """The nodes that reported no `what` ("talos" or "kubernetes") version."""
    return [n.hostname for n in found if not getattr(n, what)]


def read(
    workspace: Path,
    *,
    env: Mapping[str, str] | None = None,
    run: Run = launcher.run,
    timeout: float = SNAPSHOT_TIMEOUT,
) -> Snapshot:
    """One snapshot of the workspace's cluster: every watched kind listed once and the Talos layer read once."""
    monitor = Monitor(of_workspace(workspace), env=env, talos_run=run)
    return monitor.once(timeout)
