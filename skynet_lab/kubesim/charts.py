"""What the simulated Helm charts are made of: the rendering context and the objects' builders.

The charts themselves are in charts_platform.py and charts_argocd.py; helm.py renders one of them (what
`helm template` yields).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from skynet_lab.kubesim import crds

Obj = dict[str, Any]

CLUSTER_SCOPED: Final = frozenset({
    "Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding", "StorageClass", "PersistentVolume",
    "IngressClass", "APIService", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "PriorityClass",
}) | crds.cluster_scoped_kinds()  # fmt: skip


@dataclass
class Ctx:
    """One rendering: release, chart, namespace, chart version, merged values."""

    release: str
    chart: str
    namespace: str
    version: str
    values: dict[str, Any]
    app_version: str = ""

    @property
    def fullname(self) -> str:
        name = self.release if self.chart in self.release else f"{self.release}-{self.chart}"
        return name[:63].rstrip("-")

    def get(self, path: str, default: Any = None) -> Any:
        cur: Any = self.values
        for part in path.split("."):
            if not isinstance(cur, dict) or part not in cur:
                return default
            cur = cur[part]
        return cur

    def labels(self, name: str, component: str = "", part_of: str = "") -> dict[str, str]:
        out = {
            "helm.sh/chart": f"{self.chart}-{self.version.lstrip('v') if self.chart != 'cert-manager' else self.version}",
            "app.kubernetes.io/name": name,
            "app.kubernetes.io/instance": self.release,
            "app.kubernetes.io/managed-by": "Helm",
        }
        if component:
            out["app.kubernetes.io/component"] = component
        if part_of:
            out["app.kubernetes.io/part-of"] = part_of
        if self.app_version:
            out["app.kubernetes.io/version"] = self.app_version
        return out


# A chart's renderer: (ctx, include_crds) → the manifests `helm template` prints.
Renderer = Callable[[Ctx, bool], list[Obj]]


def meta(ctx: Ctx, kind: str, name: str, labels: dict[str, str], **extra: Any) -> Obj:
    out: Obj = {"name": name}
    if kind not in CLUSTER_SCOPED:
        out["namespace"] = ctx.namespace
    out["labels"] = dict(labels)
    out.update({k: v for k, v in extra.items() if v})
    return out


def obj(
    ctx: Ctx,
    api_version: str,
    kind: str,
    name: str,
    labels: dict[str, str],
    body: Obj | None = None,
    **meta_extra: Any,
) -> Obj:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": meta(ctx, kind, name, labels, **meta_extra),
        **(body or {}),
    }


def selector(labels: dict[str, str]) -> dict[str, str]:
    return {k: labels[k] for k in ("app.kubernetes.io/name", "app.kubernetes.io/instance") if k in labels}


def workload(
    ctx: Ctx,
    kind: str,
    name: str,
    labels: dict[str, str],
    image: str,
    ports: list[int] | None = None,
    *,
    replicas: int = 1,
    service_account: str = "",
    secret_env: tuple[str, str] | None = None,
    claims: list[tuple[str, str, str]] | None = None,
    args: list[str] | None = None,
) -> Obj:
    """A Deployment/StatefulSet/DaemonSet with one container; `claims` = [(name, storageClass, size)]."""
    cname = (labels.get("app.kubernetes.io/component") or ctx.chart).replace(".", "-")
    container: Obj = {"name": cname, "image": image, "imagePullPolicy": "IfNotPresent"}
    if args:
        container["args"] = args
    if ports:
        container["ports"] = [{"containerPort": p, "name": f"p{p}", "protocol": "TCP"} for p in ports]
        container["readinessProbe"] = {"tcpSocket": {"port": ports[0]}, "periodSeconds": 10}
    if secret_env:
        container["env"] = [
            {
                "name": "ADMIN_PASSWORD",
                "valueFrom": {"secretKeyRef": {"name": secret_env[0], "key": secret_env[1]}},
            }
        ]
    pod_spec: Obj = {
        "containers": [container],
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
    }
    if service_account:
        pod_spec["serviceAccountName"] = service_account
    spec: Obj = {
        "selector": {"matchLabels": selector(labels)},
        "template": {"metadata": {"labels": dict(labels)}, "spec": pod_spec},
    }
    if kind != "DaemonSet":
        spec = {"replicas": replicas, **spec}
    if kind == "StatefulSet":
        spec["serviceName"] = name
        if claims:
            spec["volumeClaimTemplates"] = [
                {
                    "metadata": {"name": claim},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        **({"storageClassName": sc} if sc else {}),
                        "resources": {"requests": {"storage": size}},
                    },
                }
                for claim, sc, size in claims
            ]
            container["volumeMounts"] = [
                {"name": claim, "mountPath": f"/data/{claim}"} for claim, _, _ in claims
            ]
    return obj(ctx, "apps/v1", kind, name, labels, {"spec": spec})


def service(
    ctx: Ctx,
    name: str,
    labels: dict[str, str],
    ports: list[tuple[str, int, int]],
    *,
    type_: str = "ClusterIP",
    annotations: dict[str, str] | None = None,
    extra: Obj | None = None,
) -> Obj:
    spec: Obj = {
        "type": type_,
        "selector": selector(labels),
        "ports": [{"name": n, "port": p, "targetPort": t, "protocol": "TCP"} for n, p, t in ports],
        **(extra or {}),
    }
    return obj(ctx, "v1", "Service", name, labels, {"spec": spec}, annotations=annotations or None)


def service_account(ctx: Ctx, name: str, labels: dict[str, str]) -> Obj:
    return obj(ctx, "v1", "ServiceAccount", name, labels)


def ingress(
    ctx: Ctx,
    name: str,
    labels: dict[str, str],
    cfg: dict[str, Any],
    default_host: str,
    backend: str,
    port: int,
) -> Obj | None:
    """An Ingress from the usual chart keys: enabled, ingressClassName, annotations, hostname|hosts, tls."""
    if not isinstance(cfg, dict) or not cfg.get("enabled"):
        return None
    hosts = [h if isinstance(h, str) else h.get("host", "") for h in cfg.get("hosts") or []] or [
        cfg.get("hostname") or default_host
    ]
    rule_path = {
        "path": "/",
        "pathType": "Prefix",
        "backend": {"service": {"name": backend, "port": {"number": port}}},
    }
    spec: Obj = {"rules": [{"host": h, "http": {"paths": [rule_path]}} for h in hosts]}
    if cfg.get("ingressClassName"):
        spec = {"ingressClassName": cfg["ingressClassName"], **spec}
    tls = cfg.get("tls")
    if tls is True:
        spec["tls"] = [{"hosts": hosts, "secretName": f"{name}-tls"}]
    elif isinstance(tls, list) and tls:
        spec["tls"] = tls
    return obj(
        ctx,
        "networking.k8s.io/v1",
        "Ingress",
        name,
        labels,
        {"spec": spec},
        annotations=cfg.get("annotations") or None,
    )


def crds_for(ctx: Ctx, *groups: str) -> list[Obj]:
    labels = {
        "app.kubernetes.io/name": ctx.chart,
        "app.kubernetes.io/instance": ctx.release,
        "app.kubernetes.io/managed-by": "Helm",
    }
    return [c for g in groups for c in crds.group_crds(g, labels)]


def simple(image: str, ports: list[int], kind: str = "Deployment", component: str = "") -> Renderer:
    def render(ctx: Ctx, include_crds: bool) -> list[Obj]:
        labels = ctx.labels(ctx.chart if ctx.chart not in ctx.release else ctx.release, component)
        out = [service_account(ctx, ctx.fullname, labels)]
        if ports:
            out.append(service(ctx, ctx.fullname, labels, [(f"p{p}", p, p) for p in ports]))
        replicas = ctx.get("replicaCount", ctx.get(f"{ctx.chart}.replicas", 1))
        out.append(
            workload(
                ctx,
                kind,
                ctx.fullname,
                labels,
                image.format(v=ctx.app_version),
                ports,
                replicas=replicas,
                service_account=ctx.fullname,
            )
        )
        return out

    return render
