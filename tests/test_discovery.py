"""Discovery: the bounded :50000 sweep, hardware read through talosctl (the lab's), and disk flags."""

from __future__ import annotations

import asyncio
import os
import random
import socket
import stat
import threading

import pytest

from skynet_tui import discovery
from skynet_tui.discovery import DiscoveryError, Disk, flag_disk
from tests.lab_helpers import make_lab

GIB = 1024**3


def _listeners(count: int) -> tuple[str, int, list[str], list[socket.socket]]:
    """`count` listening sockets on one port at different addresses of a random 127.x.y.0/28."""
    for _ in range(20):
        prefix = f"127.{random.randint(100, 250)}.{random.randint(1, 250)}"
        addresses = [f"{prefix}.{host}" for host in random.sample(range(1, 15), count)]
        sockets: list[socket.socket] = []
        try:
            port = 0
            for address in addresses:
                sock = socket.socket()
                sock.bind((address, port))
                sock.listen()
                port = sock.getsockname()[1]
                sockets.append(sock)
            return f"{prefix}.0/28", port, sorted(addresses, key=lambda a: int(a.rsplit(".", 1)[1])), sockets
        except OSError:
            for sock in sockets:
                sock.close()
    raise RuntimeError("no free port on a 127.x.y.0/28")


def test_scan_targets_refuse_ranges_larger_than_a_22():
    with pytest.raises(DiscoveryError, match="at most a /22"):
        discovery.scan_targets("10.0.0.0/21")
    assert len(discovery.scan_targets("10.0.0.0/22")) == 1022
    assert discovery.scan_targets("10.0.0.8/30") == ["10.0.0.9", "10.0.0.10"]
    assert discovery.scan_targets("10.0.0.7/32") == ["10.0.0.7"]
    with pytest.raises(DiscoveryError, match="not an IPv4 range"):
        discovery.scan_targets("10.0.0/24")


def test_scan_finds_every_listener_and_reports_progress():
    cidr, port, addresses, sockets = _listeners(3)
    progress: list[tuple[int, int]] = []
    try:
        found = discovery.scan(cidr, port=port, timeout=1.0, on_progress=lambda d, t: progress.append((d, t)))
    finally:
        for sock in sockets:
            sock.close()
    assert found == addresses
    assert progress[-1] == (14, 14)
    assert [done for done, _ in progress] == list(range(1, 15))


def test_scan_bounds_concurrency_and_gives_each_host_its_timeout(monkeypatch):
    in_flight = 0
    peak = 0
    timed_out: list[str] = []

    async def hang(host: str, port: int):
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            timed_out.append(host)  # the scan's per-host timeout ended the attempt, not the 30 s sleep
            raise
        finally:
            in_flight -= 1

    monkeypatch.setattr(asyncio, "open_connection", hang)
    assert discovery.scan("10.9.8.0/27", concurrency=5, timeout=0.05) == []
    assert peak == 5
    assert sorted(timed_out) == sorted(
        discovery.scan_targets("10.9.8.0/27")
    )  # bench/discovery_scan.py times it


def test_scan_stops_when_asked():
    stop = threading.Event()
    stop.set()
    assert discovery.scan("10.9.8.0/24", stop=stop, timeout=5) == []


def test_flags_name_the_boot_medium_data_and_small_disks():
    clean = Disk("sda", "/dev/sda", size=500 * GIB)
    assert flag_disk(clean) == []
    assert flag_disk(Disk("sr0", "/dev/sr0", size=GIB, cdrom=True, readonly=True)) == [
        "boot medium: a CD-ROM",
        "read-only",
    ]
    assert flag_disk(Disk("sdc", "/dev/sdc", size=GIB * 16, boot_image=True)) == [
        "boot medium: it carries the Talos ISO"
    ]
    usb = flag_disk(Disk("sdd", "/dev/sdd", size=64 * GIB, transport="usb"))
    assert usb == ["boot medium?: a USB device"]
    data = flag_disk(Disk("sdb", "/dev/sdb", size=2000 * GIB, volumes=("sdb1 xfs 'data'",)))
    assert data == ["holds data: sdb1 xfs 'data'"]
    unknown = flag_disk(Disk("sdb", "/dev/sdb", size=2000 * GIB, volumes_known=False))
    assert unknown == ["may hold data: its partitions could not be read"]
    small = flag_disk(Disk("vda", "/dev/vda", size=8 * GIB, pretty_size="8.6 GB"))
    assert small == ["too small: 8.6 GB (Talos needs at least 10 GiB)"]
    assert discovery.disk_blocked(Disk("sr0", "/dev/sr0", cdrom=True)) is not None
    assert discovery.disk_blocked(clean) is None


