"""Runner events: what the step runner tells the bootstrap screen and the headless printer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

LineStream = Literal["out", "err", "info"]  # a child's stdout or stderr, or a line the step itself wrote


@dataclass(frozen=True)
class StepInfo:
    """A step as shown to people: id, title, target ("cluster" or a node hostname) and its dependencies."""

    id: str
    title: str
    target: str = "cluster"
    depends: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlanStarted:
    steps: tuple[StepInfo, ...]
    simulated: bool = False  # True when the machines are the lab's


@dataclass(frozen=True)
class StepStarted:
    step_id: str
    attempt: int = 1


@dataclass(frozen=True)
class StepLine:
    """One redacted output line. `noise` marks an expected transient error that will be retried."""

    step_id: str
    text: str
    stream: LineStream = "out"
    node: str | None = None
    noise: bool = False


@dataclass(frozen=True)
class StepRetrying:
    step_id: str
    attempt: int
    max_attempts: int
    delay: float
    reason: str


@dataclass(frozen=True)
class StepFinished:
    step_id: str
    duration: float


@dataclass(frozen=True)
class StepSkipped:
    step_id: str
    reason: str  # "finished in an earlier run" | "already done: <postcondition>"


@dataclass(frozen=True)
class StepFailed:
    step_id: str
    error: str
    duration: float


@dataclass(frozen=True)
class StepCancelled:
    """The run was cancelled while this step was working; it runs again on the next run."""

    step_id: str
    duration: float


@dataclass(frozen=True)
class PlanFinished:
    ok: bool
    summary: str = ""
    support_bundle: str | None = None
    cancelled: bool = False
    paused: bool = False  # stopped by a pause: the units under way finished, none was started after it


Event = (
    PlanStarted
    | StepStarted
    | StepLine
    | StepRetrying
    | StepFinished
    | StepSkipped
    | StepFailed
    | StepCancelled
    | PlanFinished
)
