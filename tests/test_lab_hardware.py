"""The lab's machines behave as Talos on real hardware does: maintenance TLS with a pinned fingerprint, a DHCP
lease until the install, no address at all behind a link config on a missing or unplugged link, and the Talos
version and extensions of the ISO they booted."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
import yaml

from skynet_lab import state, talos_tls
from skynet_lab.core import Lab, LabError
from skynet_tui.talos import certs, parse
from skynet_tui.talos import commands as talos
from tests.lab_helpers import (  # noqa: F401 - lab_factory_fixture provides the lab_factory fixture
    lab_factory_fixture,
    machine_config,
    node_disk,
    talosctl,
)

pytestmark = pytest.mark.lab


def _answers(lab: Lab, ip: str) -> bool:
    try:
        with socket.create_connection((ip, 50000), timeout=1):
            return True
    except OSError:
        return False


def _config(lab: Lab, tmp_path: Path, ip: str, link: str, *, alias_mac: str | None = None) -> Path:
    """A control-plane config for the machine planned at `ip` that puts `ip` on `link` (a LinkConfig; with
    `alias_mac`, `link` is an alias selected by that permanent MAC)."""
    docs = list(yaml.safe_load_all(machine_config("controlplane", hostname="cp-1", disk=node_disk(lab, ip))))
    if alias_mac:
        match = f'mac(link.permanent_addr) == "{alias_mac}"'
        docs.append(
            {"apiVersion": "v1alpha1", "kind": "LinkAliasConfig", "name": link, "selector": {"match": match}}
        )
    docs.append(
        {"apiVersion": "v1alpha1", "kind": "LinkConfig", "name": link, "addresses": [{"address": f"{ip}/24"}]}
    )
    path = tmp_path / f"{link}.yaml"
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return path


def _settled(lab: Lab, ip: str, listening: list[str], timeout: float = 10) -> dict:
    """The machine once it booted from disk and the lab's listeners answer at exactly `listening` of its
    planned address and lease (they follow the machines every SYNC_INTERVAL; `timeout` only bounds a hang)."""
    lease = state.load_node(lab.root, ip)["lease"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        node = state.load_node(lab.root, ip)
        booted = node["stage"] not in ("maintenance", "installing", "rebooting")
        if booted and [a for a in dict.fromkeys((ip, lease)) if _answers(lab, a)] == listening:
            return node
        time.sleep(0.05)
    raise AssertionError(
        f"{ip} never booted from disk to answer at {listening}: {state.load_node(lab.root, ip)}"
    )


def test_maintenance_api_speaks_tls_with_the_certificate_its_console_shows(lab_factory) -> None:
    lab = lab_factory(1, 1)
    for stored in state.load_stored_nodes(lab.root):
        presented = certs.maintenance_fingerprint(stored["ip"], timeout=5)
        assert presented == stored["fingerprint"] == talos_tls.presented_fingerprint(stored["ip"], 50000)
    first, second = (n["fingerprint"] for n in state.load_stored_nodes(lab.root))
    assert first != second  # every machine makes its own


def test_a_wrong_pinned_fingerprint_sends_nothing(lab_factory, tmp_path: Path) -> None:
    lab = lab_factory(1, 1)
    cp, worker = lab.node_ips
    config = tmp_path / "cp.yaml"
    config.write_text(machine_config("controlplane", hostname="cp-1", disk=node_disk(lab, cp)))
    wrong = state.load_node(lab.root, worker)["fingerprint"]  # another machine's
    result = talosctl(lab, *talos.apply_config(cp, config, cert_fingerprint=wrong)[1:])
    assert result.returncode == 1
    assert "leaf peer certificate doesn't match the provided fingerprints" in result.stderr
    assert state.load_node(lab.root, cp)["applied_at"] is None  # nothing was sent

    right = state.load_node(lab.root, cp)["fingerprint"]
    result = talosctl(lab, *talos.apply_config(cp, config, cert_fingerprint=right)[1:])
    assert result.returncode == 0, result.stderr
    assert state.load_node(lab.root, cp)["applied_at"] is not None


def test_a_leased_machine_answers_at_its_lease_until_its_install_then_at_its_ip(
    lab_factory, tmp_path
) -> None:
    lab = lab_factory(1, 1, leases=1)
    cp = lab.control_plane_ips[0]
    lease = state.load_node(lab.root, cp)["lease"]
    assert lease != cp and lab.cluster_data()["spec"]["nodes"][0]["maintenanceAddress"] == lease
    assert _answers(lab, lease) and not _answers(lab, cp)
    disks = talosctl(lab, *talos.get("disks", lease, insecure=True)[1:])
    assert disks.returncode == 0 and parse.json_stream(disks.stdout)
    assert "connection refused" in talosctl(lab, *talos.get("disks", cp, insecure=True)[1:]).stderr

    link = state.load_node(lab.root, cp)["hardware"]["links"][1]["id"]  # the up link
    result = talosctl(lab, *talos.apply_config(lease, _config(lab, tmp_path, cp, link))[1:])
    assert result.returncode == 0, result.stderr
    node = _settled(lab, cp, listening=[cp])  # and no longer at the lease
    assert node["address"] == cp and node["missing_link"] is None

    # Through an upgrade's reboot it stays at its configured address: the lease was the ISO's, before the install.
    lab.inject(latency={"reboot": 60})
    at = time.time() + 120  # an upgrade well after its first boot
    upgrade = {"at": at, "from": "v1.13.9", "to": "v1.13.9", "outcome": "ok"}
    state.update_node(lab.root, cp, lambda stored: stored.update(upgrade=upgrade))
    restart = at + state.latency(state.load_lab(lab.root), "upgrade", state.UPGRADE_LATENCY)
    rebooting = state.load_node(lab.root, cp, now=restart)
    assert rebooting is not None and rebooting["stage"] == "rebooting" and rebooting["address"] == cp


@pytest.mark.parametrize("which", ["missing", "unplugged", "missing-mac"])
def test_a_config_on_a_link_the_machine_cannot_use_leaves_it_without_any_address(
    lab_factory, tmp_path: Path, which: str
) -> None:
    lab = lab_factory(1, 0, leases=1)
    cp = lab.control_plane_ips[0]
    stored = state.load_node(lab.root, cp)
    lease = stored["lease"]
    down = next(x for x in stored["hardware"]["links"] if x["type"] == "ether" and not x["linkState"])
    config = {
        "missing": lambda: _config(lab, tmp_path, cp, "eno1"),
        "unplugged": lambda: _config(lab, tmp_path, cp, down["id"]),
        "missing-mac": lambda: _config(lab, tmp_path, cp, "net0", alias_mac="02:00:00:00:00:01"),
    }[which]()
    assert talosctl(lab, *talos.apply_config(lease, config)[1:]).returncode == 0
    node = _settled(lab, cp, listening=[])  # DHCP is off on every link: no lease either
    assert node["address"] is None and not node["reachable"]
    assert node["missing_link"] == {"missing": "eno1", "unplugged": down["id"], "missing-mac": "net0"}[which]
    refused = talosctl(lab, *talos.get("machinestatus", cp, insecure=True)[1:])
    assert "connection refused" in refused.stderr


def test_booting_another_iso_changes_version_extensions_and_certificate(lab_factory) -> None:
    lab = lab_factory(1, 1)
    cp, worker = lab.node_ips
    before = state.load_node(lab.root, cp)["fingerprint"]
    extensions = [{"name": "iscsi-tools", "version": "v0.2.0"}]
    after = lab.boot_iso(cp, talos_version="v1.12.11", schematic="b" * 64, extensions=extensions)
    assert after != before and certs.maintenance_fingerprint(cp, timeout=5) == after

    version = talosctl(lab, *talos.version_insecure(cp)[1:])
    assert version.returncode == 0 and parse.server_versions(version.stdout) == {cp: "v1.12.11"}
    listed = parse.json_stream(talosctl(lab, *talos.get("extensions", cp, insecure=True)[1:]).stdout)
    metadata = [item["spec"]["metadata"] for item in listed]
    assert [(m["name"], m["version"]) for m in metadata] == [
        ("iscsi-tools", "v0.2.0"),
        ("schematic", "b" * 64),
    ]
    assert parse.server_versions(talosctl(lab, *talos.version_insecure(worker)[1:]).stdout) == {
        worker: "v1.13.9"
    }

    state.update_node(lab.root, worker, lambda n: n.update(applied_at=time.time()))
    with pytest.raises(LabError, match="only a machine in maintenance mode boots from an ISO"):
        lab.boot_iso(worker, talos_version="v1.13.8")
