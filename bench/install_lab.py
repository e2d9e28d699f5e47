"""Benchmark: a lab install of 50 nodes, its wall time against the critical path and against a serial run.

The critical path is the longest dependency chain of the step durations measured in the same run (less any
time a step queued for a process slot): the least wall time any scheduler could reach with those durations.
The serial run is the same plan with every step chained after the one before it.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

TARGET = 1.10
# Fixed simulated latencies (seconds) of the lab's machines and tools.
LATENCY = {
    "install": 0.6,
    "reboot": 0.2,
    "boot": 0.2,
    "bootstrap_ready": 0.2,
    "etcd": 0.2,
    "health_check": 0.02,
    "version": 0.02,
    "get": 0.02,
    "apply-config": 0.1,
    "bootstrap": 0.1,
    "kubeconfig": 0.05,
    "etcd-cmd": 0.02,
    "service": 0.02,
    "pod_start": 0.2,
    "lb_assign": 0.1,
    "cert_issue": 0.2,
    "argo_reconcile": 0.2,
    "argo_sync": 0.2,
    "argo_wave": 0.2,
    "argo_retry": 0.5,
    "argo_refresh": 0.5,
}


def _install(nodes: int, serial: bool) -> tuple[float, float, list[str]]:
    """(wall seconds, critical path seconds, the critical chain) of one lab install in a fresh folder."""
    with tempfile.TemporaryDirectory(prefix="skynet-bench-") as tmp:
        return _install_in(Path(tmp), nodes, serial)


def _install_in(root: Path, nodes: int, serial: bool) -> tuple[float, float, list[str]]:
    from skynet_lab.core import Lab
    from skynet_tui import journal, spec
    from skynet_tui.plan import Plan
    from skynet_tui.plan.install import install_plan
    from skynet_tui.plan.timing import Timing
    from skynet_tui.runner import Runner
    from skynet_tui.workspace import Workspace

    control_planes = min(3, nodes)
    with Lab(root / "lab", control_planes, nodes - control_planes, latency=LATENCY) as lab:
        cluster = spec.parse(lab.cluster_data("bench"))
        ws = Workspace.at(root / "ws")
        plan = install_plan(cluster, ws, env=lab.env(), timing=Timing(retry_delay=0.1, poll=0.1))
        if serial:
            ordered = plan.order()
            plan = Plan(
                plan.name,
                [
                    dataclasses.replace(s, deps=(ordered[i - 1].id,) if i else ())
                    for i, s in enumerate(ordered)
                ],
            )
        failures: list[str] = []

        def on_event(event: object) -> None:
            error = getattr(event, "error", None)
            if error:
                failures.append(f"{event.step_id}: {error}")  # type: ignore[attr-defined]

        started = time.monotonic()
        ok = Runner(plan, ws, on_event, env=lab.env(), max_parallel=2 * nodes + 8).run()
        wall = time.monotonic() - started
        if not ok:
            raise SystemExit("install_lab: the install failed: " + "; ".join(failures[:3]))
        durations = {step: r.duration - r.queued for step, r in journal.finished(ws.journal).items()}
        critical, chain = plan.critical_path(durations)
    return wall, critical, chain


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=50)
    args = parser.parse_args(argv)
    wall, critical, chain = _install(args.nodes, serial=False)
    print(f"parallel: wall {wall:.2f} s, critical path {critical:.2f} s through {' → '.join(chain)}")
    serial_wall, _, _ = _install(args.nodes, serial=True)
    print(f"serial: wall {serial_wall:.2f} s ({serial_wall / wall:.1f}× the parallel run)")
    ratio = wall / critical if critical else float("inf")
    print(
        f"install_lab: nodes={args.nodes} wall_s={wall:.2f} critical_path_s={critical:.2f} "
        f"ratio={ratio:.3f} serial_s={serial_wall:.2f}"
    )
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
