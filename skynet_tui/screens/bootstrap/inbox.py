"""The inbox between the runner's threads and the bootstrap screen: events queued, lines bounded per step."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Protocol

from skynet_tui.events import (
    Event,
    StepCancelled,
    StepFailed,
    StepFinished,
    StepLine,
    StepRetrying,
    StepSkipped,
)
from skynet_tui.widgets.logview import DEFAULT_LIMIT, LineKind
from skynet_tui.widgets.steps import format_duration

RawLine = tuple[str, LineKind, str | None]  # (text, kind, node tag)


class RunnerLike(Protocol):
    def run(self) -> bool: ...

    def cancel(self) -> None: ...


RunnerFactory = Callable[[Callable[[Event], None]], RunnerLike]


def _note(event: Event) -> tuple[str, RawLine] | None:
    """The step and the line a status event leaves in that step's log, in order with the output."""
    if isinstance(event, StepRetrying):
        tries = f"{event.attempt}/{event.max_attempts}" if event.max_attempts else str(event.attempt)
        return event.step_id, (
            f"↻ retrying in {event.delay:g}s (attempt {tries}): {event.reason}",
            "noise",
            None,
        )
    if isinstance(event, StepFinished):
        return event.step_id, (f"✔ done in {format_duration(event.duration)}", "mark", None)
    if isinstance(event, StepSkipped):
        return event.step_id, (f"↷ skipped: {event.reason}", "info", None)
    if isinstance(event, StepCancelled):
        return event.step_id, ("■ cancelled", "mark", None)
    if isinstance(event, StepFailed):
        return event.step_id, (
            f"✖ failed after {format_duration(event.duration)}: {event.error}",
            "error",
            None,
        )
    return None


class EventInbox:
    """Runner events waiting for the UI. Thread-safe; lines are kept per step, only the last `limit` of each."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._events: list[Event] = []
        self._lines: dict[str, deque[RawLine]] = {}
        self._seen: dict[str, int] = {}
        self._empty = True

    def put(self, event: Event) -> bool:
        """Queue an event; True when the inbox was empty, i.e. the UI needs waking."""
        with self._lock:
            was_empty, self._empty = self._empty, False
            if isinstance(event, StepLine):
                kind = "noise" if event.noise else event.stream
                self._add(event.step_id, (event.text, kind, event.node))
                return was_empty
            self._events.append(event)
            note = _note(event)
            if note is not None:
                self._add(*note)
            return was_empty

    def _add(self, step_id: str, line: RawLine) -> None:
        queue = self._lines.get(step_id)
        if queue is None:
            queue = self._lines[step_id] = deque(maxlen=self.limit)
        queue.append(line)
        self._seen[step_id] = self._seen.get(step_id, 0) + 1

    def drain(self) -> tuple[list[Event], dict[str, tuple[list[RawLine], int]]]:
        """Everything queued: status events in order, and per step (last lines, how many lines came)."""
        with self._lock:
            events, lines, seen = self._events, self._lines, self._seen
            self._events, self._lines, self._seen, self._empty = [], {}, {}, True
        return events, {step_id: (list(queue), seen[step_id]) for step_id, queue in lines.items()}
