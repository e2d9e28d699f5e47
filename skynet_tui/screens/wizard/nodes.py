"""Step 2, the nodes: an editable table (add, edit, delete) and the way into discovery."""

from __future__ import annotations

import copy
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Static

from skynet_tui.screens.dialogs import ConfirmDialog
from skynet_tui.screens.wizard.base import StepScreen
from skynet_tui.screens.wizard.discover import DiscoveryScreen
from skynet_tui.screens.wizard.node_dialog import NodeDialog
from skynet_tui.wizard import checks, state
from skynet_tui.wizard.checks import StepCheck
from skynet_tui.wizard.machines import short_fingerprint


class NodesStep(StepScreen):
    """Shows the machines of the cluster as a table (hostname, IP and the maintenance address it answers at
    now when that differs, role, install disk, link, pinned certificate fingerprint) with the problems of each
    row under it. Nodes are added by hand or from a scan of the network for machines in
    Talos maintenance mode, which also reads their disks and links."""

    STEP = "nodes"
    HEADING = "The machines, booted into Talos maintenance mode. Scan the network or add them by hand."

    BINDINGS: ClassVar = [
        *StepScreen.BINDINGS,
        Binding("a", "add", "Add", id="nodes.add"),
        Binding("e", "edit", "Edit", id="nodes.edit"),
        Binding("d,delete", "delete", "Del", id="nodes.delete"),
        Binding("s", "scan", "Scan", id="nodes.scan"),
    ]

    DEFAULT_CSS = """
    NodesStep #nodes-table { height: auto; max-height: 12; margin-bottom: 1; }
    NodesStep #nodes-buttons { height: 1; margin-bottom: 1; }
    NodesStep #nodes-buttons Button { margin-right: 2; }
    NodesStep #nodes-problems { color: $text-error; height: auto; }
    NodesStep #nodes-notes { color: $text-warning; height: auto; }
    """

    def compose_body(self) -> ComposeResult:
        table: DataTable[str] = DataTable(id="nodes-table", cursor_type="row", zebra_stripes=True)
        yield table
        with Horizontal(id="nodes-buttons"):
            yield Button("Add", id="node-add", compact=True)
            yield Button("Edit", id="node-edit", compact=True)
            yield Button("Delete", id="node-delete", compact=True)
            yield Button("Scan network", id="node-scan", compact=True)
        yield Static("", id="nodes-problems", markup=False)
        yield Static("", id="nodes-notes", markup=False)

    def on_mount(self) -> None:
        table = self.query_one("#nodes-table", DataTable)
        table.add_columns(" ", "Hostname", "IP", "Role", "Install disk", "Link", "Certificate")
        super().on_mount()

    def on_screen_resume(self) -> None:
        # Back from discovery: nodes may have been added there.
        self.revalidate()

    @property
    def nodes(self) -> list[dict[str, Any]]:
        data = self.wizard.answers.data
        nodes = state.get_value(data, "spec.nodes")
        if not isinstance(nodes, list):
            nodes = []
            state.set_value(data, "spec.nodes", nodes)
        return nodes

    def revalidate(self) -> None:
        super().revalidate()
        self._fill_table()
        data = self.wizard.answers.data
        problems = [
            f"✗ {checks.node_name(data, index)}: {message}"
            for index, messages in sorted(self.result.node_errors.items())
            for message in messages
        ]
        problems += [f"✗ {message}" for message in self.result.errors.get("spec.nodes", [])]
        notes = [f"! {message} (fix before writing)" for message in self.result.notes.get("spec.nodes", [])]
        self.query_one("#nodes-problems", Static).update("\n".join(problems))
        self.query_one("#nodes-notes", Static).update("\n".join(notes))

    def check(self) -> StepCheck:
        result = super().check()
        if not self.nodes:
            result.errors["spec.nodes"] = ["add at least one node (a control plane)"]
        return result

    def show_all_errors(self) -> None:
        """The problems are listed under the table; the first node with one is highlighted."""
        table = self.query_one("#nodes-table", DataTable)
        table.focus()
        if self.result.node_errors:
            table.move_cursor(row=min(self.result.node_errors))

    def problem_labels(self) -> list[str]:
        data = self.wizard.answers.data
        labels = [checks.node_name(data, i) for i in sorted(self.result.node_errors)]
        return labels or ["nodes"]

    def _fill_table(self) -> None:
        table = self.query_one("#nodes-table", DataTable)
        row = table.cursor_row
        table.clear()
        for index, node in enumerate(self.nodes):
            mark = "✗" if index in self.result.node_errors else "✓"
            table.add_row(
                mark,
                str(node.get("hostname", "")),
                str(node.get("ip", ""))
                + (f" (now {node['maintenanceAddress']})" if node.get("maintenanceAddress") else ""),
                str(node.get("role", "")),
                state.disk_text(node.get("installDisk")),
                state.link_text(node),
                short_fingerprint(node),
                key=str(index),
            )
        if self.nodes:
            table.move_cursor(row=min(max(row, 0), len(self.nodes) - 1))

    def focus_field(self, target: str | None) -> None:
        table = self.query_one("#nodes-table", DataTable)
        table.focus()
        if target:
            where = checks.locate(target)
            if where.node is not None and where.node < len(self.nodes):
                table.move_cursor(row=where.node)
                self.edit(where.node, focus=where.node_field)

    # ------------------------------------------------------------ actions

    def _selected(self) -> int | None:
        table = self.query_one("#nodes-table", DataTable)
        return table.cursor_row if self.nodes and 0 <= table.cursor_row < len(self.nodes) else None

    def action_add(self) -> None:
        self.edit(None, node=state.new_node(self.wizard.answers.data), focus="ip")

    def action_edit(self) -> None:
        index = self._selected()
        if index is not None:
            self.edit(index)

    def action_delete(self) -> None:
        """Ask first: a node's answers (its disk choice, pinned certificate) are not typed again easily."""
        index = self._selected()
        if index is None:
            return
        node = self.nodes[index]
        name = checks.node_name(self.wizard.answers.data, index)

        def done(confirmed: bool | None) -> None:
            if not confirmed or index >= len(self.nodes) or self.nodes[index] is not node:
                return
            self.nodes.pop(index)
            self.revalidate()
            self.notify(f"Removed {name}", markup=False)

        self.app.push_screen(
            ConfirmDialog(
                f"Delete {name}?",
                f"{node.get('ip') or 'Its IP'} leaves the answers; the machine itself is not touched.",
                confirm="Delete",
            ),
            done,
        )

    def action_scan(self) -> None:
        self.app.push_screen(DiscoveryScreen(self.wizard))

    def edit(
        self, index: int | None, *, node: dict[str, Any] | None = None, focus: str | None = None
    ) -> None:
        """Open the node dialog on row `index` (None: a new node, prefilled from `node`)."""
        draft = copy.deepcopy(self.nodes[index]) if index is not None else dict(node or {})

        def done(result: dict[str, Any] | None) -> None:
            if result is None:
                return
            if index is None:
                self.nodes.append(result)
            else:
                self.nodes[index] = result
            self.revalidate()
            table = self.query_one("#nodes-table", DataTable)
            table.move_cursor(row=len(self.nodes) - 1 if index is None else index)
            table.focus()

        self.app.push_screen(NodeDialog(self.wizard, index, draft, focus=focus), done)

    @on(DataTable.RowSelected, "#nodes-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self.edit(event.cursor_row)

    @on(Button.Pressed, "#node-add")
    def _add_pressed(self) -> None:
        self.action_add()

    @on(Button.Pressed, "#node-edit")
    def _edit_pressed(self) -> None:
        self.action_edit()

    @on(Button.Pressed, "#node-delete")
    def _delete_pressed(self) -> None:
        self.action_delete()

    @on(Button.Pressed, "#node-scan")
    def _scan_pressed(self) -> None:
        self.action_scan()
