"""The console's drill-downs: a node, an Application (with sync now), a pod (events and log), a certificate."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar, Protocol

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Label, Log, Static

from skynet_tui.screens.console import texts
from skynet_tui.screens.dialogs import ConfirmDialog
from skynet_tui.status import reads
from skynet_tui.status.client import ApiStatusError, Unreachable
from skynet_tui.status.health import cert_state, duration
from skynet_tui.status.model import AppRow, CertRow, NodeRow, PodProblem, Snapshot
from skynet_tui.status.project import pod_status
from skynet_tui.widgets.rowtable import RowTable


class Console(Protocol):
    """The console screen as its drill-downs see it: the snapshot shown now."""

    snapshot: Snapshot | None


NO_READER = "not connected to the API"


def facts(rows: list[tuple[str, Any]]) -> Text:
    """Label/value lines, labels aligned."""
    out = Text()
    for index, (label, value) in enumerate(rows):
        if index:
            out.append("\n")
        out.append(f"{label:<13}", style="bold")
        out.append(value if isinstance(value, Text) else Text(str(value)))
    return out


class DetailScreen(Screen[None]):
    """Base of the drill-downs: a title bar, facts from the snapshot, sections below; Esc goes back."""

    BINDINGS: ClassVar = [
        Binding("escape", "back", "Back", id="detail.back"),
        Binding("r", "reload", "Reload", id="detail.reload"),
    ]
    DEFAULT_CSS = """
    DetailScreen {
        layout: vertical;
        #topbar { height: 1; background: $panel; padding: 0 1; }
        #title { width: 1fr; text-style: bold; }
        #stale-mark { display: none; color: $error; text-style: bold; }
        &.-stale #stale-mark { display: block; }
        #body { height: 1fr; padding: 0 1; }
        #facts { height: auto; margin: 1 0; }
        .section { text-style: bold; color: $accent; margin-top: 1; }
        RowTable { height: auto; max-height: 14; }
        Log { height: 1fr; min-height: 8; border: round $panel; }
    }
    """

    KIND = ""

    class Loaded(Message):
        """A one-off read finished on a worker thread."""

        def __init__(self, what: str, value: Any, error: str = "") -> None:
            super().__init__()
            self.what, self.value, self.error = what, value, error

    def __init__(self, console: Console, key: str, reader: Any) -> None:
        super().__init__()
        self.console = console
        self.key = key
        self.reader = reader
        self._composed = False

    def compose(self) -> ComposeResult:
        with Horizontal(id="topbar"):
            yield Label(f"{self.KIND} {self.key}", id="title")
            yield Label("STALE: the API is unreachable", id="stale-mark")
        with VerticalScroll(id="body"):
            yield Static("", id="facts")
            yield from self.sections()
        yield Footer()

    def sections(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        self._composed = True
        if self.console.snapshot is not None:
            self.show(self.console.snapshot)
        self.action_reload()

    def show(self, snap: Snapshot) -> None:
        if not self._composed:  # on_mount shows the snapshot of the moment
            return
        self.set_class(snap.stale, "-stale")
        self.query_one("#facts", Static).update(self.facts(snap))

    def facts(self, snap: Snapshot) -> Text:
        return Text("")

    def action_back(self) -> None:
        self.dismiss(None)

    def action_reload(self) -> None:
        """Read what the snapshot does not hold (pods on a node, events, a log)."""

    @work(thread=True, group="console-read", exit_on_error=False, description="Reading from the API")
    def read(self, what: str, fn: Any, *args: Any) -> None:
        if self.reader is None:
            self.post_message(self.Loaded(what, None, NO_READER))
            return
        try:
            value = fn(self.reader, *args)
        except (Unreachable, ApiStatusError, reads.SyncRefused) as exc:
            self.post_message(self.Loaded(what, None, str(exc)))
            return
        self.post_message(self.Loaded(what, value))


# -- a node ---------------------------------------------------------------------------------------------------
class NodeScreen(DetailScreen):
    """One node: its status, roles, versions and taints, its conditions, its Talos services, and the pods on it.
    On a workspace's console: remove it, replace it by a new machine, or add a node (skynet node …)."""

    KIND = "Node"
    BINDINGS: ClassVar = [
        *DetailScreen.BINDINGS,
        Binding("x", "node('remove')", "Remove node", id="node.remove"),
        Binding("R", "node('replace')", "Replace node", id="node.replace"),
        Binding("a", "node('add')", "Add a node", id="node.add"),
    ]

    def workspace(self) -> Path | None:
        """The workspace of the console this drill-down came from (node actions need its cluster.yaml)."""
        found = getattr(self.app, "console_workspaces", {}).get(self.console)
        return Path(found) if found is not None else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "node":
            return self.workspace() is not None
        return True

    def action_node(self, action: str) -> None:
        folder, snap = self.workspace(), self.console.snapshot
        if folder is None or snap is None:
            return
        from skynet_tui.screens.console import node_actions  # the node plans load when an action is asked for

        env = dict(getattr(self.app, "env", None) or os.environ)
        node_actions.start(self, folder, env, snap, action, self.key)

    def sections(self) -> ComposeResult:
        yield Label("Conditions", classes="section")
        yield RowTable(
            (("type", "TYPE"), ("status", "STATUS"), ("reason", "REASON"), ("message", "MESSAGE")),
            lambda c: (c.type, texts.word(c.status) if c.type == "Ready" else c.status, c.reason, c.message),
            id="conditions",
        )
        yield Label("Talos services", classes="section")
        yield RowTable(
            (("service", "SERVICE"), ("running", "RUNNING"), ("health", "HEALTH")),
            lambda s: (
                s.id,
                texts.word("Running" if s.running else "Failed"),
                "unknown" if s.unknown else texts.word("Healthy" if s.healthy else "Degraded"),
            ),
            order=("service",),
            id="services",
        )
        yield Label("Pods on this node", classes="section", id="pods-title")
        yield RowTable(
            (
                ("namespace", "NAMESPACE"),
                ("name", "NAME"),
                ("status", "STATUS"),
                ("ready", "READY"),
                ("restarts", "RESTARTS"),
            ),
            lambda p: (p.namespace, p.name, texts.word(p.status), p.ready, str(p.restarts)),
            id="node-pods",
        )

    def node(self, snap: Snapshot) -> NodeRow | None:
        return next((n for n in snap.nodes if n.name == self.key), None)

    def facts(self, snap: Snapshot) -> Text:
        node = self.node(snap)
        if node is None:
            return Text(f"node {self.key} is not in the cluster any more", style="red")
        talos = dict(snap.talos.versions).get(node.internal_ip, "")
        self.query_one("#conditions", RowTable).sync((c.type, c) for c in node.conditions)
        services = [s for s in snap.talos.services if s.node == node.internal_ip]
        self.query_one("#services", RowTable).sync((s.id, s) for s in services)
        talos_note = talos or ("not read: " + (snap.talos.why or "no answer") if not snap.talos.known else "")
        return facts(
            [
                (
                    "Status",
                    texts.word(node.status)
                    if node.ready == "True"
                    else Text(f"{node.status}: {node.why}", style="red"),
                ),
                ("Roles", ", ".join(node.roles) or "<none>"),
                ("Internal IP", node.internal_ip),
                ("Kubelet", node.kubelet),
                ("OS image", node.os_image),
                ("Talos", talos_note),
                ("Pods", str(snap.pods.per_node.get(node.name, 0))),
                ("Taints", ", ".join(node.taints) or "none"),
                ("Pressure", ", ".join(node.pressure) or "none"),
            ]
        )

    def action_reload(self) -> None:
        self.read("pods", reads.pods_on_node, self.key)

    @on(DetailScreen.Loaded)
    def _loaded(self, message: DetailScreen.Loaded) -> None:
        title = self.query_one("#pods-title", Label)
        if message.error:
            title.update(f"Pods on this node: {message.error}")
            return
        pods = message.value
        title.update(f"Pods on this node ({len(pods)})")
        self.query_one("#node-pods", RowTable).sync((f"{p.namespace}/{p.name}", p) for p in pods)


