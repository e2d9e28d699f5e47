"""What a step's Context uses of its run: the cancel flag, the secrets redactor, step logs and process slots."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from skynet_tui import events, launcher
from skynet_tui.redact import Redactor
from skynet_tui.workspace import Workspace

SLOT_POLL = 0.1  # how often a step waiting for a process slot looks at the cancel flag


class Cancelled(Exception):
    """The run was cancelled while this step was working."""


class Secrets:
    """The run's redactor: secrets/ files, secret environment values, secret files and values learnt in memory."""

    def __init__(
        self, ws: Workspace, env: dict[str, str], secret_env: tuple[str, ...], secret_files: tuple[Path, ...]
    ):
        self._ws = ws
        self._values = [env.get(name, "") for name in secret_env]
        self._files = secret_files
        self._learnt: set[str] = set()
        self.redactor = Redactor()

    def redact(self, text: str) -> str:
        return self.redactor(text)

    def refresh(self) -> None:
        """Re-read every source (a step just wrote under secrets/)."""
        redactor = self._ws.redactor()
        redactor.add(*self._values, *self._learnt)
        for path in self._files:
            redactor.add_file(path)
            with contextlib.suppress(OSError, UnicodeDecodeError):
                redactor.add(*(ln.strip() for ln in path.read_text().splitlines() if len(ln.strip()) >= 16))
        self.redactor = redactor  # swapped whole: threads holding the old one keep a consistent object

    def learn(self, *values: str) -> None:
        """Redact these values from now on (secrets held in memory only, e.g. read from a key file)."""
        self._learnt.update(v for v in values if v)
        self.refresh()


class StepLogs:
    """One timestamped log file per step under logs/, written from any thread."""

    def __init__(self, folder: Path):
        self._folder = folder
        self._files: dict[str, TextIO] = {}
        self._lock = threading.Lock()

    def write(self, step_id: str, text: str) -> None:
        stamp = time.strftime("%H:%M:%S")
        with self._lock:
            handle = self._files.get(step_id)
            if handle is None:
                self._folder.mkdir(parents=True, exist_ok=True)
                # O_NOFOLLOW: a link planted in logs/ cannot carry the log out of the workspace.
                fd = os.open(
                    self._folder / f"{step_id}.log",
                    os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW,
                    0o644,
                )
                handle = open(fd, "a", encoding="utf-8")  # noqa: SIM115
                self._files[step_id] = handle
            for line in text.splitlines() or [""]:
                handle.write(f"{stamp} {line}\n")
            handle.flush()

    def close(self, step_id: str) -> None:
        with self._lock:
            handle = self._files.pop(step_id, None)
        if handle is not None:
            handle.close()


class ProcessSlots:
    """At most `limit` children at once, and the running ones, so that a cancel ends every process group."""

    def __init__(self, limit: int, cancel: threading.Event):
        self.limit = max(1, limit)
        self._cancel = cancel
        self._free = threading.BoundedSemaphore(self.limit)
        self._running: set[launcher.Process] = set()
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def hold(self) -> Iterator[float]:
        """A slot for one child; yields the seconds spent waiting for it. A cancel while waiting raises."""
        asked = time.monotonic()
        while not self._free.acquire(timeout=SLOT_POLL):
            if self._cancel.is_set():
                raise Cancelled()
        try:
            yield time.monotonic() - asked
        finally:
            self._free.release()

    @contextlib.contextmanager
    def running(self, process: launcher.Process) -> Iterator[None]:
        """Track a started child for `cancel_all`; one started after the cancel is ended at once."""
        with self._lock:
            self._running.add(process)
        if self._cancel.is_set():
            process.cancel()
        try:
            yield
        finally:
            with self._lock:
                self._running.discard(process)

    def cancel_all(self) -> None:
        """End every running child's process group, in parallel; returns when they are gone."""
        with self._lock:
            running = list(self._running)
        threads = [threading.Thread(target=p.cancel, daemon=True) for p in running]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


@dataclass(frozen=True)
class Services:
    """Everything of the run a step's Context may use; one per Runner, shared by all its steps."""

    ws: Workspace
    env: dict[str, str]
    cancel: threading.Event
    secrets: Secrets
    logs: StepLogs
    slots: ProcessSlots
    emit: Callable[[events.Event], None]
