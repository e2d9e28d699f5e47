"""The simulated `helm template`: a chart of the table rendered in Helm's output order.

The output is a realistic subset of each chart, not the chart itself: the objects a cluster shows once it is
installed. Platform charts live in charts_platform.py, argo-cd in charts_argocd.py; an unknown chart renders a
Deployment and a Service. Used by the fake helm and by the lab's Argo CD.
"""

from __future__ import annotations

from typing import Any, Final

from skynet_lab.kubesim.charts import Ctx, Obj, Renderer, simple
from skynet_lab.kubesim.charts_argocd import APP_VERSION, render_argocd
from skynet_lab.kubesim.charts_platform import CHARTS

# Helm's install order (releaseutil.InstallOrder): `helm template` prints manifests in this kind order.
INSTALL_ORDER: Final = (
    "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy", "PodDisruptionBudget",
    "ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass", "PersistentVolume",
    "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole", "ClusterRoleList", "ClusterRoleBinding",
    "ClusterRoleBindingList", "Role", "RoleList", "RoleBinding", "RoleBindingList", "Service", "DaemonSet", "Pod",
    "ReplicationController", "ReplicaSet", "Deployment", "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob",
    "IngressClass", "Ingress", "APIService", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
)  # fmt: skip


def _generic(ctx: Ctx, include_crds: bool) -> list[Obj]:
    return simple(f"docker.io/library/{ctx.chart}:{{v}}", [8080])(ctx, include_crds)


def _order(o: Obj) -> tuple[int, str]:
    kind = o.get("kind", "")
    return (INSTALL_ORDER.index(kind) if kind in INSTALL_ORDER else len(INSTALL_ORDER), o["metadata"]["name"])


def render(
    release: str,
    chart: str,
    *,
    namespace: str = "default",
    version: str = "",
    values: dict[str, Any] | None = None,
    include_crds: bool = True,
) -> list[tuple[str, Obj]]:
    """(source path, manifest) pairs in Helm's output order for `helm template release chart`."""
    chart = chart.rstrip("/").rsplit("/", 1)[-1]
    renderer: Renderer
    if chart == "argo-cd":
        renderer, app_version = render_argocd, APP_VERSION
    else:
        app_version, renderer = CHARTS.get(chart, (version or "1.0.0", _generic))
    ctx = Ctx(release, chart, namespace, version or app_version, values or {}, app_version)
    objects = sorted(renderer(ctx, include_crds), key=_order)
    return [(_source(chart, o), o) for o in objects]


def _source(chart: str, o: Obj) -> str:
    kind = o["kind"]
    if kind == "CustomResourceDefinition":
        return f"{chart}/templates/crds/crd-{o['spec']['names']['singular']}.yaml"
    name = o["metadata"]["name"]
    if chart == "argo-cd" and kind in ("ConfigMap", "Secret"):
        return f"{chart}/templates/argocd-configs/{name}.yaml"
    component = (o["metadata"].get("labels") or {}).get("app.kubernetes.io/component", "")
    if chart == "argo-cd" and component and component != "redis":
        component = f"argocd-{component}"
    folder = f"{component}/" if component else ""
    return f"{chart}/templates/{folder}{kind.lower()}.yaml"
