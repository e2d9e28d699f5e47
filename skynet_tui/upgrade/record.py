"""After an upgrade: cluster.yaml records the versions the cluster runs, and the Talos patches follow, committed.

Only cluster.yaml and talos/ are rewritten (the GitOps tree is the platform upgrade's business), so a later
`skynet generate` renders the configs of the versions that run instead of downgrading them. The machine configs
under secrets/ are rendered again by the next `skynet generate`.
"""

from __future__ import annotations

from skynet_tui import spec
from skynet_tui.spec import Cluster
from skynet_tui.talos import patches
from skynet_tui.workspace import COMMITTED, Workspace


def with_versions(cluster: Cluster, *, talos: str | None = None, kubernetes: str | None = None) -> Cluster:
    """The answers with new versions (validated again: the pair must fit the support matrix)."""
    data = spec.to_data(cluster)
    if talos is not None:
        data["spec"].setdefault("talos", {})["version"] = talos
    if kubernetes is not None:
        data["spec"].setdefault("kubernetes", {})["version"] = kubernetes
    return spec.parse(data)


def record_versions(
    ws: Workspace, *, talos: str | None = None, kubernetes: str | None = None
) -> tuple[list[str], bool]:
    """Rewrite cluster.yaml and talos/ for the new versions and commit; (files changed, committed)."""
    cluster = spec.load(ws.cluster_yaml)
    was = (cluster.spec.talos.version, cluster.spec.kubernetes.version)
    updated = with_versions(cluster, talos=talos, kubernetes=kubernetes)
    files = {"cluster.yaml": spec.dump(updated), **patches.build(updated).files()}
    with ws.lock():
        changed = [rel for rel, text in files.items() if ws.write(rel, text)]
        now = (updated.spec.talos.version, updated.spec.kubernetes.version)
        moves = [
            f"{what} {before} -> {after}"
            for what, before, after in zip(("Talos", "Kubernetes"), was, now, strict=True)
            if before != after
        ]
        committed = ws.commit(
            f"skynet upgrade: {cluster.name} runs {', '.join(moves) or 'the same versions'}", COMMITTED
        )
    return changed, committed
