"""SVG snapshots of the bootstrap screen mid-install, failed and finished (the 100×32 ones suit the README)."""

from __future__ import annotations

from pathlib import Path

import pytest

from skynet_tui import spec
from skynet_tui.screens.bootstrap import BootstrapScreen
from skynet_tui.workspace import Workspace
from tests.bootstrap_helpers import (
    FakeClock,
    Gate,
    Host,
    ScriptedFactory,
    clear_toasts,
    failure_script,
    midway_script,
    success_script,
    wait_until,
)

# A fixed path: it appears on screen (summary, log paths); nothing is written there.
WORKSPACE = Path("/home/ops/homelab")


@pytest.fixture
def cluster(example_data):
    example_data["metadata"]["name"] = "lab"
    return spec.parse(example_data)


def build(cluster, script) -> tuple[Host, BootstrapScreen, FakeClock]:
    clock = FakeClock()
    screen = BootstrapScreen(cluster, Workspace.at(WORKSPACE), runner_factory=ScriptedFactory(script))
    screen.clock = clock
    return Host(screen), screen, clock


def mid_install(cluster):
    gate = Gate()
    app, screen, clock = build(cluster, midway_script(gate))

    async def run_before(pilot) -> None:
        await pilot.pause()
        await wait_until(
            pilot, lambda: gate.reached.is_set() and screen.step_list.get("bootstrap").state == "retrying"
        )
        clock.now += 75  # the running steps have been at it for 1m15s
        screen._tick()
        await pilot.pause()

    return app, run_before


def test_bootstrap_mid_install(snap_compare, cluster):
    """Mid-install on the lab, 100×32. Visible: "SIMULATED LAB" badge top right; 47% and "7/15 steps ·
    3 running · 1m15s"; the checklist with four cluster steps and three applies done (✔ and their times),
    cp-3 and worker-2 applying (▶ 1m15s), "Bootstrap etcd  cp-1  ↻2  1m15s" highlighted; the log pane titled
    "Bootstrap etcd · cp-1" with a cp-1-tagged, dimmed "bootstrap is not available yet" and the dimmed retry
    note; footer keys a Abort, l Log file."""
    app, run_before = mid_install(cluster)
    assert snap_compare(app, terminal_size=(100, 32), run_before=run_before)


def test_bootstrap_mid_install_80x24(snap_compare, cluster):
    """The same moment at 80×24: the checklist is stacked above the log and scrolled to the highlighted
    "Bootstrap etcd" row; the log pane below still shows its two lines; nothing overlaps or is cut mid-cell."""
    app, run_before = mid_install(cluster)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_bootstrap_failed(snap_compare, cluster):
    """After a failure, 100×32. Visible: "10/15 steps · 1 failed · 38s"; "Apply machine config  worker-2  ↻3  14s"
    in red with ✖ and highlighted; later steps ○ pending; a red "✖ Install failed" panel naming the step and
    its error, the support bundle path /home/ops/homelab/support-bundle-….tar.gz, the logs folder and
    "r: retry"; under it worker-2's log: tagged lines, dimmed connection-refused noise and retry notes, and
    the red failure line; footer keys r Retry, l Log file, esc Close."""
    gate = Gate()
    script = failure_script()
    app, screen, clock = build(cluster, [*script[:-1], gate, script[-1]])

    async def run_before(pilot) -> None:
        await pilot.pause()
        await wait_until(
            pilot, lambda: gate.reached.is_set() and screen.step_list.get("kubeconfig").state == "done"
        )
        clock.now += 38.5  # the run took 38s
        gate.open()
        await wait_until(pilot, lambda: screen.phase == "failed")
        await clear_toasts(pilot, "Apply machine config (worker-2) failed")

    assert snap_compare(app, terminal_size=(100, 32), run_before=run_before)


def test_bootstrap_succeeded_80x24(snap_compare, cluster):
    """A finished install at 80×24: "100%  15/15 steps · done · 1m15s"; the checklist (shorter now) all ✔;
    a green "✔ Install complete" panel with the Argo CD and Grafana URLs, where the admin password is, the
    kubeconfig path and "Enter: continue"; the last step's log below it; footer keys l Log file, ⏎ Continue."""
    gate = Gate()
    script = success_script()
    app, screen, clock = build(cluster, [*script[:-1], gate, script[-1]])

    async def run_before(pilot) -> None:
        await pilot.pause()
        await wait_until(
            pilot, lambda: gate.reached.is_set() and screen.step_list.get("apps").state == "done"
        )
        clock.now += 75
        gate.open()
        await wait_until(pilot, lambda: screen.phase == "succeeded")
        await clear_toasts(pilot, "Install complete")

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
