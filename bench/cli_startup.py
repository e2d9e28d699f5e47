"""Benchmark: `skynet --help` start-up time against its 0.15 s budget (lazy imports keep it there)."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

BUDGET_S = 0.15
RUNS = 15


def _time(argv: list[str]) -> float:
    samples = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> int:
    skynet = Path(sys.executable).with_name("skynet")
    argv = [str(skynet), "--help"] if skynet.exists() else [sys.executable, "-m", "skynet_tui", "--help"]
    bare = _time([sys.executable, "-c", "pass"])
    helped = _time(argv)
    ratio = helped / BUDGET_S
    print(f"python start-up (floor): {bare:.3f} s")
    print(f"skynet --help: {helped:.3f} s (median of {RUNS})")
    print(f"cli_startup: help_s={helped:.3f} budget_s={BUDGET_S} ratio={ratio:.2f} python_floor_s={bare:.3f}")
    return 0 if ratio <= 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
