"""A lock file that names its holder: held with flock, recording PID, the process's start time and the host.

The kernel's flock decides who holds the lock, so a holder that died (SIGKILL, power loss) leaves a lock file
anyone may take over, and a PID written in the file means nothing by itself: PID 1, or a PID reused by
another program, never holds a Skynet lock. The record is there to name the holder in the message. Where a
file system cannot flock, the record decides: same host, that PID alive with the recorded start time.

A process holding a lock may take it again (the generate step of an install, another thread): the lock is
released when the outermost holder lets go.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_HELD: dict[str, int] = {}  # lock paths this process holds → nesting depth
_HELD_GUARD = threading.Lock()
WAIT_FOR_RECORD = 1.0  # seconds a loser waits for the winner to write its record


@dataclass(frozen=True)
class Holder:
    """Who holds a lock: PID, the process's start time (kernel clock ticks since boot; "" when unknown), host."""

    pid: int
    start: str = ""
    host: str = ""
    since: float = 0.0

    def __str__(self) -> str:
        where = f" on {self.host}" if self.host and self.host != socket.gethostname() else ""
        when = f", since {time.strftime('%H:%M:%S', time.localtime(self.since))}" if self.since else ""
        return f"PID {self.pid}{where}{when}"


class Busy(RuntimeError):  # noqa: N818 - the lock's state, raised to the caller
    """Another process holds the lock; `holder` names it (None when its record could not be read)."""

    def __init__(self, path: Path, holder: Holder | None):
        self.path, self.holder = path, holder
        super().__init__(f"{path} is held by {holder or 'another process (not recorded yet)'}")


def start_time(pid: int) -> str:
    """The start time of process `pid` as /proc counts it (field 22 of /proc/<pid>/stat), "" when unknown."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    fields = text.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else ""


def current() -> Holder:
    pid = os.getpid()
    return Holder(pid, start_time(pid), socket.gethostname(), round(time.time(), 3))


def read_holder(path: Path) -> Holder | None:
    """The holder recorded in a lock file: JSON, or a bare PID as older Skynets wrote; None when unreadable."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not text:
        return None
    try:
        data = json.loads(text)
        if isinstance(data, int):
            return Holder(data) if data > 0 else None
        return Holder(int(data["pid"]), str(data.get("start", "")), str(data.get("host", "")),
                      float(data.get("since", 0.0)))  # fmt: skip
    except (ValueError, TypeError, KeyError):
        return None


def alive(holder: Holder) -> bool:
    """True when the recorded process still runs: on this host, that PID with the recorded start time.

    A holder on another host cannot be checked and counts as alive."""
    if holder.host and holder.host != socket.gethostname():
        return True
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return not holder.start or start_time(holder.pid) in ("", holder.start)


class LockFile:
    """An exclusive lock on `path` for this process; `acquire` raises Busy naming the holder."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._fd: int | None = None
        self._key = os.path.abspath(self.path)

    def acquire(self) -> None:
        with _HELD_GUARD:
            if self._key in _HELD:
                _HELD[self._key] += 1
                return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(5):  # the file may be replaced under us by a holder releasing it
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
            try:
                locked = self._flock(fd)
                if locked and os.fstat(fd).st_ino != _inode(self.path):
                    os.close(fd)
                    continue
                self._fd = fd
                self._record(fd)
            except BaseException:
                os.close(fd)
                raise
            with _HELD_GUARD:
                _HELD[self._key] = 1
            return
        raise Busy(self.path, read_holder(self.path))

    def _flock(self, fd: int) -> bool:
        """True when flock took the lock; False when the file system has no flock (the record decides)."""
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                holder = read_holder(self.path)
                if holder is not None and holder.pid != os.getpid() and alive(holder):
                    raise Busy(self.path, holder) from None
                return False
        deadline = time.monotonic() + WAIT_FOR_RECORD
        holder = read_holder(self.path)
        while holder is None and time.monotonic() < deadline:  # the winner is about to write its record
            time.sleep(0.02)
            holder = read_holder(self.path)
        raise Busy(self.path, holder)

    @staticmethod
    def _record(fd: int) -> None:
        me = current()
        data = {"pid": me.pid, "start": me.start, "host": me.host, "since": me.since}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(data) + "\n").encode("utf-8"), 0)
        os.fsync(fd)

    def release(self) -> None:
        with _HELD_GUARD:
            depth = _HELD.get(self._key, 0)
            if depth > 1:
                _HELD[self._key] = depth - 1
                return
            _HELD.pop(self._key, None)
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            if os.fstat(fd).st_ino == _inode(self.path):
                os.unlink(self.path)  # while still locked: a waiter retries on the new file
        os.close(fd)

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        self.acquire()
        try:
            yield
        finally:
            self.release()


def _inode(path: Path) -> int:
    try:
        return os.lstat(path).st_ino
    except OSError:
        return -1
