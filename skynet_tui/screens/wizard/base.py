"""The frame every wizard step shares: title, progress, the step's fields, a status line, Back/Next, footer."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, Footer, Input, Static

from skynet_tui.screens.wizard.fields import FieldRow, StepBar, TitleBar
from skynet_tui.wizard import catalog, checks, state
from skynet_tui.wizard.catalog import FIELD_BY_PATH, FieldSpec, StepId
from skynet_tui.wizard.checks import StepCheck
from skynet_tui.wizard.flow import Wizard


class StepScreen(Screen[None]):
    """A wizard step: its fields with spec's errors shown as typed; Next on a step with errors shows every
    error of the step at once and focuses the first. Subclasses set STEP and HEADING and may compose a custom
    body."""

    STEP: ClassVar[StepId] = "cluster"
    HEADING: ClassVar[str] = ""
    NEXT_LABEL: ClassVar[str] = "Next"

    BINDINGS: ClassVar = [
        Binding("escape", "back", "Back", id="wizard.back"),
        Binding("ctrl+n", "next", "Next", id="wizard.next"),
        Binding("ctrl+s", "save", "Save", id="wizard.save"),
        Binding("ctrl+r", "review", "Review", id="wizard.review"),
    ]

    DEFAULT_CSS = """
    StepScreen #step-body { height: 1fr; padding: 1 1 0 1; }
    StepScreen .step-heading { color: $text-muted; margin-bottom: 1; }
    StepScreen #step-nav { height: 1; padding: 0 1; background: $panel; }
    StepScreen #step-status { width: 1fr; }
    StepScreen #step-nav Button { margin-left: 2; min-width: 10; }
    """

    def __init__(self, wizard: Wizard, *, focus: str | None = None):
        super().__init__()
        self.wizard = wizard
        self.focus_target = focus
        self.result = StepCheck()
        self._checked = False
        self._texts: dict[Static, str] = {}

    # ------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield TitleBar(self.wizard.heading(), id="title-bar")
        yield StepBar(self.STEP, self.wizard.marks(refresh=True))
        with self.body_container():
            if self.HEADING:
                yield Static(self.HEADING, classes="step-heading")
            yield from self.compose_body()
        with Horizontal(id="step-nav"):
            yield Static("", id="step-status", markup=False)
            yield Button("Back", id="back", compact=True)
            yield Button(self.NEXT_LABEL, id="next", variant="primary", compact=True)
        yield Footer()

    def on_resize(self, event: events.Resize) -> None:
        # Below 100 columns the step keys only fit the footer without its padding (Quit was cut off at 80).
        self.query_one(Footer).compact = event.size.width < 100

    def body_container(self) -> Widget:
        return VerticalScroll(id="step-body")

    def compose_body(self) -> ComposeResult:
        for spec_field in catalog.fields_of(self.STEP):
            yield FieldRow(spec_field, self.initial_value(spec_field))

    def initial_value(self, spec_field: FieldSpec) -> Any:
        data = self.wizard.answers.data
        if spec_field.path == catalog.WORKSPACE:
            return self.wizard.answers.workspace_text
        if spec_field.kind == "bool":
            return bool(state.get_value(data, spec_field.path))
        return state.text_of(data, spec_field)

    def on_mount(self) -> None:
        self.revalidate()
        self.call_after_refresh(self.focus_field, self.focus_target)

    def focus_field(self, target: str | None) -> None:
        """Focus the input of a field path (the first field when None)."""
        widget = None
        if target and target in FIELD_BY_PATH:
            matches = self.query(f"#{FIELD_BY_PATH[target].widget_id}")
            widget = matches.first() if matches else None
        if widget is None:
            rows = self.query(FieldRow)
            widget = rows.first().control if rows else None
        if widget is not None:
            widget.focus(scroll_visible=False)
            widget.scroll_visible(animate=False)

    # ------------------------------------------------------------ answers and checks

    @on(FieldRow.Changed)
    def field_changed(self, event: FieldRow.Changed) -> None:
        self.apply(event.row.spec_field, event.value)
        self.answers_changed(event.path)
        self.revalidate()

    def apply(self, spec_field: FieldSpec, value: Any) -> None:
        answers = self.wizard.answers
        if spec_field.path == catalog.WORKSPACE:
            answers.workspace_text = str(value)
        elif spec_field.kind == "bool":
            state.set_value(answers.data, spec_field.path, bool(value))
        else:
            state.set_text(answers.data, spec_field, str(value))

    def answers_changed(self, path: str) -> None:
        """Hook: a field changed (update dependent help or placeholders)."""

    def check(self) -> StepCheck:
        """Hook: this step's issues (spec's, plus any a subclass adds)."""
        return checks.check_step(self.wizard.answers.data, self.STEP)

    def revalidate(self) -> None:
        was_ok = self.result.ok if self._checked else None
        self.result = self.check()
        self._checked = True
        for row in self.query(FieldRow):
            path = row.spec_field.path
            row.show(self.result.errors.get(path, []), self.result.notes.get(path, []))
        self.show_status()
        self.wizard.set_mark(self.STEP, self.result.ok)
        self.query_one(StepBar).refresh_marks(self.STEP, self.wizard.marks())
        self.set_text(self.query_one(TitleBar), self.wizard.heading())
        if was_ok != self.result.ok:
            self.refresh_bindings()  # Next dims or lights up in the footer

    def set_text(self, widget: Static, text: str) -> None:
        """Update a line only when its text changes: every update of a Static re-lays the screen out."""
        if self._texts.get(widget) != text:
            self._texts[widget] = text
            widget.update(text)

    def problem_labels(self) -> list[str]:
        labels = [FIELD_BY_PATH[p].label if p in FIELD_BY_PATH else p for p in self.result.errors]
        labels += [checks.node_name(self.wizard.answers.data, i) for i in sorted(self.result.node_errors)]
        return labels

    def show_status(self) -> None:
        status = self.query_one("#step-status", Static)
        if self.result.ok:
            notes = sum(len(v) for v in self.result.notes.values())
            extra = f" · {notes} problem{'s' if notes != 1 else ''} to fix before writing" if notes else ""
            self.set_text(status, f"✓ fields valid{extra}")
        else:
            self.set_text(status, "✗ to fix: " + ", ".join(self.problem_labels()))

    # ------------------------------------------------------------ actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "review":
            return self.STEP != "review"
        return True

    def action_next(self) -> None:
        if self.result.ok:
            self.wizard.next(self.STEP)
        else:
            self.show_all_errors()

    def show_all_errors(self) -> None:
        """Every error of the step under its field, even of fields not typed in yet; the first one focused."""
        first: FieldRow | None = None
        for row in self.query(FieldRow):
            row.reveal()
            if first is None and row.spec_field.path in self.result.errors:
                first = row
        if first is not None:
            first.control.focus(scroll_visible=False)
            first.scroll_visible(animate=False)

    def action_back(self) -> None:
        self.wizard.back(self.STEP)

    def action_save(self) -> None:
        self.wizard.save()

    def action_review(self) -> None:
        self.wizard.open("review")

    @on(Button.Pressed, "#next")
    def _next_pressed(self) -> None:
        self.action_next()

    @on(Button.Pressed, "#back")
    def _back_pressed(self) -> None:
        self.action_back()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        """Enter moves to the next field, as Tab does."""
        self.focus_next()
