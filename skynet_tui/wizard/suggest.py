"""Network answers derived from the nodes' IPs: subnet, gateway, API endpoint (and VIP) and a MetalLB pool."""

from __future__ import annotations

import ipaddress
from typing import Any

from skynet_tui.wizard.state import get_value

SUBNET = "spec.network.subnet"
GATEWAY = "spec.network.gateway"
ENDPOINT = "spec.controlPlane.endpoint"
VIP = "spec.controlPlane.vip"
POOL = "spec.loadBalancer.addresses"
POOL_SIZE = 21  # .200-.220 in a /24


def _ip(text: Any) -> ipaddress.IPv4Address | None:
    try:
        return ipaddress.IPv4Address(str(text))
    except ValueError:
        return None


def _subnet(data: dict[str, Any], ips: list[ipaddress.IPv4Address]) -> ipaddress.IPv4Network | None:
    """The subnet typed, else the /24 that holds every node's IP."""
    try:
        return ipaddress.IPv4Network(str(get_value(data, SUBNET)), strict=True)
    except ValueError:
        pass
    networks = {ipaddress.IPv4Network(f"{ip}/24", strict=False) for ip in ips}
    return networks.pop() if len(networks) == 1 else None


def network_suggestions(data: dict[str, Any]) -> dict[str, Any]:
    """Values for the network step's empty fields, derived from the nodes' IPs (nothing without nodes): the /24
    holding them, its .1 as the gateway, the only control plane's IP as the endpoint (or a free address as a
    VIP shared by several), and a free range for MetalLB. Fields already answered are left out."""
    nodes = [n for n in get_value(data, "spec.nodes") or [] if isinstance(n, dict)]
    ips = [ip for ip in (_ip(n.get("ip")) for n in nodes) if ip is not None]
    network = _subnet(data, ips)
    if not ips or network is None or network.num_addresses < 256:
        return {}
    hosts = list(network.hosts())
    used = set(ips)
    out: dict[str, Any] = {SUBNET: str(network)}
    gateway = _ip(get_value(data, GATEWAY)) or hosts[0]
    out[GATEWAY] = str(gateway)
    used.add(gateway)
    planes = [ip for n, ip in zip(nodes, (_ip(n.get("ip")) for n in nodes), strict=True) if ip and _cp(n)]
    endpoint = _ip(get_value(data, ENDPOINT))
    if endpoint is None and len(planes) == 1:
        out[ENDPOINT], out[VIP] = str(planes[0]), False
    elif endpoint is None and planes:
        free = next((ip for ip in hosts[9:] if ip not in used), None)
        if free is not None:
            out[ENDPOINT], out[VIP] = str(free), True
            used.add(free)
    if endpoint is not None:
        used.add(endpoint)
    top = [ip for ip in hosts if ip not in used and ip > max(used)]
    if len(top) >= POOL_SIZE:
        start = top[-POOL_SIZE - 34] if len(top) >= POOL_SIZE + 34 else top[0]  # .200 in a /24
        out[POOL] = [f"{start}-{start + POOL_SIZE - 1}"]
    return {path: value for path, value in out.items() if _empty(get_value(data, path))}


def _cp(node: dict[str, Any]) -> bool:
    return node.get("role") == "controlplane"


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []
