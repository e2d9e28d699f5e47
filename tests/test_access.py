"""`skynet access`: a role-based talosconfig issued from a real Talos secrets bundle (Talos's own test bundle), the
grant recorded without key material and committed, bad input refused with nothing written, revoke saying what it
cannot do, and the console's line about who holds what."""

from __future__ import annotations

import base64
import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from skynet_tui.__main__ import main
from skynet_tui.access import grants, issue
from skynet_tui.access.grants import AccessError, Grant
from skynet_tui.screens.console import texts
from skynet_tui.workspace import Workspace
from tests.tools import GIT_WHY, require

BUNDLE = Path(__file__).parent / "data" / "fixtures" / "talos" / "secrets.yaml"  # see its SOURCE.txt
NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


def _pem(value: str) -> bytes:
    return base64.b64decode(value)


def test_issue_from_a_talos_bundle_makes_a_client_certificate_talos_reads_the_role_from() -> None:
    ca_crt, ca_key = issue.read_os_ca(BUNDLE)
    got = issue.issue(
        ca_crt, ca_key, name="alice", role="os:reader", ttl=dt.timedelta(hours=24), cluster="prod",
        endpoints=["10.0.0.11", "10.0.0.12"], nodes=["10.0.0.11"], now=NOW,
    )  # fmt: skip
    config = yaml.safe_load(got.talosconfig)
    assert config["context"] == "alice@prod" and list(config["contexts"]) == ["alice@prod"]
    context = config["contexts"]["alice@prod"]
    assert context["endpoints"] == ["10.0.0.11", "10.0.0.12"] and context["nodes"] == ["10.0.0.11"]
    assert _pem(context["ca"]).decode() == ca_crt
    ca = x509.load_pem_x509_certificate(ca_crt.encode())
    cert = x509.load_pem_x509_certificate(_pem(context["crt"]))
    cert.verify_directly_issued_by(ca)  # signed by the bundle's OS CA
    assert [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)] == ["os:reader"]
    assert [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)] == ["alice"]
    assert cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value == x509.ExtendedKeyUsage(
        [ExtendedKeyUsageOID.CLIENT_AUTH]
    )
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and not usage.value.key_cert_sign
    assert (cert.not_valid_before_utc, cert.not_valid_after_utc) == (NOW, NOW + dt.timedelta(hours=24))
    key_pem = _pem(context["key"]).decode()
    assert key_pem.startswith("-----BEGIN ED25519 PRIVATE KEY-----")  # Talos's label, the CA's key type
    assert isinstance(cert.public_key(), ed25519.Ed25519PublicKey)
    assert got.grant == Grant("alice", "os:reader", f"{cert.serial_number:x}", got.grant.sha256, NOW,
                              NOW + dt.timedelta(hours=24))  # fmt: skip
    assert len(got.grant.sha256) == 64


def test_a_ttl_beyond_the_ca_is_refused() -> None:
    ca_crt, ca_key = issue.read_os_ca(BUNDLE)
    with pytest.raises(AccessError, match="outlive the OS CA"):
        issue.issue(ca_crt, ca_key, name="a", role="os:reader", ttl=dt.timedelta(days=365 * 30), cluster="c",
                    endpoints=["10.0.0.1"], nodes=[])  # fmt: skip


@pytest.mark.parametrize("name", ["", "Alice", "alice_1", "-alice", "alice-", "a" * 64, "al ice", "../x"])
def test_names_that_are_not_dns_labels(name: str) -> None:
    with pytest.raises(AccessError, match="NAME"):
        grants.check_name(name)


def test_roles_and_ttls() -> None:
    assert grants.check_role("os:operator") == "os:operator" and grants.check_role("os:reader") == "os:reader"
    assert grants.check_role("os:etcd:backup") == "os:etcd:backup"
    with pytest.raises(AccessError, match="admin credential"):
        grants.check_role("os:admin")
    for bad in ("os:impersonator", "os:root", "reader", ""):
        with pytest.raises(AccessError, match="--role"):
            grants.check_role(bad)
    assert grants.parse_ttl("24h") == dt.timedelta(hours=24) and grants.parse_ttl("90d") == dt.timedelta(
        days=90
    )
    assert grants.parse_ttl(grants.DEFAULT_TTL) == dt.timedelta(days=365)
    for bad in ("0h", "1y", "h", "-1h", "1.5h", ""):
        with pytest.raises(AccessError, match="--ttl"):
            grants.parse_ttl(bad)


