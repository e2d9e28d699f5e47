"""Helpers for the upgrade tests: a lab installed on Talos v1.13.8 / Kubernetes 1.35.4, quick timings, headless
runs captured as text, the journal's intervals, and every talosctl argv recorded."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from skynet_lab.core import Lab
from skynet_tui import journal, launcher, spec
from skynet_tui.commands.upgrade import run_upgrade
from skynet_tui.headless import run_install
from skynet_tui.plan import upgrade
from skynet_tui.plan.timing import Timing
from skynet_tui.plan.upgrade_steps import UpgradeTiming
from skynet_tui.workspace import Workspace

FROM_TALOS, FROM_KUBERNETES = "v1.13.8", "1.35.4"
TO_TALOS, TO_KUBERNETES = "v1.13.9", "1.36.3"
# Near-zero latencies for the machines, the platform and the upgrades (staging an image, upgrade-k8s's steps).
FAST = {
    op: 0.01
    for op in ("install", "reboot", "bootstrap_ready", "etcd", "boot", "health_check", "get", "apply-config")
    + (
        "bootstrap",
        "kubeconfig",
        "pod_start",
        "lb_assign",
        "cert_issue",
        "progress_deadline",
        "argo_reconcile",
    )
    + ("argo_sync", "argo_wave", "argo_retry", "argo_refresh", "version", "etcd-cmd", "service")
    + ("upgrade", "upgrade-k8s")
}
CORE_ONLY = {name: False for name in ("monitoring", "logging", "tracing", "storage", "vpa", "policies")}
INSTALL_TIMING = Timing(
    retry_delay=0.05, poll=0.05, preflight_attempts=2, preflight_timeout=30, apply_timeout=30, install_timeout=30,
    bootstrap_timeout=30, health_wait=20, kube_timeout=30, argocd_timeout=30, wave_timeout=30,
)  # fmt: skip
TIMING = UpgradeTiming(
    retry_delay=0.05, poll=0.1, first_gate_wait=4, gate_wait=10, upgrade_timeout=20, ready_timeout=30,
    k8s_timeout=60, snapshot_timeout=30, read_timeout=90,
)  # fmt: skip


@dataclasses.dataclass
class Installed:
    """A lab whose cluster the product installed, and its workspace."""

    lab: Lab
    cluster: spec.Cluster
    ws: Workspace


def install(tmp_path: Path, *, workers: int = 2) -> Installed:
    """Start a lab on FROM_TALOS and install it headless with Kubernetes FROM_KUBERNETES (the core platform).
    Its first machine answers at a DHCP lease until its install, as in the demo: an upgrade's reboot must bring
    it back at its configured address, not at the lease."""
    lab = Lab(tmp_path / "lab", 3, workers, latency=FAST, talos_version=FROM_TALOS, leases=1).start()
    try:
        data = lab.cluster_data()
        data["spec"]["kubernetes"]["version"] = FROM_KUBERNETES
        data["spec"]["components"] = dict(CORE_ONLY)
        cluster = spec.parse(data)
        ws = Workspace.at(tmp_path / "ws")
        out = io.StringIO()
        console = Console(file=out, width=200, color_system=None)
        code = run_install(
            cluster,
            ws,
            env=lab.env(),
            assume_yes=True,
            console=console,
            simulated=True,
            timing=INSTALL_TIMING,
        )
        assert code == 0, out.getvalue()[-4000:]
    except BaseException:
        lab.stop()
        raise
    return Installed(lab, cluster, ws)


@pytest.fixture(name="installed")
def installed_fixture(tmp_path: Path) -> Iterator[Installed]:
    """A freshly installed lab cluster (3 control planes, 2 workers), stopped after the test.

    Use it with `from tests.upgrade_helpers import installed_fixture  # noqa: F401`."""
    found = install(tmp_path)
    try:
        yield found
    finally:
        found.lab.stop()


def run(found: Installed, kind: upgrade.Kind, target: str, **kwargs: Any) -> tuple[int, str]:
    """`skynet upgrade <kind> --to <target> --yes` headless against the lab; (exit code, what it printed)."""
    out = io.StringIO()
    request = upgrade.Request(
        kind,
        target,
        allow_degraded=kwargs.pop("allow_degraded", False),
        parallel=kwargs.pop("parallel", 1),
    )
    code = run_upgrade(
        found.ws,
        request,
        assume_yes=kwargs.pop("assume_yes", True),
        env=found.lab.env(),
        console=Console(file=out, width=220, color_system=None),
        simulated=True,
        timing=kwargs.pop("timing", TIMING),
        **kwargs,
    )
    return code, out.getvalue()


def intervals(ws: Workspace, prefix: str) -> dict[str, tuple[float, float]]:
    """Step id → (its last start, its last ok end) from the journal, for the steps whose id starts with prefix."""
    starts: dict[str, float] = {}
    out: dict[str, tuple[float, float]] = {}
    for record in journal.read(ws.journal):
        if not record.step.startswith(prefix):
            continue
        if record.event == "start":
            starts[record.step] = record.ts
        elif record.event == "end" and record.status is journal.Outcome.OK:
            out[record.step] = (starts[record.step], record.ts)
    return out


def ended(ws: Workspace, step: str) -> list[journal.Outcome]:
    """How each run of a step ended, in order."""
    return [r.status for r in journal.read(ws.journal) if r.event == "end" and r.step == step and r.status]


class Argvs:
    """Every argv the product starts through the one launcher (the runner's steps and the status core)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.seen: list[list[str]] = []
        original = launcher.start

        def start(argv: Any, *args: Any, **kwargs: Any) -> launcher.Process:
            self.seen.append([str(a) for a in argv])
            return original(argv, *args, **kwargs)

        monkeypatch.setattr(launcher, "start", start)

    def of(self, tool: str) -> list[list[str]]:
        return [argv for argv in self.seen if Path(argv[0]).name == tool]
