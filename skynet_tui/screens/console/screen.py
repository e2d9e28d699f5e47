"""ConsoleScreen: the day-two console, a thin view over the snapshots the status core publishes."""

from __future__ import annotations

import functools
import gc
import re
import time
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, Protocol

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.events import Key
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, Static, TabbedContent, TabPane

from skynet_tui.screens.console import texts
from skynet_tui.screens.console.detail import AppScreen, CertScreen, NodeScreen, PodScreen
from skynet_tui.status.fold import Publish
from skynet_tui.status.model import Problem, Snapshot
from skynet_tui.widgets.rowtable import RowTable


class MonitorLike(Protocol):
    """What the screen needs of status.monitor.Monitor (tests may pass their own)."""

    client: Any

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def refresh_talos(self) -> None: ...


MonitorFactory = Callable[[Publish], MonitorLike]

# (pane id, title, columns, sort columns)
TABLES: tuple[tuple[str, str, tuple[tuple[str, str], ...], tuple[str, ...]], ...] = (
    ("problems", "Problems", (("level", "LEVEL"), ("layer", "LAYER"), ("text", "PROBLEM")), ()),
    (
        "nodes",
        "Nodes",
        (
            ("name", "NAME"),
            ("status", "STATUS"),
            ("roles", "ROLES"),
            ("ip", "IP"),
            ("kubelet", "KUBELET"),
            ("talos", "TALOS"),
            ("pods", "PODS"),
            ("notes", "NOTES"),
        ),
        ("name",),
    ),
    (
        "apps",
        "Apps",
        (
            ("name", "NAME"),
            ("wave", "WAVE"),
            ("sync", "SYNC"),
            ("health", "HEALTH"),
            ("operation", "OPERATION"),
            ("message", "MESSAGE"),
        ),
        ("wave", "name"),
    ),
    (
        "pods",
        "Problem pods",
        (
            ("namespace", "NAMESPACE"),
            ("name", "NAME"),
            ("status", "STATUS"),
            ("ready", "READY"),
            ("restarts", "RESTARTS"),
            ("node", "NODE"),
            ("why", "WHY"),
        ),
        ("namespace", "name"),
    ),
    (
        "certs",
        "Certs",
        (
            ("namespace", "NAMESPACE"),
            ("name", "NAME"),
            ("ready", "READY"),
            ("expires", "NOT AFTER"),
            ("issuer", "ISSUER"),
            ("state", "STATE"),
        ),
        ("namespace", "name"),
    ),
    (
        "endpoints",
        "Endpoints",
        (("kind", "KIND"), ("name", "NAME"), ("address", "ADDRESS / URL"), ("detail", "DETAIL")),
        ("kind", "name"),
    ),
    (
        "events",
        "Warnings",
        (
            ("seen", "LAST SEEN"),
            ("object", "OBJECT"),
            ("reason", "REASON"),
            ("count", "COUNT"),
            ("message", "MESSAGE"),
        ),
        (),
    ),
)
PANES = tuple(pane for pane, *_ in TABLES)


