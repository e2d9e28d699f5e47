"""The app shell: welcome entries, opening workspaces, the CLI's --config check, quitting, palette, NO_COLOR."""

from __future__ import annotations

import argparse
import copy
import re
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
from skynet_tui.commands import tui
from skynet_tui.screens.welcome import find_workspaces
from skynet_tui.wizard import catalog, state
from skynet_tui.workspace import Workspace
from tests.wizard_helpers import SIZE, FakeInstall, fill


def write_workspace(folder: Path, data: dict[str, Any], *, journal: bool = False) -> Path:
    folder.mkdir(parents=True)
    (folder / "cluster.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    if journal:
        (folder / "journal.jsonl").write_text("")
    return folder


@pytest.mark.asyncio
async def test_welcome_offers_every_entry_upgrades_included():
    app = SkynetApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        menu = app.screen.query_one("#welcome-menu", OptionList)
        entries = {
            menu.get_option_at_index(i).id: menu.get_option_at_index(i) for i in range(menu.option_count)
        }
        assert {k for k, o in entries.items() if not o.disabled} == {
            "new",
            "open",
            "lab",
            "console",
            "upgrade",
            "restore",
        }
        assert app.focused is menu
        await pilot.press("enter")  # the first entry: New cluster
        await pilot.pause()
        assert type(app.screen).__name__ == "ClusterStep"
        assert app.focused is not None and app.focused.id == catalog.widget_id("metadata.name")


def test_find_workspaces_tells_drafts_written_and_started_apart(tmp_path, example_data):
    write_workspace(tmp_path / "good", example_data)
    write_workspace(tmp_path / "started", example_data, journal=True)
    draft = copy.deepcopy(example_data)
    del draft["spec"]["network"]
    write_workspace(tmp_path / "half", draft)
    (tmp_path / "empty").mkdir()
    found = {w.path.name: w for w in find_workspaces(tmp_path)}
    assert set(found) == {"good", "started", "half"}
    assert found["good"].status == "answers saved" and found["good"].valid
    assert found["started"].install_started and found["started"].status.startswith("install started")
    assert not found["half"].valid and found["half"].status.startswith("draft")


@pytest.mark.asyncio
async def test_open_a_workspace_to_edit_its_answers_or_resume_its_install(
    tmp_path, example_data, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    write_workspace(tmp_path / "homelab", example_data, journal=True)
    app = SkynetApp(bootstrap_factory=FakeInstall)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "homelab/ (install started" in str(app.screen.query_one("#welcome-found", Static).render())
        await pilot.press("o")
        await pilot.pause()
        dialog = app.screen
        assert type(dialog).__name__ == "OpenWorkspaceDialog"
        assert "homelab: install started" in str(dialog.query_one("#open-info", Static).render())
        await pilot.press("enter")  # Enter in the folder input: edit the answers
        await pilot.pause()
        assert app.screen.STEP == "review"  # valid answers open on the review
        assert app.wizard is not None
        assert app.wizard.answers.workspace.resolve() == (tmp_path / "homelab").resolve()

        await pilot.press("ctrl+q")  # nothing changed: quits without asking
        await pilot.pause()
    assert app.return_value == 0

    app = SkynetApp(bootstrap_factory=FakeInstall)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("o")
        await pilot.pause()
        await pilot.click("#open-resume")
        await pilot.pause()
        assert isinstance(app.screen, FakeInstall)
        assert app.screen.cluster.name == "homelab"
        assert app.screen.ws.root == (tmp_path / "homelab").resolve()


@pytest.mark.asyncio
async def test_a_draft_opens_at_the_first_step(tmp_path, example_data, monkeypatch):
    monkeypatch.chdir(tmp_path)
    draft = copy.deepcopy(example_data)
    draft["spec"]["network"]["gateway"] = "nope"
    write_workspace(tmp_path / "half", draft)
    app = SkynetApp()
    async with app.run_test(size=SIZE) as pilot:
        app.open_workspace(tmp_path / "half", resume=False)
        await pilot.pause()
        assert app.screen.STEP == "cluster"
        assert app.wizard.marks(refresh=True) == {"cluster": "✓"}


@pytest.mark.asyncio
async def test_quitting_with_unsaved_answers_asks_and_can_save_them(tmp_path):
    folder = tmp_path / "ws"
    app = SkynetApp(workspace=folder)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await pilot.pause()
        await fill(pilot, "metadata.name", "half")
        await pilot.press("ctrl+q")
        await pilot.pause()
        dialog = app.screen
        assert type(dialog).__name__ == "UnsavedDialog"
        await pilot.press("escape")  # Stay
        await pilot.pause()
        assert app.screen.STEP == "cluster"
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.press("enter")  # Save has the focus
        await pilot.pause()
    assert app.return_value == 0
    text = (folder / "cluster.yaml").read_text()
    assert text.startswith(state.DRAFT_HEADER)
    assert yaml.safe_load(text)["metadata"] == {"name": "half"}

    # The saved draft opens again with --config, in the wizard, where it was left.
    again = SkynetApp(config=folder / "cluster.yaml", workspace=folder)
    async with again.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert again.screen.STEP == "cluster"
        assert again.screen.query_one("#" + catalog.widget_id("metadata.name"), Input).value == "half"


def test_cli_refuses_a_bad_config_before_any_screen(tmp_path, example_data, monkeypatch, capsys):
    bad = copy.deepcopy(example_data)
    bad["spec"]["nodes"][1]["ip"] = "192.168.10.300"
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump(bad))

    def no_app(**kwargs: Any) -> int:
        raise AssertionError("the app must not start")

    monkeypatch.setattr("skynet_tui.app.run_app", no_app)
    assert main(["--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "spec.nodes[1].ip" in err and "192.168.10.300" in err


def test_cli_defaults_the_workspace_to_the_cluster_name(tmp_path, example_data, monkeypatch):
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump(example_data))
    seen: dict[str, Any] = {}

    def fake_app(**kwargs: Any) -> int:
        seen.update(kwargs)
        return 0

    monkeypatch.setattr("skynet_tui.app.run_app", fake_app)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    assert tui.run(argparse.Namespace(config=str(path), workspace=None)) == 0
    assert seen == {"config": path, "workspace": Path("homelab")}


def test_cli_needs_a_terminal(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    monkeypatch.delenv("TEXTUAL_DRIVER", raising=False)
    assert tui.run(argparse.Namespace(config=None, workspace=None)) == 2
    assert "needs a terminal" in capsys.readouterr().err


@pytest.mark.asyncio
async def test_palette_lists_the_steps_on_a_wizard_step_and_the_main_actions_on_the_welcome(
    tmp_path, example_data
):
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump(example_data))
    app = SkynetApp(config=path, workspace=tmp_path / "ws")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        welcome = [command.title for command in app.get_system_commands(app.screen_stack[1])]
        for title in ("New cluster", "Open a workspace", "Lab demo", "Console", "Upgrades"):
            assert title in welcome
        titles = [command.title for command in app.get_system_commands(app.screen)]
        for title in ("Save answers", "Scan for nodes"):
            assert title in titles
        assert not {"New cluster", "Open a workspace", "Lab demo"} & set(titles)
        assert "Go to step: Review" in titles
        goto_review = next(c for c in app.get_system_commands(app.screen) if c.title == "Go to step: Review")
        goto_review.callback()
        await pilot.pause()
        assert app.screen.STEP == "review"


@pytest.mark.usefixtures("git")
@pytest.mark.lab
@pytest.mark.asyncio
async def test_the_lab_demo_opens_the_simulated_answers_and_stops_the_lab_on_exit(tmp_path, monkeypatch):
    from skynet_tui.demo import DEMO_TIMING_SCALE

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))  # the same stable folder as `skynet demo`
    app = SkynetApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("l")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.STEP == "cluster"  # the whole arc, from the first step
        wizard = app.wizard
        assert wizard.simulated and "SIMULATED" in wizard.heading()
        assert wizard.env is not None and wizard.env.get("SKYNET_LAB_DIR")
        assert wizard.env.get("SKYNET_TIMING_SCALE") == DEMO_TIMING_SCALE  # the same timing as skynet demo
        titles = {command.title for command in app.get_system_commands(app.screen_stack[1])}
        assert not {"Lab demo", "New cluster", "Open a workspace"} & titles  # no second lab
        lab = app.lab
        assert lab is not None
    assert app.lab is None
    assert (tmp_path / "skynet" / "demo" / "simulated-lab").is_dir()  # kept: the next demo resumes it
    with pytest.raises(OSError):
        import socket

        socket.create_connection((lab.node_ips[0], 50000), timeout=0.5).close()


