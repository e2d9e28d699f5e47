"""The progress reducer: runner events folded into immutable run state, as the screen and the printer read it."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from skynet_tui.events import (
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
from skynet_tui.progress import Phase, RunProgress, StepState, cancelling, reduce, restart

PLAN = PlanStarted(
    (
        StepInfo("gen", "Generate"),
        StepInfo("apply-cp-1", "Apply", "cp-1", ("gen",)),
        StepInfo("health", "Health"),
    ),
    simulated=True,
)


def fold(*events, state: RunProgress | None = None, now: float = 100.0) -> RunProgress:
    state = state or RunProgress()
    for event in events:
        state = reduce(state, event, now)
    return state


def states(state: RunProgress) -> dict[str, StepState]:
    return {step.info.id: step.state for step in state.steps}


def test_plan_started_lists_the_steps_pending_and_the_run_running() -> None:
    state = fold(PLAN)
    assert [step.info.id for step in state.steps] == ["gen", "apply-cp-1", "health"]
    assert set(states(state).values()) == {StepState.PENDING}
    assert state.phase is Phase.RUNNING and state.simulated and state.result is None
    assert state.get("apply-cp-1").info.target == "cp-1"  # type: ignore[union-attr]


def test_a_step_runs_retries_and_finishes() -> None:
    state = fold(PLAN, StepStarted("gen"), now=10.0)
    gen = state.get("gen")
    assert gen is not None and gen.state is StepState.RUNNING and gen.started == 10.0
    assert gen.elapsed(25.0) == 15.0
    state = fold(StepRetrying("gen", 2, 3, 5.0, "not ready yet"), state=state)
    gen = state.get("gen")
    assert gen is not None and (gen.state, gen.attempt, gen.note) == (StepState.RETRYING, 2, "not ready yet")
    state = fold(StepFinished("gen", 4.5), state=state)
    gen = state.get("gen")
    assert gen is not None and (gen.state, gen.duration, gen.note) == (StepState.DONE, 4.5, "")
    assert gen.elapsed(1000.0) == 4.5 and state.finished == 1


def test_failed_cancelled_and_skipped_steps_keep_their_reason() -> None:
    state = fold(
        PLAN,
        StepStarted("gen"),
        StepFailed("gen", "talosctl gen exited with code 1", 2.0),
        StepCancelled("apply-cp-1", 1.5),
        StepSkipped("health", "already done: cluster healthy"),
    )
    assert states(state) == {
        "gen": StepState.FAILED,
        "apply-cp-1": StepState.CANCELLED,
        "health": StepState.SKIPPED,
    }
    assert [step.note for step in state.having(StepState.FAILED)] == ["talosctl gen exited with code 1"]
    assert state.get("health").note == "already done: cluster healthy"  # type: ignore[union-attr]
    assert state.finished == 1


def test_output_lines_leave_the_state_as_it_was() -> None:
    state = fold(PLAN, StepStarted("gen"))
    assert reduce(state, StepLine("gen", "hello", node="cp-1"), 200.0) is state


def test_the_state_is_immutable_and_each_event_makes_a_new_one() -> None:
    before = fold(PLAN)
    after = reduce(before, StepStarted("gen"), 5.0)
    assert states(before)["gen"] is StepState.PENDING and states(after)["gen"] is StepState.RUNNING
    with pytest.raises(dataclasses.FrozenInstanceError):
        after.phase = Phase.FAILED  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        after.steps[0].state = StepState.DONE  # type: ignore[misc]


def test_a_step_the_plan_did_not_announce_is_added_at_the_end() -> None:
    state = fold(PLAN, StepStarted("surprise"))
    last = state.steps[-1]
    assert (last.info.id, last.info.title, last.state) == ("surprise", "surprise", StepState.RUNNING)


@pytest.mark.parametrize(
    ("finished", "phase"),
    [
        (PlanFinished(ok=True, summary="up"), Phase.SUCCEEDED),
        (PlanFinished(ok=False, summary="1 step(s) not done"), Phase.FAILED),
        (PlanFinished(ok=False, cancelled=True), Phase.CANCELLED),
    ],
)
def test_plan_finished_sets_the_phase_and_the_result(finished: PlanFinished, phase: Phase) -> None:
    state = fold(PLAN, finished)
    assert state.phase is phase and state.result is finished


def test_steps_still_running_at_the_end_count_as_cancelled_after_the_time_they_ran() -> None:
    state = fold(PLAN, StepStarted("gen"), StepStarted("apply-cp-1"), now=10.0)
    state = fold(StepRetrying("apply-cp-1", 2, 3, 1.0, "refused"), state=state, now=12.0)
    state = reduce(state, PlanFinished(ok=False, cancelled=True), 40.0)
    assert states(state) == {
        "gen": StepState.CANCELLED,
        "apply-cp-1": StepState.CANCELLED,
        "health": StepState.PENDING,
    }
    assert state.get("gen").duration == 30.0  # type: ignore[union-attr]


def test_a_cancel_request_moves_only_a_live_run_to_cancelling() -> None:
    assert cancelling(RunProgress()).phase is Phase.CANCELLING
    assert cancelling(fold(PLAN)).phase is Phase.CANCELLING
    ended = fold(PLAN, PlanFinished(ok=True))
    assert cancelling(ended) is ended
    # The plan arriving after the request does not undo it.
    assert fold(PLAN, state=cancelling(RunProgress())).phase is Phase.CANCELLING


def test_a_restart_redoes_failed_and_cancelled_steps_and_keeps_finished_ones() -> None:
    first = fold(
        PLAN,
        StepStarted("gen"),
        StepFinished("gen", 3.0),
        StepStarted("apply-cp-1"),
        StepRetrying("apply-cp-1", 3, 3, 1.0, "refused"),
        StepFailed("apply-cp-1", "gave up after 3 attempt(s)", 9.0),
        PlanFinished(ok=False, summary="1 step(s) not done"),
    )
    again = restart(first)
    assert again.phase is Phase.STARTING and again.result is None
    assert states(again) == {
        "gen": StepState.DONE,
        "apply-cp-1": StepState.PENDING,
        "health": StepState.PENDING,
    }
    apply = again.get("apply-cp-1")
    assert apply is not None and (apply.attempt, apply.duration, apply.note) == (1, None, "")
    # The resumed run skips what the first one finished: the step stays done, with its time.
    resumed = fold(PLAN, StepSkipped("gen", "finished in an earlier run"), state=again)
    gen = resumed.get("gen")
    assert resumed.phase is Phase.RUNNING and gen is not None
    assert (gen.state, gen.duration) == (StepState.DONE, 3.0)


def test_the_reducer_imports_no_ui() -> None:
    code = "import sys, skynet_tui.progress; print(sorted({'textual', 'rich'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
