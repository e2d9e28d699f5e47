"""An upgrade asked for, seen against the live cluster: each node's versions, the path or why not, the gates, the plan.

Both front ends start here: the CLI prints a Preview and runs its plan; the upgrade screen shows one per snapshot.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from skynet_tui import spec, versions
from skynet_tui.plan.steps import Plan
from skynet_tui.plan.upgrade_k8s import kubernetes_plan
from skynet_tui.plan.upgrade_steps import Confirm, UpgradeTiming
from skynet_tui.plan.upgrade_talos import batches, talos_plan
from skynet_tui.progress import RunProgress, StepState
from skynet_tui.upgrade import gates, live, paths, record

if TYPE_CHECKING:
    from skynet_tui.spec import Cluster
    from skynet_tui.status.model import Snapshot
    from skynet_tui.workspace import Workspace

Kind = Literal["talos", "kubernetes"]


@dataclass(frozen=True)
class Request:
    """What the operator asked for."""

    kind: Kind
    target: str
    allow_degraded: bool = False
    allow_prerelease: bool = False
    parallel: int = 1  # workers upgraded at once (Talos)


@dataclass(frozen=True)
class Preview:
    """A request against one snapshot: the nodes' versions, the path (or the refusal), the gates."""

    request: Request
    cluster: Cluster
    nodes: tuple[live.NodeVersions, ...]
    hops: tuple[str, ...] = ()
    refusal: str = ""
    gates: tuple[gates.Gate, ...] = ()

    @property
    def target(self) -> str:
        return self.hops[-1] if self.hops else self.request.target

    @property
    def nothing_to_do(self) -> bool:
        return not self.refusal and not self.hops

    @property
    def can_run(self) -> bool:
        return not self.refusal and bool(self.hops)

    @property
    def gates_open(self) -> bool:
        return not gates.closed(self.gates)

    def current(self, node: live.NodeVersions) -> str:
        return node.talos if self.request.kind == "talos" else node.kubernetes

    def order(self) -> list[list[str]]:
        """The nodes in the order the upgrade takes them (Talos: batches; Kubernetes: upgrade-k8s's own)."""
        if self.request.kind == "talos":
            return [[n.hostname for n in batch] for batch in batches(self.cluster, self.request.parallel)]
        return [[n.hostname for n in self.cluster.spec.nodes]]


def budget(cluster: Cluster) -> int:
    """The disruption budget: how many workers may be upgraded at once (spec.upgrade.maxUnavailableWorkers)."""
    return cluster.spec.upgrade.max_unavailable_workers if cluster.spec.upgrade else 1


def _refusal(cluster: Cluster, request: Request, found: tuple[live.NodeVersions, ...], snap: Snapshot) -> str:
    if request.parallel < 1:
        return "--parallel takes a number of workers, 1 or more"
    if request.parallel > budget(cluster):
        return (
            f"--parallel {request.parallel} is more than the disruption budget: "
            f"spec.upgrade.maxUnavailableWorkers is {budget(cluster)} in cluster.yaml"
        )
    silent_talos = live.missing(found, "talos")
    silent_kube = live.missing(found, "kubernetes")
    if silent_talos:
        why = snap.talos.why or "no version reported"
        return (
            f"cannot read the Talos version of {', '.join(silent_talos)} ({why}): is the Talos API reachable?"
        )
    if silent_kube:
        return f"{', '.join(silent_kube)} not registered in Kubernetes: cannot read its kubelet version"
    return ""


def _unrecordable(cluster: Cluster, kind: Kind, target: str) -> str:
    """Why cluster.yaml could not record the target once the cluster runs it ("" when it can)."""
    try:
        if kind == "talos":
            record.with_versions(cluster, talos=target)
        else:
            record.with_versions(cluster, kubernetes=target)
    except spec.SpecError as exc:
        return f"cluster.yaml could not record {target} afterwards: {exc.issues[0]}"
    return ""