class ConsoleScreen(Screen[None]):
    """The day-two console of one cluster. Shows one health line per layer (Talos, etcd, Kubernetes, Argo CD,
    ingress+TLS, storage) with counts and the capacity summary, then tables of problems, nodes, Applications,
    problem pods, certificates, endpoints (LoadBalancer addresses, ingress URLs) and warning events. Enter opens
    a row (a node, an Application, a pod); typing filters the table. While the API is unreachable a banner
    counts down to the next try and the last good data stays on screen, marked stale with its age."""

    BINDINGS: ClassVar = [
        Binding("slash", "filter", "Filter", id="console.filter"),
        Binding("escape", "clear_filter", "Clear filter", id="console.clear"),
        Binding("tab", "next_tab", "Next table", id="console.next"),
        Binding("shift+tab", "previous_tab", "Previous table", show=False, id="console.previous"),
        Binding("ctrl+r", "refresh_talos", "Refresh Talos", id="console.talos"),
    ]

    DEFAULT_CSS = """
    ConsoleScreen {
        layout: vertical;
        #topbar { height: 1; background: $panel; padding: 0 1; }
        #title { width: 1fr; text-style: bold; }
        #updated { width: 17; color: $text-muted; margin-left: 2; content-align: right middle; }
        #sim-badge { display: none; background: $warning; color: $text; text-style: bold; padding: 0 1; }
        &.-simulated #sim-badge { display: block; }
        #banner { display: none; height: auto; background: $error 30%; color: $text; padding: 0 1; text-style: bold; }
        &.-stale #banner { display: block; }
        #overview { height: auto; padding: 0 1; margin: 1 0 0 0; }
        &.-stale #overview, &.-stale RowTable { opacity: 70%; }
        #tabs { height: 1fr; }
        #tabs TabPane { padding: 0; }
        RowTable { height: 1fr; }
        #filter { display: none; height: 1; border: none; padding: 0 1; }
        &.-filtering #filter { display: block; }
    }
    """

    class Updated(Message):
        """A new snapshot from the status core; only the newest one waiting is handled."""

        def __init__(self, snapshot: Snapshot) -> None:
            super().__init__()
            self.snapshot = snapshot

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, ConsoleScreen.Updated)

    class MonitorFailed(Message):
        def __init__(self, error: str) -> None:
            super().__init__()
            self.error = error

    class MonitorReady(Message):
        def __init__(self, monitor: MonitorLike) -> None:
            super().__init__()
            self.monitor = monitor

    def __init__(
        self,
        monitor_factory: MonitorFactory | None = None,
        *,
        title: str = "",
        snapshot: Snapshot | None = None,
        clock: Callable[[], float] = time.monotonic,
        name: str | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id)
        self.monitor_factory = monitor_factory
        self.monitor: MonitorLike | None = None
        self.cluster_title = title
        self.snapshot = snapshot
        self.clock = clock
        self.shown = 0  # snapshots shown (tests and the bench read it)
        self.filter_text = ""
        self._synced: dict[str, tuple[int, str]] = {}  # pane -> (snapshot number, filter) it last showed
        self._tables: dict[str, RowTable] = {}
        self._shown_content: dict[str, str | Text] = {}  # selector -> what the label shows now
        self._tab_labels: dict[str, str] = {}
        self._frozen = False

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        with Horizontal(id="topbar"):
            yield Label(self._title_text(), id="title")
            yield Label("SIMULATED LAB", id="sim-badge")
            yield Label("connecting…", id="updated")
        yield Static("", id="banner", markup=False)
        yield Static(Text("connecting to the Kubernetes API…", style="dim"), id="overview")
        with TabbedContent(id="tabs", initial="problems"):
            for pane, title, columns, order in TABLES:
                with TabPane(title, id=pane):
                    table = RowTable(columns, self._renderer(pane), order=order, id=f"table-{pane}")
                    self._tables[pane] = table
                    yield table
        yield Input(
            placeholder="filter: type to narrow the table, Esc clears",
            id="filter",
            compact=True,
            select_on_focus=False,
        )
        yield Footer()

    def _title_text(self) -> str:
        name = self.cluster_title or (self.snapshot.cluster if self.snapshot else "")
        return f"Skynet · {name} · console" if name else "Skynet · console"

    def on_mount(self) -> None:
        self.set_interval(1.0, self._tick)
        self._tables["problems"].focus()
        if self.snapshot is not None:
            self.show(self.snapshot)
        if self.monitor_factory is not None:
            self._start_monitor()

    def on_unmount(self) -> None:
        monitor, self.monitor = self.monitor, None
        if monitor is not None:
            monitor.stop()

    # ------------------------------------------------------------------ the status core

    @work(thread=True, group="console-monitor", exit_on_error=False, description="Connecting to the cluster")
    def _start_monitor(self) -> None:
        """Build the monitor (loads the kubernetes client and the kubeconfig) and start its threads."""
        assert self.monitor_factory is not None
        try:
            monitor = self.monitor_factory(self._publish)
            monitor.start()
        except Exception as exc:  # a kubeconfig that cannot be used: say so on the screen
            self.post_message(self.MonitorFailed(f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(self.MonitorReady(monitor))

    def _publish(self, snapshot: Snapshot) -> None:
        """Called on the status core's publisher thread: hand the snapshot to the UI thread."""
        self.post_message(self.Updated(snapshot))

    @on(MonitorReady)
    def _monitor_ready(self, message: MonitorReady) -> None:
        if not self.is_attached:
            message.monitor.stop()
            return
        self.monitor = message.monitor

    @on(MonitorFailed)
    def _monitor_failed(self, message: MonitorFailed) -> None:
        self.query_one("#overview", Static).update(
            Text(f"cannot read the cluster: {message.error}", style="red")
        )
        self.notify(message.error, title="Console", severity="error", markup=False, timeout=15)

    @on(Updated)
    def _updated(self, message: Updated) -> None:
        self.show(message.snapshot)

    # ------------------------------------------------------------------ view

    def show(self, snap: Snapshot) -> None:
        """Show a snapshot: the layer lines, the banner, the visible table (others when they are shown)."""
        if snap.synced and not self._frozen:
            # The listed cluster (30,000 pods are a few hundred thousand objects) lives as long as the console:
            # out of the collector's sight, a full collection no longer scans it and stalls the UI for a second.
            gc.freeze()
            self._frozen = True
        self.snapshot = snap
        self.shown += 1
        self.set_class(snap.simulated, "-simulated")
        self.set_class(snap.stale, "-stale")
        if snap.cluster and not self.cluster_title:
            self._put("#title", self._title_text())
        self._put("#updated", f"updated {texts.clock_time(snap.taken_at)}" if snap.synced else "listing…")
        access = (snap.access, snap.access_level)
        self._put(
            "#overview",
            texts.overview(snap.layers, snap.capacity, snap.backup, snap.backup_level, access, snap.unshared),
        )
        self._banner()
        self._tab_titles(snap)
        self._sync_table(self.active_pane)
        self._forward(snap)

    def _put(self, selector: str, content: str | Text) -> None:
        """Update a label only when its content changed, and lay the screen out again only when its height did:
        at a few snapshots a second, a relayout per snapshot is most of the UI thread's work."""
        if self._shown_content.get(selector) == content:
            return
        before = self._shown_content.get(selector)
        self._shown_content[selector] = content
        lines = str(content).count("\n")
        self.query_one(selector, Static).update(
            content, layout=before is None or str(before).count("\n") != lines
        )

    def _forward(self, snap: Snapshot) -> None:
        """The drill-down on top of this screen follows the snapshots too."""
        for screen in self.app.screen_stack:
            if isinstance(screen, NodeScreen | AppScreen | PodScreen | CertScreen) and screen.console is self:
                screen.show(snap)

    def _banner(self) -> None:
        snap = self.snapshot
        if snap is not None and snap.stale:
            self._put("#banner", texts.banner(snap, self.clock()))

    def _tick(self) -> None:
        self._banner()

    def _tab_titles(self, snap: Snapshot) -> None:
        counts = {
            "problems": len(snap.problems),
            "nodes": len(snap.nodes),
            "apps": len(snap.apps),
            "pods": len(snap.problem_pods),
            "certs": len(snap.certs),
            "endpoints": len(snap.load_balancers) + len(snap.urls),
            "events": len(snap.events),
        }
        tabs = self.query_one(TabbedContent)
        for pane, title, *_ in TABLES:
            # Counts padded to three digits: a label that keeps its width is repainted, not laid out again.
            label = f"{title} {counts[pane]:<3}"
            before = self._tab_labels.get(pane)
            if before == label:
                continue
            self._tab_labels[pane] = label
            tab = tabs.get_tab(pane)
            if before is not None and len(before) == len(label):  # same width: repaint it, no relayout
                tab._label = Content(label)
                Static.update(tab, tab._label, layout=False)
            else:
                tab.label = label

    @property
    def active_pane(self) -> str:
        return self.query_one(TabbedContent).active or "problems"

    def table(self, pane: str) -> RowTable:
        return self._tables[pane]

    def rows(self, pane: str, snap: Snapshot) -> Iterable[tuple[str, Any]]:
        """The (key, object) rows of a table for a snapshot; objects are what the table's renderer takes."""
        if pane == "problems":
            return problem_rows(snap.problems)
        if pane == "nodes":
            versions = dict(snap.talos.versions)
            per_node = snap.pods.per_node
            return [
                (n.name, (n, per_node.get(n.name, 0), versions.get(n.internal_ip, ""))) for n in snap.nodes
            ]
        if pane == "apps":
            return [(a.key, a) for a in snap.apps]
        if pane == "pods":
            return [(p.key, p) for p in snap.problem_pods]
        if pane == "certs":
            return [(c.key, (c, snap.taken_at)) for c in snap.certs]
        if pane == "endpoints":
            return [
                *((f"lb/{lb.key}", lb) for lb in snap.load_balancers),
                *((f"url/{u.key}", u) for u in snap.urls),
            ]
        return [(e.key, e) for e in snap.events]

    def _renderer(self, pane: str) -> Callable[[Any], tuple[object, ...]]:
        def render(obj: Any) -> tuple[object, ...]:
            if pane == "problems":
                return texts.problem_cells(obj)
            if pane == "nodes":
                return texts.node_cells(*obj)
            if pane == "apps":
                return texts.app_cells(obj)
            if pane == "pods":
                return texts.pod_cells(obj)
            if pane == "certs":
                return texts.cert_cells(*obj)
            if pane == "endpoints":
                return texts.lb_cells(obj) if hasattr(obj, "ips") else texts.url_cells(obj)
            return texts.event_cells(obj)

        return render

    def _sync_table(self, pane: str) -> None:
        snap = self.snapshot
        if snap is None:
            return
        marker = (self.shown, self.filter_text)
        if self._synced.get(pane) == marker:
            return
        self._synced[pane] = marker
        rows = self.rows(pane, snap)
        if self.filter_text:
            needle = self.filter_text.lower()
            render = self._renderer(pane)
            rows = [(key, obj) for key, obj in rows if needle in _plain(render(obj)).lower()]
        self._tables[pane].sync(rows)

    @on(TabbedContent.TabActivated)
    def _tab_changed(self, event: TabbedContent.TabActivated) -> None:
        self._sync_table(self.active_pane)
        self._tables[self.active_pane].focus()

    # ------------------------------------------------------------------ filtering

    def on_key(self, event: Key) -> None:
        """Typing on a table filters it."""
        if (
            isinstance(self.focused, RowTable)
            and event.is_printable
            and event.character not in (None, "/", " ")
        ):
            field = self.query_one("#filter", Input)
            self.set_class(True, "-filtering")
            field.focus()
            field.insert_text_at_cursor(event.character or "")
            event.stop()
            event.prevent_default()

    def action_filter(self) -> None:
        self.set_class(True, "-filtering")
        self.query_one("#filter", Input).focus()

    def action_clear_filter(self) -> None:
        field = self.query_one("#filter", Input)
        field.value = ""
        self.set_class(False, "-filtering")
        self._tables[self.active_pane].focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value.strip()
        self._sync_table(self.active_pane)

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self._tables[self.active_pane].focus()

    # ------------------------------------------------------------------ tabs and drill-down

    def action_next_tab(self, step: int = 1) -> None:
        index = (PANES.index(self.active_pane) + step) % len(PANES)
        self.query_one(TabbedContent).active = PANES[index]

    def action_previous_tab(self) -> None:
        self.action_next_tab(-1)

    def show_pane(self, pane: str) -> None:
        self.query_one(TabbedContent).active = pane

    def action_refresh_talos(self) -> None:
        if self.monitor is not None:
            self.monitor.refresh_talos()
            self.notify("Reading the Talos layer again…", markup=False)

    def action_open(self) -> None:
        table = self._tables[self.active_pane]
        key = table.selected_key()
        if key is not None:
            self.open_row(self.active_pane, key)

    @on(RowTable.RowSelected)
    def _row_selected(self, event: RowTable.RowSelected) -> None:
        pane = (event.data_table.id or "").removeprefix("table-")
        if event.row_key.value is not None:
            self.open_row(pane, event.row_key.value)

    def open_row(self, pane: str, key: str) -> None:
        """Drill into what a row names."""
        snap = self.snapshot
        if snap is None:
            return
        if pane == "problems":
            problem = dict(self.rows("problems", snap)).get(key)
            if problem is None or not problem.target[0]:
                return
            pane, key = (
                {"node": "nodes", "app": "apps", "pod": "pods", "cert": "certs"}[problem.target[0]],
                problem.target[1],
            )
        if pane == "events":
            event = next((e for e in snap.events if e.key == key), None)
            if event is None or event.kind != "Pod":
                return
            pane, key = "pods", f"{event.namespace}/{event.object}"
        reader = getattr(self.monitor, "client", None)
        if pane == "nodes":
            self.app.push_screen(NodeScreen(self, key, reader))
        elif pane == "apps":
            self.app.push_screen(AppScreen(self, key, reader))
        elif pane == "pods":
            self.app.push_screen(PodScreen(self, key, reader))
        elif pane == "certs":
            self.app.push_screen(CertScreen(self, key, reader))

    def palette_commands(self) -> list[tuple[str, str, Callable[[], Any]]]:
        """(title, help, callback) for the command palette while the console is shown."""
        out: list[tuple[str, str, Callable[[], Any]]] = [
            (f"Console: {title}", f"Show the {title.lower()} table", functools.partial(self.show_pane, pane))
            for pane, title, *_ in TABLES
        ]
        out.append(
            (
                "Console: refresh Talos",
                "Read members, etcd, services and versions now",
                self.action_refresh_talos,
            )
        )
        out.append(("Console: filter", "Narrow the table to rows containing a text", self.action_filter))
        return out


def problem_rows(problems: Iterable[Problem]) -> list[tuple[str, Problem]]:
    """Problems keyed by what they are about, not their exact words: a pod whose restart count moves on, or
    "… and 40 more problem pods" becoming 41, updates its row instead of replacing it (a replaced row costs the
    table far more than a changed cell). The same problem twice shows once."""
    out: dict[str, Problem] = {}
    seen: set[tuple[str, str]] = set()
    for problem in problems:
        if (problem.layer, problem.text) in seen:
            continue
        seen.add((problem.layer, problem.text))
        kind, name = problem.target
        base = (
            f"{problem.layer}|{kind}:{name}" if kind else f"{problem.layer}|{DIGITS.sub('#', problem.text)}"
        )
        key, n = base, 1
        while key in out:
            n += 1
            key = f"{base}|{n}"
        out[key] = problem
    return list(out.items())


DIGITS = re.compile(r"\d+")


def _plain(cells: Iterable[object]) -> str:
    return " ".join(cell.plain if isinstance(cell, Text) else str(cell) for cell in cells)
