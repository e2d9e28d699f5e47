"""Talos resources of lab machines as `talosctl get -o json` shows them: types, namespaces, aliases, specs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from skynet_lab import hardware, state
from skynet_lab.talos_conn import Ctx, Failure

Builder = Callable[[Ctx, dict[str, Any]], list[tuple[str, int, dict[str, Any]]]]  # → [(id, version, spec)]


@dataclass(frozen=True)
class Definition:
    """A resource definition as talosctl sees it: type, namespace, aliases, and how the lab builds it."""

    type: str
    namespace: str
    aliases: tuple[str, ...]
    build: Builder
    insecure: bool = True  # readable through the maintenance API (non-sensitive resources only)


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


def _addresses(ctx: Ctx, node: dict[str, Any]) -> list[tuple[str, int, dict[str, Any]]]:
    link = hardware.primary_link(node["hardware"])
    return [
        ("lo/127.0.0.1/8", 1, _address("127.0.0.1/8", "lo", 1, "host")),
        (
            f"{link['id']}/{node['ip']}/24",
            1,
            _address(f"{node['ip']}/24", link["id"], link["index"], "global"),
        ),
    ]


def _address(cidr: str, link: str, index: int, scope: str) -> dict[str, Any]:
    ip = cidr.split("/")[0]
    spec: dict[str, Any] = {
        "address": cidr,
        "local": ip,
        "linkIndex": index,
        "linkName": link,
        "family": "inet4",
        "scope": scope,
        "flags": "permanent",
    }
    if scope == "global":
        spec["broadcast"] = ip.rsplit(".", 1)[0] + ".255"
    return spec


def _members(ctx: Ctx, node: dict[str, Any]) -> list[tuple[str, int, dict[str, Any]]]:
    """Discovery's view from one node: every installed machine (none before this one is installed)."""
    if not node["configured"]:
        return []
    out = []
    for other in sorted(ctx.nodes.values(), key=lambda n: n["hostname"]):
        if not other["configured"]:
            continue
        spec: dict[str, Any] = {
            "nodeId": other["node_id"],
            "addresses": [other["address"] or other["ip"]],
            "hostname": other["hostname"],
            "machineType": other["role"],
            "operatingSystem": f"Talos ({other['versions']['talos']})",
        }
        if other["role"] == "controlplane":
            spec["controlPlane"] = {"port": 6443}
        out.append((other["hostname"], 2, spec))
    return out


def not_ready_hostnames(lab: dict[str, Any]) -> set[str]:
    """The machines under the day-two fault node_notready: their kubelet has stopped."""
    value = (lab.get("faults") or {}).get("node_notready") or []
    return {value} if isinstance(value, str) else set(value)


def services(ctx: Ctx, node: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(service, STATE, HEALTH, LAST EVENT) on one machine, as `talosctl service` lists them."""
    base = [("auditd", "Running", "?"), ("dashboard", "Running", "?"), ("machined", "Running", "OK")]
    base += [("syslogd", "Running", "?"), ("udevd", "Running", "?")]
    if node["configured"]:
        base += [("apid", "Running", "OK"), ("containerd", "Running", "OK"), ("cri", "Running", "OK")]
        stopped = node["hostname"] in not_ready_hostnames(ctx.lab)
        base += [("kubelet", "Failed", "Fail") if stopped else ("kubelet", "Running", "OK")]
        if node["role"] == "controlplane":
            base += [("trustd", "Running", "OK")]
            lost = state.etcd_standing(ctx.lab, node) == "failed"
            etcd = ("etcd", "Failed", "Fail") if lost else ("etcd", "Preparing", "?")
            base += [("etcd", "Running", "OK") if node["etcd_running"] else etcd]
    events = {
        "OK": "Health check successful",
        "?": "Service started as goroutine",
        "Fail": "Failed running service: SIMULATED LAB fault node-notready: the kubelet has stopped",
        "etcd-Fail": "Failed running service: SIMULATED LAB: etcd's data is lost (reset EPHEMERAL, then recover)",
    }
    out = []
    for name, run_state, health in sorted(base):
        event = (
            "Running pre state"
            if run_state == "Preparing"
            else events.get(f"{name}-{health}", events[health])
        )
        out.append((name, run_state, health, event))
    return out


def _services(ctx: Ctx, node: dict[str, Any]) -> list[tuple[str, int, dict[str, Any]]]:
    return [
        (name, 3, {"running": st == "Running", "healthy": health == "OK", "unknown": health == "?"})
        for name, st, health, _ in services(ctx, node)
    ]


def _etcdmembers(ctx: Ctx, node: dict[str, Any]) -> list[tuple[str, int, dict[str, Any]]]:
    if node["role"] != "controlplane" or not node["etcd_running"]:
        return []
    return [("local", 1, {"memberID": hardware.etcd_member_id(node["ip"])})]


def _versions(ctx: Ctx, node: dict[str, Any]) -> list[tuple[str, int, dict[str, Any]]]:
    return [("version", 1, {"name": "Talos", "version": node["versions"]["talos"]})]


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
    "addresses": Definition(
        "AddressStatuses.net.talos.dev",
        "network",
        ("address", "addresses", "addressstatus", "addressstatuses"),
        _addresses,
    ),
    "versions": Definition("Versions.runtime.talos.dev", "runtime", ("version", "versions"), _versions),
    "members": Definition(
        "Members.cluster.talos.dev", "cluster", ("member", "members"), _members, insecure=False
    ),
    "services": Definition(
        "Services.v1alpha1.talos.dev", "runtime", ("service", "services", "svc"), _services, insecure=False
    ),
    "etcdmembers": Definition(
        "EtcdMembers.etcd.talos.dev", "etcd", ("etcdmember", "etcdmembers"), _etcdmembers, insecure=False
    ),
}

# Real resources the lab does not simulate: named as such instead of "not found".
UNSIMULATED = (
    "affiliates",
    "hostnamestatus",
    "identities",
    "kubeletspec",
    "nodeaddresses",
    "nodename",
    "rd",
    "resolvers",
    "routes",
    "staticpodstatus",
    "systemdisk",
    "timeservers",
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
