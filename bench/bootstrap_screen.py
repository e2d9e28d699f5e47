"""Benchmark: the bootstrap screen under a 200k-line flood (key latency, flush rate) and quitting mid-run.

The tests check what happens (the key is handled during the flood, the UI is woken once per flush, quitting
cancels the runner); this measures how fast, against budgets: a key handled within KEY_BUDGET_S while lines
pour in, at most one flush per FLUSH_INTERVAL (+5 for the first and last), the app gone within QUIT_BUDGET_S.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from pathlib import Path
from tempfile import TemporaryDirectory

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from textual import events  # noqa: E402

from skynet_tui import spec  # noqa: E402
from skynet_tui.events import PlanFinished, PlanStarted, StepFinished, StepInfo, StepStarted  # noqa: E402
from skynet_tui.screens.bootstrap import BootstrapScreen  # noqa: E402
from skynet_tui.screens.bootstrap.screen import FLUSH_INTERVAL  # noqa: E402
from skynet_tui.spec import Cluster  # noqa: E402
from skynet_tui.workspace import Workspace  # noqa: E402
from tests.bootstrap_helpers import NODES, Gate, Host, Lines, ScriptedFactory, midway_script  # noqa: E402

KEY_BUDGET_S = 2.0
QUIT_BUDGET_S = 1.0  # a quit should feel immediate; the test only checks the runner is cancelled
LINES = 100_000


async def _wait(pilot, predicate, timeout: float = 120.0) -> float:
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"{predicate} did not hold within {timeout}s")
        await pilot.pause(0.02)
    return time.monotonic() - started


def flood(cluster: Cluster, ws: Workspace) -> tuple[float, int, float]:
    """(seconds to handle a key during the flood, flushes, seconds the whole flood took)."""
    stop = threading.Event()
    script = [
        PlanStarted((StepInfo("flood", "Print a lot"), StepInfo("after", "Next step"))),
        StepStarted("flood"),
        Lines("flood", LINES, nodes=NODES, text="\x1b[32mline\x1b[0m {n}\tof the flood"),
        Lines("flood", LINES, nodes=NODES, text="line {n}\r\rrewritten {n}", until=stop),
        StepFinished("flood", 9.0),
        StepStarted("after"),
        StepFinished("after", 0.1),
        PlanFinished(ok=True),
    ]
    screen = BootstrapScreen(cluster, ws, runner_factory=ScriptedFactory(script))
    app = Host(screen)

    async def scenario() -> tuple[float, int, float]:
        async with app.run_test(size=(100, 32)) as pilot:
            started = time.monotonic()
            await _wait(pilot, lambda: screen.log_view.line_count > 0)
            app.post_message(events.Key("down", None))  # as the terminal driver sends it, mid-flood
            latency = await _wait(pilot, lambda: screen.shown == "after")
            stop.set()
            await _wait(pilot, lambda: screen.phase == "succeeded")
            return latency, screen.flushes, time.monotonic() - started

    return asyncio.run(scenario())


def quit_mid_run(cluster: Cluster, ws: Workspace) -> float:
    """Seconds from app.exit() mid-run until the app and the runner's thread have ended."""
    gate = Gate()
    factory = ScriptedFactory(midway_script(gate))
    app = Host(BootstrapScreen(cluster, ws, runner_factory=factory))
    exited: list[float] = []

    async def scenario() -> None:
        async with app.run_test(size=(100, 32)) as pilot:
            await _wait(pilot, gate.reached.is_set)
            exited.append(time.monotonic())
            app.exit()

    asyncio.run(scenario())
    if not factory.runners[0].done.wait(QUIT_BUDGET_S * 3):
        raise RuntimeError("the runner thread outlived the app")
    return time.monotonic() - exited[0]


def main() -> int:
    data = spec.load(REPO / "examples" / "cluster.yaml")
    with TemporaryDirectory(prefix="skynet-bench-") as tmp:
        ws = Workspace.at(Path(tmp) / "ws")
        latency, flushes, elapsed = flood(data, ws)
        quit_s = quit_mid_run(data, ws)
    flush_budget = elapsed / FLUSH_INTERVAL + 5
    ratios = {"key": latency / KEY_BUDGET_S, "flush": flushes / flush_budget, "quit": quit_s / QUIT_BUDGET_S}
    print(
        f"key press during a {2 * LINES:,}+ line flood: handled in {latency:.3f} s (budget {KEY_BUDGET_S} s)"
    )
    print(
        f"flushes: {flushes} in {elapsed:.2f} s (budget {flush_budget:.0f}: one per {FLUSH_INTERVAL} s + 5)"
    )
    print(f"quit mid-run: app and runner ended in {quit_s:.3f} s (budget {QUIT_BUDGET_S} s)")
    ratio = max(ratios.values())
    print(
        f"bootstrap_screen: key_s={latency:.3f} flushes={flushes} flood_s={elapsed:.2f} quit_s={quit_s:.3f} "
        + " ".join(f"{name}_ratio={value:.2f}" for name, value in ratios.items())
        + f" ratio={ratio:.2f}"
    )
    return 0 if ratio <= 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
