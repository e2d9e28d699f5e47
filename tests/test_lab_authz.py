"""The lab's talosctl enforces Talos's role-based access as a real node does: the client certificate must be
signed by the node's OS CA and valid now, and its roles (the subject's Organization) must be allowed the
command's API method by Talos's per-method table; os:admin keeps every command."""

from __future__ import annotations

import base64
import datetime as dt
import subprocess
from pathlib import Path

import pytest
import yaml

from skynet_lab import state, talos_authz, talos_pki
from skynet_lab.core import Lab
from skynet_tui.talos import commands as talos
from tests.lab_helpers import (  # noqa: F401 - lab_factory_fixture provides the lab_factory fixture
    install_state,
    lab_factory_fixture,
    write_talosconfig,
)

pytestmark = pytest.mark.lab

DENIED = "rpc error: code = PermissionDenied desc = not authorized"
IMAGE = "factory.talos.dev/metal-installer/lab:v1.13.9"


@pytest.fixture
def lab(lab_factory) -> Lab:
    running = lab_factory(3, 1)
    install_state(running)
    return running


def _run(lab: Lab, argv: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(argv, env=lab.env(), capture_output=True, text=True, timeout=60)


def _config(lab: Lab, path: Path, *roles: str) -> Path:
    return write_talosconfig(path, lab.control_plane_ips[:1], nodes=lab.control_plane_ips[:1], roles=roles)


def _reads(lab: Lab, tc: Path) -> list[list[str]]:
    cp = lab.control_plane_ips[0]
    return [
        talos.get("members", cp, talosconfig=tc),
        talos.etcd_members(cp, tc),
        talos.etcd_status([cp], tc),
        talos.service(cp, "etcd", tc),
        ["talosctl", "version", "--talosconfig", str(tc), "--nodes", cp],
    ]


def _destructive(lab: Lab, tc: Path, tmp_path: Path) -> dict[str, list[str]]:
    cp = lab.control_plane_ips[0]
    return {
        "reset": talos.reset(cp, tc, timeout=5),
        "upgrade": talos.upgrade(cp, IMAGE, tc, timeout=5),
        "kubeconfig": talos.kubeconfig(tmp_path / "kc", cp, tc),
        "bootstrap": talos.bootstrap(cp, tc),
        "etcd leave": talos.etcd_leave(cp, tc),
    }


def test_a_reader_reads_and_is_refused_every_change(lab: Lab, tmp_path: Path) -> None:
    tc = _config(lab, tmp_path / "reader", "os:reader")
    for argv in _reads(lab, tc):
        result = _run(lab, argv)
        assert result.returncode == 0, (argv, result.stderr)
    before = state.load_stored_nodes(lab.root)
    for what, argv in _destructive(lab, tc, tmp_path).items():
        result = _run(lab, argv)
        assert result.returncode != 0, what
        assert DENIED in result.stderr, (what, result.stderr)
    snapshot = _run(lab, talos.etcd_snapshot(lab.control_plane_ips[0], tmp_path / "db", tc))
    assert (
        snapshot.returncode == 1 and DENIED in snapshot.stderr
    )  # EtcdSnapshot: admin, operator, etcd:backup
    assert not (tmp_path / "db").exists() and not (tmp_path / "kc").exists()
    assert state.load_stored_nodes(lab.root) == before  # nothing was reset, upgraded or left etcd


def test_an_operator_takes_snapshots_and_cannot_reset(lab: Lab, tmp_path: Path) -> None:
    tc = _config(lab, tmp_path / "operator", "os:operator")
    cp = lab.control_plane_ips[0]
    result = _run(lab, talos.etcd_snapshot(cp, tmp_path / "db.snapshot", tc))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "db.snapshot").stat().st_size > 0
    assert _run(lab, talos.get("members", cp, talosconfig=tc)).returncode == 0
    for what in ("reset", "upgrade", "kubeconfig"):
        result = _run(lab, _destructive(lab, tc, tmp_path)[what])
        assert result.returncode == 1 and DENIED in result.stderr, (what, result.stderr)


