"""The answers file (`cluster.yaml`, skynet.dev/v1alpha1): model, every validation rule, load and dump."""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from skynet_tui import versions

API_VERSION = "skynet.dev/v1alpha1"
KIND = "Cluster"

_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_NAME = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$"
)
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@([A-Za-z0-9-]+\.)+[A-Za-z]{2,}$")
_MAC = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")
_SCP_URL = re.compile(r"^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+$")
_URL = re.compile(r"^(ssh|https|http|file|git)://[^\s]+$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_IFACE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,14}$")


@dataclass(frozen=True)
class Issue:
    """One problem with the answers file: where (`spec.nodes[2].ip`), what, and for warnings, nothing fatal."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class SpecError(ValueError):
    """The answers file is invalid; `issues` lists every error with its field path."""

    def __init__(self, issues: list[Issue]):
        self.issues = issues
        super().__init__("\n".join(str(issue) for issue in issues))


# ---------------------------------------------------------------- field checks (shared with the wizard)


def check_ip(value: str) -> str:
    try:
        return str(ipaddress.IPv4Address(value.strip()))
    except ValueError:
        raise ValueError(f"{value!r} is not an IPv4 address (e.g. 192.168.10.11)") from None


def check_cidr(value: str) -> str:
    if "/" not in value:
        raise ValueError(f"{value!r} needs a prefix length (e.g. {value.strip()}/24)")
    try:
        return str(ipaddress.IPv4Network(value.strip(), strict=True))
    except ValueError as exc:
        if "host bits set" in str(exc):
            net = ipaddress.IPv4Network(value.strip(), strict=False)
            raise ValueError(f"{value!r} has host bits set; did you mean {net}?") from None
        raise ValueError(f"{value!r} is not a CIDR (e.g. 192.168.10.0/24)") from None


def check_label(value: str, max_len: int = 63) -> str:
    if not _LABEL.match(value) or len(value) > max_len:
        raise ValueError(
            f"{value!r} is not a DNS-1123 label: lowercase letters, digits and '-', "
            f"starting and ending alphanumeric, at most {max_len} characters"
        )
    return value


def check_dns_name(value: str) -> str:
    if not _DNS_NAME.match(value) or "." not in value:
        raise ValueError(f"{value!r} is not a domain name (e.g. example.com)")
    return value


def check_host(value: str) -> str:
    """An IPv4 address or a DNS name."""
    try:
        return check_ip(value)
    except ValueError:
        pass
    if not _DNS_NAME.match(value):
        raise ValueError(f"{value!r} is neither an IPv4 address nor a DNS name")
    return value


def check_pool_entry(value: str) -> str:
    """A MetalLB pool entry: `a.b.c.d-e.f.g.h` or a CIDR."""
    if "-" in value:
        first, _, last = value.partition("-")
        start, end = check_ip(first), check_ip(last)
        if ipaddress.IPv4Address(start) > ipaddress.IPv4Address(end):
            raise ValueError(f"range {value!r} is reversed: the first address must not be above the last")
        return f"{start}-{end}"
    try:
        return check_cidr(value)
    except ValueError:
        raise ValueError(f"{value!r} is neither a range a-b nor a CIDR") from None


def check_env_name(value: str | None) -> str | None:
    if value is not None and not _ENV_NAME.match(value):
        raise ValueError(f"{value!r} is not an environment variable name (e.g. CF_API_TOKEN)")
    return value


def pool_bounds(entry: str) -> tuple[ipaddress.IPv4Address, ipaddress.IPv4Address]:
    """First and last address of a valid pool entry."""
    if "-" in entry:
        first, _, last = entry.partition("-")
        return ipaddress.IPv4Address(first), ipaddress.IPv4Address(last)
    net = ipaddress.IPv4Network(entry)
    return net.network_address, net.broadcast_address


# One constrained type per kind of field: the model and the wizard share them.
IPv4 = Annotated[str, AfterValidator(check_ip)]
CIDR = Annotated[str, AfterValidator(check_cidr)]
Host = Annotated[str, AfterValidator(check_host)]
Label = Annotated[str, AfterValidator(check_label)]
PoolEntry = Annotated[str, AfterValidator(check_pool_entry)]
EnvName = Annotated[str, AfterValidator(check_env_name)]

# ---------------------------------------------------------------- model


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
        if not re.fullmatch(r"[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*", value) or ".." in value.split("/"):
            raise ValueError(f"{value!r} is not a relative folder path inside the repository (e.g. gitops)")
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


# ---------------------------------------------------------------- errors from pydantic, with paths


def format_loc(loc: Iterable[Any]) -> str:
    """('spec', 'nodes', 2, 'ip') → 'spec.nodes[2].ip'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class that holds the key at `loc` (used to suggest the nearest valid key)."""
    model: Any = Cluster
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        fields = {f.alias or name: f for name, f in model.model_fields.items()}
        field = fields.get(part)
        if field is None:
            return None
        candidates = [field.annotation, *getattr(field.annotation, "__args__", ())]
        for arg in list(candidates):
            candidates.extend(getattr(arg, "__args__", ()))
        found = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
        if not found:
            return None
        model = found[0]
    return model


def _nearest(key: str, valid: list[str]) -> list[str]:
    """The valid key a typo most likely meant: a close spelling, else one that starts the same way."""
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    if close:
        return close
    lowered = key.lower()
    return [v for v in valid if lowered.startswith(v.lower()) or v.lower().startswith(lowered)][:1]


def _issue_from_error(err: dict[str, Any]) -> Issue:
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p in {"str", "DiskSelector"}))
    # pydantic appends the union member tried ("str", "function-after[...]"); keep the field path only.
    loc = tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or p in {"literal"})))
    path = format_loc(loc)
    kind = err["type"]
    if kind == "extra_forbidden":
        model = _model_at(loc)
        valid = [f.alias or n for n, f in model.model_fields.items()] if model else []
        near = _nearest(str(loc[-1]), valid)
        hint = f"; did you mean {near[0]!r}?" if near else f"; valid keys: {', '.join(valid)}"
        return Issue(path, f"unknown key{hint}")
    if kind == "missing":
        return Issue(path, "is required")
    message = err["msg"]
    message = message.removeprefix("Value error, ")
    if kind == "literal_error":
        message = f"{err.get('input')!r} is not allowed; {message.lower()}"
    return Issue(path, message)


_TYPE_MISMATCH = {"string_type", "model_type", "dict_type", "model_attributes_type"}


def _pydantic_issues(exc: ValidationError) -> list[Issue]:
    # A union field (installDisk) reports one error per member: the member of the wrong type says only
    # "should be a valid string/dict"; keep the error of the member the input was meant for.
    errors = exc.errors()
    by_path: dict[str, list[tuple[dict[str, Any], Issue]]] = {}
    for err in errors:
        issue = _issue_from_error(err)
        by_path.setdefault(issue.path, []).append((err, issue))
    out = []
    for found in by_path.values():
        specific = [issue for err, issue in found if err["type"] not in _TYPE_MISMATCH]
        out.append((specific or [found[0][1]])[0])
    return out


# ---------------------------------------------------------------- cross-field rules


def _ip(value: str) -> ipaddress.IPv4Address:
    return ipaddress.IPv4Address(value)


def cross_field_issues(cluster: Cluster) -> list[Issue]:
    """Every rule that looks at more than one field. Field-level checks have already passed."""
    spec = cluster.spec
    issues: list[Issue] = []
    subnet = ipaddress.IPv4Network(spec.network.subnet)
    node_ips = {_ip(n.ip): i for i, n in enumerate(spec.nodes)}

    def outside(address: ipaddress.IPv4Address) -> bool:
        return address not in subnet

    hostnames: dict[str, int] = {}
    ips: dict[str, int] = {}
    for i, node in enumerate(spec.nodes):
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
                Issue(f"spec.nodes[{i}].ip", f"{node.ip} is already used by spec.nodes[{ips[node.ip]}]")
            )
        ips.setdefault(node.ip, i)
        address = _ip(node.ip)
        if outside(address):
            issues.append(Issue(f"spec.nodes[{i}].ip", f"{node.ip} is outside network.subnet {subnet}"))
        elif address in (subnet.network_address, subnet.broadcast_address):
            issues.append(
                Issue(f"spec.nodes[{i}].ip", f"{node.ip} is the network or broadcast address of {subnet}")
            )

    if not cluster.control_planes:
        issues.append(Issue("spec.nodes", "no node has role controlplane; at least one is required"))

    gateway = _ip(spec.network.gateway)
    if outside(gateway):
        issues.append(Issue("spec.network.gateway", f"{gateway} is outside network.subnet {subnet}"))
    if gateway in node_ips:
        issues.append(
            Issue("spec.network.gateway", f"{gateway} is also the IP of spec.nodes[{node_ips[gateway]}]")
        )

    cp = spec.control_plane
    endpoint_ip = _ip(cp.endpoint) if cp.endpoint_is_ip else None
    if cp.vip and endpoint_ip is None:
        issues.append(
            Issue(
                "spec.controlPlane.vip", f"vip: true needs an IP endpoint, not the DNS name {cp.endpoint!r}"
            )
        )
    if endpoint_ip is not None:
        if outside(endpoint_ip):
            issues.append(
                Issue("spec.controlPlane.endpoint", f"{endpoint_ip} is outside network.subnet {subnet}")
            )
        if cp.vip and endpoint_ip in node_ips:
            issues.append(
                Issue(
                    "spec.controlPlane.endpoint",
                    f"the VIP {endpoint_ip} is also the IP of spec.nodes[{node_ips[endpoint_ip]}]; pick a free address",
                )
            )
        if cp.vip and endpoint_ip == gateway:
            issues.append(Issue("spec.controlPlane.endpoint", f"the VIP {endpoint_ip} is the gateway"))
        if not cp.vip and endpoint_ip not in node_ips:
            pass  # an external load balancer in front of the control planes is fine

    ranges: list[tuple[int, ipaddress.IPv4Address, ipaddress.IPv4Address]] = []
    for i, entry in enumerate(spec.load_balancer.addresses):
        path = f"spec.loadBalancer.addresses[{i}]"
        first, last = pool_bounds(entry)
        if outside(first) or outside(last):
            issues.append(Issue(path, f"{entry} is outside network.subnet {subnet}"))
        for address, index in node_ips.items():
            if first <= address <= last:
                issues.append(Issue(path, f"{entry} contains {address}, the IP of spec.nodes[{index}]"))
        if first <= gateway <= last:
            issues.append(Issue(path, f"{entry} contains the gateway {gateway}"))
        if endpoint_ip is not None and first <= endpoint_ip <= last:
            what = "VIP" if cp.vip else "API endpoint"
            issues.append(Issue(path, f"{entry} contains the {what} {endpoint_ip}"))
        for j, other_first, other_last in ranges:
            if first <= other_last and other_first <= last:
                issues.append(Issue(path, f"{entry} overlaps spec.loadBalancer.addresses[{j}]"))
        ranges.append((i, first, last))

    k8s = spec.kubernetes
    pods, services = ipaddress.IPv4Network(k8s.pod_subnet), ipaddress.IPv4Network(k8s.service_subnet)
    if pods.overlaps(services):
        issues.append(
            Issue("spec.kubernetes.serviceSubnet", f"{services} overlaps kubernetes.podSubnet {pods}")
        )
    if pods.overlaps(subnet):
        issues.append(Issue("spec.kubernetes.podSubnet", f"{pods} overlaps network.subnet {subnet}"))
    if services.overlaps(subnet):
        issues.append(Issue("spec.kubernetes.serviceSubnet", f"{services} overlaps network.subnet {subnet}"))

    if not versions.kubernetes_supported(spec.talos.version, k8s.version):
        low, high = versions.kubernetes_range(spec.talos.version) or ("?", "?")
        issues.append(
            Issue(
                "spec.kubernetes.version",
                f"Kubernetes {k8s.version} is outside Talos {spec.talos.version}'s support range {low} – {high}",
            )
        )

    acme = spec.ingress.acme
    if acme.challenge == "dns01":
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
    if first_install and cluster.spec.ingress.acme.server == "production":
        out.append(
            Issue(
                "spec.ingress.acme.server",
                "production on a first install: a misconfiguration can hit Let's Encrypt rate limits; staging first",
            )
        )
    return out


# ---------------------------------------------------------------- entry points


def check(data: Any) -> list[Issue]:
    """Every error in raw answers (a dict as read from YAML); empty when valid."""
    try:
        parse(data)
    except SpecError as exc:
        return exc.issues
    return []


def parse(data: Any) -> Cluster:
    """Validate raw answers and return the model; SpecError lists every problem with its path."""
    if not isinstance(data, dict):
        raise SpecError(
            [Issue("(file)", "the answers file must be a YAML mapping (apiVersion, kind, metadata, spec)")]
        )
    try:
        cluster = Cluster.model_validate(data)
    except ValidationError as exc:
        raise SpecError(_pydantic_issues(exc)) from None
    issues = cross_field_issues(cluster)
    if issues:
        raise SpecError(issues)
    return cluster


def loads(text: str) -> Cluster:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
        raise SpecError([Issue(where, f"not valid YAML: {getattr(exc, 'problem', exc)}")]) from None
    return parse(data)


def load(path: str | Path) -> Cluster:
    """Read and validate `cluster.yaml`."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError([Issue(str(path), f"cannot read the answers file: {exc.strerror}")]) from None
    return loads(text)


def to_data(cluster: Cluster) -> dict[str, Any]:
    """The answers as plain data with the file's key names."""
    return cluster.model_dump(mode="json", by_alias=True, exclude_none=True)


def dump(cluster: Cluster) -> str:
    """The canonical YAML text of the answers: every default written out, stable key order."""
    return yaml.safe_dump(
        to_data(cluster), sort_keys=False, default_flow_style=False, allow_unicode=True, width=120
    )


def json_schema() -> dict[str, Any]:
    """The JSON schema of the answers file, for editors."""
    schema = Cluster.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Skynet cluster answers (skynet.dev/v1alpha1)"
    return schema
