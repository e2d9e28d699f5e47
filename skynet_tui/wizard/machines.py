"""Machines found by discovery as the wizard uses them: their disks as table cells, a node drafted from one."""

from __future__ import annotations

from typing import Any

from skynet_tui.discovery import Disk, Hardware, flag_disk
from skynet_tui.wizard import state

DISK_COLUMNS = ("Device", "Check", "Size", "Model", "Serial")


def disk_cells(disk: Disk) -> tuple[str, ...]:
    """One disk as table cells: why to avoid it (or ok) first, then size with its bus, model, serial."""
    flags = flag_disk(disk)
    size = f"{disk.size_text} {disk.transport}".strip()
    model = disk.model if len(disk.model) <= 22 else disk.model[:21] + "…"
    return (disk.dev_path, "; ".join(flags) if flags else "ok", size, model or "-", disk.serial or "-")


def draft_node(data: dict[str, Any], ip: str, hardware: Hardware | None) -> dict[str, Any]:
    """A new node from what the machine reported: suggested hostname and role, its up link by the name the
    machine gives it, the first disk with nothing to flag, pinned by serial (or WWID) when it has one, and
    its maintenance certificate's fingerprint, pinned."""
    role = state.suggest_role(data)
    node: dict[str, Any] = {"hostname": state.suggest_hostname(data, role), "ip": ip, "role": role}
    if hardware is not None:
        disk = hardware.suggested_disk()
        if disk is not None:
            node["installDisk"] = state.parse_disk_text(disk.selector("serial" if disk.serial else "wwid"))
        link = hardware.suggested_link()
        if link is not None:
            node["interface"] = link.name
        if hardware.fingerprint:
            node["certFingerprint"] = hardware.fingerprint
    return node


def short_fingerprint(node: dict[str, Any]) -> str:
    """The pinned fingerprint's first characters, for a table cell (the node dialog shows it whole)."""
    value = str(node.get("certFingerprint") or "")
    return value[:10] + "…" if value else "-"


def address_note(node: dict[str, Any]) -> str:
    """One line on where the machine answers, when its maintenance address is not its ip; else empty."""
    where, ip = node.get("maintenanceAddress"), node.get("ip")
    if not where or where == ip:
        return ""
    return f"Answers at {where} until its install (its DHCP lease), then at {ip}."
