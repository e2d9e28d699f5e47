"""secrets.age/: one age file per file of secrets/, and a manifest of their paths, plaintext sha256 and recipients.

A file is encrypted again only when its plaintext or the recipients changed (age output is random: encrypting
unchanged files would make every commit rewrite them). The manifest holds no secret: paths, digests of files
whose content is keys (too long to guess) and public keys."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from skynet_tui.sharing import age
from skynet_tui.workspace import SEALED, STAGING_PREFIX, TMP_SUFFIX, Workspace, WorkspaceUnusable

MANIFEST: Final = "manifest.json"
FORMAT: Final = "skynet.dev/secrets-age/v1"
SUFFIX: Final = ".age"
BUNDLE: Final = "secrets.yaml"  # the Talos secrets bundle: a workspace without it has not been opened
_REL: Final = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*)*")
_SHA256: Final = re.compile(r"[0-9a-f]{64}")
MAX_MANIFEST = 1024 * 1024


class NotOpened(WorkspaceUnusable):
    """The workspace's secrets are in secrets.age/ but not decrypted into secrets/."""


@dataclass(frozen=True)
class Manifest:
    """What secrets.age/ holds: file (relative to secrets/) → sha256 of its plaintext, and the recipients."""

    recipients: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        data = {
            "format": FORMAT,
            "recipients": self.recipients,
            "files": {rel: {"sha256": digest} for rel, digest in sorted(self.files.items())},
        }
        return json.dumps(data, indent=2) + "\n"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sealed_path(rel: str) -> str:
    """The workspace-relative path of a secret file's encrypted copy."""
    return f"{SEALED}/{rel}{SUFFIX}"


def read_manifest(ws: Workspace) -> Manifest | None:
    """The manifest of secrets.age/, None when there is none; WorkspaceUnusable when it is not one Skynet
    wrote (it comes from a repository: every path and digest is checked before any is used)."""
    path = ws.path(f"{SEALED}/{MANIFEST}")
    if not path.exists():
        return None
    where = f"{SEALED}/{MANIFEST}"
    try:
        if path.stat().st_size > MAX_MANIFEST:
            raise WorkspaceUnusable(f"{where} is larger than {MAX_MANIFEST // 1024} KiB; it is not Skynet's")
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WorkspaceUnusable(f"cannot read {where}: {exc}") from None
    return _parse_manifest(data, where)


def _parse_manifest(data: Any, where: str) -> Manifest:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise WorkspaceUnusable(f"{where} is not a manifest of format {FORMAT}")
    recipients, files = data.get("recipients"), data.get("files")
    if not isinstance(recipients, list) or not all(isinstance(r, str) and len(r) < 4096 for r in recipients):
        raise WorkspaceUnusable(f"{where}: recipients is not a list of public keys")
    if not isinstance(files, dict):
        raise WorkspaceUnusable(f"{where}: files is not a mapping")
    out: dict[str, str] = {}
    for rel, entry in files.items():
        digest = entry.get("sha256") if isinstance(entry, dict) else None
        if not isinstance(rel, str) or not _REL.fullmatch(rel) or rel.startswith(STAGING_PREFIX):
            raise WorkspaceUnusable(f"{where}: {rel!r:.60} is not a path inside secrets/")
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            raise WorkspaceUnusable(f"{where}: {rel} has no sha256")
        out[rel] = digest
    return Manifest(list(recipients), out)


def secret_files(ws: Workspace) -> dict[str, Path]:
    """Every file under secrets/ (relative path → path), without generate's staging folders or temp files."""
    folder = ws.secrets_dir
    if not folder.is_dir() or folder.is_symlink():
        return {}
    out: dict[str, Path] = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if rel.parts[0].startswith(STAGING_PREFIX) or path.name.endswith(TMP_SUFFIX):
            continue
        if path.is_file() and not path.is_symlink():
            out[rel.as_posix()] = path
    return out


