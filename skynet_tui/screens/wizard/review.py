"""Step 7, review: every answer, problems with a jump to their field, warnings, the files to be written."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, ScrollableContainer, Vertical, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, OptionList, Static, TabbedContent, TabPane, Tree
from textual.widgets.option_list import Option

from skynet_tui import spec
from skynet_tui.redact import Redactor
from skynet_tui.screens.wizard.base import StepScreen
from skynet_tui.wizard import catalog, checks, state
from skynet_tui.wizard.catalog import FIELD_BY_PATH, STEPS
from skynet_tui.wizard.checks import StepCheck
from skynet_tui.wizard.flow import Wizard
from skynet_tui.wizard.preview import PreviewFile, language, preview
from skynet_tui.workspace import Workspace


class ReviewStep(StepScreen):
    """Shows the problems that stop writing (Enter jumps to the field), the warnings, every answer, and on
    the Files tab the tree of files the workspace will hold with each file's content (secrets are listed by
    name, never shown). "Write and install" writes the workspace and starts the install."""

    STEP = "review"
    NEXT_LABEL = "Write and install"
    HEADING = ""

    BINDINGS: ClassVar = [
        Binding("ctrl+n", "next", "Write and install", id="wizard.next"),
        Binding("ctrl+w", "write_only", "Write only", id="wizard.write_only"),
        Binding("f", "toggle_files", "Files", id="review.files"),
    ]

    DEFAULT_CSS = """
    ReviewStep #step-body { padding: 0 1; }
    ReviewStep #review-tabs { height: 1fr; }
    ReviewStep TabPane { padding: 0; }
    ReviewStep .review-heading { text-style: bold; margin-top: 1; }
    ReviewStep #review-problems { height: auto; max-height: 8; }
    ReviewStep #review-warnings { color: $text-warning; height: auto; }
    ReviewStep #file-tree { width: 34; height: 1fr; }
    ReviewStep #file-view-scroll { width: 1fr; height: 1fr; border-top: solid $panel-lighten-2; }
    ReviewStep #file-view { width: auto; }
    """

    @dataclass
    class PreviewReady(Message):
        files: list[PreviewFile] | None
        error: str | None = None

    @dataclass
    class Written(Message):
        ok: bool
        install: bool
        error: str | None = None

    @dataclass
    class WriteLine(Message):
        line: str

    def __init__(self, wizard: Wizard, *, focus: str | None = None):
        super().__init__(wizard, focus=focus)
        self.issues: list[spec.Issue] = []
        self.files: dict[str, PreviewFile] = {}
        self.writing = False

    def body_container(self) -> Widget:
        return Vertical(id="step-body")

    def compose_body(self) -> ComposeResult:
        with TabbedContent(id="review-tabs"):
            with TabPane("Summary", id="tab-summary"), VerticalScroll(id="summary-scroll"):
                yield Static("", id="review-problems-heading", classes="review-heading", markup=False)
                yield OptionList(id="review-problems")
                yield Static("", id="review-warnings", markup=False)
                yield Static("Answers", classes="review-heading")
                yield Static("", id="review-answers")
            with TabPane("Files", id="tab-files"), Horizontal():
                yield Tree("workspace", id="file-tree")
                with ScrollableContainer(id="file-view-scroll"):
                    yield Static("", id="file-view")

    def on_mount(self) -> None:
        super().on_mount()
        self._render_summary()
        if not self.issues:
            self.build_preview(self.wizard.answers.data)
        else:
            self.query_one("#file-view", Static).update(
                "The files are shown once the answers have no errors."
            )

    def focus_field(self, target: str | None) -> None:
        problems = self.query_one("#review-problems", OptionList)
        if problems.option_count:
            problems.focus()
            problems.highlighted = 0
        else:
            self.query_one("#next", Button).focus()

    # ------------------------------------------------------------ checks

    def check(self) -> StepCheck:
        result = StepCheck()
        self.issues = checks.review_issues(self.wizard.answers.data)
        errors, _notes = checks.check_workspace(self.wizard.answers)
        self.issues += [spec.Issue(catalog.WORKSPACE, message) for message in errors]
        for issue in self.issues:
            result.errors.setdefault(issue.path, []).append(issue.message)
        return result

    def problem_labels(self) -> list[str]:
        count = len(self.issues)
        return [f"{count} problem{'s' if count != 1 else ''} (Enter on one jumps to it)"]

    def show_status(self) -> None:
        if self.writing:
            return
        self.query_one("#next", Button).disabled = not self.result.ok
        status = self.query_one("#step-status", Static)
        if self.result.ok:
            status.update("✓ ready to write the workspace")
        else:
            status.update("✗ " + self.problem_labels()[0])

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("next", "write_only"):
            return True if self.result.ok and not self.writing else None
        return super().check_action(action, parameters)

    # ------------------------------------------------------------ summary tab

    def _render_summary(self) -> None:
        heading = self.query_one("#review-problems-heading", Static)
        problems = self.query_one("#review-problems", OptionList)
        problems.clear_options()
        titles = {s.id: s.title for s in STEPS}
        for index, issue in enumerate(self.issues):
            where = checks.locate(issue.path)
            label = FIELD_BY_PATH[where.field].label if where.field in FIELD_BY_PATH else issue.path
            if where.node is not None:
                node = checks.node_name(self.wizard.answers.data, where.node)
                label = f"{node} {checks.NODE_LABELS.get(where.node_field or '', '')}".strip()
            text = Text(f"✗ {titles[where.step]} › {label}: {checks.operator_text(issue.message)}")
            problems.add_option(Option(text, id=str(index)))
        heading.update(
            f"Problems to fix before writing ({len(self.issues)})" if self.issues else "No problems"
        )
        problems.display = bool(self.issues)
        warnings_widget = self.query_one("#review-warnings", Static)
        warnings: list[spec.Issue] = []
        if not self.issues:
            warnings = spec.warnings(self.wizard.answers.cluster())
        warnings_widget.update(
            "\n".join(f"! {titles[checks.locate(w.path).step]}: {w.message}" for w in warnings)
        )
        warnings_widget.display = bool(warnings)
        self.query_one("#review-answers", Static).update(answers_table(self.wizard.answers.data, self.wizard))

    @on(OptionList.OptionSelected, "#review-problems")
    def _jump(self, event: OptionList.OptionSelected) -> None:
        issue = self.issues[int(event.option.id or 0)]
        where = checks.locate(issue.path)
        self.wizard.open(where.step, focus=issue.path if where.node is not None else where.field)

    # ------------------------------------------------------------ files tab

    def action_toggle_files(self) -> None:
        tabs = self.query_one("#review-tabs", TabbedContent)
        if tabs.active == "tab-files":
            # Focus leaves the Files pane first: focus left inside a hidden pane would switch back to it.
            self.query_one("#next", Button).focus()
            tabs.active = "tab-summary"
        else:
            tabs.active = "tab-files"
            self.query_one("#file-tree", Tree).focus()

    @work(
        thread=True, exclusive=True, group="preview", exit_on_error=False, description="Rendering the files"
    )
    def build_preview(self, data: dict[str, Any]) -> None:
        try:
            files = preview(spec.parse(data))
        except Exception as exc:  # a rendering bug must show as text, not end the wizard
            self.post_message(self.PreviewReady(None, Redactor()(str(exc))))
            return
        self.post_message(self.PreviewReady(files))

    @on(PreviewReady)
    def _preview_ready(self, message: PreviewReady) -> None:
        view = self.query_one("#file-view", Static)
        if message.files is None:
            view.update(Text(f"The files could not be rendered: {message.error}"))
            return
        self.files = {f.path: f for f in message.files}
        tree: Tree[str] = self.query_one("#file-tree", Tree)
        tree.clear()
        tree.root.expand()
        folders: dict[str, Any] = {"": tree.root}
        for path in self.files:
            parent = ""
            for part in path.split("/")[:-1]:
                key = f"{parent}/{part}" if parent else part
                if key not in folders:
                    folders[key] = folders[parent].add(part + "/", expand=not key.startswith("secrets"))
                parent = key
            name = Path(path).name + (" 🔒" if self.files[path].secret else "")
            folders[parent].add_leaf(name, data=path)
        self._show_file("cluster.yaml")

    @on(Tree.NodeHighlighted, "#file-tree")
    def _file_highlighted(self, event: Tree.NodeHighlighted[str]) -> None:
        if event.node.data:
            self._show_file(event.node.data)

    def _show_file(self, path: str) -> None:
        file = self.files.get(path)
        view = self.query_one("#file-view", Static)
        if file is None:
            return
        scroll = self.query_one("#file-view-scroll")
        scroll.scroll_home(animate=False)
        scroll.border_title = path  # the whole name, which the narrow tree may cut
        if file.content is None:
            view.update(
                Text(f"{path}\n\n{file.note}: never shown, never committed (git-ignored, mode 0600).")
            )
        else:
            view.update(Syntax(file.content, language(path), theme="ansi_dark", word_wrap=False))

    # ------------------------------------------------------------ writing

    def action_next(self) -> None:
        self._write(install=True)

    def action_write_only(self) -> None:
        self._write(install=False)

    def _write(self, *, install: bool) -> None:
        if not self.result.ok or self.writing:
            return
        if not self.wizard.save():
            return
        self.writing = True
        self.query_one("#step-status", Static).update("Writing the workspace …")
        self.query_one("#next", Button).disabled = True
        self.refresh_bindings()
        self.write_workspace(self.wizard.answers.cluster(), self.wizard.answers.workspace, install)

    def _post_line(self, _stream: str, line: str) -> None:
        """generate()'s line callback, called from the worker thread."""
        self.post_message(self.WriteLine(line))

    @work(
        thread=True,
        exclusive=True,
        group="generate",
        exit_on_error=False,
        description="Writing the workspace",
    )
    def write_workspace(self, cluster: spec.Cluster, folder: Path, install: bool) -> None:
        from skynet_tui.generate import generate  # deferred as in preview(): the renderers load on first use

        try:
            generate(
                cluster,
                Workspace.at(folder),
                env=self.wizard.env,
                on_line=self._post_line,
            )
        except Exception as exc:  # every failure (talosctl missing, a check, the lock) is shown, not raised
            self.post_message(self.Written(False, install, Redactor()(str(exc))))
            return
        self.post_message(self.Written(True, install))

    @on(WriteLine)
    def _write_line(self, message: WriteLine) -> None:
        self.query_one("#step-status", Static).update(f"Writing … {message.line}")

    @on(Written)
    def _written(self, message: Written) -> None:
        self.writing = False
        status = self.query_one("#step-status", Static)
        self.query_one("#next", Button).disabled = not self.result.ok
        self.refresh_bindings()
        if not message.ok:
            status.update(f"✗ not written: {message.error}")
            self.notify(
                f"Writing the workspace failed: {message.error}", severity="error", timeout=10, markup=False
            )
            return
        folder = self.wizard.answers.workspace
        status.update(f"✓ written to {folder}")
        self.notify(f"Workspace written to {folder}", markup=False)
        if message.install:
            self.wizard.install()

    @on(Button.Pressed, "#next")
    def _write_pressed(self) -> None:
        self.action_next()


