"""One list+watch loop per resource kind, in its own thread: paged list, watch from its resourceVersion, repeat.

A loop lists with `limit`/`continue` (projecting each page as it arrives, so a page of raw objects is the most it
holds), then watches from the list's resourceVersion with bookmarks, a server-side `timeoutSeconds` and a client
read timeout a little longer (a dead link never hangs it), and resumes from the last resourceVersion it saw after
each watch ends. 410 Gone (in the stream or on connect) means the resourceVersion is too old: it lists again and
swaps the whole cache. Errors back off exponentially with jitter; 404 means the API does not serve the kind (its
CRD is not installed) and is retried slowly. `stop()` ends it promptly, closing an open watch.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Protocol

from skynet_tui.status.client import ApiStatusError, Lines, Transport, Unreachable

PAGE_SIZE = 500
WATCH_SECONDS = 300  # the server ends each watch after this; the loop resumes from the last resourceVersion
CONNECT_TIMEOUT = 5.0
READ_GRACE = 30.0  # the client's read timeout is the watch's timeout plus this
MISSING_RETRY = 30.0  # seconds between checks whether a kind the API did not serve is served now

Project = Callable[[dict[str, Any]], Any]  # raw object -> what the cache keeps (None: nothing)


@dataclass(frozen=True)
class Kind:
    """A watched resource kind: its collection path, selectors, and the projection kept per object."""

    name: str
    path: str  # /api/v1/pods, /apis/argoproj.io/v1alpha1/applications
    project: Project
    field_selector: str = ""
    label_selector: str = ""

    def query(self) -> list[tuple[str, str]]:
        out = []
        if self.field_selector:
            out.append(("fieldSelector", self.field_selector))
        if self.label_selector:
            out.append(("labelSelector", self.label_selector))
        return out


def object_key(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    namespace = meta.get("namespace") or ""
    return f"{namespace}/{meta.get('name', '')}" if namespace else str(meta.get("name", ""))


class Sink(Protocol):
    """Where a loop's results go (fold.Fold); called on the loop's thread."""

    def replace(self, kind: str, entries: dict[Hashable, Any]) -> None: ...

    def apply(self, kind: str, key: Hashable, value: Any) -> None: ...

    def connected(self, kind: str) -> None: ...

    def failed(self, kind: str, error: str, *, unreachable: bool, retry_at: float) -> None: ...

    def missing(self, kind: str, why: str) -> None: ...


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter: base × factor^(failures-1), at most `cap`, ± `jitter` of it."""

    base: float = 0.5
    factor: float = 2.0
    cap: float = 30.0
    jitter: float = 0.2

    def delay(self, failures: int, rand: Callable[[], float] = random.random) -> float:
        raw = min(self.cap, self.base * self.factor ** max(0, failures - 1))
        return max(0.0, raw * (1 + self.jitter * (2 * rand() - 1)))


DEFAULT_BACKOFF = Backoff()


class Gone(Exception):
    """The resourceVersion is too old (410): list again."""


