"""The lab's simulated machines: state, subnets, listeners, the fake talosctl's outputs, every fault."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from skynet_lab import state
from skynet_lab.core import Lab, LabError
from skynet_lab.talos_health import CHECKS
from skynet_tui import spec
from skynet_tui.talos import commands as talos
from skynet_tui.talos import parse
from tests.lab_helpers import (  # noqa: F401 - lab_factory_fixture provides the lab_factory fixture
    apply_all,
    install_state,
    lab_factory_fixture,
    machine_config,
    node_disk,
    talosctl,
    write_talosconfig,
)

pytestmark = pytest.mark.lab  # every test here runs the simulated lab (or a part of it)

# The order of talosctl health's checks (reference/talos.md §5.2, pkg/cluster/check/default.go).
REFERENCE_CHECK_ORDER = [
    "etcd to be healthy",
    "etcd members to be consistent across nodes",
    "etcd members to be control plane nodes",
    "apid to be ready",
    "all nodes memory sizes",
    "all nodes disk sizes",
    "no diagnostics",
    "kubelet to be healthy",
    "all nodes to finish boot sequence",
    "all k8s nodes to report",
    "all control plane static pods to be running",
    "all control plane components to be ready",
    "all k8s nodes to report ready",
    "kube-proxy to report ready",
    "coredns to report ready",
    "all k8s nodes to report schedulable",
]


def _connects(ip: str, port: int = 50000) -> bool:
    try:
        with socket.create_connection((ip, port), timeout=1):
            return True
    except OSError:
        return False


def _run(lab: Lab, argv: list[str]) -> subprocess.CompletedProcess:
    """Run an argv built by skynet_tui.talos.commands (what the plans call) in the lab's environment."""
    return subprocess.run(argv, env=lab.env(), capture_output=True, text=True, timeout=60)


# ---------------------------------------------------------------- subnets, listeners, answers


def test_parallel_labs_get_different_subnets_and_listen_only_while_running(lab_factory):
    first, second = lab_factory(2, 1), lab_factory(1, 1)
    assert first.subnet != second.subnet
    for lab in (first, second):
        assert all(_connects(ip) for ip in lab.node_ips)
        assert not _connects(lab.address(1)), "the gateway reservation must not answer like a node"
        assert not _connects(lab.address(99))
    first.stop()
    assert not any(_connects(ip) for ip in first.node_ips)
    assert all(_connects(ip) for ip in second.node_ips)


@pytest.mark.usefixtures("git")
def test_a_subnet_in_use_is_never_taken_twice(tmp_path):
    with Lab(tmp_path / "a", 1, 0, latency={}) as lab:
        other = Lab(tmp_path / "b", 1, 0)
        assert not other._reserve(int(lab.prefix.split(".")[2]))
        with pytest.raises(LabError, match="in use by another process"):
            Lab(tmp_path / "a", 1, 0).start()  # the same state reopened while it runs


def test_cluster_data_is_valid_answers_for_the_lab(lab_factory):
    lab = lab_factory(3, 2)
    data = lab.cluster_data(name="lab")
    cluster = spec.parse(data)
    assert not spec.warnings(cluster, first_install=True)
    prefix = lab.prefix
    assert data["spec"]["network"] == {
        "subnet": f"{prefix}.0/24",
        "gateway": f"{prefix}.1",
        "nameservers": [f"{prefix}.1"],
        "ntp": [f"{prefix}.1"],
    }
    assert cluster.spec.control_plane.endpoint == f"{prefix}.10" and cluster.spec.control_plane.vip
    assert [n.ip for n in cluster.control_planes] == [f"{prefix}.11", f"{prefix}.12", f"{prefix}.13"]
    assert [n.ip for n in cluster.workers] == [f"{prefix}.21", f"{prefix}.22"]
    assert cluster.spec.load_balancer.addresses == [f"{prefix}.200-{prefix}.220"]
    repo = Path(cluster.spec.gitops.repo_url.removeprefix("file://"))
    assert repo == lab.repo_path and (repo / "HEAD").is_file() and (repo / "refs").is_dir()
    # One worker is described by disk serial and MAC: both must exist on that machine.
    by_serial = [n for n in cluster.workers if not isinstance(n.install_disk, str)]
    assert len(by_serial) == 1 and by_serial[0].mac
    stored = {n["ip"]: n for n in state.load_stored_nodes(lab.root)}
    hw = stored[by_serial[0].ip]["hardware"]
    assert by_serial[0].install_disk.serial in {d.get("serial") for d in hw["disks"]}
    assert by_serial[0].mac in {link["hardwareAddr"] for link in hw["links"]}


