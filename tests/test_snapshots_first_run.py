"""SVG snapshots of the first run (100×32): the demo's first step, suggested network values, every error shown.

They are the README's screenshots of the demo (update: pytest --snapshot-update, then copy them to docs/).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from skynet_tui import spec
from skynet_tui.app import DemoArgs, SkynetApp
from skynet_tui.wizard.state import Answers
from skynet_tui.workspace import Workspace
from tests.test_snapshots_wizard import SIZE, to_step

NETWORK_ANSWERS = ("subnet", "gateway")  # spec.network keys left out, with the endpoint, VIP and pool


@pytest.fixture(autouse=True)
def steady_cursor(monkeypatch: pytest.MonkeyPatch) -> None:
    """A blinking cursor makes screenshots depend on timing: keep it shown."""
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)


def demo_app(example_data: dict[str, Any]) -> SkynetApp:
    """The demo's wizard on fixed answers (the lab's subnet and fingerprints change from run to run)."""
    data = dict(example_data, metadata={"name": "lab"})
    return SkynetApp(demo=DemoArgs(spec.parse(data), Workspace(Path("lab")), env={}))


def test_the_demo_opens_on_the_wizards_first_step(snap_compare, tmp_path, monkeypatch, example_data):
    """`skynet demo`: the first step of the wizard, every field filled in for the lab and valid (✓ fields
    valid), the title saying SIMULATED LAB, ctrl+n Next in the footer."""
    monkeypatch.chdir(tmp_path)
    assert snap_compare(demo_app(example_data), terminal_size=SIZE, run_before=to_step(0))


def test_the_network_step_suggests_values_from_the_nodes(snap_compare, tmp_path, monkeypatch, example_data):
    """Step 3 with the nodes typed but no network answers: subnet 192.168.10.0/24, gateway .1, a free VIP
    (.10, three control planes) and the pool .200-.220 are filled in, each marked as suggested from the
    nodes' IPs."""
    monkeypatch.chdir(tmp_path)
    for key in NETWORK_ANSWERS:
        del example_data["spec"]["network"][key]
    del example_data["spec"]["controlPlane"]
    del example_data["spec"]["loadBalancer"]
    app = SkynetApp()

    async def to_network(pilot: Pilot) -> None:
        app.start_wizard(Answers(example_data, "homelab"), step="network")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=to_step(0, to_network))


def test_next_on_a_step_with_errors_shows_them_all(snap_compare, tmp_path, monkeypatch):
    """A new cluster's network step, Next pressed before anything was typed: every required field says
    '<label> is required' at once and the first one (Node subnet) has the focus."""
    monkeypatch.chdir(tmp_path)

    async def next_on_network(pilot: Pilot) -> None:
        await pilot.press("n")
        await pilot.pause()
        pilot.app.wizard.open("network")
        await pilot.pause()
        await pilot.press("ctrl+n")
        await pilot.pause()

    assert snap_compare(SkynetApp(), terminal_size=SIZE, run_before=to_step(0, next_on_network))
