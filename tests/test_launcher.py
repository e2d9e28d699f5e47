"""The one process launcher: streaming, redaction, timeouts, cancel without orphans."""

from __future__ import annotations

import os
import signal
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from skynet_tui import launcher
from skynet_tui.redact import MASK, Redactor
from tests.runner_helpers import live_in_group

PY = sys.executable


def test_lines_stream_as_printed_from_both_streams(tmp_path: Path) -> None:
    # The child prints a line, then waits for the test to acknowledge it: without streaming it would give up.
    seen: list[tuple[str, str]] = []

    def on_line(stream: str, line: str) -> None:
        seen.append((stream, line))
        (tmp_path / f"ack-{line}").touch()

    code = textwrap.dedent(f"""
        import os, sys, time
        for i in range(3):
            print(i, flush=True)
            deadline = time.monotonic() + 60
            while not os.path.exists(os.path.join({str(tmp_path)!r}, f"ack-{{i}}")):
                if time.monotonic() > deadline:
                    sys.exit(f"line {{i}} was not delivered while the child ran")
                time.sleep(0.01)
        print('e', file=sys.stderr)
    """)
    result = launcher.run([PY, "-c", code], on_line=on_line)
    assert seen == [("out", "0"), ("out", "1"), ("out", "2"), ("err", "e")]
    assert result.ok and result.stdout == "0\n1\n2\n"


def test_exit_code_and_redaction() -> None:
    redactor = Redactor(["hunter2hunter2"])
    code = "print('pw hunter2hunter2'); print('token abcdef.0123456789abcdef'); raise SystemExit(3)"
    result = launcher.run([PY, "-c", code], redactor=redactor)
    assert result.returncode == 3 and not result.ok
    assert result.text() == f"pw {MASK}\ntoken {MASK}"


def test_missing_tool_names_the_install_hint() -> None:
    with pytest.raises(launcher.ToolNotFound, match="talosctl is not on PATH; install"):
        launcher.run(["talosctl", "version"], env={"PATH": "/nonexistent"})


def test_timeout_kills_the_child() -> None:
    result = launcher.run([PY, "-c", "import time; time.sleep(30)"], timeout=0.3)
    # Ended by the timeout's SIGTERM, not by its own 30 s sleep (bench/process_control.py times it).
    assert result.timed_out and not result.ok and result.returncode == -signal.SIGTERM


def test_cancel_ends_the_whole_process_group() -> None:
    code = "import subprocess,sys,time\nsubprocess.Popen([sys.executable,'-c','import time; time.sleep(60)'])\nprint('up', flush=True)\ntime.sleep(60)"
    ready = threading.Event()
    proc = launcher.start([PY, "-c", code], on_line=lambda stream, line: ready.set())
    assert ready.wait(10)
    assert len(set(live_in_group(proc.pid))) >= 2
    proc.cancel()
    result = proc.wait()
    assert result.cancelled
    deadline = time.monotonic() + 30  # the kernel reaps the killed group at once; this only bounds a hang
    while set(live_in_group(proc.pid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert set(live_in_group(proc.pid)) == set(), "no process of the cancelled group survives"
    assert os.getpid() != proc.pid


def test_long_paths_are_not_mistaken_for_keys() -> None:
    redact = Redactor()
    path = "/tmp/pytest-of-root/pytest-12/test_install_lab_succeeds0/workspace/secrets/kubeconfig"
    assert redact(f"wrote {path}") == f"wrote {path}"
    key = "kVwJ8yT3q0ZlPn6uXcR2sD4fGh7jK9mN1bV5cX8zQ0w="
    assert redact(f"secret {key}") == f"secret {MASK}"
