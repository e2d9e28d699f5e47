"""`skynet status`: --once exit codes on a healthy and an unhealthy lab, --json keys, bad input; where the
kubeconfig comes from; the app's ways into the console (welcome, an opened workspace, a finished install)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Input, OptionList, Static

from skynet_tui import spec
from skynet_tui.__main__ import main
from skynet_tui.app import BootstrapArgs, SkynetApp
from skynet_tui.status.source import Source, SourceError, resolve
from skynet_tui.workspace import Workspace
from tests import talos_samples as samples
from tests.console_helpers import seed_small_cluster, start_api, wait_for
from tests.wizard_helpers import SIZE, FakeInstall

NODES = [("cp-1", "10.5.0.11", True), ("cp-2", "10.5.0.12", True), ("cp-3", "10.5.0.13", True),
         ("worker-1", "10.5.0.21", False), ("worker-2", "10.5.0.22", False)]  # fmt: skip


@pytest.fixture
def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A healthy cluster: the mock API with a small platform, a talosconfig, and a talosctl that answers."""
    api, kubeconfig = start_api(tmp_path)
    seed = seed_small_cluster(api.store, now=datetime.now(UTC))  # the command reads the real clock
    bin_dir = samples.install_standin(tmp_path / "bin", samples.cluster_outputs(NODES))
    monkeypatch.setenv("PATH", f"{bin_dir}:{Path('/usr/bin')}:{Path('/bin')}")
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("TALOSCONFIG", raising=False)
    talosconfig = samples.talosconfig(tmp_path / "talosconfig", ["10.5.0.11"], ["10.5.0.11"])
    try:
        yield api, seed, kubeconfig, talosconfig
    finally:
        api.stop()


