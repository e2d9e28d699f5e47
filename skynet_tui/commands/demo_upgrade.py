"""`skynet demo --scenario upgrade`: after the lab's install one release behind, Talos then Kubernetes upgraded
headless, node by node (`upgrade <host> <from> -> <to> started|done` lines), through the same plans as a cluster."""

from __future__ import annotations

from skynet_tui.workspace import Workspace

UPGRADE_FROM = ("v1.13.8", "1.35.4")  # what the scenario installs: Talos, Kubernetes
UPGRADE_TO = ("v1.13.9", "1.36.3")  # where it upgrades them


def upgrade_scenario(ws: Workspace, env: dict[str, str]) -> int:
    """Upgrade Talos, then Kubernetes, of the demo's installed lab cluster; the first exit code that is not 0."""
    # The upgrade front end (the status core, the kubernetes client) loads once the install is done.
    from skynet_tui.commands.upgrade import run_upgrade
    from skynet_tui.plan.upgrade import Request

    for request in (Request("talos", UPGRADE_TO[0]), Request("kubernetes", UPGRADE_TO[1])):
        print(f"SIMULATED LAB: upgrading {request.kind} to {request.target}", flush=True)
        code = run_upgrade(ws, request, assume_yes=True, env=env, simulated=True)
        if code:
            return code
    return 0
