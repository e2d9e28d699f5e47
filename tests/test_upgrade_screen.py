"""The upgrade screen over fixed snapshots (nodes now → target, the path or the refusal, the gates, the plan), its
SVG snapshot, and the run screen's questions and pause driven by a scripted plan."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import pytest
import yaml
from textual.widgets import Button, Input, Select, Static

from skynet_tui import spec
from skynet_tui.app import SkynetApp
from skynet_tui.plan import Plan, Step
from skynet_tui.plan.upgrade_steps import Confirm
from skynet_tui.progress import Phase
from skynet_tui.screens.console import ConsoleScreen
from skynet_tui.screens.dialogs import ConfirmDialog
from skynet_tui.screens.upgrade import ReadDialog, UpgradeRunScreen, UpgradeScreen
from skynet_tui.screens.welcome import OpenWorkspaceDialog
from skynet_tui.status.source import of_workspace
from skynet_tui.workspace import Workspace
from tests.console_helpers import Host, wait_for
from tests.test_upgrade_gates import app, snapshot

SIZE = (110, 36)
WORKSPACE = Path("/home/ops/homelab")  # shown on screen; nothing is written there


@pytest.fixture
def cluster(example_data: dict) -> spec.Cluster:
    return spec.parse(example_data)


def text(screen: UpgradeScreen, widget: str) -> str:
    return str(screen.query_one(widget, Static).render())


@pytest.mark.asyncio
async def test_the_screen_shows_nodes_path_gates_and_plan_and_follows_the_request(cluster, tmp_path) -> None:
    snap = snapshot(cluster, kubelet="v1.35.4")
    screen = UpgradeScreen(Workspace.at(tmp_path / "ws"), cluster, snapshot=snap)
    async with Host(screen).run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert screen.query_one("#target", Input).value == "v1.13.9"
        assert "Path: v1.13.8 → v1.13.9" in text(screen, "#path")
        assert "Order: cp-1 → cp-2 → cp-3 → worker-1 → worker-2" in text(screen, "#path")
        nodes = screen.query_one("#nodes")
        assert nodes.keys == ["cp-1", "cp-2", "cp-3", "worker-1", "worker-2"]  # type: ignore[attr-defined]
        assert "✓ etcd healthy, all members, one leader: 3/3 members, leader cp-1" in text(screen, "#gates")
        assert "Upgrade cp-1 (192.168.10.11) to Talos v1.13.9" in text(screen, "#plan")

        screen.query_one("#kind", Select).value = "kubernetes"
        await pilot.pause()
        assert screen.query_one("#target", Input).value == "1.36.3"
        assert "Dry run: talosctl upgrade-k8s --to 1.36.3 --dry-run" in text(screen, "#plan")

        screen.query_one("#target", Input).value = "1.37.0"
        await pilot.pause()
        assert "Refused: Kubernetes 1.37 needs Talos ≥ 1.14" in text(screen, "#path")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(screen.app.screen, ConfirmDialog)  # nothing to start

        screen.query_one("#target", Input).value = "1.36.3"
        degraded = dataclasses.replace(snap, apps=(app("argocd"), app("grafana", "Degraded")))
        screen.show(degraded)
        await pilot.pause()
        assert "✗ Argo CD apps Healthy: not Healthy: grafana Degraded" in text(screen, "#gates")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(screen.app.screen, ConfirmDialog)  # closed gates: no upgrade

        screen.show(snap)
        await pilot.pause()
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(screen.app.screen, ConfirmDialog), what="the confirmation")
        await pilot.press("escape")  # No


@pytest.mark.asyncio
async def test_the_platform_lists_each_apps_chart(cluster, tmp_path) -> None:
    screen = UpgradeScreen(Workspace.at(tmp_path / "ws"), cluster, snapshot=snapshot(cluster))
    async with Host(screen).run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen.query_one("#kind", Select).value = "platform"
        await wait_for(pilot, lambda: bool(screen.changes), what="the chart table")
        charts = screen.query_one("#charts")
        assert "metallb" in charts.keys  # type: ignore[attr-defined]
        assert "file(s) under gitops/ change" in text(screen, "#path")
        assert "Write the GitOps folder and commit it" in text(screen, "#plan")


def test_upgrade_screen(snap_compare, cluster) -> None:
    """The upgrade screen of homelab, 110×36: Talos OS selected, target v1.13.9, workers 1; "Path: v1.13.8 →
    v1.13.9" and the order cp-1 → … → worker-2; the five nodes with RUNS v1.13.8, TARGET v1.13.9 in green and
    Ready; five green ✓ gates (nodes, etcd with leader cp-1, Argo CD apps, no other upgrade, the installer image);
    the plan's first steps; footer keys ^s Start, ^r Refresh, esc Back."""
    screen = UpgradeScreen(Workspace.at(WORKSPACE), cluster, snapshot=snapshot(cluster))
    assert snap_compare(Host(screen), terminal_size=SIZE)


