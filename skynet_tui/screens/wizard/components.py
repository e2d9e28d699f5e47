"""Step 6, components: which platform parts Argo CD installs, each with a one-line explanation."""

from __future__ import annotations

from skynet_tui.screens.wizard.base import StepScreen


class ComponentsStep(StepScreen):
    """Shows a switch per optional platform component (monitoring, logging, tracing, storage, VPA,
    policies, image security) with what it installs. Argo CD, cert-manager, Traefik and MetalLB are always
    installed."""

    STEP = "components"
    HEADING = "Argo CD, cert-manager, Traefik and MetalLB are always installed. Space toggles."
