"""Keys for the sharing tests: age identities and ssh ed25519 keys made here (no ssh-keygen needed)."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pyrage import x25519

from skynet_tui.workspace import GIT_IDENTITY


@dataclass(frozen=True)
class Key:
    """An identity file and the public key (recipient) it answers to."""

    identity: Path
    public: str


def age_key(folder: Path, name: str) -> Key:
    identity = x25519.Identity.generate()
    path = folder / f"{name}.agekey"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"# created: for a test\n# public key: {identity.to_public()}\n{identity}\n")
    path.chmod(0o600)
    return Key(path, str(identity.to_public()))


def ssh_key(folder: Path, name: str = "id_ed25519", comment: str = "ops@laptop") -> Key:
    private = Ed25519PrivateKey.generate()
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
        )
    )
    path.chmod(0o600)
    public = private.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    line = f"{public.decode()} {comment}"
    (folder / f"{name}.pub").write_text(line + "\n")
    return Key(path, line)


def git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**os.environ, **GIT_IDENTITY},
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def git_bytes(*args: str, cwd: Path) -> bytes:
    return subprocess.run(
        ["git", *args], cwd=cwd, env={**os.environ, **GIT_IDENTITY}, capture_output=True, check=True
    ).stdout


def git_objects(repo: Path) -> bytes:
    """Every object of a repository, reachable or not, decompressed."""
    return git_bytes("cat-file", "--batch-all-objects", "--batch", cwd=repo)
