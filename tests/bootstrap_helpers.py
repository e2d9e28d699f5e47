"""Test helpers for the bootstrap screen: a scripted stand-in for runner.Runner, scripts, a host app, waiting."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen

from skynet_tui.events import (
    Event,
    PlanFinished,
    PlanStarted,
    StepCancelled,
    StepFailed,
    StepFinished,
    StepInfo,
    StepLine,
    StepRetrying,
    StepSkipped,
    StepStarted,
)

CONTROL_PLANES = ("cp-1", "cp-2", "cp-3")
WORKERS = ("worker-1", "worker-2")
NODES = CONTROL_PLANES + WORKERS
GATE_TIMEOUT = 30.0
T = TypeVar("T")
BUNDLE = "/home/ops/homelab/support-bundle-20260101-120000.tar.gz"
SUMMARY = (
    "Cluster lab is installed.\n"
    "Argo CD: https://argocd.lab.example (admin password: secrets/argocd-admin-password)\n"
    "Grafana: https://grafana.lab.example\n"
    "kubeconfig: /home/ops/homelab/secrets/kubeconfig"
)


def plan_steps() -> tuple[StepInfo, ...]:
    """An install plan shaped like the real one for 3 control planes and 2 workers."""
    applies = tuple(f"apply-{node}" for node in NODES)
    return (
        StepInfo("preflight", "Check tools and answers"),
        StepInfo("secrets", "Generate Talos secrets", depends=("preflight",)),
        StepInfo("configs", "Render machine configs", depends=("secrets",)),
        StepInfo("gitops", "Render and push the GitOps repo", depends=("preflight",)),
        *(StepInfo(f"apply-{node}", "Apply machine config", node, ("configs",)) for node in NODES),
        StepInfo("bootstrap", "Bootstrap etcd", "cp-1", ("apply-cp-1",)),
        StepInfo("kubeconfig", "Fetch the kubeconfig", depends=("bootstrap",)),
        StepInfo("health", "Wait for cluster health", depends=("kubeconfig", *applies)),
        StepInfo("argocd", "Install Argo CD", depends=("health", "gitops")),
        StepInfo("root-app", "Apply the root Application", depends=("argocd",)),
        StepInfo("apps", "Wait for applications Synced/Healthy", depends=("root-app",)),
    )


@dataclass
class Gate:
    """A script item: stop here until the test calls `open()` (or the run is cancelled)."""

    reached: threading.Event = field(default_factory=threading.Event)
    opened: threading.Event = field(default_factory=threading.Event)

    def open(self) -> None:
        self.opened.set()


@dataclass
class Lines:
    """A script item: `count` output lines of one step, tagged round-robin with `nodes`, as fast as possible.

    With `until`, lines keep coming past `count` until that event is set.
    """

    step_id: str
    count: int
    nodes: Sequence[str | None] = (None,)
    text: str = "line {n}"
    until: threading.Event | None = None


ScriptItem = Event | Gate | Lines


class ScriptedRunner:
    """Emits a fixed script of events from `run()`, like runner.Runner does from its threads."""

    def __init__(self, on_event: Callable[[Event], None], script: Iterable[ScriptItem]) -> None:
        self.on_event = on_event
        self.script = list(script)
        self.cancelled = threading.Event()
        self.done = threading.Event()
        self.emitted = 0
        self.lines = 0
        self._running: set[str] = set()

    def run(self) -> bool:
        try:
            return self._run()
        finally:
            self.done.set()

    def _run(self) -> bool:
        for item in self.script:
            if isinstance(item, Gate):
                item.reached.set()
                if not item.opened.wait(GATE_TIMEOUT):  # a bounded hang if a test forgets the gate
                    raise TimeoutError("gate never opened")
            elif isinstance(item, Lines):
                number = 0
                while number < item.count or (item.until is not None and not item.until.is_set()):
                    node = item.nodes[number % len(item.nodes)]
                    number += 1
                    self._emit(StepLine(item.step_id, item.text.format(n=number), node=node))
                self.lines += number
            else:
                if isinstance(item, PlanFinished):
                    self._emit(item)
                    return item.ok
                self._emit(item)
            if self.cancelled.is_set():
                for step_id in sorted(self._running):
                    self._emit(StepCancelled(step_id, 1.0))
                self._emit(PlanFinished(ok=False, summary="cancelled; run again to resume", cancelled=True))
                return False
        return True

    def _emit(self, event: Event) -> None:
        if isinstance(event, StepStarted):
            self._running.add(event.step_id)
        elif isinstance(event, StepFinished | StepFailed | StepCancelled | StepSkipped):
            self._running.discard(event.step_id)
        self.emitted += 1
        self.on_event(event)

    def cancel(self) -> None:
        self.cancelled.set()
        for item in self.script:
            if isinstance(item, Gate):
                item.open()


class ScriptedFactory:
    """A `runner_factory`: run N of the screen gets a ScriptedRunner playing `scripts[N]`."""

    def __init__(self, *scripts: Iterable[ScriptItem]) -> None:
        self.scripts = [list(script) for script in scripts]
        self.runners: list[ScriptedRunner] = []

    def __call__(self, on_event: Callable[[Event], None]) -> ScriptedRunner:
        runner = ScriptedRunner(on_event, self.scripts[len(self.runners)])
        self.runners.append(runner)
        return runner


def step(step_id: str, *lines: str, node: str | None = None, duration: float = 1.5) -> list[Event]:
    """One step that starts, prints `lines` and finishes."""
    return [
        StepStarted(step_id),
        *(StepLine(step_id, line, stream="err", node=node) for line in lines),
        StepFinished(step_id, duration),
    ]


def opening() -> list[Event]:
    """Plan start to the machine configs, all done."""
    return [
        PlanStarted(plan_steps(), simulated=True),
        *step("preflight", "talosctl v1.13.9 (lab)", "kubectl v1.32.0", "helm v3.17.0", duration=0.4),
        *step("secrets", "generated secrets/secrets.yaml", duration=0.8),
        *step("configs", "generated controlplane.yaml, worker.yaml", "rendered 5 node configs", duration=1.2),
        *step("gitops", "rendered 14 Applications", "pushed main to file:///lab/gitops.git", duration=2.1),
    ]


def applies(*, fail: str | None = None) -> list[Event]:
    """The five apply-config steps, in parallel; `fail` names a node whose apply fails after two retries."""
    events: list[Event] = [StepStarted(f"apply-{node}") for node in NODES]
    for node in NODES:
        events.append(
            StepLine(f"apply-{node}", f"applying configuration to {node}", stream="info", node=node)
        )
    for node in NODES:
        step_id = f"apply-{node}"
        if node == fail:
            for attempt in (2, 3):
                events.append(
                    StepLine(step_id, "error applying config: connection refused", "err", node, True)
                )
                events.append(StepRetrying(step_id, attempt, 3, 5.0, "connection refused"))
            events.append(StepFailed(step_id, "gave up after 3 attempt(s): connection refused", 14.2))
        else:
            events.append(StepLine(step_id, "config applied; node is installing", stream="info", node=node))
            events.append(StepFinished(step_id, 3.0 + NODES.index(node) * 0.4))
    return events


def cluster_up() -> list[Event]:
    """Bootstrap through applications, with expected noise while etcd comes up."""
    return [
        StepStarted("bootstrap"),
        StepLine("bootstrap", "error: bootstrap is not available yet", "err", "cp-1", True),
        StepRetrying("bootstrap", 2, 10, 2.0, "bootstrap is not available yet"),
        StepLine("bootstrap", "etcd bootstrapped", "info", "cp-1"),
        StepFinished("bootstrap", 6.3),
        *step("kubeconfig", "wrote secrets/kubeconfig", duration=0.3),
        StepStarted("health"),
        *(StepLine("health", f"waiting for node {node} Ready", "info") for node in NODES),
        StepFinished("health", 22.5),
        *step("argocd", "applied 57 objects (server-side)", duration=8.0),
        *step("root-app", "applied Application argocd/root", duration=0.5),
        *step("apps", "14/14 Synced/Healthy", duration=31.0),
    ]


def success_script() -> list[ScriptItem]:
    return [*opening(), *applies(), *cluster_up(), PlanFinished(ok=True, summary=SUMMARY)]


def failure_script() -> list[ScriptItem]:
    return [
        *opening(),
        *applies(fail="worker-2"),
        StepStarted("bootstrap"),
        StepFinished("bootstrap", 6.3),
        *step("kubeconfig", duration=0.3),
        PlanFinished(
            ok=False,
            summary="1 step(s) not done; fix the cause and run again to resume",
            support_bundle=BUNDLE,
        ),
    ]


def resume_script() -> list[ScriptItem]:
    """What a re-run after `failure_script` does: skip what is finished, run the rest."""
    finished = ["preflight", "secrets", "configs", "gitops", "bootstrap", "kubeconfig"]
    finished += [f"apply-{node}" for node in NODES if node != "worker-2"]
    return [
        PlanStarted(plan_steps(), simulated=True),
        *(StepSkipped(step_id, "finished in an earlier run") for step_id in finished),
        *step("apply-worker-2", "config applied; node is installing", node="worker-2"),
        *cluster_up()[6:],
        PlanFinished(ok=True, summary=SUMMARY),
    ]


def midway_script(gate: Gate) -> list[ScriptItem]:
    """Stops with three applies done, two running and bootstrap retrying."""
    events = applies()
    running = [
        e
        for e in events
        if not (isinstance(e, StepFinished) and e.step_id in ("apply-cp-3", "apply-worker-2"))
    ]
    return [
        *opening(),
        *running,
        StepLine("apply-worker-2", "waiting for the node to reboot", "info", "worker-2"),
        StepStarted("bootstrap"),
        StepLine("bootstrap", "error: bootstrap is not available yet", "err", "cp-1", True),
        StepRetrying("bootstrap", 2, 10, 2.0, "bootstrap is not available yet"),
        gate,
        PlanFinished(ok=True, summary=SUMMARY),
    ]


class FakeClock:
    """A clock the test moves by hand, so elapsed times on screen are fixed."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Host(App):
    """A bare app that shows one screen: keeps these tests independent of the real application shell."""

    TITLE = "skynet"

    def __init__(self, screen: Screen) -> None:
        super().__init__()
        self.test_screen = screen
        self.results: list[object] = []

    def on_mount(self) -> None:
        self.push_screen(self.test_screen, self.results.append)


async def wait_until(
    pilot: Pilot, predicate: Callable[[], bool], timeout: float = 10.0, what: str = ""
) -> float:
    """Let the app run until `predicate()` holds; returns the seconds it took. Fails after `timeout`."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")
        await pilot.pause(0.02)
    return time.monotonic() - start


async def clear_toasts(pilot: Pilot, *messages: str) -> None:
    """Wait until these notifications have reached the app, then clear every toast (they cover the log).

    `notify()` only posts a message to the app: the screen's phase changes before the toast exists, so a
    clear that does not wait for it can run first and the toast is drawn afterwards.
    """
    app = pilot.app
    await wait_until(
        pilot,
        lambda: set(messages) <= {note.message for note in app._notifications},
        what=f"the notifications {messages}",
    )
    app.clear_notifications()
    await pilot.pause()


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a Pilot scenario (the suite has no asyncio plugin)."""
    return asyncio.run(coro)
