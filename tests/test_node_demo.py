"""`skynet demo --headless --scenario replace-node`: the lab installed, then worker-1 and the control plane cp-1
replaced by machines booted into the running lab, each `node <host> removed` then `joined`, etcd's membership
checked after each, exit 0; cluster.yaml and git record every step."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from skynet_tui import spec
from skynet_tui.plan.timing import SCALE_ENV
from tests.lab_helpers import make_lab
from tests.upgrade_helpers import FAST

pytestmark = [pytest.mark.lab, pytest.mark.slow, pytest.mark.usefixtures("git")]


def test_the_replace_node_scenario_replaces_a_worker_then_a_control_plane(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    # A lab made beforehand with near-zero latencies: the demo reopens it (two control planes keep quorum).
    make_lab(tmp_path, 2, 1, latency=FAST, root=root / "simulated-lab").stop()
    demo = subprocess.run(
        [sys.executable, "-m", "skynet_tui", "demo", "--headless", "--scenario", "replace-node", "--workspace",
         str(root), "--nodes", "2+1"],
        capture_output=True, text=True, timeout=1200, check=False,
    )  # fmt: skip
    out = demo.stdout
    assert demo.returncode == 0, out[-4000:] + demo.stderr[-2000:]
    lines = [line for line in out.splitlines() if line.startswith(("node ", "etcd membership"))]
    assert lines == [
        "node worker-1 removed",
        "node worker-1 joined",
        "etcd membership after replacing worker-1: 2/2 members, leader cp-1",
        "node cp-1 removed",
        "node cp-1 joined",
        "etcd membership after replacing cp-1: 2/2 members, leader cp-2",
    ]
    ws = root / "lab"
    answers = spec.load(ws / "cluster.yaml")
    found = {n.hostname: (n.ip, n.role, n.maintenance_address) for n in answers.spec.nodes}
    assert sorted(found) == ["cp-1", "cp-2", "worker-1"]
    assert found["cp-1"][1] == "controlplane" and found["worker-1"][1] == "worker"
    # The new machines answered at leases until their install: recorded as their maintenance addresses.
    assert found["worker-1"][2] != found["worker-1"][0] and found["cp-1"][2] != found["cp-1"][0]
    log = subprocess.run(
        ["git", "-C", str(ws), "log", "--format=%s"], capture_output=True, text=True, check=True
    )
    subjects = log.stdout.splitlines()
    for expected in ("skynet node remove: worker-1", "skynet node add: worker-1", "skynet node remove: cp-1",
                     "skynet node add: cp-1"):  # fmt: skip
        assert any(s.startswith(expected) for s in subjects), subjects
    assert "SIMULATED LAB stopped" in out

    # cp-2's machine dies: it is removed all the same (etcd remove-member from cp-1, no reset: it cannot answer),
    # and then cp-1, the last control plane, is refused.
    lab = make_lab(tmp_path, root=root / "simulated-lab")
    try:
        cp2 = next(n.ip for n in answers.spec.nodes if n.hostname == "cp-2")
        lab.inject(unreachable=[cp2])
        env = {**lab.env(), SCALE_ENV: "0.2"}
        gone = node_command(["remove", "cp-2"], ws, env)
        assert gone.returncode == 0, gone.stdout[-4000:] + gone.stderr
        assert "its member" in gone.stdout and "is removed from another control plane" in gone.stdout
        assert "cp-2 does not answer (powered off, or its disk is gone)" in gone.stdout
        assert "node cp-2 removed" in gone.stdout.splitlines()
        last = node_command(["remove", "cp-1"], ws, env)
    finally:
        lab.stop()
    assert last.returncode == 2 and "Refused: cp-1 is the only control plane" in last.stdout, last.stdout
    assert [n.hostname for n in spec.load(ws / "cluster.yaml").spec.nodes] == ["worker-1", "cp-1"]


def node_command(args: list[str], ws: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "skynet_tui", "node", *args, "--yes", "--workspace", str(ws)],
        capture_output=True, text=True, timeout=600, env=env, check=False,
    )  # fmt: skip


def test_the_scenario_needs_a_second_control_plane_and_says_so_before_starting(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    demo = subprocess.run(
        [sys.executable, "-m", "skynet_tui", "demo", "--headless", "--scenario", "replace-node", "--workspace",
         str(root), "--nodes", "1+1"],
        capture_output=True, text=True, timeout=1200, check=False,
    )  # fmt: skip
    assert demo.returncode == 2, demo.stdout[-3000:] + demo.stderr
    assert "needs --nodes with 2 or more control planes" in demo.stderr and "not 1+1" in demo.stderr
    assert not root.exists()  # nothing was started
