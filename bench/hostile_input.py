"""Benchmark: every hostile input the class tests refuse (tests/hostile_cases.py), each as its own process.

An answers file from a colleague, a template on the internet or a typo must be refused fast and in little
memory, whatever it holds: an alias bomb, a 200,000-character hostname, /dev/zero, a FIFO, 50 MB. Each case
runs `python -m skynet_tui` with a 300 MB address-space limit, three times; the median run's wall time and its
peak RSS (the child's own, from wait4) count. Targets: the worst case within 2 s and 200 MB. Each case's CPU
time is shown too: on a shared machine the wall time is mostly waiting for a core.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.hostile_cases import CASES, run  # noqa: E402

# The inputs Skynet must refuse. The one the class tests accept (a workspace inside the user's repository, which
# becomes a repository of its own) writes and commits a whole workspace: that is generate's time, not a refusal's.
REFUSED = [case for case in CASES if case.code != 0]

TARGET_S = 2.0
TARGET_RSS_MB = 200.0
RUNS = 3  # per case; the median counts


def _python_floor() -> float:
    """The median wall time of a bare interpreter, on this machine now."""
    samples = []
    for _ in range(RUNS):
        started = time.monotonic()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        samples.append(time.monotonic() - started)
    return sorted(samples)[len(samples) // 2]


def main() -> int:
    worst_s = worst_rss = worst_cpu = 0.0
    slowest = hungriest = ""
    failed: list[str] = []
    for case in REFUSED:
        outcomes = []
        for _ in range(RUNS):
            folder = Path(tempfile.mkdtemp(prefix="hostile-"))
            try:
                config = case.prepare(folder)
                outcomes.append(run(case.argv(folder, config), folder))
            finally:
                shutil.rmtree(folder, ignore_errors=True)
        outcomes.sort(key=lambda o: o.seconds)
        outcome = outcomes[
            len(outcomes) // 2
        ]  # the median run: a shared machine's hiccups are not the input's
        ok = all(o.code == case.code and all(text in o.stderr for text in case.says) for o in outcomes)
        if not ok:
            failed.append(case.name)
        print(
            f"class {case.cls} {case.name:<24} exit {outcome.code} {'ok ' if ok else 'BAD'} "
            f"{outcome.seconds:5.2f} s (cpu {outcome.cpu_s:4.2f} s) {outcome.rss_mb:6.1f} MB"
        )
        worst_cpu = max(worst_cpu, outcome.cpu_s)
        if outcome.seconds > worst_s:
            worst_s, slowest = outcome.seconds, case.name
        if outcome.rss_mb > worst_rss:
            worst_rss, hungriest = outcome.rss_mb, case.name
    print(f"slowest: {slowest}; largest: {hungriest}; not as the tests expect: {', '.join(failed) or 'none'}")
    print(f"python start-up (floor of every case): {_python_floor():.2f} s; worst cpu: {worst_cpu:.2f} s")
    print(f"targets: worst_s <= {TARGET_S}, worst_rss_mb <= {TARGET_RSS_MB:.0f}")
    accepted = ", ".join(case.name for case in CASES if case.code == 0)
    print(f"not timed (accepted, a whole workspace written): {accepted}")
    print(f"hostile_input: cases={len(REFUSED)} worst_s={worst_s:.2f} worst_rss_mb={worst_rss:.1f}")
    return 0 if not failed and worst_s <= TARGET_S and worst_rss <= TARGET_RSS_MB else 1


if __name__ == "__main__":
    sys.exit(main())