# -- an Application -------------------------------------------------------------------------------------------
class AppScreen(DetailScreen):
    """One Argo CD Application: sync and health with their messages, the last operation, its conditions and its
    resources with their health; s asks Argo CD to sync it now (after a confirmation)."""

    KIND = "Application"
    BINDINGS: ClassVar = [
        Binding("escape", "back", "Back", id="detail.back"),
        Binding("s", "sync", "Sync now", id="app.sync"),
    ]

    def sections(self) -> ComposeResult:
        yield Label("Resources", classes="section", id="resources-title")
        yield RowTable(
            (
                ("kind", "KIND"),
                ("name", "NAME"),
                ("wave", "WAVE"),
                ("status", "SYNC"),
                ("health", "HEALTH"),
                ("message", "MESSAGE"),
            ),
            texts.resource_cells,
            id="resources",
        )

    def app_row(self, snap: Snapshot) -> AppRow | None:
        return next((a for a in snap.apps if a.key == self.key), None)

    def facts(self, snap: Snapshot) -> Text:
        app = self.app_row(snap)
        if app is None:
            return Text(f"Application {self.key} is gone", style="red")
        self.query_one("#resources", RowTable).sync(
            (f"{r.group}/{r.kind}/{r.namespace}/{r.name}", r) for r in app.resources
        )
        note = ""
        if app.resources and not any(r.health for r in app.resources):
            note = " (resource health is kept in Argo CD's app tree, not in the Application)"
        self.query_one("#resources-title", Label).update(f"Resources ({len(app.resources)}){note}")
        health = texts.word(app.health)
        if app.health_message:
            health.append(f": {app.health_message}")
        sync = texts.word(app.sync)
        if app.revision:
            sync.append(f" at {app.revision[:12]}")
        operation = texts.word(
            app.operation_phase or ("requested" if app.operation_requested else "none yet")
        )
        if app.operation_message:
            operation.append(f": {app.operation_message}")
        finished = ""
        if app.operation_finished is not None:
            finished = f"{app.operation_finished:%Y-%m-%d %H:%M:%S} ({duration(snap.taken_at - app.operation_finished)} ago)"
        rows: list[tuple[str, Any]] = [
            ("Sync", sync),
            ("Health", health),
            ("Last sync", operation),
            ("Finished", finished or "—"),
            ("Retries", str(app.retry_count)),
            ("Wave", str(app.wave)),
            ("Destination", app.destination),
            ("Project", app.project),
        ]
        for cond in app.conditions:
            rows.append(("Condition", Text(f"{cond.type}: {cond.message}", style="yellow")))
        return facts(rows)

    def action_sync(self) -> None:
        snap = self.console.snapshot
        app = self.app_row(snap) if snap is not None else None
        if app is None:
            return
        if app.operation_requested or app.operation_phase in ("Running", "Terminating"):
            self.notify(
                f"another operation is already in progress on {app.name}", severity="warning", markup=False
            )
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.read("sync", reads.sync_now, app.namespace, app.name)

        self.app.push_screen(
            ConfirmDialog(
                f"Sync {app.name} now?",
                "Argo CD applies the Application from Git now, as `argocd app sync` would (its operation field is "
                "set; nothing is sent while another operation runs).",
                confirm="Sync now",
            ),
            answered,
        )

    @on(DetailScreen.Loaded)
    def _loaded(self, message: DetailScreen.Loaded) -> None:
        if message.what != "sync":
            return
        if message.error:
            self.notify(message.error, title="Sync not sent", severity="warning", markup=False)
        else:
            self.notify(str(message.value), title="Argo CD", markup=False)


