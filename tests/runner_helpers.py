"""Helpers for runner and install tests: event recording, tiny Python children, the process table."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from skynet_tui import events
from skynet_tui.plan import Plan, Step
from skynet_tui.runner import Runner
from skynet_tui.workspace import Workspace


def py(code: str) -> list[str]:
    """argv running `code` in an unbuffered child interpreter."""
    return [sys.executable, "-u", "-c", code]


def is_command(event: events.Event) -> bool:
    """A step's `$ …` line for a command it runs (the launcher announces each one)."""
    return isinstance(event, events.StepLine) and event.stream == "info" and event.text.startswith("$ ")


class Recorder:
    """Collects runner events (from any thread) and lets a test wait for one."""

    def __init__(self, hook: Callable[[events.Event], None] | None = None):
        self.events: list[events.Event] = []
        self._cond = threading.Condition()
        self._hook = hook

    def __call__(self, event: events.Event) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()
        if self._hook is not None:
            self._hook(event)

    def of(self, kind: type, step: str | None = None) -> list:
        """Events of a kind (of one step); StepLines without the `$ …` command lines (see `commands`)."""
        with self._cond:
            found = [e for e in self.events if isinstance(e, kind) and not is_command(e)]
        return [e for e in found if step is None or getattr(e, "step_id", None) == step]

    def lines(self, step: str | None = None) -> list[str]:
        return [e.text for e in self.of(events.StepLine, step)]

    def commands(self, step: str | None = None) -> list[str]:
        """The `$ …` lines a step showed for the commands it ran."""
        with self._cond:
            found = [e for e in self.events if is_command(e)]
        return [e.text for e in found if step is None or e.step_id == step]

    def wait_for(self, match: Callable[[events.Event], bool], timeout: float = 10.0) -> events.Event:
        with self._cond:
            found: list[events.Event] = []

            def check() -> bool:
                found[:] = [e for e in self.events if match(e)]
                return bool(found)

            if not self._cond.wait_for(check, timeout):
                raise AssertionError(f"no matching event within {timeout}s; got {self.events!r}")
            return found[0]

    @property
    def finished(self) -> events.PlanFinished:
        return self.of(events.PlanFinished)[-1]


def run_plan(ws: Workspace, steps: list[Step], **kwargs) -> tuple[bool, Recorder]:
    recorder = kwargs.pop("recorder", None) or Recorder()
    plan = Plan("test", steps, **kwargs.pop("plan_kwargs", {}))
    kwargs.setdefault("retry_delay", 0.05)
    ok = Runner(plan, ws, recorder, **kwargs).run()
    return ok, recorder


@contextlib.contextmanager
def lock_held_by_child(path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holds the lock file `path` (as a second skynet would) until the block ends."""
    holder = subprocess.Popen(
        py(
            "import sys; from skynet_tui.lockfile import LockFile\n"
            f"LockFile({str(path)!r}).acquire(); print('held', flush=True); sys.stdin.read()"
        ),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield holder
    finally:
        holder.kill()
        holder.wait()


def process_state(pid: int) -> str | None:
    """The /proc state letter of a process (R, S, Z, …), or None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def _processes() -> Iterator[tuple[int, list[str]]]:
    """(pid, stat fields after the command name: state, ppid, pgrp, …) of every process, from /proc."""
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                yield int(entry), Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue


def live_in_group(pgid: int) -> list[int]:
    """PIDs of processes in a process group that are not zombies."""
    return [pid for pid, fields in _processes() if int(fields[2]) == pgid and fields[0] != "Z"]


def children_of(pid: int) -> list[int]:
    """Direct children (any state) of a process, from /proc."""
    return [child for child, fields in _processes() if int(fields[1]) == pid]


def lab_processes(lab_root: Path) -> list[int]:
    """Live processes started for a lab (their environment names its SKYNET_LAB_DIR)."""
    marker = f"SKYNET_LAB_DIR={lab_root}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes()
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in environ.split(b"\0") and state != "Z":
            found.append(int(entry))
    return found


def secret_values(ws: Workspace) -> set[str]:
    """Every secret the install wrote: the Talos bundle, talosconfig and kubeconfig keys, the Grafana password."""
    import base64

    import yaml

    values: set[str] = set()

    def learn(value: object) -> None:
        if isinstance(value, dict):
            for item in value.values():
                learn(item)
        elif isinstance(value, list):
            for item in value:
                learn(item)
        elif isinstance(value, str) and len(value) >= 8:
            values.add(value)
            try:
                decoded = base64.b64decode(value, validate=True).decode("ascii")
            except ValueError:
                return
            values.update(line for line in decoded.splitlines() if len(line) >= 16 and "-----" not in line)

    learn(yaml.safe_load(ws.secrets_bundle.read_text()))
    talosconfig = yaml.safe_load(ws.talosconfig.read_text())
    for context in talosconfig["contexts"].values():
        learn({key: context[key] for key in ("ca", "crt", "key") if key in context})
    kubeconfig = yaml.safe_load(ws.kubeconfig.read_text())
    for entry in kubeconfig.get("clusters", []):
        learn(entry["cluster"].get("certificate-authority-data"))
    for entry in kubeconfig.get("users", []):
        learn(
            {
                k: v
                for k, v in entry["user"].items()
                if k in ("client-certificate-data", "client-key-data", "token")
            }
        )
    password = ws.secrets_dir / "grafana-admin-password"
    if password.exists():
        values.add(password.read_text().strip())
    return values