def test_machines_have_the_hardware_the_wizard_must_judge(lab_factory):
    lab = lab_factory(3, 2)
    nodes = state.load_stored_nodes(lab.root)
    for node in nodes:
        disks = node["hardware"]["disks"]
        assert 2 <= len(disks) <= 3
        assert any(d["readonly"] for d in disks), "every machine boots from a read-only medium"
        assert any(
            link["operationalState"] == "up" and link["type"] == "ether" for link in node["hardware"]["links"]
        )
    small = [
        n
        for n in nodes
        if any(d["size"] < 10 * 1024**3 and not d["readonly"] for d in n["hardware"]["disks"])
    ]
    partitioned = [n for n in nodes if any(len(v) > 1 for v in n["hardware"]["volumes"].values())]
    assert 0 < len(small) < len(nodes)
    assert 0 < len(partitioned) < len(nodes)
    macs = [link["hardwareAddr"] for n in nodes for link in n["hardware"]["links"] if link["type"] == "ether"]
    assert len(macs) == len(set(macs))


# ---------------------------------------------------------------- maintenance mode outputs


def test_maintenance_outputs_parse_with_the_talos_parsers(lab_factory):
    lab = lab_factory(2, 0)
    ip = lab.node_ips[0]
    disks = parse.json_stream(_run(lab, talos.get("disks", ip, insecure=True)).stdout)
    assert [d["metadata"]["id"] for d in disks] == ["sda", "sdb", "sr0"]
    assert all(d["node"] == ip and d["metadata"]["type"] == "Disks.block.talos.dev" for d in disks)
    sr0 = disks[-1]["spec"]
    assert sr0["cdrom"] and sr0["readonly"] and sr0["dev_path"] == "/dev/sr0"
    assert disks[0]["spec"]["pretty_size"] == "500 GB" and disks[0]["spec"]["size"] == 500_107_862_016

    links = parse.json_stream(_run(lab, talos.get("links", ip, insecure=True)).stdout)
    up = [link for link in links if link["spec"]["operationalState"] == "up"]
    assert [link["metadata"]["id"] for link in up] == ["eth0"] and up[0]["spec"]["hardwareAddr"].startswith(
        "ac:1f:6b"
    )

    volumes = parse.json_stream(_run(lab, talos.get("discoveredvolumes", ip, insecure=True)).stdout)
    assert {"sdb1": "xfs"}.items() <= {v["metadata"]["id"]: v["spec"]["name"] for v in volumes}.items()

    status = parse.json_stream(_run(lab, talos.get("machinestatus", ip, insecure=True)).stdout)
    assert status[0]["spec"]["stage"] == "maintenance"

    # What the product never reads is refused as such, not imitated.
    table = talosctl(lab, "get", "disks", "--insecure", "-n", ip)
    assert table.returncode == 1 and "not simulated by the Skynet lab" in table.stderr
    routes = talosctl(lab, "get", "routes", "--insecure", "-n", ip, "-o", "json")
    assert (
        routes.returncode == 1
        and routes.stderr.strip() == 'resource "routes" is not simulated by the Skynet lab'
    )
    # The maintenance API serves the non-sensitive resources only, as a real node's does.
    members = talosctl(lab, "get", "members", "--insecure", "-n", ip, "-o", "json")
    assert (
        members.returncode == 1
        and members.stderr.strip() == "rpc error: code = PermissionDenied desc = not authorized"
    )
    version = parse.json_stream(_run(lab, talos.get("versions", ip, insecure=True)).stdout)
    assert version[0]["spec"] == {"name": "Talos", "version": "v1.13.9"}
    served = talosctl(lab, "version", "--insecure", "-n", ip)
    assert (
        served.returncode == 0 and f"Server:\n\tNODE:        {ip}\n\tTag:         v1.13.9\n" in served.stdout
    )


