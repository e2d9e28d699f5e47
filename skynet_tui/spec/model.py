"""The answers-file model (pydantic v2): sections, fields, defaults and the checks inside one section."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from skynet_tui import versions
from skynet_tui.spec.fields import (
    CIDR,
    EnvName,
    Host,
    IPv4,
    Label,
    PoolEntry,
    check_dns_name,
    check_label,
)

API_VERSION = "skynet.dev/v1alpha1"
KIND = "Cluster"

_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@([A-Za-z0-9-]+\.)+[A-Za-z]{2,}$")
_MAC = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")
_SCP_URL = re.compile(r"^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+$")
_URL_PASSWORD = re.compile(r"^[a-z]+://[^/@\s]*:[^/@\s]*@")
_URL = re.compile(r"^(ssh|https|http|file|git)://[^\s]+$")
_IFACE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,14}$")


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, populate_by_name=True, validate_assignment=False
    )


class Metadata(_Model):
    name: str

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return check_label(value, 40)


class Talos(_Model):
    version: str = versions.DEFAULT_TALOS
    schematic: str = versions.VANILLA_SCHEMATIC

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


class Kubernetes(_Model):
    version: str = versions.DEFAULT_KUBERNETES
    pod_subnet: CIDR = "10.244.0.0/16"
    service_subnet: CIDR = "10.96.0.0/12"
    cni: Literal["flannel", "none"] = "flannel"

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        if versions.parse_version(value) is None or value.startswith("v"):
            raise ValueError(f"{value!r} is not a Kubernetes version (e.g. {versions.DEFAULT_KUBERNETES})")
        return value


class Network(_Model):
    subnet: CIDR
    gateway: IPv4
    nameservers: list[IPv4] = Field(default_factory=lambda: ["1.1.1.1", "9.9.9.9"], min_length=1)
    ntp: list[Host] = Field(default_factory=lambda: ["time.cloudflare.com"], min_length=1)


class ControlPlane(_Model):
    endpoint: Host
    vip: bool = True

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


class DiskSelector(_Model):
    serial: str | None = None
    wwid: str | None = None

    @model_validator(mode="after")
    def _one(self) -> DiskSelector:
        if (self.serial is None) == (self.wwid is None):
            raise ValueError("give exactly one of serial or wwid")
        return self


class Node(_Model):
    hostname: Label
    ip: IPv4
    role: Literal["controlplane", "worker"]
    install_disk: str | DiskSelector = "/dev/sda"
    interface: str | None = None
    mac: str | None = None

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
        if value is not None and not _MAC.match(value):
            raise ValueError(f"{value!r} is not a MAC address (e.g. aa:bb:cc:dd:ee:ff)")
        return value.lower() if value else value

    @model_validator(mode="after")
    def _link(self) -> Node:
        if self.interface is None and self.mac is None:
            self.interface = "eth0"
        if self.interface is not None and self.mac is not None:
            raise ValueError("give interface or mac, not both")
        return self


class LoadBalancer(_Model):
    addresses: list[PoolEntry] = Field(min_length=1)


class Dns01(_Model):
    provider: Literal["cloudflare", "route53", "digitalocean"] | None = None
    token_env: EnvName | None = None


class Acme(_Model):
    email: str
    server: Literal["staging", "production"] = "staging"
    challenge: Literal["http01", "dns01"] = "http01"
    dns01: Dns01 | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not _EMAIL.match(value):
            raise ValueError(f"{value!r} is not an e-mail address (e.g. ops@example.com)")
        return value


class Ingress(_Model):
    domain: Annotated[str, AfterValidator(check_dns_name)]
    acme: Acme


class GitCredentials(_Model):
    ssh_key_file: str | None = None
    token_env: EnvName | None = None

    @model_validator(mode="after")
    def _one(self) -> GitCredentials:
        if (self.ssh_key_file is None) == (self.token_env is None):
            raise ValueError("give exactly one of sshKeyFile or tokenEnv")
        return self


class GitOps(_Model):
    repo_url: str = Field(alias="repoURL")
    branch: str = "main"
    path: str = "gitops"
    credentials: GitCredentials | None = None

    @field_validator("repo_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not (_URL.match(value) or _SCP_URL.match(value)):
            raise ValueError(
                f"{value!r} is not a Git URL: use ssh (git@host:org/repo.git), https://… or file:///path"
            )
        if _URL_PASSWORD.match(value):
            # The URL is committed and pushed; a password or token in it would be too. Not echoed back.
            raise ValueError(
                "the URL holds a password or token; remove it and set gitops.credentials.tokenEnv"
            )
        return value

    @field_validator("branch")
    @classmethod
    def _branch(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9._/-]+", value) or value.startswith(("/", "-")) or ".." in value:
            raise ValueError(f"{value!r} is not a branch name")
        return value

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        # No segment may start with a dot: ".", ".." and ".git" would point the tree at the workspace itself.
        if not re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*", value):
            raise ValueError(
                f"{value!r} is not a relative folder path inside the repository (e.g. gitops; no segment "
                "may start with a dot)"
            )
        return value


class Components(_Model):
    monitoring: bool = True
    logging: bool = True
    tracing: bool = True
    storage: bool = True
    vpa: bool = True
    policies: bool = True
    image_security: bool = False


class ClusterSpecBody(_Model):
    talos: Talos = Field(default_factory=Talos)
    kubernetes: Kubernetes = Field(default_factory=Kubernetes)
    network: Network
    control_plane: ControlPlane
    nodes: list[Node] = Field(min_length=1)
    load_balancer: LoadBalancer
    ingress: Ingress
    gitops: GitOps
    components: Components = Field(default_factory=Components)


class Cluster(_Model):
    """A whole answers file. Build it with `parse` (which runs the cross-field checks), not directly."""

    api_version: Literal["skynet.dev/v1alpha1"] = API_VERSION
    kind: Literal["Cluster"] = KIND
    metadata: Metadata
    spec: ClusterSpecBody

    @property
    def name(self) -> str:
        return self.metadata.name

    @property
    def control_planes(self) -> list[Node]:
        return [n for n in self.spec.nodes if n.role == "controlplane"]

    @property
    def workers(self) -> list[Node]:
        return [n for n in self.spec.nodes if n.role == "worker"]
