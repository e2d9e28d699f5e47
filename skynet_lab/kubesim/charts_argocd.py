"""Simulated argo-cd chart (argo-helm 10.x): the manifests `helm template argocd argo-cd` yields, a realistic subset."""

from __future__ import annotations

import base64
from typing import Any, Final

from skynet_lab.kubesim import crds
from skynet_lab.kubesim.charts import Ctx, Obj, ingress, obj, service, service_account, workload

APP_VERSION: Final = "v3.4.4"
IMAGE: Final = f"quay.io/argoproj/argocd:{APP_VERSION}"
REDIS_IMAGE: Final = "ecr-public.aws.com/docker/library/redis:8.2.2-alpine"

CM_DEFAULTS: Final = {
    "admin.enabled": "true",
    "application.instanceLabelKey": "argocd.argoproj.io/instance",
    "application.sync.impersonation.enabled": "false",
    "exec.enabled": "false",
    "server.rbac.log.enforce.enable": "false",
    "statusbadge.enabled": "false",
    "timeout.hard.reconciliation": "0s",
    "timeout.reconciliation": "180s",
}
VALUES_KEY: Final = {
    "application-controller": "controller",
    "applicationset-controller": "applicationSet",
    "notifications-controller": "notifications",
    "repo-server": "repoServer",
    "server": "server",
    "dex-server": "dex",
}
PARAM_DEFAULTS: Final = {
    "application.namespaces": "",
    "controller.operation.processors": "10",
    "controller.status.processors": "20",
    "controller.repo.server.timeout.seconds": "60",
    "reposerver.parallelism.limit": "0",
    "server.basehref": "/",
    "server.insecure": "false",
    "server.rootpath": "",
    "server.staticassets": "/shared/app",
}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def fullname(release: str) -> str:
    return release if "argocd" in release else f"{release}-argocd"


def _component(ctx: Ctx, comp: str) -> dict[str, str]:
    f = fullname(ctx.release)
    return ctx.labels(f"{f}-{comp}", comp, "argocd")


def _rbac(ctx: Ctx, name: str, labels: dict[str, str], cluster: bool) -> list[Obj]:
    group = "rbac.authorization.k8s.io/v1"
    rules = [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}] if cluster else [
        {"apiGroups": ["argoproj.io"], "resources": ["applications", "appprojects", "applicationsets"], "verbs": ["*"]},
        {"apiGroups": [""], "resources": ["secrets", "configmaps", "events"], "verbs": ["get", "list", "watch", "create", "patch"]},
    ]  # fmt: skip
    role, binding = ("ClusterRole", "ClusterRoleBinding") if cluster else ("Role", "RoleBinding")
    subject = {"kind": "ServiceAccount", "name": name, "namespace": ctx.namespace}
    return [
        obj(ctx, group, role, name, labels, {"rules": rules}),
        obj(
            ctx,
            group,
            binding,
            name,
            labels,
            {
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role, "name": name},
                "subjects": [subject],
            },
        ),
    ]


def _netpol(ctx: Ctx, name: str, labels: dict[str, str], ports: list[int]) -> Obj:
    sel = {
        "app.kubernetes.io/name": labels["app.kubernetes.io/name"],
        "app.kubernetes.io/instance": ctx.release,
    }
    ingress_rule: Obj = {"ports": [{"port": p, "protocol": "TCP"} for p in ports]} if ports else {}
    spec = {"podSelector": {"matchLabels": sel}, "policyTypes": ["Ingress"], "ingress": [ingress_rule]}
    return obj(ctx, "networking.k8s.io/v1", "NetworkPolicy", f"{name}-network-policy", labels, {"spec": spec})


