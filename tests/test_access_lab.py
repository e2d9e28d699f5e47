"""`skynet access grant` against a cluster the product installed in the lab: the lab's talosctl, which enforces
Talos's roles, accepts an os:reader talosconfig for reads and refuses it reset and upgrade; an os:operator one
takes an etcd snapshot and cannot reset; a certificate another CA signed is refused; the console shows the grants;
and no secret of the grants reaches the committed file, the logs or a git object."""

from __future__ import annotations

import base64
import datetime as dt
import subprocess
from pathlib import Path

import pytest
import yaml

from skynet_lab import talos_pki
from skynet_tui.__main__ import main
from skynet_tui.access import grants, issue
from skynet_tui.talos import commands as talos
from tests.runner_helpers import secret_values
from tests.upgrade_helpers import Installed, installed_fixture  # noqa: F401

pytestmark = [pytest.mark.lab, pytest.mark.slow, pytest.mark.usefixtures("git")]

DENIED = "rpc error: code = PermissionDenied desc = not authorized"
IMAGE = "factory.talos.dev/metal-installer/lab:v1.13.9"


def _grant(installed: Installed, capsys, name: str, role: str) -> tuple[Path, str]:
    ws = installed.ws
    code = main(["access", "grant", name, "--role", role, "--ttl", "30d", "--workspace", str(ws.root)])
    said = capsys.readouterr()
    assert code == 0, said.err
    path = grants.talosconfig_path(ws, name)
    assert f"talosconfig: {path}" in said.out
    return path, said.out + said.err


def _run(installed: Installed, argv: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(argv, env=installed.lab.env(), capture_output=True, text=True, timeout=120)


def _secrets_of(path: Path) -> set[str]:
    context = next(iter(yaml.safe_load(path.read_text())["contexts"].values()))
    values = {context["crt"], context["key"]}
    for field in ("crt", "key"):
        values |= {
            line for line in base64.b64decode(context[field]).decode().splitlines() if "-----" not in line
        }
    return values


def test_granted_roles_are_enforced_by_the_lab(installed: Installed, capsys, tmp_path: Path) -> None:
    ws, cp = installed.ws, installed.cluster.control_planes[0].ip
    reader, out_reader = _grant(installed, capsys, "alice", "os:reader")
    operator, out_operator = _grant(installed, capsys, "bob", "os:operator")

    # os:reader: reads through the talosconfig's own endpoints; no change to the machines.
    for argv in (
        ["talosctl", "version", "--talosconfig", str(reader), "--nodes", cp],
        talos.get("members", cp, talosconfig=reader),
        talos.etcd_status([cp], reader),
        talos.service(cp, "etcd", reader),
    ):
        result = _run(installed, argv)
        assert result.returncode == 0, (argv, result.stderr)
    for argv in (talos.reset(cp, reader, timeout=5), talos.upgrade(cp, IMAGE, reader, timeout=5)):
        result = _run(installed, argv)
        assert result.returncode != 0 and DENIED in result.stderr, (argv, result.stderr)

    # os:operator: an etcd snapshot, but no reset.
    snapshot = tmp_path / "db.snapshot"
    result = _run(installed, talos.etcd_snapshot(cp, snapshot, operator))
    assert result.returncode == 0 and snapshot.stat().st_size > 0, result.stderr
    result = _run(installed, talos.reset(cp, operator, timeout=5))
    assert result.returncode != 0 and DENIED in result.stderr

    # os:admin, the workspace's own talosconfig, still does everything the product needs.
    assert _run(installed, talos.kubeconfig(tmp_path / "kc", cp, ws.talosconfig)).returncode == 0

    # A certificate another CA signed, with the cluster's CA to trust the node: the node refuses it.
    other_crt, other_key = talos_pki.new_os_ca()
    foreign = issue.issue(
        other_crt, other_key, name="mallory", role="os:reader", ttl=dt.timedelta(days=1), cluster="x",
        endpoints=[cp], nodes=[cp],
    )  # fmt: skip
    config = yaml.safe_load(foreign.talosconfig)
    config["contexts"]["mallory@x"]["ca"] = yaml.safe_load(reader.read_text())["contexts"][
        f"alice@{installed.cluster.name}"
    ]["ca"]
    forged = tmp_path / "forged"
    forged.write_text(yaml.safe_dump(config))
    result = _run(installed, talos.get("members", cp, talosconfig=forged))
    assert result.returncode != 0 and "tls: unknown certificate authority" in result.stderr

    # The console's line, from the workspace's record.
    text, level = grants.Watcher(ws.root).summary(dt.datetime.now(dt.UTC))
    assert level == "warn"  # 30 days: within the warning window
    assert "alice os:reader expires" in text and "bob os:operator expires" in text

    # The secrets scan: the install's secrets and both grants' certificates and keys appear in no log, no
    # journal, no output, not in access.yaml and in no git object of the workspace.
    values = secret_values(ws) | _secrets_of(reader) | _secrets_of(operator)
    written = [p.read_text() for p in ws.logs_dir.glob("*.log")]
    written += [ws.journal.read_text(), (ws.root / grants.FILE).read_text(), out_reader, out_operator]
    objects = subprocess.run(
        ["git", "cat-file", "--batch-all-objects", "--batch"], cwd=ws.root, capture_output=True, check=True
    ).stdout.decode("utf-8", errors="replace")
    assert (
        grants.FILE in subprocess.run(["git", "ls-files"], cwd=ws.root, capture_output=True, text=True).stdout
    )
    found = [v[:12] for v in values if any(v in text for text in [*written, objects])]
    assert found == []
