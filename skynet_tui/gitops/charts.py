"""The one pinned table of platform components: chart source, version, namespace, sync wave, PSA level."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal

from skynet_tui.spec import Cluster

# Kinds of Argo CD Application source.
AppKind = Literal["helm", "git-chart", "git-manifests", "config"]
HELM: Final = "helm"  # a chart from a Helm repository
GIT_CHART: Final = "git-chart"  # a chart inside a git repository (no Helm repository published)
GIT_MANIFESTS: Final = (
    "git-manifests"  # a kustomize folder inside a git repository at a tag (no chart at all)
)
CONFIG: Final = "config"  # plain manifests from config/<config_dir>/ in the GitOps repository

MONITORING_GROUP: Final = "monitoring.coreos.com"

# The switches of spec.components (attribute names of spec.Components) an app can be enabled by.
Component = Literal[
    "monitoring",
    "logging",
    "tracing",
    "storage",
    "vpa",
    "metrics",
    "policies",
    "image_security",
    "external_dns",
    "etcd_backup",  # spec.backup is set (not a switch of spec.components)
    "volume_backup",  # spec.backup.volumes
]

# One entry of an Application's spec.ignoreDifferences.
IgnoreDifference = dict[str, str | list[str]]


@dataclass(frozen=True)
class App:
    """One Argo CD Application of the platform."""

    name: str  # Application name; also values/<name>.yaml
    kind: AppKind
    namespace: str
    wave: int
    enabled_by: Component | None = (
        None  # attribute of spec.components (or spec.backup); None = always installed
    )
    repo_url: str = ""  # Helm repository or git repository of the chart
    chart: str = ""  # chart name (HELM)
    path: str = ""  # chart or kustomize folder inside repo_url (GIT_CHART, GIT_MANIFESTS)
    version: str = ""  # chart version or git tag
    release: str = ""  # Helm release name
    config_dir: str = ""  # config/<config_dir> (CONFIG)
    privileged: bool = False  # the namespace needs Pod Security "privileged"
    provides: tuple[str, ...] = ()  # API groups whose CRDs this app installs
    needs: tuple[str, ...] = ()  # API groups of custom resources this app's manifests use
    monitors: bool = False  # its values enable ServiceMonitors when monitoring is on
    ignore_differences: tuple[IgnoreDifference, ...] = field(default=())  # fields controllers rewrite
    own_namespace: bool = False  # its manifests hold their Namespace (with its labels): Argo CD creates none

    @property
    def finalizer(self) -> bool:
        # Argo CD itself keeps no finalizer: deleting its Application must never cascade into Argo CD.
        return self.name != "argocd"

    @property
    def values_file(self) -> str:
        return f"values/{self.name}.yaml"

    @property
    def has_values(self) -> bool:
        """Its chart takes values/<name>.yaml (config folders and plain manifests take none)."""
        return self.kind in (HELM, GIT_CHART)

    @property
    def source_name(self) -> str:
        """What the README calls its source: the chart, or the repository of a kustomize folder."""
        if self.kind == GIT_MANIFESTS:
            return self.repo_url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")
        return self.chart or self.path


# caBundle fields that a controller or cainjector fills in after apply; without these, permanently OutOfSync.
_CRD_CA_BUNDLE: Final[IgnoreDifference] = {
    "group": "apiextensions.k8s.io",
    "kind": "CustomResourceDefinition",
    "jsonPointers": ["/spec/conversion/webhook/clientConfig/caBundle"],
}
_WEBHOOK_CA_BUNDLES: Final[tuple[IgnoreDifference, ...]] = tuple(
    {
        "group": "admissionregistration.k8s.io",
        "kind": kind,
        "jqPathExpressions": [".webhooks[]?.clientConfig.caBundle"],
    }
    for kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration")
)

# THE pinned table: the newest chart releases confirmed from each project's sources and release notes.
# Bump versions here and only here; the values templates are written against these releases.
# Waves: CRD providers before their consumers; Traefik (and so a LoadBalancer IP) before anything with an
# Ingress, because Argo CD reports an Ingress Healthy only once it has an address.
APPS: Final[tuple[App, ...]] = (
    # Approves the kubelets' serving-certificate CSRs (Talos rotate-server-certificates, on with metrics):
    # first, because until it runs `kubectl logs/exec` and metrics-server fail with "tls: internal error".
    # No chart is published; Talos' metrics-server guide installs its standalone manifests, pinned here.
    App(
        "kubelet-serving-cert-approver",
        GIT_MANIFESTS,
        "kubelet-serving-cert-approver",
        -9,
        enabled_by="metrics",
        repo_url="https://github.com/alex1989hu/kubelet-serving-cert-approver.git",
        path="deploy/standalone",
        version="v0.11.0",
        own_namespace=True,  # labelled Pod Security "restricted" by its own manifests
    ),
    App(
        "prometheus-crds",
        HELM,
        "monitoring",
        -8,
        enabled_by="monitoring",
        repo_url="https://prometheus-community.github.io/helm-charts",
        chart="prometheus-operator-crds",
        version="31.0.1",
        release="prometheus-crds",
        privileged=True,
        provides=(MONITORING_GROUP,),
    ),
    # Chart 3.13.1 (app v0.8.1; kubernetes-sigs/metrics-server tag metrics-server-helm-chart-3.13.1) is the
    # newest chart, and the first whose APIService Argo CD does not keep OutOfSync.
    App(
        "metrics-server",
        HELM,
        "metrics-server",
        -7,
        enabled_by="metrics",
        repo_url="https://kubernetes-sigs.github.io/metrics-server/",
        chart="metrics-server",
        version="3.13.1",
        release="metrics-server",
        monitors=True,
    ),
    App(
        "local-path-provisioner",
        GIT_CHART,
        "local-path-storage",
        -6,
        enabled_by="storage",
        repo_url="https://github.com/rancher/local-path-provisioner.git",
        path="deploy/chart/local-path-provisioner",
        version="v0.0.37",
        release="local-path-provisioner",
        privileged=True,
    ),
    App(
        "metallb",
        HELM,
        "metallb-system",
        -5,
        repo_url="https://metallb.github.io/metallb",
        chart="metallb",
        version="0.16.1",
        release="metallb",
        privileged=True,
        provides=("metallb.io",),
        ignore_differences=(_CRD_CA_BUNDLE, *_WEBHOOK_CA_BUNDLES),
    ),
    App(
        "metallb-config",
        CONFIG,
        "metallb-system",
        -4,
        config_dir="metallb",
        privileged=True,
        needs=("metallb.io",),
    ),
    App(
        "cert-manager",
        HELM,
        "cert-manager",
        -4,
        repo_url="https://charts.jetstack.io",
        chart="cert-manager",
        version="v1.21.1",
        release="cert-manager",
        provides=("cert-manager.io", "acme.cert-manager.io"),
        monitors=True,
    ),
    App(
        "cert-manager-issuers",
        CONFIG,
        "cert-manager",
        -3,
        config_dir="cert-manager",
        needs=("cert-manager.io",),
    ),
    App(
        "traefik",
        HELM,
        "traefik",
        -2,
        repo_url="https://traefik.github.io/charts",
        chart="traefik",
        version="41.3.0",
        release="traefik",
        provides=("traefik.io",),
        monitors=True,
    ),
    App(
        "traefik-config", CONFIG, "traefik", -1, config_dir="traefik", needs=("traefik.io", "cert-manager.io")
    ),
    # Argo CD is installed at bootstrap from the same chart and values; this Application adopts it. It sits
    # after Traefik because its Ingress stays Progressing (and would hold every later wave) until Traefik
    # publishes an address.
    App(
        "argocd",
        HELM,
        "argocd",
        -1,
        repo_url="https://argoproj.github.io/argo-helm",
        chart="argo-cd",
        version="10.1.1",
        release="argocd",
        provides=("argoproj.io",),
    ),
    App(
        "kube-prometheus-stack",
        HELM,
        "monitoring",
        0,
        enabled_by="monitoring",
        repo_url="https://prometheus-community.github.io/helm-charts",
        chart="kube-prometheus-stack",
        version="88.5.3",
        release="kube-prometheus-stack",
        privileged=True,
        needs=(
            MONITORING_GROUP,
            "cert-manager.io",
        ),  # the operator webhook certificate comes from cert-manager
        ignore_differences=_WEBHOOK_CA_BUNDLES,
    ),
    # Chart 1.21.1 ships external-dns v0.21.0 (kubernetes-sigs/external-dns tag external-dns-helm-chart-1.21.1);
    # the values set policy and the annotation prefix explicitly, which v0.22 no longer defaults.
    App(
        "external-dns",
        HELM,
        "external-dns",
        0,
        enabled_by="external_dns",
        repo_url="https://kubernetes-sigs.github.io/external-dns/",
        chart="external-dns",
        version="1.21.1",
        release="external-dns",
        monitors=True,
    ),
    App(
        "kyverno",
        HELM,
        "kyverno",
        0,
        enabled_by="image_security",
        repo_url="https://kyverno.github.io/kyverno/",
        chart="kyverno",
        version="3.8.2",
        release="kyverno",
        provides=("kyverno.io", "policies.kyverno.io", "reports.kyverno.io", "wgpolicyk8s.io"),
    ),
    App(
        "loki",
        HELM,
        "logging",
        1,
        enabled_by="logging",
        repo_url="https://grafana-community.github.io/helm-charts",
        chart="loki",
        version="18.11.0",
        release="loki",
    ),
    # Chart 1.10.0 ships Alloy v1.17.0 (grafana/alloy tag helm-chart/1.10.0), which has loki.source.syslog's
    # raw format (since v1.13.0): the receiver of the Talos host logs.
    App(
        "alloy",
        HELM,
        "alloy",
        1,
        enabled_by="logging",
        repo_url="https://grafana.github.io/helm-charts",
        chart="alloy",
        version="1.10.0",
        release="alloy",
        privileged=True,
    ),
    App(
        "jaeger",
        HELM,
        "tracing",
        1,
        enabled_by="tracing",
        repo_url="https://jaegertracing.github.io/helm-charts",
        chart="jaeger",
        version="4.11.1",
        release="jaeger",
    ),
    App(
        "vpa",
        HELM,
        "vpa",
        1,
        enabled_by="vpa",
        repo_url="https://kubernetes.github.io/autoscaler",
        chart="vertical-pod-autoscaler",
        version="0.9.0",
        release="vpa",
        provides=("autoscaling.k8s.io",),
    ),
    App(
        "trivy-operator",
        HELM,
        "trivy-system",
        1,
        enabled_by="image_security",
        repo_url="https://aquasecurity.github.io/helm-charts/",
        chart="trivy-operator",
        version="0.36.0",
        release="trivy-operator",
        provides=("aquasecurity.github.io",),
        monitors=True,
    ),
    # The etcd backup CronJob (siderolabs/talos-backup; its image is pinned in the config folder): a Talos
    # ServiceAccount gives it the os:etcd:backup role, which the control planes' Talos config allows there.
    App(
        "etcd-backup",
        CONFIG,
        "etcd-backup",
        1,
        enabled_by="etcd_backup",
        config_dir="etcd-backup",  # its talos.dev ServiceAccount CRD is Talos's own (no app provides it)
    ),
    # Chart 12.1.0 ships Velero 1.18.1 (vmware-tanzu/helm-charts tag velero-12.1.0); file-system backup of the
    # volumes with Kopia through the node-agent, which mounts hostPath: its namespace is privileged.
    App(
        "velero",
        HELM,
        "velero",
        1,
        enabled_by="volume_backup",
        repo_url="https://vmware-tanzu.github.io/helm-charts",
        chart="velero",
        version="12.1.0",
        release="velero",
        privileged=True,
        provides=("velero.io",),
        monitors=True,
    ),
    App("platform-policies", CONFIG, "apps", 2, enabled_by="policies", config_dir="policies"),
    App(
        "kyverno-policies",
        HELM,
        "kyverno",
        2,
        enabled_by="image_security",
        repo_url="https://kyverno.github.io/kyverno/",
        chart="kyverno-policies",
        version="3.8.1",
        release="kyverno-policies",
        needs=("kyverno.io",),
    ),
)

BY_NAME: Final[dict[str, App]] = {app.name: app for app in APPS}


def _enabled(app: App, cluster: Cluster) -> bool:
    backup = cluster.spec.backup
    if app.enabled_by is None:
        return True
    if app.enabled_by == "etcd_backup":
        return backup is not None
    if app.enabled_by == "volume_backup":
        return backup is not None and backup.volumes
    return bool(getattr(cluster.spec.components, app.enabled_by))


def enabled_apps(cluster: Cluster) -> list[App]:
    """The apps this cluster gets, in wave order (table order within a wave)."""
    chosen = [app for app in APPS if _enabled(app, cluster)]
    return sorted(chosen, key=lambda app: app.wave)  # sorted() is stable: table order within a wave


def app_needs(app: App, cluster: Cluster) -> set[str]:
    """API groups whose CRDs must exist before `app` syncs, for this cluster."""
    needs = set(app.needs)
    if app.monitors and cluster.spec.components.monitoring:
        needs.add(MONITORING_GROUP)
    return needs
