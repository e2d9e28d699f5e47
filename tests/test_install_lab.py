"""End to end against the simulated lab: headless install, no secret in any log, fault matrix, kill, cancel."""

from __future__ import annotations

import io
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from rich.console import Console

from skynet_tui import events, journal, spec
from skynet_tui.headless import run_install
from skynet_tui.plan.install import install_plan
from skynet_tui.runner import Runner
from skynet_tui.workspace import Workspace
from tests.install_helpers import CORE_ONLY, FAST, fast_timing
from tests.runner_helpers import Recorder, lab_processes, secret_values

lab_core = pytest.importorskip("skynet_lab.core")
lab_state = pytest.importorskip("skynet_lab.state")
# Every test here runs the simulated lab, whose GitOps remote is a git repository.
pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("git")]


@pytest.fixture
def lab(tmp_path: Path):
    with lab_core.Lab(tmp_path / "lab", 3, 2, latency=FAST) as running:
        yield running


def answers(lab, *, core_only: bool = False) -> dict:
    data = lab.cluster_data()
    if core_only:
        data["spec"]["components"] = dict(CORE_ONLY)
    return data


def setup(lab, tmp_path: Path, *, core_only: bool = False) -> tuple[spec.Cluster, Workspace]:
    return spec.parse(answers(lab, core_only=core_only)), Workspace.at(tmp_path / "ws")


def install(lab, cluster, ws, **timing: float) -> tuple[int, str]:
    out = io.StringIO()
    console = Console(file=out, width=200, color_system=None)
    code = run_install(
        cluster,
        ws,
        env=lab.env(),
        assume_yes=True,
        console=console,
        simulated=True,
        timing=fast_timing(**timing),
    )
    return code, out.getvalue()


def starts(ws: Workspace) -> list[str]:
    return [r.step for r in journal.read(ws.journal) if r.event == "start"]


def assert_no_finished_step_ran_twice(ws: Workspace) -> None:
    finished: set[str] = set()
    for record in journal.read(ws.journal):
        if record.event == "start":
            assert record.step not in finished, f"{record.step} ran again after it had finished"
        if record.event == "end" and record.status in journal.DONE_STATUSES:
            finished.add(record.step)


def assert_no_secret_written(ws: Workspace, *texts: str) -> None:
    values = secret_values(ws)
    assert len(values) > 20  # the bundle, talosconfig and kubeconfig keys, the Grafana password
    written = [p.read_text() for p in ws.logs_dir.glob("*.log")] + [ws.journal.read_text(), *texts]
    for text in written:
        for value in values:
            assert value not in text


@pytest.mark.slow
def test_lab_install_headless_then_rerun_skips_everything(lab, tmp_path: Path) -> None:
    cluster, ws = setup(lab, tmp_path)
    code, output = install(lab, cluster, ws)
    assert code == 0, output
    assert "SIMULATED LAB" in output and f"https://argocd.{cluster.spec.ingress.domain}" in output
    assert "argocd-initial-admin-secret" in output
    assert ws.kubeconfig.stat().st_mode & 0o777 == 0o600
    plan = install_plan(cluster, ws, env=lab.env())
    assert set(plan.finished_in_journal(ws)) == {s.id for s in plan.steps}
    assert_no_secret_written(ws, output)

    code, output = install(lab, cluster, ws)
    assert code == 0, output
    assert output.count("skipped: ") == len(plan.steps) and "▶" not in output
    assert_no_finished_step_ran_twice(ws)


@pytest.mark.slow
def test_faults_retry_or_stop_clearly_and_rerun_completes(lab, tmp_path: Path) -> None:
    cluster, ws = setup(lab, tmp_path, core_only=True)
    down = cluster.workers[0]
    lab.inject(unreachable=[down.ip])
    code, output = install(lab, cluster, ws)
    assert code == 1
    assert f"preflight-{down.hostname}: gave up after 2 attempt(s)" in output
    assert "booted from the Talos ISO" in output and "Support bundle" in output
    assert not [s for s in starts(ws) if s.startswith("apply-")]  # no machine written before all answered

    # Back online; now the bootstrap is not available 3 times, one apply resets twice, health times out once,
    # and one Application stays Degraded.
    lab.inject(
        unreachable=[], bootstrap_not_ready=3, health_timeout=1, apply_error={cluster.control_planes[1].ip: 2},
        app_degraded="metallb",
    )  # fmt: skip
    rec = Recorder()
    runner = Runner(install_plan(cluster, ws, env=lab.env(), timing=fast_timing(wave_timeout=3)), ws, rec,
                    env=lab.env())  # fmt: skip
    assert not runner.run()
    assert [r.attempt for r in rec.of(events.StepRetrying, "bootstrap")] == [2, 3, 4]
    assert any(line.noise for line in rec.of(events.StepLine, "bootstrap"))
    assert len(rec.of(events.StepRetrying, f"apply-{cluster.control_planes[1].hostname}")) == 2
    assert len(rec.of(events.StepRetrying, "health")) == 1 and rec.of(events.StepFinished, "health")
    failed = {e.step_id: e.error for e in rec.of(events.StepFailed)}
    assert list(failed) == ["apps-wave-n5"] and "metallb Degraded" in failed["apps-wave-n5"]
    assert rec.finished.support_bundle and Path(rec.finished.support_bundle).exists()

    lab.inject(app_degraded=None)
    code, output = install(lab, cluster, ws)
    assert code == 0, output
    assert_no_finished_step_ran_twice(ws)
    assert_no_secret_written(ws, output)


