"""The runner's pause: the unit under way (a node's upgrade) finishes, the next one does not start; a run resumes."""

from __future__ import annotations

import threading
from pathlib import Path

from skynet_tui import events, journal
from skynet_tui.plan import Plan, Step
from skynet_tui.runner import Runner
from skynet_tui.workspace import Workspace
from tests.runner_helpers import Recorder


def units(ran: list[str], gate: threading.Event, started: threading.Event) -> list[Step]:
    def first(ctx) -> None:  # type: ignore[no-untyped-def]
        ran.append("a1")
        started.set()
        assert gate.wait(30)

    def record(name: str):  # type: ignore[no-untyped-def]
        return lambda ctx: ran.append(name)

    return [
        Step("a1", "node a: upgrade", first, unit_start=True),
        Step("a2", "node a: gates", record("a2"), deps=("a1",)),
        Step("b1", "node b: upgrade", record("b1"), deps=("a2",), unit_start=True),
        Step("b2", "node b: gates", record("b2"), deps=("b1",)),
    ]


def test_a_pause_finishes_the_unit_under_way_and_a_run_resumes(tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path / "ws")
    ran: list[str] = []
    gate, started = threading.Event(), threading.Event()
    plan = Plan("upgrade test", units(ran, gate, started), answers="one")
    recorder = Recorder()
    runner = Runner(plan, ws, recorder)
    outcome: list[bool] = []
    worker = threading.Thread(target=lambda: outcome.append(runner.run()))
    worker.start()
    assert started.wait(30)
    runner.pause()
    gate.set()
    worker.join(30)
    assert outcome == [False] and ran == ["a1", "a2"]  # a's continuation ran; b never started
    finished = recorder.finished
    assert finished.paused and finished.cancelled and finished.summary == "paused; run again to resume"
    assert [r.status for r in journal.read(ws.journal) if r.event == "finish"] == [journal.Outcome.CANCELLED]

    again = Recorder()
    assert Runner(plan, ws, again).run()
    assert ran == ["a1", "a2", "b1", "b2"]
    assert {e.step_id for e in again.of(events.StepSkipped)} == {"a1", "a2"}
    assert not again.finished.paused


def test_a_plan_without_units_pauses_before_its_next_step(tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path / "ws")
    ran: list[str] = []
    gate, started = threading.Event(), threading.Event()

    def first(ctx) -> None:  # type: ignore[no-untyped-def]
        ran.append("one")
        started.set()
        assert gate.wait(30)

    steps = [Step("one", "one", first), Step("two", "two", lambda ctx: ran.append("two"), deps=("one",))]
    recorder = Recorder()
    runner = Runner(Plan("plain", steps), ws, recorder)
    worker = threading.Thread(target=runner.run)
    worker.start()
    assert started.wait(30)
    runner.pause()
    gate.set()
    worker.join(30)
    assert ran == ["one"] and recorder.finished.paused
