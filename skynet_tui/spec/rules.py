"""The rules that span fields (one named function each, run in order by `cross_field_issues`) and the warnings."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from skynet_tui import versions
from skynet_tui.spec.fields import pool_bounds, show
from skynet_tui.spec.issues import Issue
from skynet_tui.spec.model import Cluster


def _ip(value: str) -> ipaddress.IPv4Address:
    return ipaddress.IPv4Address(value)


def _subnet(cluster: Cluster) -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network(cluster.spec.network.subnet)


def _node_ips(cluster: Cluster) -> dict[ipaddress.IPv4Address, int]:
    """Each node IP and the index of the last node holding it."""
    return {_ip(n.ip): i for i, n in enumerate(cluster.spec.nodes)}


def _endpoint_ip(cluster: Cluster) -> ipaddress.IPv4Address | None:
    control_plane = cluster.spec.control_plane
    return _ip(control_plane.endpoint) if control_plane.endpoint_is_ip else None


def _ref(cluster: Cluster, index: int) -> str:
    return f"spec.nodes[{index}] ({cluster.spec.nodes[index].hostname})"


def node_uniqueness(cluster: Cluster) -> list[Issue]:
    """No two nodes share a hostname, an IP or a maintenance-mode address, and the gateway is no node's IP."""
    issues: list[Issue] = []
    hostnames: dict[str, int] = {}
    ips: dict[str, int] = {}
    for i, node in enumerate(cluster.spec.nodes):
        if node.hostname in hostnames:
            issues.append(
                Issue(
                    f"spec.nodes[{i}].hostname",
                    f"{node.hostname} is already used by spec.nodes[{hostnames[node.hostname]}]",
                )
            )
        hostnames.setdefault(node.hostname, i)
        if node.ip in ips:
            issues.append(
                Issue(f"spec.nodes[{i}].ip", f"{node.ip} is already used by {_ref(cluster, ips[node.ip])}")
            )
        ips.setdefault(node.ip, i)
    maintenance: dict[str, int] = {}
    for i, node in enumerate(cluster.spec.nodes):
        where = node.maintenance_ip
        if where in maintenance and maintenance[where] != i:
            other = maintenance[where]
            issues.append(
                Issue(
                    f"spec.nodes[{i}].maintenanceAddress",
                    f"{where} is also where {_ref(cluster, other)} answers in maintenance mode: two machines "
                    "cannot hold one address at once",
                )
            )
        maintenance.setdefault(where, i)
    gateway, node_ips = _ip(cluster.spec.network.gateway), _node_ips(cluster)
    if gateway in node_ips:
        issues.append(
            Issue("spec.network.gateway", f"{gateway} is also the IP of {_ref(cluster, node_ips[gateway])}")
        )
    return issues


def hardware_uniqueness(cluster: Cluster) -> list[Issue]:
    """No two nodes pin the same link MAC or the same install disk serial or WWID (one machine, two entries)."""
    issues: list[Issue] = []
    seen: dict[tuple[str, str], int] = {}
    for i, node in enumerate(cluster.spec.nodes):
        disk = node.install_disk
        keys = [("mac", node.mac)]
        if not isinstance(disk, str):
            keys += [("installDisk.serial", disk.serial), ("installDisk.wwid", disk.wwid)]
        for field, value in keys:
            if value is None:
                continue
            first = seen.setdefault((field, value), i)
            if first != i:
                issues.append(
                    Issue(
                        f"spec.nodes[{i}].{field}",
                        f"{show(value)} is already used by {_ref(cluster, first)}; each machine has its own",
                    )
                )
    return issues


def control_plane_present(cluster: Cluster) -> list[Issue]:
    if cluster.control_planes:
        return []
    return [Issue("spec.nodes", "no node has role controlplane; at least one is required")]


def subnet_membership(cluster: Cluster) -> list[Issue]:
    """Node IPs (not the network or broadcast address), the gateway and an IP endpoint lie in network.subnet."""
    subnet = _subnet(cluster)
    issues: list[Issue] = []
    for i, node in enumerate(cluster.spec.nodes):
        address = _ip(node.ip)
        if address not in subnet:
            issues.append(Issue(f"spec.nodes[{i}].ip", f"{node.ip} is outside network.subnet {subnet}"))
        elif address in (subnet.network_address, subnet.broadcast_address):
            issues.append(
                Issue(f"spec.nodes[{i}].ip", f"{node.ip} is the network or broadcast address of {subnet}")
            )
    gateway = _ip(cluster.spec.network.gateway)
    if gateway not in subnet:
        issues.append(Issue("spec.network.gateway", f"{gateway} is outside network.subnet {subnet}"))
    endpoint = _endpoint_ip(cluster)
    if endpoint is not None and endpoint not in subnet:
        issues.append(Issue("spec.controlPlane.endpoint", f"{endpoint} is outside network.subnet {subnet}"))
    return issues


