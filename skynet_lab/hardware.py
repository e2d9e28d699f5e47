"""Simulated hardware of lab machines: disks, volumes and network links, deterministic per node."""

from __future__ import annotations

import hashlib
import math
from typing import Any

GB = 1000**3

# Install-disk candidates smaller than this are flagged by the wizard; some lab machines have one.
SMALL_DISK = 10 * 1024**3


def pretty_size(size: int) -> str:
    """go-humanize's Bytes (SI units), as Talos prints `pretty_size`: 512 GB, 7.8 GB, 2.0 TB."""
    if size < 10:
        return f"{size} B"
    units = ["B", "kB", "MB", "GB", "TB", "PB", "EB"]
    exp = int(math.floor(math.log(size) / math.log(1000)))
    value = math.floor(size / 1000**exp * 10 + 0.5) / 10
    return f"{value:.1f} {units[exp]}" if value < 10 else f"{value:.0f} {units[exp]}"


def _digits(seed: str, count: int) -> str:
    return str(int(hashlib.sha256(seed.encode()).hexdigest(), 16))[:count]


def _hex(seed: str, count: int) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:count]


def _disk(dev: str, size: int, **spec: Any) -> dict[str, Any]:
    disk = {
        "dev_path": f"/dev/{dev}",
        "size": size,
        "pretty_size": pretty_size(size),
        "io_size": spec.pop("io_size", 512),
        "sector_size": 512,
        "readonly": spec.pop("readonly", False),
        "cdrom": spec.pop("cdrom", False),
    }
    disk.update({k: v for k, v in spec.items() if v})
    disk.setdefault("sub_system", "/sys/class/block")
    return disk


def _sata_ssd(dev: str, seed: str, size: int, model: str, port: int) -> dict[str, Any]:
    serial = f"S4EWNX0R{_digits(seed + dev, 6)}"
    return _disk(
        dev,
        size,
        model=model,
        serial=serial,
        modalias="scsi:t-0x00",
        wwid=f"naa.5002538e{_hex(seed + dev, 8)}",
        bus_path=f"/pci0000:00/0000:00:17.0/ata{port}/host{port - 1}/target{port - 1}:0:0/{port - 1}:0:0:0",
        transport="sata",
        symlinks=[
            f"/dev/disk/by-id/ata-{model.replace(' ', '_')}_{serial}",
            f"/dev/disk/by-path/pci-0000:00:17.0-ata-{port}",
        ],
    )


def _virtual_cdrom() -> dict[str, Any]:
    """The virtual CD-ROM drive (sr0) the Talos ISO is attached to."""
    return _disk(
        "sr0",
        116_391_936,
        readonly=True,
        cdrom=True,
        model="Virtual CDROM0",
        serial="AAAABBBBCCCC1",
        modalias="scsi:t-0x05",
        bus_path="/pci0000:00/0000:00:14.0/usb1/1-3/1-3:1.0/host4/target4:0:0/4:0:0:0",
        transport="usb",
    )