@pytest.mark.lab
def test_once_exits_0_on_a_healthy_cluster_and_1_when_a_layer_is_not(lab, capsys) -> None:
    api, seed, kubeconfig, talosconfig = lab
    argv = ["status", "--once", "--kubeconfig", str(kubeconfig), "--talosconfig", str(talosconfig)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    for title in ("Talos", "etcd", "Kubernetes", "Argo CD", "Ingress+TLS", "Storage"):
        assert f" {title}" in out
    assert "5 members · 31/31 services healthy · Talos v1.13.9" in out and out.strip().endswith("healthy")

    seed.mutate("", "nodes", "", "worker-2", lambda n: n["status"].update(conditions=[
        {"type": "Ready", "status": "False", "reason": "KubeletNotReady", "message": "PLEG is not healthy"}]))  # fmt: skip
    assert main([*argv, "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {
        "cluster",
        "taken_at",
        "healthy",
        "api",
        "layers",
        "capacity",
        "backup",
        "access",
        "secrets",
        "problems",
    }
    assert report["backup"] is None  # a kubeconfig, not a workspace: no backups/ to read
    assert report["healthy"] is False and report["api"]["reachable"] is True
    assert [layer["layer"] for layer in report["layers"]] == [
        "talos",
        "etcd",
        "kubernetes",
        "argocd",
        "ingress",
        "storage",
    ]
    kubernetes = report["layers"][2]
    assert kubernetes["level"] == "error" and kubernetes["counts"]["nodes_ready"] == 4
    assert set(kubernetes) == {"layer", "title", "level", "checked", "text", "counts"}
    assert report["problems"][0] == {
        "layer": "kubernetes", "level": "error", "text": "node worker-2 NotReady: KubeletNotReady: PLEG is not healthy",
        "kind": "node", "name": "worker-2",
    }  # fmt: skip


@pytest.mark.lab
def test_once_without_a_talosconfig_checks_kubernetes_only_and_an_unreachable_api_fails(lab, capsys) -> None:
    api, _, kubeconfig, _ = lab
    # Talos not asked for: not counted.
    assert main(["status", "--once", "--kubeconfig", str(kubeconfig)]) == 0
    assert "not checked: no talosconfig" in capsys.readouterr().out
    api.stop()
    assert main(["status", "--once", "--json", "--kubeconfig", str(kubeconfig), "--timeout", "10"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["api"]["reachable"] is False and "Connection refused" in report["api"]["error"]


def test_bad_input_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KUBECONFIG", raising=False)
    assert main(["status", "--once"]) == 2
    assert "no cluster given: pass --workspace DIR" in capsys.readouterr().err
    assert main(["status", "--once", "--kubeconfig", str(tmp_path / "nope")]) == 2
    assert main(["status", "--once", "--workspace", str(tmp_path), "--kubeconfig", "x"]) == 2
    assert main(["status", "--once", "--workspace", str(tmp_path)]) == 2
    assert "secrets/kubeconfig does not exist" in capsys.readouterr().err
    bad = tmp_path / "bad-kubeconfig"
    bad.write_text("not: a: kubeconfig")
    assert main(["status", "--once", "--kubeconfig", str(bad)]) == 2
    assert main(["status", "--json", "--kubeconfig", str(bad)]) == 2  # --json needs --once


def test_where_the_kubeconfig_comes_from(tmp_path: Path) -> None:
    ws = tmp_path / "homelab"
    (ws / "secrets").mkdir(parents=True)
    (ws / "cluster.yaml").write_text(yaml.safe_dump({"metadata": {"name": "homelab"}}))
    (ws / "secrets" / "kubeconfig").write_text("{}")
    found = resolve(workspace=ws, env={})
    assert found == Source(ws / "secrets" / "kubeconfig", None, ws, "homelab")
    (ws / "secrets" / "talosconfig").write_text("{}")
    assert resolve(workspace=ws, env={}).talosconfig == ws / "secrets" / "talosconfig"
    env_file = tmp_path / "from-env"
    env_file.write_text("{}")
    listed = resolve(
        env={
            "KUBECONFIG": f"{tmp_path / 'missing'}:{env_file}",
            "TALOSCONFIG": str(ws / "secrets" / "talosconfig"),
        }
    )
    assert (listed.kubeconfig, listed.talosconfig) == (env_file, ws / "secrets" / "talosconfig")
    assert resolve(env={}, cwd=ws).workspace == ws.resolve()  # the workspace in the current folder
    with pytest.raises(SourceError, match=r"~/.kube/config is read only when named"):
        resolve(env={}, cwd=tmp_path)


# -- the app's ways into the console ------------------------------------------------------------------------------
class FakeConsole(Screen[None]):
    """Records which cluster the console was opened for."""

    def __init__(self, source: Source, env: dict[str, str] | None):
        super().__init__()
        self.source, self.env = source, env

    def compose(self) -> ComposeResult:
        yield Static(f"console of {self.source.name}")


def workspace(root: Path, example_data: dict[str, Any], kubeconfig: Path | None = None) -> Path:
    root.mkdir(parents=True)
    (root / "cluster.yaml").write_text(yaml.safe_dump(example_data, sort_keys=False))
    (root / "journal.jsonl").write_text("")
    if kubeconfig is not None:
        (root / "secrets").mkdir()
        (root / "secrets" / "kubeconfig").write_text(kubeconfig.read_text())
    return root


@pytest.mark.lab
@pytest.mark.asyncio
async def test_opening_a_workspace_goes_to_its_console_when_its_cluster_answers(
    tmp_path, example_data, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    api, kubeconfig = start_api(tmp_path)
    seed_small_cluster(api.store)
    try:
        up = workspace(tmp_path / "homelab", example_data, kubeconfig)
        app = SkynetApp(bootstrap_factory=FakeInstall, console_factory=FakeConsole)
        async with app.run_test(size=SIZE) as pilot:
            app.open_workspace(up, resume=True)
            await wait_for(pilot, lambda: isinstance(app.screen, FakeConsole), what="the console")
            assert app.screen.source.kubeconfig == up.resolve() / "secrets" / "kubeconfig"
        api.stop()  # the same workspace with its cluster down: the install resumes
        app = SkynetApp(bootstrap_factory=FakeInstall, console_factory=FakeConsole)
        async with app.run_test(size=SIZE) as pilot:
            app.open_workspace(up, resume=True)
            await wait_for(pilot, lambda: isinstance(app.screen, FakeInstall), what="the install")
            await wait_for(
                pilot, lambda: any("is not up" in n.message for n in app._notifications), what="why"
            )
    finally:
        api.stop()


@pytest.mark.asyncio
async def test_the_welcome_console_entry_and_a_finished_install_open_the_console(
    tmp_path, example_data, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    kubeconfig = tmp_path / "kc"
    kubeconfig.write_text("{}")
    ws = workspace(tmp_path / "homelab", example_data, kubeconfig)
    app = SkynetApp(bootstrap_factory=FakeInstall, console_factory=FakeConsole)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        menu = app.screen.query_one("#welcome-menu", OptionList)
        menu.highlighted = next(
            i for i in range(menu.option_count) if menu.get_option_at_index(i).id == "console"
        )
        await pilot.press("enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "OpenWorkspaceDialog")
        assert app.screen.query_one("#open-path", Input).value == "homelab"
        await pilot.click("#open-console")
        await wait_for(pilot, lambda: isinstance(app.screen, FakeConsole))
        assert app.screen.source.workspace == ws.resolve()
        app.pop_screen()

        # A finished install continues into the console of its workspace.
        app.open_workspace(ws, resume=False)
        await pilot.pause()
        assert app.wizard is not None
        app.wizard.install()
        await pilot.pause()
        assert isinstance(app.screen, FakeInstall)
        app.screen.dismiss(True)
        await wait_for(pilot, lambda: isinstance(app.screen, FakeConsole))
        assert app.install_ok and app.screen.source.workspace == ws.resolve()


@pytest.mark.asyncio
async def test_the_demo_s_install_continues_into_the_console_with_the_lab_s_environment(
    tmp_path, example_data
):
    kubeconfig = tmp_path / "kc"
    kubeconfig.write_text("{}")
    ws = workspace(tmp_path / "lab", example_data, kubeconfig)
    env = {"PATH": "/lab/bin:/usr/bin", "SKYNET_LAB_DIR": "/lab"}
    install = BootstrapArgs(spec.load(ws / "cluster.yaml"), Workspace.at(ws), env, simulated=True)
    app = SkynetApp(bootstrap=install, bootstrap_factory=FakeInstall, console_factory=FakeConsole)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, FakeInstall))
        app.screen.dismiss(True)  # Enter on "Install complete"
        await wait_for(pilot, lambda: isinstance(app.screen, FakeConsole))
        assert app.screen.source.workspace == ws.resolve() and app.screen.env == env
        assert app.is_running  # the app (and so the demo's lab) lives on until the console is quit
        await app.action_quit()
        await pilot.pause()
    assert app.return_value == 0
