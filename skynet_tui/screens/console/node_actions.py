"""The node drill-down's lifecycle actions (remove, replace, add a node): judged on the console's snapshot, the
new machine found by discovery off the UI thread, confirmed, then run with the install screen's widgets."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Input, Static

from skynet_tui import spec
from skynet_tui.events import Event
from skynet_tui.nodes import answers, quorum
from skynet_tui.plan import Plan
from skynet_tui.plan import node as node_plans
from skynet_tui.plan.node_steps import leaving_refusal
from skynet_tui.progress import Phase
from skynet_tui.runner import Runner
from skynet_tui.screens.bootstrap import BootstrapScreen
from skynet_tui.screens.bootstrap.inbox import RunnerLike
from skynet_tui.screens.dialogs import ConfirmDialog
from skynet_tui.status.model import Snapshot
from skynet_tui.workspace import Workspace

STEPS = {
    "remove": "cordon, drain through the eviction API (PodDisruptionBudgets respected), leave etcd (a control "
    "plane), reset --graceful (wiped, powered off), delete its Node, and cluster.yaml without it (committed)",
    "replace": "remove it as above, then install the new machine with the same hostname, IP and role and wait "
    "for it Ready (a control plane: in etcd's member list)",
    "add": "add it to cluster.yaml (committed), apply its config, wait for it Ready (a control plane: in etcd's "
    "member list)",
}


class NodeRunScreen(BootstrapScreen):
    """A node being added, removed or replaced: its steps, the selected step's log, progress and the outcome
    (the install screen's widgets); a stopped run resumes when the same action is asked for again."""

    summary_titles: ClassVar[dict[Phase, str]] = {
        Phase.SUCCEEDED: "✔ Done",
        Phase.FAILED: "✖ Stopped: run it again to resume",
        Phase.CANCELLED: "■ Stopped: run it again to resume",
    }
    done_notice: ClassVar[str] = "Node action complete"

    def __init__(
        self, cluster: Any, ws: Workspace, plan: Plan, *, title: str, env: dict[str, str], simulated: bool
    ) -> None:
        self.run_title = title

        def runner(on_event: Callable[[Event], None]) -> RunnerLike:
            return Runner(plan, ws, on_event, env=env)

        super().__init__(cluster, ws, env=env, simulated=simulated, runner_factory=runner)

    def title_text(self) -> str:
        return f"Skynet · {self.run_title} · {self.cluster.name}"


class AddressDialog(ModalScreen[str | None]):
    """The static IP a new node keeps after its install (discovery finds the machine itself)."""

    BINDINGS: ClassVar = [Binding("escape", "cancel", "Cancel", id="address.cancel")]
    DEFAULT_CSS = """
    AddressDialog { align: center middle; }
    AddressDialog > Vertical { width: 72; height: auto; border: round $primary; background: $surface; padding: 1 2; }
    AddressDialog .dialog-buttons { height: 1; margin-top: 1; align-horizontal: right; }
    AddressDialog .dialog-buttons Button { margin-left: 2; }
    """

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Add a node: its static IP (it keeps it after its install)", markup=False)
            yield Input(placeholder="192.168.10.24", id="address-ip")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Find the machine", id="address-go", variant="primary", compact=True)
                yield Button("Cancel", id="address-cancel", compact=True)

    @on(Input.Submitted)
    @on(Button.Pressed, "#address-go")
    def _go(self) -> None:
        value = self.query_one("#address-ip", Input).value.strip()
        if value:
            self.dismiss(value)

    @on(Button.Pressed, "#address-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


def start(
    screen: Screen[Any], folder: Path, env: dict[str, str], snap: Snapshot, action: str, name: str
) -> None:
    """Refuse (with the reason), or find the new machine and ask before anything changes."""
    try:
        cluster = spec.load(folder / "cluster.yaml")
    except spec.SpecError as exc:
        screen.notify(f"{folder / 'cluster.yaml'} is invalid: {exc}", severity="error", markup=False)
        return
    if action in ("remove", "replace"):
        refusal = leaving_refusal(cluster, name, snap)
        if refusal:
            screen.notify(f"{action} {name} refused: {refusal}", severity="error", markup=False, timeout=20)
            return
    if action == "remove":
        _confirm(screen, folder, env, snap, cluster, action, name, {})
        return
    if action == "replace":
        node = quorum.find(cluster, name)
        assert node is not None
        _find(screen, folder, env, snap, cluster, action, name, node.ip)
        return

    def typed(ip: str | None) -> None:
        if ip:
            _find(screen, folder, env, snap, cluster, action, "", ip)

    screen.app.push_screen(AddressDialog(), typed)


def _find(
    screen: Screen[Any], folder: Path, env: dict[str, str], snap: Snapshot, cluster: spec.Cluster, action: str,
    name: str, ip: str,
) -> None:  # fmt: skip
    """Discovery on a worker thread (a /24 scan and a few talosctl reads), then the confirmation."""
    node = quorum.find(cluster, name) if name else None
    base = answers.without(cluster, name) if node is not None else cluster

    def find() -> None:
        try:
            machine = answers.choose(answers.maintenance_machines(base, env), base)
            entry = answers.draft(base, machine, ip=ip, hostname=name, role=node.role if node else "")
            answers.with_node(base, entry)
        except (answers.NoMachine, ValueError) as exc:
            screen.app.call_from_thread(screen.notify, str(exc), severity="error", markup=False, timeout=20)
            return
        screen.app.call_from_thread(_confirm, screen, folder, env, snap, cluster, action, name, entry)

    screen.notify("Looking for a machine in maintenance mode…", markup=False)
    screen.run_worker(find, thread=True, group="node-discovery", exit_on_error=False, description="Discovery")


def _confirm(
    screen: Screen[Any], folder: Path, env: dict[str, str], snap: Snapshot, cluster: spec.Cluster, action: str,
    name: str, entry: dict[str, Any],
) -> None:  # fmt: skip
    host = name or str(entry.get("hostname"))
    text = f"Skynet will {STEPS[action]}."
    if entry:
        disk = entry.get("installDisk")
        where = entry.get("maintenanceAddress") or entry["ip"]
        text += (
            f"\n\nThe new machine answers at {where}: {entry['role']} {entry['hostname']} at {entry['ip']}, install "
            f"disk {disk}, link {entry.get('interface') or entry.get('mac')}, certificate fingerprint "
            f"{entry.get('certFingerprint') or 'not read'} (compare it with its console)."
        )
    ws = Workspace.at(folder)
    simulated = snap.simulated

    def make() -> Plan:
        if action == "add":
            return node_plans.add_plan(cluster, entry, ws, env=env, simulated=simulated)
        node = quorum.find(cluster, name)
        assert node is not None
        if action == "remove":
            return node_plans.remove_plan(cluster, node, ws, env=env, simulated=simulated)
        return node_plans.replace_plan(cluster, node, entry, ws, env=env, simulated=simulated)

    def answered(yes: bool | None) -> None:
        if yes:
            title = f"{action} {host}"
            screen.app.push_screen(
                NodeRunScreen(cluster, ws, make(), title=title, env=env, simulated=simulated)
            )

    screen.app.push_screen(ConfirmDialog(f"{action.capitalize()} {host} in {cluster.name}?", text,
                                         confirm=action.capitalize()), answered)  # fmt: skip