def check_opened(ws: Workspace) -> None:
    """NotOpened when secrets.age/ holds the cluster's secrets and secrets/ does not: writing secrets then
    would make a new secrets bundle (a new PKI) and encrypt it over the cluster's."""
    manifest = read_manifest(ws)
    if manifest is None or not manifest.files:
        return
    present = secret_files(ws)
    missing = [rel for rel in manifest.files if rel not in present]
    if (BUNDLE in manifest.files and BUNDLE in missing) or len(missing) == len(manifest.files):
        raise NotOpened(
            f"{ws.root}: the cluster's secrets are in {SEALED}/ but not decrypted into secrets/; run "
            f"`skynet open {ws.root}` (with --identity if your key is not ~/.ssh/id_ed25519) first"
        )


def seal(ws: Workspace, recipients: Sequence[str]) -> list[str]:
    """Bring secrets.age/ in line with secrets/ for `recipients` (none: remove secrets.age/); the
    workspace-relative paths written or removed. Hold the workspace lock."""
    root = ws.path(SEALED)
    if not recipients:
        if not root.is_dir():
            return []
        removed = sorted(p.relative_to(ws.root).as_posix() for p in root.rglob("*") if p.is_file())
        shutil.rmtree(root)
        return removed
    check_opened(ws)
    before = read_manifest(ws) or Manifest()
    same_recipients = sorted(before.recipients) == sorted(recipients)
    to = age.recipients(recipients)
    files = secret_files(ws)
    ws.check_links([sealed_path(rel) for rel in files])
    changed: list[str] = []
    digests: dict[str, str] = {}
    for rel, path in files.items():
        data = path.read_bytes()
        digests[rel] = digest = _sha256(data)
        target = sealed_path(rel)
        if same_recipients and before.files.get(rel) == digest and (ws.root / target).is_file():
            continue
        ws.write(target, age.encrypt(data, to))
        changed.append(target)
    for path in sorted(root.rglob(f"*{SUFFIX}")) if root.is_dir() else []:
        rel = path.relative_to(root).as_posix().removesuffix(SUFFIX)
        if rel not in files and path.is_file():
            path.unlink()
            changed.append(sealed_path(rel))
    for folder in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        if not any(folder.iterdir()):
            folder.rmdir()
    if ws.write(f"{SEALED}/{MANIFEST}", Manifest(list(recipients), digests).to_json()):
        changed.append(f"{SEALED}/{MANIFEST}")
    return changed


def unseal(ws: Workspace, identities: Sequence[Any], identity_path: str) -> list[str]:
    """Decrypt every file of secrets.age/ into secrets/ (0700, files 0600, atomic), each checked against the
    manifest's sha256 first: nothing is written unless every file decrypts and matches. The files written,
    relative to secrets/. NoMatchingIdentity names the recipients when no identity opens the files."""
    manifest = read_manifest(ws)
    if manifest is None:
        raise WorkspaceUnusable(
            f"{ws.root} has no {SEALED}/{MANIFEST}: its secrets were not shared (spec.secrets.encryption)"
        )
    plain: dict[str, bytes] = {}
    for rel, digest in manifest.files.items():
        source = ws.path(sealed_path(rel))
        try:
            data = age.decrypt(source.read_bytes(), identities)
        except OSError as exc:
            raise age.EncryptionError(f"cannot read {sealed_path(rel)}: {exc.strerror}") from None
        if data is None:
            raise age.NoMatchingIdentity(identity_path, manifest.recipients)
        if _sha256(data) != digest:
            raise age.EncryptionError(
                f"{sealed_path(rel)} decrypts to content whose sha256 is not the manifest's; the repository "
                "is damaged or was changed by hand: nothing was written"
            )
        plain[rel] = data
    ws.check_links(["secrets", *(f"secrets/{rel}" for rel in plain)])  # a clone may hold a planted link
    ws.secrets_dir.mkdir(mode=0o700, exist_ok=True)
    ws.secure_secrets()
    for rel, data in plain.items():
        ws.write_secret(rel, data)
    return list(plain)
