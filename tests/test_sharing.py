"""secrets.age/: generate encrypts secrets/ to the recipients, `skynet open` takes the workspace over from its
repository, `skynet secrets add-/remove-recipient` re-encrypts; no plaintext in any file or git object."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from pyrage import decrypt, ssh, x25519

from skynet_tui.__main__ import main
from skynet_tui.workspace import Workspace
from tests.sharing_helpers import Key, age_key, git, git_bytes, git_objects, ssh_key
from tests.talos_helpers import fakes_on_path, small, write_answers
from tests.tools import require

pytestmark = pytest.mark.usefixtures("git")


def identities(key: Key) -> list[Any]:
    data = key.identity.read_bytes()
    if data.startswith(b"-----BEGIN OPENSSH"):
        return [ssh.Identity.from_buffer(data)]
    return [x25519.Identity.from_str(data.decode().splitlines()[-1])]


def shared(data: dict, remote: Path, *recipients: str) -> dict:
    out = copy.deepcopy(small(data))
    out["spec"]["gitops"]["repoURL"] = remote.as_uri()
    out["spec"]["secrets"] = {"encryption": {"age": {"recipients": list(recipients)}}}
    return out


def bare(tmp_path: Path) -> Path:
    remote = tmp_path / "remote.git"
    git("init", "--bare", "-q", "-b", "main", str(remote))
    return remote


def secret_texts(ws: Workspace) -> dict[str, bytes]:
    return {p.relative_to(ws.secrets_dir).as_posix(): p.read_bytes()
            for p in sorted(ws.secrets_dir.rglob("*")) if p.is_file()}  # fmt: skip


def secret_values(ws: Workspace) -> set[str]:
    """Every value of the secrets bundle and of the talosconfig's keys, and the lines of their base64 PEMs."""
    found: set[str] = set()

    def learn(node: object) -> None:
        if isinstance(node, dict):
            for value in node.values():
                learn(value)
        elif isinstance(node, list):
            for value in node:
                learn(value)
        elif isinstance(node, str) and len(node) >= 8:
            found.add(node)
            try:
                decoded = base64.b64decode(node, validate=True).decode("ascii")
            except ValueError:
                return
            found.update(line for line in decoded.splitlines() if len(line) >= 16 and "-----" not in line)

    learn(yaml.safe_load(ws.secrets_bundle.read_text()))
    for context in yaml.safe_load(ws.talosconfig.read_text())["contexts"].values():
        learn({key: context[key] for key in ("ca", "crt", "key") if key in context})
    return found


@pytest.fixture
def fakes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return fakes_on_path(tmp_path, monkeypatch)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "home-1"
    (folder / ".ssh").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(folder))
    return folder


def generate(tmp_path: Path, data: dict, *extra: str) -> tuple[int, Workspace]:
    answers = write_answers(tmp_path / "cluster.yaml", data)
    ws = Workspace.at(tmp_path / "ws")
    return main(["generate", "--config", str(answers), "--workspace", str(ws.root), *extra]), ws


