"""Simulated add-ons of the platform: metrics-server, external-dns and Alloy (charts), and the manifests of
kubelet-serving-cert-approver (a kustomize folder of its Git repository, no chart). Their main objects only."""

from __future__ import annotations

from typing import Any, Final

from skynet_lab.kubesim.charts import Ctx, Obj, Renderer, obj, service, service_account, workload


def _container(deployment: Obj) -> dict[str, Any]:
    container: dict[str, Any] = deployment["spec"]["template"]["spec"]["containers"][0]
    return container


def _cluster_rbac(ctx: Ctx, name: str, labels: dict[str, str], rules: list[dict[str, Any]]) -> list[Obj]:
    subject = {"kind": "ServiceAccount", "name": ctx.fullname, "namespace": ctx.namespace}
    role_ref = {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name}
    return [
        obj(ctx, "rbac.authorization.k8s.io/v1", "ClusterRole", name, labels, {"rules": rules}),
        obj(
            ctx, "rbac.authorization.k8s.io/v1", "ClusterRoleBinding", name, labels,
            {"roleRef": role_ref, "subjects": [subject]},
        ),
    ]  # fmt: skip


def _metrics_server(ctx: Ctx, include_crds: bool) -> list[Obj]:
    """kubernetes-sigs/metrics-server chart 3.13.1: the Deployment's args are --secure-port, then
    defaultArgs, then args (templates/deployment.yaml); the APIService registers metrics.k8s.io/v1beta1."""
    labels = ctx.labels("metrics-server")
    port = int(ctx.get("containerPort", 10250))
    defaults = [
        "--cert-dir=/tmp",
        "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
        "--kubelet-use-node-status-port",
        "--metric-resolution=15s",
    ]
    args = [f"--secure-port={port}", *ctx.get("defaultArgs", defaults), *ctx.get("args", [])]
    out = [service_account(ctx, ctx.fullname, labels)]
    out += _cluster_rbac(
        ctx, f"system:{ctx.fullname}", labels,
        [{"apiGroups": [""], "resources": ["nodes/metrics"], "verbs": ["get"]},
         {"apiGroups": [""], "resources": ["pods", "nodes"], "verbs": ["get", "list", "watch"]}],
    )  # fmt: skip
    out.append(service(ctx, ctx.fullname, labels, [("https", int(ctx.get("service.port", 443)), port)]))
    out.append(
        workload(
            ctx, "Deployment", ctx.fullname, labels,
            f"registry.k8s.io/metrics-server/metrics-server:{ctx.app_version}", [port],
            replicas=int(ctx.get("replicas", 1)), service_account=ctx.fullname, args=args,
        )
    )  # fmt: skip
    if ctx.get("apiService.create", True):
        spec = {
            "group": "metrics.k8s.io",
            "version": "v1beta1",
            "groupPriorityMinimum": 100,
            "versionPriority": 100,
            "insecureSkipTLSVerify": bool(ctx.get("apiService.insecureSkipTLSVerify", True)),
            "service": {
                "name": ctx.fullname,
                "namespace": ctx.namespace,
                "port": int(ctx.get("service.port", 443)),
            },
        }
        out.append(
            obj(
                ctx,
                "apiregistration.k8s.io/v1",
                "APIService",
                "v1beta1.metrics.k8s.io",
                labels,
                {"spec": spec},
            )
        )
    return out


def _external_dns(ctx: Ctx, include_crds: bool) -> list[Obj]:
    """kubernetes-sigs/external-dns chart 1.21.1: flags from values (templates/deployment.yaml), the env as
    given (provider Secrets by secretKeyRef), a webhook provider's sidecar, read access for its sources."""
    labels = ctx.labels("external-dns")
    provider = ctx.get("provider") or {}
    name = provider.get("name", "aws") if isinstance(provider, dict) else str(provider)
    sources = list(ctx.get("sources", ["service", "ingress"]))
    args = [
        f"--log-level={ctx.get('logLevel', 'info')}", f"--interval={ctx.get('interval', '1m')}",
        *(f"--source={s}" for s in sources), f"--policy={ctx.get('policy', 'upsert-only')}",
        f"--registry={ctx.get('registry', 'txt')}",
        *([f"--txt-owner-id={ctx.get('txtOwnerId')}"] if ctx.get("txtOwnerId") else []),
        *(f"--domain-filter={d}" for d in ctx.get("domainFilters", [])),
        *([f"--annotation-prefix={ctx.get('annotationPrefix')}"] if ctx.get("annotationPrefix") else []),
        f"--provider={name}",
    ]  # fmt: skip
    rules = [
        {
            "apiGroups": ["extensions", "networking.k8s.io"],
            "resources": ["ingresses"],
            "verbs": ["get", "watch", "list"],
        }
    ]
    if "traefik-proxy" in sources:
        rules.append(
            {
                "apiGroups": ["traefik.containo.us", "traefik.io"],
                "resources": ["ingressroutes", "ingressroutetcps", "ingressrouteudps"],
                "verbs": ["get", "watch", "list"],
            }
        )
    out = [service_account(ctx, ctx.fullname, labels), *_cluster_rbac(ctx, ctx.fullname, labels, rules)]
    out.append(service(ctx, ctx.fullname, labels, [("http", 7979, 7979)]))
    deployment = workload(
        ctx, "Deployment", ctx.fullname, labels, f"registry.k8s.io/external-dns/external-dns:{ctx.app_version}",
        [7979], service_account=ctx.fullname, args=args,
    )  # fmt: skip
    _container(deployment)["env"] = list(ctx.get("env", []))
    webhook = provider.get("webhook") if isinstance(provider, dict) else None
    if name == "webhook" and isinstance(webhook, dict):
        image = webhook.get("image") or {}
        deployment["spec"]["template"]["spec"]["containers"].append(
            {
                "name": "webhook",
                "image": f"{image.get('repository')}:{image.get('tag')}",
                "args": list(webhook.get("args") or []),
                "env": list(webhook.get("env") or []),
                "ports": [{"containerPort": 8080, "name": "http-webhook", "protocol": "TCP"}],
            }
        )
    return [*out, deployment]


