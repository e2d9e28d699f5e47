"""The answers-file model (pydantic v2): sections, fields, defaults and the checks inside one section.

Every field says what it is in its description; the first sentence is the wizard's help line, the rest is
for `skynet schema` readers (format, default, what it affects).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Final, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from skynet_tui import versions
from skynet_tui.spec.backup import Backup
from skynet_tui.spec.fields import (
    CIDR,
    CertFingerprint,
    Host,
    IPv4,
    Label,
    PoolEntry,
    Section,
    Serial,
    check_label,
    check_mac,
    show,
)
from skynet_tui.spec.platform import Components, GitOps, Ingress
from skynet_tui.spec.registries import Registries
from skynet_tui.spec.secrets import Secrets

API_VERSION: Final = "skynet.dev/v1alpha1"
KIND: Final = "Cluster"
_IFACE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,14}")  # Linux: at most 15 characters (IFNAMSIZ)
_DEVICE = re.compile(r"/dev/[A-Za-z0-9/_.:-]{1,250}")
_SUPPORTED_TALOS = ", or ".join(
    f"v{release.minor}.x (stable)" if not release.prerelease else f"{release.latest} (a release candidate)"
    for release in (versions.TALOS_RELEASES[minor] for minor in versions.INSTALLABLE_MINORS)
)
_K8S_RANGES = ", ".join(
    f"Talos v{minor}: " + " – ".join(versions.kubernetes_range(f"v{minor}.0") or ())
    for minor in versions.INSTALLABLE_MINORS
)


def _plain_version(value: str) -> bool:
    """A version as versions.parse_version reads it, in ASCII digits and without surrounding blanks."""
    return value.isascii() and value == value.strip() and versions.parse_version(value) is not None


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
        description=f"The Talos release: {_SUPPORTED_TALOS}. Default {versions.DEFAULT_TALOS}, the newest "
        "stable release; a release candidate is a pre-release, used only when written out. Passed to talosctl "
        "as --talos-version and the installer image's tag, and it bounds the Kubernetes versions allowed.",
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
        if not _plain_version(value) or not value.startswith("v"):
            raise ValueError(f"{show(value)} is not a Talos version (e.g. {versions.DEFAULT_TALOS})")
        problem = versions.talos_version_problem(value)
        if problem:
            raise ValueError(problem)
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
        if not _plain_version(value) or value.startswith("v"):
            raise ValueError(
                f"{show(value)} is not a Kubernetes version (e.g. {versions.DEFAULT_KUBERNETES})"
            )
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

    serial: Serial | None = Field(
        None,
        description="The disk's serial number, as discovery or `talosctl get disks` shows it.",
        examples=["S4EWNX0R123456"],
    )
    wwid: Serial | None = Field(
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
        description="The network link the node's address goes on, by name (enp3s0, eno1), as discovery or "
        "`talosctl get links --insecure` shows it. Give interface or mac: there is no default, because a link "
        "config turns DHCP off on every link and a node whose config names a link it lacks comes back from its "
        "reboot with no address; bare metal names links eno1/enp2s0, not eth0.",
        examples=["enp3s0"],
    )
    mac: str | None = Field(
        None,
        validate_default=True,  # its check also says when neither interface nor mac is given
        description="The network link pinned by its permanent (burned-in) MAC address, aa:bb:cc:dd:ee:ff, for "
        "machines whose link names may change. Give interface or mac; matched against the link's "
        "permanentAddr, which a bond or a driver never rewrites (discovery shows it).",
        examples=["aa:bb:cc:dd:ee:ff"],
    )
    maintenance_address: IPv4 | None = Field(
        None,
        description="Where the machine answers in maintenance mode, when that is not ip (its DHCP lease). "
        "Preflight, the disk and link reads and apply-config --insecure go to it; after the install's reboot "
        "the node keeps ip. Default: ip; discovery fills it when the scanned address differs.",
        examples=["192.168.10.143"],
    )
    cert_fingerprint: CertFingerprint | None = Field(
        None,
        description="The node's maintenance-mode certificate fingerprint, pinned: every --insecure call to it "
        "checks it. Base64 of the SHA-256 of the certificate's public key (SPKI), as the node's console prints "
        "after `server certificate issued` and talosctl's --cert-fingerprint takes; discovery reads it.",
        examples=["j8iNuGT6IsHyWS0K8D5r5KJXy+ba0Tt3ZnsdDGgb/ec="],
    )

    @field_validator("install_disk")
    @classmethod
    def _disk(cls, value: str | DiskSelector) -> str | DiskSelector:
        if isinstance(value, str) and (not _DEVICE.fullmatch(value) or ".." in value.split("/")):
            raise ValueError(
                f"{show(value)} is not a device path (e.g. /dev/sda) nor {{serial: …}} / {{wwid: …}}"
            )
        return value

    @field_validator("interface")
    @classmethod
    def _interface(cls, value: str | None) -> str | None:
        if value is not None and not _IFACE.fullmatch(value):
            raise ValueError(f"{show(value)} is not a link name (e.g. eth0, enp3s0; at most 15 characters)")
        return value

    @field_validator("mac")
    @classmethod
    def _mac(cls, value: str | None, info: ValidationInfo) -> str | None:
        """A MAC, and exactly one of interface and mac (reported here, at the link, when interface is valid)."""
        if "interface" not in info.data:  # interface itself is invalid and says so
            return None if value is None else check_mac(value)
        interface = info.data["interface"]
        if value is None and interface is None:
            raise ValueError(
                "name the node's network link: interface (e.g. enp3s0, as discovery or `talosctl get links "
                "--insecure` shows it) or mac"
            )
        if value is not None and interface is not None:
            raise ValueError("give interface or mac, not both")
        return None if value is None else check_mac(value)

    @property
    def maintenance_ip(self) -> str:
        """Where the machine answers in maintenance mode: maintenanceAddress, else ip."""
        return self.maintenance_address or self.ip

    @property
    def link_text(self) -> str:
        """The link as the answers name it: `enp3s0` or `mac aa:bb:…`."""
        return self.interface if self.interface else f"mac {self.mac}"


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
    registries: Registries = Field(
        default_factory=Registries,
        description="Optional registry mirrors the nodes pull container images through; none when absent.",
    )
    upgrade: Upgrade | None = Field(
        None,
        description="Limits of guided upgrades (skynet upgrade); absent: one worker at a time.",
    )
    backup: Backup | None = Field(
        None,
        description="Scheduled backups in the cluster to an S3-compatible bucket; absent: none (skynet backup "
        "still takes one on demand).",
    )
    secrets: Secrets | None = Field(
        None,
        description="The secrets shared through the repository, encrypted (secrets.age/); absent: secrets/ "
        "exists only on the machine that made it.",
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

    @property
    def recipients(self) -> list[str]:
        """The age recipients secrets/ is encrypted to; empty when it is not shared."""
        encryption = self.spec.secrets.encryption if self.spec.secrets else None
        return list(encryption.age.recipients) if encryption else []
