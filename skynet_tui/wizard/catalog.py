"""The wizard's field catalogue: the steps, and every input with the answers path it edits; each input's kind,
choices, help and placeholder are read from the model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_origin

from skynet_tui import spec

StepId = Literal["cluster", "nodes", "network", "domain", "gitops", "components", "review"]
FieldKind = Literal["text", "list", "keys", "bool", "choice"]  # keys: a list of lines with spaces

WORKSPACE = "workspace"  # the one field that is not part of cluster.yaml


@dataclass(frozen=True)
class Step:
    id: StepId
    title: str


STEPS: tuple[Step, ...] = (
    Step("cluster", "Cluster"),
    Step("nodes", "Nodes"),
    Step("network", "Network"),
    Step("domain", "Domain"),
    Step("gitops", "GitOps"),
    Step("components", "Components"),
    Step("review", "Review"),
)
STEP_IDS: tuple[StepId, ...] = tuple(s.id for s in STEPS)


@dataclass(frozen=True)
class FieldSpec:
    """One input of the wizard: the answers path it edits and how it reads and writes text."""

    path: str
    step: StepId
    label: str
    kind: FieldKind = "text"
    help: str = ""
    placeholder: str = ""
    choices: tuple[tuple[str, str], ...] = ()  # (label, value)
    default: str | None = None  # a choice the model falls back to: the select offers no blank then

    @property
    def widget_id(self) -> str:
        return widget_id(self.path)


def widget_id(path: str) -> str:
    """`spec.network.gateway` → `f-spec-network-gateway` (a valid Textual id)."""
    return "f-" + path.replace(".", "-")


# Labels for choices whose bare value says too little; the values themselves are the model's Literals.
_CHOICE_LABELS = {
    "flannel": "flannel (built into Talos)",
    "none": "none (bring your own)",
    "staging": "staging (test certificates)",
    "http01": "HTTP-01 (port 80 reachable)",
    "dns01": "DNS-01 (DNS provider API)",
    "controlplane": "control plane",
}


def _placeholder(example: Any) -> str:
    """The model's example as a hint that cannot pass for a value: `e.g. homelab`."""
    if example is None or isinstance(example, bool):
        return ""
    return "e.g. " + (", ".join(map(str, example)) if isinstance(example, list) else str(example))


def _field(path: str, step: StepId, label: str, *, model_path: str = "", placeholder: str = "") -> FieldSpec:
    """The input of an answers field: its kind, choices, help and placeholder read from the model (at
    `model_path` when the wizard's path is not an answers path)."""
    source = model_path or path
    info = spec.field_at(source)
    annotation = info.annotation
    values = spec.choices(source)
    kind: FieldKind = "text"
    if values:
        kind = "choice"
    elif annotation is bool:
        kind = "bool"
    elif get_origin(annotation) is list:
        kind = "list"
    return FieldSpec(
        path,
        step,
        label,
        kind=kind,
        help=spec.help_line(source),
        placeholder=placeholder or _placeholder(spec.example(source)),
        choices=tuple((_CHOICE_LABELS.get(value, value), value) for value in values),
        default=str(info.default) if values and info.default in values else None,
    )


def _components() -> tuple[tuple[str, str], ...]:
    """(answers key, label) of every component switch, in the model's order, each labelled by its title."""
    return tuple(
        (info.alias or name, info.title or name) for name, info in spec.Components.model_fields.items()
    )


RECIPIENTS = "spec.secrets.encryption.age.recipients"

FIELDS: tuple[FieldSpec, ...] = (
    _field("metadata.name", "cluster", "Cluster name"),
    FieldSpec(
        WORKSPACE,
        "cluster",
        "Workspace folder",
        placeholder="default: ./<cluster name>",
        help="Where cluster.yaml, talos/, gitops/ and secrets/ are written",
    ),
    _field("spec.talos.version", "cluster", "Talos version"),
    _field("spec.kubernetes.version", "cluster", "Kubernetes"),
    _field("spec.kubernetes.cni", "cluster", "CNI"),
    _field("spec.kubernetes.podSubnet", "cluster", "Pod subnet"),
    _field("spec.kubernetes.serviceSubnet", "cluster", "Service subnet"),
    _field("spec.talos.schematic", "cluster", "Schematic"),
    _field("spec.network.subnet", "network", "Node subnet"),
    _field("spec.network.gateway", "network", "Gateway"),
    _field("spec.network.nameservers", "network", "DNS servers"),
    _field("spec.network.ntp", "network", "NTP servers"),
    _field("spec.controlPlane.endpoint", "network", "API endpoint"),
    _field("spec.controlPlane.vip", "network", "Shared VIP"),
    _field("spec.loadBalancer.addresses", "network", "MetalLB pool"),
    _field("spec.ingress.domain", "domain", "Domain"),
    _field("spec.ingress.acme.email", "domain", "ACME e-mail"),
    _field("spec.ingress.acme.server", "domain", "ACME server"),
    _field("spec.ingress.acme.challenge", "domain", "Challenge"),
    _field("spec.ingress.acme.dns01.provider", "domain", "DNS provider"),
    _field("spec.ingress.acme.dns01.tokenEnv", "domain", "Token variable"),
    _field("spec.gitops.repoURL", "gitops", "Repository"),
    _field("spec.gitops.branch", "gitops", "Branch"),
    _field("spec.gitops.path", "gitops", "Path"),
    _field("spec.gitops.credentials.sshKeyFile", "gitops", "Deploy key file"),
    _field("spec.gitops.credentials.tokenEnv", "gitops", "Token variable"),
    FieldSpec(
        RECIPIENTS,
        "gitops",
        "Share with",
        kind="keys",
        placeholder="e.g. age1…, ssh-ed25519 AAAA… (public keys, comma-separated)",
        help="Who can open the secrets from a clone (secrets.age/); empty: this machine only",
    ),
    *(_field(f"spec.components.{key}", "components", label) for key, label in _components()),
)
FIELD_BY_PATH: dict[str, FieldSpec] = {f.path: f for f in FIELDS}

# The node dialog's inputs: keys of one node, not answers paths (a node is edited apart, then stored whole).
# Link is the wizard's own input for the model's interface or mac; the disk takes `serial:…` for a selector.
NODE_FIELDS: tuple[FieldSpec, ...] = (
    _field("node.hostname", "nodes", "Hostname", model_path="spec.nodes.hostname"),
    _field("node.ip", "nodes", "IP address", model_path="spec.nodes.ip"),
    _field("node.role", "nodes", "Role", model_path="spec.nodes.role"),
    FieldSpec(
        "node.link",
        "nodes",
        "Link",
        placeholder="e.g. eth0  or  aa:bb:cc:dd:ee:ff",
        help="The network link by name, or pinned by its MAC address",
    ),
    _field(
        "node.installDisk",
        "nodes",
        "Install disk",
        model_path="spec.nodes.installDisk",
        placeholder="e.g. /dev/sda  or  serial:…  or  wwid:…",
    ),
)
# The node dialog's row for each key of a node (spec's issue keys): one Link row edits interface or mac.
NODE_ROW_FOR = {
    "hostname": "hostname",
    "ip": "ip",
    "role": "role",
    "installDisk": "installDisk",
    "interface": "link",
    "mac": "link",
}


def fields_of(step: StepId) -> list[FieldSpec]:
    return [f for f in FIELDS if f.step == step]
