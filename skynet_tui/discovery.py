"""Finding machines in Talos maintenance mode: a bounded TCP sweep for :50000, then their disks and links."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from skynet_tui import launcher
from skynet_tui.talos import certs, commands, parse

TALOS_API_PORT = 50000
MAX_PREFIX = 22  # at most a /22 (1024 addresses) per scan
# Talos's minimum system disk (docs, "System Requirements", v1.13: 10 GiB for either role; its EPHEMERAL
# partition holds images and container data). The wizard refuses a smaller disk and so does the preflight.
MIN_DISK_BYTES = 10 * 1024**3
MIN_DISK_TEXT = "10 GiB"
HARDWARE_TIMEOUT = 30.0

ProgressCallback = Callable[[int, int], None]  # (addresses probed, addresses in total)


class DiscoveryError(ValueError):
    """The scan cannot run as asked (a bad or too large range); the message says how to fix it."""


# ---------------------------------------------------------------- the sweep


def scan_targets(cidr: str) -> list[str]:
    """The addresses a scan of `cidr` probes; refuses ranges larger than a /22."""
    try:
        network = ipaddress.IPv4Network(cidr.strip(), strict=False)
    except ValueError:
        raise DiscoveryError(f"{cidr!r} is not an IPv4 range (e.g. 192.168.10.0/24)") from None
    if network.prefixlen < MAX_PREFIX:
        raise DiscoveryError(
            f"{network} has {network.num_addresses} addresses; scan at most a /{MAX_PREFIX} "
            f"({2 ** (32 - MAX_PREFIX)} addresses) at a time"
        )
    hosts = list(network.hosts()) if network.prefixlen < 31 else list(network)
    return [str(address) for address in hosts]


def scan(
    cidr: str,
    *,
    port: int = TALOS_API_PORT,
    concurrency: int = 64,
    timeout: float = 0.5,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> list[str]:
    """Addresses in `cidr` that accept TCP on `port`, sorted. At most `concurrency` connections are open
    at once and each gets `timeout` seconds. Setting `stop` ends the sweep early with what was found."""
    targets = scan_targets(cidr)
    return asyncio.run(_sweep(targets, port, max(1, concurrency), timeout, on_progress, stop))


async def _sweep(
    targets: list[str],
    port: int,
    concurrency: int,
    timeout: float,
    on_progress: ProgressCallback | None,
    stop: threading.Event | None,
) -> list[str]:
    found: list[str] = []
    done = 0
    queue: asyncio.Queue[str] = asyncio.Queue()
    for target in targets:
        queue.put_nowait(target)

    async def probe_all() -> None:
        nonlocal done
        while not queue.empty():
            if stop is not None and stop.is_set():
                return
            address = queue.get_nowait()
            if await _open(address, port, timeout):
                found.append(address)
            done += 1
            if on_progress is not None:
                on_progress(done, len(targets))

    await asyncio.gather(*(probe_all() for _ in range(min(concurrency, len(targets)) or 1)))
    return sorted(found, key=ipaddress.IPv4Address)


async def _open(address: str, port: int, timeout: float) -> bool:
    try:
        _reader, writer = await asyncio.wait_for(asyncio.open_connection(address, port), timeout)
    except (TimeoutError, OSError):
        return False
    writer.close()
    with contextlib.suppress(TimeoutError, OSError):
        await asyncio.wait_for(writer.wait_closed(), timeout)
    return True


# ---------------------------------------------------------------- hardware


@dataclass(frozen=True)
class Disk:
    """A block device as `talosctl get disks` reports it, plus what lives on it (from discoveredvolumes)."""

    id: str
    dev_path: str
    size: int = 0
    pretty_size: str = ""
    model: str = ""
    serial: str = ""
    wwid: str = ""
    transport: str = ""
    bus_path: str = ""
    readonly: bool = False
    cdrom: bool = False
    rotational: bool = False
    volumes: tuple[str, ...] = ()  # e.g. ("sda1 vfat EFI", "sda2 ext4 data")
    boot_image: bool = False  # carries the Talos ISO (iso9660)
    volumes_known: bool = True  # False when the node's volumes could not be read

    @property
    def size_text(self) -> str:
        return self.pretty_size or _human(self.size)

    def selector(self, pin: str) -> str:
        """The installDisk text for this disk pinned by `serial`, `wwid` or `path`."""
        if pin == "serial" and self.serial:
            return f"serial:{self.serial}"
        if pin == "wwid" and self.wwid:
            return f"wwid:{self.wwid}"
        return self.dev_path

    def matches(self, disk_text: str) -> bool:
        """True when an installDisk text (`/dev/sda`, `serial:…`, `wwid:…`) names this disk."""
        kind, _, value = disk_text.partition(":")
        if kind == "serial" and value:
            return value == self.serial
        if kind == "wwid" and value:
            return value == self.wwid
        return disk_text in (self.dev_path, self.id)


@dataclass(frozen=True)
class Link:
    """A network link as `talosctl get links` reports it (LinkStatus spec, camelCase yaml tags of
    siderolabs/talos v1.13.9 `pkg/machinery/resources/network/link_status.go`).

    `mac` is the permanent (burned-in) address, `permanentAddr`: Skynet's MAC selector matches it, since a
    bond or a driver may rewrite the current one (`current_mac`, `hardwareAddr`) but never the permanent one.
    """

    name: str
    mac: str = ""
    current_mac: str = ""
    kind: str = ""
    type: str = ""
    oper_state: str = ""
    link_state: bool = False
    speed_mbit: int = 0
    driver: str = ""
    bus_path: str = ""
    alias: str = ""
    alt_names: tuple[str, ...] = ()

    @property
    def physical(self) -> bool:
        return self.type == "ether" and not self.kind and bool(self.bus_path or self.driver)

    @property
    def up(self) -> bool:
        return self.oper_state == "up"

    @property
    def carrier(self) -> bool:
        """A cable is in and the other end answers (ethtool link detected, or operational state up)."""
        return self.link_state or self.up

    @property
    def names(self) -> tuple[str, ...]:
        """Every name a link config may use for it: its alias and alternative names."""
        return tuple(n for n in (self.alias, *self.alt_names) if n)


@dataclass
class Hardware:
    """What one maintenance-mode node reported; `warnings` lists what could not be read."""

    ip: str
    disks: list[Disk] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    fingerprint: str = ""  # the maintenance API's certificate fingerprint (see talos/certs.py)

    @property
    def install_candidates(self) -> list[Disk]:
        return [d for d in self.disks if not d.cdrom and not d.readonly and not d.id.startswith("loop")]

    def suggested_disk(self) -> Disk | None:
        """The first disk with no flag, else None (the operator must choose)."""
        for disk in self.install_candidates:
            if not flag_disk(disk):
                return disk
        return None

    def suggested_link(self) -> Link | None:
        """The physical link that is up (the one Talos configured by DHCP), else the first physical one."""
        physical = [link for link in self.links if link.physical]
        return next((link for link in physical if link.up), physical[0] if physical else None)


def flag_disk(disk: Disk) -> list[str]:
    """Why installing onto this disk needs a second look; empty when it is a plain, empty, large disk."""
    if disk.cdrom or disk.boot_image:
        # The boot medium: what else is true of it does not matter.
        what = "a CD-ROM" if disk.cdrom else "it carries the Talos ISO"
        return [f"boot medium: {what}", *(["read-only"] if disk.readonly else [])]
    reasons: list[str] = []
    if disk.transport == "usb":
        reasons.append("boot medium?: a USB device")
    if disk.readonly:
        reasons.append("read-only")
    if disk.volumes:
        reasons.append(f"holds data: {', '.join(disk.volumes)}")
    elif not disk.volumes_known:
        reasons.append("may hold data: its partitions could not be read")
    if too_small(disk):
        reasons.append(f"too small: {disk.size_text} (Talos needs at least {MIN_DISK_TEXT})")
    return reasons


def too_small(disk: Disk) -> bool:
    """Below Talos's minimum system disk (a disk whose size is unknown is not judged)."""
    return 0 < disk.size < MIN_DISK_BYTES