def preview(cluster: Cluster, snap: Snapshot, request: Request) -> Preview:
    """The request against a snapshot (pure)."""
    found = live.node_versions(cluster, snap)
    refusal = _refusal(cluster, request, found, snap)
    talos_now = [n.talos for n in found]
    kube_now = [n.kubernetes for n in found]
    hops: list[str] = []
    if not refusal:
        try:
            if request.kind == "talos":
                hops = paths.talos_path(
                    talos_now, request.target, kubernetes=kube_now, allow_prerelease=request.allow_prerelease
                )
                if hops and versions.minor_of(hops[-1]) not in versions.INSTALLABLE_MINORS:
                    supported = " or ".join(f"v{m}.x" for m in versions.INSTALLABLE_MINORS)
                    refusal = f"Skynet manages Talos {supported}; cluster.yaml cannot hold {hops[-1]}"
            else:
                hops = paths.kubernetes_path(
                    kube_now, request.target, talos=talos_now, allow_prerelease=request.allow_prerelease
                )
        except paths.Refused as exc:
            refusal = str(exc)
    if hops and not refusal:
        refusal = _unrecordable(cluster, request.kind, hops[-1])
    if refusal:
        hops = []
    moving = {*(talos_now if request.kind == "talos" else kube_now), *hops}
    judged = gates.evaluate(
        snap,
        cluster,
        allow_degraded=request.allow_degraded,
        talos_target=hops[-1] if hops and request.kind == "talos" else None,
        talos=moving if request.kind == "talos" else None,
        kubernetes=moving if request.kind == "kubernetes" else None,
    )
    return Preview(request, cluster, found, tuple(hops), refusal, judged)


def read(ws: Workspace, request: Request, *, env: Mapping[str, str] | None = None) -> Preview:
    """Load cluster.yaml and read the cluster once (SpecError for bad answers)."""
    cluster = spec.load(ws.cluster_yaml)
    return preview(cluster, live.read(ws.root, env=env), request)


def build(
    prepared: Preview,
    ws: Workspace,
    *,
    env: dict[str, str] | None = None,
    timing: UpgradeTiming | None = None,
    simulated: bool = False,
    confirm: Confirm | None = None,
    check_only: bool = False,
) -> Plan:
    """The plan of a Preview that can run (or, with `check_only`, its gates and dry run only)."""
    request, cluster = prepared.request, prepared.cluster
    hops = list(prepared.hops) or [prepared.request.target]
    if request.kind == "talos":
        return talos_plan(
            cluster,
            ws,
            hops,
            running=[n.talos for n in prepared.nodes],
            env=env,
            timing=timing,
            simulated=simulated,
            allow_degraded=request.allow_degraded,
            parallel=request.parallel,
            check_only=check_only,
        )
    return kubernetes_plan(
        cluster,
        ws,
        hops,
        running={n.hostname: n.kubernetes for n in prepared.nodes},
        talos_running=[n.talos for n in prepared.nodes],
        env=env,
        timing=timing,
        simulated=simulated,
        allow_degraded=request.allow_degraded,
        confirm=confirm,
        check_only=check_only,
    )


def stopped_text(state: RunProgress, cluster: Cluster) -> str:
    """What a paused or cancelled upgrade left behind: the nodes it stopped on, and how to go on."""
    ips = {n.hostname: n.ip for n in cluster.spec.nodes}
    cut = [s.info.target for s in state.having(StepState.CANCELLED) if s.info.target in ips]
    done = [s.info.target for s in state.having(StepState.DONE) if s.info.target in ips]
    if cut:
        nodes = ", ".join(f"{host} ({ips[host]})" for host in dict.fromkeys(cut))
        return (
            f"Stopped while {nodes} was being upgraded: it may be draining or rebooting. Run the same command "
            "again: it first checks what each node reports and goes on from there."
        )
    if state.result is not None and state.result.paused:
        last = f" ({done[-1]} last)" if done else ""
        return f"Paused: the nodes under way finished{last}. Run the same command again to go on."
    return "Stopped before any node changed. Run the same command again to go on."
