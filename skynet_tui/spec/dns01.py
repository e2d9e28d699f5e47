"""DNS-01 providers: the one table spec validates against, the wizard offers and the GitOps tree renders."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal


@dataclass(frozen=True)
class Dns01Provider:
    """A DNS provider cert-manager solves DNS-01 challenges with. The installer creates the provider Secret
    from the variable named by `tokenEnv`; each of `refs` pairs a secret reference of cert-manager's solver
    with the key of that Secret it reads."""

    name: str  # as in cluster.yaml, and the solver's key in cert-manager's ClusterIssuer
    refs: tuple[tuple[str, str], ...]  # (solver field, Secret key)
    token: str  # what the variable named by tokenEnv holds

    @property
    def secret_keys(self) -> tuple[str, ...]:
        """The keys of the provider Secret, in the order the token's parts fill them."""
        return tuple(key for _, key in self.refs)

    def solver(self, secret: str) -> dict[str, Any]:
        """The ClusterIssuer's `dns01` solver, reading the Secret named `secret` (namespace cert-manager)."""
        return {self.name: {field: {"name": secret, "key": key} for field, key in self.refs}}


DNS01_PROVIDERS: Final[dict[str, Dns01Provider]] = {
    provider.name: provider
    for provider in (
        Dns01Provider(
            "cloudflare", (("apiTokenSecretRef", "api-token"),), "a Cloudflare API token with Zone DNS edit"
        ),
        Dns01Provider(
            "route53",
            (("accessKeyIDSecretRef", "access-key-id"), ("secretAccessKeySecretRef", "secret-access-key")),
            "ACCESS_KEY_ID:SECRET_ACCESS_KEY of an AWS IAM user that may change the zone",
        ),
        Dns01Provider(
            "digitalocean",
            (("tokenSecretRef", "access-token"),),
            "a DigitalOcean personal access token with write scope",
        ),
    )
}

# The model's type for a provider name, made from the table so that a provider is added in one place
# (type checkers cannot evaluate it and see a plain str).
if TYPE_CHECKING:
    Dns01ProviderName = str
else:
    Dns01ProviderName = Literal[tuple(DNS01_PROVIDERS)]