def disk_blocked(disk: Disk) -> str | None:
    """A reason the disk cannot be chosen at all (read-only, a CD-ROM, below Talos's minimum), else None."""
    if disk.cdrom:
        return "a CD-ROM cannot be an install disk"
    if disk.readonly:
        return "a read-only disk cannot be an install disk"
    if too_small(disk):
        return f"{disk.dev_path} is {disk.size_text}: Talos needs an install disk of at least {MIN_DISK_TEXT}"
    return None


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if value < 1000 or unit == "PB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"


def disks_from(resources: list[dict[str, Any]], volumes: list[dict[str, Any]] | None) -> list[Disk]:
    """Disk models from `get disks` resources and (when readable) `get discoveredvolumes` resources."""
    on_disk: dict[str, list[str]] = {}
    iso: set[str] = set()
    for volume in volumes or []:
        vid = str(volume.get("metadata", {}).get("id", ""))
        vspec = volume.get("spec", {}) or {}
        kind = vspec.get("type", "")
        parent = vspec.get("parent") or (vid if kind == "disk" else "")
        fs = vspec.get("name", "") or ""
        label = vspec.get("label") or vspec.get("partition_label") or ""
        if fs == "iso9660":
            iso.add(parent or vid)
        if kind == "partition" and parent:
            on_disk.setdefault(parent, []).append(" ".join(p for p in (vid, fs, label and f"'{label}'") if p))
        elif kind == "disk" and fs:
            what = f"{fs} partition table" if fs in ("gpt", "dos") else fs
            on_disk.setdefault(vid, []).append(" ".join(p for p in (what, label and f"'{label}'") if p))
    disks = []
    for resource in resources:
        did = str(resource.get("metadata", {}).get("id", ""))
        dspec = resource.get("spec", {}) or {}
        disks.append(
            Disk(
                id=did,
                dev_path=str(dspec.get("dev_path") or f"/dev/{did}"),
                size=int(dspec.get("size") or 0),
                pretty_size=str(dspec.get("pretty_size") or ""),
                model=str(dspec.get("model") or ""),
                serial=str(dspec.get("serial") or ""),
                wwid=str(dspec.get("wwid") or ""),
                transport=str(dspec.get("transport") or ""),
                bus_path=str(dspec.get("bus_path") or ""),
                readonly=bool(dspec.get("readonly")),
                cdrom=bool(dspec.get("cdrom")),
                rotational=bool(dspec.get("rotational")),
                volumes=tuple(on_disk.get(did, ())),
                boot_image=did in iso,
                volumes_known=volumes is not None,
            )
        )
    return [d for d in disks if not d.id.startswith("loop")]