def _profile(index: int, seed: str) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """(disks, partitions per disk id) for one machine; three profiles cycle over the lab's nodes."""
    iso_label = "TALOS_V1_13_9"
    if index % 3 == 0:
        hdd_serial = f"WD-WCC4M{_digits(seed + 'hdd', 7)}"
        disks = [
            _sata_ssd("sda", seed, 500_107_862_016, "Samsung SSD 870 EVO 500GB", 1),
            _disk(
                "sdb",
                2_000_398_934_016,
                io_size=4096,
                model="WDC WD20EFRX-68EUZN0",
                serial=hdd_serial,
                modalias="scsi:t-0x00",
                wwid=f"naa.50014ee2{_hex(seed + 'hdd', 8)}",
                bus_path="/pci0000:00/0000:00:17.0/ata2/host1/target1:0:0/1:0:0:0",
                transport="sata",
                rotational=True,
                symlinks=[f"/dev/disk/by-id/ata-WDC_WD20EFRX-68EUZN0_{hdd_serial}"],
            ),
            _virtual_cdrom(),
        ]
        parts = {
            "sdb": [("sdb1", 2_000_397_868_544, "xfs", "data", "data")],
            "sr0": [],
        }
        labels = {"sr0": ("iso9660", iso_label)}
    elif index % 3 == 1:
        nvme_serial = f"S5GXNX0T{_digits(seed + 'nvme', 6)}"
        disks = [
            _disk(
                "nvme0n1",
                512_110_190_592,
                model="Samsung SSD 980 PRO 512GB",
                serial=nvme_serial,
                modalias="nvme:v144Dd0000A80Asv144Dsd0000A801",
                wwid=f"eui.002538b1{_hex(seed + 'nvme', 8)}",
                bus_path="/pci0000:00/0000:00:1d.0/0000:03:00.0/nvme/nvme0",
                transport="nvme",
                symlinks=[f"/dev/disk/by-id/nvme-Samsung_SSD_980_PRO_512GB_{nvme_serial}"],
            ),
            _disk(
                "mmcblk0",
                7_818_182_656,
                model="DG4008",
                serial=f"0x{_hex(seed + 'emmc', 8)}",
                bus_path="/platform/80860F14:00/mmc_host/mmc0/mmc0:0001",
                transport="mmc",
            ),
            _disk(
                "sda",
                15_376_000_000,
                readonly=True,
                model="Ultra Fit",
                serial=f"4C53000{_digits(seed + 'usb', 9)}",
                modalias="scsi:t-0x00",
                bus_path="/pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/host5/target5:0:0/5:0:0:0",
                transport="usb",
            ),
        ]
        parts = {"sda": [("sda1", 116_391_936, "iso9660", iso_label, "")]}
        labels = {}
    else:
        disks = [
            _sata_ssd("sda", seed, 256_060_514_304, "Crucial CT256MX500SSD1", 1),
            _virtual_cdrom(),
        ]
        parts = {}
        labels = {"sr0": ("iso9660", iso_label)}
    volumes: dict[str, list[dict[str, Any]]] = {}
    for disk in disks:
        dev = disk["dev_path"].removeprefix("/dev/")
        name, label = labels.get(dev, ("gpt", "") if parts.get(dev) else ("", ""))
        entries = [_volume(dev, disk["size"], "disk", name, label)]
        for number, (part, size, fs, fs_label, part_label) in enumerate(parts.get(dev, []), 1):
            entries.append(
                _volume(
                    part, size, "partition", fs, fs_label, parent=dev, index=number, part_label=part_label
                )
            )
        volumes[dev] = entries
    return disks, volumes


def _volume(
    dev: str,
    size: int,
    kind: str,
    name: str,
    label: str = "",
    *,
    parent: str = "",
    index: int = 0,
    part_label: str = "",
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "devPath": f"/dev/{dev}",
        "type": kind,
        "devicePath": f"/sys/block/{parent or dev}",
    }
    if parent:
        spec.update(parent=parent, parentDevPath=f"/dev/{parent}")
    spec.update(size=size, sectorSize=512, ioSize=512, name=name)
    if label:
        spec["label"] = label
    if index:
        spec.update(partitionIndex=index, partitionType="0fc63daf-8483-4772-8e79-3d69d8477de4")
        if part_label:
            spec["partitionLabel"] = part_label
    return spec


def installed_volumes(disk: dict[str, Any]) -> list[dict[str, Any]]:
    """The partitions Talos writes on its install disk (EFI, BIOS, BOOT, META, STATE, EPHEMERAL)."""
    dev = disk["dev_path"].removeprefix("/dev/")
    sep = "p" if dev[-1].isdigit() else ""
    layout = [
        ("EFI", 104_857_600, "vfat", "EFI"),
        ("BIOS", 1_048_576, "", ""),
        ("BOOT", 1_048_576_000, "xfs", "BOOT"),
        ("META", 1_048_576, "talosmeta", ""),
        ("STATE", 104_857_600, "xfs", "STATE"),
    ]
    used = sum(size for _, size, _, _ in layout)
    layout.append(("EPHEMERAL", disk["size"] - used - 2_097_152, "xfs", "EPHEMERAL"))
    entries = [_volume(dev, disk["size"], "disk", "gpt")]
    for number, (part_label, size, fs, fs_label) in enumerate(layout, 1):
        entries.append(
            _volume(
                f"{dev}{sep}{number}",
                size,
                "partition",
                fs,
                fs_label,
                parent=dev,
                index=number,
                part_label=part_label,
            )
        )
    return entries