@pytest.mark.slow
def test_killed_mid_apply_then_rerun_completes(lab, tmp_path: Path) -> None:
    _, ws = setup(lab, tmp_path)
    config = tmp_path / "cluster.yaml"
    config.write_text(yaml.safe_dump(answers(lab, core_only=True)))
    lab.inject(kill_during="apply-config")
    env = {**lab.env(), "SKYNET_TIMING_SCALE": "0.01"}
    argv = [
        sys.executable,
        "-m",
        "skynet_tui",
        "install",
        "--config",
        str(config),
        "--workspace",
        str(ws.root),
    ]
    first = subprocess.run([*argv, "--yes"], env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == -9, first.stdout + first.stderr
    assert [s for s in starts(ws) if s.startswith("apply-")]
    assert not journal.finished(ws.journal).get("bootstrap")
    second = subprocess.run([*argv, "--yes"], env=env, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stdout + second.stderr
    assert_no_finished_step_ran_twice(ws)


@pytest.mark.slow
def test_killed_mid_apply_the_very_next_run_waits_for_the_node_and_finishes(tmp_path: Path) -> None:
    """Issue 9, class 9: the installer dies by SIGKILL while apply-config runs; its orphaned talosctl finishes,
    the node takes the config and installs. The next run finds it answering neither in maintenance mode nor
    over mTLS (installing, rebooting): it waits for the node, recognises it over mTLS, and ends with exit 0."""
    slow_install = {**FAST, "install": 5.0, "reboot": 1.0}  # the next run starts while the node installs
    with lab_core.Lab(tmp_path / "lab", 1, 0, latency=slow_install) as lab:
        config = tmp_path / "cluster.yaml"
        config.write_text(yaml.safe_dump(answers(lab, core_only=True)))
        lab.inject(kill_mid_apply=True)
        env = {**lab.env(), "SKYNET_TIMING_SCALE": "0.01"}
        ws = tmp_path / "ws"
        argv = [
            sys.executable,
            "-m",
            "skynet_tui",
            "install",
            "--config",
            str(config),
            "--workspace",
            str(ws),
        ]
        first = subprocess.run([*argv, "--yes"], env=env, capture_output=True, text=True, timeout=120)
        assert first.returncode == -9, first.stdout + first.stderr
        ip = lab.node_ips[0]
        stage = lab_state.load_node(lab.root, ip)["stage"]
        for _ in range(400):  # the orphan's apply lands a moment after the kill
            if stage != "maintenance":
                break
            time.sleep(0.05)
            stage = lab_state.load_node(lab.root, ip)["stage"]
        assert stage in ("installing", "rebooting"), stage
        assert "apply-cp-1" in journal.interrupted(ws / "journal.jsonl")

        second = subprocess.run([*argv, "--yes"], env=env, capture_output=True, text=True, timeout=180)
        assert second.returncode == 0, second.stdout + second.stderr
        # It waits for the node while it installs ("config already applied: cp-1 left maintenance mode"); on a
        # loaded machine the node may be up before the second run reaches the step, which is then skipped
        # ("already done: config already applied"). Never is the config applied a second time.
        assert "config already applied" in second.stdout, second.stdout
        assert "$ talosctl apply-config" not in second.stdout
        assert journal.interrupted(ws / "journal.jsonl") == set()
        assert_no_finished_step_ran_twice(Workspace.at(ws))


def test_an_install_disk_below_talos_minimum_is_refused_before_any_machine_is_written(tmp_path: Path) -> None:
    """Issue 9, class 7: a 7.8 GB eMMC as the install disk used to install "successfully"; the preflight reads
    the disk's size from the node and refuses it, naming node and disk, before any apply."""
    with lab_core.Lab(tmp_path / "lab", 1, 2, latency=FAST) as lab:
        data = answers(lab, core_only=True)
        small = {}
        for node in data["spec"]["nodes"]:
            disks = lab_state.load_node(lab.root, node["ip"])["hardware"]["disks"]
            found = [d for d in disks if 0 < d["size"] < 10 * 1024**3 and not d["cdrom"]]
            if found:
                small[node["hostname"]] = found[0]["dev_path"]
                node["installDisk"] = found[0]["dev_path"]
        assert small, "the lab has a machine with a small disk (an eMMC)"
        cluster, ws = spec.parse(data), Workspace.at(tmp_path / "ws")
        code, output = install(lab, cluster, ws)
    assert code == 1, output
    for hostname, dev_path in small.items():
        assert f"{hostname} (" in output and f"the install disk {dev_path} ({dev_path}) is" in output
    assert "Talos needs at least 10 GiB" in output
    assert not [step for step in starts(ws) if step.startswith(("apply-", "bootstrap"))]


@pytest.mark.slow
def test_ctrl_c_cancels_a_headless_install(tmp_path: Path) -> None:
    slow = {**FAST, "health_check": 0.5}
    with lab_core.Lab(tmp_path / "lab", 1, 0, latency=slow) as lab:
        config = tmp_path / "cluster.yaml"
        config.write_text(yaml.safe_dump(answers(lab, core_only=True)))
        env = {**lab.env(), "SKYNET_TIMING_SCALE": "0.01"}
        argv = [sys.executable, "-m", "skynet_tui", "install", "--config", str(config), "--workspace"]
        proc = subprocess.Popen(
            [*argv, str(tmp_path / "ws"), "--yes"], env=env, stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.lstrip().startswith("health") and "│" in line:
                break
        assert lab_processes(lab.root)
        proc.send_signal(signal.SIGINT)
        rest = proc.stdout.read()
        assert proc.wait(timeout=60) == 130  # cancelled by SIGINT
        assert "Cancelled; run the same command again to resume." in rest
        assert lab_processes(lab.root) == []  # no child of the launcher (nor theirs) outlived the cancel
        ends = [r.status for r in journal.read(tmp_path / "ws" / "journal.jsonl") if r.event == "end"]
        assert ends[-1] == "cancelled" and "health" in rest
