"""The platform's sections of the answers: ingress and its certificates, the GitOps repository, the components."""

from __future__ import annotations

import re
from typing import Annotated, Final, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from skynet_tui.spec.dns01 import DNS01_PROVIDERS, Dns01ProviderName
from skynet_tui.spec.fields import BranchName, EnvName, Section, check_dns_name, show

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]{1,64}@([A-Za-z0-9-]+\.)+[A-Za-z]{2,}")
_HOST = r"([A-Za-z0-9][A-Za-z0-9.-]*|\[[0-9A-Fa-f:.]+\])"
# git@github.com:org/repo.git: scp-like ssh, a user name (never a token) before the host.
_SCP_URL = re.compile(rf"(?P<user>[A-Za-z0-9._-]+)@{_HOST}:(?P<path>[^\s:][^\s]*)")
_URL = re.compile(
    rf"(?P<scheme>ssh|https|http|file)://((?P<user>[^/@\s]*)@)?(?P<host>{_HOST}(:\d{{1,5}})?)?(?P<path>/[^\s?#]*)"
)
# An ssh user name (git, an AWS key id); anything else before the @ is taken for a credential.
_SSH_USER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# Shapes of access tokens (GitHub, GitLab, Bitbucket, Azure DevOps, generic OAuth users): refused anywhere.
_TOKEN = re.compile(
    r"(gh[pousr]_[A-Za-z0-9]{16,}|github_pat_\w{16,}|glpat-[\w-]{16,}|ATBB[A-Za-z0-9]{16,}|oauth2|x-access-token|x-token-auth)",
    re.I,
)
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "[::1]"})
# Top-level names of the workspace's own files and folders: gitops.path may not be one of them.
WORKSPACE_NAMES: Final = frozenset(
    {"talos", "secrets", "secrets.age", "logs", "cluster.yaml", "cluster.draft.yaml", "journal.jsonl", ".skynet.lock", ".git",
     ".gitignore"}
)  # fmt: skip
_DNS01_TOKENS = "; ".join(f"{p.name}: {p.token}" for p in DNS01_PROVIDERS.values())


class Dns01(Section):
    """The DNS provider that answers DNS-01 challenges, and where its credentials come from."""

    provider: Dns01ProviderName | None = Field(
        None,
        description=f"The DNS provider hosting the domain: {', '.join(DNS01_PROVIDERS)}. Through its API "
        "cert-manager writes the TXT records that prove the domain; required with challenge dns01.",
    )
    token_env: EnvName | None = Field(
        None,
        description="Variable holding the API token at install; the token itself is never written. "
        "The installer reads it into a Secret in the cluster; it holds, per provider: "
        f"{_DNS01_TOKENS}. Required with challenge dns01.",
        examples=["CF_API_TOKEN"],
    )


class Acme(Section):
    """The Let's Encrypt account and challenge cert-manager obtains the apps' certificates with."""

    email: str = Field(
        description="Let's Encrypt sends expiry notices here. The ACME account's contact address.",
        examples=["ops@example.com"],
    )
    server: Literal["staging", "production"] = Field(
        "staging",
        description="Let's Encrypt's staging or production server. Staging issues untrusted test certificates "
        "under generous limits; production rate-limits a misconfigured first install, so start with staging. "
        "Default staging.",
    )
    challenge: Literal["http01", "dns01"] = Field(
        "http01",
        description="How Let's Encrypt checks the domain: http01 or dns01. With http01 port 80 of the ingress "
        "must be reachable from the internet; dns01 writes TXT records through the DNS provider's API and "
        "works behind NAT. Default http01.",
    )
    dns01: Dns01 | None = Field(
        None, description="The DNS provider and its token's variable. Required with challenge dns01."
    )

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if len(value) > 254 or not _EMAIL.fullmatch(value):
            raise ValueError(f"{show(value)} is not an e-mail address (e.g. ops@example.com)")
        return value


class Ingress(Section):
    """Where the platform's apps answer, and their TLS certificates."""

    domain: Annotated[str, AfterValidator(check_dns_name)] = Field(
        description="Apps answer at argocd.<domain>, grafana.<domain> and so on. Point a wildcard DNS "
        "record *.<domain> at the first MetalLB address, or turn on components.externalDNS to have the "
        "records created.",
        examples=["example.com"],
    )
    acme: Acme = Field(
        description="The ACME (Let's Encrypt) account and challenge for the apps' certificates."
    )


class GitCredentials(Section):
    """Access to a private GitOps repository; give exactly one of sshKeyFile or tokenEnv."""

    ssh_key_file: str | None = Field(
        None,
        description="Optional, for a private ssh repository; read at install, never copied. The deploy "
        "key's private key file on this machine; the installer hands its text to Argo CD as a Secret.",
        examples=["~/.ssh/skynet_deploy"],
    )
    token_env: EnvName | None = Field(
        None,
        description="Optional, for a private https repository: the variable holding the token. It is read "
        "at install and handed to Argo CD as a Secret; the token is never written to the workspace.",
        examples=["GIT_TOKEN"],
    )

    @model_validator(mode="after")
    def _one(self) -> GitCredentials:
        if (self.ssh_key_file is None) == (self.token_env is None):
            raise ValueError("give exactly one of sshKeyFile or tokenEnv")
        return self


