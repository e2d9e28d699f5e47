"""The demo's wiring: the one module of the product that imports the lab (skynet_lab).

It starts a SIMULATED lab and writes the lab's answers into a workspace; whoever runs the install then says
that its machines are simulated. `skynet demo` (commands/demo.py) and the welcome screen's Lab demo start here.
After the install, `keep` hands the lab to a process of its own (skynet_lab/serve.py) that outlives the command,
`stop_kept` ends it, and `inject_faults` writes day-two faults a running lab picks up (skynet_lab/faults.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from skynet_lab import faults, serve, talos_etcd
from skynet_lab.core import Lab, LabBusy, LabError
from skynet_lab.demo import LAB_DIR, parse_nodes, start_lab
from skynet_lab.faults import FaultError
from skynet_tui import launcher, spec
from skynet_tui.plan.timing import SCALE_ENV
from skynet_tui.spec import Cluster
from skynet_tui.workspace import Workspace

__all__ = [
    "CLUSTER_NAME",
    "DEMO_TIMING_SCALE",
    "FAULT_HELP",
    "FaultError",
    "Kept",
    "Lab",
    "LabBusy",
    "LabError",
    "inject_faults",
    "keep",
    "kept",
    "default_root",
    "demo_env",
    "lab_root",
    "lose_etcd",
    "parse_nodes",
    "prepare_demo",
    "stop_kept",
]

CLUSTER_NAME = "lab"
FAULT_HELP = faults.usage()
# The lab's machines answer in seconds, not minutes: every demo polls and retries the plan's steps faster.
DEMO_TIMING_SCALE = "0.2"


@dataclass(frozen=True)
class Kept:
    """A lab serving in a process of its own."""

    pid: int
    root: Path  # the lab's state, <demo folder>/simulated-lab
    api_url: str

    @property
    def bin_dir(self) -> Path:
        return self.root / "bin"


def lab_root(root: str | Path) -> Path:
    """The lab's folder under a demo's folder."""
    return Path(root).resolve() / LAB_DIR


def default_root() -> Path:
    """The demo's folder when none is given: one stable place in the user's data directory, so a demo that
    was stopped resumes when run again (`$XDG_DATA_HOME/skynet/demo`, else `~/.local/share/skynet/demo`)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / "skynet" / "demo"


def demo_env(lab: Lab) -> dict[str, str]:
    """The environment of every demo's install and console: the lab's tools first on PATH, the demo timing."""
    env = lab.env()
    env.setdefault(SCALE_ENV, DEMO_TIMING_SCALE)
    return env


def prepare_demo(
    root: str | Path,
    nodes: str = "3+2",
    *,
    latency: dict[str, float] | None = None,
    versions: tuple[str, str] | None = None,
) -> tuple[Lab, Cluster, Workspace]:
    """Start a lab under `root/simulated-lab`, write its answers to `root/<cluster>/cluster.yaml`; the caller stops the lab.

    `versions` (Talos, Kubernetes) installs those instead of the defaults (the upgrade scenario starts behind).
    A second call on the same `root` resumes: the lab reopens its state (same subnet, same machines) and the
    workspace keeps its journal, so the install continues where it stopped.
    """
    root = Path(root).resolve()
    lab = start_lab(root, nodes, latency=latency, talos_version=versions[0] if versions else None)
    try:
        data = lab.cluster_data(name=CLUSTER_NAME)
        if versions:
            data["spec"]["kubernetes"]["version"] = versions[1]
        cluster = spec.parse(data)
        ws = Workspace.at(root / cluster.name)
        ws.root.mkdir(parents=True, exist_ok=True)
        ws.write("cluster.yaml", spec.dump(cluster))
    except BaseException:
        lab.stop()
        raise
    return lab, cluster, ws


def keep(lab: Lab, timeout: float = 60.0) -> Kept:
    """Hand a running lab to a process of its own (the same state, subnet and API port) and return it."""
    root = lab.root
    lab.stop()
    pid = launcher.detach(serve.command(root), log=root / serve.LOG_FILE)
    info = serve.wait_ready(root, pid, timeout)
    return Kept(pid, root, str(info.get("api_url") or ""))


def kept(root: str | Path) -> Kept | None:
    """The kept lab of a demo folder, when one serves it."""
    lab = lab_root(root)
    info = serve.running(lab)
    return None if info is None else Kept(int(info["pid"]), lab, str(info.get("api_url") or ""))


def stop_kept(root: str | Path) -> int | None:
    """Stop the kept lab of a demo folder; its pid, or None when none was running."""
    return serve.stop(lab_root(root))


def lose_etcd(lab: Lab) -> None:
    """Every control plane of a running lab loses its etcd data (the backup-restore scenario's disaster)."""
    talos_etcd.lose(lab.root)


def inject_faults(root: str | Path, specs: list[str]) -> tuple[list[str], bool]:
    """Write day-two faults into the lab of a demo folder: (one line per fault, whether a lab serves it now).

    Raises FaultError for a bad fault and LabError when the folder holds no lab.
    """
    lab = lab_root(root)
    if not (lab / "lab.json").is_file():
        raise LabError(f"{root} holds no lab: run `skynet demo --keep --workspace {root}` first")
    return faults.inject(lab, specs), serve.in_use(lab)
