"""The console against the lab's mock API: changes show up, the API going away shows a stale banner, and back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Log, Static

from skynet_lab.kube import MockKubeAPI
from skynet_tui.screens.console import ConsoleScreen
from skynet_tui.screens.console.detail import AppScreen, NodeScreen, PodScreen
from skynet_tui.status.model import Snapshot
from skynet_tui.status.monitor import Monitor
from skynet_tui.status.source import Source
from skynet_tui.status.watch import Backoff
from tests.console_helpers import Host, Seeder, rfc, seed_small_cluster, start_api, wait_for

pytestmark = [pytest.mark.lab, pytest.mark.asyncio]
SIZE = (100, 32)
FAST = Backoff(base=0.05, factor=2.0, cap=0.3, jitter=0.0)


def monitor_factory(kubeconfig: Path, **kw: Any) -> Any:
    source = Source(kubeconfig, None, None, "lab")
    return lambda publish: Monitor(source, publish, interval=0.05, backoff=FAST, **kw)


@dataclass
class Lab:
    api: MockKubeAPI
    seed: Seeder
    screen: ConsoleScreen
    app: Host
    pilot: Any

    @property
    def snap(self) -> Snapshot:
        assert self.screen.snapshot is not None
        return self.screen.snapshot

    def overview(self) -> str:
        return str(self.screen.query_one("#overview", Static).render())

    def rows(self, pane: str) -> list[str]:
        return self.screen.table(pane).keys

    def cell(self, pane: str, key: str, column: str) -> str:
        value = self.screen.table(pane).get_cell(key, column)
        return getattr(value, "plain", str(value))

    def problems(self) -> list[str]:
        """The problems table as shown: "layer|text" per row, in order."""
        return [
            f"{self.cell('problems', k, 'layer')}|{self.cell('problems', k, 'text')}"
            for k in self.rows("problems")
        ]


@asynccontextmanager
async def console(tmp_path: Path, **kw: Any) -> AsyncIterator[Lab]:
    api, kubeconfig = start_api(tmp_path)
    seed = seed_small_cluster(api.store, now=datetime.now(UTC))
    screen = ConsoleScreen(monitor_factory(kubeconfig, **kw), title="lab")
    app = Host(screen)
    try:
        async with app.run_test(size=SIZE) as pilot:
            lab = Lab(api, seed, screen, app, pilot)
            await wait_for(
                pilot, lambda: screen.snapshot is not None and screen.snapshot.synced, what="a first snapshot"
            )
            yield lab
    finally:
        api.stop()


async def test_a_node_going_notready_shows_up(tmp_path: Path) -> None:
    async with console(tmp_path) as lab:
        assert "5/5 nodes Ready" in lab.overview() and "✖" not in lab.overview()
        lab.seed.mutate("", "nodes", "", "worker-1", lambda n: n["status"].update(conditions=[
            {"type": "Ready", "status": "Unknown", "reason": "NodeStatusUnknown",
             "message": "Kubelet stopped posting node status."}]))  # fmt: skip
        await wait_for(lab.pilot, lambda: "4/5 nodes Ready" in lab.overview(), what="the Kubernetes line")
        assert "NotReady: worker-1" in lab.overview()
        assert "node worker-1 Unknown: NodeStatusUnknown: Kubelet stopped posting node status." in (
            p.text for p in lab.snap.problems
        )
        assert (
            lab.problems()[0]
            == "kubernetes|node worker-1 Unknown: NodeStatusUnknown: Kubelet stopped posting node status."
        )
        lab.screen.show_pane("nodes")
        await wait_for(lab.pilot, lambda: "worker-1" in lab.rows("nodes"))
        assert lab.cell("nodes", "worker-1", "status") == "Unknown"


async def test_an_application_turning_degraded_shows_up(tmp_path: Path) -> None:
    async with console(tmp_path) as lab:
        message = 'Deployment "loki" exceeded its progress deadline'

        def degrade(app: dict) -> None:
            app["status"]["health"] = {"status": "Degraded", "message": message}

        lab.seed.mutate("argoproj.io", "applications", "argocd", "loki", degrade)
        await wait_for(lab.pilot, lambda: "Degraded: loki" in lab.overview(), what="the Argo CD line")
        assert "✖ Argo CD     error" in lab.overview()
        assert f"argocd|Application loki Degraded: {message}" in lab.problems()
        lab.screen.show_pane("apps")
        await wait_for(lab.pilot, lambda: "argocd/loki" in lab.rows("apps"))
        assert lab.cell("apps", "argocd/loki", "health") == "Degraded"
        assert lab.cell("apps", "argocd/loki", "message") == message


async def test_a_certificate_expiring_within_a_week_shows_up(tmp_path: Path) -> None:
    async with console(tmp_path) as lab:
        soon = datetime.now(UTC) + timedelta(days=3, hours=1)
        lab.seed.mutate("cert-manager.io", "certificates", "monitoring", "grafana",
                        lambda c: c["status"].update(notAfter=rfc(soon)))  # fmt: skip
        await wait_for(
            lab.pilot, lambda: "grafana expires in 3d" in lab.overview(), what="the Ingress+TLS line"
        )
        assert "▲ Ingress+TLS warn" in lab.overview()
        assert "ingress|Certificate monitoring/grafana expires in 3d" in lab.problems()
        lab.screen.show_pane("certs")
        await wait_for(lab.pilot, lambda: "monitoring/grafana" in lab.rows("certs"))
        assert lab.cell("certs", "monitoring/grafana", "state") == "expires in 3d"


async def test_stopping_the_api_shows_the_stale_banner_and_restarting_recovers(tmp_path: Path) -> None:
    async with console(tmp_path) as lab:
        banner = lab.screen.query_one("#banner", Static)
        assert not banner.display
        lab.api.stop()
        await wait_for(lab.pilot, lambda: lab.snap.stale, what="the API to be seen unreachable")
        await lab.pilot.pause()
        assert banner.display and lab.screen.has_class("-stale")
        text = str(banner.render())
        assert text.startswith("⚠ API unreachable: 127.0.0.1:") and "Connection refused" in text
        assert "(stale)" in text
        assert "5/5 nodes Ready" in lab.overview()  # the last good data stays on screen
        lab.seed.mutate("", "nodes", "", "worker-2", lambda n: n["status"].update(conditions=[
            {"type": "Ready", "status": "False", "reason": "KubeletNotReady", "message": "container runtime is down"}]))  # fmt: skip
        lab.api.start(lab.api.port, exact=True)
        await wait_for(lab.pilot, lambda: not lab.snap.stale, what="the API to come back")
        await wait_for(lab.pilot, lambda: "4/5 nodes Ready" in lab.overview(), what="what changed meanwhile")
        assert not banner.display and not lab.screen.has_class("-stale")


async def test_typing_filters_the_table_and_escape_clears_it(tmp_path: Path) -> None:
    async with console(tmp_path) as lab:
        lab.screen.show_pane("apps")
        await wait_for(lab.pilot, lambda: len(lab.rows("apps")) == 5)
        lab.screen.table("apps").focus()
        await lab.pilot.press(*"lok")
        await lab.pilot.press("backspace", "k", "i")
        await wait_for(lab.pilot, lambda: lab.rows("apps") == ["argocd/loki"])
        assert lab.screen.query_one("#filter", Input).value == "loki"
        await lab.pilot.press("escape")
        await wait_for(lab.pilot, lambda: len(lab.rows("apps")) == 5)
        assert lab.screen.focused is lab.screen.table("apps")
        # the filter narrows a problem table by any of its cells
        await lab.pilot.press("tab")
        assert lab.screen.active_pane == "pods"


async def test_app_drill_down_syncs_now_through_the_operation_field(tmp_path: Path) -> None:
    async with console(tmp_path) as lab:
        lab.screen.show_pane("apps")
        await wait_for(lab.pilot, lambda: "argocd/traefik" in lab.rows("apps"))
        lab.screen.open_row("apps", "argocd/traefik")
        await wait_for(lab.pilot, lambda: isinstance(lab.app.screen, AppScreen) and lab.app.screen.is_mounted)
        await lab.pilot.press("s")
        await wait_for(lab.pilot, lambda: type(lab.app.screen).__name__ == "ConfirmDialog")
        await lab.pilot.click("#confirm-yes")
        res = lab.seed.res("argoproj.io", "applications")
        await wait_for(lab.pilot, lambda: "operation" in lab.api.store.get(res, "argocd", "traefik"))
        stored = lab.api.store.get(res, "argocd", "traefik")
        assert stored["operation"] == {
            "initiatedBy": {"username": "skynet-console"},
            "sync": {"syncStrategy": {"hook": {}}},
        }
        await wait_for(
            lab.pilot, lambda: any("sync of traefik requested" in n.message for n in lab.app._notifications)
        )
        # a second one is refused while the first is pending, as Argo CD's API server does
        await wait_for(
            lab.pilot, lambda: any(a.key == "argocd/traefik" and a.operation_requested for a in lab.snap.apps)
        )
        await lab.pilot.press("s")
        await lab.pilot.pause()
        assert isinstance(lab.app.screen, AppScreen)
        assert any("already in progress" in n.message for n in lab.app._notifications)


async def test_pod_drill_down_shows_its_events_and_the_last_log_lines(tmp_path: Path) -> None:
    async with console(tmp_path) as lab:
        lab.seed.pod("loki", "loki-0", "worker-2", waiting="CrashLoopBackOff", restarts=7)
        lab.api.set_log("loki", "loki-0", "main", [f"line {i}" for i in range(500)])
        lab.seed.create("", "events", "loki", {
            "metadata": {"name": "loki-0.17a"}, "type": "Warning", "reason": "BackOff",
            "message": "Back-off restarting failed container main in pod loki-0",
            "involvedObject": {"kind": "Pod", "name": "loki-0", "namespace": "loki"}, "count": 9,
            "lastTimestamp": rfc(datetime.now(UTC))})  # fmt: skip
        await wait_for(lab.pilot, lambda: "loki/loki-0" in [p.key for p in lab.snap.problem_pods])
        lab.screen.open_row("pods", "loki/loki-0")
        await wait_for(lab.pilot, lambda: isinstance(lab.app.screen, PodScreen) and lab.app.screen.is_mounted)
        pod_screen = lab.app.screen
        log = pod_screen.query_one("#pod-log", Log)
        await wait_for(lab.pilot, lambda: log.line_count >= 200, what="the log")
        assert log.lines[0] == "line 300" and log.lines[199] == "line 499"
        await wait_for(
            lab.pilot, lambda: pod_screen.query_one("#pod-events").row_count == 1, what="the events"
        )
        facts = str(pod_screen.query_one("#facts", Static).render())
        assert "CrashLoopBackOff" in facts and "worker-2" in facts
        await lab.pilot.press("escape")
        assert lab.app.screen is lab.screen


async def test_node_drill_down_lists_the_pods_on_it(tmp_path: Path) -> None:
    async with console(tmp_path) as lab:
        lab.screen.open_row("nodes", "worker-1")
        await wait_for(
            lab.pilot, lambda: isinstance(lab.app.screen, NodeScreen) and lab.app.screen.is_mounted
        )
        node_screen = lab.app.screen
        table = node_screen.query_one("#node-pods")
        await wait_for(lab.pilot, lambda: table.row_count == 3, what="the node's pods")
        assert sorted(table.keys) == [
            "loki/loki-6d4b9c7f5-x2k8q",
            "metallb/metallb-6d4b9c7f5-x2k8q",
            "traefik/traefik-6d4b9c7f5-x2k8q",
        ]
        assert node_screen.query_one("#conditions").row_count == 1
