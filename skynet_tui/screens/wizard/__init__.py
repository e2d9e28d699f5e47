"""The cluster wizard: one screen per step (cluster, nodes, network, domain, GitOps, components, review)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from skynet_tui.screens.wizard.catalog import StepId


def step_screens() -> dict[StepId, Any]:
    """The screen class of every step, in order."""
    from skynet_tui.screens.wizard.cluster import ClusterStep
    from skynet_tui.screens.wizard.components import ComponentsStep
    from skynet_tui.screens.wizard.domain import DomainStep
    from skynet_tui.screens.wizard.gitops import GitOpsStep
    from skynet_tui.screens.wizard.network import NetworkStep
    from skynet_tui.screens.wizard.nodes import NodesStep
    from skynet_tui.screens.wizard.review import ReviewStep

    return {
        "cluster": ClusterStep,
        "nodes": NodesStep,
        "network": NetworkStep,
        "domain": DomainStep,
        "gitops": GitOpsStep,
        "components": ComponentsStep,
        "review": ReviewStep,
    }