def test_unknown_and_unreachable_nodes_refuse_like_real_ones(lab_factory, tmp_path):
    lab = lab_factory(2, 0)
    missing = lab.address(99)
    result = _run(lab, talos.get("disks", missing, insecure=True))
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip() == (
        'rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: '
        f'dial tcp {missing}:50000: connect: connection refused"'
    )
    target = lab.node_ips[1]
    lab.inject(unreachable=[target])
    assert not _connects(target) and _connects(lab.node_ips[0])
    result = _run(lab, talos.get("machinestatus", target, insecure=True))
    assert result.returncode == 1 and "connect: connection refused" in result.stderr
    config = tmp_path / "cp.yaml"
    config.write_text(machine_config("controlplane", disk=node_disk(lab, target)))
    result = _run(lab, talos.apply_config(target, config))
    assert result.returncode == 1 and result.stderr.startswith(
        "error applying new configuration: rpc error: code = Unavailable desc = connection error"
    )
    lab.inject(unreachable=[])
    assert _connects(target)
    assert _run(lab, talos.get("machinestatus", target, insecure=True)).returncode == 0


# ---------------------------------------------------------------- install


def test_apply_config_moves_a_node_through_the_install_stages(lab_factory, tmp_path):
    lab = lab_factory(1, 1, latency={"install": 0.5, "reboot": 0.5, "boot": 0.5, "bootstrap_ready": 0.2})
    cp, worker = lab.node_ips
    config = tmp_path / "cp.yaml"
    config.write_text(machine_config("controlplane", hostname="cp-1", disk=node_disk(lab, cp)))
    result = _run(lab, talos.apply_config(cp, config))
    assert result.returncode == 0 and result.stdout == ""
    assert result.stderr == "Applied configuration without a reboot\n"

    applied = state.load_node(lab.root, cp)["applied_at"]
    stages = {t: state.load_node(lab.root, cp, now=applied + t) for t in (0.1, 0.6, 1.1, 99)}
    assert [n["stage"] for n in stages.values()] == ["installing", "rebooting", "booting", "booting"]
    booting = stages[99]
    assert booting["configured"] and not booting["ready"] and booting["bootstrap_available"]
    assert booting["hostname"] == "cp-1" and booting["role"] == "controlplane"
    assert {"name": "services", "reason": "etcd not running"} in booting["unmet_conditions"]

    # While it installs: mTLS is refused, and the maintenance API is gone too.
    tc = write_talosconfig(tmp_path / "talosconfig", [cp])
    during = _run(lab, talos.get("machinestatus", cp, talosconfig=tc))
    assert during.returncode == 1 and "connection refused" in during.stderr
    # A node still in maintenance answers mTLS with a certificate the talosconfig does not trust.
    untrusted = _run(lab, talos.get("machinestatus", worker, talosconfig=tc))
    assert "x509: certificate signed by unknown authority" in untrusted.stderr

    _wait_stage(lab, cp, "booting")
    status = parse.json_stream(_run(lab, talos.get("machinestatus", cp, talosconfig=tc)).stdout)[0]["spec"]
    assert status["stage"] == "booting" and status["status"]["ready"] is False
    # After install, --insecure no longer works.
    assert "certificate required" in _run(lab, talos.get("disks", cp, insecure=True)).stderr
    # Discovered volumes now show Talos' partitions on the install disk.
    volumes = parse.json_stream(_run(lab, talos.get("discoveredvolumes", cp, talosconfig=tc)).stdout)
    assert {"EFI", "BOOT", "META", "STATE", "EPHEMERAL"} <= {v["spec"].get("partitionLabel") for v in volumes}


def _wait_stage(lab: Lab, ip: str, stage: str, timeout: float = 10) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        node = state.load_node(lab.root, ip)
        if node["stage"] == stage:
            return node
        time.sleep(0.05)
    raise AssertionError(f"{ip} never reached {stage}: {state.load_node(lab.root, ip)['stage']}")


