"""A run's progress as immutable state, and the one reducer that folds runner events into it (no I/O, no UI)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum

from skynet_tui.events import (
    Event,
    PlanFinished,
    PlanStarted,
    StepCancelled,
    StepFailed,
    StepFinished,
    StepInfo,
    StepRetrying,
    StepSkipped,
    StepStarted,
)


class StepState(StrEnum):
    """Where one step is."""

    PENDING = "pending"
    RUNNING = "running"
    RETRYING = "retrying"
    DONE = "done"
    SKIPPED = "skipped"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE = frozenset({StepState.RUNNING, StepState.RETRYING})
FINISHED = frozenset({StepState.DONE, StepState.SKIPPED})


class Phase(StrEnum):
    """Where the run is: starting → running (→ cancelling) → succeeded | failed | cancelled."""

    STARTING = "starting"
    RUNNING = "running"
    CANCELLING = "cancelling"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


ENDED = frozenset({Phase.SUCCEEDED, Phase.FAILED, Phase.CANCELLED})


@dataclass(frozen=True)
class StepProgress:
    """One step as shown: its state, attempt, the time its attempt started, how long it took, and a note."""

    info: StepInfo
    state: StepState = StepState.PENDING
    attempt: int = 1
    started: float | None = None  # the caller's clock when the current attempt started
    duration: float | None = None  # set when the step ended
    note: str = ""  # skip reason, retry reason or error

    def elapsed(self, now: float) -> float | None:
        if self.duration is not None:
            return self.duration
        if self.started is not None and self.state in ACTIVE:
            return now - self.started
        return None


@dataclass(frozen=True)
class RunProgress:
    """The whole run: every step in plan order, the phase, whether the machines are simulated, the outcome."""

    steps: tuple[StepProgress, ...] = ()
    phase: Phase = Phase.STARTING
    simulated: bool = False
    result: PlanFinished | None = None

    def get(self, step_id: str) -> StepProgress | None:
        return next((step for step in self.steps if step.info.id == step_id), None)

    def having(self, *states: StepState) -> list[StepProgress]:
        return [step for step in self.steps if step.state in states]

    @property
    def finished(self) -> int:
        """How many steps are done or skipped."""
        return len(self.having(*FINISHED))


def reduce(state: RunProgress, event: Event, now: float) -> RunProgress:
    """The progress after `event`; `now` is the caller's clock, which times the running steps."""
    match event:
        case PlanStarted():
            return _planned(state, event)
        case PlanFinished():
            return _ended(state, event, now)
        case StepStarted(step_id=step_id, attempt=attempt):
            running = StepState.RUNNING
            return _update(
                state,
                step_id,
                lambda step: replace(
                    step, state=running, attempt=attempt, started=now, duration=None, note=""
                ),
            )
        case StepRetrying(step_id=step_id, attempt=attempt, reason=reason):
            retrying = StepState.RETRYING
            return _update(
                state, step_id, lambda step: replace(step, state=retrying, attempt=attempt, note=reason)
            )
        case StepFinished(step_id=step_id, duration=duration):
            return _update(state, step_id, _ending(StepState.DONE, duration, ""))
        case StepSkipped(step_id=step_id, reason=reason):
            earlier = state.get(step_id)
            if earlier is not None and earlier.state is StepState.DONE:
                return state  # done by an earlier run of this session: keep its time
            return _update(state, step_id, _ending(StepState.SKIPPED, None, reason))
        case StepFailed(step_id=step_id, error=error, duration=duration):
            return _update(state, step_id, _ending(StepState.FAILED, duration, error))
        case StepCancelled(step_id=step_id, duration=duration):
            return _update(state, step_id, _ending(StepState.CANCELLED, duration, "cancelled"))
    return state  # a StepLine is output, not progress


def restart(state: RunProgress) -> RunProgress:
    """Another run of the plan begins: failed and cancelled steps are pending again, finished ones stay."""
    redo = {StepState.FAILED, StepState.CANCELLED}
    steps = tuple(StepProgress(step.info) if step.state in redo else step for step in state.steps)
    return replace(state, steps=steps, phase=Phase.STARTING, result=None)


def cancelling(state: RunProgress) -> RunProgress:
    """A cancel was asked for; the runner's events tell when it took effect."""
    if state.phase in (Phase.STARTING, Phase.RUNNING):
        return replace(state, phase=Phase.CANCELLING)
    return state


def _ending(end: StepState, duration: float | None, note: str) -> Callable[[StepProgress], StepProgress]:
    return lambda step: replace(step, state=end, duration=duration, note=note)


def _update(state: RunProgress, step_id: str, change: Callable[[StepProgress], StepProgress]) -> RunProgress:
    """One step changed; a step the plan did not announce is added at the end."""
    steps = list(state.steps)
    number = next((n for n, step in enumerate(steps) if step.info.id == step_id), None)
    if number is None:
        steps.append(StepProgress(StepInfo(step_id, step_id)))
        number = len(steps) - 1
    steps[number] = change(steps[number])
    return replace(state, steps=tuple(steps))


def _planned(state: RunProgress, event: PlanStarted) -> RunProgress:
    """The plan's steps in its order; steps known from an earlier run keep their progress."""
    known = {step.info.id: step for step in state.steps}
    steps = tuple(
        replace(known[info.id], info=info) if info.id in known else StepProgress(info) for info in event.steps
    )
    phase = Phase.RUNNING if state.phase is Phase.STARTING else state.phase
    return replace(state, steps=steps, phase=phase, simulated=state.simulated or event.simulated)


def _ended(state: RunProgress, event: PlanFinished, now: float) -> RunProgress:
    """The outcome; steps still running when the runner stopped count as cancelled after the time they ran."""
    phase = Phase.SUCCEEDED if event.ok else Phase.CANCELLED if event.cancelled else Phase.FAILED
    steps = tuple(
        replace(step, state=StepState.CANCELLED, duration=step.elapsed(now)) if step.state in ACTIVE else step
        for step in state.steps
    )
    return replace(state, steps=steps, phase=phase, result=event)
