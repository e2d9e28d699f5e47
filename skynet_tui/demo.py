"""The demo's wiring: the one module of the product that imports the lab (skynet_lab).

It starts a SIMULATED lab and writes the lab's answers into a workspace; whoever runs the install then says
that its machines are simulated. `skynet demo` (commands/demo.py) and the welcome screen's Lab demo start here.
"""

from __future__ import annotations

from pathlib import Path

from skynet_lab.core import Lab, LabBusy, LabError
from skynet_lab.demo import parse_nodes, start_lab
from skynet_tui import spec
from skynet_tui.spec import Cluster
from skynet_tui.workspace import Workspace

__all__ = ["CLUSTER_NAME", "Lab", "LabBusy", "LabError", "parse_nodes", "prepare_demo"]

CLUSTER_NAME = "lab"


def prepare_demo(
    root: str | Path, nodes: str = "3+2", *, latency: dict[str, float] | None = None
) -> tuple[Lab, Cluster, Workspace]:
    """Start a lab under `root/simulated-lab`, write its answers to `root/<cluster>/cluster.yaml`; the caller stops the lab.

    A second call on the same `root` resumes: the lab reopens its state (same subnet, same machines) and the
    workspace keeps its journal, so the install continues where it stopped.
    """
    root = Path(root).resolve()
    lab = start_lab(root, nodes, latency=latency)
    try:
        cluster = spec.parse(lab.cluster_data(name=CLUSTER_NAME))
        ws = Workspace.at(root / cluster.name)
        ws.root.mkdir(parents=True, exist_ok=True)
        ws.write("cluster.yaml", spec.dump(cluster))
    except BaseException:
        lab.stop()
        raise
    return lab, cluster, ws
