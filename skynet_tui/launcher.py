"""The one process launcher: every talosctl/kubectl/helm/git call goes through `run` or `start`; a process
that must outlive Skynet (the demo's kept lab) through `detach`."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from skynet_tui.redact import Redactor

Stream = Literal["out", "err"]
LineCallback = Callable[[Stream, str], None]  # (stream, redacted line without newline)


class ToolNotFound(RuntimeError):
    """An executable Skynet needs is not on PATH."""

    def __init__(self, name: str):
        self.name = name
        super().__init__(f"{name} is not on PATH; {INSTALL_HINTS.get(name, 'install it and retry')}")


INSTALL_HINTS = {
    "talosctl": "install the talosctl that matches your Talos version: "
    "curl -sL https://talos.dev/install | sh (or brew install siderolabs/tap/talosctl)",
    "kubectl": "install kubectl (https://kubernetes.io/docs/tasks/tools/) or apt-get install kubectl",
    "helm": "install helm v3+ (https://helm.sh/docs/intro/install/)",
    "git": "install git (apt-get install git)",
}


@dataclass
class Result:
    """What a finished process left: exit code, its raw stdout for parsers, and its redacted lines."""

    argv: list[str]
    returncode: int
    stdout: str  # raw: for parsing only, never to be shown or logged
    lines: list[tuple[Stream, str]] = field(default_factory=list)  # (stream, redacted line)
    timed_out: bool = False
    cancelled: bool = False
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out and not self.cancelled

    def text(self, stream: Stream | None = None) -> str:
        """Redacted output (both streams, or one), for messages."""
        return "\n".join(line for s, line in self.lines if stream is None or s == stream)

    def tail(self, count: int = 5) -> str:
        return "\n".join(line for _, line in self.lines[-count:])


def which(name: str, env: Mapping[str, str] | None = None) -> str | None:
    path = (env or os.environ).get("PATH", os.defpath)
    return shutil.which(name, path=path)


class Process:
    """A running child in its own process group; `cancel` ends the whole group, `wait` reaps it."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        cwd: str | Path | None = None,
        env: Mapping[str, str] | None = None,
        stdin: str | None = None,
        on_line: LineCallback | None = None,
        redactor: Redactor | None = None,
        timeout: float | None = None,
    ):
        import sh  # ~0.1 s: paid by the first child started, not by every importer (the lab fakes)

        self.argv = [str(a) for a in argv]
        self._redactor = redactor or Redactor()
        self._on_line = on_line
        self._lines: list[tuple[Stream, str]] = []
        self._stdout: list[str] = []
        self._lock = threading.Lock()
        self._timed_out = False
        self._cancelled = False
        self._started = time.monotonic()
        full_env = dict(env if env is not None else os.environ)
        exe = which(self.argv[0], full_env) if "/" not in self.argv[0] else self.argv[0]
        if exe is None:
            raise ToolNotFound(self.argv[0])
        self._proc = sh.Command(exe)(
            *self.argv[1:],
            _out=self._out,
            _err=self._err,
            _in=stdin,
            _cwd=str(cwd) if cwd else None,
            _env=full_env,
            _bg=True,
            _bg_exc=False,
            _new_session=True,
            _tty_out=False,
            _ok_code=list(range(256)),
            _out_bufsize=1,
            _err_bufsize=1,
            _encoding="utf-8",
            _decode_errors="replace",
        )
        self.pid: int = self._proc.pid
        self._timer: threading.Timer | None = None
        if timeout:
            self._timer = threading.Timer(timeout, self._timeout)
            self._timer.daemon = True
            self._timer.start()

    def _emit(self, stream: Stream, chunk: str) -> None:
        line = chunk.rstrip("\n").rstrip("\r")
        if stream == "out":
            self._stdout.append(chunk)
        clean = self._redactor(line)
        with self._lock:
            self._lines.append((stream, clean))
        if self._on_line is not None:
            self._on_line(stream, clean)

    def _out(self, chunk: str) -> None:
        self._emit("out", chunk)

    def _err(self, chunk: str) -> None:
        self._emit("err", chunk)

    def _timeout(self) -> None:
        self._timed_out = True
        self._kill_group()

    def cancel(self) -> None:
        """Terminate the child's whole process group: SIGTERM, then SIGKILL after a grace period."""
        self._cancelled = True
        self._kill_group()

    def _kill_group(self, grace: float = 3.0) -> None:
        try:
            os.killpg(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            try:
                os.killpg(self.pid, 0)
            except ProcessLookupError:
                return
            if not self._proc.process.is_alive()[0]:
                break
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)

    def wait(self) -> Result:
        import sh  # loaded by __init__ already (see there)

        try:
            self._proc.wait()
            code = self._proc.exit_code
        except sh.SignalException as exc:  # killed by cancel or timeout
            code = -abs(getattr(exc, "exit_code", 1)) or -1
        except sh.ErrorReturnCode as exc:
            code = exc.exit_code
        finally:
            if self._timer is not None:
                self._timer.cancel()
        # Anything left in the group after the leader exits is an orphan: end it too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        with self._lock:
            lines = list(self._lines)
        return Result(
            argv=self.argv,
            returncode=code if code is not None else -1,
            stdout="".join(self._stdout),
            lines=lines,
            timed_out=self._timed_out,
            cancelled=self._cancelled,
            duration=time.monotonic() - self._started,
        )


