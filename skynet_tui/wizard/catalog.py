"""The wizard's field catalogue: the steps, and every input with the answers path it edits (pure Python)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from skynet_tui import versions

StepId = Literal["cluster", "nodes", "network", "domain", "gitops", "components", "review"]
FieldKind = Literal["text", "list", "bool", "choice"]

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

    @property
    def widget_id(self) -> str:
        return widget_id(self.path)


def widget_id(path: str) -> str:
    """`spec.network.gateway` → `f-spec-network-gateway` (a valid Textual id)."""
    return "f-" + path.replace(".", "-")


_COMPONENTS = (
    ("monitoring", "Monitoring", "kube-prometheus-stack: Prometheus, Alertmanager and Grafana dashboards"),
    ("logging", "Logging", "Loki + Alloy: every pod's logs, searchable in Grafana"),
    ("tracing", "Tracing", "Jaeger: distributed traces from instrumented apps"),
    ("storage", "Storage", "local-path-provisioner: PersistentVolumes on the nodes' disks"),
    ("vpa", "VPA", "Vertical Pod Autoscaler: recommends and sets CPU/memory requests"),
    ("policies", "Policies", "default network policies, quotas, limit ranges and RBAC roles"),
    ("imageSecurity", "Image security", "admission policies and image scanning (off by default)"),
)

_PROVIDERS = tuple((p, p) for p in ("cloudflare", "route53", "digitalocean", "rfc2136"))

FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "metadata.name",
        "cluster",
        "Cluster name",
        placeholder="homelab",
        help="a DNS label (a-z, 0-9, '-'), at most 40 characters",
    ),
    FieldSpec(
        WORKSPACE,
        "cluster",
        "Workspace folder",
        placeholder="./<cluster name>",
        help="where cluster.yaml, talos/, gitops/ and secrets/ are written",
    ),
    FieldSpec(
        "spec.talos.version",
        "cluster",
        "Talos version",
        placeholder=versions.DEFAULT_TALOS,
        help=", ".join(f"v{m}.x" for m in versions.INSTALLABLE_MINORS) + " supported",
    ),
    FieldSpec("spec.kubernetes.version", "cluster", "Kubernetes", placeholder=versions.DEFAULT_KUBERNETES),
    FieldSpec(
        "spec.kubernetes.cni",
        "cluster",
        "CNI",
        kind="choice",
        choices=(("flannel (built into Talos)", "flannel"), ("none (bring your own)", "none")),
    ),
    FieldSpec("spec.kubernetes.podSubnet", "cluster", "Pod subnet", placeholder="10.244.0.0/16"),
    FieldSpec("spec.kubernetes.serviceSubnet", "cluster", "Service subnet", placeholder="10.96.0.0/12"),
    FieldSpec(
        "spec.talos.schematic",
        "cluster",
        "Schematic",
        placeholder=versions.VANILLA_SCHEMATIC[:16] + "…",
        help="Image Factory schematic id; the default is vanilla Talos",
    ),
    FieldSpec(
        "spec.network.subnet",
        "network",
        "Node subnet",
        placeholder="192.168.10.0/24",
        help="the L2 network the nodes share",
    ),
    FieldSpec("spec.network.gateway", "network", "Gateway", placeholder="192.168.10.1"),
    FieldSpec(
        "spec.network.nameservers", "network", "DNS servers", kind="list", placeholder="1.1.1.1, 9.9.9.9"
    ),
    FieldSpec("spec.network.ntp", "network", "NTP servers", kind="list", placeholder="time.cloudflare.com"),
    FieldSpec(
        "spec.controlPlane.endpoint",
        "network",
        "API endpoint",
        placeholder="192.168.10.10",
        help="an IP or DNS name; the API is https://<endpoint>:6443",
    ),
    FieldSpec(
        "spec.controlPlane.vip",
        "network",
        "Shared VIP",
        kind="bool",
        help="the control planes share the endpoint IP (Layer-2 VIP)",
    ),
    FieldSpec(
        "spec.loadBalancer.addresses",
        "network",
        "MetalLB pool",
        kind="list",
        placeholder="192.168.10.200-192.168.10.220",
        help="ranges a-b or CIDRs inside the node subnet, for LoadBalancer services",
    ),
    FieldSpec(
        "spec.ingress.domain",
        "domain",
        "Domain",
        placeholder="example.com",
        help="apps answer at argocd.<domain>, grafana.<domain>, …",
    ),
    FieldSpec(
        "spec.ingress.acme.email",
        "domain",
        "ACME e-mail",
        placeholder="ops@example.com",
        help="Let's Encrypt sends expiry notices here",
    ),
    FieldSpec(
        "spec.ingress.acme.server",
        "domain",
        "ACME server",
        kind="choice",
        choices=(("staging (test certificates)", "staging"), ("production", "production")),
    ),
    FieldSpec(
        "spec.ingress.acme.challenge",
        "domain",
        "Challenge",
        kind="choice",
        choices=(("HTTP-01 (port 80 reachable)", "http01"), ("DNS-01 (DNS provider API)", "dns01")),
    ),
    FieldSpec(
        "spec.ingress.acme.dns01.provider", "domain", "DNS provider", kind="choice", choices=_PROVIDERS
    ),
    FieldSpec(
        "spec.ingress.acme.dns01.tokenEnv",
        "domain",
        "Token variable",
        placeholder="CF_API_TOKEN",
        help="environment variable holding the API token at install; the token is never written",
    ),
    FieldSpec(
        "spec.gitops.repoURL",
        "gitops",
        "Repository",
        placeholder="git@github.com:example/homelab.git",
        help="ssh, https or file:// URL; Argo CD follows this repository",
    ),
    FieldSpec("spec.gitops.branch", "gitops", "Branch", placeholder="main"),
    FieldSpec(
        "spec.gitops.path", "gitops", "Path", placeholder="gitops", help="folder inside the repository"
    ),
    FieldSpec(
        "spec.gitops.credentials.sshKeyFile",
        "gitops",
        "Deploy key file",
        placeholder="~/.ssh/skynet_deploy",
        help="optional, for a private ssh repository; read at install, never copied",
    ),
    FieldSpec(
        "spec.gitops.credentials.tokenEnv",
        "gitops",
        "Token variable",
        placeholder="GIT_TOKEN",
        help="optional, for a private https repository: the variable holding the token",
    ),
    *(
        FieldSpec(f"spec.components.{key}", "components", label, kind="bool", help=text)
        for key, label, text in _COMPONENTS
    ),
)
FIELD_BY_PATH: dict[str, FieldSpec] = {f.path: f for f in FIELDS}

# The node dialog's inputs: keys of one node, not answers paths (a node is edited apart, then stored whole).
NODE_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "node.hostname", "nodes", "Hostname", placeholder="cp-1", help="a DNS label, unique in the cluster"
    ),
    FieldSpec(
        "node.ip",
        "nodes",
        "IP address",
        placeholder="192.168.10.11",
        help="the static address the node keeps, inside the node subnet",
    ),
    FieldSpec(
        "node.role",
        "nodes",
        "Role",
        kind="choice",
        choices=(("control plane", "controlplane"), ("worker", "worker")),
    ),
    FieldSpec(
        "node.link",
        "nodes",
        "Link",
        placeholder="eth0  or  aa:bb:cc:dd:ee:ff",
        help="the network link by name, or pinned by its MAC address",
    ),
    FieldSpec(
        "node.installDisk",
        "nodes",
        "Install disk",
        placeholder="/dev/sda  or  serial:…  or  wwid:…",
        help="Talos wipes this disk; pin it by serial or WWID when names may change",
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
