"""The node dialog: one machine's hostname, IP, role, link and install disk, with a safe disk picker."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Footer, Input, Label, Select, Static

from skynet_tui import spec
from skynet_tui.discovery import Disk, Hardware, disk_blocked, flag_disk
from skynet_tui.screens.dialogs import WipeDialog
from skynet_tui.screens.wizard.fields import FieldRow
from skynet_tui.wizard import checks, state
from skynet_tui.wizard.catalog import NODE_FIELDS, NODE_ROW_FOR, FieldSpec
from skynet_tui.wizard.flow import Wizard
from skynet_tui.wizard.machines import DISK_COLUMNS, address_note, disk_cells

_BY_KEY = {f.path.removeprefix("node."): f for f in NODE_FIELDS}
PINS = (("serial", "serial"), ("WWID", "wwid"), ("device path", "path"))


class NodeDialog(ModalScreen[dict[str, Any] | None]):
    """Edits one node: hostname (a free cp-N / worker-N is suggested), IP, role, link and install disk.
    When the node was discovered, its disks are listed with the reasons to avoid some (boot medium, data
    on it, too small); choosing a flagged disk asks for the hostname to be typed to confirm the wipe. Its
    certificate fingerprint is shown, to compare with the node's console; when the IP typed differs from the
    scanned address, one line says the machine is reached there until its install (maintenanceAddress)."""

    BINDINGS: ClassVar = [
        Binding("escape", "cancel", "Cancel", id="node.cancel"),
        Binding("ctrl+s", "save", "Save node", id="node.save"),
    ]

    DEFAULT_CSS = """
    NodeDialog { align: center middle; }
    NodeDialog #node-dialog { width: 96%; max-width: 100; height: 96%; max-height: 30;
        border: round $primary; background: $surface; padding: 0 1; }
    NodeDialog #node-title { text-style: bold; margin-bottom: 1; }
    NodeDialog #node-body { height: 1fr; }
    NodeDialog #node-general { color: $text-error; height: auto; }
    NodeDialog #node-identity { color: $text-muted; height: auto; }
    NodeDialog #disk-heading { margin-top: 1; color: $text-muted; }
    NodeDialog #disk-table { height: auto; max-height: 8; }
    NodeDialog #pin-row { height: 1; margin-top: 1; }
    NodeDialog #pin-row Label { width: 18; text-style: bold; }
    NodeDialog #pin { width: 24; }
    NodeDialog #node-buttons { height: 1; align-horizontal: right; margin-top: 1; }
    NodeDialog #node-buttons Button { margin-left: 2; }
    """

    def __init__(self, wizard: Wizard, index: int | None, node: dict[str, Any], *, focus: str | None = None):
        super().__init__()
        self.wizard = wizard
        self.index = index
        self.node = dict(node)
        self.focus_target = focus
        self.errors: dict[str, list[str]] = {}
        self._suggested_hostname = node.get("hostname") if index is None else None
        self._shown_for: Hardware | None = None
        self._general = ""
        self._had_errors: bool | None = None
        self._pin = "serial"
        # The address discovery scanned the machine at: the IP typed may differ (its static address).
        where = str(node.get("maintenanceAddress") or node.get("ip") or "")
        self.scanned: str | None = where if where in wizard.hardware else None

    @property
    def hardware(self) -> Hardware | None:
        return self.wizard.hardware.get(str(self.node.get("maintenanceAddress") or self.node.get("ip", "")))

    def compose(self) -> ComposeResult:
        title = "New node" if self.index is None else f"Node {self.index + 1}"
        if self.wizard.simulated:
            title = f"SIMULATED LAB · {title}"
        with Vertical(id="node-dialog"):
            yield Static(title, id="node-title", markup=False)
            with VerticalScroll(id="node-body"):
                for spec_field in NODE_FIELDS:
                    yield FieldRow(spec_field, self._text(spec_field))
                yield Static("", id="node-general", markup=False)
                yield Static("", id="node-identity", markup=False)
                yield Static("", id="disk-heading", markup=False)
                yield DataTable(id="disk-table", cursor_type="row")
                with Horizontal(id="pin-row"):
                    yield Label("Pin disk by")
                    yield Select(PINS, value="serial", allow_blank=False, id="pin", compact=True)
            with Horizontal(id="node-buttons"):
                yield Button("Save", id="node-save", variant="primary", compact=True)
                yield Button("Cancel", id="node-cancel", compact=True)
            yield Footer()

    def _text(self, spec_field: FieldSpec) -> str:
        key = spec_field.path.removeprefix("node.")
        if key == "link":
            return state.link_text(self.node)
        if key == "installDisk":
            return state.disk_text(self.node.get("installDisk"))
        return str(self.node.get(key) or "")

    def on_mount(self) -> None:
        table = self.query_one("#disk-table", DataTable)
        table.add_columns(*DISK_COLUMNS)
        self._show_hardware()
        self.revalidate()
        target = _BY_KEY.get(NODE_ROW_FOR.get(self.focus_target or "", "hostname"), NODE_FIELDS[0])
        self.call_after_refresh(self.query_one(f"#{target.widget_id}").focus)

    # ------------------------------------------------------------ hardware

    def _show_hardware(self) -> None:
        hardware = self.hardware
        self._shown_for = hardware
        table = self.query_one("#disk-table", DataTable)
        table.clear()
        shown = hardware is not None and bool(hardware.disks)
        for widget_id in ("#disk-table", "#pin-row"):
            self.query_one(widget_id).display = shown
        heading = self.query_one("#disk-heading", Static)
        if hardware is None:
            heading.update(
                "Disks unknown: scan the network (s on the nodes step) to list this machine's disks."
            )
            return
        lines = [f"Disks of {hardware.ip} (Enter picks one):"]
        lines += [f"! {warning}" for warning in hardware.warnings]
        heading.update("\n".join(lines))
        for disk in hardware.disks:
            table.add_row(*disk_cells(disk), key=disk.id)

    def _disk_for(self, text: str) -> Disk | None:
        hardware = self.hardware
        if hardware is None or not text:
            return None
        return next((disk for disk in hardware.disks if disk.matches(text)), None)

    @on(DataTable.RowSelected, "#disk-table")
    def _disk_picked(self, event: DataTable.RowSelected) -> None:
        hardware = self.hardware
        if hardware is None:
            return
        disk = hardware.disks[event.cursor_row]
        blocked = disk_blocked(disk)
        if blocked:
            self.notify(blocked, severity="error", markup=False)
            return
        pin = self.query_one("#pin", Select).value
        self.query_one(f"#{_BY_KEY['installDisk'].widget_id}", Input).value = disk.selector(str(pin))

    @on(Select.Changed, "#pin")
    def _pin_changed(self, event: Select.Changed) -> None:
        """Re-pin the chosen disk (path, serial or WWID) when it is one of this machine's."""
        if event.value == self._pin:
            return  # Select reports its first value when it mounts
        self._pin = str(event.value)
        disk_input = self.query_one(f"#{_BY_KEY['installDisk'].widget_id}", Input)
        disk = self._disk_for(disk_input.value.strip())
        if disk is not None:
            disk_input.value = disk.selector(str(event.value))

    # ------------------------------------------------------------ editing and checks

    @on(FieldRow.Changed)
    def _changed(self, event: FieldRow.Changed) -> None:
        key = event.path.removeprefix("node.")
        value = str(event.value).strip()
        if key == "link":
            state.set_link_text(self.node, value)
        elif key == "installDisk":
            disk = state.parse_disk_text(value)
            if disk is None:
                self.node.pop("installDisk", None)
            else:
                self.node["installDisk"] = disk
        elif value:
            self.node[key] = value
        else:
            self.node.pop(key, None)
        if (
            key == "role"
            and value
            and self.index is None
            and self.node.get("hostname") == self._suggested_hostname
        ):
            self._suggested_hostname = state.suggest_hostname(self.wizard.answers.data, value)
            self.query_one(f"#{_BY_KEY['hostname'].widget_id}", Input).value = self._suggested_hostname
        if key == "ip" and self.scanned is not None:
            if value and value != self.scanned:
                self.node["maintenanceAddress"] = self.scanned
            else:
                self.node.pop("maintenanceAddress", None)
        if key == "ip" and self._shown_for != self.hardware:
            self._show_hardware()
        self.revalidate()

    def revalidate(self) -> None:
        data = self.wizard.answers.data
        index = self.index if self.index is not None else len(state.get_value(data, "spec.nodes") or [])
        errors = checks.check_node(data, index, self.node)
        notes = checks.node_cross_issues(data, index, self.node)
        self.errors = errors
        general = list(errors.get("node", []))
        for row in self.query(FieldRow):
            key = row.spec_field.path.removeprefix("node.")
            keys = [k for k, r in NODE_ROW_FOR.items() if r == key]
            row.show(
                [m for k in keys for m in errors.get(k, [])],
                [m for k in keys for m in notes.get(k, [])],
            )
        general += [f"! {m} (fix before writing)" for m in notes.get("node", [])]
        self._show_identity()
        text = "\n".join(general)
        if text != self._general:
            self._general = text
            self.query_one("#node-general", Static).update(text)
        self.query_one("#node-save", Button).disabled = bool(errors)
        if self._had_errors != bool(errors):
            self._had_errors = bool(errors)
            self.refresh_bindings()

    def _show_identity(self) -> None:
        """Where the machine answers until its install, and its certificate fingerprint to compare."""
        lines = [address_note(self.node)] if address_note(self.node) else []
        fingerprint = self.node.get("certFingerprint")
        if fingerprint:
            lines.append(f"Certificate {fingerprint}, pinned: check it on the console")
        identity = self.query_one("#node-identity", Static)
        identity.update("\n".join(lines))
        identity.display = bool(lines)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "save":
            return None if self.errors else True
        return True

    # ------------------------------------------------------------ closing

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_save(self) -> None:
        if self.errors:
            return
        disk_text = state.disk_text(self.node.get("installDisk"))
        disk = self._disk_for(disk_text)
        if disk is not None:
            blocked = disk_blocked(disk)
            if blocked:
                self.notify(blocked, severity="error", markup=False)
                return
            reasons = flag_disk(disk)
            confirmed = (str(self.node.get("ip")), disk.id) in self.wizard.answers.wipe_confirmed
            if reasons and not confirmed:
                self._confirm_wipe(disk, reasons)
                return
        self.dismiss(self._final())

    def _confirm_wipe(self, disk: Disk, reasons: list[str]) -> None:
        hostname = str(self.node.get("hostname", ""))

        def done(confirmed: bool | None) -> None:
            if confirmed:
                self.wizard.answers.wipe_confirmed.add((str(self.node.get("ip")), disk.id))
                self.dismiss(self._final())

        self.app.push_screen(
            WipeDialog(hostname, f"{disk.dev_path} ({disk.size_text} {disk.model})", reasons), done
        )

    def _final(self) -> dict[str, Any]:
        """The node in the answers' key order."""
        order = [info.alias or name for name, info in spec.Node.model_fields.items()]
        return {key: self.node[key] for key in order if key in self.node}

    @on(Button.Pressed, "#node-save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#node-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.focus_next()
