"""Is the cluster really lost? A restore rolls every Kubernetes object back to the snapshot, so it runs only when
etcd has lost its quorum (read with `talosctl etcd status` on every control plane of cluster.yaml).

`judge` is pure (the rows of `etcd status` against the control planes); `read` runs the one talosctl call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from skynet_tui import launcher
from skynet_tui.spec import Cluster
from skynet_tui.talos import commands as talos
from skynet_tui.talos.parse import table

NO_LEADER = "0" * 16
READ_TIMEOUT = 60.0


@dataclass(frozen=True)
class Member:
    """What a restore needs of one row of `talosctl etcd status`."""

    node: str
    leader_id: str
    errors: str = ""


def parse_status(text: str) -> tuple[Member, ...]:
    return tuple(
        Member(row.get("NODE", ""), row.get("LEADER", ""), row.get("ERRORS", ""))
        for row in table(text)
        if "MEMBER" in row
    )


@dataclass(frozen=True)
class Assessment:
    """What etcd looks like from the control planes, and whether a restore may run."""

    control_planes: tuple[str, ...]  # hostnames, cluster.yaml's order
    healthy: tuple[str, ...]  # members that answer, without errors, and know a leader
    quorum: int  # a majority of the control planes
    error: str = ""  # talosctl's error when no member answered

    @property
    def has_quorum(self) -> bool:
        return len(self.healthy) >= self.quorum

    def text(self) -> str:
        count = f"etcd answers with a leader on {len(self.healthy)} of {len(self.control_planes)} control plane(s)"
        names = f" ({', '.join(self.healthy)})" if self.healthy else ""
        if self.has_quorum:
            return (
                f"{count}{names}, and {self.quorum} make a quorum: the cluster is not lost. A restore would roll "
                "every Kubernetes object back to the snapshot and discard everything written since. Bring a "
                "failed member back instead (remove it with `talosctl etcd remove-member`, then add the node "
                "again), or pass --force if the data itself is what must go back"
            )
        return f"{count}{names}; a quorum needs {self.quorum}: etcd has lost its quorum, a restore is the way back"


def judge(cluster: Cluster, rows: Sequence[Member], error: str = "") -> Assessment:
    """The control planes of cluster.yaml against the rows `talosctl etcd status` printed."""
    by_ip = {node.ip: node.hostname for node in cluster.control_planes}
    healthy = [
        by_ip[row.node]
        for row in rows
        if row.node in by_ip and not row.errors and row.leader_id and row.leader_id != NO_LEADER
    ]
    names = tuple(node.hostname for node in cluster.control_planes)
    ordered = tuple(name for name in names if name in healthy)
    return Assessment(names, ordered, len(names) // 2 + 1, error)


def read(
    cluster: Cluster,
    talosconfig: Path,
    *,
    env: Mapping[str, str] | None = None,
    run: Callable[..., launcher.Result] = launcher.run,
    timeout: float = READ_TIMEOUT,
) -> Assessment:
    """`talosctl etcd status` on every control plane (those that fail are WARNING lines), judged."""
    result = run(
        talos.etcd_status_on([n.ip for n in cluster.control_planes], talosconfig), env=env, timeout=timeout
    )
    error = "" if result.ok else (result.tail(1) or f"exit code {result.returncode}")
    return judge(cluster, parse_status(result.stdout) if result.ok else (), error)
