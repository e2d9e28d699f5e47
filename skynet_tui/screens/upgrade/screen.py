"""UpgradeScreen: a thin view over the upgrade core, following the cluster's live snapshots."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Checkbox, Footer, Input, Label, Select, Static

from skynet_tui.plan import Plan, upgrade
from skynet_tui.plan.upgrade_platform import platform_plan
from skynet_tui.plan.upgrade_steps import Confirm
from skynet_tui.screens.console.screen import MonitorFactory, MonitorLike
from skynet_tui.screens.dialogs import ConfirmDialog
from skynet_tui.screens.upgrade import texts
from skynet_tui.screens.upgrade.run import UpgradeRunScreen
from skynet_tui.spec import Cluster
from skynet_tui.status.model import Snapshot
from skynet_tui.upgrade.charts import ChartChange
from skynet_tui.widgets.rowtable import RowTable
from skynet_tui.workspace import Workspace

NODE_COLUMNS = (
    ("name", "NODE"),
    ("role", "ROLE"),
    ("ip", "IP"),
    ("now", "RUNS"),
    ("target", "TARGET"),
    ("ready", "READY"),
)
CHART_COLUMNS = (("app", "APP"), ("chart", "CHART"), ("pinned", "PINNED"), ("new", "NEW"), ("note", "NOTE"))


class UpgradeScreen(Screen[None]):
    """Upgrades of one workspace's cluster. Pick Talos OS, Kubernetes or the platform's charts and a target; the
    screen shows each node's version now and after, the path (or why the target is refused), the gates live (nodes
    Ready, etcd, Argo CD apps, no other upgrade under way, the installer image) and the plan's steps. ctrl+s starts
    it: a run screen with the steps, their logs and a pause. The platform shows each app's pinned → new chart."""

    BINDINGS: ClassVar = [
        Binding("ctrl+s", "start", "Start", id="upgrade.start"),
        Binding("ctrl+r", "refresh", "Refresh", id="upgrade.refresh"),
        Binding("escape", "close", "Back", id="upgrade.back"),
    ]

    DEFAULT_CSS = """
    UpgradeScreen {
        layout: vertical;
        #topbar { height: 1; background: $panel; padding: 0 1; }
        #title { width: 1fr; text-style: bold; }
        #sim-badge { display: none; background: $warning; color: $text; text-style: bold; padding: 0 1; }
        &.-simulated #sim-badge { display: block; }
        #controls { height: 3; padding: 0 1; margin-top: 1; }
        #kind { width: 24; }
        #target { width: 20; margin-left: 1; }
        #parallel { width: 8; margin-left: 1; }
        #controls Checkbox { margin-left: 1; }
        #path { height: auto; padding: 0 1; margin-top: 1; }
        #nodes, #charts { height: auto; max-height: 12; margin: 1 1 0 1; }
        #details { height: 1fr; padding: 0 1; margin-top: 1; }
        #gates { height: auto; }
        #plan { height: auto; margin-top: 1; color: $text-muted; }
    }
    """

    class Updated(Message):
        def __init__(self, snapshot: Snapshot) -> None:
            super().__init__()
            self.snapshot = snapshot

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, UpgradeScreen.Updated)

    class Charts(Message):
        def __init__(
            self, changes: list[ChartChange], changed: list[str], plan: Plan | None, error: str = ""
        ) -> None:
            super().__init__()
            self.changes = changes
            self.changed = changed
            self.plan = plan
            self.error = error

    def __init__(
        self,
        ws: Workspace,
        cluster: Cluster,
        *,
        env: dict[str, str] | None = None,
        monitor_factory: MonitorFactory | None = None,
        snapshot: Snapshot | None = None,
    ) -> None:
        super().__init__()
        self.ws = ws
        self.cluster = cluster
        self.env = env
        self.monitor_factory = monitor_factory
        self.monitor: MonitorLike | None = None
        self.snapshot = snapshot
        self.prepared: upgrade.Preview | None = None
        self.plan: Plan | None = None
        self.changes: list[ChartChange] = []
        self.changed: list[str] = []
        self.platform: Plan | None = None

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        with Horizontal(id="topbar"):
            yield Label(f"Skynet · {self.cluster.name} · upgrades", id="title")
            yield Label("SIMULATED LAB", id="sim-badge")
        with Horizontal(id="controls"):
            yield Select(
                [(title, kind) for kind, title in texts.KINDS], value="talos", allow_blank=False, id="kind"
            )
            yield Input(
                texts.default_target("talos", self.cluster), placeholder="target version", id="target"
            )
            yield Input("1", placeholder="workers", id="parallel", type="integer", tooltip="workers at once")
            yield Checkbox("allow degraded apps", id="degraded", compact=True)
            yield Checkbox("pre-release", id="prerelease", compact=True)
        yield Static("reading the cluster…", id="path")
        yield RowTable(NODE_COLUMNS, lambda cells: cells, id="nodes")
        table = RowTable(CHART_COLUMNS, texts.chart_cells, order=("app",), id="charts")
        table.display = False
        yield table
        with VerticalScroll(id="details"):
            yield Static("", id="gates")
            yield Static("", id="plan")
        yield Footer()

    def on_mount(self) -> None:
        if self.snapshot is not None:
            self.show(self.snapshot)
        if self.monitor_factory is not None:
            self._start_monitor()

    def on_unmount(self) -> None:
        monitor, self.monitor = self.monitor, None
        if monitor is not None:
            monitor.stop()

    # ------------------------------------------------------------------ the status core

    class MonitorReady(Message):
        def __init__(self, monitor: MonitorLike) -> None:
            super().__init__()
            self.monitor = monitor

    @work(thread=True, group="upgrade-monitor", exit_on_error=False, description="Reading the cluster")
    def _start_monitor(self) -> None:
        assert self.monitor_factory is not None

        def publish(snap: Snapshot) -> None:
            self.post_message(self.Updated(snap))

        monitor = self.monitor_factory(publish)
        monitor.start()
        self.post_message(self.MonitorReady(monitor))

    @on(MonitorReady)
    def _monitor_ready(self, message: MonitorReady) -> None:
        if not self.is_attached:
            message.monitor.stop()
            return
        self.monitor = message.monitor

    @on(Updated)
    def _updated(self, message: Updated) -> None:
        self.show(message.snapshot)

    # ------------------------------------------------------------------ view

    @property
    def kind(self) -> str:
        return str(self.query_one("#kind", Select).value)

    def request(self) -> upgrade.Request | None:
        kind = self.kind
        if kind not in ("talos", "kubernetes"):
            return None
        try:
            parallel = int(self.query_one("#parallel", Input).value or "1")
        except ValueError:
            parallel = 0
        return upgrade.Request(
            kind,  # type: ignore[arg-type]
            self.query_one("#target", Input).value.strip() or texts.default_target(kind, self.cluster),
            allow_degraded=self.query_one("#degraded", Checkbox).value,
            allow_prerelease=self.query_one("#prerelease", Checkbox).value,
            parallel=parallel,
        )

    def show(self, snap: Snapshot) -> None:
        """Judge the request against a snapshot and show it."""
        self.snapshot = snap
        self.set_class(snap.simulated, "-simulated")
        self._refresh_view()

    def _refresh_view(self) -> None:
        platform = self.kind == "platform"
        self.query_one("#nodes", RowTable).display = not platform
        self.query_one("#charts", RowTable).display = platform
        for widget in ("#target", "#parallel", "#degraded", "#prerelease"):
            self.query_one(widget).display = not platform
        if platform:
            self._render_platform()
            return
        request, snap = self.request(), self.snapshot
        if request is None or snap is None:
            return
        self.prepared = prepared = upgrade.preview(self.cluster, snap, request)
        self.plan = (
            upgrade.build(prepared, self.ws, env=self.env, simulated=snap.simulated)
            if prepared.can_run
            else None
        )
        self.query_one("#path", Static).update(texts.path_text(prepared))
        self.query_one("#nodes", RowTable).sync(
            [(n.hostname, texts.node_cells(prepared, n)) for n in prepared.nodes]
        )
        self.query_one("#gates", Static).update(texts.gates_text(prepared))
        self.query_one("#plan", Static).update(texts.plan_text(self.plan))

    def _render_platform(self) -> None:
        self.query_one("#gates", Static).update("")
        self.query_one("#charts", RowTable).sync([(c.app, c) for c in self.changes])
        if self.changed:
            text = Text(
                f"{len(self.changed)} file(s) under {self.cluster.spec.gitops.path}/ change", style="bold"
            )
        else:
            text = Text("The GitOps folder holds what Skynet pins: nothing to upgrade.", style="green")
        self.query_one("#path", Static).update(text)
        self.query_one("#plan", Static).update(texts.plan_text(self.platform))

    @work(thread=True, group="upgrade-charts", exclusive=True, exit_on_error=False, description="Rendering")
    def _read_charts(self) -> None:
        # Rendering the GitOps tree (Jinja2) takes a moment: off the UI thread.
        from skynet_tui.upgrade.charts import chart_changes, tree_diff

        try:
            changes = chart_changes(self.ws, self.cluster)
            changed, _ = tree_diff(self.ws, self.cluster)
            plan = platform_plan(self.cluster, self.ws)
        except (OSError, ValueError) as exc:
            self.post_message(self.Charts([], [], None, f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(self.Charts(changes, changed, plan))

    @on(Charts)
    def _charts(self, message: Charts) -> None:
        if message.error:
            self.notify(message.error, severity="error", markup=False)
        self.changes, self.changed, self.platform = message.changes, message.changed, message.plan
        if self.kind == "platform":
            self._refresh_view()

    @on(Select.Changed, "#kind")
    def _kind_changed(self) -> None:
        kind = self.kind
        if kind == "platform":
            self._read_charts()
        else:
            self.query_one("#target", Input).value = texts.default_target(kind, self.cluster)
        self._refresh_view()

    @on(Input.Changed)
    @on(Checkbox.Changed)
    def _request_changed(self) -> None:
        self._refresh_view()

    # ------------------------------------------------------------------ actions

    def action_refresh(self) -> None:
        refresh = getattr(self.monitor, "refresh_talos", None)
        if refresh is not None:
            refresh()
        if self.kind == "platform":
            self._read_charts()
        self.notify("Reading the cluster again…", markup=False)

    def action_close(self) -> None:
        self.dismiss(None)

    def action_start(self) -> None:
        if self.kind == "platform":
            self._start_platform()
            return
        prepared = self.prepared
        if prepared is None:
            self.notify("The cluster has not been read yet.", severity="warning", markup=False)
            return
        if prepared.refusal or prepared.nothing_to_do:
            self.notify(prepared.refusal or "Nothing to do.", severity="warning", markup=False)
            return
        if not prepared.gates_open:
            self.notify("The gates are closed: fix what they name first.", severity="error", markup=False)
            return
        what = "Talos" if prepared.request.kind == "talos" else "Kubernetes"
        how = (
            "One node at a time, control planes first; each drains and reboots."
            if prepared.request.kind == "talos"
            else "A dry run is shown for each minor before it runs."
        )
        text = f"{how} An etcd snapshot goes to backups/ first. Pause (p) finishes the node under way."

        def answered(go: bool | None) -> None:
            if go:
                self._run(prepared)

        self.app.push_screen(
            ConfirmDialog(f"Upgrade {what} on {len(prepared.nodes)} node(s) to {prepared.target}?", text,
                          confirm="Upgrade"),
            answered,
        )  # fmt: skip

    def _run(self, prepared: upgrade.Preview) -> None:
        simulated = bool(self.snapshot and self.snapshot.simulated)

        def make(confirm: Confirm) -> Plan:
            return upgrade.build(prepared, self.ws, env=self.env, simulated=simulated, confirm=confirm)

        what = "Talos" if prepared.request.kind == "talos" else "Kubernetes"
        screen = UpgradeRunScreen(
            self.cluster, self.ws, make, title=f"upgrading {what} to {prepared.target}", env=self.env,
            simulated=simulated,
        )  # fmt: skip
        self.app.push_screen(screen, self._ran)

    def _start_platform(self) -> None:
        if not self.changed:
            self.notify("Nothing to upgrade: the GitOps folder holds what Skynet pins.", markup=False)
            return
        simulated = bool(self.snapshot and self.snapshot.simulated)

        def make(confirm: Confirm) -> Plan:
            return platform_plan(self.cluster, self.ws, simulated=simulated, confirm=confirm)

        screen = UpgradeRunScreen(
            self.cluster,
            self.ws,
            make,
            title="upgrading the platform's charts",
            env=self.env,
            simulated=simulated,
        )
        self.app.push_screen(screen, self._ran)

    def _ran(self, result: Any) -> None:
        self.action_refresh()

    def palette_commands(self) -> list[tuple[str, str, Any]]:
        return [
            ("Upgrade: start", "Run the upgrade shown", self.action_start),
            ("Upgrade: refresh", "Read the cluster again", self.action_refresh),
        ]
