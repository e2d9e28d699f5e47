"""The bootstrap screen's dialogs: the abort confirmation, and paging a log file with the app suspended."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from textual import on
from textual.app import App, ComposeResult, SuspendNotSupported
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from skynet_tui import launcher


class ConfirmAbort(ModalScreen[bool]):
    """Asks before an install is aborted."""

    BINDINGS = [Binding("y", "answer(True)", "Abort"), Binding("n,escape", "answer(False)", "Keep running")]

    DEFAULT_CSS = """
    ConfirmAbort { align: center middle; }
    ConfirmAbort > Vertical {
        width: 60; height: auto; padding: 1 2; border: thick $error; background: $surface;
        & > Label { text-style: bold; margin-bottom: 1; }
        & > Horizontal { height: auto; margin-top: 1; align-horizontal: right; }
        & Button { margin-left: 2; }
    }
    """

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Abort the install?")
            yield Static(
                "Running commands are stopped (their whole process groups). Finished steps stay in the "
                "journal: Retry resumes from there."
            )
            with Horizontal():
                yield Button("Abort install (y)", variant="error", id="yes")
                yield Button("Keep running (n)", variant="primary", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


def page_file(app: App, path: Path) -> bool:
    """Show a file in $PAGER (default less) with the app suspended; False when that cannot be done here."""
    pager = shlex.split(os.environ.get("PAGER") or "less") or ["less"]
    if launcher.which(pager[0]) is None:
        return False
    try:
        with app.suspend():
            launcher.foreground([*pager, str(path)])
    except SuspendNotSupported:  # headless, or Textual Web
        return False
    return True
