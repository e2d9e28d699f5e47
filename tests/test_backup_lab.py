"""`skynet backup` and `skynet restore` against an installed lab: retention, a snapshot holding the cluster's
objects, a restore refused while etcd has quorum (nothing wiped), and the lab's recovery refusing a live etcd."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pytest
from rich.console import Console

from skynet_lab import state
from skynet_tui import journal
from skynet_tui.backup import catalog
from skynet_tui.commands.backup import run_backup
from skynet_tui.commands.restore import run_restore
from tests.upgrade_helpers import Installed, installed_fixture  # noqa: F401

pytestmark = [pytest.mark.lab, pytest.mark.slow, pytest.mark.usefixtures("git")]


def console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=220, color_system=None), out


def snapshot_objects(path: Path) -> list[dict]:
    _header, _, rest = path.read_bytes().partition(b"\n")
    return json.loads(rest.split(b"\n", 1)[0])["objects"]


def test_backups_keep_n_and_hold_the_cluster_objects(installed: Installed) -> None:
    ws, env = installed.ws, installed.lab.env()
    for _ in range(3):
        out, text = console()
        assert run_backup(ws, keep=2, env=env, console=out) == 0, text.getvalue()[-3000:]
    assert "backup written backups/etcd-" in text.getvalue()
    assert "(--keep 2)" in text.getvalue()  # the third run removed the first
    backups = catalog.listing(ws.root)
    assert len(backups) == 2
    for backup in backups:
        assert backup.path.stat().st_mode & 0o777 == 0o600
        catalog.verify(backup.path)
        manifest = backup.manifest
        assert manifest is not None and manifest.sha256 == catalog.sha256_of(backup.path)
        assert (manifest.talos, manifest.kubernetes) == (installed.cluster.spec.talos.version,
                                                         installed.cluster.spec.kubernetes.version)  # fmt: skip
        assert [m.hostname for m in manifest.members] == ["cp-1", "cp-2", "cp-3"]
    # The snapshot holds what the API serves: the Nodes and the Argo CD Applications among them.
    kinds = {(o["kind"], o["metadata"]["name"]) for o in snapshot_objects(backups[0].path)}
    assert {("Node", "cp-1"), ("Node", "worker-2"), ("Application", "root")} <= kinds


def test_restore_is_refused_while_etcd_has_quorum(installed: Installed) -> None:
    ws, env = installed.ws, installed.lab.env()
    out, text = console()
    assert run_backup(ws, env=env, console=out) == 0
    snapshot = catalog.listing(ws.root)[0].path
    out, text = console()
    code = run_restore(ws, snapshot, assume_yes=True, env=env, console=out)
    said = text.getvalue()
    assert code == 1, said
    assert "Refused: etcd answers with a leader on 3 of 3 control plane(s) (cp-1, cp-2, cp-3)" in said
    assert "the cluster is not lost" in said and "--force" in said
    # Nothing ran: no restore step in the journal, no machine wiped.
    assert not [r for r in journal.read(ws.journal) if r.step.startswith(("wipe-", "recover"))]
    assert not [n for n in state.load_stored_nodes(installed.lab.root) if n.get("etcd_wiped_at")]

    # With one control plane gone, two still make a quorum: refused the same way, naming the two.
    installed.lab.inject(unreachable=[installed.cluster.control_planes[1].ip])
    out, text = console()
    assert run_restore(ws, snapshot, assume_yes=True, env=env, console=out) == 1
    assert "Refused: etcd answers with a leader on 2 of 3 control plane(s) (cp-1, cp-3)" in text.getvalue()
    installed.lab.inject(unreachable=[])
    # talosctl's own guard: a recovery onto a member that runs etcd is refused by the node.
    recover = subprocess.run(
        ["talosctl", "bootstrap", "--talosconfig", str(ws.talosconfig), "--nodes",
         installed.cluster.control_planes[0].ip, f"--recover-from={snapshot}"],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert recover.returncode == 1
    assert "etcd service is not ready for recovery yet" in recover.stderr
    assert 'recovering from snapshot "' in recover.stderr  # talosctl reads the file before it sends it
    # The lab wipes system labels for disaster recovery only: EPHEMERAL, not gracefully, then a reboot.
    reset = subprocess.run(
        ["talosctl", "reset", "--talosconfig", str(ws.talosconfig), "--nodes", installed.cluster.control_planes[0].ip,
         "--graceful=false", "--reboot", "--system-labels-to-wipe", "STATE"],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert reset.returncode == 1 and "--system-labels-to-wipe=EPHEMERAL" in reset.stderr


def test_a_file_that_is_not_a_snapshot_is_bad_input(installed: Installed, tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.snapshot"
    bogus.write_text("not a snapshot\n")
    out, _ = console()
    assert run_restore(installed.ws, bogus, assume_yes=True, env=installed.lab.env(), console=out) == 2
