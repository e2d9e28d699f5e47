"""The platform half of the install plan: out-of-git secrets, Argo CD, the root Application, waves, summary."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from skynet_tui import gitops, support
from skynet_tui.gitops.bootstrap import GRAFANA_PASSWORD_FILE
from skynet_tui.plan import probes
from skynet_tui.plan.probes import KUBE_NOT_READY, NET_ERRORS
from skynet_tui.plan.steps import Step, call

if TYPE_CHECKING:
    from skynet_tui.plan.timing import Timing
    from skynet_tui.redact import Redactor
    from skynet_tui.runner import Context
    from skynet_tui.spec import Cluster
    from skynet_tui.workspace import Workspace

KUBECTL_APPLY = ("apply", "--server-side", "--force-conflicts", "--field-manager", "skynet")
ARGOCD_MANIFESTS = "argocd-install.yaml"  # under secrets/: a rendered chart may carry keys
KUBE_TRANSIENT = NET_ERRORS + KUBE_NOT_READY  # kubectl against an API server that is still coming up
KUBE_ATTEMPTS = 3


def steps(cluster: Cluster, ws: Workspace, t: Timing) -> list[Step]:
    argocd = gitops.argocd_install(cluster)
    namespace = argocd["namespace"]
    gitops_dir = ws.root / cluster.spec.gitops.path
    apply = ["kubectl", "--kubeconfig", str(ws.kubeconfig), *KUBECTL_APPLY, "-f"]

    def bootstrap_secrets(ctx: Context) -> None:
        password = None
        if cluster.spec.components.monitoring:
            password = call(gitops.grafana_admin_password, ws)
            ctx.refresh_secrets()
        manifests = call(gitops.bootstrap_secrets, cluster, ctx.env, grafana_password=password)
        ctx.add_secrets(*gitops.secret_values(manifests))
        if not manifests:
            ctx.line("no out-of-git secrets needed")
            return
        names = ", ".join(
            f"{m['kind']} {m['metadata'].get('namespace', '')}/{m['metadata']['name']}" for m in manifests
        )
        ctx.line(f"applying {names} (values never shown)")
        ctx.check(ctx.run([*apply, "-"], stdin=yaml.safe_dump_all(manifests, sort_keys=False)))

    helm = [
        "helm", "template", argocd["release_name"], argocd["chart"], "--repo", argocd["repo_url"],
        "--version", argocd["version"], "--namespace", namespace, "--include-crds",
        "-f", str(gitops_dir / argocd["values_file"]),
    ]  # fmt: skip
    # Applied as Argo CD's own field manager: once it manages itself, it owns (and can prune) every field.
    adopt = [
        *(a if a != "skynet" else "argocd-controller" for a in apply),
        str(ws.secrets_dir / ARGOCD_MANIFESTS),
    ]
    kubectl = f"kubectl --kubeconfig {ws.kubeconfig.relative_to(ws.root)}"  # as `$ …` lines show paths

    def install_argocd(ctx: Context) -> None:
        rendered = ctx.run(helm, show_stdout=False)
        ctx.check(rendered)
        namespace_doc = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
        ws.write_secret(ARGOCD_MANIFESTS, f"{yaml.safe_dump(namespace_doc)}---\n{rendered.stdout}")
        ctx.line(f"rendered {argocd['chart']} {argocd['version']} into secrets/{ARGOCD_MANIFESTS}")
        result = ctx.run(adopt, show_stdout=False)
        ctx.check(result)
        ctx.line(f"applied {sum(1 for _, line in result.lines if line.strip())} objects server-side")

    byo_cni = cluster.spec.kubernetes.cni == "none"
    # Without a CNI no node turns Ready, and Talos reboots a node that stays without one for about 10 minutes
    # (its boot sequence retries); the wait leaves the operator time to install one, reboots included.
    cni_note = (
        "cni is none: install your CNI now against secrets/kubeconfig; Talos reboots a node that stays without "
        "a CNI for about 10 minutes (it comes back and this wait goes on, up to "
        f"{t.cni_ready_timeout / 60:.0f} min)"
    )
    out = [
        Step(
            "nodes-ready", f"Wait for all {len(cluster.spec.nodes)} nodes to be Ready",
            probes.nodes_ready(len(cluster.spec.nodes), t.poll, cni_note if byo_cni else ""),
            deps=("kubeconfig", "health"),
            timeout=t.cni_ready_timeout if byo_cni else t.kube_timeout,
            hint="cni is none: install your CNI now (talosctl health skips this check without one)"
            if byo_cni else "kubectl get nodes shows which node is not Ready",
            commands=lambda: [f"# reads the Nodes through the Kubernetes API, as `{kubectl} get nodes`"],
        ),
        Step(
            "secrets", "Create namespaces and out-of-git secrets", bootstrap_secrets, deps=("nodes-ready",),
            timeout=t.kube_timeout, learns_secrets=True,
            transient=KUBE_TRANSIENT, attempts=KUBE_ATTEMPTS, retry_delay=t.retry_delay,
            commands=lambda: ["# when there are out-of-git Secrets: their manifests on stdin (values never shown)",
                              [*apply, "-"]],
        ),
        Step(
            "argocd", "Install Argo CD (helm template | kubectl apply --server-side)", install_argocd,
            deps=("secrets",), timeout=t.kube_timeout,
            transient=KUBE_TRANSIENT, attempts=KUBE_ATTEMPTS, retry_delay=t.retry_delay,
            commands=lambda: [helm, f"# its output, with the argocd Namespace, into secrets/{ARGOCD_MANIFESTS}",
                              adopt],
        ),
        Step(
            "argocd-ready", "Wait for Argo CD to roll out", probes.rollout(namespace, t.poll), deps=("argocd",),
            timeout=t.argocd_timeout, hint=f"kubectl -n {namespace} get pods shows which pod is not ready",
            commands=lambda: [f"# reads the workloads through the Kubernetes API, as `{kubectl} -n {namespace} "
                              "get deployments,statefulsets,daemonsets`"],
        ),
        Step(
            "root-app", "Apply the root Application (app of apps)",
            [*apply, str(gitops_dir / argocd["root_application"])], deps=("argocd-ready", "push"),
            timeout=t.kube_timeout, transient=KUBE_TRANSIENT, attempts=KUBE_ATTEMPTS, retry_delay=t.retry_delay,
        ),
    ]  # fmt: skip
    previous = "root-app"
    for wave, names in waves(cluster):
        step_id = f"apps-wave-{wave}" if wave >= 0 else f"apps-wave-n{-wave}"
        out.append(
            Step(
                step_id,
                f"Wave {wave}: {', '.join(names)} Synced and Healthy",
                probes.applications(names, namespace, t.poll),
                deps=(previous,),
                timeout=t.wave_timeout,
                commands=lambda: [
                    f"# reads the Applications through the Kubernetes API, as `{kubectl} -n {namespace} "
                    "get applications`"
                ],
            )
        )
        previous = step_id
    return out


def waves(cluster: Cluster) -> list[tuple[int, list[str]]]:
    """(wave, Application names) in sync order."""
    grouped: dict[int, list[str]] = {}
    for name, wave in gitops.applications(cluster):
        grouped.setdefault(wave, []).append(name)
    return sorted(grouped.items())


def bundle(ws: Workspace, env: dict[str, str], redactor: Redactor) -> Path:
    return support.write_bundle(ws, env=env, redactor=redactor)


def dns_line(cluster: Cluster) -> str:
    """Where the apps' names must point, or that external-dns takes care of it."""
    domain, address = cluster.spec.ingress.domain, gitops.ingress_ip(cluster)
    if cluster.spec.components.external_dns:
        return f"DNS: external-dns creates a record per app host under {domain}, pointing at {address} (Traefik)."
    return f"DNS: point *.{domain} at {address} (the Traefik LoadBalancer address)."