@pytest.mark.asyncio
async def test_no_color_renders_in_greys_only(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = SkynetApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await pilot.pause()
        svg = app.export_screenshot()
    assert app.no_color
    colors = set(re.findall(r"fill[:=]\s*\"?#([0-9a-fA-F]{6})", svg))
    # The SVG's window chrome (traffic lights) and rich's default export foreground are not the app's.
    colors -= {"ff5f57", "febc2e", "28c840", "c5c8c6"}
    assert colors
    assert all(c[0:2] == c[2:4] == c[4:6] for c in (c.lower() for c in colors)), colors


class RunningInstall(Screen[bool]):
    """An install screen in the middle of its run."""

    phase = "running"

    def __init__(self, cluster: spec.Cluster, ws: Any, env: dict[str, str] | None):
        super().__init__()
        self.cluster = cluster

    def compose(self) -> ComposeResult:
        yield Static("running")


@pytest.mark.asyncio
async def test_quitting_during_an_install_asks_first(tmp_path, example_data):
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump(example_data))
    cluster = spec.load(path)
    app = SkynetApp(
        bootstrap=BootstrapArgs(cluster, Workspace.at(tmp_path / "ws")), bootstrap_factory=RunningInstall
    )
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, RunningInstall)
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert type(app.screen).__name__ == "ConfirmDialog"
        await pilot.press("enter")  # "No" has the focus
        await pilot.pause()
        assert isinstance(app.screen, RunningInstall)
        app.screen.phase = "failed"
        app.screen.dismiss(False)
        await pilot.pause()
    assert app.return_value == 1  # started for an install: the app ends with its outcome


@pytest.mark.asyncio
async def test_a_finished_install_returns_to_the_welcome(tmp_path, example_data, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_workspace(tmp_path / "homelab", example_data)
    app = SkynetApp(bootstrap_factory=FakeInstall)
    async with app.run_test(size=SIZE) as pilot:
        app.open_workspace(tmp_path / "homelab", resume=False)
        await pilot.pause()
        assert app.screen.STEP == "review"
        app.wizard.install()
        await pilot.pause()
        assert isinstance(app.screen, FakeInstall)
        app.screen.dismiss(True)
        await pilot.pause()
        assert type(app.screen).__name__ == "WelcomeScreen"
        assert app.wizard is None and app.install_ok
