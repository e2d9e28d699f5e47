"""The answers' side of a node's lifecycle: cluster.yaml without a node, with a new one drafted from the machine
discovery found (its safe disk, its up link, its certificate pinned), and choosing that machine."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from skynet_tui import discovery, spec
from skynet_tui.spec import Cluster
from skynet_tui.wizard import machines, state


class NoMachine(ValueError):
    """No usable maintenance-mode machine: the message says what was found and what to do."""


def without(cluster: Cluster, hostname: str) -> Cluster:
    """The answers without `hostname` (validated again: at least one control plane stays)."""
    data = spec.to_data(cluster)
    data["spec"]["nodes"] = [n for n in data["spec"]["nodes"] if n.get("hostname") != hostname]
    return spec.parse(data)


def with_node(cluster: Cluster, node: Mapping[str, Any]) -> Cluster:
    """The answers with one more node (SpecError when it clashes: hostname, IP, MAC, disk serial)."""
    data = spec.to_data(cluster)
    data["spec"]["nodes"] = [*data["spec"]["nodes"], dict(node)]
    return spec.parse(data)


def draft(
    cluster: Cluster, hardware: discovery.Hardware, *, ip: str, hostname: str = "", role: str = ""
) -> dict[str, Any]:
    """A node for the machine `hardware` describes: the wizard's draft (the first disk with nothing on it,
    pinned by serial or WWID; its up link; its fingerprint pinned), at `ip`, with the hostname and role given
    or the next free ones. NoMachine when no disk is safe to install onto."""
    data = spec.to_data(cluster)
    node = machines.draft_node(data, ip, hardware)
    if role:
        node["role"] = role
    node["hostname"] = hostname or state.suggest_hostname(data, node["role"])
    if "installDisk" not in node:
        seen = "; ".join(
            f"{d.dev_path}: {', '.join(discovery.flag_disk(d)) or 'ok'}" for d in hardware.install_candidates
        )
        raise NoMachine(
            f"{hardware.ip} has no disk that is safe to install onto ({seen or 'no disks read'}): wipe one, or "
            "add the node in the wizard and choose its disk there"
        )
    if hardware.ip != ip:
        node["maintenanceAddress"] = hardware.ip
    return node


def maintenance_machines(
    cluster: Cluster,
    env: Mapping[str, str] | None = None,
    *,
    cidr: str = "",
    only: str = "",
    read: Callable[[str], discovery.Hardware] | None = None,
    found: Iterable[str] | None = None,
) -> list[discovery.Hardware]:
    """The machines answering in maintenance mode in `cidr` (default the cluster's subnet), or at `only`:
    the installed nodes of cluster.yaml are left out, and an address whose disks cannot be read too."""
    installed = {n.ip for n in cluster.spec.nodes}
    if only:
        addresses = [only]
    else:
        addresses = list(found) if found is not None else discovery.scan(cidr or cluster.spec.network.subnet)
    reader = read or (lambda ip: discovery.read_hardware(ip, env))
    out = []
    for address in addresses:
        if address in installed and not only:
            continue
        hardware = reader(address)
        if hardware.disks:
            out.append(hardware)
    return out


def choose(machines_found: list[discovery.Hardware], cluster: Cluster, where: str = "") -> discovery.Hardware:
    """The one machine to add: NoMachine when there is none, or several (then --address picks one). `where`:
    the address or range that was searched (default the cluster's subnet)."""
    if not machines_found:
        raise NoMachine(
            f"no machine answers in maintenance mode {'at' if where and '/' not in where else 'in'} "
            f"{where or cluster.spec.network.subnet}: boot the new machine from the Talos ISO, wait for its "
            "console to show its address, and run again (or pass --address IP)"
        )
    if len(machines_found) > 1:
        shown = ", ".join(m.ip for m in machines_found)
        raise NoMachine(
            f"{len(machines_found)} machines answer in maintenance mode ({shown}): pass --address IP"
        )
    return machines_found[0]