def test_apply_config_rejects_what_a_node_would(lab_factory, tmp_path):
    lab = lab_factory(2, 0)
    first, second = lab.node_ips  # sda SATA / nvme0n1 with a read-only USB stick as sda
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("machine: [unclosed\n")
    result = talosctl(lab, "apply-config", "-i", "-n", first, "-f", bad_yaml)
    assert result.returncode == 1 and "code = InvalidArgument desc = failed to parse config" in result.stderr

    missing = tmp_path / "missing.yaml"
    missing.write_text(machine_config("controlplane", disk="/dev/sdz"))
    result = talosctl(lab, "apply-config", "-i", "-n", first, "-f", missing)
    assert 'specified install disk does not exist: "/dev/sdz"' in result.stderr

    usb = tmp_path / "usb.yaml"
    usb.write_text(machine_config("controlplane", disk="/dev/sda"))
    assert "is read-only" in talosctl(lab, "apply-config", "-i", "-n", second, "-f", usb).stderr

    no_file = talosctl(lab, "apply-config", "-i", "-n", first, "-f", tmp_path / "nope.yaml")
    assert no_file.returncode == 1 and "no such file or directory" in no_file.stderr
    assert all(n["stage"] == "maintenance" for n in state.load_nodes(lab.root))

    # A selector by serial and a HostnameConfig: the node records what it got.
    serial = next(
        d["serial"] for d in state.load_node(lab.root, second)["hardware"]["disks"] if "nvme" in d["dev_path"]
    )
    selected = tmp_path / "selected.yaml"
    selected.write_text(machine_config("worker", hostname="edge-7", disk={"serial": serial}))
    patched = talosctl(lab, "apply-config", "-i", "-n", second, "-f", selected, "-p", "@x.yaml")
    assert patched.returncode == 1 and "--config-patch is not simulated" in patched.stderr
    result = talosctl(lab, "apply-config", "-i", "-n", second, "-f", selected)
    assert result.returncode == 0, result.stderr
    node = state.load_node(lab.root, second)
    assert node["role"] == "worker" and node["config"]["hostname"] == "edge-7"
    assert node["config"]["install_dev"] == "/dev/nvme0n1"
    assert "token" not in json.dumps(node["config"]), "the lab never stores machine secrets"


@pytest.mark.slow
def test_bootstrap_is_exactly_once_with_the_real_errors(lab_factory, tmp_path):
    lab = lab_factory(3, 1)
    lab.inject(bootstrap_not_ready=2)
    cps = lab.control_plane_ips
    before = write_talosconfig(tmp_path / "before", cps)
    result = _run(lab, talos.bootstrap(cps[0], before))
    assert result.returncode == 1 and result.stderr.startswith("error executing bootstrap: rpc error")
    assert "x509" in result.stderr  # still in maintenance mode
    tc = apply_all(lab, tmp_path)

    many = _run(lab, ["talosctl", "bootstrap", "--talosconfig", str(tc), "--nodes", ",".join(cps[:2])])
    assert many.returncode == 1
    assert many.stderr.startswith('command "bootstrap" is not supported with multiple nodes\n\nUsage:')

    worker = _run(lab, talos.bootstrap(lab.worker_ips[0], tc))
    assert worker.returncode == 1 and "not available yet" not in worker.stderr

    for _ in range(2):
        result = _run(lab, talos.bootstrap(cps[0], tc))
        assert result.returncode == 1
        assert result.stderr.strip() == (
            "error executing bootstrap: rpc error: code = FailedPrecondition desc = bootstrap is not available yet"
        )
    # Racing calls on two control planes: exactly one wins, the other sees etcd's data.
    outcomes: list[subprocess.CompletedProcess] = []
    threads = [
        threading.Thread(target=lambda ip=ip: outcomes.append(_run(lab, talos.bootstrap(ip, tc))))
        for ip in cps[:2]
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.returncode for r in outcomes) == [0, 1]
    assert next(r for r in outcomes if r.returncode == 0).stdout == ""
    again = _run(lab, talos.bootstrap(cps[2], tc))
    assert again.stderr.strip().endswith("code = AlreadyExists desc = etcd data directory is not empty")
    assert state.load_lab(lab.root)["bootstrap"]["node"] in cps[:2]


