"""RestoreScreen: the guided disaster recovery of a workspace's cluster, a thin view over backup/ and plan/restore."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Checkbox, DataTable, Footer, Input, Static

from skynet_tui.backup import assess, catalog
from skynet_tui.plan.restore import restore_plan
from skynet_tui.progress import Phase
from skynet_tui.screens.upgrade.run import UpgradeRunScreen
from skynet_tui.spec import Cluster
from skynet_tui.workspace import Workspace

Assessor = Callable[[], assess.Assessment]
PROCEDURE = (
    "Talos's disaster recovery, step by step: check the snapshot; wipe etcd's data on every control plane "
    "(reset EPHEMERAL, reboot: etcd then waits for a bootstrap); `talosctl bootstrap --recover-from` on the first "
    "control plane; wait for every control plane to join etcd, for `talosctl health`, and for every node Ready. "
    "Every Kubernetes object goes back to the snapshot: whatever was written since is gone."
)


class RestoreRunScreen(UpgradeRunScreen):
    """A restore running: the wipes, the recovery and the waits, with their logs; the outcome at the end."""

    summary_titles: ClassVar[dict[Phase, str]] = {
        Phase.SUCCEEDED: "✔ restore done",
        Phase.FAILED: "✖ Restore stopped",
        Phase.CANCELLED: "■ Restore stopped",
    }
    done_notice: ClassVar[str] = "restore done"


class RestoreScreen(Screen[None]):
    """Restore etcd of one workspace's cluster from a backup. It shows the backups (newest first), whether etcd
    still has quorum (then a restore is refused unless forced, and says why), and asks for the cluster's name to be
    typed before ctrl+s starts: a run screen with the steps and their logs."""

    BINDINGS: ClassVar = [
        Binding("ctrl+s", "start", "Restore", id="restore.start"),
        Binding("ctrl+r", "refresh", "Check etcd again", id="restore.refresh"),
        Binding("escape", "close", "Back", id="restore.back"),
    ]

    DEFAULT_CSS = """
    RestoreScreen {
        layout: vertical;
        #topbar { height: 1; background: $panel; padding: 0 1; }
        #title { width: 1fr; text-style: bold; }
        #procedure { padding: 0 1; margin-top: 1; color: $text-muted; }
        #verdict { padding: 0 1; margin-top: 1; }
        #backups { height: 1fr; margin: 1 1 0 1; }
        #confirm-row { height: 3; padding: 0 1; }
        #force { width: auto; }
        #confirm { width: 1fr; }
        #why { padding: 0 1; height: auto; }
    }
    """

    def __init__(
        self,
        ws: Workspace,
        cluster: Cluster,
        *,
        env: dict[str, str] | None = None,
        simulated: bool = False,
        assessor: Assessor | None = None,
    ):
        super().__init__()
        self.ws = ws
        self.cluster = cluster
        self.env = env
        self.simulated = simulated
        self.assessor = assessor or (lambda: assess.read(cluster, ws.talosconfig, env=env))
        self.judged: assess.Assessment | None = None
        self.backups: list[catalog.Backup] = []

    def compose(self) -> ComposeResult:
        with Horizontal(id="topbar"):
            yield Static(f"Skynet · Restore etcd · {self.cluster.name}", id="title", markup=False)
        yield Static(PROCEDURE, id="procedure", markup=False)
        yield Static(Text("Checking etcd on the control planes…", style="dim"), id="verdict")
        table: DataTable[str] = DataTable(id="backups", cursor_type="row", zebra_stripes=True)
        yield table
        with Horizontal(id="confirm-row"):
            yield Checkbox("Restore although etcd has quorum", id="force", compact=True)
            yield Input(placeholder=f"type {self.cluster.name} to confirm", id="confirm")
        yield Static("", id="why", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#backups", DataTable)
        table.add_columns("BACKUP", "AGE", "TAKEN", "FROM", "TALOS", "KUBERNETES", "WHY")
        self.load_backups()
        self.action_refresh()

    def load_backups(self) -> None:
        table = self.query_one("#backups", DataTable)
        table.clear()
        self.backups = catalog.listing(self.ws.root)
        now = dt.datetime.now(dt.UTC)
        for backup in self.backups:
            m = backup.manifest
            taken = backup.taken.strftime("%Y-%m-%d %H:%M")
            extra = (m.node, m.talos, m.kubernetes, m.reason) if m else ("?", "?", "?", "no manifest")
            table.add_row(
                backup.path.name, catalog.age_text(now - backup.taken), taken, *extra, key=str(backup.path)
            )
        self._update()

    # ------------------------------------------------------------ etcd

    def action_refresh(self) -> None:
        self.judged = None
        self.query_one("#verdict", Static).update(Text("Checking etcd on the control planes…", style="dim"))
        self._update()
        self._assess()

    @work(thread=True, group="restore-assess", exclusive=True, exit_on_error=False)
    def _assess(self) -> None:
        judged = self.assessor()
        self.app.call_from_thread(self.show_assessment, judged)

    def show_assessment(self, judged: assess.Assessment) -> None:
        self.judged = judged
        style = "bold red" if judged.has_quorum else "yellow"
        self.query_one("#verdict", Static).update(Text(judged.text() + ".", style=style))
        self._update()

    # ------------------------------------------------------------ the gate

    def selected(self) -> Path | None:
        table = self.query_one("#backups", DataTable)
        if not self.backups or table.cursor_row < 0:
            return None
        return self.backups[min(table.cursor_row, len(self.backups) - 1)].path

    def blocker(self) -> str:
        """Why ctrl+s does nothing yet; "" when the restore may start."""
        if not self.backups:
            return f"No backup in {self.ws.root / catalog.FOLDER}: a restore needs one (skynet backup)."
        if self.judged is None:
            return "Checking whether etcd still has quorum…"
        if self.judged.has_quorum and not self.query_one("#force", Checkbox).value:
            return "Refused while etcd has quorum: tick the box only if the data itself must go back."
        if self.query_one("#confirm", Input).value.strip() != self.cluster.name:
            return f"Type the cluster's name ({self.cluster.name}) to wipe etcd on its control planes."
        return ""

    def _update(self) -> None:
        reason = self.blocker()
        self.query_one("#why", Static).update(Text(reason or "ctrl+s restores from the selected backup.",
                                                   style="yellow" if reason else "bold green"))  # fmt: skip
        self.refresh_bindings()

    @on(Input.Changed, "#confirm")
    @on(Checkbox.Changed, "#force")
    def _changed(self, _: Any) -> None:
        self._update()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "start":
            return None if self.blocker() else True  # shown dimmed until it may start
        return True

    def action_start(self) -> None:
        snapshot = self.selected()
        if self.blocker() or snapshot is None:
            return
        cluster, ws, env = self.cluster, self.ws, self.env
        self.app.push_screen(
            RestoreRunScreen(
                cluster,
                ws,
                lambda _confirm: restore_plan(cluster, ws, snapshot, env=env, simulated=self.simulated),
                title="Restore etcd",
                env=env,
                simulated=self.simulated,
            )
        )

    def action_close(self) -> None:
        self.app.pop_screen()