def test_console_summary_warns_about_expired_and_expiring_grants() -> None:
    def grant(name: str, days: float) -> Grant:
        return Grant(
            name, "os:reader", "1", "0" * 64, NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=days)
        )

    assert grants.summary([], NOW) == ("", "")
    assert grants.summary([grant("bob", 200)], NOW) == ("bob os:reader until 2026-12-18", "ok")
    text, level = grants.summary([grant("bob", 200), grant("carol", 10), grant("dave", -2)], NOW)
    assert level == "warn"
    assert text == (
        "carol os:reader expires 2026-06-11, within 30 days; dave os:reader EXPIRED 2026-05-30; "
        "bob os:reader until 2026-12-18"
    )
    line = texts.overview((), "", access=(text, level)).plain
    assert line.strip().startswith("▲ Access") and "dave os:reader EXPIRED" in line


# ---------------------------------------------------------------- the command


@pytest.fixture
def ws(tmp_path: Path, example_data: dict) -> Workspace:
    """A generated workspace: cluster.yaml, the Talos bundle, an admin talosconfig with endpoints, a git repo."""
    require("git", GIT_WHY)
    ws = Workspace.at(tmp_path / "ws")
    ws.ensure()
    ws.write("cluster.yaml", yaml.safe_dump(example_data))
    shutil.copy(BUNDLE, ws.secrets_bundle)
    admin = {"context": "prod", "contexts": {"prod": {"endpoints": ["10.0.0.11"], "nodes": ["10.0.0.11"],
                                                      "ca": "Y2E=", "crt": "Y3J0", "key": "a2V5"}}}  # fmt: skip
    ws.write_secret("talosconfig", yaml.safe_dump(admin))
    ws.init_git()
    ws.commit("generate", [".gitignore", "cluster.yaml"])
    return ws


def _files(ws: Workspace) -> set[str]:
    return {p.relative_to(ws.root).as_posix() for p in ws.root.rglob("*") if ".git" not in p.parts}


