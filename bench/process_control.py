"""Benchmark: how fast the launcher and the runner stream lines, enforce timeouts and cancel, against budgets.

The tests prove each of these happens (a handshake for streaming, the child's SIGTERM for timeouts, no live
process after a cancel); this times them. Each budget is in BUDGETS with its reason.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from skynet_tui import events, launcher
from skynet_tui.plan import Plan, Step
from skynet_tui.runner import Runner
from skynet_tui.workspace import Workspace

LAUNCHER_TIMEOUT = 0.3
STEP_TIMEOUT = 1.0
BUDGETS = {
    "line_latency_s": 0.05,  # a printed line reaches on_line within a frame of the UI
    "timeout_overshoot_s": 1.0,  # a child that honours SIGTERM is gone within a second of its timeout
    "step_timeout_overshoot_s": 1.0,  # the same through the runner: a failed step, its children ended
    "cancel_s": 1.0,  # two running steps and their children, cancelled
    "cancel_retry_wait_s": 0.5,  # a step waiting to retry is cancelled without waiting out the delay
    "step_overhead_s": 0.5,  # a step running `python -c pass`: the runner's own cost plus one interpreter
}


def _py(code: str) -> list[str]:
    return [sys.executable, "-u", "-c", code]


def line_latency() -> float:
    """Median seconds from a child's print to the launcher's on_line (CLOCK_MONOTONIC is system-wide)."""
    delays: list[float] = []
    code = "import time\nfor _ in range(50):\n    print(time.monotonic(), flush=True); time.sleep(0.01)"
    launcher.run(_py(code), on_line=lambda stream, line: delays.append(time.monotonic() - float(line)))
    return statistics.median(delays)


def timeout_overshoot() -> float:
    result = launcher.run(_py("import time; time.sleep(30)"), timeout=LAUNCHER_TIMEOUT)
    assert result.timed_out
    return result.duration - LAUNCHER_TIMEOUT


def _runner(ws: Workspace, steps: list[Step], **kwargs: object) -> tuple[Runner, list[events.Event]]:
    seen: list[events.Event] = []
    return Runner(Plan("bench", steps), ws, seen.append, **kwargs), seen  # type: ignore[arg-type]


def step_timeout_overshoot(ws: Workspace) -> float:
    code = "import subprocess,time\nsubprocess.Popen(['sleep','60'])\ntime.sleep(60)"
    runner, _ = _runner(ws, [Step("slow", "slow", _py(code), timeout=STEP_TIMEOUT)])
    started = time.monotonic()
    assert not runner.run()
    return time.monotonic() - started - STEP_TIMEOUT


def _cancel_when(runner: Runner, seen: list[events.Event], ready: Callable[[], bool]) -> float:
    thread = threading.Thread(target=runner.run)
    thread.start()
    deadline = time.monotonic() + 30
    while not ready() and time.monotonic() < deadline:
        time.sleep(0.005)
    started = time.monotonic()
    runner.cancel()
    thread.join(60)
    assert not thread.is_alive()
    return time.monotonic() - started


def cancel(ws: Workspace) -> float:
    code = "import subprocess,time\nsubprocess.Popen(['sleep','300'])\nprint('up')\ntime.sleep(300)"
    steps = [Step(f"s{i}", f"sleeper {i}", _py(code), timeout=600) for i in range(2)]
    runner, seen = _runner(ws, steps, retry_delay=0.05)
    return _cancel_when(runner, seen, lambda: sum(isinstance(e, events.StepLine) for e in seen) >= 2)


def cancel_retry_wait(ws: Workspace) -> float:
    step = Step(
        "r", "retrying", _py("raise SystemExit('not ready yet')"), transient=("not ready",), attempts=0
    )
    runner, seen = _runner(ws, [step], retry_delay=300)
    return _cancel_when(runner, seen, lambda: any(isinstance(e, events.StepRetrying) for e in seen))


def step_overhead(ws: Workspace) -> float:
    runner, seen = _runner(ws, [Step("p", "pass", _py("pass"))])
    assert runner.run()
    return next(e.duration for e in seen if isinstance(e, events.StepFinished))


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="skynet-bench-") as tmp:

        def fresh(name: str) -> Workspace:
            ws = Workspace.at(Path(tmp) / name)
            ws.ensure()
            return ws

        measured = {
            "line_latency_s": line_latency(),
            "timeout_overshoot_s": timeout_overshoot(),
            "step_timeout_overshoot_s": step_timeout_overshoot(fresh("timeout")),
            "cancel_s": cancel(fresh("cancel")),
            "cancel_retry_wait_s": cancel_retry_wait(fresh("retry")),
            "step_overhead_s": step_overhead(fresh("overhead")),
        }
    ratios = {name: value / BUDGETS[name] for name, value in measured.items()}
    for name, value in measured.items():
        print(f"{name:<26} {value:8.4f} s  budget {BUDGETS[name]:.2f} s  ratio {ratios[name]:.2f}")
    worst = max(ratios, key=ratios.__getitem__)
    print(f"process_control: worst={worst} ratio={ratios[worst]:.2f}")
    return 0 if ratios[worst] <= 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