def endpoint_and_vip(cluster: Cluster) -> list[Issue]:
    """A VIP needs an IP endpoint that is neither a node's IP nor the gateway (any endpoint may be external)."""
    control_plane = cluster.spec.control_plane
    if not control_plane.vip:
        return []
    endpoint = _endpoint_ip(cluster)
    if endpoint is None:
        return [
            Issue(
                "spec.controlPlane.vip",
                f"vip: true needs an IP endpoint, not the DNS name {show(control_plane.endpoint)}",
            )
        ]
    issues: list[Issue] = []
    node_ips = _node_ips(cluster)
    if endpoint in node_ips:
        issues.append(
            Issue(
                "spec.controlPlane.endpoint",
                f"the VIP {endpoint} is also the IP of {_ref(cluster, node_ips[endpoint])}; pick a free address",
            )
        )
    if endpoint == _ip(cluster.spec.network.gateway):
        issues.append(Issue("spec.controlPlane.endpoint", f"the VIP {endpoint} is the gateway"))
    return issues


def load_balancer_pool(cluster: Cluster) -> list[Issue]:
    """Each pool entry lies in network.subnet, holds no node IP, gateway or endpoint, and overlaps no other."""
    subnet, node_ips = _subnet(cluster), _node_ips(cluster)
    gateway, endpoint = _ip(cluster.spec.network.gateway), _endpoint_ip(cluster)
    issues: list[Issue] = []
    ranges: list[tuple[int, ipaddress.IPv4Address, ipaddress.IPv4Address]] = []
    for i, entry in enumerate(cluster.spec.load_balancer.addresses):
        path = f"spec.loadBalancer.addresses[{i}]"
        first, last = pool_bounds(entry)
        if first not in subnet or last not in subnet:
            issues.append(Issue(path, f"{entry} is outside network.subnet {subnet}"))
        for address, index in node_ips.items():
            if first <= address <= last:
                issues.append(Issue(path, f"{entry} contains {address}, the IP of {_ref(cluster, index)}"))
        if first <= gateway <= last:
            issues.append(Issue(path, f"{entry} contains the gateway {gateway}"))
        if endpoint is not None and first <= endpoint <= last:
            what = "VIP" if cluster.spec.control_plane.vip else "API endpoint"
            issues.append(Issue(path, f"{entry} contains the {what} {endpoint}"))
        for j, other_first, other_last in ranges:
            if first <= other_last and other_first <= last:
                issues.append(Issue(path, f"{entry} overlaps spec.loadBalancer.addresses[{j}]"))
        ranges.append((i, first, last))
    return issues


def pod_and_service_subnets(cluster: Cluster) -> list[Issue]:
    """The pod and service subnets overlap neither each other nor network.subnet."""
    subnet, k8s = _subnet(cluster), cluster.spec.kubernetes
    pods, services = ipaddress.IPv4Network(k8s.pod_subnet), ipaddress.IPv4Network(k8s.service_subnet)
    issues: list[Issue] = []
    if pods.overlaps(services):
        issues.append(
            Issue("spec.kubernetes.serviceSubnet", f"{services} overlaps kubernetes.podSubnet {pods}")
        )
    if pods.overlaps(subnet):
        issues.append(Issue("spec.kubernetes.podSubnet", f"{pods} overlaps network.subnet {subnet}"))
    if services.overlaps(subnet):
        issues.append(Issue("spec.kubernetes.serviceSubnet", f"{services} overlaps network.subnet {subnet}"))
    return issues


def version_issues(talos_version: str, kubernetes_version: str) -> list[Issue]:
    """The Kubernetes version against the Talos version's support range (valid versions of each)."""
    if versions.kubernetes_supported(talos_version, kubernetes_version):
        return []
    low, high = versions.kubernetes_range(talos_version) or ("?", "?")
    return [
        Issue(
            "spec.kubernetes.version",
            f"Kubernetes {kubernetes_version} is outside Talos {talos_version}'s support range {low} – {high}",
        )
    ]


