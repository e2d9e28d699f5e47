"""Simulated platform charts (cert-manager, MetalLB, Traefik, kube-prometheus-stack, Loki…): their main objects.

The add-ons (metrics-server, external-dns, Alloy) are in charts_addons.py and join the table here.
"""

from __future__ import annotations

from typing import Final

from skynet_lab.kubesim import charts_addons
from skynet_lab.kubesim.charts import (
    Ctx,
    Obj,
    Renderer,
    crds_for,
    ingress,
    obj,
    service,
    service_account,
    simple,
    workload,
)


def _cert_manager(ctx: Ctx, include_crds: bool) -> list[Obj]:
    out = (
        crds_for(ctx, "cert-manager.io", "acme.cert-manager.io")
        if ctx.get("crds.enabled") or ctx.get("installCRDs")
        else []
    )
    for comp, suffix, port in (
        ("controller", "", 9402),
        ("cainjector", "-cainjector", 0),
        ("webhook", "-webhook", 10250),
    ):
        name = f"{ctx.fullname}{suffix}"
        labels = ctx.labels("cert-manager" if not suffix else suffix[1:], comp, "cert-manager")
        out.append(service_account(ctx, name, labels))
        image = f"quay.io/jetstack/cert-manager-{comp}:{ctx.app_version}"
        out.append(
            workload(
                ctx,
                "Deployment",
                name,
                labels,
                image,
                [port] if port else None,
                replicas=ctx.get("replicaCount", 1),
                service_account=name,
            )
        )
        if port:
            out.append(
                service(
                    ctx,
                    name,
                    labels,
                    [
                        (
                            "https" if comp == "webhook" else "tcp-prometheus-servicemonitor",
                            443 if comp == "webhook" else port,
                            port,
                        )
                    ],
                )
            )
    return out


def _metallb(ctx: Ctx, include_crds: bool) -> list[Obj]:
    out = crds_for(ctx, "metallb.io") if ctx.get("crds.enabled", True) else []
    controller = ctx.labels("metallb", "controller")
    speaker = ctx.labels("metallb", "speaker")
    out += [
        service_account(ctx, f"{ctx.fullname}-controller", controller),
        service_account(ctx, f"{ctx.fullname}-speaker", speaker),
    ]
    out.append(service(ctx, "metallb-webhook-service", controller, [("webhook", 443, 9443)]))
    out.append(
        workload(
            ctx,
            "Deployment",
            f"{ctx.fullname}-controller",
            controller,
            f"quay.io/metallb/controller:{ctx.app_version}",
            [7472, 9443],
        )
    )
    if ctx.get("speaker.enabled", True):
        out.append(
            workload(
                ctx,
                "DaemonSet",
                f"{ctx.fullname}-speaker",
                speaker,
                f"quay.io/metallb/speaker:{ctx.app_version}",
                [7472, 7946],
            )
        )
    return out


def _traefik(ctx: Ctx, include_crds: bool) -> list[Obj]:
    out = crds_for(ctx, "traefik.io") if include_crds else []
    labels = ctx.labels("traefik")
    out.append(service_account(ctx, ctx.fullname, labels))
    svc = ctx.get("service.spec") or {}
    out.append(
        service(
            ctx,
            ctx.fullname,
            labels,
            [("web", 80, 8000), ("websecure", 443, 8443)],
            type_=svc.get("type", "LoadBalancer"),
            annotations=ctx.get("service.annotations"),
            extra={k: v for k, v in svc.items() if k != "type"},
        )
    )
    out.append(
        workload(
            ctx,
            "Deployment",
            ctx.fullname,
            labels,
            f"docker.io/traefik:{ctx.app_version}",
            [8000, 8443, 8080],
            replicas=ctx.get("deployment.replicas", 1),
            service_account=ctx.fullname,
        )
    )
    if ctx.get("ingressClass.enabled", True):
        default = ctx.get("ingressClass.isDefaultClass", True)
        out.append(
            obj(
                ctx,
                "networking.k8s.io/v1",
                "IngressClass",
                ctx.get("ingressClass.name") or ctx.fullname,
                labels,
                {"spec": {"controller": "traefik.io/ingress-controller"}},
                annotations={"ingressclass.kubernetes.io/is-default-class": "true"} if default else None,
            )
        )
    return out


def _prometheus_crds(ctx: Ctx, include_crds: bool) -> list[Obj]:
    return crds_for(ctx, "monitoring.coreos.com")


def _claim(ctx: Ctx, spec_path: str) -> list[tuple[str, str, str]]:
    spec = ctx.get(spec_path)
    if not isinstance(spec, dict):
        return []
    size = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "10Gi")
    return [("storage", spec.get("storageClassName", ""), size)]


