"""The runner's per-step Context: what an action or postcondition sees (run, check, line, sleep, wait, kube)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from skynet_tui import events, kube, launcher
from skynet_tui.events import LineStream
from skynet_tui.plan import Step, StepError, Transient
from skynet_tui.runner.services import Cancelled, Services


def command_name(argv: list[str]) -> str:
    """`kubectl --kubeconfig K apply -f F` → `kubectl apply`: the tool and its verb, for messages."""
    verb = next((a for a in argv[1:] if re.fullmatch(r"[a-z][a-z-]*", a)), "")
    return f"{Path(argv[0]).name} {verb}".strip() if argv else "?"


class Context:
    """What a step's action and postcondition see: the workspace, the env, and ways to run, print and wait."""

    def __init__(self, services: Services, step: Step, deadline: float):
        self.services = services
        self.step = step
        self.ws = services.ws
        self.env = services.env
        self.attempt = 1
        self.deadline = deadline
        self.started = time.monotonic()
        self._noise = [re.compile(p) for p in step.transient]
        self._kube: Any = None
        self.probing = False
        self.queued = 0.0  # seconds spent waiting for a process slot (not the step's own time)
        self._commands_shown: set[str] = set()

    @property
    def cancelled(self) -> bool:
        return self.services.cancel.is_set()

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def elapsed(self) -> float:
        """Seconds since the step started, every attempt and retry delay included."""
        return time.monotonic() - self.started

    def extend(self, seconds: float) -> None:
        """Allow the step `seconds` from now when that is later than its deadline (a wait its timeout could
        not foresee, such as a node an earlier run was configuring when it died)."""
        self.deadline = max(self.deadline, time.monotonic() + seconds)

    def redact(self, text: str) -> str:
        return self.services.secrets.redact(text)

    def log(self, text: str) -> None:
        """Write to this step's log file only."""
        self.services.logs.write(self.step.id, text)

    def line(self, text: str, *, stream: LineStream = "info", noise: bool | None = None) -> None:
        """Show a line under this step (redacted here; lines matching a transient pattern are noise)."""
        clean = self.redact(text)
        if self.probing:  # a postcondition probe's output goes to the log only
            self.log(f"[probe {stream}] {clean}")
            return
        if noise is None:
            noise = any(p.search(clean) for p in self._noise)
        self.log(f"[{stream}{' noise' if noise else ''}] {clean}")
        node = None if self.step.target == "cluster" else self.step.target
        self.services.emit(events.StepLine(self.step.id, clean, stream=stream, node=node, noise=noise))

    def command(self, text: str) -> None:
        """A command's `$ …` line: always in the step's log; shown under the step the first time only (a
        wait polls the same command every few seconds)."""
        if self.probing:
            self.log(f"[probe] {text}")
            return
        self.log(text)
        if text in self._commands_shown:
            return
        self._commands_shown.add(text)
        node = None if self.step.target == "cluster" else self.step.target
        self.services.emit(events.StepLine(self.step.id, text, stream="info", node=node))

    def run(
        self,
        argv: list[str],
        *,
        stdin: str | None = None,
        show_stdout: bool = True,
        timeout: float | None = None,
        cwd: Path | None = None,
        watch: Callable[[launcher.Stream, str], None] | None = None,
    ) -> launcher.Result:
        """Run a child through the launcher; its lines stream under this step. Cancel ends it at once.

        The child runs in the workspace folder (unless `cwd` says otherwise), and the step's log shows it as one
        `$ …` line with paths relative to that folder, so it can be run again by hand from there. `watch` sees
        every (redacted) line as it comes, to follow a long command's progress."""
        if self.cancelled:
            raise Cancelled()
        if cwd is None and self.ws.root.is_dir():
            cwd = self.ws.root

        def on_line(stream: launcher.Stream, text: str) -> None:
            if stream == "err" or show_stdout:
                self.line(text, stream=stream)
            if watch is not None:
                watch(stream, text)

        slots = self.services.slots
        with slots.hold() as waited:  # at most max_parallel children at once
            self.queued += waited
            limit = (
                max(0.1, self.remaining()) if timeout is None else min(timeout, max(0.1, self.remaining()))
            )
            try:
                process = launcher.start(
                    argv,
                    cwd=cwd,
                    env=self.env,
                    stdin=stdin,
                    on_line=on_line,
                    redactor=self.services.secrets.redactor,
                    timeout=limit,
                    on_command=self.command,
                )
            except launcher.ToolNotFound as exc:
                raise StepError(str(exc)) from None
            with slots.running(process):
                result = process.wait()
        if result.cancelled or self.cancelled:
            raise Cancelled()
        return result

    def check(self, result: launcher.Result) -> None:
        """Raise for a failed child: Transient when an output line matches the step's transient patterns."""
        if result.ok:
            return
        command = command_name(result.argv)
        if result.timed_out:
            # The whole wait, not the last child's share of it: a step that retried for 45 s says 45 s.
            raise StepError(
                f"{command} timed out; the step gave up after {self.elapsed():.0f}s and {self.attempt} attempt(s)"
            )
        for line in reversed(result.text().splitlines()):
            if any(p.search(line) for p in self._noise):
                raise Transient(line.strip())
        raise StepError(f"{command} exited with code {result.returncode}: {result.tail(3) or 'no output'}")

    def sleep(self, seconds: float) -> None:
        """Sleep, waking at once on cancel; never past the step's deadline."""
        if self.services.cancel.wait(max(0.0, min(seconds, self.remaining()))):
            raise Cancelled()

    def wait(self, probe: Callable[[], tuple[bool, str]], *, interval: float, what: str) -> None:
        """Poll `probe() -> (done, status)` until done; each new status is one line; the deadline fails the step."""
        last = None
        while True:
            done, status = probe()
            if status and status != last:
                self.line(status)
                last = status
            if done:
                return
            if self.remaining() <= 0:
                raise StepError(
                    f"timed out after {self.elapsed():.0f}s waiting for {what}"
                    + (f"; last: {last}" if last else "")
                )
            self.sleep(interval)

    def kube(self) -> Any:
        """A kubernetes ApiClient built from the workspace kubeconfig (one per step)."""
        if self._kube is None:
            self._kube = kube.client(self.ws.kubeconfig)
        return self._kube

    def refresh_secrets(self) -> None:
        """Re-read secrets/ into the redactor now (a callable that just wrote a secret calls this)."""
        self.services.secrets.refresh()

    def add_secrets(self, *values: str) -> None:
        """Redact these values from now on (secrets held in memory only, e.g. read from a key file)."""
        self.services.secrets.learn(*values)
