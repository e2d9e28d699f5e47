"""The answers-file model (pydantic v2): sections, fields, defaults and the checks inside one section.

Every field says what it is in its description; the first sentence is the wizard's help line, the rest is
for `skynet schema` readers (format, default, what it affects).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Final, Literal

from pydantic import Field, field_validator, model_validator

from skynet_tui import versions
from skynet_tui.spec.fields import (
    CIDR,
    Host,
    IPv4,
    Label,
    PoolEntry,
    Section,
    check_label,
    check_mac,
)
from skynet_tui.spec.platform import Components, GitOps, Ingress

API_VERSION: Final = "skynet.dev/v1alpha1"
KIND: Final = "Cluster"
DEFAULT_INTERFACE: Final = "eth0"  # a node's link when neither interface nor mac is given

_IFACE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,14}$")
_SUPPORTED_TALOS = " or ".join(f"v{minor}.x" for minor in versions.INSTALLABLE_MINORS)
_K8S_RANGES = ", ".join(
    f"Talos v{minor}: " + " – ".join(versions.kubernetes_range(f"v{minor}.0") or ())
    for minor in versions.INSTALLABLE_MINORS
)


class Metadata(Section):
    """The cluster's identity."""

    name: str = Field(
        description="A DNS label (a-z, 0-9, '-'), at most 40 characters. Names the cluster in Talos and in "
        "the kubeconfig, and the workspace folder (./<name>) unless another is given.",
        examples=["homelab"],
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return check_label(value, 40)


class Talos(Section):
    """The Talos Linux release the nodes install, and the installer image it comes from."""

    version: str = Field(
        versions.DEFAULT_TALOS,
        description=f"The Talos release the nodes install: {_SUPPORTED_TALOS}. Default {versions.DEFAULT_TALOS}; "
        "passed to talosctl as --talos-version and the installer image's tag, and it bounds the Kubernetes "
        "versions allowed.",
    )
    schematic: str = Field(
        versions.VANILLA_SCHEMATIC,
        description="Image Factory schematic id; the default is vanilla Talos. Its 64 lowercase hex characters "
        "(from factory.talos.dev) name the system extensions and kernel arguments of the installer image "
        "factory.talos.dev/metal-installer/<schematic>:<version>; use the one the boot ISO was built with.",
    )

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        if versions.parse_version(value) is None or not value.startswith("v"):
            raise ValueError(f"{value!r} is not a Talos version (e.g. {versions.DEFAULT_TALOS})")
        if versions.minor_of(value) not in versions.INSTALLABLE_MINORS:
            supported = ", ".join(f"v{m}.x" for m in versions.INSTALLABLE_MINORS)
            raise ValueError(f"Talos {value} is not supported; use {supported}")
        return value

    @field_validator("schematic")
    @classmethod
    def _schematic(cls, value: str) -> str:
        if not re.fullmatch(r"[0-9a-f]{64}", value):
            raise ValueError("an Image Factory schematic id is 64 lowercase hex characters")
        return value


class Kubernetes(Section):
    """The Kubernetes version and the cluster's own networks."""

    version: str = Field(
        versions.DEFAULT_KUBERNETES,
        description="The Kubernetes version, without a leading v. It must lie in the Talos version's support "
        f"range ({_K8S_RANGES}); default {versions.DEFAULT_KUBERNETES}.",
    )
    pod_subnet: CIDR = Field(
        "10.244.0.0/16",
        description="The CIDR pods get their addresses from. It must not overlap network.subnet nor the "
        "service subnet; default 10.244.0.0/16.",
    )
    service_subnet: CIDR = Field(
        "10.96.0.0/12",
        description="The CIDR Services get their cluster IPs from. It must not overlap network.subnet nor "
        "the pod subnet; default 10.96.0.0/12.",
    )
    cni: Literal["flannel", "none"] = Field(
        "flannel",
        description="The pod network: flannel (built into Talos) or none. With none, install your own CNI "
        "right after bootstrap; the install waits for every node Ready. Default flannel.",
    )

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        if versions.parse_version(value) is None or value.startswith("v"):
            raise ValueError(f"{value!r} is not a Kubernetes version (e.g. {versions.DEFAULT_KUBERNETES})")
        return value


class Network(Section):
    """The L2 network the nodes share."""

    subnet: CIDR = Field(
        description="The L2 network the nodes share, as a CIDR. Node IPs, the gateway, an IP endpoint and "
        "the MetalLB pool must lie inside it.",
        examples=["192.168.10.0/24"],
    )
    gateway: IPv4 = Field(
        description="The default route of every node, inside the subnet. It must not be a node's IP.",
        examples=["192.168.10.1"],
    )
    nameservers: list[IPv4] = Field(
        default_factory=lambda: ["1.1.1.1", "9.9.9.9"],
        min_length=1,
        description="The DNS servers the nodes resolve with, as IPv4 addresses. Default 1.1.1.1 and 9.9.9.9.",
    )
    ntp: list[Host] = Field(
        default_factory=lambda: ["time.cloudflare.com"],
        min_length=1,
        description="The time servers the nodes sync with, as names or IPv4 addresses. Default "
        "time.cloudflare.com; certificates and etcd need the clocks right.",
    )


class ControlPlane(Section):
    """Where the Kubernetes API answers."""

    endpoint: Host = Field(
        description="An IP or DNS name; the API is https://<endpoint>:6443. With vip it is a free address in "
        "the subnet the control planes share; without, a load balancer's or one control plane's address.",
        examples=["192.168.10.10"],
    )
    vip: bool = Field(
        True,
        description="The control planes share the endpoint IP (Layer-2 VIP). Talos moves the address to a "
        "healthy control plane; it needs an IP endpoint outside the MetalLB pool. Default true.",
    )

    @property
    def endpoint_is_ip(self) -> bool:
        try:
            ipaddress.IPv4Address(self.endpoint)
        except ValueError:
            return False
        return True

    @property
    def url(self) -> str:
        return f"https://{self.endpoint}:6443"


class DiskSelector(Section):
    """A disk chosen by a stable hardware id instead of its device path; give exactly one."""

    serial: str | None = Field(
        None,
        description="The disk's serial number, as discovery or `talosctl get disks` shows it.",
        examples=["S4EWNX0R123456"],
    )
    wwid: str | None = Field(
        None,
        description="The disk's World Wide Identifier, as discovery or `talosctl get disks` shows it.",
        examples=["naa.5002538e40a1b2c3"],
    )

    @model_validator(mode="after")
    def _one(self) -> DiskSelector:
        if (self.serial is None) == (self.wwid is None):
            raise ValueError("give exactly one of serial or wwid")
        return self


class Node(Section):
    """One machine, booted into Talos maintenance mode."""

    hostname: Label = Field(
        description="A DNS label, unique in the cluster. Talos sets it as the node's hostname and "
        "Kubernetes names the node after it.",
        examples=["cp-1"],
    )
    ip: IPv4 = Field(
        description="The static address the node keeps, inside the node subnet. Unique in the cluster; the "
        "machine must answer at it in maintenance mode, where Skynet sends it its configuration.",
        examples=["192.168.10.11"],
    )
    role: Literal["controlplane", "worker"] = Field(
        description="controlplane (etcd and the Kubernetes API) or worker. At least one control plane; "
        "three tolerate losing one."
    )
    install_disk: str | DiskSelector = Field(
        "/dev/sda",
        description="Talos wipes this disk; pin it by serial or WWID when names may change. A device path "
        "(/dev/sda, /dev/nvme0n1) or {serial: …} / {wwid: …}; default /dev/sda.",
        examples=["/dev/nvme0n1", {"serial": "S4EWNX0R123456"}],
    )
    interface: str | None = Field(
        None,
        description="The network link the node's address goes on, by name (eth0, enp3s0). Give interface or "
        f"mac, not both; {DEFAULT_INTERFACE} when neither is given.",
        examples=["eth0"],
    )
    mac: str | None = Field(
        None,
        description="The network link pinned by its MAC address (aa:bb:cc:dd:ee:ff), for machines whose "
        "link names may change. Give interface or mac, not both.",
        examples=["aa:bb:cc:dd:ee:ff"],
    )

    @field_validator("install_disk")
    @classmethod
    def _disk(cls, value: str | DiskSelector) -> str | DiskSelector:
        if isinstance(value, str) and not re.fullmatch(r"/dev/[A-Za-z0-9/_.:-]+", value):
            raise ValueError(
                f"{value!r} is not a device path (e.g. /dev/sda) nor {{serial: …}} / {{wwid: …}}"
            )
        return value

    @field_validator("interface")
    @classmethod
    def _interface(cls, value: str | None) -> str | None:
        if value is not None and not _IFACE.match(value):
            raise ValueError(f"{value!r} is not a link name (e.g. eth0, enp3s0)")
        return value

    @field_validator("mac")
    @classmethod
    def _mac(cls, value: str | None) -> str | None:
        return None if value is None else check_mac(value)

    @model_validator(mode="after")
    def _link(self) -> Node:
        if self.interface is None and self.mac is None:
            self.interface = DEFAULT_INTERFACE
        if self.interface is not None and self.mac is not None:
            raise ValueError("give interface or mac, not both")
        return self


class LoadBalancer(Section):
    """The addresses MetalLB hands to Services of type LoadBalancer."""

    addresses: list[PoolEntry] = Field(
        min_length=1,
        description="Ranges a-b or CIDRs inside the node subnet, for LoadBalancer services. Traefik takes the "
        "first address (where the apps' DNS names must point); no node IP, gateway or VIP inside.",
        examples=[["192.168.10.200-192.168.10.220"]],
    )


class Upgrade(Section):
    """How much an upgrade may take away from the cluster at once."""

    max_unavailable_workers: int = Field(
        1,
        ge=1,
        le=64,
        description="The disruption budget: at most this many workers are upgraded (drained and rebooted) at "
        "once. `skynet upgrade talos --parallel N` may not go beyond it; control planes always go one at a "
        "time. Default 1.",
        examples=[2],
    )


class ClusterSpecBody(Section):
    """What to install, and where."""

    talos: Talos = Field(
        default_factory=Talos, description="The Talos release and installer image; defaults when absent."
    )
    kubernetes: Kubernetes = Field(
        default_factory=Kubernetes,
        description="The Kubernetes version, pod and service subnets and CNI; defaults when absent.",
    )
    network: Network = Field(description="The nodes' L2 network: subnet, gateway, DNS and NTP servers.")
    control_plane: ControlPlane = Field(
        description="Where the Kubernetes API answers, and whether the control planes share a VIP."
    )
    nodes: list[Node] = Field(
        min_length=1,
        description="The machines, booted into Talos maintenance mode. At least one controlplane; hostnames "
        "and IPs unique.",
    )
    load_balancer: LoadBalancer = Field(description="The MetalLB address pool for LoadBalancer Services.")
    ingress: Ingress = Field(description="The apps' domain and how their TLS certificates are obtained.")
    gitops: GitOps = Field(description="The repository Argo CD follows; Skynet pushes the workspace there.")
    components: Components = Field(
        default_factory=Components,
        description="Which optional platform components Argo CD installs; defaults when absent.",
    )
    upgrade: Upgrade | None = Field(
        None,
        description="Limits of guided upgrades (skynet upgrade); absent: one worker at a time.",
    )


class Cluster(Section):
    """A whole answers file. Build it with `parse` (which runs the cross-field checks), not directly."""

    api_version: Literal["skynet.dev/v1alpha1"] = Field(
        API_VERSION, description=f"The answers file's format: {API_VERSION}."
    )
    kind: Literal["Cluster"] = Field(KIND, description=f"Always {KIND}.")
    metadata: Metadata = Field(description="The cluster's name.")
    spec: ClusterSpecBody = Field(
        description="Talos, Kubernetes, the network, the nodes, ingress, the GitOps repository and the "
        "platform components."
    )

    @property
    def name(self) -> str:
        return self.metadata.name

    @property
    def control_planes(self) -> list[Node]:
        return [n for n in self.spec.nodes if n.role == "controlplane"]

    @property
    def workers(self) -> list[Node]:
        return [n for n in self.spec.nodes if n.role == "worker"]