def test_etcd_backup_role_snapshots_only(lab: Lab, tmp_path: Path) -> None:
    tc = _config(lab, tmp_path / "backup", "os:etcd:backup")
    cp = lab.control_plane_ips[0]
    assert _run(lab, talos.etcd_snapshot(cp, tmp_path / "db", tc)).returncode == 0
    assert _run(lab, talos.etcd_members(cp, tc)).returncode == 0
    refused = _run(lab, talos.get("members", cp, talosconfig=tc))
    assert refused.returncode == 1 and DENIED in refused.stderr


def test_unknown_roles_and_no_role_are_refused_everything(lab: Lab, tmp_path: Path) -> None:
    for roles in (("os:superuser",), ("admin",), ()):
        tc = _config(lab, tmp_path / f"tc-{len(roles)}-{roles[0] if roles else 'none'}", *roles)
        result = _run(lab, talos.get("members", lab.control_plane_ips[0], talosconfig=tc))
        assert result.returncode == 1 and DENIED in result.stderr, (roles, result.stderr)


def _rewrite(tc: Path, **fields: str) -> None:
    data = yaml.safe_load(tc.read_text())
    data["contexts"]["lab"].update({k: base64.b64encode(v.encode()).decode() for k, v in fields.items()})
    tc.write_text(yaml.safe_dump(data))


def test_a_certificate_from_another_ca_or_expired_is_refused(lab: Lab, tmp_path: Path) -> None:
    cp = lab.control_plane_ips[0]
    # os:admin, and the right CA to trust the node: but signed by another CA, which the node does not trust.
    other_crt, other_key = talos_pki.new_os_ca()
    crt, key = talos_pki.client_certificate(other_crt, other_key, ["os:admin"])
    foreign = _config(lab, tmp_path / "foreign", "os:admin")
    _rewrite(foreign, crt=crt, key=key)
    result = _run(lab, talos.get("members", cp, talosconfig=foreign))
    assert result.returncode == 1
    assert "remote error: tls: unknown certificate authority" in result.stderr
    assert result.stderr.startswith("rpc error: code = Unavailable desc = connection error")

    # A key that is not the certificate's: talosctl refuses before it connects.
    mismatched = _config(lab, tmp_path / "mismatched", "os:admin")
    _rewrite(mismatched, key=talos_pki.client_certificate(other_crt, other_key, ["os:admin"])[1])
    result = _run(lab, talos.get("members", cp, talosconfig=mismatched))
    assert result.returncode == 1 and "private key does not match public key" in result.stderr

    # The tests' CA, but expired an hour ago.
    from tests import lab_helpers

    issued = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    crt, key = talos_pki.client_certificate(
        lab_helpers._TEST_CA_CRT, lab_helpers._TEST_CA_KEY, ["os:admin"], dt.timedelta(hours=1), issued
    )
    expired = _config(lab, tmp_path / "expired", "os:admin")
    _rewrite(expired, crt=crt, key=key)
    result = _run(lab, talos.get("members", cp, talosconfig=expired))
    assert result.returncode == 1 and "remote error: tls: expired certificate" in result.stderr


def test_admin_keeps_every_command(lab: Lab, tmp_path: Path) -> None:
    tc = _config(lab, tmp_path / "admin", "os:admin")
    cp = lab.control_plane_ips[0]
    for argv in [
        *_reads(lab, tc),
        talos.etcd_snapshot(cp, tmp_path / "db", tc),
        talos.kubeconfig(tmp_path / "kc", cp, tc),
    ]:
        result = _run(lab, argv)
        assert result.returncode == 0, (argv, result.stderr)


def test_the_rule_table() -> None:
    """Talos's table, as the lab reads it: methods it does not list fall back to os:admin alone."""
    assert talos_authz.RULES["/machine.MachineService/Reset"] == {"os:admin"}
    assert talos_authz.RULES["/machine.MachineService/Version"] == {"os:admin", "os:operator", "os:reader"}
    assert "os:reader" not in talos_authz.RULES["/machine.MachineService/EtcdSnapshot"]
    assert talos_authz.RULES.get("/machine.MachineService/Copy", talos_authz.FALLBACK) == {"os:admin"}
    assert set(talos_authz.METHODS.values()) <= set(talos_authz.RULES)  # every command's method is listed
