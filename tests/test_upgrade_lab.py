"""Guided upgrades end to end against the simulated lab: one node at a time, control planes first, the etcd
snapshot before the first change, a rolled-back node, a node that never returns, etcd failing mid-way, gates that
block, Kubernetes' dry run first, and every talosctl argv checked against talosctl 1.13.9's command table."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from skynet_lab import talos_upgrade
from skynet_lab.cli import CliError, parse
from skynet_lab.fake_talosctl import TALOSCTL
from skynet_tui import events, journal, spec
from skynet_tui.generate import render_commands
from skynet_tui.journal import Outcome
from skynet_tui.plan import upgrade
from skynet_tui.runner import Runner
from tests.runner_helpers import Recorder
from tests.upgrade_helpers import (
    FROM_KUBERNETES,
    FROM_TALOS,
    TIMING,
    TO_KUBERNETES,
    TO_TALOS,
    Argvs,
    Installed,
    ended,
    installed_fixture,  # noqa: F401
    intervals,
    run,
)

pytestmark = [pytest.mark.lab, pytest.mark.slow, pytest.mark.usefixtures("git")]

NODES = ["cp-1", "cp-2", "cp-3", "worker-1", "worker-2"]
DEPRECATED = ("--preserve", "--stage", "--force", "--insecure", "-p", "-s", "-f")


def node_window(ws, hop: str, host: str) -> tuple[float, float]:
    """From the start of a node's upgrade to the end of the gates after it."""
    steps = intervals(ws, f"talos-{hop}-{host}")
    return steps[f"talos-{hop}-{host}"][0], steps[f"talos-{hop}-{host}-gates"][1]


def talos_versions(found: Installed) -> dict[str, str]:
    return {n["hostname"]: n["versions"]["talos"] for n in found.lab.nodes()}


def test_talos_upgrade_one_node_at_a_time_rolled_back_node_stops_and_resume_finishes(
    installed: Installed, monkeypatch: pytest.MonkeyPatch
) -> None:
    argvs = Argvs(monkeypatch)
    ws = installed.ws
    talos_upgrade.inject(installed.lab.root, upgrade_rollback=["cp-2"])

    code, output = run(installed, "talos", TO_TALOS)
    assert code == 1, output
    assert (
        f"cp-2 ({installed.cluster.control_planes[1].ip}) came back on {FROM_TALOS}, not {TO_TALOS}" in output
    )
    assert "the upgrade was rolled back" in output and "no other node was touched" in output
    assert f"upgrade cp-1 {FROM_TALOS} -> {TO_TALOS} done" in output
    assert f"upgrade cp-2 {FROM_TALOS} -> {TO_TALOS} started" in output
    assert not intervals(ws, f"talos-{TO_TALOS}-cp-3")  # the plan stopped at cp-2
    assert talos_versions(installed) == {"cp-1": TO_TALOS, **{n: FROM_TALOS for n in NODES[1:]}}
    assert (
        spec.load(ws.cluster_yaml).spec.talos.version == FROM_TALOS
    )  # recorded only once every node runs it

    code, output = run(
        installed, "talos", TO_TALOS
    )  # resume: the fault was consumed, cp-2 upgrades this time
    assert code == 0, output
    assert "skipped: finished in an earlier run" in output  # cp-1 is not upgraded again
    assert talos_versions(installed) == {n: TO_TALOS for n in NODES}
    assert ended(ws, f"talos-{TO_TALOS}-cp-2") == [Outcome.FAILED, Outcome.OK]
    assert ended(ws, f"talos-{TO_TALOS}-cp-1") == [Outcome.OK]

    # One node at a time, control planes first: each node's window (its upgrade to the gates after it) is over
    # before the next one starts, in cluster.yaml's order.
    windows = [node_window(ws, TO_TALOS, host) for host in NODES]
    for (_, end), (start, _) in zip(windows, windows[1:], strict=False):
        assert end <= start
    snapshot = intervals(ws, "etcd-snapshot")["etcd-snapshot"]
    first_change = min(r.ts for r in journal.read(ws.journal) if r.step == f"talos-{TO_TALOS}-cp-1")
    assert snapshot[1] <= first_change
    backups = list((ws.root / "backups").glob("etcd-*-before-talos-v1.13.9.snapshot"))
    assert len(backups) == 1 and backups[0].stat().st_mode & 0o777 == 0o600
    assert (ws.root / "backups").stat().st_mode & 0o777 == 0o700
    assert backups[0].stat().st_size % 512 == 32  # talosctl's snapshot ends with its sha256
    ignored = subprocess.run(["git", "check-ignore", "-q", str(backups[0])], cwd=ws.root, check=False)
    assert ignored.returncode == 0
    assert not [p for p in ws.tracked_files() if p.startswith("backups")]

    # cluster.yaml and the node patches follow the cluster, committed
    assert spec.load(ws.cluster_yaml).spec.talos.version == TO_TALOS
    # the next generate renders the configs with the new installer image
    render = render_commands(spec.load(ws.cluster_yaml), ws, new_bundle=False, new_talosconfig=False)
    image = render.configs[render.configs.index("--install-image") + 1]
    assert image.endswith(f":{TO_TALOS}")
    assert ws.git("status", "--porcelain").stdout.strip() == ""
    assert f"runs Talos {FROM_TALOS} -> {TO_TALOS}" in ws.git("log", "-1", "--format=%s").stdout

    # Every talosctl call: a command and flags of talosctl 1.13.9's reference, none of upgrade's deprecated ones.
    calls = argvs.of("talosctl")
    assert {tuple(a[1:3]) for a in calls} >= {
        ("upgrade", "--talosconfig"),
        ("etcd", "snapshot"),
        ("get", "versions"),
    }
    for argv in calls:
        try:
            parse(TALOSCTL, argv[1:])
        except CliError as exc:
            pytest.fail(f"{' '.join(argv)}: {exc.message}")
        if argv[1] == "upgrade":
            assert not set(argv) & set(DEPRECATED), argv
            assert argv[argv.index("--nodes") + 1].count(",") == 0  # one node per call