def _served(
    ctx: Ctx,
    kind: str,
    name: str,
    labels: dict[str, str],
    port: tuple[str, int, int],
    image: str,
    *,
    workload_name: str = "",
    claims: list[tuple[str, str, str]] | None = None,
) -> list[Obj]:
    """A one-port Service `name` (port = (name, port, target)) and the workload behind it (default: same name)."""
    return [
        service(ctx, name, labels, [port]),
        workload(ctx, kind, workload_name or name, labels, image, [port[2]], claims=claims),
    ]


def _kube_prometheus_stack(ctx: Ctx, include_crds: bool) -> list[Obj]:
    out = crds_for(ctx, "monitoring.coreos.com") if ctx.get("crds.enabled", True) and include_crds else []
    f = ctx.fullname
    op = ctx.labels("kube-prometheus-stack-prometheus-operator", "prometheus-operator")
    out.append(service_account(ctx, f"{f}-operator", op))
    out += _served(
        ctx,
        "Deployment",
        f"{f}-operator",
        op,
        ("https", 443, 10250),
        f"quay.io/prometheus-operator/prometheus-operator:{ctx.app_version}",
    )
    graf = ctx.labels("grafana")
    graf["app.kubernetes.io/instance"] = ctx.release
    secret = ctx.get("grafana.admin.existingSecret")
    graf_kind = (
        "StatefulSet"
        if ctx.get("grafana.persistence.type") == "sts" and ctx.get("grafana.persistence.enabled")
        else "Deployment"
    )
    graf_claims = (
        [
            (
                "storage",
                ctx.get("grafana.persistence.storageClassName", ""),
                ctx.get("grafana.persistence.size", "10Gi"),
            )
        ]
        if graf_kind == "StatefulSet"
        else None
    )
    out.append(service(ctx, f"{f}-grafana", graf, [("http-web", 80, 3000)]))
    out.append(
        workload(
            ctx, graf_kind, f"{f}-grafana", graf, "docker.io/grafana/grafana:12.3.1", [3000],
            secret_env=(secret, ctx.get("grafana.admin.passwordKey", "admin-password")) if secret else None, claims=graf_claims,
        )
    )  # fmt: skip
    ing = ingress(ctx, f"{f}-grafana", graf, ctx.get("grafana.ingress") or {}, "", f"{f}-grafana", 80)
    if ing is not None:
        out.append(ing)
    out += _served(
        ctx,
        "Deployment",
        f"{f}-kube-state-metrics",
        ctx.labels("kube-state-metrics"),
        ("http", 8080, 8080),
        "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.17.0",
    )
    out += _served(
        ctx,
        "DaemonSet",
        f"{f}-prometheus-node-exporter",
        ctx.labels("prometheus-node-exporter", "metrics"),
        ("http-metrics", 9100, 9100),
        "quay.io/prometheus/node-exporter:v1.10.2",
    )
    out += _served(
        ctx,
        "StatefulSet",
        f"{f}-prometheus",
        ctx.labels("prometheus", "prometheus"),
        ("http-web", 9090, 9090),
        "quay.io/prometheus/prometheus:v3.7.3",
        workload_name=f"prometheus-{f}-prometheus",
        claims=_claim(ctx, "prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec"),
    )
    out += _served(
        ctx,
        "StatefulSet",
        f"{f}-alertmanager",
        ctx.labels("alertmanager", "alertmanager"),
        ("http-web", 9093, 9093),
        "quay.io/prometheus/alertmanager:v0.29.0",
        workload_name=f"alertmanager-{f}-alertmanager",
        claims=_claim(ctx, "alertmanager.alertmanagerSpec.storage.volumeClaimTemplate.spec"),
    )
    return out


def _loki(ctx: Ctx, include_crds: bool) -> list[Obj]:
    labels = ctx.labels("loki", "single-binary")
    persistent = ctx.get("singleBinary.persistence.enabled", True)
    claims = (
        [
            (
                "storage",
                ctx.get("singleBinary.persistence.storageClass") or "",
                ctx.get("singleBinary.persistence.size", "10Gi"),
            )
        ]
        if persistent
        else None
    )
    out = [
        service_account(ctx, ctx.fullname, labels),
        service(ctx, ctx.fullname, labels, [("http-metrics", 3100, 3100)]),
    ]
    out.append(
        workload(
            ctx,
            "StatefulSet",
            ctx.fullname,
            labels,
            f"docker.io/grafana/loki:{ctx.app_version}",
            [3100],
            replicas=ctx.get("singleBinary.replicas", 1),
            claims=claims,
        )
    )
    if ctx.get("gateway.enabled", True):
        out += _served(
            ctx,
            "Deployment",
            f"{ctx.fullname}-gateway",
            ctx.labels("loki", "gateway"),
            ("http-metrics", 80, 8080),
            "docker.io/nginxinc/nginx-unprivileged:1.29-alpine",
        )
    return out


