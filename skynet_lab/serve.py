"""A kept lab: `python -m skynet_lab.serve ROOT` serves the lab under ROOT in a process of its own until SIGTERM.

`skynet demo --keep` hands its lab over to this process after the install, so the machines and the mock
Kubernetes API outlive the command; `skynet demo --stop` ends it. While it serves, ROOT/server.json says which
process it is ({pid, api_url, subnet}); it is removed when the process stops.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from skynet_lab import state
from skynet_lab.core import Lab, LabError, subnet_claimed
from skynet_tui import api

SERVER_FILE = "server.json"
LOG_FILE = "server.log"
MODULE = "skynet_lab.serve"


def command(root: Path) -> list[str]:
    """The argv of a kept lab's process."""
    return [sys.executable, "-m", MODULE, str(Path(root).resolve())]


def _alive(pid: int) -> bool:
    """The process exists and has not exited (a zombie has); reaps it when it is a child of this process."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return True
    return fields[0] != "Z"


def _ours(pid: int, root: Path) -> bool:
    """The pid is a kept lab serving `root` (not another process that got the number since)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return _alive(pid)
    return MODULE.encode() in argv and str(root).encode() in argv


def running(root: Path) -> dict[str, Any] | None:
    """server.json of the kept lab serving `root`, or None when none is (a stale file is ignored)."""
    root = Path(root).resolve()
    try:
        info = json.loads((root / SERVER_FILE).read_text(encoding="utf-8"))
        pid = int(info["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return info if _alive(pid) and _ours(pid, root) else None


def wait_ready(root: Path, pid: int, timeout: float = 60.0) -> dict[str, Any]:
    """Until the process `pid` serves the lab under `root`; LabError when it exits or the timeout passes."""
    root = Path(root).resolve()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = running(root)
        if info is not None and int(info["pid"]) == pid:
            return info
        if not _alive(pid):
            raise LabError(f"the kept lab exited at start; see {root / LOG_FILE}")
        time.sleep(0.05)
    raise LabError(f"the kept lab did not start within {timeout:.0f} s; see {root / LOG_FILE}")


def stop(root: Path, timeout: float = 20.0) -> int | None:
    """End the kept lab serving `root` (SIGTERM, then SIGKILL after `timeout`); its pid, or None if none ran."""
    root = Path(root).resolve()
    info = running(root)
    if info is None:
        return None
    pid = int(info["pid"])
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() >= deadline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + timeout
        time.sleep(0.05)
    with contextlib.suppress(FileNotFoundError):
        (root / SERVER_FILE).unlink()
    return pid


def serve(root: Path) -> int:
    """Reopen the lab under `root` and serve it until SIGTERM, SIGINT or SIGHUP."""
    root = Path(root).resolve()
    halt = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: halt.set())
    if not (root / state.LAB_FILE).exists():
        print(f"skynet_lab.serve: no lab in {root}", file=sys.stderr)
        return 2
    lab = Lab(root)
    try:
        lab.start()
    except LabError as exc:
        print(f"skynet_lab.serve: {exc}", file=sys.stderr)
        return 1
    try:
        info = {"pid": os.getpid(), "api_url": lab.api_url, "subnet": lab.subnet, "started_at": time.time()}
        api.atomic_write(root / SERVER_FILE, json.dumps(info) + "\n", 0o600)
        print(f"SIMULATED LAB {lab.subnet} serving; Kubernetes API {lab.api_url}", flush=True)
        while not halt.wait(1.0):
            pass
    finally:
        lab.stop()
        with contextlib.suppress(FileNotFoundError):
            (root / SERVER_FILE).unlink()
        print("SIMULATED LAB stopped", flush=True)
    return 0


def in_use(root: Path) -> bool:
    """Whether a process (a demo, a kept lab) serves the lab under `root` now: its subnet is claimed."""
    try:
        lab = state.load_lab(root)
    except state.LabStateError:
        return False
    return subnet_claimed(str(lab["prefix"]))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: python -m skynet_lab.serve LAB_ROOT", file=sys.stderr)
        sys.exit(2)
    sys.exit(serve(Path(sys.argv[1])))
