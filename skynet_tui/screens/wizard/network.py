"""Step 3, the network: node subnet, gateway, DNS, NTP, the API endpoint and VIP, the MetalLB pool."""

from __future__ import annotations

import ipaddress

from skynet_tui.screens.wizard.base import StepScreen
from skynet_tui.screens.wizard.fields import FieldRow
from skynet_tui.wizard import catalog, state


class NetworkStep(StepScreen):
    """Shows the nodes' L2 network (subnet, gateway, DNS and NTP servers), the Kubernetes API endpoint and
    whether it is a VIP shared by the control planes, and the MetalLB address pool. Suggestions follow the
    subnet as placeholders; pool and VIP clashes with node IPs are listed as they are typed."""

    STEP = "network"
    HEADING = "The network the nodes share, the API endpoint and the addresses for LoadBalancer services."

    def on_mount(self) -> None:
        self._suggest()
        super().on_mount()

    def answers_changed(self, path: str) -> None:
        if path == "spec.network.subnet":
            self._suggest()

    def _suggest(self) -> None:
        """Placeholders derived from the subnet: .1 gateway, .10 endpoint, .200-.220 pool."""
        subnet = state.get_value(self.wizard.answers.data, "spec.network.subnet")
        try:
            network = ipaddress.IPv4Network(str(subnet), strict=True)
        except ValueError:
            return
        if network.num_addresses < 256:
            return
        base = network.network_address
        hints = {
            "spec.network.gateway": str(base + 1),
            "spec.controlPlane.endpoint": str(base + 10),
            "spec.loadBalancer.addresses": f"{base + 200}-{base + 220}",
        }
        for path, hint in hints.items():
            self.query_one("#row-" + catalog.widget_id(path), FieldRow).set_placeholder(hint)