def render_argocd(ctx: Ctx, include_crds: bool) -> list[Obj]:
    f = fullname(ctx.release)
    out: list[Obj] = []
    if ctx.get("crds.install", True):
        keep = {"helm.sh/resource-policy": "keep"} if ctx.get("crds.keep", True) else {}
        for c in crds.group_crds(
            "argoproj.io", {"app.kubernetes.io/name": "argocd", "app.kubernetes.io/part-of": "argocd"}
        ):
            if keep or ctx.get("crds.annotations"):
                c["metadata"]["annotations"] = {**keep, **(ctx.get("crds.annotations") or {})}
            out.append(c)
    common = ctx.labels("argocd-cm", "server", "argocd")
    cm = dict(CM_DEFAULTS)
    domain = ctx.get("global.domain", "argocd.example.com")
    cm["url"] = f"https://{domain}"
    cm.update({k: _text(v) for k, v in (ctx.get("configs.cm") or {}).items() if k != "create"})
    out.append(obj(ctx, "v1", "ConfigMap", "argocd-cm", common, {"data": cm}))
    params = dict(PARAM_DEFAULTS)
    params.update({k: _text(v) for k, v in (ctx.get("configs.params") or {}).items() if k != "create"})
    out.append(
        obj(
            ctx,
            "v1",
            "ConfigMap",
            "argocd-cmd-params-cm",
            ctx.labels("argocd-cmd-params-cm", "", "argocd"),
            {"data": params},
        )
    )
    rbac = {"policy.csv": "", "policy.default": "", "policy.matchMode": "glob", "scopes": "[groups]"}
    rbac.update({k: _text(v) for k, v in (ctx.get("configs.rbac") or {}).items() if k != "create"})
    out.append(
        obj(
            ctx,
            "v1",
            "ConfigMap",
            "argocd-rbac-cm",
            ctx.labels("argocd-rbac-cm", "server", "argocd"),
            {"data": rbac},
        )
    )
    out.append(
        obj(ctx, "v1", "ConfigMap", "argocd-gpg-keys-cm", ctx.labels("argocd-gpg-keys-cm", "", "argocd"))
    )
    out.append(
        obj(ctx, "v1", "ConfigMap", "argocd-tls-certs-cm", ctx.labels("argocd-tls-certs-cm", "", "argocd"))
    )
    if ctx.get("configs.secret.createSecret", True):
        data = {}
        if ctx.get("configs.secret.argocdServerAdminPassword"):
            data["admin.password"] = base64.b64encode(
                str(ctx.get("configs.secret.argocdServerAdminPassword")).encode()
            ).decode()
            mtime = ctx.get("configs.secret.argocdServerAdminPasswordMtime") or "2026-01-01T00:00:00Z"
            data["admin.passwordMtime"] = base64.b64encode(str(mtime).encode()).decode()
        body: Obj = {"type": "Opaque"}
        if data:
            body["data"] = data
        out.append(
            obj(ctx, "v1", "Secret", "argocd-secret", ctx.labels("argocd-secret", "server", "argocd"), body)
        )

    netpol = ctx.get("global.networkPolicy.create", True)
    parts = [
        ("application-controller", "StatefulSet", [8082], True),
        ("applicationset-controller", "Deployment", [7000, 8080], False),
        ("notifications-controller", "Deployment", [9001], False),
        ("repo-server", "Deployment", [8081, 8084], False),
        ("server", "Deployment", [8080, 8083], True),
    ]
    if ctx.get("dex.enabled", True):
        parts.append(("dex-server", "Deployment", [5556, 5557], False))
    for comp, kind, ports, cluster_rbac in parts:
        name = f"{f}-{comp}"
        labels = _component(ctx, comp)
        out.append(service_account(ctx, name, labels))
        out += _rbac(ctx, name, labels, False)
        if cluster_rbac:
            out += _rbac(ctx, name, labels, True)
        if netpol:
            out.append(_netpol(ctx, name, labels, [] if comp == "server" else ports))
        image = "ghcr.io/dexidp/dex:v2.44.0" if comp == "dex-server" else IMAGE
        args = [f"/usr/local/bin/argocd-{comp}"] if comp != "dex-server" else ["rundex"]
        replicas = ctx.get(f"{VALUES_KEY[comp]}.replicas", 1)
        out.append(
            workload(
                ctx, kind, name, labels, image, ports, replicas=replicas, service_account=name, args=args
            )
        )
        if comp == "server":
            out.append(service(ctx, name, labels, [("http", 80, 8080), ("https", 443, 8080)]))
            ing = ingress(
                ctx,
                name,
                labels,
                ctx.get("server.ingress") or {},
                domain,
                name,
                80 if ctx.get("configs.params", {}).get("server.insecure") else 443,
            )
            if ing is not None:
                out.append(ing)
        elif comp == "repo-server":
            out.append(service(ctx, name, labels, [("tcp-repo-server", 8081, 8081)]))
        elif comp == "applicationset-controller":
            out.append(service(ctx, name, labels, [("http-webhook", 7000, 7000)]))
        elif comp == "dex-server":
            out.append(service(ctx, name, labels, [("http", 5556, 5556), ("grpc", 5557, 5557)]))
    redis = _component(ctx, "redis")
    if ctx.get("redis.enabled", True) and not ctx.get("redis-ha.enabled"):
        out.append(service_account(ctx, f"{f}-redis", redis))
        if netpol:
            out.append(_netpol(ctx, f"{f}-redis", redis, [6379]))
        out.append(service(ctx, f"{f}-redis", redis, [("tcp-redis", 6379, 6379)]))
        out.append(
            workload(
                ctx, "Deployment", f"{f}-redis", redis, REDIS_IMAGE, [6379], service_account=f"{f}-redis"
            )
        )
    return out
