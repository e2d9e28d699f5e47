"""`skynet demo --headless --scenario backup-restore`: install, a marker, a backup, a second marker, etcd lost on
every control plane, the restore; the first marker is back and the second is gone, exit 0."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from skynet_tui.backup import catalog
from skynet_tui.commands.demo_backup import MARKERS
from tests.lab_helpers import make_lab

pytestmark = [pytest.mark.lab, pytest.mark.slow, pytest.mark.usefixtures("git")]


def test_the_backup_restore_scenario_brings_the_snapshot_back(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    make_lab(tmp_path, 3, 1, root=root / "simulated-lab").stop()  # near-zero latencies: the demo reopens it
    demo = subprocess.run(
        [sys.executable, "-m", "skynet_tui", "demo", "--headless", "--scenario", "backup-restore", "--workspace",
         str(root), "--nodes", "3+1"],
        capture_output=True, text=True, timeout=1200, check=False,
    )  # fmt: skip
    out = demo.stdout
    assert demo.returncode == 0, out[-5000:] + demo.stderr[-2000:]
    written = re.findall(r"^backup written (\S+)$", out, re.MULTILINE)
    assert len(written) == 1, out[-3000:]
    snapshot = root / "lab" / written[0]
    assert snapshot.is_file() and snapshot.stat().st_mode & 0o777 == 0o600
    assert "restore done" in out.splitlines()
    assert f"marker {MARKERS[0]}: present (created before the backup)" in out
    assert f"marker {MARKERS[1]}: absent (created after the backup)" in out
    # The order of the story: backup, loss, the wipes, the recovery, done.
    story = ("backup written", "etcd's data is lost", "▶ wipe-cp-1", "▶ recover", "▶ members", "restore done")
    at = [out.index(text) for text in story]
    assert at == sorted(at)

    # The manifest beside the snapshot says what it holds; the snapshot is outside git.
    manifest = catalog.manifest_of(snapshot)
    assert manifest is not None and manifest.sha256 == catalog.sha256_of(snapshot)
    assert manifest.cluster == "lab" and manifest.reason == "on demand"
    assert sorted(m.hostname for m in manifest.members) == ["cp-1", "cp-2", "cp-3"]
    assert re.fullmatch(r"[0-9a-f]{40}", manifest.commit)
    ws = root / "lab"
    tracked = subprocess.run(["git", "ls-files"], cwd=ws, capture_output=True, text=True, check=True).stdout
    assert "backups/" not in tracked
    lab = json.loads((root / "simulated-lab" / "lab.json").read_text())
    assert lab["etcd_restores"] == 1