_NO_MAC = ("", "00:00:00:00:00:00")


def links_from(resources: list[dict[str, Any]]) -> list[Link]:
    links = []
    for resource in resources:
        lspec = resource.get("spec", {}) or {}
        permanent = str(lspec.get("permanentAddr") or "").lower()
        links.append(
            Link(
                name=str(resource.get("metadata", {}).get("id", "")),
                mac="" if permanent in _NO_MAC else permanent,
                current_mac=str(lspec.get("hardwareAddr") or "").lower(),
                kind=str(lspec.get("kind") or ""),
                type=str(lspec.get("type") or ""),
                oper_state=str(lspec.get("operationalState") or ""),
                link_state=bool(lspec.get("linkState")),
                speed_mbit=int(lspec.get("speedMbit") or 0),
                driver=str(lspec.get("driver") or ""),
                bus_path=str(lspec.get("busPath") or ""),
                alias=str(lspec.get("alias") or ""),
                alt_names=tuple(str(n) for n in lspec.get("altNames") or ()),
            )
        )
    return links


def read_hardware(
    ip: str, env: Mapping[str, str] | None = None, *, timeout: float = HARDWARE_TIMEOUT
) -> Hardware:
    """Disks and links of a maintenance-mode node, read with `talosctl get … --insecure -o json`.

    Partial data is kept: what could not be read is listed in `warnings` (a disk whose partitions are
    unknown is flagged as possibly holding data). The certificate fingerprint is read with Python's ssl."""
    hardware = Hardware(ip)
    try:
        hardware.fingerprint = certs.maintenance_fingerprint(ip, timeout=min(timeout, 5.0))
    except (OSError, certs.CertificateError) as exc:
        hardware.warnings.append(f"certificate: {exc}")
    results: dict[str, list[dict[str, Any]] | None] = {}
    for resource in ("disks", "links", "discoveredvolumes"):
        argv = commands.get(resource, ip, insecure=True)
        try:
            result = launcher.run(argv, env=dict(env) if env is not None else None, timeout=timeout)
        except launcher.ToolNotFound as exc:
            hardware.warnings.append(str(exc))
            return hardware
        if not result.ok:
            reason = "timed out" if result.timed_out else (result.tail(1) or f"exit {result.returncode}")
            hardware.warnings.append(f"{resource}: {reason}")
            results[resource] = None
            continue
        try:
            results[resource] = parse.json_stream(result.stdout)
        except ValueError as exc:
            hardware.warnings.append(f"{resource}: {exc}")
            results[resource] = None
    hardware.disks = disks_from(results.get("disks") or [], results.get("discoveredvolumes"))
    hardware.links = links_from(results.get("links") or [])
    return hardware
