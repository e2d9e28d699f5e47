"""`spec.secrets`: the workspace's secrets shared through its git repository, encrypted with age to recipients."""

from __future__ import annotations

import re
from typing import Annotated, Final

from pydantic import AfterValidator, Field, field_validator

from skynet_tui.spec.fields import MAX_ITEMS, Section, show

# An age X25519 recipient (age1 and 58 characters of bech32); an OpenSSH public key line with an optional comment.
_AGE: Final = re.compile(r"age1[02-9ac-hj-np-z]{58}")
_SSH: Final = re.compile(r"(ssh-ed25519|ssh-rsa) (AAAA[A-Za-z0-9+/]+={0,2})( [\x21-\x7e][\x20-\x7e]*)?")
_SSH_OTHER: Final = re.compile(r"(ecdsa-sha2-\S+|sk-\S+|ssh-dss) ")


def recipient_key(value: str) -> str:
    """The part of a recipient that names the key: an ssh key without its comment, an age1 key as it is."""
    return " ".join(value.split(" ")[:2]) if value.startswith("ssh-") else value


def check_recipient(value: str) -> str:
    """An age X25519 recipient (age1…) or an ssh-ed25519 / ssh-rsa public key, as age itself parses it."""
    from pyrage import RecipientError, ssh, x25519  # the native module loads once a recipient is checked

    if _AGE.fullmatch(value):
        try:
            x25519.Recipient.from_str(value)
        except RecipientError:
            raise ValueError(f"{show(value)} is not an age public key: its checksum is wrong") from None
        return value
    if _SSH_OTHER.match(value):
        kind = value.split(" ")[0]
        raise ValueError(
            f"{show(kind)} keys are not age recipients: use ssh-ed25519, ssh-rsa or an age1… key"
        )
    if not _SSH.fullmatch(value):
        raise ValueError(
            f"{show(value)} is neither an age public key (age1 and 58 more characters) nor an ssh-ed25519 or "
            "ssh-rsa public key (one line of a .pub file)"
        )
    try:
        ssh.Recipient.from_str(value)
    except RecipientError:
        raise ValueError(f"{show(value)} is not a valid {value.split(' ')[0]} public key") from None
    return value


Recipient = Annotated[str, AfterValidator(check_recipient)]


class AgeEncryption(Section):
    """Who can decrypt the workspace's secrets: age recipients."""

    recipients: list[Recipient] = Field(
        min_length=1,
        max_length=MAX_ITEMS,
        description="The public keys the secrets are encrypted to, each of them able to decrypt every file: "
        "age keys (age1…) or ssh-ed25519 / ssh-rsa public keys (a line of ~/.ssh/id_ed25519.pub).",
        examples=[["age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"]],
    )

    @field_validator("recipients")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        seen: set[str] = set()
        for item in value:
            key = recipient_key(item)
            if key in seen:
                raise ValueError(f"{show(item)} is listed twice")
            seen.add(key)
        return value


class Encryption(Section):
    """How the secrets are encrypted in the repository."""

    age: AgeEncryption = Field(description="age encryption (age-encryption.org/v1) to a list of recipients.")


class Secrets(Section):
    """The cluster's secrets (Talos secrets bundle, talosconfig, kubeconfig) beyond this machine."""

    encryption: Encryption | None = Field(
        None,
        description="Encrypt every file of secrets/ into secrets.age/, committed and pushed, so that another "
        "operator or a new laptop can take over from a clone (skynet open); absent: secrets/ stays on this "
        "machine only.",
    )
