"""The lab of `skynet demo`: its size from `--nodes`, started under the demo's folder, resumed when it is there."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from skynet_lab.core import MAX_CONTROL_PLANES, MAX_WORKERS, Lab, LabError

LAB_DIR = "simulated-lab"  # the lab's state, beside the workspace folder <root>/<cluster name>
# The first machine boots the ISO on a DHCP lease, as on a network with a DHCP server: the demo shows its config
# sent to the lease (maintenanceAddress) and the node coming back at its own IP.
LEASES = 1

_NODES = re.compile(r"^\s*(\d+)\s*\+\s*(\d+)\s*$")


def parse_nodes(text: str) -> tuple[int, int]:
    """`3+2` → (3 control planes, 2 workers); ValueError with a one-line reason otherwise."""
    match = _NODES.match(text or "")
    if not match:
        raise ValueError(f"--nodes takes CONTROL_PLANES+WORKERS such as 3+2, not {text!r}")
    control_planes, workers = int(match[1]), int(match[2])
    if not 1 <= control_planes <= MAX_CONTROL_PLANES or workers > MAX_WORKERS:
        raise ValueError(
            f"--nodes takes 1 to {MAX_CONTROL_PLANES} control planes and 0 to {MAX_WORKERS} workers, not {text}"
        )
    return control_planes, workers


def start_lab(
    root: Path,
    nodes: str = "3+2",
    *,
    latency: dict[str, float] | None = None,
    talos_version: str | None = None,
) -> Lab:
    """Start (or reopen) the lab under `root/simulated-lab`; the caller stops it. `talos_version`: what its
    machines boot (the upgrade scenario starts one release back).

    A lab already there keeps its subnet and machines, so an interrupted demo resumes; asking it for another
    size is a LabError.
    """
    control_planes, workers = parse_nodes(nodes)
    options: dict[str, Any] = {"latency": latency, "leases": LEASES}
    if talos_version:
        options["talos_version"] = talos_version
    lab = Lab(root / LAB_DIR, control_planes, workers, **options)
    lab.start()
    if (lab.control_planes, lab.workers) != (control_planes, workers):
        lab.stop()
        raise LabError(
            f"{root} holds a lab of {lab.control_planes}+{lab.workers} nodes; "
            f"use another --workspace for {control_planes}+{workers}"
        )
    return lab