def _links(index: int, prefix_octet: int, host_octet: int) -> list[dict[str, Any]]:
    names = ("eth0", "eth1") if index % 2 == 0 else ("enp3s0", "enp4s0")
    drivers = ("e1000e", "e1000e") if index % 2 == 0 else ("igb", "igb")
    links = [
        {
            "id": "lo",
            "index": 1,
            "type": "loopback",
            "linkIndex": 0,
            "flags": "UP,LOOPBACK,RUNNING,LOWER_UP",
            "hardwareAddr": "00:00:00:00:00:00",
            "permanentAddr": "00:00:00:00:00:00",
            "broadcastAddr": "00:00:00:00:00:00",
            "mtu": 65536,
            "queueDisc": "noqueue",
            "operationalState": "unknown",
            "kind": "",
            "slaveKind": "",
            "linkState": False,
            "port": "Other",
            "duplex": "Unknown",
        }
    ]
    for nic, (name, driver) in enumerate(zip(names, drivers, strict=True)):
        mac = f"ac:1f:6b:{prefix_octet:02x}:{host_octet:02x}:{nic + 1:02x}"
        up = nic == 0
        links.append(
            {
                "id": name,
                "index": nic + 2,
                "type": "ether",
                "linkIndex": 0,
                "flags": "UP,BROADCAST,RUNNING,MULTICAST,LOWER_UP" if up else "BROADCAST,MULTICAST",
                "hardwareAddr": mac,
                "permanentAddr": mac,
                "broadcastAddr": "ff:ff:ff:ff:ff:ff",
                "mtu": 1500,
                "queueDisc": "fq_codel" if up else "noop",
                "operationalState": "up" if up else "down",
                "kind": "",
                "slaveKind": "",
                "busPath": f"0000:0{nic + 3}:00.0",
                "pciID": "8086:1533" if driver == "igb" else "8086:15BC",
                "driver": driver,
                "driverVersion": "6.18.24-talos",
                "vendor": "Intel Corporation",
                "product": "I210 Gigabit Network Connection"
                if driver == "igb"
                else "Ethernet Connection (7) I219-V",
                "linkState": up,
                **({"speedMbit": 1000} if up else {}),
                "port": "TwistedPair",
                "duplex": "Full" if up else "Unknown",
            }
        )
    return links


def machine_hardware(index: int, ip: str) -> dict[str, Any]:
    """Disks (2–3, incl. a read-only boot medium), discovered volumes and links of lab machine `index`."""
    octets = [int(p) for p in ip.split(".")]
    disks, volumes = _profile(index, ip)
    return {"disks": disks, "volumes": volumes, "links": _links(index, octets[2], octets[3])}


def install_candidate(hardware: dict[str, Any]) -> dict[str, Any]:
    """The disk the wizard should suggest: writable, not a CD, ≥ 10 GiB, no partitions, the largest SSD."""
    volumes = hardware["volumes"]
    fit = [
        d
        for d in hardware["disks"]
        if not d["readonly"]
        and not d["cdrom"]
        and d["size"] >= SMALL_DISK
        and len(volumes.get(d["dev_path"].removeprefix("/dev/"), [])) <= 1
    ]
    return fit[0]


def primary_link(hardware: dict[str, Any]) -> dict[str, Any]:
    """The physical link that is up."""
    return next(
        link for link in hardware["links"] if link["type"] == "ether" and link["operationalState"] == "up"
    )


def maintenance_hostname(ip: str) -> str:
    """Talos' stable maintenance-mode hostname shape: talos-xxx-yyy."""
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    digest = hashlib.sha256(ip.encode()).digest()
    chars = [alphabet[b % len(alphabet)] for b in digest[:6]]
    return f"talos-{''.join(chars[:3])}-{''.join(chars[3:])}"


def node_id(ip: str) -> str:
    """A base62 node identity like Talos' (22 characters)."""
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    number = int(hashlib.sha256(("node-id" + ip).encode()).hexdigest(), 16)
    out = []
    for _ in range(22):
        number, rest = divmod(number, 62)
        out.append(alphabet[rest])
    return "".join(out)


def etcd_member_id(ip: str) -> str:
    """A control plane's etcd member ID as talosctl prints it (`%016x`), stable per address."""
    return hashlib.sha256(("etcd" + ip).encode()).hexdigest()[:16]