@pytest.mark.slow
def test_health_prints_the_real_checks_in_order_and_honours_the_timeout_fault(lab_factory, tmp_path):
    lab = lab_factory(3, 2)
    assert [name for name, _, _ in CHECKS] == REFERENCE_CHECK_ORDER
    tc = apply_all(lab, tmp_path)
    argv = talos.health(
        lab.node_ips[0], tc, control_planes=lab.control_plane_ips, workers=lab.worker_ips, wait_timeout=2
    )
    waiting = _run(lab, argv)  # not bootstrapped: etcd never comes up within the timeout
    assert waiting.returncode == 1 and waiting.stderr.splitlines()[-1].endswith("context deadline exceeded")
    assert 'service "etcd" not in expected state "Running"' in waiting.stderr

    assert _run(lab, talos.bootstrap(lab.node_ips[0], tc)).returncode == 0
    lab.inject(health_timeout=1)
    failed = _run(lab, argv)
    assert failed.returncode == 1 and failed.stdout == ""
    lines = [parse.health_line(line) for line in failed.stderr.splitlines()]
    assert lines[-1] is None and "deadline exceeded" in failed.stderr.splitlines()[-1]
    assert lines[-2].check == "all k8s nodes to report ready" and lines[-2].failed

    ok = _run(lab, argv)
    assert ok.returncode == 0 and ok.stdout == ""
    parsed = [parse.health_line(line) for line in ok.stderr.splitlines()]
    assert all(parsed), ok.stderr
    assert parsed[0].check == "" and parsed[0].nodes == tuple(lab.node_ips)
    finals = [p.check for p in parsed[1:] if p.ok]
    assert finals == REFERENCE_CHECK_ORDER
    assert all(p.waiting for p in parsed[1::2])

    many = _run(lab, ["talosctl", "health", "--talosconfig", str(tc), "-n", ",".join(lab.control_plane_ips)])
    assert 'command "health" is not supported with multiple nodes' in many.stderr


def test_health_skips_ready_checks_without_cni(lab_factory, tmp_path):
    lab = lab_factory(1, 0)
    ip = lab.node_ips[0]
    config = tmp_path / "cp.yaml"
    config.write_text(machine_config("controlplane", disk=node_disk(lab, ip), cni="none"))
    assert _run(lab, talos.apply_config(ip, config)).returncode == 0
    tc = write_talosconfig(tmp_path / "tc", [ip])
    assert _run(lab, talos.bootstrap(ip, tc)).returncode == 0
    result = _run(lab, talos.health(ip, tc, control_planes=[ip], wait_timeout=5))
    assert result.returncode == 0
    assert "waiting for all k8s nodes to report ready: SKIP" in result.stderr
    assert "waiting for coredns to report ready: SKIP" in result.stderr


def test_apply_error_fault_fails_count_times_then_applies(lab_factory, tmp_path):
    lab = lab_factory(2, 0)
    target, other = lab.node_ips
    lab.inject(apply_error={target: 2})
    config = tmp_path / "cp.yaml"
    config.write_text(machine_config("controlplane", disk=node_disk(lab, target)))
    for _ in range(2):
        result = _run(lab, talos.apply_config(target, config))
        assert result.returncode == 1
        assert result.stderr.startswith("error applying new configuration: rpc error: code = Unavailable")
        assert state.load_node(lab.root, target)["stage"] == "maintenance"
    assert _run(lab, talos.apply_config(target, config)).returncode == 0
    other_config = tmp_path / "other.yaml"
    other_config.write_text(machine_config("controlplane", disk=node_disk(lab, other)))
    assert _run(lab, talos.apply_config(other, other_config)).returncode == 0


KILL_SCRIPT = """
import subprocess, sys
subprocess.run(sys.argv[1:])
print("parent survived", flush=True)
"""