def start(
    argv: Sequence[str],
    *,
    cwd: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    on_line: LineCallback | None = None,
    redactor: Redactor | None = None,
    timeout: float | None = None,
) -> Process:
    """Start a child in its own process group; `wait()` on the Process it returns."""
    return Process(argv, cwd=cwd, env=env, stdin=stdin, on_line=on_line, redactor=redactor, timeout=timeout)


def run(
    argv: Sequence[str],
    *,
    cwd: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    on_line: LineCallback | None = None,
    redactor: Redactor | None = None,
    timeout: float | None = None,
) -> Result:
    """Run a child to its end, streaming redacted lines to `on_line` as they are printed."""
    process = start(argv, cwd=cwd, env=env, stdin=stdin, on_line=on_line, redactor=redactor, timeout=timeout)
    return process.wait()


def foreground(argv: Sequence[str], *, env: Mapping[str, str] | None = None) -> None:
    """Run an interactive child (a pager, an editor) on the terminal and wait; the caller released the screen."""
    import sh  # ~0.1 s, as in Process.__init__: only when a child is started

    argv = [str(a) for a in argv]
    full_env = dict(env if env is not None else os.environ)
    exe = which(argv[0], full_env) if "/" not in argv[0] else argv[0]
    if exe is None:
        raise ToolNotFound(argv[0])
    # A signal death raises; there is nothing to report for an interactive viewer.
    with contextlib.suppress(sh.ErrorReturnCode):
        sh.Command(exe)(*argv[1:], _fg=True, _env=full_env, _ok_code=list(range(256)))


def detach(argv: Sequence[str], *, log: Path, env: Mapping[str, str] | None = None) -> int:
    """Start a child that outlives this process and return its pid: a session of its own, stdin from /dev/null,
    stdout and stderr appended to `log`. Nothing waits for it here; whoever stops it reads its pid back."""
    # subprocess, not sh: sh ties a child's lifetime and pipes to this process, a detached one has neither.
    import subprocess

    argv = [str(a) for a in argv]
    full_env = dict(env if env is not None else os.environ)
    exe = which(argv[0], full_env) if "/" not in argv[0] else argv[0]
    if exe is None:
        raise ToolNotFound(argv[0])
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        child = subprocess.Popen(
            [exe, *argv[1:]],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=full_env,
            start_new_session=True,
            close_fds=True,
        )
    return child.pid
