"""Backups without a cluster: snapshot checks as talosctl makes them, manifests, retention, ages, and the quorum
judgement a restore starts from."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

import pytest

from skynet_tui import spec
from skynet_tui.backup import assess, catalog
from skynet_tui.workspace import Workspace


def snapshot_bytes(body: bytes = b"db") -> bytes:
    data = body.ljust(1024, b"\0")
    return data + hashlib.sha256(data).digest()


def write_backup(ws: Workspace, name: str, taken: dt.datetime, *, manifest: bool = True) -> Path:
    path = catalog.folder(ws) / name
    path.write_bytes(snapshot_bytes(name.encode()))
    if manifest:
        catalog.write_manifest(
            path,
            catalog.Manifest(
                file=name, taken_at=catalog.now_rfc3339(taken), cluster="homelab", node="cp-1",
                talos="v1.13.9", kubernetes="1.36.3", sha256=catalog.sha256_of(path), size=path.stat().st_size,
                members=(catalog.Member("0123456789abcdef", "cp-1"),),
            ),
        )  # fmt: skip
    return path


def test_verify_checks_size_and_trailing_sha256_as_talosctl(tmp_path: Path) -> None:
    good = tmp_path / "good.snapshot"
    good.write_bytes(snapshot_bytes())
    catalog.verify(good)
    short = tmp_path / "short.snapshot"
    short.write_bytes(b"x" * 700)
    with pytest.raises(catalog.BackupError, match="is not an etcd snapshot: 700 bytes"):
        catalog.verify(short)
    damaged = tmp_path / "damaged.snapshot"
    data = bytearray(snapshot_bytes())
    data[10] ^= 1
    damaged.write_bytes(bytes(data))
    with pytest.raises(catalog.BackupError, match="does not match its content"):
        catalog.verify(damaged)
    with pytest.raises(catalog.BackupError, match="No such file"):
        catalog.verify(tmp_path / "missing.snapshot")
    # What the scheduled backups upload is age-encrypted: said so, with how to decrypt it.
    encrypted = tmp_path / "homelab-2026-12-03T03:00:00Z.snap.age"
    encrypted.write_bytes(b"age-encryption.org/v1\n-> X25519 abc\n" + b"\0" * 600)
    with pytest.raises(catalog.BackupError, match="encrypted with age: decrypt it first"):
        catalog.verify(encrypted)


def test_listing_is_newest_first_and_keep_prunes_the_rest_with_their_manifests(tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path)
    now = dt.datetime(2026, 12, 3, 7, 0, tzinfo=dt.UTC)
    paths = [write_backup(ws, f"etcd-{i}.snapshot", now - dt.timedelta(hours=i)) for i in range(4)]
    assert (tmp_path / "backups").stat().st_mode & 0o777 == 0o700
    assert all(p.with_suffix(".json").stat().st_mode & 0o777 == 0o600 for p in paths)
    assert [b.path for b in catalog.listing(tmp_path)] == paths
    manifest = catalog.manifest_of(paths[0])
    assert manifest is not None and manifest.members == (catalog.Member("0123456789abcdef", "cp-1"),)
    assert catalog.prune(tmp_path, 2) == paths[2:]
    assert sorted(p.name for p in (tmp_path / "backups").iterdir()) == [
        "etcd-0.json", "etcd-0.snapshot", "etcd-1.json", "etcd-1.snapshot",
    ]  # fmt: skip
    with pytest.raises(ValueError, match="at least 1"):
        catalog.prune(tmp_path, 0)


def test_a_snapshot_without_manifest_counts_by_its_file_time(tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path)
    old = write_backup(ws, "etcd-old.snapshot", dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    bare = write_backup(ws, "etcd-before-upgrade.snapshot", dt.datetime.now(dt.UTC), manifest=False)
    stamp = dt.datetime(2026, 6, 1, tzinfo=dt.UTC).timestamp()
    os.utime(bare, (stamp, stamp))
    newest = catalog.newest(tmp_path)
    assert newest is not None and newest.path == bare and newest.manifest is None
    assert catalog.listing(tmp_path)[1].path == old
    assert catalog.newest(tmp_path / "nowhere") is None


@pytest.mark.parametrize(
    ("seconds", "text"), [(5, "5s"), (300, "5m"), (3 * 3600, "3h"), (5 * 86400, "5d"), (-3, "0s")]
)
def test_age_text(seconds: int, text: str) -> None:
    assert catalog.age_text(dt.timedelta(seconds=seconds)) == text


def member(ip: str, *, leader: str = "aaaaaaaaaaaaaaaa", errors: str = "") -> assess.Member:
    return assess.Member(ip, leader, errors)


def test_quorum_is_a_majority_of_the_control_planes_with_a_leader(example_data: dict) -> None:
    cluster = spec.parse(example_data)
    ips = [n.ip for n in cluster.control_planes]
    assert len(ips) == 3
    held = assess.judge(cluster, [member(ips[0]), member(ips[2])])
    assert held.has_quorum and held.healthy == ("cp-1", "cp-3") and held.quorum == 2
    assert "the cluster is not lost" in held.text() and "--force" in held.text()
    # A member with errors, or one that knows no leader, does not count; a worker's row is not a member.
    lost = assess.judge(
        cluster, [member(ips[0]), member(ips[1], errors="NOSPACE"), member(ips[2], leader="0" * 16)]
    )
    assert not lost.has_quorum and lost.healthy == ("cp-1",)
    assert "has lost its quorum" in lost.text()
    assert not assess.judge(cluster, [], "error getting status: connection refused").has_quorum


def test_the_console_shows_the_newest_backups_age_and_warns_when_old_or_missing(tmp_path: Path) -> None:
    from skynet_tui.screens.console.texts import overview
    from skynet_tui.status.fold import Fold
    from skynet_tui.status.monitor import KINDS
    from skynet_tui.status.report import to_dict

    now = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)
    fold = Fold(
        [k.name for k in KINDS], lambda snap: None, cluster="lab", wall=lambda: now, workspace=tmp_path
    )
    snap = fold.build()
    assert (snap.backup_level, snap.backup) == (
        "warn",
        "no etcd backup in backups/ yet: take one with `skynet backup`",
    )
    assert any(p.layer == "etcd" and p.text == snap.backup for p in snap.problems)
    ws = Workspace.at(tmp_path)
    write_backup(ws, "etcd-a.snapshot", now - dt.timedelta(hours=30))
    snap = fold.build()
    assert snap.backup_level == "warn"
    assert (
        snap.backup
        == "newest etcd backup 30h old (etcd-a.snapshot): older than 26h, take one with `skynet backup`"
    )
    write_backup(ws, "etcd-b.snapshot", now - dt.timedelta(minutes=5))
    snap = fold.build()  # backups/ changed: read again
    assert (snap.backup_level, snap.backup) == ("ok", "newest etcd backup 5m old (etcd-b.snapshot)")
    assert not any(p.text == snap.backup for p in snap.problems)
    assert to_dict(snap)["backup"] == {"text": snap.backup, "level": "ok"}
    assert (
        "Backup      newest etcd backup 5m old"
        in overview(snap.layers, "", snap.backup, snap.backup_level).plain
    )
    # Without a workspace there is nothing to say about backups/.
    bare = Fold([k.name for k in KINDS], lambda snap: None, cluster="lab", wall=lambda: now).build()
    assert bare.backup == "" and to_dict(bare)["backup"] is None