def _git(ws: Workspace, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=ws.root, capture_output=True, check=True).stdout.decode(
        "utf-8", errors="replace"
    )


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["grant", "Alice", "--role", "os:reader"], "NAME 'Alice'"),
        (["grant", "--role", "os:reader"], "NAME ''"),
        (["grant", "alice", "--role", "os:admin"], "--role os:admin: not granted"),
        (["grant", "alice", "--role", "os:root"], "--role 'os:root'"),
        (["grant", "alice"], "--role ''"),
        (["grant", "alice", "--role", "os:reader", "--ttl", "1y"], "--ttl '1y'"),
        (["revoke", "alice"], "no such grant"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(ws: Workspace, capsys, argv: list[str], said: str) -> None:
    before, head = _files(ws), _git(ws, "rev-parse", "HEAD")
    assert main(["access", *argv, "--workspace", str(ws.root)]) == 2
    err = capsys.readouterr().err
    assert said in err and "nothing was written" in err
    assert _files(ws) == before and _git(ws, "rev-parse", "HEAD") == head


def test_grant_list_revoke(ws: Workspace, capsys) -> None:
    assert (
        main(["access", "grant", "alice", "--role", "os:reader", "--ttl", "90d", "--workspace", str(ws.root)])
        == 0
    )
    out = capsys.readouterr().out
    path = ws.secrets_dir / "access" / "alice.talosconfig"
    assert f"talosconfig: {path}" in out and "granted alice os:reader until" in out
    assert path.stat().st_mode & 0o777 == 0o600 and path.parent.stat().st_mode & 0o777 == 0o700
    context = yaml.safe_load(path.read_text())["contexts"]["alice@prod"]
    assert context["endpoints"] == ["10.0.0.11"]
    secret_lines = {line for line in _pem(context["key"]).decode().splitlines() if "-----" not in line}
    assert context["key"] not in out and not any(line in out for line in secret_lines)

    recorded = grants.load(ws.root)
    assert [(g.name, g.role) for g in recorded] == [("alice", "os:reader")]
    cert = x509.load_pem_x509_certificate(_pem(context["crt"]))
    assert recorded[0].serial == f"{cert.serial_number:x}"
    assert recorded[0].not_after - recorded[0].issued_at == dt.timedelta(days=90)
    record = (ws.root / grants.FILE).read_text()
    assert "No key material" in record
    # The record is committed; neither it nor any git object holds the key.
    assert _git(ws, "ls-files", grants.FILE).strip() == grants.FILE
    assert "skynet access: grant alice os:reader" in _git(ws, "log", "-1", "--format=%s")
    objects = _git(ws, "cat-file", "--batch-all-objects", "--batch")
    for needle in {context["key"], *secret_lines}:
        assert needle not in objects and needle not in record
    assert "secrets/" not in _git(ws, "ls-files")

    # A second grant under the same name is refused until the first is revoked.
    assert main(["access", "grant", "alice", "--role", "os:operator", "--workspace", str(ws.root)]) == 2
    assert "already holds os:reader" in capsys.readouterr().err
    assert main(["access", "grant", "bob", "--role", "os:operator", "--workspace", str(ws.root)]) == 0
    capsys.readouterr()
    assert main(["access", "list", "--workspace", str(ws.root)]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[0].split() == ["NAME", "ROLE", "ISSUED", "EXPIRES", "SERIAL"]
    assert [line.split()[:2] for line in listing[1:]] == [["alice", "os:reader"], ["bob", "os:operator"]]

    assert main(["access", "revoke", "alice", "--workspace", str(ws.root)]) == 0
    said = capsys.readouterr().out
    assert "Talos has no certificate revocation list" in said and "rotating the OS CA" in said
    assert not path.exists()
    assert [g.name for g in grants.load(ws.root)] == ["bob"]
    assert "skynet access: revoke alice" in _git(ws, "log", "-1", "--format=%s")


def test_a_workspace_without_a_bundle_or_install(tmp_path: Path, capsys, example_data: dict) -> None:
    assert main(["access", "list", "--workspace", str(tmp_path)]) == 2
    assert "holds no cluster.yaml" in capsys.readouterr().err
    ws = Workspace.at(tmp_path / "ws")
    ws.ensure()
    ws.write("cluster.yaml", "x: 1\n")
    assert main(["access", "grant", "alice", "--role", "os:reader", "--workspace", str(ws.root)]) == 2
    assert "the answers are invalid; nothing was written" in capsys.readouterr().err
    ws.write("cluster.yaml", yaml.safe_dump(example_data))
    assert main(["access", "grant", "alice", "--role", "os:reader", "--workspace", str(ws.root)]) == 2
    assert "install has not finished" in capsys.readouterr().err
    assert not (ws.root / grants.FILE).exists() and not (ws.secrets_dir / "access").exists()


def test_a_workspace_that_shares_its_secrets_commits_the_grant_encrypted(
    ws: Workspace, example_data: dict
) -> None:
    from pyrage import decrypt, x25519

    from tests.sharing_helpers import age_key

    key = age_key(ws.root.parent / "keys", "ops")
    example_data["spec"]["secrets"] = {"encryption": {"age": {"recipients": [key.public]}}}
    ws.write("cluster.yaml", yaml.safe_dump(example_data))
    ws.commit("share", ["cluster.yaml"])
    assert main(["access", "grant", "alice", "--role", "os:reader", "--workspace", str(ws.root)]) == 0
    sealed = "secrets.age/access/alice.talosconfig.age"
    assert sealed in _git(ws, "ls-files").split()
    identity = x25519.Identity.from_str(key.identity.read_text().splitlines()[-1])
    plain = decrypt((ws.root / sealed).read_bytes(), [identity])
    assert plain == (ws.secrets_dir / "access" / "alice.talosconfig").read_bytes()
    assert main(["access", "revoke", "alice", "--workspace", str(ws.root)]) == 0
    assert sealed not in _git(ws, "ls-files").split()  # the revoked talosconfig leaves secrets.age/ too