def summary(cluster: Cluster, ws: Workspace, finished_at: float | None = None) -> str:
    """What to open next: URLs, where the Argo CD admin password is, where the kubeconfig is.

    "is up" only when this run checked it (`finished_at` None); after a run that found every step done in the
    journal, when that install finished and that nothing was checked now."""
    domain = cluster.spec.ingress.domain
    size = f"{len(cluster.control_planes)} control plane(s), {len(cluster.workers)} worker(s)"
    if finished_at is None:
        first = f"Cluster {cluster.name} is up: {size}, every Application Synced and Healthy."
    else:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(finished_at))
        first = f"Cluster {cluster.name} ({size}): the last install finished at {when}; not checked now."
    lines = [
        first,
        f"Live status: skynet status --workspace {ws.root}",
        f"Argo CD     https://argocd.{domain}",
    ]
    if cluster.spec.components.monitoring:
        lines.append(
            f"Grafana     https://grafana.{domain}  (user admin; password in secrets/{GRAFANA_PASSWORD_FILE})"
        )
    lines += [
        f"Traefik     https://traefik.{domain}",
        dns_line(cluster),
        f"Argo CD admin password (never printed here): kubectl --kubeconfig {ws.kubeconfig} -n argocd "
        "get secret argocd-initial-admin-secret -o jsonpath='{.data.password}' | base64 -d",
        f"kubeconfig: {ws.kubeconfig}",
        f"talosconfig: {ws.talosconfig}",
    ]
    return "\n".join(lines)
