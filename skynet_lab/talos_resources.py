"""Talos resources of lab machines as `talosctl get -o json` shows them: types, namespaces, aliases, specs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from skynet_lab import hardware
from skynet_lab.talos_conn import Ctx, Failure

Builder = Callable[[Ctx, dict[str, Any]], list[tuple[str, int, dict[str, Any]]]]  # → [(id, version, spec)]


@dataclass(frozen=True)
class Definition:
    """A resource definition as talosctl sees it: type, namespace, aliases, and how the lab builds it."""

    type: str
    namespace: str
    aliases: tuple[str, ...]
    build: Builder


def timestamp(ts: float | None) -> str:
    return datetime.fromtimestamp(ts or 0, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _disks(ctx: Ctx, node: dict[str, Any]) -> list[tuple[str, int, dict[str, Any]]]:
    return [(d["dev_path"].removeprefix("/dev/"), 1, d) for d in node["hardware"]["disks"]]


def _volumes(ctx: Ctx, node: dict[str, Any]) -> list[tuple[str, int, dict[str, Any]]]:
    volumes = dict(node["hardware"]["volumes"])
    disk = (node.get("config") or {}).get("install_dev")
    if node["configured"] and disk:
        target = next(d for d in node["hardware"]["disks"] if d["dev_path"] == disk)
        volumes[disk.removeprefix("/dev/")] = hardware.installed_volumes(target)
    out = []
    for entries in volumes.values():
        out += [(e["dev_path"].removeprefix("/dev/"), 2, e) for e in entries]
    return sorted(out, key=lambda item: item[0])


def _links(ctx: Ctx, node: dict[str, Any]) -> list[tuple[str, int, dict[str, Any]]]:
    return [
        (link["id"], 3, {k: v for k, v in link.items() if k != "id"}) for link in node["hardware"]["links"]
    ]


def _machinestatus(ctx: Ctx, node: dict[str, Any]) -> list[tuple[str, int, dict[str, Any]]]:
    """The MachineStatus spec with Talos' field names: the yaml tags of siderolabs/talos v1.13.9
    `pkg/machinery/resources/runtime/machine_status.go` (stage, status.ready, status.unmetConditions)."""
    version = {"maintenance": 2, "installing": 4, "rebooting": 6, "booting": 9, "running": 14}.get(
        node["stage"], 17
    )
    spec = {
        "stage": node["stage"],
        "status": {"ready": node["ready"], "unmetConditions": node["unmet_conditions"]},
    }
    return [("machine", version, spec)]


def _extensions(ctx: Ctx, node: dict[str, Any]) -> list[tuple[str, int, dict[str, Any]]]:
    """ExtensionStatus resources: one per system extension of the booted image, ids "0", "1", …, spec the
    extension layer (`pkg/machinery/extensions/config.go` Layer at v1.13.9); an Image Factory image adds a
    `schematic` entry whose version is its schematic id."""
    boot = node.get("boot") or {}
    layers = [
        {"image": f"{i:03d}.{e['name']}.sqsh", "metadata": {"name": e["name"], "version": e["version"],
                                                          "author": "Sidero Labs", "description": "",
                                                          "compatibility": {"talos": {"version": ">= v1.13.0"}}}}
        for i, e in enumerate(boot.get("extensions") or [])
    ]  # fmt: skip
    if boot.get("schematic"):
        layers.append(
            {
                "image": "",
                "metadata": {
                    "name": "schematic",
                    "version": boot["schematic"],
                    "author": "Image Factory",
                    "description": "",
                    "compatibility": {"talos": {"version": ""}},
                },
            }
        )
    return [(str(i), 1, layer) for i, layer in enumerate(layers)]


DEFINITIONS: dict[str, Definition] = {
    "disks": Definition("Disks.block.talos.dev", "runtime", ("disk", "disks"), _disks),
    "discoveredvolumes": Definition(
        "DiscoveredVolumes.block.talos.dev",
        "runtime",
        ("discoveredvolume", "discoveredvolumes", "dv", "dvs"),
        _volumes,
    ),
    "links": Definition(
        "LinkStatuses.net.talos.dev", "network", ("link", "links", "linkstatus", "linkstatuses"), _links
    ),
    "machinestatus": Definition(
        "MachineStatuses.runtime.talos.dev", "runtime", ("machinestatus", "machinestatuses"), _machinestatus
    ),
    "extensions": Definition(
        "ExtensionStatuses.runtime.talos.dev",
        "runtime",
        ("extensions", "extensionstatus", "extensionstatuses"),
        _extensions,
    ),
}

# Real resources the lab does not simulate: named as such instead of "not found".
UNSIMULATED = (
    "addresses",
    "affiliates",
    "etcdmembers",
    "hostnamestatus",
    "identities",
    "kubeletspec",
    "members",
    "nodeaddresses",
    "nodename",
    "rd",
    "resolvers",
    "routes",
    "services",
    "staticpodstatus",
    "systemdisk",
    "timeservers",
    "versions",
    "volumestatus",
)


def definition(name: str) -> Definition:
    lowered = name.lower()
    for item in DEFINITIONS.values():
        if lowered in item.aliases or lowered == item.type.lower():
            return item
    if lowered in UNSIMULATED:
        raise Failure(f'resource "{name}" is not simulated by the Skynet lab')
    raise Failure(f"rpc error: code = NotFound desc = resource definition {name!r} not found")