class WatchLoop:
    """List+watch of one kind into a Sink, in a daemon thread; `rv` is the newest resourceVersion seen."""

    def __init__(
        self,
        kind: Kind,
        transport: Transport,
        sink: Sink,
        *,
        clock: Callable[[], float] = time.monotonic,
        rand: Callable[[], float] = random.random,
        backoff: Backoff = DEFAULT_BACKOFF,
        page_size: int = PAGE_SIZE,
        watch_seconds: int = WATCH_SECONDS,
        missing_retry: float = MISSING_RETRY,
    ):
        self.kind = kind
        self.transport = transport
        self.sink = sink
        self.clock = clock
        self.rand = rand
        self.backoff = backoff
        self.page_size = page_size
        self.watch_seconds = watch_seconds
        self.missing_retry = missing_retry
        self.rv = ""
        self.lists = 0  # how many full lists it made (the first, and one after each 410)
        self.watches = 0
        self.failures = 0
        self._stop = threading.Event()
        self._stream: Lines | None = None
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    # -- lifecycle
    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name=f"watch-{self.kind.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            stream = self._stream
        if stream is not None:
            stream.close()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    # -- the loop
    def run(self) -> None:
        while not self._stop.is_set():
            try:
                if not self.rv:
                    self.list()
                self.watch()
                self.failures = 0
            except Gone:
                self.rv = ""  # list again at once; a second 410 in a row waits like an error
                self.failures += 1
                if self.failures > 1:
                    self._wait(self.backoff.delay(self.failures - 1, self.rand))
            except ApiStatusError as exc:
                if self._stop.is_set():
                    return
                if exc.code == 404:
                    self.rv = ""
                    self.sink.missing(self.kind.name, f"the API does not serve {self.kind.path}")
                    self._wait(self.missing_retry)
                    continue
                self._failed(f"{exc.code} {exc.reason}: {exc.message}".strip(), unreachable=False)
            except (Unreachable, ValueError) as exc:  # ValueError: a body that is not JSON
                if self._stop.is_set():
                    return
                self._failed(str(exc), unreachable=isinstance(exc, Unreachable))

    def _failed(self, error: str, *, unreachable: bool) -> None:
        self.failures += 1
        delay = self.backoff.delay(self.failures, self.rand)
        self.sink.failed(self.kind.name, error, unreachable=unreachable, retry_at=self.clock() + delay)
        self._wait(delay)

    def _wait(self, seconds: float) -> None:
        self._stop.wait(seconds)

    def list(self) -> None:
        """Every object, page by page, projected as each page arrives; then the cache is swapped whole."""
        entries: dict[Any, Any] = {}
        token = ""
        while True:
            query = [*self.kind.query(), ("limit", str(self.page_size))]
            if token:
                query.append(("continue", token))
            try:
                page = self.transport.get_json(self.kind.path, query)
            except ApiStatusError as exc:
                if exc.code == 410:  # the continue token expired: the list starts over
                    raise Gone() from None
                raise
            project = self.kind.project
            for obj in page.get("items") or []:
                value = project(obj)
                if value is not None:
                    entries[object_key(obj)] = value
            meta = page.get("metadata") or {}
            token = meta.get("continue") or ""
            if not token:
                self.rv = str(meta.get("resourceVersion") or "")
                break
            if self._stop.is_set():
                return
        self.lists += 1
        self.sink.replace(self.kind.name, entries)

    def watch(self) -> None:
        """One watch from `rv` until the server ends it (then the loop resumes from the newest rv)."""
        query = [
            *self.kind.query(),
            ("watch", "true"),
            ("resourceVersion", self.rv),
            ("allowWatchBookmarks", "true"),
            ("timeoutSeconds", str(self.watch_seconds)),
        ]
        timeout = (CONNECT_TIMEOUT, self.watch_seconds + READ_GRACE)
        try:
            stream = self.transport.stream(self.kind.path, query, timeout)
        except ApiStatusError as exc:
            if exc.code == 410:
                raise Gone() from None
            raise
        with self._lock:
            self._stream = stream
        self.watches += 1
        self.sink.connected(self.kind.name)
        try:
            if self._stop.is_set():
                return
            for line in stream:
                if self._stop.is_set():
                    return
                self._event(json.loads(line))
        finally:
            with self._lock:
                self._stream = None
            stream.close()

    def _event(self, event: dict[str, Any]) -> None:
        kind, obj = event.get("type"), event.get("object") or {}
        if kind == "ERROR":
            code = int(obj.get("code") or 0)
            if code == 410:
                raise Gone()
            raise ApiStatusError(code, str(obj.get("reason") or ""), str(obj.get("message") or ""))
        rv = str((obj.get("metadata") or {}).get("resourceVersion") or "")
        if kind == "BOOKMARK":
            self.rv = rv or self.rv
            return
        key = object_key(obj)
        if kind == "DELETED":
            self.sink.apply(self.kind.name, key, None)
        elif kind in ("ADDED", "MODIFIED"):
            self.sink.apply(self.kind.name, key, self.kind.project(obj))
        self.rv = rv or self.rv
