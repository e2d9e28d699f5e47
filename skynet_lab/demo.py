"""`skynet demo` set-up: a started lab, its answers file written into a workspace, ready to install."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from skynet_lab.core import MAX_CONTROL_PLANES, MAX_WORKERS, Lab, LabError

if TYPE_CHECKING:
    from skynet_tui.spec import Cluster
    from skynet_tui.workspace import Workspace

CLUSTER_NAME = "lab"
LAB_DIR = "simulated-lab"  # the lab's state, beside the workspace folder <root>/<cluster name>
BANNER = "SIMULATED LAB: no real machine is touched; every node, tool and API here is a simulation."

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


def prepare_demo(
    root: str | Path, nodes: str = "3+2", *, latency: dict[str, float] | None = None
) -> tuple[Lab, Cluster, Workspace]:
    """Start a lab under `root/simulated-lab`, write its answers to `root/<cluster>/cluster.yaml`; the caller stops the lab.

    A second call on the same `root` resumes: the lab reopens its state (same subnet, same machines) and the
    workspace keeps its journal, so the install continues where it stopped.
    """
    from skynet_tui import spec
    from skynet_tui.workspace import Workspace, atomic_write

    control_planes, workers = parse_nodes(nodes)
    root = Path(root).resolve()
    lab = Lab(root / LAB_DIR, control_planes, workers, latency=latency)
    lab.start()
    try:
        if (lab.control_planes, lab.workers) != (control_planes, workers):
            raise LabError(
                f"{root} holds a lab of {lab.control_planes}+{lab.workers} nodes; "
                f"use another --workspace for {control_planes}+{workers}"
            )
        cluster = spec.parse(lab.cluster_data(name=CLUSTER_NAME))
        ws = Workspace.at(root / cluster.name)
        ws.root.mkdir(parents=True, exist_ok=True)
        atomic_write(ws.cluster_yaml, spec.dump(cluster))
    except BaseException:
        lab.stop()
        raise
    return lab, cluster, ws
