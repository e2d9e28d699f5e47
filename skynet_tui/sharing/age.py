"""age encryption through pyrage (the rage implementation): recipients, identity files, encrypt and decrypt.

The files are standard age (age-encryption.org/v1): `age --decrypt -i KEY FILE` reads them by hand. An identity
is a secret: no message, exception or log line ever holds any of its content, only its path."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyrage
from pyrage import ssh, x25519

DEFAULT_IDENTITY = Path("~/.ssh/id_ed25519")  # expanded against HOME when used
MAX_IDENTITY = 64 * 1024  # bytes: an identity file is a few hundred; anything bigger is not one
_SSH_PRIVATE = (b"-----BEGIN OPENSSH PRIVATE KEY-----", b"-----BEGIN RSA PRIVATE KEY-----")


class EncryptionError(RuntimeError):
    """Encrypting or decrypting failed; the message says what and how to fix it (never key material)."""


class NoMatchingIdentity(EncryptionError):
    """None of the identities given is a recipient of the files."""

    def __init__(self, path: str, recipients: Sequence[str]):
        self.recipients = list(recipients)
        names = "\n".join(f"  {describe(r)}" for r in recipients) or "  (the manifest names none)"
        super().__init__(
            f"{path} cannot decrypt secrets.age/: the files are encrypted to\n{names}\nask someone who can "
            "decrypt them to run `skynet secrets add-recipient` with your public key, or give --identity"
        )


def describe(recipient: str) -> str:
    """A recipient as a person recognises it: an age key whole, an ssh key by type, comment and its end."""
    parts = recipient.split(" ")
    if len(parts) < 2:
        return recipient
    comment = f" {' '.join(parts[2:])}" if len(parts) > 2 else ""
    return f"{parts[0]} …{parts[1][-12:]}{comment}"


def recipients(keys: Sequence[str]) -> list[Any]:
    """pyrage recipients of age1… and ssh public keys (checked already by the answers' rules)."""
    out: list[Any] = []
    for key in keys:
        try:
            out.append(
                ssh.Recipient.from_str(key) if key.startswith("ssh-") else x25519.Recipient.from_str(key)
            )
        except pyrage.RecipientError:
            raise EncryptionError(f"{describe(key)} is not an age or ssh public key") from None
    return out


def encrypt(data: bytes, to: Sequence[Any]) -> bytes:
    """One age file (binary format) that every recipient can decrypt."""
    try:
        return bytes(pyrage.encrypt(data, list(to)))
    except pyrage.EncryptError:
        raise EncryptionError("age could not encrypt to these recipients") from None


def decrypt(data: bytes, identities: Sequence[Any]) -> bytes | None:
    """The plaintext, or None when no identity is a recipient of the file."""
    try:
        return bytes(pyrage.decrypt(data, list(identities)))
    except pyrage.DecryptError:
        return None


def load_identities(path: Path) -> list[Any]:
    """The identities of an age identity file (AGE-SECRET-KEY-1… lines) or an unencrypted ssh private key."""
    shown = str(path)
    try:
        if path.stat().st_size > MAX_IDENTITY:
            raise EncryptionError(f"{shown} is not an identity file (larger than {MAX_IDENTITY // 1024} KiB)")
        data = path.read_bytes()
    except FileNotFoundError:
        raise EncryptionError(
            f"no identity at {shown}: give --identity with your age identity file or ssh private key"
        ) from None
    except OSError as exc:
        raise EncryptionError(f"cannot read the identity {shown}: {exc.strerror}") from None
    if data.lstrip().startswith(_SSH_PRIVATE):
        try:
            return [ssh.Identity.from_buffer(data)]
        except pyrage.IdentityError as exc:
            if "decrypted" in str(exc):
                raise EncryptionError(
                    f"the ssh key {shown} is protected by a passphrase, which Skynet cannot ask for: give "
                    "--identity an age identity (age-keygen) or an ssh key without a passphrase"
                ) from None
            raise EncryptionError(f"{shown} is not an ssh private key age can use (ed25519 or rsa)") from None
    lines = [line.strip() for line in data.decode("ascii", errors="replace").splitlines()]
    keys = [line for line in lines if line and not line.startswith("#")]
    if not keys or not all(line.startswith("AGE-SECRET-KEY-1") for line in keys):
        raise EncryptionError(
            f"{shown} is neither an age identity file (AGE-SECRET-KEY-1… lines) nor an ssh private key"
        )
    identities: list[Any] = []
    for number, line in enumerate(lines, start=1):
        if line and not line.startswith("#"):
            try:
                identities.append(x25519.Identity.from_str(line))
            except pyrage.IdentityError:
                raise EncryptionError(f"{shown}, line {number}: not a valid age identity") from None
    return identities
