"""Reusable wizard widgets: a labelled field row that shows spec's errors under its input, and the step bar."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.markup import escape
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label, Select, Static

from skynet_tui.wizard.catalog import STEPS, FieldSpec, StepId


class Toggle(Checkbox):
    """A checkbox whose mark is empty when off, so on/off reads without colour (NO_COLOR)."""

    BUTTON_INNER = " "

    def watch_value(self) -> None:
        self.BUTTON_INNER = "X" if self.value else " "  # the mark Checkbox draws
        super().watch_value()


class KeysInput(Input):
    """An input for public keys: a paste of several lines (one key per line) becomes comma-separated keys."""

    def _on_paste(self, event: events.Paste) -> None:
        keys = ", ".join(line.strip() for line in event.text.splitlines() if line.strip())
        if keys:
            selection = self.selection
            if selection.is_empty:
                self.insert_text_at_cursor(keys)
            else:
                self.replace(keys, *selection)
        event.stop()


class FieldRow(Vertical):
    """One answer: label and input on a line, then its errors (as typed), then a line of help."""

    DEFAULT_CSS = """
    FieldRow { height: auto; margin: 0 0 1 0; }
    FieldRow > Horizontal { height: auto; }
    FieldRow .field-label { width: 18; padding: 0 1 0 0; text-style: bold; }
    FieldRow Input, FieldRow Select { width: 1fr; }
    FieldRow Checkbox { width: 1fr; }
    FieldRow .field-error { color: $text-error; padding-left: 18; height: auto; }
    FieldRow .field-note { color: $text-warning; padding-left: 18; height: auto; }
    FieldRow .field-help { color: $text-muted; padding-left: 18; height: auto; }
    FieldRow .field-error:nocolor { text-style: bold; }
    FieldRow .-empty { display: none; }
    """

    @dataclass
    class Changed(Message):
        """The operator changed the field's input; `value` is text, or a bool for switches."""

        row: FieldRow
        path: str
        value: Any

    def __init__(self, spec_field: FieldSpec, value: Any, *, help: str | None = None, id: str | None = None):
        super().__init__(id=id or f"row-{spec_field.widget_id}")
        self.spec_field = spec_field
        self._value = value
        self._help = spec_field.help if help is None else help
        self.touched = bool(value) if spec_field.kind in ("text", "list", "keys") else True
        self._shown: tuple[list[str], list[str]] | None = None
        self._raw: tuple[list[str], list[str]] = ([], [])

    def compose(self) -> ComposeResult:
        field = self.spec_field
        with Horizontal():
            yield Label(field.label, classes="field-label")
            if field.kind == "bool":
                yield Toggle(self._help, bool(self._value), id=field.widget_id, compact=True)
            elif field.kind == "choice":
                # A choice the model defaults has no blank: a blank would drop the answer silently.
                blank = Select.NULL if field.default is None else field.default
                value = self._value if self._value in {v for _, v in field.choices} else blank
                yield Select(
                    list(field.choices),
                    value=value,
                    id=field.widget_id,
                    compact=True,
                    allow_blank=field.default is None,
                    prompt="choose…",
                )
            else:
                kind = KeysInput if field.kind == "keys" else Input
                yield kind(
                    str(self._value or ""), placeholder=field.placeholder, id=field.widget_id, compact=True
                )
        yield Static("", classes="field-error -empty", markup=False)
        yield Static("", classes="field-note -empty", markup=False)
        help_text = "" if field.kind == "bool" else self._help
        yield Static(help_text, classes="field-help" + ("" if help_text else " -empty"), markup=False)

    @property
    def control(self) -> Widget:
        return self.query_one(f"#{self.spec_field.widget_id}")

    def current_value(self) -> Any:
        control = self.control
        if isinstance(control, Checkbox):
            return control.value
        if isinstance(control, Select):
            return "" if control.value is Select.NULL else str(control.value)
        assert isinstance(control, Input)
        return control.value

    def set_help(self, text: str) -> None:
        if self.spec_field.kind == "bool":
            return
        help_line = self.query_one(".field-help", Static)
        help_line.update(text)
        help_line.set_class(not text, "-empty")

    def set_placeholder(self, text: str) -> None:
        control = self.control
        if isinstance(control, Input):
            control.placeholder = text

    def show(self, errors: list[str], notes: list[str]) -> None:
        """Show spec's messages; 'is required' waits until the field was typed in or left once."""
        self._raw = (errors, notes)
        if not self.touched:
            errors = [e for e in errors if e != "is required"]
        if (errors, notes) == self._shown:
            return
        self._shown = (errors, notes)
        error_line = self.query_one(".field-error", Static)
        label = self.spec_field.label
        error_line.update("\n".join(f"✗ {label} {e}" if e == "is required" else f"✗ {e}" for e in errors))
        error_line.set_class(not errors, "-empty")
        note_line = self.query_one(".field-note", Static)
        note_line.update("\n".join(f"! {n} (fix before writing)" for n in notes))
        note_line.set_class(not notes, "-empty")
        self.control.set_class(bool(errors), "-invalid")

    def reveal(self) -> None:
        """Show every message now, 'is required' too (Next was pressed on a step with errors)."""
        self.touched = True
        self.show(*self._raw)

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.touched = True
        self.post_message(self.Changed(self, self.spec_field.path, event.value))

    @on(Input.Blurred)
    def _input_left(self, event: Input.Blurred) -> None:
        if not self.touched:
            self.touched = True
            self.show(*self._raw)

    @on(Checkbox.Changed)
    def _checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        self.post_message(self.Changed(self, self.spec_field.path, event.value))

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self.touched = True
        value = "" if event.value is Select.NULL else str(event.value)
        self.post_message(self.Changed(self, self.spec_field.path, value))


class StepBar(Static):
    """The wizard's progress: every step with a mark (✓ done, ✗ has errors, ▶ here, · not seen yet)."""

    DEFAULT_CSS = """
    StepBar { height: 1; padding: 0 1; background: $panel; }
    """

    def __init__(self, current: StepId, marks: dict[StepId, str], *, id: str | None = "step-bar"):
        self._last = self._markup(current, marks)
        super().__init__(self._last, id=id)

    @staticmethod
    def _markup(current: StepId, marks: dict[StepId, str]) -> str:
        parts = []
        for step in STEPS:
            mark = "▶" if step.id == current else marks.get(step.id, "·")
            label = f"{mark} {escape(step.title)}"
            parts.append(f"[reverse b] {label} [/]" if step.id == current else f" {label} ")
        return "".join(parts)

    def refresh_marks(self, current: StepId, marks: dict[StepId, str]) -> None:
        markup = self._markup(current, marks)
        if markup != self._last:
            self._last = markup
            self.update(markup)


class TitleBar(Static):
    """One line: what is being edited, where it will be written, and SIMULATED when the lab is behind it."""

    DEFAULT_CSS = """
    TitleBar { height: auto; padding: 0 1; background: $primary; color: $text; text-style: bold; }
    TitleBar:nocolor { text-style: bold reverse; }
    """
