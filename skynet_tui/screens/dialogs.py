"""Modal dialogs: unsaved answers (save / discard / stay), yes/no, typed wipe confirmation, and errors."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

DIALOG_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{ width: 72; max-width: 96%; height: auto; max-height: 90%;
    border: round $primary; background: $surface; padding: 1 2; }}
{name} .dialog-title {{ text-style: bold; margin-bottom: 1; }}
{name} .dialog-buttons {{ height: 1; margin-top: 1; align-horizontal: right; }}
{name} .dialog-buttons Button {{ margin-left: 2; }}
"""


class UnsavedDialog(ModalScreen[str | None]):
    """Asks what to do with answers not saved yet: save them to cluster.yaml, discard them, or stay."""

    BINDINGS: ClassVar = [Binding("escape", "stay", "Stay", id="unsaved.stay")]
    DEFAULT_CSS = DIALOG_CSS.format(name="UnsavedDialog")

    def __init__(self, title: str = "Quit Skynet?", *, can_save: bool = True):
        super().__init__()
        self.title_text = title
        self.can_save = can_save

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text, classes="dialog-title", markup=False)
            if self.can_save:
                yield Static("The answers changed since they were last saved to cluster.yaml.")
            else:
                yield Static("The answers are not saved, and cannot be yet: the cluster has no name/folder.")
            with Horizontal(classes="dialog-buttons"):
                if self.can_save:
                    yield Button("Save", id="unsaved-save", variant="primary", compact=True)
                yield Button("Discard", id="unsaved-discard", variant="error", compact=True)
                yield Button("Stay", id="unsaved-stay", compact=True)

    def on_mount(self) -> None:
        self.query_one("#unsaved-save" if self.can_save else "#unsaved-stay", Button).focus()

    @on(Button.Pressed, "#unsaved-save")
    def _save(self) -> None:
        self.dismiss("save")

    @on(Button.Pressed, "#unsaved-discard")
    def _discard(self) -> None:
        self.dismiss("discard")

    @on(Button.Pressed, "#unsaved-stay")
    def action_stay(self) -> None:
        self.dismiss(None)


class ConfirmDialog(ModalScreen[bool]):
    """A yes/no question about something that cannot be undone; No has the focus, y and n answer it."""

    BINDINGS: ClassVar = [
        Binding("n,escape", "no", "No", id="confirm.no"),
        Binding("y", "yes", "Yes", id="confirm.yes"),
    ]
    DEFAULT_CSS = DIALOG_CSS.format(name="ConfirmDialog")

    def __init__(self, title: str, text: str, *, confirm: str = "Yes", deny: str = "No"):
        super().__init__()
        self.title_text = title
        self.text = text
        self.confirm = confirm
        self.deny = deny

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text, classes="dialog-title", markup=False)
            yield Static(self.text, markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.confirm} (y)", id="confirm-yes", variant="error", compact=True)
                yield Button(f"{self.deny} (n)", id="confirm-no", compact=True)

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    @on(Button.Pressed, "#confirm-yes")
    def action_yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#confirm-no")
    def action_no(self) -> None:
        self.dismiss(False)


class WipeDialog(ModalScreen[bool]):
    """Confirms installing onto a disk that may hold data or be the boot medium: the operator types the
    node's hostname, and only then can the wipe be confirmed."""

    BINDINGS: ClassVar = [Binding("escape", "cancel", "Cancel", id="wipe.cancel")]
    DEFAULT_CSS = (
        DIALOG_CSS.format(name="WipeDialog")
        + """
    WipeDialog .wipe-reasons { color: $text-warning; margin-bottom: 1; }
    WipeDialog Input { margin-top: 1; }
    """
    )

    def __init__(self, hostname: str, disk: str, reasons: list[str]):
        super().__init__()
        self.hostname = hostname
        self.disk = disk
        self.reasons = reasons

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"Wipe {self.disk} on {self.hostname}?", classes="dialog-title", markup=False)
            yield Static(
                "\n".join(f"! {reason}" for reason in self.reasons), classes="wipe-reasons", markup=False
            )
            yield Static(
                f"Installing Talos erases this whole disk. Type the node's hostname ({self.hostname}) to confirm.",
                markup=False,
            )
            yield Input(placeholder="type the hostname here", id="wipe-hostname", compact=True)
            with Horizontal(classes="dialog-buttons"):
                yield Button(
                    "Wipe and use it", id="wipe-confirm", variant="error", compact=True, disabled=True
                )
                yield Button("Cancel", id="wipe-cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#wipe-hostname", Input).focus()

    @on(Input.Changed, "#wipe-hostname")
    def _typed(self, event: Input.Changed) -> None:
        self.query_one("#wipe-confirm", Button).disabled = event.value.strip() != self.hostname

    @on(Input.Submitted, "#wipe-hostname")
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value.strip() == self.hostname:
            self.dismiss(True)

    @on(Button.Pressed, "#wipe-confirm")
    def _confirm(self) -> None:
        if self.query_one("#wipe-hostname", Input).value.strip() == self.hostname:
            self.dismiss(True)

    @on(Button.Pressed, "#wipe-cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)


class ErrorDialog(ModalScreen[None]):
    """Shows an unexpected error (its text, never a secret: callers redact) with a Close button."""

    BINDINGS: ClassVar = [Binding("escape", "close", "Close", id="error.close")]
    DEFAULT_CSS = (
        DIALOG_CSS.format(name="ErrorDialog")
        + """
    ErrorDialog VerticalScroll { height: auto; max-height: 16; }
    """
    )

    def __init__(self, title: str, text: str):
        super().__init__()
        self.title_text = title
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text, classes="dialog-title", markup=False)
            with VerticalScroll():
                yield Static(self.text, markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Close", id="error-close", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#error-close", Button).focus()

    @on(Button.Pressed, "#error-close")
    def action_close(self) -> None:
        self.dismiss(None)
