"""Node lifecycle: the quorum refusal, a drain through the lab's eviction API (a PodDisruptionBudget blocks it and
is named; without one the pods move to the other nodes), the lab's etcd refusals and its added machines."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from rich.console import Console

from skynet_lab import cli, hardware, state
from skynet_lab.fake_talosctl import TALOSCTL
from skynet_lab.kube import MockKubeAPI
from skynet_lab.talos_lifecycle import NOT_ENOUGH, quorum_refusal
from skynet_tui import discovery, launcher, spec
from skynet_tui.nodes import answers, drain, quorum
from skynet_tui.status.client import KubeClient
from skynet_tui.status.model import EtcdMember, Snapshot, TalosLayer
from skynet_tui.status.talos import TalosReader
from skynet_tui.talos import commands as talos
from skynet_tui.talos import parse
from skynet_tui.workspace import Workspace
from tests import talos_samples
from tests.lab_helpers import (  # noqa: F401 - lab_factory_fixture provides the lab_factory fixture
    install_state,
    lab_factory_fixture,
    talosctl,
    write_talosconfig,
)
from tests.lab_kube_helpers import write_kubeconfig, write_lab

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "cluster.yaml"


def cluster(control_planes: int = 3, workers: int = 2) -> spec.Cluster:
    data = spec.to_data(spec.load(EXAMPLE))
    nodes = [
        {"hostname": f"cp-{i + 1}", "ip": f"192.168.10.{11 + i}", "role": "controlplane",
         "installDisk": "/dev/sda", "interface": "eno1"}
        for i in range(control_planes)
    ] + [
        {"hostname": f"worker-{i + 1}", "ip": f"192.168.10.{21 + i}", "role": "worker",
         "installDisk": "/dev/sda", "interface": "eno1"}
        for i in range(workers)
    ]  # fmt: skip
    data["spec"]["nodes"] = nodes
    return spec.parse(data)


# -- quorum ---------------------------------------------------------------------------------------------------
def test_removing_a_control_plane_that_breaks_quorum_is_refused_with_the_reason() -> None:
    answers3 = cluster(3)
    sick = quorum.members(answers3, ["192.168.10.11", "192.168.10.12"])  # cp-3 does not answer
    why = quorum.removal_refusal(answers3, "cp-1", sick)
    assert "would break etcd quorum" in why
    assert "quorum needs 2 healthy, but only 1 are (cp-2; not healthy: cp-3)" in why
    # The sick member itself may go: the two healthy ones keep their quorum.
    assert quorum.removal_refusal(answers3, "cp-3", sick) == ""
    assert quorum.removal_refusal(answers3, "worker-1", sick) == ""
    healthy = quorum.members(answers3, ["192.168.10.11", "192.168.10.12", "192.168.10.13"])
    assert quorum.removal_refusal(answers3, "cp-1", healthy) == ""


def test_the_last_control_plane_never_leaves_and_an_unknown_node_is_named() -> None:
    single = cluster(1, 1)
    why = quorum.removal_refusal(single, "cp-1", quorum.members(single, ["192.168.10.11"]))
    assert "the only control plane" in why
    assert (
        quorum.removal_refusal(single, "cp-9", [])
        == "cluster.yaml has no node 'cp-9' (its nodes: cp-1, worker-1)"
    )


def test_the_lab_refuses_what_etcd_refuses() -> None:
    members = [
        {"ip": "a", "etcd_running": True},
        {"ip": "b", "etcd_running": True},
        {"ip": "c", "etcd_running": False},
    ]
    assert quorum_refusal(members, members[0]) == NOT_ENOUGH  # b alone of b, c: no quorum
    assert quorum_refusal(members, members[2]) is None
    assert quorum_refusal(members[:1], members[0]) == NOT_ENOUGH  # the last member


def test_answers_without_and_with_a_node() -> None:
    answers3 = cluster(3)
    rest = answers.without(answers3, "worker-1")
    assert [n.hostname for n in rest.spec.nodes] == ["cp-1", "cp-2", "cp-3", "worker-2"]
    back = answers.with_node(rest, {"hostname": "worker-1", "ip": "192.168.10.21", "role": "worker",
                                    "installDisk": {"serial": "S1"}, "interface": "enp1s0"})  # fmt: skip
    assert [n.hostname for n in back.spec.nodes][-1] == "worker-1"
    with pytest.raises(spec.SpecError):
        answers.with_node(back, {"hostname": "worker-9", "ip": "192.168.10.21", "role": "worker",
                                 "installDisk": "/dev/sda", "interface": "eno1"})  # fmt: skip


def test_talosctl_argv_of_the_lifecycle() -> None:
    assert talos.etcd_leave("10.0.0.11", "tc", endpoint=["10.0.0.12"]) == [
        "talosctl", "etcd", "leave", "--talosconfig", "tc", "--endpoints", "10.0.0.12", "--nodes", "10.0.0.11"
    ]  # fmt: skip
    assert talos.etcd_remove_member("10.0.0.12", "8f2c", "tc")[:4] == [
        "talosctl",
        "etcd",
        "remove-member",
        "8f2c",
    ]
    with pytest.raises(ValueError):
        talos.etcd_remove_member("10.0.0.12", "--all", "tc")
    argv = talos.reset("10.0.0.21", "tc", endpoint=["10.0.0.11"], timeout=600)
    assert argv[-5:] == ["--graceful=true", "--reboot=false", "--wait", "--timeout", "10m0s"]
    # Every flag is one talosctl 1.13.9 has (the vendored CLI reference the lab's parser reads).
    for built in (
        talos.etcd_leave("10.0.0.11", "tc"),
        talos.etcd_remove_member("10.0.0.12", "8f2c", "tc"),
        argv,
    ):
        inv = cli.parse(TALOSCTL, built[1:])
        assert built[1 : 1 + len(inv.command)] == list(inv.command) and not TALOSCTL.is_group(inv.command)
    assert cli.parse(TALOSCTL, argv[1:]).flags["graceful"] is True


# -- drain through the lab's eviction API ------------------------------------------------------------------------
@contextmanager
def lab_api(tmp_path: Path, workers: int) -> Iterator[SimpleNamespace]:
    root = tmp_path / "lab"
    write_lab(root, control_planes=1, workers=workers)
    api = MockKubeAPI(root, tick=0.02)
    url = api.start()
    client = KubeClient(write_kubeconfig(tmp_path / "kubeconfig", url), pool_size=4)
    try:
        yield SimpleNamespace(root=root, api=api, client=client)
    finally:
        client.close()
        api.stop()


def wait_for(probe: Any, what: str, limit: float = 30.0) -> Any:
    """Poll until `probe()` is truthy; the limit only bounds a hang."""
    until = time.monotonic() + limit
    while time.monotonic() < until:
        found = probe()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"never saw {what}")


def web(client: KubeClient, replicas: int, budget: dict[str, Any]) -> None:
    labels = {"app": "web"}
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"},
        "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"containers": [{"name": "web", "image": "nginx:1.29"}]}}},
    }  # fmt: skip
    pdb = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
           "metadata": {"name": "web", "namespace": "default"}, "spec": {"selector": {"matchLabels": labels}, **budget}}  # fmt: skip
    for path, body in (("/apis/apps/v1/namespaces/default/deployments", deployment),
                       ("/apis/policy/v1/namespaces/default/poddisruptionbudgets", pdb)):  # fmt: skip
        code, answer = client.send("POST", path, body)
        assert code == 201, answer


def running_web(client: KubeClient, count: int) -> list[dict[str, Any]]:
    pods = client.get_json("/api/v1/namespaces/default/pods", [("labelSelector", "app=web")])["items"]
    ready = [
        p for p in pods
        if any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions") or [])
    ]  # fmt: skip
    return ready if len(ready) == count else []


@pytest.mark.lab
def test_a_drain_blocked_by_a_pod_disruption_budget_names_the_pod(tmp_path: Path) -> None:
    with lab_api(tmp_path, workers=1) as lab:
        web(lab.client, 1, {"minAvailable": 1})
        pod = wait_for(lambda: running_web(lab.client, 1), "the web pod Ready")[0]
        assert pod["spec"]["nodeName"] == "worker-1"
        assert drain.cordon(lab.client, "worker-1")
        lines: list[str] = []
        with pytest.raises(drain.DrainError) as caught:
            drain.drain(
                lab.client, "worker-1", timeout=0.3, interval=0.05, sleep=time.sleep, say=lines.append
            )
        name = f"default/{pod['metadata']['name']}"
        assert name in str(caught.value)
        assert "The disruption budget web needs 1 healthy pods and has 1 currently" in str(caught.value)
        assert any(line.startswith(name) for line in lines)
        node = lab.client.get_json("/api/v1/nodes/worker-1")
        assert node["spec"]["unschedulable"] is True
        # The pod stays where it was: nothing was deleted against the budget.
        assert running_web(lab.client, 1)[0]["metadata"]["uid"] == pod["metadata"]["uid"]


@pytest.mark.lab
def test_draining_evicts_the_pods_onto_the_other_nodes(tmp_path: Path) -> None:
    with lab_api(tmp_path, workers=2) as lab:
        web(lab.client, 2, {"maxUnavailable": 1})
        pods = wait_for(lambda: running_web(lab.client, 2), "two web pods Ready")
        assert sorted(p["spec"]["nodeName"] for p in pods) == ["worker-1", "worker-2"]
        assert drain.cordon(lab.client, "worker-1")
        lines: list[str] = []
        moved = drain.drain(
            lab.client, "worker-1", timeout=30, interval=0.05, sleep=time.sleep, say=lines.append
        )
        assert moved == len(lines) and any(line.startswith("evicted default/web-") for line in lines), lines
        assert drain.pods_on(lab.client, "worker-1") == []  # kube-system's CoreDNS moved too; DaemonSets stay
        after = wait_for(lambda: running_web(lab.client, 2), "two web pods Ready again")
        assert [p["spec"]["nodeName"] for p in after] == ["worker-2", "worker-2"]


@pytest.mark.lab
def test_a_machine_added_to_a_running_lab_answers_in_maintenance_mode(tmp_path: Path) -> None:
    from skynet_lab.core import Lab

    with Lab(tmp_path / "lab", 1, 1, latency={"install": 0.0}) as lab:
        address = lab.add_machine()
        added = state.load_node(lab.root, address)
        assert added is not None and added["stage"] == "maintenance" and added["reachable"]
        assert address.rsplit(".", 1)[1] == "221"
        assert lab.cluster_data()["spec"]["nodes"][-1]["hostname"] == "worker-1"  # spares are not planned


# -- the command -------------------------------------------------------------------------------------------------
def etcd_row(ip: str, errors: str = "") -> EtcdMember:
    return EtcdMember(
        ip, f"id-{ip}", "4 MB", "2 MB", "id-192.168.10.11", 10, 2, 10, False, "3.6.0", "3.6.0", errors
    )


def test_node_remove_refuses_a_quorum_break_before_anything_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from skynet_tui.commands import node as command

    ws = Workspace.at(tmp_path / "ws")
    ws.root.mkdir()
    ws.cluster_yaml.write_text(spec.dump(cluster(3, 1)))
    rows = (
        etcd_row("192.168.10.11"),
        etcd_row("192.168.10.12"),
        etcd_row("192.168.10.13", "context deadline exceeded"),
    )
    snap = Snapshot(datetime.now(UTC), 0.0, "homelab", talos=TalosLayer(configured=True, why="", etcd=rows))
    monkeypatch.setattr(command.live, "read", lambda *a, **k: snap)
    monkeypatch.setattr(command, "run_plan", lambda *a, **k: pytest.fail("nothing may run"))
    out = Console(file=io.StringIO(), width=300)
    assert command.run_node(ws, "remove", "cp-1", assume_yes=True, console=out) == 2
    text = out.file.getvalue()
    assert "Refused: removing cp-1 would break etcd quorum" in text and "not healthy: cp-3" in text
    assert command.run_node(ws, "replace", "cp-2", assume_yes=True, console=out) == 2
    assert command.run_node(ws, "remove", "nope", assume_yes=True, console=out) == 2
    assert "cluster.yaml has no node 'nope'" in out.file.getvalue()
    assert spec.load(ws.cluster_yaml) == cluster(3, 1)  # nothing was written


@pytest.mark.lab
def test_the_labs_talosctl_leaves_etcd_and_resets_as_talos_does(lab_factory, tmp_path: Path) -> None:
    lab = lab_factory(3, 1)
    install_state(lab)
    cps, worker = lab.control_plane_ips, lab.worker_ips[0]
    tc = write_talosconfig(tmp_path / "talosconfig", cps)
    lab.inject(unreachable=[cps[2]])  # cp-3 is down: two members of three are started
    refused = talosctl(lab, *talos.etcd_leave(cps[0], tc)[1:])
    assert refused.returncode == 1 and "not enough started members" in refused.stderr
    refused = talosctl(lab, *talos.reset(cps[1], tc, endpoint=cps[:1])[1:])
    assert refused.returncode == 1 and "failed to leave etcd" in refused.stderr
    # The dead member is removed from a healthy one; then a second control plane may leave, the last one never.
    dead = hardware.etcd_member_id(cps[2])
    assert talosctl(lab, *talos.etcd_remove_member(cps[0], dead, tc)[1:]).returncode == 0
    members = parse.table(talosctl(lab, *talos.etcd_members(cps[0], tc)[1:]).stdout)
    assert [m["HOSTNAME"] for m in members] == ["cp-1", "cp-2"]
    assert talosctl(lab, *talos.etcd_leave(cps[0], tc, endpoint=cps[1:2])[1:]).returncode == 0
    status = parse.table(talosctl(lab, *talos.etcd_status([cps[1]], tc)[1:]).stdout)
    assert status[0]["LEADER"] == hardware.etcd_member_id(cps[1])  # cp-1 led: leadership moved to cp-2
    last = talosctl(lab, *talos.etcd_leave(cps[1], tc, endpoint=cps[1:2])[1:])
    assert last.returncode == 1 and "not enough started members" in last.stderr
    # A worker's reset wipes it and powers it off: it answers nowhere any more.
    assert talosctl(lab, *talos.reset(worker, tc, endpoint=cps[1:2])[1:]).returncode == 0
    node = state.load_node(lab.root, worker)
    assert node is not None and node["stage"] == "off" and not node["reachable"]
    assert (
        talosctl(
            lab, "version", "--talosconfig", str(tc), "--endpoints", cps[1], "--nodes", worker
        ).returncode
        == 1
    )


def test_the_new_machine_is_drafted_with_its_safe_disk_and_found_among_maintenance_machines() -> None:
    answers3 = cluster(3, 1)
    link = discovery.Link("enp3s0", mac="aa:bb:cc:dd:ee:09", type="ether", oper_state="up",
                          link_state=True, bus_path="pci-0000:03:00.0")  # fmt: skip
    data_disk = discovery.Disk("sda", "/dev/sda", size=500 * 10**9, serial="OLD1", volumes=("sda1 xfs data",))
    clean = discovery.Disk("nvme0n1", "/dev/nvme0n1", size=512 * 10**9, serial="S5GX01")
    machine = discovery.Hardware(
        "192.168.10.230",
        [data_disk, clean],
        [link],
        fingerprint="j8iNuGT6IsHyWS0K8D5r5KJXy+ba0Tt3ZnsdDGgb/ec=",
    )
    entry = answers.draft(answers3, machine, ip="192.168.10.22")
    assert entry == {
        "hostname": "worker-2", "ip": "192.168.10.22", "role": "worker", "installDisk": {"serial": "S5GX01"},
        "interface": "enp3s0", "certFingerprint": "j8iNuGT6IsHyWS0K8D5r5KJXy+ba0Tt3ZnsdDGgb/ec=", "maintenanceAddress": "192.168.10.230",
    }  # fmt: skip
    answers.with_node(answers3, entry)  # valid answers
    only_data = discovery.Hardware("192.168.10.231", [data_disk], [link])
    with pytest.raises(answers.NoMachine, match="no disk that is safe to install onto .*holds data"):
        answers.draft(answers3, only_data, ip="192.168.10.23")
    read = {"192.168.10.230": machine, "192.168.10.11": discovery.Hardware("192.168.10.11")}.__getitem__
    found = answers.maintenance_machines(answers3, found=["192.168.10.11", "192.168.10.230"], read=read)
    assert [m.ip for m in found] == ["192.168.10.230"]  # the installed cp-1 is not a candidate
    assert answers.choose(found, answers3) is machine
    with pytest.raises(answers.NoMachine, match="pass --address IP"):
        answers.choose([machine, machine], answers3)
    with pytest.raises(answers.NoMachine, match="no machine answers in maintenance mode at 192.168.10.99"):
        answers.choose([], answers3, "192.168.10.99")


def test_a_dead_first_control_plane_does_not_blind_the_talos_layer(tmp_path: Path) -> None:
    """The status core reads discovery's members from the next endpoint when the first does not answer (the
    control plane a removal is about may be the talosconfig's first endpoint)."""
    nodes = [("cp-1", "10.5.0.11", True), ("cp-2", "10.5.0.12", True), ("worker-1", "10.5.0.21", False)]
    outputs = talos_samples.cluster_outputs(nodes)
    asked: list[list[str]] = []

    def run(argv: list[str], **_: Any) -> launcher.Result:
        asked.append(argv)
        key = argv[2] if argv[1] == "get" else "etcd"
        dead = argv[1] == "get" and argv[argv.index("--nodes") + 1] == "10.5.0.11"
        out, err = ("", "connection refused") if dead else (outputs[key], "")
        lines = [("out", line) for line in out.splitlines()] + [("err", line) for line in err.splitlines()]
        return launcher.Result(argv, 1 if dead else 0, out, lines)  # type: ignore[arg-type]

    tc = talos_samples.talosconfig(tmp_path / "talosconfig", [], ["10.5.0.11", "10.5.0.12"])
    bin_dir = talos_samples.install_standin(tmp_path / "bin", {})
    layer = TalosReader(tc, env={"PATH": str(bin_dir)}, run=run).read()
    assert layer.known and [m.hostname for m in layer.members] == ["cp-1", "cp-2", "worker-1"]
    assert [a[a.index("--nodes") + 1] for a in asked[:2]] == ["10.5.0.11", "10.5.0.12"]
    refused = TalosReader(
        tc, env={"PATH": str(bin_dir)}, run=lambda argv, **_: run([*argv[:-3], "10.5.0.11", *argv[-2:]])
    ).read()
    assert refused.why == "talosctl get members: connection refused"
