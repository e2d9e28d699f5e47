"""Taking a lab cluster over from a clone: installed with two recipients, opened on another laptop (another HOME)
with the second identity, then `skynet status --once` from the clone reads every layer as the original does."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from skynet_lab.core import Lab
from skynet_tui import spec
from skynet_tui.__main__ import main
from skynet_tui.headless import run_install
from skynet_tui.workspace import Workspace
from tests.install_helpers import CORE_ONLY, FAST, fast_timing
from tests.sharing_helpers import age_key, git, ssh_key

pytestmark = [pytest.mark.lab, pytest.mark.slow, pytest.mark.usefixtures("git")]


def status(workspace: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict]:
    capsys.readouterr()
    code = main(["status", "--once", "--json", "--workspace", str(workspace), "--timeout", "60"])
    return code, json.loads(capsys.readouterr().out)


def test_install_shared_open_from_a_clone_with_the_second_identity_then_status(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    first = age_key(tmp_path / "keys", "first")
    laptop = tmp_path / "home-2"
    second = ssh_key(laptop / ".ssh")
    with Lab(tmp_path / "lab", 1, 1, latency=FAST) as lab:
        data = lab.cluster_data()
        data["spec"]["components"] = dict(CORE_ONLY)
        data["spec"]["secrets"] = {"encryption": {"age": {"recipients": [first.public, second.public]}}}
        cluster = spec.parse(data)
        ws = Workspace.at(tmp_path / "ws")
        out = io.StringIO()
        code = run_install(cluster, ws, env=lab.env(), assume_yes=True, simulated=True, timing=fast_timing(),
                           console=Console(file=out, width=200, color_system=None))  # fmt: skip
        assert code == 0, out.getvalue()[-3000:]
        assert "share-secrets" in out.getvalue() or "secrets.age" in out.getvalue()
        remote = lab.repo_path
        pushed = git("ls-tree", "-r", "--name-only", "main", cwd=remote).split()
        assert {
            "secrets.age/kubeconfig.age",
            "secrets.age/talosconfig.age",
            "secrets.age/secrets.yaml.age",
        } <= set(pushed)

        for key, value in lab.env().items():
            monkeypatch.setenv(key, value)
        original = status(ws.root, capsys)

        # Another laptop: its own HOME, whose ~/.ssh/id_ed25519 is the second recipient's key.
        monkeypatch.setenv("HOME", str(laptop))
        clone = tmp_path / "laptop" / "lab"
        wrong = age_key(tmp_path / "keys", "wrong")
        assert main(["open", str(remote), "--workspace", str(clone), "--identity", str(wrong.identity)]) == 2
        assert not (clone / "secrets").exists()
        assert main(["open", str(clone)]) == 0
        assert "decrypted into secrets/" in capsys.readouterr().out
        copied = status(clone, capsys)
        assert copied[0] == original[0]
        layers = {layer["layer"]: (layer["level"], layer["checked"]) for layer in copied[1]["layers"]}
        assert layers == {
            layer["layer"]: (layer["level"], layer["checked"]) for layer in original[1]["layers"]
        }
        assert all(checked for _, checked in layers.values()), layers  # Talos and etcd too: the talosconfig
        assert copied[1]["api"]["reachable"] is True
