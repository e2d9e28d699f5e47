"""The gates on status snapshots, an upgrade request against a snapshot, the plans' shape, and what a stop says."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from skynet_tui import spec
from skynet_tui.events import PlanFinished, StepInfo
from skynet_tui.plan import upgrade
from skynet_tui.plan.upgrade_k8s import KubeletProgress, kubernetes_plan
from skynet_tui.plan.upgrade_steps import UpgradeTiming
from skynet_tui.progress import Phase, RunProgress, StepProgress, StepState
from skynet_tui.status.model import (
    AppRow,
    EtcdMember,
    KindState,
    NodeRow,
    Snapshot,
    TalosLayer,
    TalosMember,
)
from skynet_tui.upgrade import gates
from skynet_tui.upgrade.record import with_versions
from skynet_tui.workspace import Workspace

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
LEADER = "aaaa000000000001"


@pytest.fixture
def cluster(example_data: dict) -> spec.Cluster:
    return spec.parse(example_data)


def node(
    name: str, ip: str, *, cp: bool, kubelet: str = "v1.36.3", ready: str = "True", cordoned: bool = False
):
    roles = ("control-plane",) if cp else ()
    return NodeRow(name, ready, roles, kubelet, "Talos (v1.13.8)", ip, (), cordoned, ())


def app(name: str, health: str = "Healthy", message: str = "") -> AppRow:
    return AppRow("argocd", name, "default", "Synced", health, message, "abc", "", "", None, 0, False, (), 0, (),
                  "in-cluster", "1")  # fmt: skip


def snapshot(
    cluster: spec.Cluster, *, runs: str = "v1.13.8", kubelet: str = "v1.36.3", **change: Any
) -> Snapshot:
    """A healthy snapshot of the example cluster; `change` replaces fields (nodes, apps, talos, …)."""
    nodes = tuple(
        node(n.hostname, n.ip, cp=n.role == "controlplane", kubelet=kubelet) for n in cluster.spec.nodes
    )
    members = tuple(TalosMember(n.hostname, (n.ip,), n.role, f"Talos ({runs})") for n in cluster.spec.nodes)
    etcd = tuple(
        EtcdMember(n.ip, f"aaaa00000000000{i + 1}", "4.2 MB", "2.1 MB", LEADER, 1500, 2, 1500, False, "3.6", "3.6", "")
        for i, n in enumerate(cluster.control_planes)
    )  # fmt: skip
    layer = TalosLayer(True, "", members, etcd, versions=tuple((n.ip, runs) for n in cluster.spec.nodes))
    kinds = tuple(KindState(k, synced=True) for k in ("nodes", "pods", "applications"))
    base = Snapshot(NOW, 0.0, cluster.name, kinds=kinds, nodes=nodes, apps=(app("argocd"), app("traefik")),
                    talos=layer)  # fmt: skip
    return dataclasses.replace(base, **change)


def shut(found: tuple[gates.Gate, ...]) -> dict[str, str]:
    return {g.id: g.detail for g in gates.closed(found)}


def test_a_healthy_cluster_opens_every_gate(cluster: spec.Cluster) -> None:
    found = gates.evaluate(snapshot(cluster), cluster, talos_target="v1.13.9")
    assert not gates.closed(found)
    assert [g.id for g in found] == ["nodes", "etcd", "apps", "in-progress", "image"]
    detail = {g.id: g.detail for g in found}
    assert detail["etcd"] == "3/3 members, leader cp-1"
    assert detail["image"] == f"factory.talos.dev/metal-installer/{cluster.spec.talos.schematic}:v1.13.9"
    assert gates.describe(found).startswith("gates open: nodes 5/5 Ready · etcd 3/3 members")


def test_a_degraded_app_closes_the_gate_unless_allowed_and_then_it_is_named(cluster: spec.Cluster) -> None:
    snap = snapshot(cluster, apps=(app("argocd"), app("grafana", "Degraded", "CrashLoopBackOff")))
    closed = shut(gates.evaluate(snap, cluster))
    assert closed == {"apps": "not Healthy: grafana Degraded (CrashLoopBackOff); fix them, or pass "
                              "--allow-degraded to upgrade anyway"}  # fmt: skip
    [let_through] = [g for g in gates.evaluate(snap, cluster, allow_degraded=True) if g.id == "apps"]
    assert let_through.ok and let_through.waived == ("grafana Degraded (CrashLoopBackOff)",)
    missing = snapshot(
        cluster, kinds=(KindState("nodes", synced=True), KindState("applications", served=False))
    )
    assert "Argo CD is not installed" in shut(gates.evaluate(missing, cluster))["apps"]


@pytest.mark.parametrize(
    ("etcd", "why"),
    [
        (lambda rows: rows[:2], "no answer from cp-3"),
        (lambda rows: [dataclasses.replace(r, leader_id="0000000000000000") for r in rows], "no leader"),
        (lambda rows: [rows[0], dataclasses.replace(rows[1], leader_id="aaaa000000000002"), rows[2]],
         "the members disagree on the leader"),
        (lambda rows: [*rows[:2], dataclasses.replace(rows[2], errors="alarm:NOSPACE")], "cp-3: alarm:NOSPACE"),
        (lambda rows: [*rows[:2], dataclasses.replace(rows[2], learner=True)], "cp-3 is a learner"),
    ],
)  # fmt: skip
def test_etcd_must_answer_on_every_control_plane_with_one_leader(
    cluster: spec.Cluster, etcd, why: str
) -> None:
    snap = snapshot(cluster)
    talos = dataclasses.replace(snap.talos, etcd=tuple(etcd(list(snap.talos.etcd))), etcd_why="")
    assert why in shut(gates.evaluate(dataclasses.replace(snap, talos=talos), cluster))["etcd"]


def test_talos_unreadable_and_nodes_not_ready_close_their_gates(cluster: spec.Cluster) -> None:
    snap = snapshot(cluster, talos=TalosLayer(True, "talosctl get members: connection refused"))
    assert (
        shut(gates.evaluate(snap, cluster))["etcd"] == "Talos API: talosctl get members: connection refused"
    )
    base = snapshot(cluster)
    nodes = (*base.nodes[:4], dataclasses.replace(base.nodes[4], ready="False"))
    assert shut(gates.evaluate(dataclasses.replace(base, nodes=nodes), cluster))["nodes"] == (
        "not Ready: worker-2 NotReady"
    )
    assert (
        "not registered: worker-2"
        in shut(gates.evaluate(dataclasses.replace(base, nodes=base.nodes[:4]), cluster))["nodes"]
    )


def test_another_upgrade_half_done_closes_the_gate(cluster: spec.Cluster) -> None:
    base = snapshot(cluster)
    mixed = dataclasses.replace(
        base.talos, versions=(*base.talos.versions[:4], (cluster.spec.nodes[4].ip, "v1.13.9"))
    )
    snap = dataclasses.replace(base, talos=mixed)
    assert (
        "Talos versions differ (worker-2 not on v1.13.8)"
        in shut(gates.evaluate(snap, cluster))["in-progress"]
    )
    # …unless this very upgrade moves between those versions (a resumed one)
    assert not gates.closed(gates.evaluate(snap, cluster, talos={"v1.13.8", "v1.13.9"}))
    nodes = (dataclasses.replace(base.nodes[0], cordoned=True), *base.nodes[1:])
    assert "cordoned" in shut(gates.evaluate(dataclasses.replace(base, nodes=nodes), cluster))["in-progress"]
    kubelets = (*base.nodes[:4], dataclasses.replace(base.nodes[4], kubelet="v1.35.4"))
    found = shut(
        gates.evaluate(dataclasses.replace(base, nodes=kubelets), cluster, talos={"v1.13.8", "v1.13.9"})
    )
    assert "Kubernetes versions differ (worker-2 not on 1.36.3)" in found["in-progress"]


def test_a_request_against_a_snapshot(cluster: spec.Cluster) -> None:
    snap = snapshot(cluster, kubelet="v1.35.4")
    talos = upgrade.preview(cluster, snap, upgrade.Request("talos", "v1.13.9"))
    assert talos.can_run and talos.hops == ("v1.13.9",) and talos.gates_open
    assert talos.order() == [["cp-1"], ["cp-2"], ["cp-3"], ["worker-1"], ["worker-2"]]
    k8s = upgrade.preview(cluster, snap, upgrade.Request("kubernetes", "1.36.3"))
    assert k8s.hops == ("1.36.3",) and k8s.can_run
    assert upgrade.preview(cluster, snap, upgrade.Request("talos", "v1.13.8")).nothing_to_do
    too_wide = upgrade.preview(cluster, snap, upgrade.Request("talos", "v1.13.9", parallel=2))
    assert "--parallel 2 is more than the disruption budget" in too_wide.refusal and not too_wide.hops
    unread = dataclasses.replace(snap, talos=TalosLayer(True, "talosconfig not found"))
    assert "cannot read the Talos version of cp-1" in upgrade.preview(cluster, unread, upgrade.Request("talos",
                                                                                                   "v1.13.9")).refusal  # fmt: skip
    old = upgrade.preview(cluster, snapshot(cluster, runs="v1.11.5", kubelet="v1.33.1"),
                          upgrade.Request("talos", "v1.12.6"))  # fmt: skip
    assert "cluster.yaml cannot hold v1.12.6" in old.refusal


def test_the_talos_plan_goes_one_node_at_a_time_workers_in_batches_within_the_budget(cluster: spec.Cluster,
                                                                                       tmp_path) -> None:  # fmt: skip
    data = spec.to_data(cluster)
    data["spec"]["upgrade"] = {"maxUnavailableWorkers": 2}
    cluster = spec.parse(data)
    snap = snapshot(cluster)
    prepared = upgrade.preview(cluster, snap, upgrade.Request("talos", "v1.13.9", parallel=2))
    assert prepared.can_run, prepared.refusal
    plan = upgrade.build(prepared, Workspace.at(tmp_path), timing=UpgradeTiming())
    ids = [s.id for s in plan.order()]
    assert ids[:3] == ["upgrade-preflight", "gates", "etcd-snapshot"] and ids[-1] == "record"
    step = plan.get("talos-v1.13.9-worker-1")
    assert step.unit_start and step.writes_machines and step.deps == ("talos-v1.13.9-cp-3-gates",)
    assert plan.get("talos-v1.13.9-worker-2").deps == (
        "talos-v1.13.9-cp-3-gates",
    )  # the two workers together
    assert plan.get("talos-v1.13.9-worker-1..worker-2-gates").deps == (
        "talos-v1.13.9-worker-1", "talos-v1.13.9-worker-2",
    )  # fmt: skip
    assert plan.get("talos-v1.13.9-cp-2").deps == ("talos-v1.13.9-cp-1-gates",)
    check = upgrade.build(prepared, Workspace.at(tmp_path), check_only=True)
    assert [s.id for s in check.steps] == ["upgrade-preflight", "gates"] and not any(
        s.writes_machines for s in check.steps
    )


def test_the_kubernetes_plan_dry_runs_each_minor_before_it_runs() -> None:
    plan_steps = []
    import yaml

    from tests.conftest import EXAMPLE

    cluster = spec.parse(yaml.safe_load(EXAMPLE.read_text()))
    plan = kubernetes_plan(cluster, Workspace.at("/nonexistent"), ["1.35.4", "1.36.3"],
                           running={n.hostname: "1.34.6" for n in cluster.spec.nodes}, timing=UpgradeTiming())  # fmt: skip
    plan_steps = [s.id for s in plan.order()]
    assert plan_steps == [
        "upgrade-preflight", "gates", "etcd-snapshot",
        "k8s-1.35.4-dry-run", "k8s-1.35.4", "k8s-1.35.4-nodes", "k8s-1.35.4-gates",
        "k8s-1.36.3-dry-run", "k8s-1.36.3", "k8s-1.36.3-nodes", "k8s-1.36.3-gates", "record",
    ]  # fmt: skip
    assert plan.get("k8s-1.36.3-dry-run").unit_start and not plan.get("k8s-1.36.3").unit_start


def test_kubelet_progress_turns_upgrade_k8s_output_into_node_lines() -> None:
    lines: list[str] = []
    follow = KubeletProgress({"10.0.0.2": "cp-1", "10.0.0.5": "worker-1"}, {"cp-1": "1.35.4"}, "1.36.3",
                             lines.append)  # fmt: skip
    for line in [
        'updating "kube-apiserver" to version "1.36.3"',
        ' > "10.0.0.2": starting update',
        'updating kubelet to version "1.36.3"',
        ' > "10.0.0.2": starting update',
        ' > "10.0.0.2": update successful',
        ' > "10.0.0.5": starting update',
        "updating manifests",
    ]:
        follow("err", line)
    assert lines == [
        "upgrade cp-1 1.35.4 -> 1.36.3 started", "upgrade cp-1 1.35.4 -> 1.36.3 done",
        "upgrade worker-1 ? -> 1.36.3 started", "upgrade worker-1 ? -> 1.36.3 done",
    ]  # fmt: skip


def test_recorded_versions_must_fit_the_matrix(cluster: spec.Cluster) -> None:
    moved = with_versions(cluster, talos="v1.14.0-rc.1", kubernetes="1.37.0-rc.0")
    assert moved.spec.talos.version == "v1.14.0-rc.1"
    with pytest.raises(spec.SpecError):
        with_versions(cluster, kubernetes="1.37.0-rc.0")  # Talos v1.13 does not support it


def test_a_stop_names_the_node_it_left_behind(cluster: spec.Cluster) -> None:
    def progress(*states: tuple[str, str, StepState], paused: bool = False) -> RunProgress:
        steps = tuple(StepProgress(StepInfo(i, i, target), state) for i, target, state in states)
        return RunProgress(steps, Phase.CANCELLED, result=PlanFinished(False, cancelled=True, paused=paused))

    cut = progress(
        ("talos-v1.13.9-cp-1", "cp-1", StepState.DONE), ("talos-v1.13.9-cp-2", "cp-2", StepState.CANCELLED)
    )
    assert upgrade.stopped_text(cut, cluster).startswith(
        "Stopped while cp-2 (192.168.10.12) was being upgraded"
    )
    paused = progress(("talos-v1.13.9-cp-1", "cp-1", StepState.DONE), ("gates", "cluster", StepState.DONE),
                      paused=True)  # fmt: skip
    assert upgrade.stopped_text(paused, cluster).startswith(
        "Paused: the nodes under way finished (cp-1 last)"
    )


def test_a_target_cluster_yaml_could_not_record_is_refused_up_front(cluster: spec.Cluster) -> None:
    data = spec.to_data(cluster)
    data["spec"]["nodes"] = [n for n in data["spec"]["nodes"] if n["role"] == "controlplane"]
    alone = spec.parse(data)
    refusal = upgrade.preview(
        alone,
        snapshot(alone, runs="v1.13.9"),
        upgrade.Request("talos", "v1.14.0-rc.1", allow_prerelease=True),
    ).refusal
    assert refusal.startswith(
        "cluster.yaml could not record v1.14.0-rc.1 afterwards: spec.nodes: Talos v1.14.0-rc.1 without"
    )
