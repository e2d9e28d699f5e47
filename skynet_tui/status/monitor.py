"""The status core wired together: a watch loop per kind, the fold and its publisher, the Talos poller.

Threads: one `watch-<kind>` per kind in KINDS (blocking HTTP, so never Textual's worker pool), `status-publish`
(builds snapshots and calls `on_snapshot`), and `status-talos` (talosctl every TALOS_INTERVAL). `stop()` ends them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from skynet_tui import launcher
from skynet_tui.status import project
from skynet_tui.status.client import KubeClient, Transport
from skynet_tui.status.fold import INTERVAL, Fold, Publish, utcnow
from skynet_tui.status.model import Snapshot, TalosLayer
from skynet_tui.status.source import Source
from skynet_tui.status.talos import INTERVAL as TALOS_INTERVAL
from skynet_tui.status.talos import Run, TalosPoller, TalosReader
from skynet_tui.status.watch import DEFAULT_BACKOFF, WATCH_SECONDS, Backoff, Kind, WatchLoop

KINDS: tuple[Kind, ...] = (
    Kind("nodes", "/api/v1/nodes", project.node_row),
    Kind("pods", "/api/v1/pods", project.pod_entry),
    Kind("events", "/api/v1/events", project.event_row, field_selector="type=Warning"),
    Kind("applications", "/apis/argoproj.io/v1alpha1/applications", project.app_row),
    Kind("certificates", "/apis/cert-manager.io/v1/certificates", project.cert_row),
    Kind("services", "/api/v1/services", project.lb_row),
    Kind("ingresses", "/apis/networking.k8s.io/v1/ingresses", project.url_rows),
    Kind("pvcs", "/api/v1/persistentvolumeclaims", project.pvc_row),
)
ONCE_TIMEOUT = 30.0  # `status --once` waits at most this for every kind and the Talos layer


class Monitor:
    """Watches one cluster and publishes Snapshots to `on_snapshot` (on its publisher thread)."""

    def __init__(
        self,
        source: Source,
        on_snapshot: Publish = lambda snap: None,
        *,
        transport: Transport | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = utcnow,
        interval: float = INTERVAL,
        backoff: Backoff = DEFAULT_BACKOFF,
        watch_seconds: int = WATCH_SECONDS,
        talos_interval: float = TALOS_INTERVAL,
        talos_run: Run = launcher.run,
        env: Mapping[str, str] | None = None,
        kinds: Sequence[Kind] = KINDS,
    ):
        self.source = source
        self.clock = clock
        self.client: Transport = transport if transport is not None else KubeClient(source.kubeconfig)
        self.fold = Fold(
            [k.name for k in kinds],
            on_snapshot,
            cluster=source.name,
            talos=TalosLayer(configured=source.talosconfig is not None),
            clock=clock,
            wall=wall,
            interval=interval,
            workspace=source.workspace,
        )
        self.loops = [
            WatchLoop(k, self.client, self.fold, clock=clock, backoff=backoff, watch_seconds=watch_seconds)
            for k in kinds
        ]
        reader = TalosReader(source.talosconfig, env=env, run=talos_run, wall=wall)
        self.talos = TalosPoller(reader, self.fold.talos, hint=self._hint, interval=talos_interval)
        self.started = False

    def _hint(self) -> list[tuple[str, str, bool]]:
        """Kubernetes' view of the machines, for talosctl when Talos discovery has nothing."""
        latest = self.fold.latest
        if latest is None:
            return []
        return [(n.name, n.internal_ip, "control-plane" in n.roles) for n in latest.nodes]

    @property
    def latest(self) -> Snapshot | None:
        return self.fold.latest

    def start(self) -> None:
        self.started = True
        self.fold.start()
        for loop in self.loops:
            loop.start()
        self.talos.start()

    def stop(self) -> None:
        """Stop every thread: open watches are closed, so the loops return at once."""
        for loop in self.loops:
            loop.stop()
        self.talos.stop()
        self.fold.stop()
        for loop in self.loops:
            loop.join(5)
        close = getattr(self.client, "close", None)
        if close is not None:
            close()

    def refresh_talos(self) -> None:
        self.talos.poke()

    def wait_ready(self, timeout: float, poll: float = 0.05) -> bool:
        """Until every kind listed (or failed, or is not served) and Talos was read once; False on timeout."""
        deadline = time.monotonic() + timeout
        while not self.fold.ready():
            if time.monotonic() >= deadline:
                return False
            time.sleep(poll)
        return True

    def once(self, timeout: float = ONCE_TIMEOUT) -> Snapshot:
        """Start, wait for a full first view (or the timeout), take a snapshot, stop."""
        self.start()
        try:
            self.wait_ready(timeout)
            return self.fold.publish_now()
        finally:
            self.stop()
