"""Render the GitOps tree (bootstrap/, apps/, values/, config/) from the answers with Jinja2 templates."""

from __future__ import annotations

import ipaddress
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import yaml

from skynet_tui.gitops.charts import BY_NAME, CONFIG, App, enabled_apps
from skynet_tui.gitops.checks import SAFE_LOADER
from skynet_tui.gitops.errors import GitOpsError
from skynet_tui.spec import DNS01_PROVIDERS, Cluster, pool_bounds
from skynet_tui.spec import backup as backup_spec
from skynet_tui.talos.platform import HOST_LOG_PORTS

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "gitops"

ACME_SERVERS = {
    "staging": "https://acme-staging-v02.api.letsencrypt.org/directory",
    "production": "https://acme-v02.api.letsencrypt.org/directory",
}
GRAFANA_SECRET = "grafana-admin"
GRAFANA_NAMESPACE = "monitoring"
CERT_MANAGER_NAMESPACE = "cert-manager"
EXTERNAL_DNS_NAMESPACE = "external-dns"
APPS_NAMESPACE = "apps"
VIEWER_GROUP = "platform-viewers"
OPERATOR_GROUP = "platform-operators"


def issuer_name(server: str) -> str:
    return f"letsencrypt-{server}"


def dns01_secret_name(provider: str) -> str:
    return f"acme-dns01-{provider}"


def txt_owner(cluster_name: str) -> str:
    """external-dns's TXT owner id: its records and no other cluster's (a shared zone stays safe with sync)."""
    return f"skynet-{cluster_name}"


def ingress_ip(cluster: Cluster) -> str:
    """The LoadBalancer address Traefik asks MetalLB for: the first usable address of the first pool entry."""
    entry = cluster.spec.load_balancer.addresses[0]
    first, _ = pool_bounds(entry)
    if "-" not in entry and ipaddress.IPv4Network(entry).prefixlen < 31:
        first += 1  # skip the network address of a CIDR pool
    return str(first)


def pod_security_labels(level: str, warn: str | None = None) -> dict[str, str]:
    return {
        "pod-security.kubernetes.io/enforce": level,
        "pod-security.kubernetes.io/audit": warn or level,
        "pod-security.kubernetes.io/warn": warn or level,
    }


def namespace_labels(app: App) -> dict[str, str]:
    """Pod Security labels Argo CD puts on the namespace it creates for `app`."""
    if app.namespace == APPS_NAMESPACE:
        return pod_security_labels("baseline", warn="restricted")
    return pod_security_labels("privileged" if app.privileged else "baseline")


def _dns01(cluster: Cluster) -> dict[str, Any] | None:
    """The DNS-01 provider, its token variable, Secret and solver; None with challenge http01."""
    acme = cluster.spec.ingress.acme
    if acme.challenge != "dns01":
        return None
    provider = acme.dns01.provider if acme.dns01 else None
    token_env = acme.dns01.token_env if acme.dns01 else None
    if provider is None or token_env is None:
        raise GitOpsError("spec.ingress.acme.dns01 needs provider and tokenEnv for challenge dns01")
    return {
        "provider": provider,
        "token_env": token_env,
        "secret": dns01_secret_name(provider),
        "solver": DNS01_PROVIDERS[provider].solver(dns01_secret_name(provider)),
    }


def _external_dns(cluster: Cluster, dns01: dict[str, Any] | None) -> dict[str, Any] | None:
    """external-dns's provider values (same provider and Secret as DNS-01) and owner id; None when it is off."""
    if not cluster.spec.components.external_dns:
        return None
    if dns01 is None:
        raise GitOpsError("spec.components.externalDNS needs challenge dns01 with its provider and tokenEnv")
    provider = DNS01_PROVIDERS[dns01["provider"]]
    return {
        "provider": provider.name,
        "secret": dns01["secret"],
        "values": provider.external_dns.values(dns01["secret"]),
        "owner": txt_owner(cluster.name),
    }


ETCD_BACKUP_SECRET = "etcd-backup-s3"  # the S3 keys of the etcd backup CronJob, created by the installer
VELERO_SECRET = "velero-s3"  # Velero's credentials file (key "cloud"), created by the installer
TALOS_BACKUP_IMAGE = "ghcr.io/siderolabs/talos-backup:v0.1.0-beta.3"
VELERO_AWS_PLUGIN = "velero/velero-plugin-for-aws:v1.14.0"  # the plugin series of Velero 1.18
VOLUME_SCHEDULE = "0 4 * * *"  # the volumes' daily backup, an hour after the default etcd one


def _backup(cluster: Cluster) -> dict[str, Any] | None:
    backup = cluster.spec.backup
    if backup is None:
        return None
    s3 = backup.s3
    return {
        "namespace": backup_spec.NAMESPACE,
        "role": backup_spec.ROLE,
        "schedule": backup.schedule,
        "volume_schedule": VOLUME_SCHEDULE,
        "bucket": s3.bucket,
        "region": s3.region,
        "endpoint": s3.endpoint or "",
        "prefix": s3.prefix or cluster.name,
        "access_key_env": s3.access_key_env,
        "secret_key_env": s3.secret_key_env,
        "age_recipient": backup.age_recipient,
        "secret": ETCD_BACKUP_SECRET,
        "velero_secret": VELERO_SECRET,
        "image": TALOS_BACKUP_IMAGE,
        "velero_plugin": VELERO_AWS_PLUGIN,
    }


