"""Discovery: scan a range for machines in Talos maintenance mode, read their disks and links, add them."""

from __future__ import annotations

import ipaddress
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.coordinate import Coordinate
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Input, Label, ProgressBar, Static

from skynet_tui import discovery
from skynet_tui.discovery import Hardware
from skynet_tui.screens.wizard.fields import TitleBar
from skynet_tui.screens.wizard.node_dialog import NodeDialog
from skynet_tui.wizard import state
from skynet_tui.wizard.flow import Wizard
from skynet_tui.wizard.machines import DISK_COLUMNS, disk_cells, draft_node

HARDWARE_READERS = 4  # talosctl processes at once while reading disks and links


class DiscoveryScreen(Screen[None]):
    """Shows a range to scan (at most a /22) for port 50000, the sweep's progress, every machine that
    answered with a summary of its disks and links and its certificate fingerprint, and the disk table of the
    highlighted machine with the reasons to avoid a disk. Enter adds the highlighted machine as a node
    (through the node dialog)."""

    BINDINGS: ClassVar = [
        Binding("escape", "close", "Close", id="discovery.close"),
        Binding("ctrl+g", "scan", "Scan", id="discovery.scan"),
        Binding("a", "add", "Add node", id="discovery.add"),
    ]

    DEFAULT_CSS = """
    DiscoveryScreen #scan-row { height: 1; margin: 1 1 0 1; }
    DiscoveryScreen #scan-row Label { width: 8; text-style: bold; }
    DiscoveryScreen #scan-cidr { width: 24; }
    DiscoveryScreen #scan-row Button { margin-left: 2; }
    DiscoveryScreen #scan-progress { margin: 0 1; height: 1; display: none; }
    DiscoveryScreen #scan-progress.-running { display: block; }
    DiscoveryScreen #scan-status { margin: 0 1; height: auto; }
    DiscoveryScreen #found { height: 1fr; min-height: 4; margin: 0 1; }
    DiscoveryScreen #disks-heading { margin: 0 1; color: $text-muted; height: 1; }
    DiscoveryScreen #disks { height: auto; max-height: 8; margin: 0 1 1 1; }
    """

    @dataclass
    class Progress(Message):
        done: int
        total: int

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, DiscoveryScreen.Progress)

    @dataclass
    class Found(Message):
        ips: list[str]

    @dataclass
    class HardwareRead(Message):
        hardware: Hardware

    @dataclass
    class Finished(Message):
        error: str | None = None

    def __init__(self, wizard: Wizard):
        super().__init__()
        self.wizard = wizard
        self.found: list[str] = []
        self._stop = threading.Event()
        self._added: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        lab = "SIMULATED LAB · " if self.wizard.simulated else ""
        yield TitleBar(f"{lab}Scan for machines in Talos maintenance mode (TCP port 50000)")
        with Horizontal(id="scan-row"):
            yield Label("Range")
            yield Input(
                self._default_range(), placeholder="e.g. 192.168.10.0/24", id="scan-cidr", compact=True
            )
            yield Button("Scan", id="scan-start", variant="primary", compact=True)
        yield ProgressBar(id="scan-progress", show_eta=False)
        yield Static(
            "At most a /22 per scan. Disks and links are read with talosctl --insecure.",
            id="scan-status",
            markup=False,
        )
        yield DataTable(id="found", cursor_type="row", zebra_stripes=True)
        yield Static("", id="disks-heading", markup=False)
        yield DataTable(id="disks", cursor_type="none")
        yield Footer()

    def _default_range(self) -> str:
        subnet = state.get_value(self.wizard.answers.data, "spec.network.subnet")
        try:
            network = ipaddress.IPv4Network(str(subnet), strict=True)
        except ValueError:
            return ""
        return str(network) if network.prefixlen >= discovery.MAX_PREFIX else ""

    def on_mount(self) -> None:
        self.query_one("#found", DataTable).add_columns("IP", "Disks", "Links", "Certificate", "Status")
        self.query_one("#disks", DataTable).add_columns(*DISK_COLUMNS)
        self.query_one("#scan-cidr", Input).focus()
        for ip in self.wizard.hardware:
            self._add_found(ip)
        # The demo shows the scan at work: the lab's range is filled in, so it starts at once.
        if self.wizard.simulated and not self.wizard.hardware and self._default_range():
            self.action_scan()

    def on_unmount(self) -> None:
        self._stop.set()

    # ------------------------------------------------------------ scanning (thread worker, messages only)

    def action_scan(self) -> None:
        cidr = self.query_one("#scan-cidr", Input).value.strip()
        try:
            targets = discovery.scan_targets(cidr)
        except discovery.DiscoveryError as exc:
            self._status(f"✗ {exc}")
            return
        self._stop.set()
        self._stop = threading.Event()
        # A new scan lists what answers now: the machines of the scan before are not counted again.
        self.found = []
        self.query_one("#found", DataTable).clear()
        self._show_disks()
        bar = self.query_one("#scan-progress", ProgressBar)
        bar.update(total=len(targets), progress=0)
        bar.add_class("-running")
        self._status(f"Scanning {len(targets)} addresses in {cidr} …")
        self.scan(cidr, self._stop)

    def _post_progress(self, done: int, total: int) -> None:
        """The sweep's progress callback, called from the scan thread."""
        self.post_message(self.Progress(done, total))

    @work(
        thread=True, exclusive=True, group="discovery", exit_on_error=False, description="Scanning for nodes"
    )
    def scan(self, cidr: str, stop: threading.Event) -> None:
        try:
            found = discovery.scan(cidr, on_progress=self._post_progress, stop=stop)
        except (discovery.DiscoveryError, OSError) as exc:
            self.post_message(self.Finished(str(exc)))
            return
        self.post_message(self.Found(found))
        env = self.wizard.env
        with ThreadPoolExecutor(HARDWARE_READERS, thread_name_prefix="talos-read") as pool:
            for hardware in pool.map(lambda ip: discovery.read_hardware(ip, env), found):
                if stop.is_set():
                    break
                self.post_message(self.HardwareRead(hardware))
        self.post_message(self.Finished())

    @on(Progress)
    def _progress(self, message: Progress) -> None:
        self.query_one("#scan-progress", ProgressBar).update(total=message.total, progress=message.done)

    @on(Found)
    def _found(self, message: Found) -> None:
        for ip in message.ips:
            self._add_found(ip)
        count = len(message.ips)
        self._status(
            f"{count} machine(s) answered; reading their disks and links …"
            if count
            else "No machine answered on port 50000. Are they booted from the Talos ISO, in this range?"
        )

    @on(HardwareRead)
    def _hardware(self, message: HardwareRead) -> None:
        self.wizard.hardware[message.hardware.ip] = message.hardware
        self._add_found(message.hardware.ip)
        self._show_disks()

    @on(Finished)
    def _finished(self, message: Finished) -> None:
        self.query_one("#scan-progress", ProgressBar).remove_class("-running")
        if message.error:
            self._status(f"✗ {message.error}")
        elif self.found:
            self._status(
                f"{len(self.found)} machine(s) found. Enter (or a) adds the highlighted one as a node."
            )
            self.query_one("#found", DataTable).focus()

    def _status(self, text: str) -> None:
        self.query_one("#scan-status", Static).update(text)

    # ------------------------------------------------------------ the tables

    def _add_found(self, ip: str) -> None:
        table = self.query_one("#found", DataTable)
        hardware = self.wizard.hardware.get(ip)
        disks = ", ".join(f"{d.id} {d.size_text}" for d in hardware.disks) if hardware else "reading…"
        links = (
            ", ".join(f"{link.name} {link.oper_state}" for link in hardware.links if link.physical)
            if hardware
            else ""
        )
        status = self._added.get(ip) or self._node_name(ip)
        if hardware and hardware.warnings and not status:
            status = "! " + hardware.warnings[0]
        fingerprint = (hardware.fingerprint[:10] + "…") if hardware and hardware.fingerprint else "-"
        cells = (ip, disks or "-", links or "-", fingerprint if hardware else "", status or "")
        if ip in self.found:
            row = self.found.index(ip)
            for column, value in enumerate(cells):
                table.update_cell_at(Coordinate(row, column), value, update_width=True)
        else:
            self.found.append(ip)
            table.add_row(*cells, key=ip)

    def _node_name(self, ip: str) -> str:
        for node in state.get_value(self.wizard.answers.data, "spec.nodes") or []:
            if ip in (node.get("ip"), node.get("maintenanceAddress")):
                return f"node {node.get('hostname')}"
        return ""

    @on(DataTable.RowHighlighted, "#found")
    def _highlighted(self) -> None:
        self._show_disks()

    def _current_ip(self) -> str | None:
        table = self.query_one("#found", DataTable)
        if not self.found or not 0 <= table.cursor_row < len(self.found):
            return None
        return self.found[table.cursor_row]

    def _show_disks(self) -> None:
        ip = self._current_ip()
        table = self.query_one("#disks", DataTable)
        table.clear()
        heading = self.query_one("#disks-heading", Static)
        hardware = self.wizard.hardware.get(ip) if ip else None
        if hardware is None:
            heading.update("")
            return
        heading.update(f"Disks of {ip}:")
        for disk in hardware.disks:
            table.add_row(*disk_cells(disk))

    # ------------------------------------------------------------ adding a node

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "add":
            focused = self.focused
            return True if focused is not None and focused.id == "found" and self._current_ip() else None
        return True

    def action_add(self) -> None:
        ip = self._current_ip()
        if ip is None:
            return
        data = self.wizard.answers.data
        nodes = state.get_value(data, "spec.nodes") or []
        existing = next(
            (i for i, n in enumerate(nodes) if ip in (n.get("ip"), n.get("maintenanceAddress"))), None
        )
        hardware = self.wizard.hardware.get(ip)
        node = draft_node(data, ip, hardware) if existing is None else dict(nodes[existing])

        def done(result: dict[str, Any] | None) -> None:
            if result is None:
                return
            current = state.get_value(data, "spec.nodes")
            if not isinstance(current, list):
                current = []
                state.set_value(data, "spec.nodes", current)
            if existing is None:
                current.append(result)
            else:
                current[existing] = result
            self._fill_subnet()
            self._added[ip] = f"added as {result.get('hostname')}"
            self._add_found(ip)

        self.app.push_screen(NodeDialog(self.wizard, existing, node), done)

    def _fill_subnet(self) -> None:
        """A first node found in a scanned range makes that range the node subnet, if none was typed."""
        data = self.wizard.answers.data
        if state.get_value(data, "spec.network.subnet"):
            return
        cidr = self.query_one("#scan-cidr", Input).value.strip()
        try:
            network = ipaddress.IPv4Network(cidr, strict=True)
        except ValueError:
            return
        state.set_value(data, "spec.network.subnet", str(network))
        self.notify(f"Node subnet set to {network} (change it on the network step)", markup=False)

    def action_close(self) -> None:
        self.app.pop_screen()

    @on(Button.Pressed, "#scan-start")
    def _scan_pressed(self) -> None:
        self.action_scan()

    @on(Input.Submitted, "#scan-cidr")
    def _cidr_submitted(self) -> None:
        self.action_scan()

    @on(DataTable.RowSelected, "#found")
    def _row_selected(self) -> None:
        self.action_add()
