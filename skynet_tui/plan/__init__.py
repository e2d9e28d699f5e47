"""Steps as data (plan/steps.py); each plan is built by its own module: plan/install.py `install_plan`, …"""

from __future__ import annotations

from skynet_tui.plan.steps import Plan, Step, StepError, Transient, call, on_line

__all__ = ["Plan", "Step", "StepError", "Transient", "call", "on_line"]