def test_gates_block_a_degraded_app_and_etcd_failing_mid_way_and_a_node_that_never_returns(
    installed: Installed,
) -> None:
    ws, lab = installed.ws, installed.lab
    lab.inject(app_degraded="traefik")
    code, output = run(installed, "talos", TO_TALOS)
    assert code == 1, output
    assert "✗ Argo CD apps Healthy: not Healthy: " in output and "traefik Degraded" in output
    assert "The gates are closed: nothing changed" in output and "--allow-degraded" in output
    assert not intervals(ws, "etcd-snapshot") and not (ws.root / "backups").exists()  # nothing changed
    assert talos_versions(installed) == {n: FROM_TALOS for n in NODES}
    lab.inject(app_degraded=[])

    # etcd stops answering on cp-1 once it is back: the gates after cp-1 stop the upgrade before cp-2.
    talos_upgrade.inject(lab.root, etcd_unhealthy_after_upgrade="cp-1")
    code, output = run(installed, "talos", TO_TALOS)
    assert code == 1, output
    assert f"talos-{TO_TALOS}-cp-1-gates: the gates stayed closed for 10s: etcd healthy" in output
    assert "no answer from cp-1" in output
    assert talos_versions(installed) == {"cp-1": TO_TALOS, **{n: FROM_TALOS for n in NODES[1:]}}
    assert ended(ws, f"talos-{TO_TALOS}-cp-1-gates") == [Outcome.FAILED]

    # etcd heals; worker-1 never comes back from its upgrade: the plan stops and names it.
    talos_upgrade.inject(lab.root, etcd_unhealthy_after_upgrade=None, upgrade_lost=["worker-1"])
    code, output = run(installed, "talos", TO_TALOS)
    assert code == 1, output
    worker = installed.cluster.workers[0]
    assert f"worker-1 ({worker.ip}) did not come back within 20s of its upgrade to {TO_TALOS}" in output
    assert "the nodes after it were not touched" in output
    assert talos_versions(installed)["worker-2"] == FROM_TALOS
    assert not intervals(ws, f"talos-{TO_TALOS}-worker-2")