def test_kill_during_apply_config_kills_the_caller_once_and_records_nothing(lab_factory, tmp_path):
    lab = lab_factory(1, 0)
    ip = lab.node_ips[0]
    lab.inject(kill_during="apply-config")
    config = tmp_path / "cp.yaml"
    config.write_text(machine_config("controlplane", disk=node_disk(lab, ip)))
    argv = [sys.executable, "-c", KILL_SCRIPT, *talos.apply_config(ip, config)]
    killed = subprocess.run(argv, env=lab.env(), capture_output=True, text=True, timeout=60)
    assert killed.returncode == -9 and "parent survived" not in killed.stdout
    assert state.load_node(lab.root, ip)["stage"] == "maintenance"
    again = subprocess.run(argv, env=lab.env(), capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and "parent survived" in again.stdout
    assert "Applied configuration without a reboot" in again.stderr
    assert state.load_node(lab.root, ip)["stage"] != "maintenance"


# ---------------------------------------------------------------- after install


def test_kubeconfig_points_at_the_mock_api_and_is_private(lab_factory, tmp_path):
    lab = lab_factory(1, 1)
    tc = apply_all(lab, tmp_path)
    cp = lab.control_plane_ips[0]
    path = tmp_path / "secrets" / "kubeconfig"
    path.parent.mkdir()
    result = _run(lab, talos.kubeconfig(path, cp, tc))
    assert result.returncode == 0, result.stderr
    assert path.stat().st_mode & 0o777 == 0o600
    data = yaml.safe_load(path.read_text())
    server = data["clusters"][0]["cluster"]["server"]
    api_url = state.load_lab(lab.root)["api_url"]
    assert server == (api_url or f"https://{lab.address(10)}:6443")
    assert "simulated-lab" in data["current-context"] and data["users"][0]["user"]["token"]
    refused = _run(
        lab, ["talosctl", "kubeconfig", str(path), "--talosconfig", str(tc), "-n", cp, "--merge=false"]
    )
    assert refused.returncode == 1 and "already exists, use --force" in refused.stderr
    worker = _run(lab, talos.kubeconfig(tmp_path / "k2", lab.worker_ips[0], tc))
    assert worker.returncode == 1 and not (tmp_path / "k2").exists()
    stdout = talosctl(lab, "kubeconfig", "-", "--talosconfig", tc, "-n", cp)
    assert stdout.returncode == 1 and "to a file only" in stdout.stderr


def test_talosconfig_endpoints_and_nodes_are_edited_in_place(lab_factory, tmp_path):
    lab = lab_factory(3, 0)
    tc = write_talosconfig(tmp_path / "talosconfig", [])
    assert _run(lab, talos.config_endpoint(tc, lab.control_plane_ips)).returncode == 0
    assert _run(lab, talos.config_node(tc, lab.control_plane_ips[:1])).returncode == 0
    context = yaml.safe_load(tc.read_text())["contexts"]["lab"]
    assert context["endpoints"] == lab.control_plane_ips and context["nodes"] == lab.control_plane_ips[:1]
    assert tc.stat().st_mode & 0o777 == 0o600


@pytest.mark.slow
def test_machinestatus_over_mtls_after_install(lab_factory, tmp_path):
    lab = lab_factory(3, 1)
    tc = apply_all(lab, tmp_path)
    cps = lab.control_plane_ips
    assert _run(lab, talos.bootstrap(cps[0], tc)).returncode == 0
    running = parse.json_stream(_run(lab, talos.get("machinestatus", cps[1], talosconfig=tc)).stdout)
    assert running[0]["spec"] == {"stage": "running", "status": {"ready": True, "unmetConditions": []}}
    wrong_ca = write_talosconfig(tmp_path / "other", cps, ca="b3RoZXItY2E=")
    assert "unknown authority" in _run(lab, talos.get("machinestatus", cps[0], talosconfig=wrong_ca)).stderr


# ---------------------------------------------------------------- state


def test_timeline_of_a_finished_install_for_the_kube_side(lab_factory):
    lab = lab_factory(1, 1, latency={"install": 1, "reboot": 1, "etcd": 1, "boot": 1})
    install_state(lab, at=1000.0)
    at = {
        t: {n["ip"]: n for n in state.load_nodes(lab.root, now=1000.0 + t)} for t in (1.5, 2.5, 3.5, 4.5, 6)
    }
    cp, worker = lab.node_ips
    assert at[1.5][cp]["stage"] == "rebooting" and not at[1.5][cp]["kubelet_registered"]
    assert (
        at[2.5][cp]["stage"] == "booting" and not at[2.5][cp]["etcd_running"]
    )  # bootstrapped at 1000 → up at 3
    assert at[3.5][cp]["etcd_running"] and not at[3.5][cp]["kubelet_registered"]
    assert (
        at[4.5][cp]["stage"] == "running" and at[4.5][cp]["node_ready"] and at[4.5][cp]["kubelet_registered"]
    )
    assert at[4.5][worker]["kubelet_registered"] and not at[4.5][worker]["node_ready"]
    assert at[6][worker]["stage"] == "running" and at[6][worker]["ready"]


def test_update_node_is_a_locked_read_modify_write(lab_factory):
    lab = lab_factory(1, 0)
    ip = lab.node_ips[0]
    code = (
        "import sys\nfrom skynet_lab import state\n"
        "for _ in range(40):\n"
        "    state.update_node(sys.argv[1], sys.argv[2], lambda n: n.update(hits=n.get('hits', 0) + 1))\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", code, str(lab.root), ip]) for _ in range(3)]
    for _ in range(40):
        state.update_node(lab.root, ip, lambda n: n.update(hits=n.get("hits", 0) + 1))
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0]
    assert state.load_stored_nodes(lab.root)[0]["hits"] == 160


