"""Out-of-git Secrets the installer creates before Argo CD syncs: Grafana admin, DNS provider token (for
cert-manager, and for external-dns when it is on), the backups' S3 keys (etcd, and Velero's), repo access."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from skynet_tui.gitops.charts import BY_NAME
from skynet_tui.gitops.errors import GitOpsError
from skynet_tui.gitops.render import (
    CERT_MANAGER_NAMESPACE,
    ETCD_BACKUP_SECRET,
    EXTERNAL_DNS_NAMESPACE,
    GRAFANA_NAMESPACE,
    GRAFANA_SECRET,
    VELERO_SECRET,
    dns01_secret_name,
    namespace_labels,
)
from skynet_tui.spec import DNS01_PROVIDERS, Cluster
from skynet_tui.spec import backup as backup_spec
from skynet_tui.workspace import Workspace

GRAFANA_PASSWORD_FILE = "grafana-admin-password"  # under secrets/
REPO_SECRET = "gitops-repo"
MANAGED_BY = {"app.kubernetes.io/managed-by": "skynet"}


def grafana_admin_password(ws: Workspace) -> str:
    """The Grafana admin password: made once, kept in secrets/ (0600), the same on every later run."""
    path = ws.secrets_dir / GRAFANA_PASSWORD_FILE
    try:
        stored = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        stored = ""
    if stored:
        return stored
    password = secrets.token_urlsafe(24)
    ws.write_secret(GRAFANA_PASSWORD_FILE, password + "\n")
    return password


def _namespace(name: str, labels: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": {**labels}}}


def _secret(
    name: str, namespace: str, data: dict[str, str], labels: dict[str, str] | None = None
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace, "labels": {**MANAGED_BY, **(labels or {})}},
        "type": "Opaque",
        "stringData": data,
    }


def _env_value(env: Mapping[str, str], name: str, field: str) -> str:
    value = env.get(name, "")
    if not value.strip():
        raise GitOpsError(f"the environment variable {name} ({field}) is not set; export it and run again")
    return value.strip()


def _dns01_data(provider: str, token: str, variable: str) -> dict[str, str]:
    keys = DNS01_PROVIDERS[provider].secret_keys  # spec allows only the table's providers
    if len(keys) == 1:
        return {keys[0]: token}
    key_id, sep, secret_key = token.partition(":")
    if not sep or not key_id or not secret_key:
        raise GitOpsError(
            f"{variable} must hold ACCESS_KEY_ID:SECRET_ACCESS_KEY for the {provider} DNS-01 solver"
        )
    return {keys[0]: key_id, keys[1]: secret_key}


def _repo_secret(cluster: Cluster, env: Mapping[str, str], ssh_key: str | None) -> dict[str, Any]:
    gitops = cluster.spec.gitops
    creds = gitops.credentials
    assert creds is not None
    data = {"type": "git", "url": gitops.repo_url}
    if creds.token_env:
        # Any non-empty user name works with token authentication on the common forges.
        data |= {
            "username": "git",
            "password": _env_value(env, creds.token_env, "spec.gitops.credentials.tokenEnv"),
        }
    else:
        if ssh_key is None:
            key_path = Path(str(creds.ssh_key_file)).expanduser()
            try:
                ssh_key = key_path.read_text(encoding="utf-8")
            except OSError as exc:
                raise GitOpsError(
                    f"cannot read the deploy key {key_path} (spec.gitops.credentials.sshKeyFile): {exc.strerror}"
                ) from None
        data["sshPrivateKey"] = ssh_key
    return _secret(REPO_SECRET, "argocd", data, {"argocd.argoproj.io/secret-type": "repository"})


def bootstrap_secrets(
    cluster: Cluster,
    env: Mapping[str, str],
    grafana_password: str | None = None,
    ssh_key: str | None = None,
) -> list[dict[str, Any]]:
    """Manifests to apply before the root Application, in order: the Namespaces they live in, then Secrets.

    `grafana_password` comes from `grafana_admin_password(ws)` (needed when monitoring is on); `ssh_key` is the
    deploy key text, read from `gitops.credentials.sshKeyFile` when not given. Tokens come from `env`.
    """
    spec = cluster.spec
    namespaces: dict[str, dict[str, str]] = {}
    out: list[dict[str, Any]] = []
    if spec.components.monitoring:
        if not grafana_password:
            raise GitOpsError(
                "the Grafana admin password is missing; take it from grafana_admin_password(ws)"
            )
        namespaces[GRAFANA_NAMESPACE] = namespace_labels(BY_NAME["kube-prometheus-stack"])
        out.append(
            _secret(
                GRAFANA_SECRET, GRAFANA_NAMESPACE, {"admin-user": "admin", "admin-password": grafana_password}
            )
        )
    acme = spec.ingress.acme
    if acme.challenge == "dns01" and acme.dns01 is not None and acme.dns01.provider and acme.dns01.token_env:
        variable = acme.dns01.token_env
        token = _env_value(env, variable, "spec.ingress.acme.dns01.tokenEnv")
        namespaces[CERT_MANAGER_NAMESPACE] = namespace_labels(BY_NAME["cert-manager"])
        data = _dns01_data(acme.dns01.provider, token, variable)
        out.append(_secret(dns01_secret_name(acme.dns01.provider), CERT_MANAGER_NAMESPACE, data))
        if spec.components.external_dns:  # external-dns reads the same token in its own namespace
            namespaces[EXTERNAL_DNS_NAMESPACE] = namespace_labels(BY_NAME["external-dns"])
            out.append(_secret(dns01_secret_name(acme.dns01.provider), EXTERNAL_DNS_NAMESPACE, data))
    if spec.backup is not None:
        s3 = spec.backup.s3
        keys = {
            "AWS_ACCESS_KEY_ID": _env_value(env, s3.access_key_env, "spec.backup.s3.accessKeyEnv"),
            "AWS_SECRET_ACCESS_KEY": _env_value(env, s3.secret_key_env, "spec.backup.s3.secretKeyEnv"),
        }
        namespaces[backup_spec.NAMESPACE] = namespace_labels(BY_NAME["etcd-backup"])
        out.append(_secret(ETCD_BACKUP_SECRET, backup_spec.NAMESPACE, keys))
        if spec.backup.volumes:  # Velero reads an AWS credentials file under the key "cloud"
            velero = BY_NAME["velero"]
            namespaces[velero.namespace] = namespace_labels(velero)
            cloud = (
                f"[default]\naws_access_key_id={keys['AWS_ACCESS_KEY_ID']}\n"
                f"aws_secret_access_key={keys['AWS_SECRET_ACCESS_KEY']}\n"
            )
            out.append(_secret(VELERO_SECRET, velero.namespace, {"cloud": cloud}))
    if spec.gitops.credentials is not None:
        namespaces["argocd"] = namespace_labels(BY_NAME["argocd"])
        out.append(_repo_secret(cluster, env, ssh_key))
    return [_namespace(name, labels) for name, labels in namespaces.items()] + out


def secret_values(manifests: list[dict[str, Any]]) -> list[str]:
    """Every secret value inside the Secrets of `manifests`, for the redactor."""
    return [
        str(value)
        for doc in manifests
        if doc.get("kind") == "Secret"
        for key, value in (doc.get("stringData") or {}).items()
        if key not in _PUBLIC_KEYS
    ]


_PUBLIC_KEYS = {"type", "url", "username", "admin-user"}
