"""The Talos layer: parsers on talosctl's real formats, the reader's unknowns, and the Talos and etcd health lines."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from skynet_tui import launcher
from skynet_tui.status import health, talos
from skynet_tui.status.model import KindState, NodeRow, Snapshot, TalosLayer
from tests import talos_samples as samples

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
NODES = [("cp-1", "10.5.0.11", True), ("cp-2", "10.5.0.12", True), ("cp-3", "10.5.0.13", True),
         ("worker-1", "10.5.0.21", False), ("worker-2", "10.5.0.22", False)]  # fmt: skip


def test_parsers_read_the_real_formats() -> None:
    members = talos.parse_members(samples.MEMBERS)
    assert [(m.hostname, m.addresses, m.machine_type, m.os) for m in members] == [
        ("cp-1", ("10.5.0.11",), "controlplane", "Talos (v1.13.9)"),
        ("worker-1", ("10.5.0.21",), "worker", "Talos (v1.13.9)"),
    ]
    services = talos.parse_services(samples.SERVICES)
    assert [(s.node, s.id, s.running, s.healthy, s.unknown, s.ok) for s in services] == [
        ("10.5.0.11", "etcd", True, True, False, True),
        ("10.5.0.11", "udevd", True, False, True, True),  # no health check: running is enough
    ]
    assert talos.parse_versions(samples.VERSIONS) == (("10.5.0.11", "v1.13.9"),)
    etcd = talos.parse_etcd_status(samples.ETCD_STATUS)
    assert len(etcd) == 3
    first = etcd[0]
    assert (first.node, first.member_id, first.db_size, first.in_use) == (
        "10.5.0.11", "6f2c9b4e1a7d3c58", "25 MB", "8.2 MB (32.71%)",
    )  # fmt: skip
    assert (first.raft_index, first.raft_term, first.raft_applied, first.learner) == (
        184213,
        3,
        184213,
        False,
    )
    assert (first.protocol, first.storage, first.errors) == ("3.6.0", "3.6.0", "")
    assert [r.is_leader for r in etcd] == [True, False, False]


def test_the_generated_outputs_read_like_the_samples() -> None:
    outputs = samples.cluster_outputs(NODES)
    assert len(talos.parse_members(outputs["members"])) == 5
    assert len(talos.parse_services(outputs["services"])) == 3 * 7 + 2 * 5
    etcd = talos.parse_etcd_status(outputs["etcd"])
    assert [r.node for r in etcd] == ["10.5.0.11", "10.5.0.12", "10.5.0.13"] and etcd[0].is_leader


class FakeRun:
    """launcher.run for the reader: canned results per talosctl command."""

    def __init__(self, outputs: dict[str, tuple[int, str, str]]):
        self.outputs = outputs
        self.argvs: list[list[str]] = []

    def __call__(self, argv: list[str], **kw: Any) -> launcher.Result:
        self.argvs.append(argv)
        key = argv[2] if argv[1] == "get" else "etcd"
        code, out, err = self.outputs.get(key, (1, "", "unexpected"))
        lines = [("out", line) for line in out.splitlines()] + [("err", line) for line in err.splitlines()]
        return launcher.Result(argv, code, out, lines)  # type: ignore[arg-type]


def reader(tmp_path: Path, run: FakeRun, *, path_has_talosctl: bool = True) -> talos.TalosReader:
    tc = samples.talosconfig(tmp_path / "talosconfig", ["10.5.0.11"], ["10.5.0.11", "10.5.0.12", "10.5.0.13"])
    bin_dir = samples.install_standin(tmp_path / "bin", {}) if path_has_talosctl else tmp_path / "empty"
    return talos.TalosReader(tc, env={"PATH": str(bin_dir)}, run=run, wall=lambda: NOW)


def test_the_reader_asks_members_then_services_versions_and_etcd_through_the_talosconfig(
    tmp_path: Path,
) -> None:
    outputs = samples.cluster_outputs(NODES)
    run = FakeRun({k: (0, v, "") for k, v in outputs.items()})
    layer = reader(tmp_path, run).read()
    assert layer.known and layer.checked_at == NOW
    tc = str(tmp_path / "talosconfig")
    ips = ",".join(ip for _, ip, _ in NODES)
    assert run.argvs == [
        ["talosctl", "get", "members", "--talosconfig", tc, "--nodes", "10.5.0.11", "--output", "json"],
        ["talosctl", "get", "services", "--talosconfig", tc, "--nodes", ips, "--output", "json"],
        ["talosctl", "get", "versions", "--talosconfig", tc, "--nodes", ips, "--output", "json"],
        ["talosctl", "etcd", "status", "--talosconfig", tc, "--nodes", "10.5.0.11,10.5.0.12,10.5.0.13"],
    ]
    snap = Snapshot(NOW, 0.0, "lab", talos=layer, nodes=tuple(_node(h, ip) for h, ip, _ in NODES))
    line, problems = health.talos_layer(snap)
    assert (line.level, line.text, problems) == (
        "ok",
        "5 members · 31/31 services healthy · Talos v1.13.9",
        [],
    )
    etcd, problems = health.etcd_layer(snap)
    assert (etcd.level, etcd.text, problems) == ("ok", "3 members · leader cp-1 · DB 25 MB", [])


def _node(name: str, ip: str) -> NodeRow:
    return NodeRow(name, "True", (), "v1.36.3", "Talos (v1.13.9)", ip, (), False, ())


def test_unknown_with_the_reason_never_a_crash(tmp_path: Path) -> None:
    assert talos.TalosReader(None).read() == TalosLayer(configured=False, why="no talosconfig")
    missing = talos.TalosReader(tmp_path / "nope").read()
    assert missing.configured and missing.why == f"talosconfig {tmp_path / 'nope'} not found"
    no_tool = reader(tmp_path, FakeRun({}), path_has_talosctl=False).read()
    assert no_tool.why == "talosctl is not on PATH"
    refused = FakeRun({"members": (1, "", 'resource "members" is not simulated by the Skynet lab\n')})
    layer = reader(tmp_path, refused).read()
    assert layer.why == 'talosctl get members: resource "members" is not simulated by the Skynet lab'
    line, _ = health.talos_layer(Snapshot(NOW, 0.0, "lab", talos=layer))
    assert (line.level, line.checked) == ("unknown", True)
    garbage = reader(tmp_path, FakeRun({"members": (0, "not json", "")})).read()
    assert garbage.why.startswith("talosctl: talosctl printed something that is not JSON")
    # no talosconfig given at all: not checked, and it does not count against health
    line, _ = health.talos_layer(Snapshot(NOW, 0.0, "lab"))
    assert (line.level, line.checked) == ("unknown", False)


def test_a_stopped_service_a_partial_etcd_answer_and_no_leader(tmp_path: Path) -> None:
    outputs = samples.cluster_outputs(NODES, down=("10.5.0.22", "kubelet"))
    two = "\n".join(outputs["etcd"].splitlines()[:3]) + "\n"
    warning = "WARNING: 10.5.0.13: rpc error: code = Unavailable desc = connection refused\n"
    run = FakeRun({"members": (0, outputs["members"], ""), "services": (0, outputs["services"], ""),
                   "versions": (0, outputs["versions"], ""), "etcd": (0, two, warning)})  # fmt: skip
    layer = reader(tmp_path, run).read()
    nodes = tuple(_node(h, ip) for h, ip, _ in NODES)
    snap = Snapshot(NOW, 0.0, "lab", talos=layer, nodes=nodes, kinds=(KindState("nodes", synced=True),))
    line, problems = health.talos_layer(snap)
    assert line.level == "error"
    assert [p.text for p in problems] == ["service kubelet is not running on worker-2"]
    etcd, problems = health.etcd_layer(snap)
    assert etcd.level == "error"
    assert [p.text for p in problems] == [
        "etcd did not answer on cp-3: WARNING: 10.5.0.13: rpc error: code = Unavailable desc = connection refused"
    ]
    no_leader = tuple(dataclasses.replace(r, leader_id="0000000000000000") for r in layer.etcd)
    layer = dataclasses.replace(layer, etcd=no_leader, etcd_why="")
    _, problems = health.etcd_layer(Snapshot(NOW, 0.0, "lab", talos=layer))
    assert "etcd has no leader" in [p.text for p in problems]