def test_a_stopped_lab_reopens_with_its_subnet_and_machines(tmp_path):
    from tests.lab_helpers import make_lab

    with make_lab(tmp_path, 1, 1) as lab:
        subnet, ips = lab.subnet, lab.node_ips
        install_state(lab)
    with Lab(tmp_path / "lab", 3, 3) as again:  # sizes come from the state on disk
        assert again.subnet == subnet and again.node_ips == ips
        assert all(n["stage"] == "running" for n in again.nodes())


def test_unknown_fault_names_are_refused(lab_factory):
    lab = lab_factory(1, 0)
    with pytest.raises(LabError, match="unknown lab fault"):
        lab.inject(slow_disk=True)


def test_env_puts_the_fakes_first(lab_factory):
    lab = lab_factory(1, 0)
    env = lab.env()
    assert env["PATH"].split(os.pathsep)[0] == str(lab.bin_dir)
    assert env[state.ENV_DIR] == str(lab.root)
    assert (lab.bin_dir / "talosctl").stat().st_mode & 0o111


# ---------------------------------------------------------------- skynet demo


@pytest.mark.usefixtures("git")
def test_prepare_demo_writes_valid_answers_and_resumes_the_same_lab(tmp_path):
    from skynet_tui.demo import prepare_demo
    from tests.lab_helpers import FAST_LATENCY

    lab, cluster, ws = prepare_demo(tmp_path, "1+1", latency=FAST_LATENCY)
    try:
        assert ws.root == tmp_path / "lab" and lab.root == tmp_path / "simulated-lab"
        assert spec.load(ws.cluster_yaml) == cluster
        assert [n.ip for n in cluster.spec.nodes] == lab.node_ips
        subnet = lab.subnet
    finally:
        lab.stop()
    again, cluster_again, _ = prepare_demo(tmp_path, "1+1")
    try:
        assert again.subnet == subnet and cluster_again == cluster
    finally:
        again.stop()
    with pytest.raises(LabError, match="holds a lab of 1\\+1 nodes"):
        prepare_demo(tmp_path, "3+2")


@pytest.mark.parametrize("nodes", ["3", "0+2", "a+b", "3+-1", "11+0", "1+500"])
def test_demo_refuses_bad_node_counts(tmp_path, nodes, capsys):
    from skynet_tui.__main__ import main

    assert main(["demo", "--headless", "--workspace", str(tmp_path), "--nodes", nodes]) == 2
    assert "--nodes" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())
