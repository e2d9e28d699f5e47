"""Cross-field rules, warnings, error paths, and the entry points that load, check and dump answers."""

from __future__ import annotations

import difflib
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from skynet_tui import versions
from skynet_tui.spec.fields import pool_bounds
from skynet_tui.spec.model import Cluster


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


def cross_field_issues(cluster: Cluster) -> list[Issue]:
    """Every rule that looks at more than one field. Field-level checks have already passed."""
    spec = cluster.spec
    issues: list[Issue] = []
    subnet = ipaddress.IPv4Network(spec.network.subnet)
    node_ips = {_ip(n.ip): i for i, n in enumerate(spec.nodes)}

    def ref(index: int) -> str:
        return f"spec.nodes[{index}] ({spec.nodes[index].hostname})"

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
            issues.append(Issue(f"spec.nodes[{i}].ip", f"{node.ip} is already used by {ref(ips[node.ip])}"))
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
        issues.append(Issue("spec.network.gateway", f"{gateway} is also the IP of {ref(node_ips[gateway])}"))

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
                    f"the VIP {endpoint_ip} is also the IP of {ref(node_ips[endpoint_ip])}; pick a free address",
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
                issues.append(Issue(path, f"{entry} contains {address}, the IP of {ref(index)}"))
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

    issues += version_issues(spec.talos.version, k8s.version)

    if versions.minor_of(spec.talos.version) != "1.13" and not cluster.workers:
        issues.append(
            Issue(
                "spec.nodes",
                f"Talos {spec.talos.version} without workers: the platform needs a worker node "
                "(Skynet lets control planes run workloads on Talos v1.13 only)",
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
                "none: install your CNI right after bootstrap; the install waits for every node Ready",
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
    except UnicodeDecodeError as exc:
        raise SpecError([Issue(str(path), f"not UTF-8 text (byte {exc.start}); save it as UTF-8")]) from None
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
