"""The day-two console: the overview and tables (screen.py), drill-downs (detail.py), the texts they show."""

from skynet_tui.screens.console.screen import ConsoleScreen, MonitorFactory

__all__ = ["ConsoleScreen", "MonitorFactory"]
