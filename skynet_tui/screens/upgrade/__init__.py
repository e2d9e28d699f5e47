"""The upgrade screen (screen.py), the run of an upgrade plan (run.py), and the texts they show."""

from skynet_tui.screens.upgrade.run import ReadDialog, UpgradeRunScreen
from skynet_tui.screens.upgrade.screen import UpgradeScreen

__all__ = ["ReadDialog", "UpgradeRunScreen", "UpgradeScreen"]