def test_disks_from_maps_partitions_and_filesystems_to_their_disk():
    disks = [
        {"metadata": {"id": "sda"}, "spec": {"dev_path": "/dev/sda", "size": 100 * GIB, "serial": "A1"}},
        {"metadata": {"id": "sdb"}, "spec": {"dev_path": "/dev/sdb", "size": 100 * GIB, "wwid": "naa.5"}},
        {"metadata": {"id": "loop0"}, "spec": {"dev_path": "/dev/loop0", "size": GIB}},
    ]
    volumes = [
        {"metadata": {"id": "sdb"}, "spec": {"type": "disk", "name": "gpt"}},
        {
            "metadata": {"id": "sdb1"},
            "spec": {"type": "partition", "parent": "sdb", "name": "ext4", "label": "x"},
        },
        {"metadata": {"id": "sda"}, "spec": {"type": "disk", "name": ""}},
    ]
    sda, sdb = discovery.disks_from(disks, volumes)
    assert sda.volumes == () and sda.volumes_known
    assert sdb.volumes == ("gpt partition table", "sdb1 ext4 'x'")
    assert sda.selector("serial") == "serial:A1" and sda.selector("wwid") == "/dev/sda"
    assert sdb.matches("wwid:naa.5") and sdb.matches("/dev/sdb") and not sdb.matches("serial:A1")
    (unknown,) = discovery.disks_from(disks[:1], None)
    assert not unknown.volumes_known


@pytest.mark.lab
def test_read_hardware_from_the_lab(tmp_path):
    with make_lab(tmp_path, 1, 1) as lab:
        ip = lab.node_ips[0]
        hardware = discovery.read_hardware(ip, lab.env())
    assert hardware.warnings == []
    by_id = {disk.id: disk for disk in hardware.disks}
    assert by_id, "the lab node reported no disks"
    flagged = {disk.id: flag_disk(disk) for disk in hardware.disks}
    suggested = hardware.suggested_disk()
    assert suggested is not None and flagged[suggested.id] == []
    # Every lab machine boots from a virtual CD-ROM and has a data disk next to its system disk.
    assert any(reasons and reasons[0].startswith("boot medium") for reasons in flagged.values())
    assert any(any(r.startswith("holds data") for r in reasons) for reasons in flagged.values())
    link = hardware.suggested_link()
    assert link is not None and link.up and link.physical and link.mac


def test_read_hardware_keeps_partial_data_when_volumes_cannot_be_read(tmp_path):
    # A talosctl that answers disks and links but fails on discoveredvolumes: the disks are still listed,
    # flagged as possibly holding data, and the failure is reported.
    disks_json = '{"metadata": {"id": "sda"}, "spec": {"dev_path": "/dev/sda", "size": 107374182400}}\n'
    links_json = '{"metadata": {"id": "eth0"}, "spec": {"type": "ether", "operationalState": "up"}}\n'
    script = tmp_path / "talosctl"
    script.write_text(
        "#!/bin/sh\n"
        f"case \"$2\" in\n  disks) printf '%s' '{disks_json}';;\n  links) printf '%s' '{links_json}';;\n"
        "  *) echo 'rpc error: code = PermissionDenied' >&2; exit 1;;\nesac\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}
    hardware = discovery.read_hardware("127.0.0.1", env)
    assert [disk.id for disk in hardware.disks] == ["sda"]
    assert flag_disk(hardware.disks[0]) == ["may hold data: its partitions could not be read"]
    assert "discoveredvolumes: rpc error: code = PermissionDenied" in hardware.warnings
    assert hardware.suggested_disk() is None


def test_read_hardware_reports_a_missing_talosctl(tmp_path):
    hardware = discovery.read_hardware("127.0.0.1", {"PATH": str(tmp_path)})
    assert hardware.disks == [] and any("talosctl is not on PATH" in w for w in hardware.warnings)