def test_generate_encrypts_every_secret_to_every_recipient_and_only_what_changed(
    tmp_path: Path, example_data: dict, fakes: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = age_key(tmp_path / "keys", "first"), ssh_key(tmp_path / "keys")
    remote = bare(tmp_path)
    code, ws = generate(tmp_path, shared(example_data, remote, first.public, second.public), "--push")
    assert code == 0, capsys.readouterr().err
    plain = secret_texts(ws)
    assert {"secrets.yaml", "talosconfig"} <= set(plain)
    manifest = json.loads((ws.root / "secrets.age" / "manifest.json").read_text())
    assert manifest["recipients"] == [first.public, second.public]
    assert set(manifest["files"]) == set(plain)
    for rel, data in plain.items():
        sealed = (ws.root / "secrets.age" / f"{rel}.age").read_bytes()
        assert sealed.startswith(b"age-encryption.org/v1\n")
        assert manifest["files"][rel]["sha256"] == hashlib.sha256(data).hexdigest()
        for key in (first, second):
            assert decrypt(sealed, identities(key)) == data
    tracked = git("ls-files", cwd=ws.root).split()
    assert "secrets.age/manifest.json" in tracked and not [t for t in tracked if t.startswith("secrets/")]
    assert git("ls-tree", "-r", "--name-only", "main", cwd=remote).split() == tracked  # pushed
    assert (ws.secrets_dir.stat().st_mode & 0o777) == 0o700

    # Nothing changed: no file of secrets.age/ is encrypted again, no commit.
    before = {p: p.read_bytes() for p in (ws.root / "secrets.age").rglob("*") if p.is_file()}
    head = git("rev-parse", "HEAD", cwd=ws.root)
    code, _ = generate(tmp_path, shared(example_data, remote, first.public, second.public))
    assert code == 0
    assert {p: p.read_bytes() for p in (ws.root / "secrets.age").rglob("*") if p.is_file()} == before
    assert git("rev-parse", "HEAD", cwd=ws.root) == head

    # One node less: its config's encrypted copy goes; a file whose plaintext is the same keeps its bytes.
    data = shared(example_data, remote, first.public, second.public)
    data["spec"]["nodes"] = data["spec"]["nodes"][:1]
    code, _ = generate(tmp_path, data)
    assert code == 0
    gone = [p for p in before if not p.exists()]
    assert [p.name for p in gone] == ["worker-1.yaml.age"]
    after = json.loads((ws.root / "secrets.age" / "manifest.json").read_text())["files"]
    for rel, entry in after.items():
        path = ws.root / "secrets.age" / f"{rel}.age"
        same = manifest["files"][rel]["sha256"] == entry["sha256"]
        assert (path.read_bytes() == before[path]) is same, rel
    assert "secrets.yaml" in after and after["secrets.yaml"] == manifest["files"]["secrets.yaml"]


@pytest.mark.parametrize(
    ("recipient", "says"),
    [
        ("age1notakey", "neither an age public key"),
        ("age1" + "q" * 58, "checksum is wrong"),
        ("ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTY= me", "are not age recipients"),
        ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBroken", "not a valid ssh-ed25519 public key"),
    ],
)
def test_bad_recipients_exit_2_name_the_field_and_write_nothing(
    tmp_path: Path, example_data: dict, capsys: pytest.CaptureFixture[str], recipient: str, says: str
) -> None:
    good = age_key(tmp_path / "keys", "good")
    code, ws = generate(
        tmp_path, shared(example_data, tmp_path / "r.git", good.public, recipient), "--patches-only"
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "spec.secrets.encryption.age.recipients[1]: " in err and says in err, err
    assert not ws.root.exists()


def test_a_recipient_listed_twice_is_refused(
    tmp_path: Path, example_data: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    key = ssh_key(tmp_path / "keys")
    other_comment = " ".join(key.public.split(" ")[:2]) + " someone@else"
    code, ws = generate(
        tmp_path, shared(example_data, tmp_path / "r.git", key.public, other_comment), "--patches-only"
    )
    assert code == 2
    assert "spec.secrets.encryption.age.recipients: " in capsys.readouterr().err
    assert not ws.root.exists()


def test_open_with_the_second_identity_from_a_clone_and_a_wrong_one_exits_2(
    tmp_path: Path,
    example_data: dict,
    fakes: Path,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    first, second = age_key(tmp_path / "keys", "first"), ssh_key(tmp_path / "keys")
    remote = bare(tmp_path)
    code, ws = generate(tmp_path, shared(example_data, remote, first.public, second.public), "--push")
    assert code == 0
    # Another laptop: another HOME, whose default key is the second recipient's.
    other = tmp_path / "home-2"
    shutil.copytree(second.identity.parent, other / ".ssh")
    monkeypatch.setenv("HOME", str(other))
    stranger = age_key(tmp_path / "keys", "stranger")

    clone = tmp_path / "laptop" / "lab"
    capsys.readouterr()
    assert main(["open", str(remote), "--workspace", str(clone), "--identity", str(stranger.identity)]) == 2
    err = capsys.readouterr().err
    assert "cannot decrypt secrets.age/" in err and first.public in err and "ops@laptop" in err
    assert "nothing was written" in err
    assert not (clone / "secrets").exists()
    assert stranger.identity.read_text().splitlines()[-1] not in err  # an identity is never shown

    assert main(["open", str(clone)]) == 0  # the clone is kept: opened again, with ~/.ssh/id_ed25519
    out = capsys.readouterr().out
    assert "decrypted into secrets/" in out
    opened = Workspace.at(clone)
    assert secret_texts(opened) == secret_texts(ws)
    assert (opened.secrets_dir.stat().st_mode & 0o777) == 0o700
    assert all((p.stat().st_mode & 0o777) == 0o600 for p in opened.secrets_dir.rglob("*") if p.is_file())
    assert "secrets" not in git("status", "--porcelain", cwd=clone)  # git-ignored in the clone too


def test_a_manifest_that_does_not_match_writes_nothing(
    tmp_path: Path, example_data: dict, fakes: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = age_key(tmp_path / "keys", "mine")
    code, ws = generate(tmp_path, shared(example_data, bare(tmp_path), key.public))
    assert code == 0
    clone = tmp_path / "clone"
    git("clone", "-q", str(ws.root), str(clone))
    manifest = clone / "secrets.age" / "manifest.json"
    data = json.loads(manifest.read_text())
    data["files"]["talosconfig"]["sha256"] = "0" * 64
    manifest.write_text(json.dumps(data))
    assert main(["open", str(clone), "--identity", str(key.identity)]) == 2
    assert "not the manifest's" in capsys.readouterr().err
    assert not (clone / "secrets").exists()


def test_generate_in_a_clone_not_opened_is_refused(
    tmp_path: Path, example_data: dict, fakes: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = age_key(tmp_path / "keys", "mine")
    data = shared(example_data, bare(tmp_path), key.public)
    code, ws = generate(tmp_path, data)
    assert code == 0
    clone = tmp_path / "clone"
    git("clone", "-q", str(ws.root), str(clone))
    answers = write_answers(tmp_path / "again.yaml", data)
    assert main(["generate", "--config", str(answers), "--workspace", str(clone)]) == 2
    assert "skynet open" in capsys.readouterr().err
    assert not (clone / "secrets" / "secrets.yaml").exists()


def test_remove_recipient_encrypts_every_file_again_without_it(
    tmp_path: Path, example_data: dict, fakes: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = age_key(tmp_path / "keys", "first"), ssh_key(tmp_path / "keys")
    remote = bare(tmp_path)
    code, ws = generate(tmp_path, shared(example_data, remote, first.public, second.public), "--push")
    assert code == 0
    capsys.readouterr()
    assert (
        main(["secrets", "remove-recipient", str(second.identity) + ".pub", "--workspace", str(ws.root)]) == 0
    )
    out = capsys.readouterr().out
    assert "cannot revoke" in out and "rotate-ca" in out and "--dry-run=false" in out
    assert [first.public] == yaml.safe_load(ws.cluster_yaml.read_text())["spec"]["secrets"]["encryption"][
        "age"
    ]["recipients"]
    # The new commit, as the remote has it: no file opens with the removed key, every one with the other.
    files = [f for f in git("ls-tree", "-r", "--name-only", "main", cwd=remote).split() if f.endswith(".age")]
    assert len(files) == len(secret_texts(ws))
    for name in files:
        sealed = git_bytes("show", f"main:{name}", cwd=remote)
        with pytest.raises(Exception, match="No matching keys"):
            decrypt(sealed, identities(second))
        assert (
            decrypt(sealed, identities(first))
            == (ws.secrets_dir / name.removeprefix("secrets.age/").removesuffix(".age")).read_bytes()
        )

    # Adding it back re-encrypts to both; the last recipient cannot be removed.
    assert main(["secrets", "add-recipient", second.public, "--workspace", str(ws.root), "--no-push"]) == 0
    sealed = (ws.root / "secrets.age" / "talosconfig.age").read_bytes()
    assert decrypt(sealed, identities(second)) == (ws.secrets_dir / "talosconfig").read_bytes()
    assert main(["secrets", "remove-recipient", second.public, "--workspace", str(ws.root)]) == 0
    assert main(["secrets", "remove-recipient", first.public, "--workspace", str(ws.root)]) == 2
    assert "last recipient" in capsys.readouterr().err
    assert main(["secrets", "add-recipient", "ssh-dss AAAAB3NzaC1kc3M= x", "--workspace", str(ws.root)]) == 2
    assert "spec.secrets.encryption.age.recipients[1]" in capsys.readouterr().err


def test_no_plaintext_secret_in_any_file_or_git_object_with_encryption_on(
    tmp_path: Path, example_data: dict, fakes: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = age_key(tmp_path / "keys", "first"), ssh_key(tmp_path / "keys")
    remote = bare(tmp_path)
    code, ws = generate(tmp_path, shared(example_data, remote, first.public, second.public), "--push")
    assert code == 0
    assert main(["secrets", "remove-recipient", second.public, "--workspace", str(ws.root)]) == 0
    printed = capsys.readouterr()
    values = secret_values(ws) | {first.identity.read_text().splitlines()[-1]}
    values |= {
        line for line in second.identity.read_text().splitlines() if "-----" not in line and len(line) > 16
    }
    assert len(values) > 10
    clone = tmp_path / "clone"
    git("clone", "-q", remote.as_uri(), str(clone))
    haystacks = {
        "printed": (printed.out + printed.err).encode(),
        "workspace objects": git_objects(ws.root),
        "remote objects": git_objects(remote),
        "history": git_bytes("log", "-p", "--all", cwd=clone),
    }
    for folder in (ws.root, clone, remote):
        for path in folder.rglob("*"):
            if path.is_file() and "secrets" not in path.relative_to(folder).parts:
                haystacks[str(path)] = path.read_bytes()
    for where, text in haystacks.items():
        for value in values:
            assert value.encode() not in text, f"a secret value is in {where}"


def test_the_age_command_line_decrypts_a_committed_file(
    tmp_path: Path, example_data: dict, fakes: Path, home: Path
) -> None:
    age = require(
        "age", "secrets.age/ must be standard age files, which the age command line decrypts by hand"
    )
    first, second = age_key(tmp_path / "keys", "first"), ssh_key(tmp_path / "keys")
    code, ws = generate(tmp_path, shared(example_data, bare(tmp_path), first.public, second.public))
    assert code == 0
    committed = git_bytes("show", "HEAD:secrets.age/secrets.yaml.age", cwd=ws.root)
    sealed = tmp_path / "bundle.age"
    sealed.write_bytes(committed)
    for key in (first, second):
        out = subprocess.run(
            [age, "--decrypt", "-i", str(key.identity), str(sealed)], capture_output=True, check=True
        ).stdout
        assert out == ws.secrets_bundle.read_bytes()


def test_the_console_warns_while_the_workspace_is_the_only_copy_of_the_keys(tmp_path: Path) -> None:
    from skynet_tui.screens.console import texts
    from skynet_tui.status.fold import UNSHARED

    ws = Workspace.at(tmp_path / "ws")
    ws.ensure()
    assert not ws.secrets_unshared()  # no secrets yet: nothing to lose
    ws.write_secret("secrets.yaml", "cluster: {secret: x}\n")
    assert ws.secrets_unshared()
    line = texts.overview((), "", unshared=UNSHARED).plain
    assert "Secrets" in line and "this laptop is the only copy of the cluster's keys" in line
    from datetime import UTC, datetime

    from skynet_tui.status.model import Snapshot
    from skynet_tui.status.report import to_dict

    now = datetime.now(UTC)
    assert to_dict(Snapshot(now, 0.0, "lab", unshared=UNSHARED))["secrets"] == UNSHARED  # --json says it too
    assert to_dict(Snapshot(now, 0.0, "lab"))["secrets"] is None
    ws.write("secrets.age/manifest.json", "{}\n")
    assert not ws.secrets_unshared()


def test_the_wizard_takes_public_keys_one_per_line_or_comma_separated(tmp_path: Path) -> None:
    from skynet_tui.wizard import catalog, state

    first, second = age_key(tmp_path, "first"), ssh_key(tmp_path)
    field = catalog.FIELD_BY_PATH[catalog.RECIPIENTS]
    assert field.step == "gitops"
    data: dict = {"spec": {}}
    state.set_text(data, field, f"{first.public}\n{second.public}\n")
    assert state.get_value(data, catalog.RECIPIENTS) == [first.public, second.public]
    assert state.text_of(data, field) == f"{first.public}, {second.public}"
    state.set_text(data, field, "")
    assert "secrets" not in data["spec"]


def test_the_wizard_hint_is_the_operators_own_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from skynet_tui.wizard.access import own_public_key

    monkeypatch.setenv("HOME", str(tmp_path))
    assert own_public_key() is None
    key = ssh_key(tmp_path / ".ssh")
    assert own_public_key() == key.public


@pytest.mark.parametrize("hostile", ["path", "link"])
def test_a_hostile_clone_writes_nothing_outside_secrets(
    tmp_path: Path,
    example_data: dict,
    fakes: Path,
    home: Path,
    capsys: pytest.CaptureFixture[str],
    hostile: str,
) -> None:
    key = age_key(tmp_path / "keys", "mine")
    code, ws = generate(tmp_path, shared(example_data, bare(tmp_path), key.public))
    assert code == 0
    clone = tmp_path / "clone"
    git("clone", "-q", str(ws.root), str(clone))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    if hostile == "path":  # a manifest naming a file outside secrets/
        manifest = clone / "secrets.age" / "manifest.json"
        data = json.loads(manifest.read_text())
        data["files"]["../../elsewhere/x"] = data["files"].pop("talosconfig")
        manifest.write_text(json.dumps(data))
    else:  # secrets/ planted as a link to another folder
        (clone / "secrets").symlink_to(elsewhere)
    assert main(["open", str(clone), "--identity", str(key.identity)]) == 2
    assert "nothing was written" in capsys.readouterr().err
    assert list(elsewhere.iterdir()) == []


def test_share_after_a_secret_changed_encrypts_that_file_commits_and_pushes(
    tmp_path: Path, example_data: dict, fakes: Path, home: Path
) -> None:
    from skynet_tui import sharing, spec

    key = age_key(tmp_path / "keys", "mine")
    remote = bare(tmp_path)
    data = shared(example_data, remote, key.public)
    code, ws = generate(tmp_path, data, "--push")
    assert code == 0
    cluster = spec.parse(data)
    assert sharing.share(ws, cluster, push=True) == []  # nothing changed: no commit, no push
    ws.write_secret(
        "kubeconfig",
        "apiVersion: v1\nkind: Config\nusers: [{name: admin, user: {token: t0ken-value-1234}}]\n",
    )
    assert sharing.share(ws, cluster, push=True) == [
        "secrets.age/kubeconfig.age",
        "secrets.age/manifest.json",
    ]
    sealed = git_bytes("show", "main:secrets.age/kubeconfig.age", cwd=remote)
    assert decrypt(sealed, identities(key)) == ws.kubeconfig.read_bytes()
    assert b"t0ken-value-1234" not in git_objects(remote)
