"""The restore screen: its backups newest first, the quorum verdict that refuses unless forced, the typed cluster
name before ctrl+s, and the run screen it opens on the selected backup's plan."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Checkbox, DataTable, Input, Static

from skynet_tui import spec
from skynet_tui.backup import assess
from skynet_tui.plan import Plan, Step
from skynet_tui.progress import Phase
from skynet_tui.screens.restore import RestoreRunScreen, RestoreScreen
from skynet_tui.workspace import Workspace
from tests.console_helpers import Host, wait_for
from tests.test_backup import write_backup

SIZE = (120, 36)


def text(screen: RestoreScreen, widget: str) -> str:
    return str(screen.query_one(widget, Static).render())


@pytest.mark.asyncio
async def test_refused_with_quorum_until_forced_and_named_then_the_run(
    example_data: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cluster = spec.parse(example_data)
    ws = Workspace.at(tmp_path)
    now = dt.datetime.now(dt.UTC)
    write_backup(ws, "etcd-old.snapshot", now - dt.timedelta(days=2))
    newest = write_backup(ws, "etcd-new.snapshot", now - dt.timedelta(minutes=10))
    held = assess.judge(cluster, [assess.Member(n.ip, "a" * 16) for n in cluster.control_planes])
    built: list[Path] = []

    def plan(_cluster: Any, _ws: Any, snapshot: Path, **_: Any) -> Plan:
        built.append(snapshot)
        return Plan("restore", [Step("recover", "Recover etcd", lambda ctx: ctx.line("recovered"))])

    monkeypatch.setattr("skynet_tui.screens.restore.restore_plan", plan)
    screen = RestoreScreen(ws, cluster, assessor=lambda: held)
    async with Host(screen).run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: screen.judged is not None, what="the etcd verdict")
        table = screen.query_one("#backups", DataTable)
        assert [str(table.get_row_at(i)[0]) for i in range(table.row_count)] == [
            "etcd-new.snapshot",
            "etcd-old.snapshot",
        ]
        assert "3 of 3 control plane(s)" in text(screen, "#verdict") and "not lost" in text(
            screen, "#verdict"
        )
        assert text(screen, "#why").startswith("Refused while etcd has quorum")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert screen.app.screen is screen and not built

        screen.query_one("#force", Checkbox).value = True
        await pilot.pause()
        assert (
            text(screen, "#why")
            == f"Type the cluster's name ({cluster.name}) to wipe etcd on its control planes."
        )
        screen.query_one("#confirm", Input).value = "not-the-name"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not built

        screen.query_one("#confirm", Input).value = cluster.name
        await pilot.pause()
        assert text(screen, "#why") == "ctrl+s restores from the selected backup."
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(screen.app.screen, RestoreRunScreen), what="the run screen")
        run = screen.app.screen
        assert isinstance(run, RestoreRunScreen)
        await wait_for(pilot, lambda: run.phase is Phase.SUCCEEDED, what="the restore's end")
        assert built == [newest]


@pytest.mark.asyncio
async def test_without_backups_there_is_nothing_to_restore(example_data: dict, tmp_path: Path) -> None:
    cluster = spec.parse(example_data)
    lost = assess.judge(cluster, [])
    screen = RestoreScreen(Workspace.at(tmp_path), cluster, assessor=lambda: lost)
    async with Host(screen).run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: screen.judged is not None, what="the etcd verdict")
        assert "has lost its quorum" in text(screen, "#verdict")
        assert text(screen, "#why").startswith("No backup in")
