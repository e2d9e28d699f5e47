"""Per-kind caches of slim projections, folded into immutable Snapshots published at most every `interval`.

The watch loops call `replace`/`apply`/`connected`/`failed`/`missing` from their threads; a publisher thread
waits for a change, lets a burst settle until `interval` has passed since the last publish, builds one Snapshot
and hands it to `publish` (on the publisher thread). Unchanged kinds keep their tuples (and row objects), so a
consumer can skip what did not change by identity. Pods are kept as `PodEntry`s with running counts, so a
snapshot of 30,000 pods costs the problem pods, not the pods.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import Counter
from collections.abc import Callable, Hashable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from skynet_tui.access import grants
from skynet_tui.backup import catalog
from skynet_tui.status import health
from skynet_tui.status.model import (
    ApiState,
    KindState,
    PodCounts,
    PodProblem,
    Snapshot,
    TalosLayer,
    WarningEvent,
)
from skynet_tui.status.project import PodEntry
from skynet_tui.workspace import Workspace

UNSHARED = "this laptop is the only copy of the cluster's keys: share them encrypted with skynet secrets add-recipient KEY"

INTERVAL = 0.25  # at most ~4 snapshots a second
REFRESH = 15.0  # publish at least this often: certificate expiry and restart windows move with time
MAX_EVENTS = 200  # the newest Warning events kept in a snapshot

Publish = Callable[[Snapshot], None]


def utcnow() -> datetime:
    return datetime.now(UTC)


class _Kind:
    """One kind's cache and connection state."""

    def __init__(self, name: str):
        self.name = name
        self.entries: dict[Hashable, Any] = {}
        self.version = 0
        self.synced = False
        self.served = True
        self.error = ""
        self.unreachable = False
        self.retry_at: float | None = None
        self.live = False
        self.last_ok: float | None = None


class _Pods:
    """Pod entries with running counts by phase and node, and the subset that has a problem."""

    def __init__(self) -> None:
        self.entries: dict[Hashable, PodEntry] = {}
        self.phases: Counter[str] = Counter()
        self.nodes: Counter[str] = Counter()
        self.flagged: dict[Hashable, PodEntry] = {}

    def _add(self, key: Hashable, entry: PodEntry) -> None:
        self.entries[key] = entry
        self.phases[entry.phase] += 1
        if entry.node:
            self.nodes[entry.node] += 1
        if entry.problem is not None:
            self.flagged[key] = entry

    def _remove(self, key: Hashable) -> None:
        old = self.entries.pop(key, None)
        if old is None:
            return
        self.phases[old.phase] -= 1
        if old.node:
            self.nodes[old.node] -= 1
            if self.nodes[old.node] <= 0:
                del self.nodes[old.node]
        self.flagged.pop(key, None)

    def replace(self, entries: dict[Hashable, Any]) -> None:
        self.entries, self.phases, self.nodes, self.flagged = {}, Counter(), Counter(), {}
        for key, entry in entries.items():
            self._add(key, entry)

    def apply(self, key: Hashable, entry: PodEntry | None) -> None:
        self._remove(key)
        if entry is not None:
            self._add(key, entry)

    def counts(self) -> PodCounts:
        return PodCounts(
            total=len(self.entries),
            running=self.phases["Running"],
            pending=self.phases["Pending"],
            succeeded=self.phases["Succeeded"],
            failed=self.phases["Failed"],
            per_node=MappingProxyType(dict(self.nodes)),
        )

    def problems(self, now: datetime) -> tuple[PodProblem, ...]:
        found = [p for e in self.flagged.values() if (p := e.problem_at(now)) is not None]
        found.sort(key=lambda p: (p.namespace, p.name))
        return tuple(found)


