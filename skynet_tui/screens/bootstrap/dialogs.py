"""The bootstrap screen's dialogs: the abort confirmation, and paging a log file with the app suspended."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from textual.app import App, SuspendNotSupported

from skynet_tui import launcher
from skynet_tui.screens.dialogs import DIALOG_CSS, ConfirmDialog


class ConfirmAbort(ConfirmDialog):
    """Asks before an install is aborted (the app's one dialog style: y aborts, n or Esc keeps it running)."""

    DEFAULT_CSS = DIALOG_CSS.format(name="ConfirmAbort")

    def __init__(self) -> None:
        super().__init__(
            "Abort the install?",
            "Running commands are stopped (their whole process groups). Finished steps stay in the "
            "journal: Retry resumes from there.",
            confirm="Abort install",
            deny="Keep running",
        )


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
