"""Steps as data (DESIGN decision 6): Step, Plan, the errors an action raises, and helpers for callable actions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from skynet_tui import journal
from skynet_tui.events import LineStream, StepInfo

if TYPE_CHECKING:
    from skynet_tui.launcher import Result
    from skynet_tui.redact import Redactor
    from skynet_tui.runner import Context
    from skynet_tui.workspace import Workspace


class StepError(Exception):
    """A step failed for good; the message says what happened and how to fix it."""


class Transient(Exception):
    """An expected, passing condition (a node still booting, an API not up yet): the step is retried."""


@dataclass
class Step:
    """One unit of work.

    `action` is an argv (run through the launcher) or a Python callable taking the runner's Context; a callable
    raises Transient to be retried and StepError to fail. An argv whose output matches `done_when` counts as
    success (the work was done already), one matching `transient` is retried and its matching lines are shown
    as expected noise. `postcondition(ctx) -> bool` is probed before the step runs: True skips it.
    `timeout` bounds the whole step, retries included; `attempts` is the most tries (0 = until the timeout).
    `resume(ctx) -> bool` runs first when an earlier run died inside this step (the journal shows it started
    and never ended), e.g. to wait for a machine still acting on what that run sent: True means the work
    turned out done, and the step ends without running its action.
    """

    id: str
    title: str
    action: Sequence[str] | Callable[[Context], None]
    target: str = "cluster"
    deps: tuple[str, ...] = ()
    postcondition: Callable[[Context], bool] | None = None
    postcondition_text: str = ""  # shown when the probe skips the step, e.g. "node left maintenance mode"
    resume: Callable[[Context], bool] | None = None
    transient: tuple[str, ...] = ()
    done_when: tuple[str, ...] = ()
    accept: Callable[[Result], None] | None = None  # checks a successful argv result; may raise Transient
    stdin: Callable[[], str] | None = None  # fed to an argv action; never logged
    timeout: float = 600.0
    attempts: int = 1
    retry_delay: float = 5.0
    writes_machines: bool = False  # changes a machine (apply, bootstrap): headless asks before the first one
    learns_secrets: bool = False  # writes under secrets/: the redactor re-reads them after the step
    show_stdout: bool = True  # False for steps whose stdout is data (manifests), not progress
    hint: str = ""  # how to fix a failure, appended to the error
    # What a callable action runs, in order, for `skynet plan --commands`: argvs, and notes (str) for what
    # depends on the run (a command only some runs need) or is not a command (a Kubernetes API read).
    commands: Callable[[], Sequence[Sequence[str] | str]] | None = None
    unit_start: bool = (
        False  # begins a unit a pause must not split (a node's upgrade): a paused run starts none
    )

    @property
    def argv(self) -> list[str] | None:
        return None if callable(self.action) else [str(a) for a in self.action]

    def planned_commands(self) -> list[list[str] | str]:
        """The commands this step runs (an argv step: its argv), without running anything."""
        if self.argv is not None:
            return [self.argv]
        if self.commands is None:
            return []
        return [item if isinstance(item, str) else [str(a) for a in item] for item in self.commands()]

    def info(self) -> StepInfo:
        return StepInfo(id=self.id, title=self.title, target=self.target, depends=tuple(self.deps))


@dataclass
class Plan:
    """Steps with dependencies, plus what to print at the end: a summary on success, a bundle on failure."""

    name: str
    steps: list[Step]
    simulated: bool = False
    # The success text. Its argument is None when this run's own steps checked the outcome (ran, or probed
    # their postconditions), else the time (epoch seconds) an earlier run finished the last steps: then the
    # journal alone says so, and the text must not claim the cluster is up now.
    summary: Callable[[float | None], str] | None = None
    secret_env: tuple[str, ...] = ()  # environment variables whose values are secrets (tokens)
    secret_files: tuple[Path, ...] = ()  # files outside secrets/ whose contents are secrets (deploy keys)
    on_failure: Callable[[Workspace, dict[str, str], Redactor], Path | None] | None = None
    answers: str | None = None  # fingerprint of the answers; journal entries of other answers do not count

    def __post_init__(self) -> None:
        ids = [step.id for step in self.steps]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate step ids: {', '.join(duplicates)}")
        known = set(ids)
        for step in self.steps:
            missing = [dep for dep in step.deps if dep not in known]
            if missing:
                raise ValueError(f"step {step.id} depends on unknown steps: {', '.join(missing)}")
        self.order()  # raises on a cycle

    def get(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def order(self) -> list[Step]:
        """Topological order, stable with respect to the listed order."""
        placed: set[str] = set()
        ordered: list[Step] = []
        remaining = list(self.steps)
        while remaining:
            ready = [step for step in remaining if all(dep in placed for dep in step.deps)]
            if not ready:
                raise ValueError(f"dependency cycle among: {', '.join(step.id for step in remaining)}")
            for step in ready:
                placed.add(step.id)
                ordered.append(step)
            remaining = [step for step in remaining if step.id not in placed]
        return ordered

    def finished_in_journal(self, ws: Workspace) -> dict[str, str]:
        """Step id → why a re-run skips it, from the journal (no machine is contacted)."""
        done = journal.finished(ws.journal, self.answers)
        return {
            step.id: "finished in an earlier run"
            if done[step.id].status is journal.Outcome.OK
            else done[step.id].reason
            for step in self.steps
            if step.id in done
        }

    def critical_path(self, durations: dict[str, float]) -> tuple[float, list[str]]:
        """Longest chain of step durations through the dependencies: the floor for the wall time."""
        best: dict[str, tuple[float, list[str]]] = {}
        for step in self.order():
            before = max((best[dep] for dep in step.deps), key=lambda item: item[0], default=(0.0, []))
            best[step.id] = (before[0] + durations.get(step.id, 0.0), [*before[1], step.id])
        return max(best.values(), key=lambda item: item[0], default=(0.0, []))


P = ParamSpec("P")
T = TypeVar("T")


def call(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Call a domain function; its errors (GenerateError, GitOpsError, …) fail the step with their message."""
    try:
        return fn(*args, **kwargs)
    except (ValueError, RuntimeError, OSError) as exc:
        raise StepError(str(exc)) from None


def on_line(ctx: Context) -> Callable[[LineStream, str], None]:
    """A launcher-style (stream, line) callback that shows lines under the step."""
    return lambda stream, line: ctx.line(line, stream=stream)
