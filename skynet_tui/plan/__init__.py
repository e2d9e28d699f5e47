"""Steps as data and the plans built from them (plan/steps.py); `install_plan` builds the install plan."""

from __future__ import annotations

from typing import TYPE_CHECKING

from skynet_tui.plan.steps import Plan, Step, StepError, Transient, call, on_line

if TYPE_CHECKING:
    from skynet_tui.plan.install import Timing
    from skynet_tui.spec import Cluster
    from skynet_tui.workspace import Workspace

__all__ = ["Plan", "Step", "StepError", "Transient", "call", "install_plan", "on_line"]


def install_plan(
    cluster: Cluster,
    ws: Workspace,
    *,
    env: dict[str, str] | None = None,
    timing: Timing | None = None,
    simulated: bool = False,
) -> Plan:
    """The install plan of a cluster (plan/install.py); `timing` defaults to real-machine delays and timeouts.

    `simulated` says the machines are the lab's: every view of the plan then labels them SIMULATED."""
    from skynet_tui.plan.install import build  # lazy: the install plan pulls in gitops and talos

    return build(cluster, ws, env=env, timing=timing, simulated=simulated)
