"""The bootstrap screen: the install plan's steps, live logs, progress and outcome."""

from skynet_tui.screens.bootstrap.dialogs import ConfirmAbort
from skynet_tui.screens.bootstrap.inbox import EventInbox, RunnerFactory
from skynet_tui.screens.bootstrap.screen import BootstrapScreen

__all__ = ["BootstrapScreen", "ConfirmAbort", "EventInbox", "RunnerFactory"]
