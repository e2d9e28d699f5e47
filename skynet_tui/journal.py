"""The run journal: append-only JSON lines, fsync'd, recording every step start and end."""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, get_args

Kind = Literal["run", "start", "retry", "end", "finish"]
KINDS: frozenset[str] = frozenset(get_args(Kind))


class Outcome(StrEnum):
    """How a step (`end` records) or a run (`finish` records) ended; the values are the strings on disk."""

    OK = "ok"
    SKIPPED = "skipped"
    FAILED = "failed"
    CANCELLED = "cancelled"


# End statuses that make a step count as finished for the next run.
DONE_STATUSES = frozenset({Outcome.OK, Outcome.SKIPPED})


@dataclass(frozen=True)
class Record:
    """One journal line; `status` is set on `end` and `finish` records only."""

    ts: float
    run: str
    event: Kind
    step: str = ""
    attempt: int = 0
    status: Outcome | None = None
    duration: float = 0.0
    queued: float = 0.0  # of the duration, seconds spent waiting for a process slot
    reason: str = ""
    answers: str = ""  # run records: fingerprint of the answers the run was planned from


def _record(data: dict[str, Any]) -> Record:
    """A record from one parsed line; ValueError or TypeError when the line is not one."""
    fields = {k: v for k, v in data.items() if k in Record.__dataclass_fields__}
    if fields.get("event") not in KINDS:
        raise ValueError(f"unknown journal event {fields.get('event')!r}")
    fields["status"] = Outcome(fields["status"]) if fields.get("status") else None
    return Record(**fields)


def read(path: Path) -> list[Record]:
    """Every well-formed record; a torn last line (a crash mid-write) is ignored."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    records = []
    for line in text.splitlines():
        try:
            records.append(_record(json.loads(line)))
        except (ValueError, TypeError, AttributeError):
            continue
    return records


def finished(path: Path, answers: str | None = None) -> dict[str, Record]:
    """Steps whose last end record says ok or skipped, by step id (the latest such record).

    With `answers`, only runs planned from those answers count: a step finished for other answers is done again
    (its postcondition probe still skips it when the machines already hold the result)."""
    done: dict[str, Record] = {}
    planned_from: dict[str, str] = {}
    for record in read(path):
        if record.event == "run":
            planned_from[record.run] = record.answers
        if record.event != "end" or (answers is not None and planned_from.get(record.run) != answers):
            continue
        if record.status in DONE_STATUSES:
            done[record.step] = record
        else:
            done.pop(record.step, None)
    return done


def interrupted(path: Path, current_run: str = "") -> set[str]:
    """Steps a run started and never ended (the process died mid-step: SIGKILL, power loss), unless a later
    run ended them; the records of `current_run` do not count."""
    pending: set[str] = set()
    for record in read(path):
        if record.run == current_run:
            continue
        if record.event == "start":
            pending.add(record.step)
        elif record.event == "end":
            pending.discard(record.step)
    return pending


class Journal:
    """Appends records for one run; thread-safe; every line is flushed and fsync'd before `write` returns."""

    def __init__(self, path: Path):
        self.path = path
        self.run_id = uuid.uuid4().hex[:12]
        self._lock = threading.Lock()
        self._mend_torn_line()

    def _mend_torn_line(self) -> None:
        """A crash mid-write leaves a line without its newline; end it so the next record stays whole."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_NOFOLLOW)
        except OSError:  # missing (or a link, refused by the write that follows)
            return
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                os.write(fd, b"\n")
        finally:
            os.close(fd)

    def run(self, plan: str, answers: str) -> None:
        """The run began: which plan, planned from which answers, in which process."""
        self._write("run", "", {"pid": os.getpid(), "plan": plan, "answers": answers})

    def start(self, step: str, attempt: int) -> None:
        self._write("start", step, {"attempt": attempt})

    def retry(self, step: str, attempt: int, reason: str) -> None:
        self._write("retry", step, {"attempt": attempt, "reason": reason})

    def end(
        self, step: str, status: Outcome, *, duration: float, queued: float = 0.0, reason: str = ""
    ) -> None:
        fields = {"status": status.value, "duration": round(duration, 3), "queued": round(queued, 3)}
        self._write("end", step, {**fields, "reason": reason})

    def finish(self, status: Outcome) -> None:
        self._write("finish", "", {"status": status.value})

    def _write(self, kind: Kind, step: str, fields: dict[str, object]) -> None:
        data = {"ts": round(time.time(), 3), "run": self.run_id, "event": kind, "step": step, **fields}
        line = json.dumps(data, sort_keys=True) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o644)
            try:
                os.write(fd, line.encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
