"""The watch loop (410 → relist, resume from the resourceVersion, bookmarks, backoff, 404, stop) and the fold."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Hashable, Iterator
from pathlib import Path
from typing import Any

import pytest

from skynet_tui.status.client import ApiStatusError, KubeClient, Unreachable
from skynet_tui.status.fold import Fold
from skynet_tui.status.monitor import KINDS
from skynet_tui.status.watch import Backoff, Kind, WatchLoop
from tests.console_helpers import Seeder, start_api

KIND = Kind("things", "/api/v1/things", lambda obj: obj["metadata"].get("labels", {}).get("v", "?"))


def obj(name: str, rv: int, value: str = "a") -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "ns", "resourceVersion": str(rv), "labels": {"v": value}}}


def event(kind: str, o: dict[str, Any]) -> bytes:
    return json.dumps({"type": kind, "object": o}).encode()


class Lines:
    def __init__(self, lines: list[bytes], error: Exception | None = None):
        self.lines, self.error, self.closed = lines, error, False

    def __iter__(self) -> Iterator[bytes]:
        yield from self.lines
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        self.closed = True


class Script:
    """A scripted API: each get/stream call takes the next step (a value to return or an exception to raise)."""

    def __init__(self, steps: list[Any], loop: list[WatchLoop] | None = None):
        self.steps = steps
        self.calls: list[tuple[str, dict[str, str]]] = []
        self.loop = loop if loop is not None else []

    def _next(self, what: str, query: Any) -> Any:
        self.calls.append((what, dict(query)))
        if not self.steps:
            self.loop[0].stop()  # the script is over: end the loop
            raise Unreachable("script over")
        step = self.steps.pop(0)
        if isinstance(step, Exception):
            raise step
        return step

    def get_json(self, path: str, query: Any = (), timeout: Any = None) -> dict[str, Any]:
        return self._next("list", query)

    def stream(self, path: str, query: Any, timeout: Any) -> Lines:
        return self._next("watch", query)


class Sink:
    def __init__(self) -> None:
        self.cache: dict[Hashable, Any] = {}
        self.log: list[tuple[Any, ...]] = []

    def replace(self, kind: str, entries: dict[Hashable, Any]) -> None:
        self.cache = dict(entries)
        self.log.append(("replace", tuple(sorted(entries.items()))))

    def apply(self, kind: str, key: Hashable, value: Any) -> None:
        if value is None:
            self.cache.pop(key, None)
        else:
            self.cache[key] = value
        self.log.append(("apply", key, value))

    def connected(self, kind: str) -> None:
        self.log.append(("connected",))

    def failed(self, kind: str, error: str, *, unreachable: bool, retry_at: float) -> None:
        self.log.append(("failed", error, unreachable, retry_at))

    def missing(self, kind: str, why: str) -> None:
        self.log.append(("missing", why))


def run_script(steps: list[Any], **kw: Any) -> tuple[WatchLoop, Script, Sink]:
    holder: list[WatchLoop] = []
    script, sink = Script(steps, holder), Sink()
    loop = WatchLoop(KIND, script, sink, backoff=Backoff(0.001, 2, 0.002, 0), missing_retry=0.001, **kw)
    holder.append(loop)
    loop.run()  # in this thread: it returns once the script is over
    return loop, script, sink


def page(items: list[dict[str, Any]], rv: str, token: str = "") -> dict[str, Any]:
    return {"metadata": {"resourceVersion": rv, **({"continue": token} if token else {})}, "items": items}


def test_paged_list_then_watch_from_its_version_and_resume_from_the_last_event() -> None:
    loop, script, sink = run_script(
        [
            page([obj("a", 3)], "10", token="t1"),
            page([obj("b", 7)], "10"),
            Lines(
                [event("MODIFIED", obj("a", 11, "b")), event("DELETED", obj("b", 12))]
            ),  # ends: server timeout
            Lines([event("ADDED", obj("c", 13))]),
        ],
        page_size=1,
    )
    kinds = [what for what, _ in script.calls]
    assert kinds[:4] == ["list", "list", "watch", "watch"]
    assert script.calls[0][1]["limit"] == "1" and "continue" not in script.calls[0][1]
    assert script.calls[1][1]["continue"] == "t1"
    first, second = script.calls[2][1], script.calls[3][1]
    assert first["resourceVersion"] == "10" and first["allowWatchBookmarks"] == "true"
    assert first["watch"] == "true" and first["timeoutSeconds"] == "300"
    assert second["resourceVersion"] == "12"  # resumed from the last event, no second list
    assert loop.lists == 1 and sink.cache == {"ns/a": "b", "ns/c": "a"}


def test_bookmarks_move_the_resource_version_without_touching_the_cache() -> None:
    bookmark = {"kind": "Thing", "apiVersion": "v1", "metadata": {"resourceVersion": "50"}}
    _, script, sink = run_script([page([], "10"), Lines([event("BOOKMARK", bookmark)]), Lines([])])
    assert script.calls[2][1]["resourceVersion"] == "50"
    assert [e for e in sink.log if e[0] == "apply"] == []


def test_410_in_the_stream_or_on_connect_lists_again_and_swaps_the_cache() -> None:
    expired = {
        "kind": "Status",
        "code": 410,
        "reason": "Expired",
        "message": "too old resource version: 5 (9)",
    }
    loop, script, sink = run_script(
        [
            page([obj("a", 3), obj("b", 4)], "5"),
            Lines([event("ERROR", expired)]),
            page([obj("a", 8)], "9"),  # b was deleted while we were away: the swap drops it
            ApiStatusError(410, "Expired", "too old"),  # on connect this time
            page([obj("a", 8), obj("c", 9)], "9"),
            Lines([]),
        ]
    )
    assert [what for what, _ in script.calls][:6] == ["list", "watch", "list", "watch", "list", "watch"]
    assert loop.lists == 3
    replaces = [e[1] for e in sink.log if e[0] == "replace"]
    assert replaces[1] == (("ns/a", "a"),)
    assert sink.cache == {"ns/a": "a", "ns/c": "a"}
    assert script.calls[5][1]["resourceVersion"] == "9"


def test_errors_back_off_exponentially_with_jitter_and_reset_after_a_success() -> None:
    backoff = Backoff(base=1.0, factor=2.0, cap=8.0, jitter=0.2)
    assert [backoff.delay(n, lambda: 0.5) for n in (1, 2, 3, 4, 5, 9)] == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert backoff.delay(1, lambda: 0.0) == pytest.approx(0.8) and backoff.delay(
        1, lambda: 1.0
    ) == pytest.approx(1.2)

    clock = iter(range(100, 200))
    holder: list[WatchLoop] = []
    script, sink = Script([Unreachable("refused"), Unreachable("refused"), ApiStatusError(500, "InternalError", "boom"),
                           page([], "1"), Lines([]), Unreachable("refused")], holder), Sink()  # fmt: skip
    loop = WatchLoop(KIND, script, sink, clock=lambda: float(next(clock)), rand=lambda: 0.5,
                     backoff=Backoff(0.001, 2.0, 1.0, 0.2))  # fmt: skip
    holder.append(loop)
    loop.run()
    failures = [e for e in sink.log if e[0] == "failed"]
    assert [e[1] for e in failures[:3]] == ["refused", "refused", "500 InternalError: boom"]
    assert [e[2] for e in failures[:3]] == [
        True,
        True,
        False,
    ]  # only connection errors make the API unreachable
    delays = [round(e[3] - t, 3) for e, t in zip(failures, (100, 101, 102, 103), strict=False)]
    assert delays[:3] == [0.001, 0.002, 0.004]  # retry_at = now + delay, doubling
    assert failures[3][3] - 103 == pytest.approx(0.001)  # reset after the list and watch succeeded


def test_a_kind_the_api_does_not_serve_is_missing_and_checked_again_later() -> None:
    _, script, sink = run_script(
        [ApiStatusError(404, "NotFound", "not found"), page([obj("a", 1)], "2"), Lines([])]
    )
    assert sink.log[0] == ("missing", "the API does not serve /api/v1/things")
    assert sink.cache == {"ns/a": "a"}


def test_stop_closes_an_open_watch_and_the_thread_ends() -> None:
    gate = threading.Event()

    class Blocking:
        closed = False

        def __iter__(self) -> Iterator[bytes]:
            gate.wait(10)
            return iter(())

        def close(self) -> None:
            self.closed = True
            gate.set()

    stream = Blocking()
    script, sink = Script([page([], "1"), stream]), Sink()
    loop = WatchLoop(KIND, script, sink)
    loop.start()
    deadline = time.monotonic() + 10
    while not any(e[0] == "connected" for e in sink.log):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    loop.stop()
    loop.join(10)
    assert stream.closed and loop._thread is not None and not loop._thread.is_alive()


# -- against the lab's mock API ---------------------------------------------------------------------------------
@pytest.mark.lab
def test_against_the_mock_api_410_after_compaction_relists_and_a_restart_resumes(tmp_path: Path) -> None:
    api, kubeconfig = start_api(tmp_path)
    seed = Seeder(api.store)
    client = KubeClient(kubeconfig)
    updates = threading.Event()

    class Counting(Sink):
        def apply(self, kind: str, key: Hashable, value: Any) -> None:
            super().apply(kind, key, value)
            updates.set()

    sink = Counting()
    kind = Kind("nodes", "/api/v1/nodes", lambda o: o["metadata"]["labels"].get("v", ""))
    loop = WatchLoop(kind, client, sink, backoff=Backoff(0.05, 2, 0.2, 0), watch_seconds=5)
    try:
        seed.create("", "nodes", "", {"metadata": {"name": "n1", "labels": {"v": "1"}}})
        loop.start()
        wait(lambda: loop.watches >= 1)
        seed.mutate("", "nodes", "", "n1", lambda n: n["metadata"]["labels"].update(v="2"))
        wait(lambda: sink.cache.get("n1") == "2")
        assert loop.lists == 1

        # An outage: the loop keeps its resourceVersion and resumes from it (no relist) once the API is back.
        api.stop()
        wait(lambda: any(e[0] == "failed" and e[2] for e in sink.log))
        api.start(api.port, exact=True)
        seed.mutate("", "nodes", "", "n1", lambda n: n["metadata"]["labels"].update(v="3"))
        wait(lambda: sink.cache.get("n1") == "3")
        assert loop.lists == 1

        # Compaction while the API is away: the old resourceVersion is gone (410) and the loop lists again.
        api.stop()
        wait(lambda: sum(1 for e in sink.log if e[0] == "failed") >= 2)
        seed.create("", "nodes", "", {"metadata": {"name": "n2", "labels": {"v": "x"}}})
        api.store.compact()
        api.start(api.port, exact=True)
        wait(lambda: loop.lists == 2 and sink.cache == {"n1": "3", "n2": "x"})
    finally:
        loop.stop()
        loop.join(5)
        client.close()
        api.stop()


def wait(predicate: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


# -- the fold ---------------------------------------------------------------------------------------------------
def test_the_fold_coalesces_a_burst_into_few_snapshots() -> None:
    published = []
    fold = Fold([k.name for k in KINDS], published.append, cluster="lab", interval=0.2)
    for kind in fold.kinds:
        fold.replace(kind, {})
    fold.start()
    try:
        wait(lambda: len(published) >= 1)
        start = len(published)
        for i in range(2000):
            fold.apply("nodes", f"n{i}", _node(f"n{i}"))
        wait(lambda: published[-1].nodes and len(published[-1].nodes) == 2000)
        assert len(published) - start <= 3  # 2000 events, a handful of snapshots
    finally:
        fold.stop()
    last = published[-1]
    assert last.synced and last.kind("nodes").count == 2000
    # an unchanged kind keeps the very same tuple from one snapshot to the next
    assert published[-1].apps is published[-2].apps


def _node(name: str) -> Any:
    from skynet_tui.status.project import node_row

    return node_row(
        {"metadata": {"name": name}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    )