class GitOps(Section):
    """The Git repository Argo CD follows."""

    repo_url: str = Field(
        alias="repoURL",
        description="ssh, https or file:// URL; Argo CD follows this repository. Skynet pushes the workspace "
        "to it; no password or token inside the URL (use credentials.tokenEnv).",
        examples=["git@github.com:example/homelab.git"],
    )
    branch: BranchName = Field(
        "main",
        description="The branch Skynet pushes to and Argo CD follows. Default main; a valid Git branch name.",
    )
    path: str = Field(
        "gitops",
        description="Folder inside the repository that holds the Argo CD tree. A relative path whose "
        "segments do not start with a dot; default gitops.",
    )
    credentials: GitCredentials | None = Field(
        None,
        description="How Argo CD reads a private repository: a deploy key file or a token variable. Absent "
        "for a public repository.",
    )

    @field_validator("repo_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_repo_url(value)

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        # No segment may start with a dot: ".", ".." and ".git" would point the tree at the workspace itself.
        if len(value) > 255 or not re.fullmatch(
            r"[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*", value
        ):
            raise ValueError(
                f"{show(value)} is not a relative folder path inside the repository (e.g. gitops; no segment "
                "may start with a dot; at most 255 characters)"
            )
        first = value.split("/")[0].lower()
        if first in WORKSPACE_NAMES or first.startswith("support-bundle-"):
            raise ValueError(
                f"{show(value)} collides with the workspace's own {value.split('/')[0]!r}; use e.g. gitops"
            )
        return value


def check_repo_url(value: str) -> str:
    """An https, ssh (URL or scp-like) or file:// Git URL without credentials in any part of it.

    The URL is committed, pushed and shown: a user name, password or token in it is refused without echoing
    it (the repository's credentials come from gitops.credentials)."""
    hint = "use ssh (git@host:org/repo.git), https://host/org/repo.git or file:///path"
    if value.startswith("-"):
        raise ValueError(f"a Git URL may not start with '-'; {hint}")
    scp, url = _SCP_URL.fullmatch(value), _URL.fullmatch(value)
    user = (url["user"] if url else scp["user"] if scp else None) or ""
    scheme = url["scheme"] if url else "ssh" if scp else ""
    if _TOKEN.search(value) or ":" in user or (user and (scheme != "ssh" or not _SSH_USER.fullmatch(user))):
        raise ValueError(
            "the URL holds a user name, password or token, which would be committed and pushed; remove it and "
            "set gitops.credentials (tokenEnv or sshKeyFile)"
        )
    if url is None and scp is None:
        # A URL with '@' or '?' may carry a credential: not echoed.
        shown = "the value" if any(c in value for c in "@?#") else show(value)
        raise ValueError(f"{shown} is not a Git URL: {hint}")
    host = (url["host"] or "") if url else ""
    if url is not None and (host not in ("", "localhost") if scheme == "file" else not host):
        raise ValueError(f"{show(value)} is not a Git URL: {hint}")
    if scheme == "http" and host.rsplit(":", 1)[0] not in _LOOPBACK:
        raise ValueError(f"{show(value)} is plain http; {hint} (http only for a server on this machine)")
    return value


class Components(Section):
    """Optional parts of the platform; Argo CD, cert-manager, Traefik and MetalLB are always installed. Each
    switch's title is its label in the wizard."""

    monitoring: bool = Field(
        True,
        title="Monitoring",
        description="kube-prometheus-stack: Prometheus, Alertmanager and Grafana dashboards. Default on; "
        "Grafana answers at grafana.<domain>.",
    )
    logging: bool = Field(
        True,
        title="Logging",
        description="Loki + Alloy: pod and Talos host logs, searchable in Grafana. Default on; Alloy collects "
        "every pod's logs and each node's Talos service and kernel logs, and Loki keeps them.",
    )
    tracing: bool = Field(
        True, title="Tracing", description="Jaeger: distributed traces from instrumented apps. Default on."
    )
    storage: bool = Field(
        True,
        title="Storage",
        description="local-path-provisioner: PersistentVolumes on the nodes' disks. Default on; it takes "
        "half of each install disk as a Talos user volume.",
    )
    vpa: bool = Field(
        True,
        title="VPA",
        description="Vertical Pod Autoscaler: recommends and sets CPU/memory requests. Default on.",
    )
    metrics: bool = Field(
        True,
        title="Metrics",
        description="metrics-server: pod and node CPU/memory for kubectl top and autoscalers. "
        "Default on; HorizontalPodAutoscalers need it. Kubelets get serving certificates from the cluster CA "
        "(kubelet-serving-cert-approver approves them), so metrics-server verifies every kubelet.",
    )
    policies: bool = Field(
        True,
        title="Policies",
        description="Default network policies, quotas, limit ranges and RBAC roles. Default on.",
    )
    image_security: bool = Field(
        False,
        title="Image security",
        description="Admission policies and image scanning (off by default). Kyverno policies and the Trivy "
        "operator.",
    )
    external_dns: bool = Field(
        False,
        alias="externalDNS",
        title="External DNS",
        description="external-dns: app DNS records at the DNS-01 provider (off by default). "
        "It needs challenge dns01 and uses the same provider and token; records point at the Traefik "
        "address, so no wildcard record is needed.",
    )
