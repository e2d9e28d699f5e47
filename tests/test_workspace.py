"""The workspace: atomic writes, secret modes, the lock, git."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from skynet_tui.workspace import COMMITTED, Workspace, WorkspaceLocked, atomic_write


def test_atomic_write_replaces_and_reports_changes(tmp_path: Path) -> None:
    target = tmp_path / "a" / "file.txt"
    assert atomic_write(target, "one\n") is True
    inode = target.stat().st_ino
    assert atomic_write(target, "one\n") is False
    assert target.stat().st_ino == inode, "unchanged content is not rewritten"
    assert atomic_write(target, "two\n", 0o600) is True
    assert target.read_text() == "two\n"
    assert target.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["file.txt"], "no temp file is left behind"


def test_atomic_write_leaves_the_old_file_when_writing_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "cluster.yaml"
    target.write_text("old\n")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        atomic_write(target, "new\n")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["cluster.yaml"]


@pytest.mark.usefixtures("git")
def test_layout_modes_and_gitignore(tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path / "ws")
    ws.ensure()
    ws.init_git()
    ws.write("cluster.yaml", "a: 1\n")
    ws.write_secret("secrets.yaml", "cluster:\n  secret: c2VjcmV0c2VjcmV0c2VjcmV0\n")
    ws.write_secret("nodes/cp-1.yaml", "machine: {}\n")
    (ws.logs_dir / "install.log").write_text("line\n")
    ws.journal.write_text("{}\n")
    assert ws.secrets_dir.stat().st_mode & 0o777 == 0o700
    assert ws.secrets_bundle.stat().st_mode & 0o777 == 0o600
    assert ws.node_config("cp-1").stat().st_mode & 0o777 == 0o600
    assert ws.commit("first", COMMITTED) is True
    assert sorted(ws.tracked_files()) == [".gitignore", "cluster.yaml"]
    assert ws.commit("nothing new", COMMITTED) is False


def test_secure_secrets_fixes_modes_tools_left(tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path)
    ws.ensure()
    loose = ws.secrets_dir / "generated" / "controlplane.yaml"
    loose.parent.mkdir()
    loose.write_text("x: 1\n")
    os.chmod(loose, 0o644)
    ws.secure_secrets()
    assert loose.stat().st_mode & 0o777 == 0o600
    assert loose.parent.stat().st_mode & 0o777 == 0o700


def test_redactor_knows_every_secret_value(tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path)
    ws.ensure()
    ws.write_secret(
        "secrets.yaml",
        "cluster:\n  id: 0raF93qnkMvF-FZNuvyGozXNdLiT2FOWSlyBaW4PR\n  secret: shortbutsecret\n",
    )
    redact = ws.redactor()
    line = redact("joining with shortbutsecret and 0raF93qnkMvF-FZNuvyGozXNdLiT2FOWSlyBaW4PR")
    assert "shortbutsecret" not in line and "0raF93" not in line


def test_certificate_fingerprints_are_shown_and_look_alike_secrets_are_not(tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path)
    ws.ensure()
    key = "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWo="  # 44 characters, like a secretbox key
    ws.write_secret("secrets.yaml", f"secrets:\n  secretboxEncryptionSecret: {key}\n")
    redact = ws.redactor()
    fingerprint = "j8iNuGT6IsHyWS0K8D5r5KJXy+ba0Tt3ZnsdDGgb/ec="
    shown = [
        f"$ talosctl apply-config --insecure --nodes 10.0.0.11 --cert-fingerprint {fingerprint} --file x",
        f"cp-1 presents the certificate fingerprint {fingerprint}, not the pinned fingerprint {fingerprint}",
        f"cp-1: link eth0 present, Talos v1.13.9, certificate {fingerprint}",
        f"leaf peer certificate doesn't match the provided fingerprints: [{fingerprint}]",
    ]
    assert [redact(line) for line in shown] == shown
    # The same shape anywhere else is masked, and a learned secret is masked even where a fingerprint goes.
    assert redact(f"token {fingerprint}") == "token «redacted»"
    assert redact(f"certificate {key}") == "certificate «redacted»"


def test_a_second_holder_is_refused_with_the_pid(tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys,time; from skynet_tui.workspace import Workspace\n"
            f"with Workspace.at({str(tmp_path)!r}).lock():\n"
            "    print('held', flush=True); time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(WorkspaceLocked) as caught, ws.lock():
            pass
        assert caught.value.pid == holder.pid
        assert f"PID {holder.pid}" in str(caught.value)
    finally:
        holder.kill()
        holder.wait()
    # The holder died without cleaning up: its lock is stale and is taken over.
    with ws.lock():
        assert json.loads(ws.lock_file.read_text())["pid"] == os.getpid()
    assert not ws.lock_file.exists()
