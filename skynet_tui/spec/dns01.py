"""DNS providers: the one table spec validates against, the wizard offers and the GitOps tree renders, for
cert-manager's DNS-01 solver and for external-dns alike."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal


@dataclass(frozen=True)
class ExternalDns:
    """How external-dns (chart 1.21.1, app v0.21.0) reaches the same provider with the same provider Secret."""

    provider: str  # external-dns --provider (the chart's provider.name)
    env: tuple[tuple[str, str], ...]  # (environment variable, key of the provider Secret)
    fixed_env: tuple[tuple[str, str], ...] = ()  # (environment variable, value) that are no secret
    webhook_image: str = ""  # the provider's sidecar when it is a webhook provider (pinned)
    webhook_args: tuple[str, ...] = ()

    def values(self, secret: str) -> dict[str, Any]:
        """The chart values that select the provider and read the Secret named `secret` (its namespace)."""
        env: list[dict[str, Any]] = [
            {"name": variable, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}
            for variable, key in self.env
        ] + [{"name": variable, "value": value} for variable, value in self.fixed_env]
        if not self.webhook_image:
            return {"provider": {"name": self.provider}, "env": env}
        repository, _, tag = self.webhook_image.rpartition(":")
        webhook = {
            "image": {"repository": repository, "tag": tag},
            "env": env,
            "args": list(self.webhook_args),
        }
        return {"provider": {"name": self.provider, "webhook": webhook}}


@dataclass(frozen=True)
class Dns01Provider:
    """A DNS provider cert-manager solves DNS-01 challenges with. The installer creates the provider Secret
    from the variable named by `tokenEnv`; each of `refs` pairs a secret reference of cert-manager's solver
    with the key of that Secret it reads. `external_dns` says how external-dns reads the same Secret."""

    name: str  # as in cluster.yaml, and the solver's key in cert-manager's ClusterIssuer
    refs: tuple[tuple[str, str], ...]  # (solver field, Secret key)
    token: str  # what the variable named by tokenEnv holds
    external_dns: ExternalDns

    @property
    def secret_keys(self) -> tuple[str, ...]:
        """The keys of the provider Secret, in the order the token's parts fill them."""
        return tuple(key for _, key in self.refs)

    def solver(self, secret: str) -> dict[str, Any]:
        """The ClusterIssuer's `dns01` solver, reading the Secret named `secret` (namespace cert-manager)."""
        return {self.name: {field: {"name": secret, "key": key} for field, key in self.refs}}


# Sources: cert-manager v1.21.1 pkg/apis/acme/v1/types_issuer.go (solver fields); external-dns v0.21.0
# docs/tutorials/{cloudflare,aws}.md (provider names and variables). external-dns v0.21.0 dropped its in-tree
# DigitalOcean provider; its README points to the amoniacou webhook (v0.1.2 = image tag 0.1.2, listening on the
# chart's webhook port 8080 with --port=8080).
DNS01_PROVIDERS: Final[dict[str, Dns01Provider]] = {
    provider.name: provider
    for provider in (
        Dns01Provider(
            "cloudflare",
            (("apiTokenSecretRef", "api-token"),),
            "a Cloudflare API token with Zone DNS edit",
            ExternalDns("cloudflare", (("CF_API_TOKEN", "api-token"),)),
        ),
        Dns01Provider(
            "route53",
            (("accessKeyIDSecretRef", "access-key-id"), ("secretAccessKeySecretRef", "secret-access-key")),
            "ACCESS_KEY_ID:SECRET_ACCESS_KEY of an AWS IAM user that may change the zone",
            ExternalDns(
                "aws",
                (("AWS_ACCESS_KEY_ID", "access-key-id"), ("AWS_SECRET_ACCESS_KEY", "secret-access-key")),
                # Route 53 is a global service; the AWS SDK still wants a region, and its endpoint is there.
                fixed_env=(("AWS_DEFAULT_REGION", "us-east-1"),),
            ),
        ),
        Dns01Provider(
            "digitalocean",
            (("tokenSecretRef", "access-token"),),
            "a DigitalOcean personal access token with write scope",
            ExternalDns(
                "webhook",
                (("DO_TOKEN", "access-token"),),
                webhook_image="ghcr.io/amoniacou/external-dns-digitalocean-webhook:0.1.2",
                webhook_args=("--port=8080",),
            ),
        ),
    )
}

# The model's type for a provider name, made from the table so that a provider is added in one place
# (type checkers cannot evaluate it and see a plain str).
if TYPE_CHECKING:
    Dns01ProviderName = str
else:
    Dns01ProviderName = Literal[tuple(DNS01_PROVIDERS)]