# -- a pod ----------------------------------------------------------------------------------------------------
class PodScreen(DetailScreen):
    """One pod: kubectl's status and why, its events, and the last 200 lines of its log (the previous run's when
    the container waits to restart)."""

    KIND = "Pod"

    def __init__(self, console: Console, key: str, reader: Any) -> None:
        super().__init__(console, key, reader)
        self.namespace, _, self.pod_name = key.partition("/")
        self.pod: dict[str, Any] | None = None

    def sections(self) -> ComposeResult:
        yield Label("Events", classes="section", id="events-title")
        yield RowTable(
            (
                ("seen", "LAST SEEN"),
                ("type", "TYPE"),
                ("reason", "REASON"),
                ("count", "COUNT"),
                ("message", "MESSAGE"),
            ),
            lambda e: (
                texts.clock_time(e.last_seen),
                texts.word("Normal" if e.type == "Normal" else "Warning"),
                e.reason,
                str(e.count),
                e.message,
            ),
            id="pod-events",
        )
        yield Label(f"Log (last {reads.LOG_LINES} lines)", classes="section", id="log-title")
        yield Log(max_lines=reads.LOG_LINES, id="pod-log")

    def problem(self, snap: Snapshot) -> PodProblem | None:
        return next((p for p in snap.problem_pods if p.key == self.key), None)

    def facts(self, snap: Snapshot) -> Text:
        if self.pod is not None:
            computed = pod_status(self.pod)
            spec = self.pod.get("spec") or {}
            owners: list[dict[str, Any]] = (self.pod.get("metadata") or {}).get("ownerReferences") or []
            owner = owners[0] if owners else {}
            problem = self.problem(snap)
            return facts(
                [
                    ("Status", texts.word(computed.status)),
                    ("Ready", f"{computed.ready}/{computed.total}"),
                    ("Restarts", str(computed.restarts)),
                    ("Node", spec.get("nodeName") or "<none>"),
                    ("Owner", f"{owner.get('kind', '')}/{owner.get('name', '')}" if owner else "none"),
                    (
                        "Container",
                        computed.container
                        or ", ".join(c.get("name", "") for c in spec.get("containers") or []),
                    ),
                    ("Why", computed.message or (problem.message if problem is not None else "")),
                ]
            )
        problem = self.problem(snap)
        if problem is None:
            return Text("reading the pod…", style="dim")
        return facts(
            [
                ("Status", texts.word(problem.status)),
                ("Ready", problem.ready),
                ("Restarts", str(problem.restarts)),
                ("Node", problem.node or "<none>"),
                ("Owner", problem.owner or "none"),
                ("Container", problem.container),
                ("Why", problem.message),
            ]
        )

    def action_reload(self) -> None:
        self.read("pod", _read_pod, self.namespace, self.pod_name)
        self.read("events", reads.events_for, self.namespace, "Pod", self.pod_name)

    @on(DetailScreen.Loaded)
    def _loaded(self, message: DetailScreen.Loaded) -> None:
        if message.what == "pod":
            if message.error:
                self.query_one("#facts", Static).update(Text(message.error, style="red"))
                self._log_lines([], message.error)
                return
            self.pod = message.value
            if self.console.snapshot is not None:
                self.show(self.console.snapshot)
            snap = self.console.snapshot
            problem = self.problem(snap) if snap is not None else None
            container = problem.container if problem is not None else ""
            self.read(
                "log",
                reads.pod_logs,
                self.namespace,
                self.pod_name,
                container or pod_status(self.pod).container,
            )
        elif message.what == "events":
            title = self.query_one("#events-title", Label)
            if message.error:
                title.update(f"Events: {message.error}")
                return
            title.update(f"Events ({len(message.value)})")
            self.query_one("#pod-events", RowTable).sync((f"{i}", e) for i, e in enumerate(message.value))
        elif message.what == "log":
            lines, note = message.value if not message.error else ([], message.error)
            self._log_lines(lines, note)

    def _log_lines(self, lines: list[str], note: str) -> None:
        log = self.query_one("#pod-log", Log)
        log.clear()
        log.write_lines(lines)
        title = f"Log (last {reads.LOG_LINES} lines)"
        self.query_one("#log-title", Label).update(f"{title}: {note}" if note else title)


