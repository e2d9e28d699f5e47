"""`skynet demo --headless --scenario upgrade`: the lab installed one release behind, then Talos and Kubernetes
upgraded node by node, each node's lines printed, exit 0; `--dry-run` of an upgrade changes nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from skynet_tui import spec
from skynet_tui.commands.demo_upgrade import UPGRADE_FROM, UPGRADE_TO
from tests.lab_helpers import make_lab
from tests.upgrade_helpers import FAST

pytestmark = [pytest.mark.lab, pytest.mark.slow, pytest.mark.usefixtures("git")]


def test_the_upgrade_scenario_installs_behind_then_upgrades_node_by_node(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    # A lab made beforehand with near-zero latencies on the scenario's Talos: the demo reopens it.
    make_lab(tmp_path, 1, 1, latency=FAST, root=root / "simulated-lab", talos_version=UPGRADE_FROM[0]).stop()
    demo = subprocess.run(
        [sys.executable, "-m", "skynet_tui", "demo", "--headless", "--scenario", "upgrade", "--workspace", str(root),
         "--nodes", "1+1"],
        capture_output=True, text=True, timeout=1200, check=False,
    )  # fmt: skip
    out = demo.stdout
    assert demo.returncode == 0, out[-4000:] + demo.stderr[-2000:]
    (talos_from, k8s_from), (talos_to, k8s_to) = UPGRADE_FROM, UPGRADE_TO
    lines = [line for line in out.splitlines() if line.startswith("upgrade ")]
    assert lines == [
        f"upgrade cp-1 {talos_from} -> {talos_to} started",
        f"upgrade cp-1 {talos_from} -> {talos_to} done",
        f"upgrade worker-1 {talos_from} -> {talos_to} started",
        f"upgrade worker-1 {talos_from} -> {talos_to} done",
        f"upgrade cp-1 {k8s_from} -> {k8s_to} started",
        f"upgrade cp-1 {k8s_from} -> {k8s_to} done",
        f"upgrade worker-1 {k8s_from} -> {k8s_to} started",
        f"upgrade worker-1 {k8s_from} -> {k8s_to} done",
    ]
    answers = spec.load(root / "lab" / "cluster.yaml")
    assert (answers.spec.talos.version, answers.spec.kubernetes.version) == UPGRADE_TO
    assert "SIMULATED LAB stopped" in out

    # The same upgrade again, as a dry run: nothing to do, said so, exit 0.
    lab = make_lab(tmp_path, root=root / "simulated-lab")
    try:
        again = subprocess.run(
            [sys.executable, "-m", "skynet_tui", "upgrade", "talos", "--to", talos_to, "--dry-run", "--workspace",
             str(root / "lab")],
            capture_output=True, text=True, timeout=600, env=lab.env(), check=False,
        )  # fmt: skip
    finally:
        lab.stop()
    assert again.returncode == 0 and "nothing to do" in again.stdout, again.stdout + again.stderr
