"""The lab's talosctl answers what the console's Talos layer calls, in talosctl's formats, and refuses what a
real talosctl refuses: members, services and versions through mTLS, etcd status and members, service, version."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from skynet_lab import faults, hardware
from skynet_lab.core import Lab
from skynet_tui.status import health
from skynet_tui.status.model import NodeRow, Snapshot, TalosLayer
from skynet_tui.status.talos import TalosReader
from skynet_tui.talos import commands as talos
from skynet_tui.talos import parse
from tests.lab_helpers import (  # noqa: F401 - lab_factory_fixture provides the lab_factory fixture
    install_state,
    lab_factory_fixture,
    talosctl,
    write_talosconfig,
)

pytestmark = pytest.mark.lab

ETCD_HEADER = (
    "NODE {pad}MEMBER             DB SIZE   IN USE            LEADER             RAFT INDEX   RAFT TERM   "
    "RAFT APPLIED INDEX   LEARNER   PROTOCOL   STORAGE   ERRORS"
)


@pytest.fixture
def installed(lab_factory, tmp_path: Path) -> tuple[Lab, Path]:
    """A finished install of 3 control planes and 2 workers, and the workspace's talosconfig (as the plan
    leaves it: the control planes as endpoints, the first as node)."""
    lab = lab_factory(3, 2)
    install_state(lab)
    tc = write_talosconfig(tmp_path / "talosconfig", lab.control_plane_ips, nodes=lab.control_plane_ips[:1])
    return lab, tc


def _run(lab: Lab, argv: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(argv, env=lab.env(), capture_output=True, text=True, timeout=60)


def test_the_console_reads_every_talos_fact_from_the_lab(installed) -> None:
    lab, tc = installed
    layer = TalosReader(tc, env=lab.env()).read()
    assert layer.configured and not layer.why and not layer.etcd_why and not layer.services_why
    assert [(m.hostname, m.address, m.machine_type) for m in layer.members] == [
        ("cp-1", lab.control_plane_ips[0], "controlplane"),
        ("cp-2", lab.control_plane_ips[1], "controlplane"),
        ("cp-3", lab.control_plane_ips[2], "controlplane"),
        ("worker-1", lab.worker_ips[0], "worker"),
        ("worker-2", lab.worker_ips[1], "worker"),
    ]
    assert all(m.os == "Talos (v1.13.9)" for m in layer.members)
    assert {v for _, v in layer.versions} == {"v1.13.9"} and len(layer.versions) == 5
    by_node = {ip: {s.id for s in layer.services if s.node == ip} for ip in lab.node_ips}
    assert {"etcd", "trustd", "kubelet", "apid"} <= by_node[lab.control_plane_ips[0]]
    assert "etcd" not in by_node[lab.worker_ips[0]] and "kubelet" in by_node[lab.worker_ips[0]]
    assert all(s.ok for s in layer.services)
    leader = hardware.etcd_member_id(lab.control_plane_ips[0])
    assert [(r.node, r.member_id, r.leader_id) for r in layer.etcd] == [
        (ip, hardware.etcd_member_id(ip), leader) for ip in lab.control_plane_ips
    ]
    snap = _snapshot(lab, layer)
    (talos_line, _), (etcd_line, _) = health.talos_layer(snap), health.etcd_layer(snap)
    assert (talos_line.level, talos_line.text) == ("ok", "5 members · 51/51 services healthy · Talos v1.13.9")
    assert (etcd_line.level, etcd_line.text) == ("ok", "3 members · leader cp-1 · DB 4.2 MB")


def _snapshot(lab: Lab, layer: TalosLayer) -> Snapshot:
    """A snapshot with Kubernetes' view of the lab's nodes, for the Talos and etcd lines."""
    names = [f"cp-{i + 1}" for i in range(3)] + ["worker-1", "worker-2"]
    nodes = tuple(
        NodeRow(name, "True", (), "v1.36.3", "Talos (v1.13.9)", ip, (), False, ())
        for name, ip in zip(names, lab.node_ips, strict=True)
    )
    return Snapshot(taken_at=datetime.now(UTC), clock=0.0, cluster="lab", nodes=nodes, talos=layer)


def test_etcd_status_is_a_control_plane_api_as_talosctl_prints_it(installed) -> None:
    lab, tc = installed
    cps, worker = lab.control_plane_ips, lab.worker_ips[0]
    status = _run(lab, talos.etcd_status_on(cps, tc))
    assert status.returncode == 0 and status.stderr == ""
    lines = status.stdout.splitlines()
    assert lines[0] == ETCD_HEADER.format(pad=" " * (len(cps[0]) - 2))
    assert [line.split()[0] for line in lines[1:]] == cps
    # A worker among the nodes: the others answer, the worker's error is a warning (talosctl exits 0).
    mixed = _run(lab, talos.etcd_status_on([cps[0], worker], tc))
    assert mixed.returncode == 0 and len(mixed.stdout.splitlines()) == 2
    assert mixed.stderr == (
        f"WARNING: 1 error occurred:\n\t* {worker}: rpc error: code = Unimplemented desc = etcd status is only "
        "available on control plane nodes\n\n\n"
    )
    alone = _run(lab, talos.etcd_status_on([worker], tc))
    assert alone.returncode == 1 and alone.stdout == ""
    assert alone.stderr.strip() == (
        "error getting status: rpc error: code = Unimplemented desc = etcd status is only available on control "
        "plane nodes"
    )
    members = _run(lab, talos.etcd_members(cps[1], tc))
    rows = [line.split() for line in members.stdout.splitlines()]
    assert rows[0] == ["NODE", "ID", "HOSTNAME", "PEER", "URLS", "CLIENT", "URLS", "LEARNER"]
    assert [r[2] for r in rows[1:]] == ["cp-1", "cp-2", "cp-3"] and {r[0] for r in rows[1:]} == {cps[1]}
    assert rows[1][3:] == [f"https://{cps[0]}:2380", f"https://{cps[0]}:2379", "false"]


def test_etcd_not_bootstrapped_answers_nothing(lab_factory, tmp_path: Path) -> None:
    lab = lab_factory(1, 0)
    install_state(lab, bootstrapped=False)
    tc = write_talosconfig(tmp_path / "talosconfig", lab.control_plane_ips)
    result = _run(lab, talos.etcd_status_on(lab.control_plane_ips, tc))
    assert result.returncode == 1
    assert "etcd is not running on this node" in result.stderr
    layer = TalosReader(tc, env=lab.env()).read()
    assert layer.etcd == () and "etcd is not running" in layer.etcd_why
    assert ("etcd", False, False, True) in {(s.id, s.running, s.healthy, s.unknown) for s in layer.services}


def test_service_and_version_over_mtls(installed) -> None:
    lab, tc = installed
    cp = lab.control_plane_ips[0]
    table = talosctl(lab, "service", "--talosconfig", tc, "-n", cp)
    rows = [line.split(None, 3) for line in table.stdout.splitlines()]
    assert table.returncode == 0 and table.stdout.startswith("NODE ")
    assert [r[1] for r in rows[1:]] == [
        "apid", "auditd", "containerd", "cri", "dashboard", "etcd", "kubelet", "machined", "syslogd", "trustd",
        "udevd",
    ]  # fmt: skip
    kubelet = talosctl(lab, "service", "kubelet", "--talosconfig", tc, "-n", cp)
    assert kubelet.stdout.splitlines()[1:4] == ["ID       kubelet", "STATE    Running", "HEALTH   OK"]
    missing = talosctl(lab, "service", "nope", "--talosconfig", tc, "-n", cp)
    assert missing.returncode == 1 and 'service "nope" not found' in missing.stderr
    version = talosctl(lab, "version", "--talosconfig", tc, "-n", f"{cp},{lab.worker_ips[0]}")
    assert version.returncode == 0 and version.stdout.count("\tTag:         v1.13.9") == 3
    assert f"Server:\n\tNODE:        {cp}\n" in version.stdout and "\tEnabled:     RBAC" in version.stdout
    # After install the maintenance API is gone: --insecure is refused as a real node refuses it.
    insecure = talosctl(lab, "version", "--insecure", "-n", cp)
    assert insecure.returncode == 1 and "certificate required" in insecure.stderr
    addresses = parse.json_stream(_run(lab, talos.get("addresses", cp, talosconfig=tc)).stdout)
    assert [a["spec"]["address"] for a in addresses] == ["127.0.0.1/8", f"{cp}/24"]
    local = parse.json_stream(_run(lab, talos.get("etcdmembers", cp, talosconfig=tc)).stdout)
    assert local[0]["metadata"]["id"] == "local" and local[0]["spec"] == {
        "memberID": hardware.etcd_member_id(cp)
    }


def test_a_node_whose_kubelet_stopped_shows_in_the_talos_layer(installed) -> None:
    lab, tc = installed
    faults.inject(lab.root, ["node-notready=worker-2"])
    layer = TalosReader(tc, env=lab.env()).read()
    stopped = [s for s in layer.services if not s.ok]
    assert [(s.node, s.id, s.running) for s in stopped] == [(lab.worker_ips[1], "kubelet", False)]
    snap = _snapshot(lab, layer)
    line, problems = health.talos_layer(snap)
    assert line.level == "error" and "50/51 services healthy" in line.text
    assert [p.text for p in problems] == ["service kubelet is not running on worker-2"]
    table = talosctl(lab, "service", "kubelet", "--talosconfig", tc, "-n", lab.worker_ips[1])
    assert "STATE    Failed" in table.stdout and "HEALTH   Fail" in table.stdout