def scripted(reached: threading.Event, release: threading.Event) -> Plan:
    """A plan that asks a question, then two units; the first waits until `release`."""

    def plan(confirm: Confirm) -> Plan:
        def ask(ctx) -> None:  # type: ignore[no-untyped-def]
            if not confirm("Upgrade Kubernetes to 1.36.3?", " > skipped in dry-run\n" * 3):
                raise ValueError("not confirmed")

        def first(ctx) -> None:  # type: ignore[no-untyped-def]
            reached.set()
            assert release.wait(30)

        return Plan(
            "upgrade test",
            [
                Step("dry-run", "Dry run", ask, unit_start=True),
                Step("cp-1", "Upgrade cp-1", first, target="cp-1", deps=("dry-run",), unit_start=True),
                Step("cp-1-gates", "Gates after cp-1", lambda ctx: None, target="cp-1", deps=("cp-1",)),
                Step(
                    "cp-2",
                    "Upgrade cp-2",
                    lambda ctx: None,
                    target="cp-2",
                    deps=("cp-1-gates",),
                    unit_start=True,
                ),
            ],
        )

    return plan  # type: ignore[return-value]


@pytest.mark.asyncio
async def test_the_run_asks_before_changes_and_pauses_after_the_node_under_way(cluster, tmp_path) -> None:
    reached, release = threading.Event(), threading.Event()
    screen = UpgradeRunScreen(
        cluster,
        Workspace.at(tmp_path / "ws"),
        scripted(reached, release),
        title="upgrading a test",  # type: ignore[arg-type]
    )
    async with Host(screen).run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(screen.app.screen, ReadDialog), what="the dry run's dialog")
        screen.app.screen.query_one("#read-yes", Button).press()
        await wait_for(pilot, reached.is_set, what="cp-1 under way")
        await pilot.press("p")
        await pilot.pause()
        release.set()
        await wait_for(pilot, lambda: screen.phase is Phase.CANCELLED, what="the pause")
        assert screen.step_list.get("cp-1-gates").state == "done"  # type: ignore[union-attr]
        assert screen.step_list.get("cp-2").state == "pending"  # type: ignore[union-attr]
        summary = str(screen.query_one("#summary-text", Static).render())
        assert summary.startswith("Paused: the nodes under way finished (cp-1 last)")
        assert "Skynet · upgrading a test · homelab" in str(screen.query_one("#title").render())


def workspace_folder(tmp_path: Path, example_data: dict) -> Path:
    """A workspace whose install finished: cluster.yaml, a kubeconfig (its API does not answer) and a talosconfig."""
    folder = tmp_path / "homelab"
    (folder / "secrets").mkdir(parents=True)
    (folder / "cluster.yaml").write_text(spec.dump(spec.parse(example_data)))
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:9"}}],
        "users": [{"name": "u", "user": {"token": "not-a-real-token"}}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "x",
    }
    (folder / "secrets" / "kubeconfig").write_text(yaml.safe_dump(kubeconfig))
    (folder / "secrets" / "talosconfig").write_text("context: none\ncontexts: {}\n")
    return folder


@pytest.mark.asyncio
async def test_the_console_and_the_welcome_lead_to_the_upgrade_screen(
    tmp_path, example_data, monkeypatch
) -> None:
    folder = workspace_folder(tmp_path, example_data)
    monkeypatch.chdir(tmp_path)
    app = SkynetApp(console=of_workspace(folder))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ConsoleScreen), what="the console")
        await pilot.press("ctrl+u")
        await wait_for(pilot, lambda: isinstance(app.screen, UpgradeScreen), what="the upgrade screen")
        assert app.screen.ws.root == folder.resolve()  # type: ignore[attr-defined]
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ConsoleScreen), what="back on the console")

    app = SkynetApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("u")
        await wait_for(
            pilot, lambda: isinstance(app.screen, OpenWorkspaceDialog), what="the workspace dialog"
        )
        assert "Upgrade a cluster" in str(app.screen.query_one("#open-title", Static).render())
        app.screen.query_one("#open-path", Input).value = str(folder)
        await pilot.pause()
        await pilot.click("#open-console")
        await wait_for(pilot, lambda: isinstance(app.screen, UpgradeScreen), what="the upgrade screen")


@pytest.mark.asyncio
async def test_the_welcome_leads_to_the_restore_screen_of_a_workspace_with_talos_credentials(
    tmp_path, example_data, monkeypatch
) -> None:
    from skynet_tui.screens.restore import RestoreScreen

    folder = workspace_folder(tmp_path, example_data)
    bare = tmp_path / "drafted"
    bare.mkdir()
    (bare / "cluster.yaml").write_text((folder / "cluster.yaml").read_text())
    monkeypatch.chdir(tmp_path)
    app = SkynetApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "Restore" in {c.title for c in app.get_system_commands(app.screen)}  # the palette too
        await pilot.press("r")
        await wait_for(
            pilot, lambda: isinstance(app.screen, OpenWorkspaceDialog), what="the workspace dialog"
        )
        assert "Restore a cluster" in str(app.screen.query_one("#open-title", Static).render())
        app.screen.query_one("#open-path", Input).value = str(bare)
        await pilot.pause()
        assert app.screen.query_one(
            "#open-console", Button
        ).disabled  # no talosconfig: nothing to restore with
        assert "no talosconfig" in str(app.screen.query_one("#open-info", Static).render())
        app.screen.query_one("#open-path", Input).value = str(folder)
        await pilot.pause()
        await pilot.click("#open-console")
        await wait_for(pilot, lambda: isinstance(app.screen, RestoreScreen), what="the restore screen")
        assert app.screen.ws.root == folder.resolve()  # type: ignore[attr-defined]