def context(cluster: Cluster) -> dict[str, Any]:
    """Everything the templates read, as plain data."""
    spec = cluster.spec
    acme = spec.ingress.acme
    dns01 = _dns01(cluster)
    external_dns = _external_dns(cluster, dns01)
    components = spec.components.model_dump()
    return {
        "header": f"# Generated by skynet from cluster.yaml ({cluster.name}); `skynet generate` rewrites this file.",
        "cluster_name": cluster.name,
        "domain": spec.ingress.domain,
        "repo_url": spec.gitops.repo_url,
        "branch": spec.gitops.branch,
        "gitops_path": spec.gitops.path,
        "components": components,
        "cni": spec.kubernetes.cni,
        "acme_email": acme.email,
        "issuer": issuer_name(acme.server),
        "issuers": [{"name": issuer_name(name), "url": url} for name, url in ACME_SERVERS.items()],
        "dns01": dns01,
        "external_dns": external_dns,
        "host_log_ports": dict(HOST_LOG_PORTS),
        "lb_addresses": list(spec.load_balancer.addresses),
        "ingress_ip": ingress_ip(cluster),
        "ignore_exclude_lb": not cluster.workers,
        "control_plane_ips": [node.ip for node in cluster.control_planes],
        "first_node": spec.nodes[0].hostname,
        "node_subnet": spec.network.subnet,
        "grafana_secret": GRAFANA_SECRET,
        "apps_namespace": APPS_NAMESPACE,
        "apps_namespace_labels": namespace_labels(BY_NAME["platform-policies"]),
        "viewer_group": VIEWER_GROUP,
        "operator_group": OPERATOR_GROUP,
        "has_repo_credentials": spec.gitops.credentials is not None,
        "backup": _backup(cluster),
    }


# ---------------------------------------------------------------- Jinja


def _quote(value: Any) -> str:
    """A YAML scalar that reads back as exactly `value` (JSON is valid YAML flow syntax)."""
    return json.dumps(value, ensure_ascii=False)


def _yaml_block(value: Any) -> str:
    """Block YAML without the trailing newline; combine with `indent(n)` at the right column."""
    return yaml.safe_dump(
        value, default_flow_style=False, sort_keys=False, allow_unicode=True, width=1000
    ).rstrip()


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["q"] = _quote
    env.filters["flow"] = _quote
    env.filters["yaml"] = _yaml_block
    return env


def _render(template: str, ctx: dict[str, Any], **extra: Any) -> tuple[str, list[Any]]:
    """Render one template and parse it back; a template that yields invalid YAML is a bug, reported as such."""
    try:
        text = environment().get_template(template).render(**ctx, **extra).rstrip() + "\n"
    except jinja2.TemplateError as exc:
        raise GitOpsError(f"template {template} failed to render: {exc}") from None
    if not template.endswith(".yaml.j2"):
        return text, []
    try:
        documents = [doc for doc in yaml.load_all(text, Loader=SAFE_LOADER) if doc is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise GitOpsError(
            f"template {template} rendered invalid YAML{where}: {getattr(exc, 'problem', exc)}"
        ) from None
    return text, documents


def _config_templates(config_dir: str) -> list[str]:
    prefix = f"config/{config_dir}/"
    return sorted(
        name for name in environment().list_templates() if name.startswith(prefix) and name.endswith(".j2")
    )


def render_tree(cluster: Cluster) -> dict[str, str]:
    """The whole GitOps folder: relative path → file text. Pure and deterministic (same answers, same bytes)."""
    ctx = context(cluster)
    files: dict[str, str] = {}
    apps = enabled_apps(cluster)
    files["README.md"], _ = _render("README.md.j2", ctx, apps=apps)
    files["bootstrap/root.yaml"], _ = _render("bootstrap/root.yaml.j2", ctx)
    for app in apps:
        files[f"apps/{app.name}.yaml"], _ = _render(
            "application.yaml.j2", ctx, app=app, namespace_labels=namespace_labels(app)
        )
        if app.kind == CONFIG:
            resources = []
            for template in _config_templates(app.config_dir):
                text, documents = _render(template, ctx)
                if not documents:  # a template whose every object is switched off by the answers
                    continue
                name = Path(template).name.removesuffix(".j2")
                files[f"config/{app.config_dir}/{name}"] = text
                resources.append(name)
            files[f"config/{app.config_dir}/kustomization.yaml"], _ = _render(
                "kustomization.yaml.j2", ctx, resources=resources
            )
        elif app.has_values:
            files[app.values_file], _ = _render(f"values/{app.name}.yaml.j2", ctx, app=app)
    return dict(sorted(files.items()))


def applications(cluster: Cluster) -> list[tuple[str, int]]:
    """(Application name, sync wave) in the order Argo CD syncs them."""
    return [(app.name, app.wave) for app in enabled_apps(cluster)]


def argocd_install(cluster: Cluster) -> dict[str, str]:
    """What the installer needs to install Argo CD before it manages itself (same chart and values)."""
    app = BY_NAME["argocd"]
    return {
        "repo_url": app.repo_url,
        "chart": app.chart,
        "version": app.version,
        "release_name": app.release,
        "namespace": app.namespace,
        "values_file": app.values_file,  # relative to the GitOps folder
        "root_application": "bootstrap/root.yaml",  # relative to the GitOps folder
    }