def _sorted(values: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(sorted(values, key=lambda row: row.key if hasattr(row, "key") else row.name))


def _flat(values: Iterable[Any]) -> tuple[Any, ...]:
    rows = [row for group in values for row in group]
    rows.sort(key=lambda row: row.key)
    return tuple(rows)


def _newest_events(values: Iterable[WarningEvent]) -> tuple[WarningEvent, ...]:
    floor = datetime.min.replace(tzinfo=UTC)
    events = sorted(values, key=lambda e: (e.last_seen or floor, e.key), reverse=True)
    return tuple(events[:MAX_EVENTS])


# kind name -> (Snapshot field, how its cache becomes the field's tuple)
BUILDERS: dict[str, tuple[str, Callable[[Iterable[Any]], tuple[Any, ...]]]] = {
    "nodes": ("nodes", _sorted),
    "applications": ("apps", _sorted),
    "events": ("events", _newest_events),
    "certificates": ("certs", _sorted),
    "services": ("load_balancers", _sorted),
    "ingresses": ("urls", _flat),
    "pvcs": ("pvcs", _sorted),
}


class Fold:
    """The caches of every watched kind and the snapshot publisher."""

    def __init__(
        self,
        kinds: Iterable[str],
        publish: Publish,
        *,
        cluster: str = "",
        talos: TalosLayer | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = utcnow,
        interval: float = INTERVAL,
        refresh: float = REFRESH,
        workspace: Path | None = None,
    ):
        self.publish = publish
        self.backups = catalog.Watcher(workspace) if workspace is not None else None
        self.access = grants.Watcher(workspace) if workspace is not None else None
        self.workspace = Workspace.at(workspace) if workspace is not None else None
        self.cluster = cluster
        self.clock = clock
        self.wall = wall
        self.interval = interval
        self.refresh = refresh
        self.kinds = {name: _Kind(name) for name in kinds}
        self.pods = _Pods()
        self.talos_layer = talos or TalosLayer()
        self.talos_read = False  # a first Talos read (or decision not to read) has arrived
        self.published = 0
        self.latest: Snapshot | None = None
        self._lock = threading.Lock()
        self._dirty = threading.Event()
        self._stop = threading.Event()
        self._built: dict[str, tuple[int, tuple[Any, ...]]] = {}
        self._last_publish = float("-inf")
        self._thread: threading.Thread | None = None

    # -- what the watch loops call (watch.Sink)
    def replace(self, kind: str, entries: dict[Hashable, Any]) -> None:
        with self._lock:
            state = self.kinds[kind]
            if kind == "pods":
                self.pods.replace(entries)
            else:
                state.entries = entries
            self._ok(state)
            state.synced, state.served = True, True
            state.version += 1
        self._dirty.set()

    def apply(self, kind: str, key: Hashable, value: Any) -> None:
        with self._lock:
            state = self.kinds[kind]
            if kind == "pods":
                self.pods.apply(key, value)
            elif value is None:
                state.entries.pop(key, None)
            else:
                state.entries[key] = value
            state.version += 1
            state.last_ok = self.clock()
        self._dirty.set()

    def connected(self, kind: str) -> None:
        with self._lock:
            state = self.kinds[kind]
            changed = state.unreachable or bool(state.error)
            self._ok(state)
            state.live = True
        if changed:
            self._dirty.set()

    def failed(self, kind: str, error: str, *, unreachable: bool, retry_at: float) -> None:
        with self._lock:
            state = self.kinds[kind]
            if state.live:  # the data was current until the connection broke
                state.last_ok = self.clock()
            state.live = False
            state.error, state.unreachable, state.retry_at = error, unreachable, retry_at
        self._dirty.set()

    def missing(self, kind: str, why: str) -> None:
        with self._lock:
            state = self.kinds[kind]
            changed = state.served or state.entries or state.unreachable
            self._ok(state)
            state.served, state.synced, state.error = False, False, why
            state.entries = {}
            state.version += 1
        if changed:
            self._dirty.set()

    def _ok(self, state: _Kind) -> None:
        state.error, state.unreachable, state.retry_at = "", False, None
        state.last_ok = self.clock()

    def talos(self, layer: TalosLayer) -> None:
        with self._lock:
            self.talos_layer = layer
            self.talos_read = True
        self._dirty.set()

    # -- snapshots
    def ready(self) -> bool:
        """Every kind listed (or known not served, or failing) and the Talos layer read once."""
        with self._lock:
            settled = all(k.synced or not k.served or k.error for k in self.kinds.values())
            return settled and self.talos_read

    def build(self) -> Snapshot:
        with self._lock:
            now = self.wall()
            fields: dict[str, Any] = {}
            for name, (field, make) in BUILDERS.items():
                state = self.kinds.get(name)
                if state is None:
                    continue
                cached = self._built.get(name)
                if cached is None or cached[0] != state.version:
                    cached = (state.version, make(state.entries.values()))
                    self._built[name] = cached
                fields[field] = cached[1]
            snap = Snapshot(
                taken_at=now,
                clock=self.clock(),
                cluster=self.cluster,
                api=self._api(),
                kinds=tuple(
                    KindState(
                        k.name,
                        k.synced,
                        k.served,
                        len(self.pods.entries) if k.name == "pods" else len(k.entries),
                        k.error,
                    )
                    for k in self.kinds.values()
                ),
                problem_pods=self.pods.problems(now),
                pods=self.pods.counts(),
                talos=self.talos_layer,
                **fields,
            )
        snap = dataclasses.replace(snap, capacity=health.capacity(snap))
        if self.backups is not None:
            text, level = catalog.summary(self.backups.newest(), snap.taken_at)
            snap = dataclasses.replace(snap, backup=text, backup_level=level)
        if self.access is not None:
            text, level = self.access.summary(snap.taken_at)
            snap = dataclasses.replace(snap, access=text, access_level=level)
        if self.workspace is not None and self.workspace.secrets_unshared():
            snap = dataclasses.replace(snap, unshared=UNSHARED)
        layers, problems = health.assess(snap)
        return dataclasses.replace(snap, layers=layers, problems=problems)

    def _api(self) -> ApiState:
        down = [k for k in self.kinds.values() if k.unreachable]
        last = [k.last_ok for k in self.kinds.values() if k.last_ok is not None]
        last_ok = max(last) if last else None
        if not down:
            return ApiState(True, "", last_ok, None)
        retries = [k.retry_at for k in down if k.retry_at is not None]
        return ApiState(False, down[0].error, last_ok, min(retries) if retries else None)

    def publish_now(self) -> Snapshot:
        self._dirty.clear()
        snap = self.build()
        self.latest = snap
        self.published += 1
        self._last_publish = self.clock()
        self.publish(snap)
        return snap

    # -- the publisher thread
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="status-publish", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._dirty.set()
        if self._thread is not None:
            self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._dirty.wait(self.refresh)
            if self._stop.is_set():
                return
            wait = self._last_publish + self.interval - self.clock()
            if wait > 0:  # a burst of events becomes one snapshot
                self._stop.wait(wait)
                if self._stop.is_set():
                    return
            self.publish_now()