def talos_version_rules(cluster: Cluster) -> list[Issue]:
    """Kubernetes within the Talos version's range; past v1.13, a worker (control planes keep their taint)."""
    spec = cluster.spec
    issues = version_issues(spec.talos.version, spec.kubernetes.version)
    if versions.minor_of(spec.talos.version) != "1.13" and not cluster.workers:
        issues.append(
            Issue(
                "spec.nodes",
                f"Talos {spec.talos.version} without workers: the platform needs a worker node "
                "(Skynet lets control planes run workloads on Talos v1.13 only)",
            )
        )
    return issues


def dns01_settings(cluster: Cluster) -> list[Issue]:
    """Challenge dns01 names its provider and the variable holding the provider's token."""
    acme = cluster.spec.ingress.acme
    if acme.challenge != "dns01":
        return []
    issues: list[Issue] = []
    if acme.dns01 is None or acme.dns01.provider is None:
        issues.append(Issue("spec.ingress.acme.dns01.provider", "challenge dns01 needs a DNS provider"))
    if acme.dns01 is None or acme.dns01.token_env is None:
        issues.append(
            Issue(
                "spec.ingress.acme.dns01.tokenEnv",
                "challenge dns01 needs the environment variable holding the token",
            )
        )
    return issues


def external_dns_provider(cluster: Cluster) -> list[Issue]:
    """externalDNS writes records through the DNS-01 provider, so it needs challenge dns01 with both set."""
    spec = cluster.spec
    if not spec.components.external_dns:
        return []
    acme = spec.ingress.acme
    if acme.challenge == "dns01" and acme.dns01 and acme.dns01.provider and acme.dns01.token_env:
        return []
    return [
        Issue(
            "spec.components.externalDNS",
            "externalDNS needs a DNS provider: set spec.ingress.acme.challenge: dns01 with dns01.provider "
            "and dns01.tokenEnv (external-dns uses the same provider and token)",
        )
    ]


RULES: tuple[Callable[[Cluster], list[Issue]], ...] = (
    node_uniqueness,
    hardware_uniqueness,
    control_plane_present,
    subnet_membership,
    endpoint_and_vip,
    load_balancer_pool,
    pod_and_service_subnets,
    talos_version_rules,
    dns01_settings,
    external_dns_provider,
)


def cross_field_issues(cluster: Cluster) -> list[Issue]:
    """Every rule that looks at more than one field. Field-level checks have already passed."""
    return [issue for rule in RULES for issue in rule(cluster)]


def warnings(cluster: Cluster, first_install: bool = True) -> list[Issue]:
    """Things worth a second look that do not stop an install."""
    out: list[Issue] = []
    count = len(cluster.control_planes)
    if count == 1:
        out.append(Issue("spec.nodes", "a single control plane: the cluster API goes down with that machine"))
    elif count and count % 2 == 0:
        out.append(
            Issue(
                "spec.nodes", f"{count} control planes: etcd tolerates no more failures than with {count - 1}"
            )
        )
    gitops = cluster.spec.gitops
    ssh_url = gitops.repo_url.startswith("ssh://") or "://" not in gitops.repo_url
    if ssh_url and not (gitops.credentials and gitops.credentials.ssh_key_file):
        out.append(
            Issue(
                "spec.gitops.credentials",
                "an ssh repoURL without sshKeyFile: Argo CD cannot clone it unless its repository "
                "credentials are set up another way",
            )
        )
    if cluster.spec.kubernetes.cni == "none":
        out.append(
            Issue(
                "spec.kubernetes.cni",
                "none: install your CNI right after bootstrap; Talos reboots a node that stays without one for "
                "about 10 minutes, and the install waits for every node Ready",
            )
        )
    if versions.is_release_candidate(cluster.spec.talos.version):
        out.append(
            Issue(
                "spec.talos.version",
                f"{cluster.spec.talos.version} is a release candidate (a pre-release, not for production); "
                f"the stable release is {versions.DEFAULT_TALOS}",
            )
        )
    if first_install and cluster.spec.ingress.acme.server == "production":
        out.append(
            Issue(
                "spec.ingress.acme.server",
                "production on a first install: a misconfiguration can hit Let's Encrypt rate limits; staging first",
            )
        )
    return out
