"""The screen of every wizard step (cluster, nodes, network, domain, GitOps, components, review), in order."""

from __future__ import annotations

from skynet_tui.screens.wizard.base import StepScreen
from skynet_tui.screens.wizard.cluster import ClusterStep
from skynet_tui.screens.wizard.components import ComponentsStep
from skynet_tui.screens.wizard.domain import DomainStep
from skynet_tui.screens.wizard.gitops import GitOpsStep
from skynet_tui.screens.wizard.network import NetworkStep
from skynet_tui.screens.wizard.nodes import NodesStep
from skynet_tui.screens.wizard.review import ReviewStep
from skynet_tui.wizard.catalog import StepId

STEP_SCREENS: dict[StepId, type[StepScreen]] = {
    "cluster": ClusterStep,
    "nodes": NodesStep,
    "network": NetworkStep,
    "domain": DomainStep,
    "gitops": GitOpsStep,
    "components": ComponentsStep,
    "review": ReviewStep,
}