def answers_table(data: dict[str, Any], wizard: Wizard) -> Table:
    """Every answer in two columns, grouped by step; nodes one per line."""
    table = Table(show_header=False, box=None, padding=(0, 1), expand=True)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for step in STEPS:
        if step.id == "review":
            continue
        table.add_row(Text(step.title, style="reverse"), "")
        if step.id == "nodes":
            for node in state.get_value(data, "spec.nodes") or []:
                line = (
                    f"{node.get('ip', '?')}  {node.get('role', '?')}  disk {state.disk_text(node.get('installDisk'))}"
                    f"  link {state.link_text(node) or '-'}"
                )
                if node.get("maintenanceAddress"):
                    line += f"  until its install at {node['maintenanceAddress']}"
                if node.get("certFingerprint"):
                    line += f"  certificate {node['certFingerprint']}"
                table.add_row(str(node.get("hostname", "?")), Text(line))
            continue
        for spec_field in catalog.fields_of(step.id):
            if spec_field.path == catalog.WORKSPACE:
                value: Any = str(wizard.answers.workspace or "")
            else:
                value = state.get_value(data, spec_field.path)
            if value is None:
                continue
            if isinstance(value, bool):
                value = "yes" if value else "no"
            elif isinstance(value, list):
                value = ", ".join(str(v) for v in value)
            table.add_row(spec_field.label, Text(str(value)))
    return table
