"""The workspace's backups/: etcd snapshots (0600, git-ignored) each with a JSON manifest, listed newest first.

A snapshot is what `talosctl etcd snapshot` writes: the database followed by its sha256 (so its size is 32 more
than a multiple of 512), which `verify` checks as talosctl does before a restore. The manifest beside it
(`<name>.json`) records when, from which member, the versions, the members, the workspace commit and the file's
own sha256.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from skynet_tui.workspace import Workspace, atomic_write

FOLDER = "backups"  # git-ignored (workspace.py), 0700, files 0600
SUFFIX = ".snapshot"
MANIFEST_SUFFIX = ".json"
HASH_SIZE = 32  # etcd appends the sha256 of the database to a snapshot
AGE_HEADER = b"age-encryption.org/v1"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
PAGE = 512
# The console warns once the newest backup is older than this (a day and a bit: a daily backup that ran late).
WARN_AGE = dt.timedelta(hours=26)


class BackupError(ValueError):
    """A snapshot file that cannot be restored, or a manifest that cannot be read; the message says which."""


@dataclass(frozen=True)
class Member:
    id: str
    hostname: str


@dataclass(frozen=True)
class Manifest:
    """What a backup holds and where it came from."""

    file: str  # the snapshot's name in backups/
    taken_at: str  # RFC 3339, UTC
    cluster: str
    node: str  # the control plane that gave it
    talos: str
    kubernetes: str
    sha256: str
    size: int
    commit: str = ""  # the workspace's commit then ("" before the first one)
    reason: str = "on demand"  # or "before upgrade talos-v1.13.9", …
    members: tuple[Member, ...] = field(default_factory=tuple)

    @property
    def taken(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.taken_at.replace("Z", "+00:00"))

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data: dict[str, Any] = json.loads(text)
        members = tuple(Member(str(m["id"]), str(m["hostname"])) for m in data.pop("members", []) or [])
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known, members=members)


def folder(ws: Workspace) -> Path:
    """The workspace's backups/ (created 0700; git ignores it)."""
    path = ws.root / FOLDER
    path.mkdir(mode=0o700, exist_ok=True)
    path.chmod(0o700)
    return path


def now_rfc3339(now: dt.datetime | None = None) -> str:
    return (now or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


def snapshot_name(reason_label: str, now: dt.datetime | None = None) -> str:
    """`etcd-20261203-070512-<label>.snapshot`: sorts by time."""
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%d-%H%M%S")
    return f"etcd-{stamp}-{reason_label}{SUFFIX}"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify(path: Path) -> None:
    """Check a snapshot as talosctl does before it sends one (BackupError naming the problem)."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise BackupError(f"{path}: {exc.strerror or exc}") from None
    if not path.is_file():
        raise BackupError(f"{path} is not a file")
    with open(path, "rb") as handle:
        head = handle.read(len(AGE_HEADER))
    if head == AGE_HEADER:  # a scheduled backup, as talos-backup uploads it
        raise BackupError(
            f"{path} is encrypted with age: decrypt it first (age -d -i KEY -o FILE.snapshot {path})"
        )
    if head.startswith(ZSTD_MAGIC):
        raise BackupError(f"{path} is zstd-compressed: decompress it first (zstd -d {path})")
    if size < PAGE + HASH_SIZE or size % PAGE != HASH_SIZE:
        raise BackupError(
            f"{path} is not an etcd snapshot: {size} bytes, and a snapshot is its database (pages of 512 bytes) "
            "and a sha256 of 32"
        )
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        left = size - HASH_SIZE
        while left:  # a snapshot may be gigabytes: hashed in chunks
            chunk = handle.read(min(left, 1 << 20))
            if not chunk:
                break
            digest.update(chunk)
            left -= len(chunk)
        trailer = handle.read()
    if digest.digest() != trailer:
        raise BackupError(f"{path}: the sha256 at its end does not match its content (a damaged snapshot)")


def write_manifest(path: Path, manifest: Manifest) -> Path:
    target = path.with_name(path.name.removesuffix(SUFFIX) + MANIFEST_SUFFIX)
    atomic_write(target, manifest.to_json(), 0o600)
    return target


def manifest_of(path: Path) -> Manifest | None:
    """The manifest beside a snapshot, None when it has none (an upgrade's snapshot of an older Skynet)."""
    target = path.with_name(path.name.removesuffix(SUFFIX) + MANIFEST_SUFFIX)
    try:
        return Manifest.from_json(target.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"{target}: not a backup manifest ({exc})") from None


@dataclass(frozen=True)
class Backup:
    path: Path
    manifest: Manifest | None
    modified: dt.datetime  # the file's time: what the age is read from when there is no manifest

    @property
    def taken(self) -> dt.datetime:
        return self.manifest.taken if self.manifest else self.modified


def listing(root: Path) -> list[Backup]:
    """Every snapshot under `root`/backups, newest first (none when the folder does not exist)."""
    base = root / FOLDER
    if not base.is_dir():
        return []
    found = []
    for path in base.glob(f"*{SUFFIX}"):
        try:
            manifest = manifest_of(path)
        except BackupError:
            manifest = None
        modified = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
        found.append(Backup(path, manifest, modified))
    return sorted(found, key=lambda b: (b.taken, b.path.name), reverse=True)


def newest(root: Path) -> Backup | None:
    backups = listing(root)
    return backups[0] if backups else None


def prune(root: Path, keep: int) -> list[Path]:
    """Remove all but the `keep` newest snapshots (and their manifests); the snapshots removed."""
    if keep < 1:
        raise ValueError("--keep must be at least 1: a backup is never removed before a newer one exists")
    removed = []
    for backup in listing(root)[keep:]:
        backup.path.unlink(missing_ok=True)
        backup.path.with_name(backup.path.name.removesuffix(SUFFIX) + MANIFEST_SUFFIX).unlink(missing_ok=True)
        removed.append(backup.path)
    return removed


def age_text(age: dt.timedelta) -> str:
    seconds = max(0, int(age.total_seconds()))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 3 * 86400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def summary(newest_backup: Backup | None, now: dt.datetime) -> tuple[str, str]:
    """The console's line about backups/: (text, "ok" or "warn"); warn with none, or the newest past WARN_AGE."""
    if newest_backup is None:
        return f"no etcd backup in {FOLDER}/ yet: take one with `skynet backup`", "warn"
    age = now - newest_backup.taken
    text = f"newest etcd backup {age_text(age)} old ({newest_backup.path.name})"
    if age > WARN_AGE:
        hours = int(WARN_AGE.total_seconds() // 3600)
        return f"{text}: older than {hours}h, take one with `skynet backup`", "warn"
    return text, "ok"


class Watcher:
    """The newest backup of a workspace, read again only when backups/ changes (the console asks often)."""

    def __init__(self, root: Path):
        self.root = root
        self._seen: tuple[int, Backup | None] | None = None

    def newest(self) -> Backup | None:
        try:
            stamp = (self.root / FOLDER).stat().st_mtime_ns
        except OSError:
            stamp = -1
        if self._seen is None or self._seen[0] != stamp:
            self._seen = (stamp, newest(self.root))
        return self._seen[1]