def _jaeger(ctx: Ctx, include_crds: bool) -> list[Obj]:
    labels = ctx.labels("jaeger", "all-in-one")
    out = [service_account(ctx, ctx.fullname, labels)]
    out.append(
        service(
            ctx,
            ctx.fullname,
            labels,
            [("http-query", 16686, 16686), ("otlp-grpc", 4317, 4317), ("otlp-http", 4318, 4318)],
        )
    )
    out.append(
        workload(
            ctx,
            "Deployment",
            ctx.fullname,
            labels,
            f"docker.io/jaegertracing/jaeger:{ctx.app_version}",
            [16686, 4317, 4318],
            replicas=ctx.get("jaeger.replicas", 1),
        )
    )
    ing = ingress(ctx, ctx.fullname, labels, ctx.get("jaeger.ingress") or {}, "", ctx.fullname, 16686)
    return out + ([ing] if ing else [])


def _local_path(ctx: Ctx, include_crds: bool) -> list[Obj]:
    out = simple("docker.io/rancher/local-path-provisioner:{v}", [])(ctx, include_crds)
    if ctx.get("storageClass.create", True):
        default = "true" if ctx.get("storageClass.defaultClass") else "false"
        out.append(
            obj(
                ctx, "storage.k8s.io/v1", "StorageClass", ctx.get("storageClass.name", "local-path"), ctx.labels("local-path-provisioner"),
                {"provisioner": "cluster.local/local-path-provisioner", "reclaimPolicy": ctx.get("storageClass.reclaimPolicy", "Delete"), "volumeBindingMode": "WaitForFirstConsumer"},
                annotations={"storageclass.kubernetes.io/is-default-class": default},
            )
        )  # fmt: skip
    return out


def _vpa(ctx: Ctx, include_crds: bool) -> list[Obj]:
    out = crds_for(ctx, "autoscaling.k8s.io")
    for comp in ("recommender", "updater", "admission-controller"):
        if ctx.get(f"{comp.replace('-c', 'C')}.enabled", True):
            labels = ctx.labels("vpa", comp)
            out.append(
                workload(
                    ctx,
                    "Deployment",
                    f"{ctx.fullname}-{comp}",
                    labels,
                    f"registry.k8s.io/autoscaling/vpa-{comp}:{ctx.app_version}",
                    [8000],
                )
            )
    return out


def _kyverno(ctx: Ctx, include_crds: bool) -> list[Obj]:
    out = crds_for(ctx, "kyverno.io", "policies.kyverno.io", "reports.kyverno.io", "wgpolicyk8s.io")
    for comp in ("admission-controller", "background-controller", "cleanup-controller", "reports-controller"):
        labels = ctx.labels("kyverno", comp, "kyverno")
        out.append(
            workload(
                ctx,
                "Deployment",
                f"{ctx.fullname}-{comp}",
                labels,
                f"reg.kyverno.io/kyverno/{comp.split('-')[0]}:{ctx.app_version}",
                [9443],
            )
        )
    out.append(
        service(
            ctx,
            f"{ctx.fullname}-svc",
            ctx.labels("kyverno", "admission-controller", "kyverno"),
            [("https", 443, 9443)],
        )
    )
    return out


def _kyverno_policies(ctx: Ctx, include_crds: bool) -> list[Obj]:
    out = []
    for name in ("disallow-privileged-containers", "disallow-host-namespaces", "restrict-image-registries"):
        body = {
            "spec": {
                "validationFailureAction": ctx.get("validationFailureAction", "Audit"),
                "background": True,
                "rules": [],
            }
        }
        out.append(obj(ctx, "kyverno.io/v1", "ClusterPolicy", name, ctx.labels("kyverno-policies"), body))
    return out


def _trivy(ctx: Ctx, include_crds: bool) -> list[Obj]:
    return (crds_for(ctx, "aquasecurity.github.io") if include_crds else []) + simple(
        "mirror.gcr.io/aquasec/trivy-operator:{v}", [8080]
    )(ctx, include_crds)


# chart name -> (app version, renderer(ctx, include_crds))
CHARTS: Final[dict[str, tuple[str, Renderer]]] = {
    "cert-manager": ("v1.21.1", _cert_manager),
    "metallb": ("v0.16.1", _metallb),
    "traefik": ("v3.7.11", _traefik),
    "prometheus-operator-crds": ("v0.93.1", _prometheus_crds),
    "kube-prometheus-stack": ("v0.93.1", _kube_prometheus_stack),
    "loki": ("3.7.6", _loki),
    "jaeger": ("2.19.0", _jaeger),
    "local-path-provisioner": ("v0.0.37", _local_path),
    "vertical-pod-autoscaler": ("1.5.1", _vpa),
    "kyverno": ("v1.16.2", _kyverno),
    "kyverno-policies": ("v1.16.2", _kyverno_policies),
    "trivy-operator": ("0.30.0", _trivy),
    **charts_addons.CHARTS,
}
