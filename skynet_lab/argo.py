"""The lab's cluster simulation loop: Nodes, kube-system, controllers, MetalLB/cert-manager, then Argo CD.

`Simulation` ticks every ~0.1 s in a thread. Machines are read only through `lab.state.load_lab` /
`load_nodes`: a Node appears once its kubelet is registered and is Ready once `node_ready`.
The lab's Argo CD (kubesim/argocd.py) reads each Application's source the way a real one does: from the Git
repository its `repoURL` names, which in the lab is the `file://` bare repository the installer pushed to (no
workspace path is needed; a `file://` URL is read with git through the launcher, any other URL is reported as a
ComparisonError, and Helm chart sources are rendered from the simulated chart table).
Latencies come from lab.json "latency" (keys and defaults in kubesim/base.py DEFAULT_LATENCY); the fault
`app_degraded: <name>` (or a list of names) keeps those Applications Degraded. Errors go to <root>/kube-sim.log.
"""

from __future__ import annotations

import json
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from skynet_lab import state
from skynet_lab.kubesim import metrics, nodes
from skynet_lab.kubesim.argocd import ArgoCD
from skynet_lab.kubesim.base import DEFAULT_LATENCY, Sim
from skynet_lab.kubesim.platform import Platform
from skynet_lab.kubesim.store import Store, now_rfc3339
from skynet_lab.kubesim.workloads import Controllers
from skynet_tui import api

LOG = "kube-sim.log"  # simulation errors, under the lab root
SNAPSHOT = "kube-objects.json"  # the cluster's objects, kept across restarts of the lab
SAVE_EVERY = 2.0  # seconds between snapshots while objects change
FAST_TICK, FAST_STREAK = 0.01, 25  # quick re-steps while objects change, at most this many in a row


def seed(store: Store) -> None:
    nodes.seed(store)


class Simulation:
    """The tick loop: machines → Nodes → kube-system → controllers → platform → APIServices → Argo CD."""

    def __init__(self, root: Path, store: Store, *, tick: float = 0.1):
        self.root = Path(root)
        self.store = store
        self.tick = tick
        self.sim = Sim(store)
        self.controllers = Controllers(self.sim)
        self.platform = Platform(self.sim)
        self.argo = ArgoCD(self.sim)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._saved, self._saved_at = "", 0.0

    def kubernetes_version(self) -> str:
        try:
            version = str((state.load_lab(self.root).get("versions") or {}).get("kubernetes") or "1.36.3")
        except Exception:
            version = "1.36.3"
        return version if version.startswith("v") else f"v{version}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="lab-kube-sim", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.save()

    def load(self) -> None:
        """Restore the objects a previous run of this lab left (see `save`)."""
        path = self.root / SNAPSHOT
        if path.exists():
            self.store.restore(json.loads(path.read_text(encoding="utf-8")))
            self._saved = self.store.resource_version

    def save(self) -> None:
        """Write every object to <root>/kube-objects.json (atomically) when anything changed since last time."""
        version = self.store.resource_version
        if version == self._saved:
            return
        api.atomic_write(
            self.root / SNAPSHOT, json.dumps(self.store.snapshot(), separators=(",", ":")), 0o600
        )
        self._saved, self._saved_at = version, time.monotonic()

    def _run(self) -> None:
        streak = 0
        while not self._stop.is_set():
            before = self.store.resource_version
            self.step()
            # While the cluster is still changing, step again soon (a chain of controllers converges in a few
            # quick steps); once it is idle, tick at the normal period.
            changed = self.store.resource_version != before
            streak = streak + 1 if changed and streak < FAST_STREAK else 0
            if time.monotonic() - self._saved_at >= SAVE_EVERY:
                self._safely(self.save)
            self._stop.wait(FAST_TICK if streak else self.tick)

    def step(self) -> None:
        """One tick; a failing phase is logged to <root>/kube-sim.log and never stops the others."""
        try:
            lab = state.load_lab(self.root)
            machines = state.load_nodes(self.root)
        except state.LabStateError:
            lab, machines = {}, []
        sim = self.sim
        sim.latency = {**DEFAULT_LATENCY, **(lab.get("latency") or {})}
        sim.faults = dict(lab.get("faults") or {})
        phases = (
            lambda: nodes.step_nodes(sim, lab, machines),
            lambda: nodes.step_kube_system(sim, lab, machines),
            lambda: self.controllers.step(self.argo.crashing_workloads()),
            self.platform.step,
            lambda: metrics.step_api_services(sim),
            self.argo.step,
        )
        for phase in phases:
            self._safely(phase)

    def _safely(self, fn: Callable[[], object]) -> None:
        try:
            fn()
        except Exception:  # a simulation bug must not stop the lab: logged under the lab root
            with open(self.root / LOG, "a", encoding="utf-8") as log:
                log.write(f"{now_rfc3339()} simulation step failed:\n{traceback.format_exc()}\n")
