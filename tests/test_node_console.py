"""The console's node drill-down offers remove, replace and add on a workspace's console: a removal that would
break etcd quorum is refused with the reason, an allowed one asks first (nothing runs on No)."""

from __future__ import annotations

from pathlib import Path

import pytest

from skynet_tui import spec
from skynet_tui.screens.console.detail import NodeScreen
from skynet_tui.screens.dialogs import ConfirmDialog
from tests.console_helpers import wait_for
from tests.test_console import console

pytestmark = [pytest.mark.lab, pytest.mark.asyncio]

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "cluster.yaml"


def workspace(tmp_path: Path) -> Path:
    """A workspace whose cluster.yaml names the console's seeded nodes (3 control planes, 2 workers)."""
    data = spec.to_data(spec.load(EXAMPLE))
    data["spec"]["network"].update(subnet="10.5.0.0/24", gateway="10.5.0.1")
    data["spec"]["controlPlane"] = {"endpoint": "10.5.0.10", "vip": True}
    data["spec"]["loadBalancer"] = {"addresses": ["10.5.0.200-10.5.0.220"]}
    data["spec"]["nodes"] = [
        {"hostname": host, "ip": f"10.5.0.{last}", "role": role, "installDisk": "/dev/sda", "interface": "eno1"}
        for host, last, role in (("cp-1", 11, "controlplane"), ("cp-2", 12, "controlplane"),
                                 ("cp-3", 13, "controlplane"), ("worker-1", 21, "worker"), ("worker-2", 22, "worker"))
    ]  # fmt: skip
    folder = tmp_path / "ws"
    folder.mkdir()
    (folder / "cluster.yaml").write_text(spec.dump(spec.parse(data)))
    return folder


async def test_node_actions_are_offered_on_a_workspace_console_and_a_quorum_break_is_refused(
    tmp_path: Path,
) -> None:
    async with console(tmp_path) as lab:
        lab.screen.open_row("nodes", "cp-1")
        await wait_for(
            lab.pilot, lambda: isinstance(lab.app.screen, NodeScreen) and lab.app.screen.is_mounted
        )
        node_screen = lab.app.screen
        assert isinstance(node_screen, NodeScreen)
        # Not a workspace's console: no cluster.yaml to change, so no action is offered.
        assert node_screen.check_action("node", ("remove",)) is False
        lab.app.console_workspaces = {
            lab.screen: workspace(tmp_path)
        }  # as the app records a workspace's console
        assert node_screen.check_action("node", ("remove",)) is True
        # No talosconfig: etcd's health is unknown, so no control plane may leave (quorum cannot be shown kept).
        await lab.pilot.press("x")
        await wait_for(
            lab.pilot, lambda: any("remove cp-1 refused" in n.message for n in lab.app._notifications)
        )
        shown = next(n.message for n in lab.app._notifications if "remove cp-1 refused" in n.message)
        assert "etcd's members could not be read (no talosconfig)" in shown
        assert not isinstance(lab.app.screen, ConfirmDialog)
        await lab.pilot.press("escape")

        lab.screen.open_row("nodes", "worker-1")
        await wait_for(
            lab.pilot, lambda: isinstance(lab.app.screen, NodeScreen) and lab.app.screen.key == "worker-1"
        )
        await lab.pilot.press("x")
        await wait_for(lab.pilot, lambda: isinstance(lab.app.screen, ConfirmDialog))
        dialog = lab.app.screen
        assert isinstance(dialog, ConfirmDialog) and dialog.title_text == "Remove worker-1 in homelab?"
        assert "drain through the eviction API" in dialog.text
        await lab.pilot.press("escape")  # No: nothing runs
        await wait_for(lab.pilot, lambda: isinstance(lab.app.screen, NodeScreen))
