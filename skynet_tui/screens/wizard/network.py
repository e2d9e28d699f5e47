"""Step 3, the network: node subnet, gateway, DNS, NTP, the API endpoint and VIP, the MetalLB pool."""

from __future__ import annotations

import ipaddress

from textual.app import ComposeResult

from skynet_tui.screens.wizard.base import StepScreen
from skynet_tui.screens.wizard.fields import FieldRow
from skynet_tui.wizard import catalog, state
from skynet_tui.wizard.suggest import network_suggestions

SUGGESTED = "suggested from the nodes' IPs: check it"


class NetworkStep(StepScreen):
    """Shows the nodes' L2 network (subnet, gateway, DNS and NTP servers), the Kubernetes API endpoint and
    whether it is a VIP shared by the control planes, and the MetalLB address pool. Empty fields are filled
    with values derived from the nodes' IPs, each marked as suggested; without nodes, examples follow the
    subnet as hints. Pool and VIP clashes with node IPs are listed as they are typed."""

    STEP = "network"
    HEADING = "The network the nodes share, the API endpoint and the addresses for LoadBalancer services."

    def compose_body(self) -> ComposeResult:
        suggested = network_suggestions(self.wizard.answers.data)
        for path, value in suggested.items():
            state.set_value(self.wizard.answers.data, path, value)
        for spec_field in catalog.fields_of(self.STEP):
            help_text = SUGGESTED if spec_field.path in suggested else None
            if spec_field.kind == "bool" and help_text:
                help_text = f"{spec_field.help} (suggested)"
            yield FieldRow(spec_field, self.initial_value(spec_field), help=help_text)

    def on_mount(self) -> None:
        self._suggest()
        super().on_mount()

    def answers_changed(self, path: str) -> None:
        if path == "spec.network.subnet":
            self._suggest()

    def _suggest(self) -> None:
        """Example hints derived from the subnet: .1 gateway, .10 endpoint, .200-.220 pool."""
        subnet = state.get_value(self.wizard.answers.data, "spec.network.subnet")
        try:
            network = ipaddress.IPv4Network(str(subnet), strict=True)
        except ValueError:
            return
        if network.num_addresses < 256:
            return
        base = network.network_address
        hints = {
            "spec.network.gateway": f"e.g. {base + 1}",
            "spec.controlPlane.endpoint": f"e.g. {base + 10}",
            "spec.loadBalancer.addresses": f"e.g. {base + 200}-{base + 220}",
        }
        for path, hint in hints.items():
            self.query_one("#row-" + catalog.widget_id(path), FieldRow).set_placeholder(hint)