def _read_pod(reader: Any, namespace: str, name: str) -> dict[str, Any]:
    pod: dict[str, Any] = reader.get_json(f"/api/v1/namespaces/{namespace}/pods/{name}")
    return pod


# -- a certificate --------------------------------------------------------------------------------------------
class CertScreen(DetailScreen):
    """One cert-manager Certificate: Ready and Issuing with their messages, validity, renewal, failures, events."""

    KIND = "Certificate"

    def sections(self) -> ComposeResult:
        yield Label("Events", classes="section", id="events-title")
        yield RowTable(
            (("seen", "LAST SEEN"), ("type", "TYPE"), ("reason", "REASON"), ("message", "MESSAGE")),
            lambda e: (texts.clock_time(e.last_seen), e.type, e.reason, e.message),
            id="cert-events",
        )

    def cert(self, snap: Snapshot) -> CertRow | None:
        return next((c for c in snap.certs if c.key == self.key), None)

    def facts(self, snap: Snapshot) -> Text:
        cert = self.cert(snap)
        if cert is None:
            return Text(f"Certificate {self.key} is gone", style="red")
        level, why = cert_state(cert, snap.taken_at)
        return facts(
            [
                ("State", Text(why, style=texts.STYLE[level])),
                ("Ready", f"{cert.ready or '—'} {cert.ready_reason}: {cert.ready_message}".strip(": ")),
                ("Issuing", f"{cert.issuing or '—'} {cert.issuing_message}".strip()),
                ("Not after", f"{cert.not_after:%Y-%m-%d %H:%M}" if cert.not_after else "—"),
                ("Renewal", f"{cert.renewal_time:%Y-%m-%d %H:%M}" if cert.renewal_time else "—"),
                (
                    "Last failure",
                    f"{cert.last_failure:%Y-%m-%d %H:%M} ({cert.failed_attempts} attempts)"
                    if cert.last_failure
                    else "none",
                ),
                ("DNS names", ", ".join(cert.dns_names)),
                ("Secret", cert.secret),
                ("Issuer", cert.issuer),
            ]
        )

    def action_reload(self) -> None:
        namespace, _, name = self.key.partition("/")
        self.read("events", reads.events_for, namespace, "Certificate", name)

    @on(DetailScreen.Loaded)
    def _loaded(self, message: DetailScreen.Loaded) -> None:
        title = self.query_one("#events-title", Label)
        if message.error:
            title.update(f"Events: {message.error}")
            return
        title.update(f"Events ({len(message.value)})")
        self.query_one("#cert-events", RowTable).sync((f"{i}", e) for i, e in enumerate(message.value))