def test_kubernetes_upgrade_runs_its_dry_run_first_and_a_declined_one_changes_nothing(
    installed: Installed, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, env = installed.ws, installed.lab.env()
    asked: list[tuple[str, str]] = []

    def decline(question: str, dry_run_output: str) -> bool:
        asked.append((question, dry_run_output))
        return False

    prepared = upgrade.read(ws, upgrade.Request("kubernetes", TO_KUBERNETES), env=env)
    plan = upgrade.build(prepared, ws, env=env, timing=TIMING, confirm=decline, simulated=True)
    recorder = Recorder()
    assert not Runner(plan, ws, recorder, env=env).run()
    [(question, shown)] = asked
    assert question == f"Upgrade Kubernetes to {TO_KUBERNETES}?" and "skipped in dry-run" in shown
    [failed] = recorder.of(events.StepFailed)
    assert (
        failed.step_id == f"k8s-{TO_KUBERNETES}-dry-run" and "not confirmed after its dry run" in failed.error
    )
    assert {n["versions"]["kubernetes"] for n in installed.lab.nodes()} == {FROM_KUBERNETES}

    argvs = Argvs(monkeypatch)
    code, output = run(installed, "kubernetes", TO_KUBERNETES)
    assert code == 0, output
    steps = intervals(ws, "")
    dry, real = steps[f"k8s-{TO_KUBERNETES}-dry-run"], steps[f"k8s-{TO_KUBERNETES}"]
    assert steps["etcd-snapshot"][1] <= dry[0] and dry[1] <= real[0]
    upgrades = [a for a in argvs.of("talosctl") if a[1] == "upgrade-k8s"]
    assert ["--dry-run" in a for a in upgrades] == [True, False]
    for argv in argvs.of("talosctl"):
        parse(TALOSCTL, argv[1:])  # CliError on a command or flag talosctl 1.13.9 does not have
    assert "skipped in dry-run" in output
    for host in NODES:
        assert f"upgrade {host} {FROM_KUBERNETES} -> {TO_KUBERNETES} started" in output
        assert f"upgrade {host} {FROM_KUBERNETES} -> {TO_KUBERNETES} done" in output
    assert {n["versions"]["kubernetes"] for n in installed.lab.nodes()} == {TO_KUBERNETES}
    assert spec.load(ws.cluster_yaml).spec.kubernetes.version == TO_KUBERNETES
    code, output = run(installed, "kubernetes", TO_KUBERNETES)
    assert code == 0 and "nothing to do" in output

    code, output = run(installed, "kubernetes", "1.37.0")
    assert code == 2 and "Kubernetes 1.37 needs Talos ≥ 1.14" in output and "upgrade Talos first" in output


def test_ctrl_c_pauses_after_the_node_then_stops_naming_the_node_and_a_run_resumes(
    installed: Installed,
) -> None:
    ws, env = installed.ws, {**installed.lab.env(), "SKYNET_TIMING_SCALE": "0.05"}
    argv = [sys.executable, "-u", "-m", "skynet_tui", "upgrade", "talos", "--to", TO_TALOS, "--yes",
            "--workspace", str(ws.root)]  # fmt: skip

    def interrupt(at: str, times: int) -> tuple[int, str]:
        child = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert child.stdout is not None
        seen: list[str] = []
        for line in child.stdout:
            seen.append(line)
            if line.strip() == at:
                for _ in range(times):
                    child.send_signal(signal.SIGINT)
                    time.sleep(0.3)
                break
        seen += child.stdout.readlines()
        return child.wait(timeout=600), "".join(seen)

    code, output = interrupt(f"upgrade cp-1 {FROM_TALOS} -> {TO_TALOS} started", 1)
    assert code == 1, output
    assert "pausing once the node under way is done" in output
    assert "Paused: the nodes under way finished (cp-1 last)" in output
    assert talos_versions(installed) == {"cp-1": TO_TALOS, **{n: FROM_TALOS for n in NODES[1:]}}

    code, output = interrupt(f"upgrade cp-2 {FROM_TALOS} -> {TO_TALOS} started", 2)
    assert code == 1, output
    cp2 = installed.cluster.control_planes[1].ip
    assert f"Stopped while cp-2 ({cp2}) was being upgraded: it may be draining or rebooting" in output
    assert not intervals(ws, f"talos-{TO_TALOS}-cp-3")

    code, output = run(installed, "talos", TO_TALOS)
    assert code == 0, output
    assert talos_versions(installed) == {n: TO_TALOS for n in NODES}
