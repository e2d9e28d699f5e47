"""Driving the wizard like an operator in Pilot tests: focus a field, clear it, type, choose, press."""

from __future__ import annotations

import copy
from typing import Any

from textual import events
from textual.app import ComposeResult
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Checkbox, Input, Select, Static

from skynet_tui import spec
from skynet_tui.wizard.catalog import widget_id

SIZE = (100, 32)
PASTE_ABOVE = 8  # characters; longer values are pasted (bracketed paste), shorter ones typed key by key


async def focus(pilot: Pilot, wid: str) -> Any:
    """Put the focus on a widget, as a click on it would."""
    widget = pilot.app.screen.query_one(f"#{wid}")
    widget.focus(scroll_visible=False)
    widget.scroll_visible(animate=False)
    await pilot.pause()
    assert pilot.app.focused is widget, f"#{wid} did not take the focus ({pilot.app.focused})"
    return widget


async def paste(pilot: Pilot, text: str) -> None:
    """What the terminal sends for a bracketed paste."""
    driver = pilot.app._driver
    assert driver is not None
    driver.send_message(events.Paste(text))
    await pilot.pause()


async def type_into(pilot: Pilot, wid: str, text: str) -> None:
    """Clear an input and enter text: typed key by key, or pasted when long (as an operator would)."""
    widget = await focus(pilot, wid)
    assert isinstance(widget, Input), widget
    if widget.value:
        await pilot.press("end", "ctrl+u")
    if len(text) > PASTE_ABOVE:
        await paste(pilot, text)
    elif text:
        await pilot.press(*text)
    await pilot.pause()
    assert widget.value == text, f"#{wid}: {widget.value!r}"


async def fill(pilot: Pilot, path: str, text: str) -> None:
    """Type into the field of an answers path (`spec.network.gateway`)."""
    await type_into(pilot, widget_id(path), text)


async def choose(pilot: Pilot, wid: str, value: str) -> None:
    """Pick an option of a Select with the keyboard: open it, move to the option, Enter."""
    widget = await focus(pilot, wid)
    assert isinstance(widget, Select), widget
    if widget.value == value:
        return
    await pilot.press("enter")
    await pilot.pause()
    for _ in range(12):
        overlay = pilot.app.screen.focused
        highlighted = getattr(overlay, "highlighted", None)
        options = getattr(widget, "_options", [])
        if highlighted is not None and 0 <= highlighted < len(options) and options[highlighted][1] == value:
            break
        await pilot.press("down")
    await pilot.press("enter")
    await pilot.pause()
    assert widget.value == value, f"{wid}: {widget.value!r} != {value!r}"


async def set_checkbox(pilot: Pilot, wid: str, value: bool) -> None:
    widget = await focus(pilot, wid)
    assert isinstance(widget, Checkbox), widget
    if widget.value != value:
        await pilot.press("space")
        await pilot.pause()
    assert widget.value == value


def expected_answers(base: str = "127.0.88") -> dict[str, Any]:
    """The answers the full wizard test types, as cluster.yaml data (before defaults are written out)."""
    return copy.deepcopy(
        {
            "apiVersion": "skynet.dev/v1alpha1",
            "kind": "Cluster",
            "metadata": {"name": "homelab"},
            "spec": {
                "talos": {"version": "v1.13.9"},
                "kubernetes": {"version": "1.36.3"},
                "network": {
                    "subnet": f"{base}.0/24",
                    "gateway": f"{base}.1",
                    "nameservers": ["1.1.1.1"],
                    "ntp": ["pool.ntp.org"],
                },
                "controlPlane": {"endpoint": f"{base}.10", "vip": True},
                "nodes": [
                    {
                        "hostname": "cp-1",
                        "ip": f"{base}.11",
                        "role": "controlplane",
                        "installDisk": "/dev/sda",
                        "interface": "eth0",
                    },
                    {
                        "hostname": "worker-1",
                        "ip": f"{base}.21",
                        "role": "worker",
                        "installDisk": {"serial": "S4EWNX0R1"},
                        "mac": "aa:bb:cc:dd:ee:01",
                    },
                ],
                "loadBalancer": {"addresses": [f"{base}.200-{base}.220"]},
                "ingress": {
                    "domain": "lab.example.com",
                    "acme": {
                        "email": "ops@example.com",
                        "server": "staging",
                        "challenge": "dns01",
                        "dns01": {"provider": "cloudflare", "tokenEnv": "CF_API_TOKEN"},
                    },
                },
                "gitops": {"repoURL": "REPLACED", "branch": "main", "path": "gitops"},
                "components": {"tracing": False, "imageSecurity": True},
            },
        }
    )


class FakeInstall(Screen[None]):
    """Stands in for the install screen: records what the wizard handed over."""

    def __init__(self, cluster: spec.Cluster, ws: Any, env: dict[str, str] | None):
        super().__init__()
        self.cluster, self.ws, self.env = cluster, ws, env

    def compose(self) -> ComposeResult:
        yield Static("installing")
