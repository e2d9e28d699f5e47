"""Reusable widgets: the step checklist and the bounded log pane."""

from skynet_tui.widgets.logview import LineBuffer, LogEntry, LogView, make_entry
from skynet_tui.widgets.steps import StepList, format_duration

__all__ = ["LineBuffer", "LogEntry", "LogView", "StepList", "format_duration", "make_entry"]