def _alloy(ctx: Ctx, include_crds: bool) -> list[Obj]:
    """grafana/alloy chart 1.10.0: a DaemonSet (controller.type) with the pod settings under controller.*,
    the UI port and alloy.extraPorts on its Service."""
    labels = ctx.labels("alloy")
    port = int(ctx.get("alloy.listenPort", 12345))
    extra = [p for p in ctx.get("alloy.extraPorts", []) if isinstance(p, dict)]
    out = [service_account(ctx, ctx.fullname, labels)]
    ports = [("http-metrics", port, port), *((p["name"], p["port"], p["targetPort"]) for p in extra)]
    out.append(service(ctx, ctx.fullname, labels, ports))
    daemonset = workload(
        ctx, "DaemonSet", ctx.fullname, labels, f"docker.io/grafana/alloy:{ctx.app_version}", [port],
        service_account=ctx.fullname,
        args=["run", "/etc/alloy/config.alloy", f"--stability.level={ctx.get('alloy.stabilityLevel', 'generally-available')}"],
    )  # fmt: skip
    pod = daemonset["spec"]["template"]["spec"]
    for key in ("hostNetwork", "dnsPolicy", "tolerations"):
        if ctx.get(f"controller.{key}"):
            pod[key] = ctx.get(f"controller.{key}")
    return [*out, daemonset]


# The manifests of alex1989hu/kubelet-serving-cert-approver v0.11.0 (deploy/standalone: kustomize over
# deploy/base), as Argo CD builds them: their own restricted namespace, one replica, system-cluster-critical.
APPROVER: Final = "kubelet-serving-cert-approver"


def _approver(ctx: Ctx, include_crds: bool) -> list[Obj]:
    labels = {"app.kubernetes.io/instance": APPROVER, "app.kubernetes.io/name": APPROVER}
    restricted = {f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("audit", "enforce", "warn")}
    out = [obj(ctx, "v1", "Namespace", APPROVER, {**labels, **restricted})]
    ctx = Ctx(APPROVER, APPROVER, APPROVER, ctx.version, {}, "0.11.0")
    out.append(service_account(ctx, APPROVER, labels))
    out += _cluster_rbac(
        ctx, f"certificates:{APPROVER}", labels,
        [{"apiGroups": ["certificates.k8s.io"], "resources": ["certificatesigningrequests"], "verbs": ["get", "list", "watch"]},
         {"apiGroups": ["certificates.k8s.io"], "resources": ["certificatesigningrequests/approval"], "verbs": ["update"]},
         {"apiGroups": ["certificates.k8s.io"], "resources": ["signers"], "resourceNames": ["kubernetes.io/kubelet-serving"], "verbs": ["approve"]}],
    )  # fmt: skip
    out.append(service(ctx, APPROVER, labels, [("metrics", 9090, 9090)]))
    deployment = workload(
        ctx, "Deployment", APPROVER, labels, f"ghcr.io/alex1989hu/kubelet-serving-cert-approver:{ctx.app_version}",
        [8080, 9090], service_account=APPROVER, args=["serve"],
    )  # fmt: skip
    deployment["spec"]["template"]["spec"]["tolerations"] = [
        {"effect": "NoSchedule", "key": key, "operator": "Exists"}
        for key in ("node.cloudprovider.kubernetes.io/uninitialized", "node-role.kubernetes.io/master", "node-role.kubernetes.io/control-plane")
    ]  # fmt: skip
    deployment["spec"]["template"]["spec"]["priorityClassName"] = "system-cluster-critical"
    return [*out, deployment]


# chart name -> (app version, renderer); merged into charts_platform.CHARTS
CHARTS: Final[dict[str, tuple[str, Renderer]]] = {
    "metrics-server": ("v0.8.1", _metrics_server),
    "external-dns": ("v0.21.0", _external_dns),
    "alloy": (
        "v1.17.0",
        _alloy,
    ),  # chart 1.10.0 ships Alloy v1.17.0 (operations/helm/charts/alloy/Chart.yaml)
}

# Git repository name -> the manifests Argo CD builds from its kustomize folder (a remote repository the lab
# cannot clone); see gitsource.RepoServer.
MANIFESTS: Final[dict[str, Renderer]] = {APPROVER: _approver}
