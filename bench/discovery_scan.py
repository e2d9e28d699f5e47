"""Benchmark: a discovery sweep where no host answers, against the ideal of rounds × per-host timeout.

Every connection attempt hangs (asyncio.open_connection is replaced), so the sweep's wall time is set by its
concurrency and per-host timeout alone: ceil(hosts / concurrency) rounds of `timeout` seconds.
"""

from __future__ import annotations

import asyncio
import math
import statistics
import sys
import time

from skynet_tui import discovery

CIDR = "10.9.0.0/22"  # the largest range the wizard scans
CONCURRENCY = 64  # discovery.scan's default
TIMEOUT = 0.05
TARGET = 1.5  # wall time against the ideal: event-loop overhead for ~1k connection attempts
RUNS = 5


async def _hang(host: str, port: int) -> None:
    await asyncio.sleep(3600)


def _sweep() -> float:
    started = time.perf_counter()
    found = discovery.scan(CIDR, concurrency=CONCURRENCY, timeout=TIMEOUT)
    elapsed = time.perf_counter() - started
    if found:
        raise RuntimeError(f"nothing answers, yet the sweep found {found}")
    return elapsed


def main() -> int:
    asyncio.open_connection = _hang  # type: ignore[assignment]
    hosts = len(discovery.scan_targets(CIDR))
    ideal = math.ceil(hosts / CONCURRENCY) * TIMEOUT
    wall = statistics.median(_sweep() for _ in range(RUNS))
    ratio = wall / ideal
    print(f"sweep of {CIDR}: {hosts} silent hosts, {CONCURRENCY} at a time, {TIMEOUT} s each")
    print(f"wall {wall:.3f} s (median of {RUNS}), ideal {ideal:.2f} s")
    print(f"discovery_scan: wall_s={wall:.3f} ideal_s={ideal:.2f} target={TARGET} ratio={ratio:.2f}")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
