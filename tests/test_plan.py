"""The install plan's shape, its argv contracts, `skynet plan`, `skynet install` refusals and the support bundle."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from skynet_tui import spec
from skynet_tui.plan import StepError
from skynet_tui.plan.install import fingerprint, install_plan
from skynet_tui.plan.probes import check_install_disk, disk_text, talosconfig_endpoints
from skynet_tui.plan.timing import Timing
from skynet_tui.support import write_bundle
from skynet_tui.workspace import Workspace
from tests.runner_helpers import lock_held_by_child
from tests.talos_helpers import FIXTURES

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def cluster(example_data: dict) -> spec.Cluster:
    return spec.parse(example_data)


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace.at(tmp_path / "ws")


def test_plan_order_and_dependencies(cluster: spec.Cluster, ws: Workspace) -> None:
    plan = install_plan(cluster, ws, env={"PATH": "/usr/bin"})
    ids = [step.id for step in plan.order()]
    hosts = [n.hostname for n in cluster.spec.nodes]
    assert ids[0] == "preflight-tools"
    position = {step_id: i for i, step_id in enumerate(ids)}
    for host in hosts:
        apply = plan.get(f"apply-{host}")
        assert set(apply.deps) == {
            *(f"preflight-{h}" for h in hosts),
            *(f"verify-{h}" for h in hosts),
            "generate",
        }
        assert plan.get(f"install-{host}").deps == (f"apply-{host}",)
        assert apply.writes_machines and apply.target == host
    assert set(plan.get("bootstrap").deps) == {"install-cp-1", "talosconfig"}
    assert set(plan.get("health").deps) == {"bootstrap", *(f"install-{h}" for h in hosts)}
    assert position["push"] < position["root-app"] and "push" in plan.get("root-app").deps
    assert [s.id for s in plan.steps if s.writes_machines] == [*(f"apply-{h}" for h in hosts), "bootstrap"]
    waves = [step_id for step_id in ids if step_id.startswith("apps-wave-")]
    assert waves[0] == "apps-wave-n9" and waves[-1] == "apps-wave-2"  # the CSR approver leads
    for before, after in zip(waves, waves[1:], strict=False):
        assert plan.get(after).deps == (before,)
    assert not plan.simulated


def test_talosctl_argv(cluster: spec.Cluster, ws: Workspace) -> None:
    plan = install_plan(cluster, ws, env={})
    cps = "192.168.10.11,192.168.10.12,192.168.10.13"
    assert plan.get("preflight-cp-2").argv == [
        "talosctl", "get", "disks", "--insecure", "--nodes", "192.168.10.12", "--output", "json",
    ]  # fmt: skip
    assert plan.get("apply-worker-1").argv == [
        "talosctl", "apply-config", "--insecure", "--nodes", "192.168.10.21",
        "--file", str(ws.node_config("worker-1")),
    ]  # fmt: skip
    bootstrap = plan.get("bootstrap")
    assert bootstrap.argv[:2] == ["talosctl", "bootstrap"] and "--talosconfig" in bootstrap.argv
    assert bootstrap.argv[bootstrap.argv.index("--nodes") + 1] == "192.168.10.11"
    assert "AlreadyExists" in bootstrap.done_when and "bootstrap is not available yet" in bootstrap.transient
    health = plan.get("health").argv
    assert health[health.index("--control-plane-nodes") + 1] == cps
    assert health[health.index("--worker-nodes") + 1] == "192.168.10.21,192.168.10.22"
    assert "192.168.10.10" not in " ".join(health)  # never the VIP


def test_cni_none_waits_for_ready_through_talos_reboots(example_data: dict, ws: Workspace) -> None:
    assert (
        install_plan(spec.parse(example_data), ws, env={}).get("nodes-ready").timeout == Timing().kube_timeout
    )
    example_data["spec"]["kubernetes"]["cni"] = "none"
    step = install_plan(spec.parse(example_data), ws, env={}).get("nodes-ready")
    assert step.timeout == Timing().cni_ready_timeout > 20 * 60  # two of Talos's ~10-minute reboots, and more
    assert "cni is none: install your CNI now" in step.hint


def test_kubectl_only_as_agreed(cluster: spec.Cluster, ws: Workspace) -> None:
    root = install_plan(cluster, ws, env={}).get("root-app").argv
    assert root == [
        "kubectl", "--kubeconfig", str(ws.kubeconfig), "apply", "--server-side", "--force-conflicts",
        "--field-manager", "skynet", "-f", str(ws.root / "gitops" / "bootstrap" / "root.yaml"),
    ]  # fmt: skip


def test_timing_scale_and_secret_sources(example_data: dict, ws: Workspace, tmp_path: Path) -> None:
    key = tmp_path / "deploy"
    key.write_text(
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n"
    )
    example_data["spec"]["gitops"]["credentials"] = {"sshKeyFile": str(key)}
    example_data["spec"]["ingress"]["acme"] |= {"challenge": "dns01", "dns01": {"provider": "cloudflare",
                                                                              "tokenEnv": "CF_API_TOKEN"}}  # fmt: skip
    cluster = spec.parse(example_data)
    plan = install_plan(cluster, ws, env={"SKYNET_TIMING_SCALE": "0.1"}, simulated=True)
    assert plan.simulated
    assert plan.secret_env == ("CF_API_TOKEN",) and plan.secret_files == (key,)
    assert plan.get("install-cp-1").timeout == pytest.approx(Timing().install_timeout * 0.1)
    assert plan.get("preflight-cp-1").timeout == 30.0 and plan.get(
        "preflight-cp-1"
    ).retry_delay == pytest.approx(0.5)
    assert plan.get("preflight-cp-1").attempts == Timing().preflight_attempts
    assert Timing.from_env({"SKYNET_TIMING_SCALE": "nonsense"}) == Timing()


def test_install_disk_check(cluster: spec.Cluster) -> None:
    disks = "".join(
        json.dumps(
            {"node": "n", "metadata": {"id": i}, "spec": {"dev_path": f"/dev/{i}", "serial": s, **extra}}
        )
        for i, s, extra in (
            ("sda", "S1", {}),
            ("sr0", "", {"cdrom": True}),
            ("nvme0n1", "S4EWNX0R123456", {}),
            ("mmcblk0", "0x1234", {"size": 7_818_182_656, "pretty_size": "7.8 GB"}),
        )
    )

    class Result:
        stdout = disks

    by_name = {n.hostname: n for n in cluster.spec.nodes}
    assert disk_text(by_name["worker-1"]) == "serial:S4EWNX0R123456"
    check_install_disk(by_name["cp-1"])(Result())
    check_install_disk(by_name["worker-1"])(Result())
    with pytest.raises(
        StepError, match=r"worker-2 \(192.168.10.22\) has no disk /dev/nvme1n1; it has: /dev/sda \(S1\)"
    ):
        check_install_disk(by_name["worker-2"].model_copy(update={"install_disk": "/dev/nvme1n1"}))(Result())
    with pytest.raises(
        StepError,
        match=r"worker-2 \(192.168.10.22\): the install disk /dev/mmcblk0 \(/dev/mmcblk0\) is 7.8 GB; "
        r"Talos needs at least 10 GiB",
    ):
        check_install_disk(by_name["worker-2"].model_copy(update={"install_disk": "/dev/mmcblk0"}))(Result())
    with pytest.raises(StepError, match=r"serial:0x1234 \(/dev/mmcblk0\) is 7.8 GB"):
        worker = by_name["worker-1"]
        emmc = worker.install_disk.model_copy(update={"serial": "0x1234"})
        check_install_disk(worker.model_copy(update={"install_disk": emmc}))(Result())


def test_talosconfig_endpoints_reader(tmp_path: Path) -> None:
    assert talosconfig_endpoints(FIXTURES / "talosconfig") == [
        "172.20.1.2",
        "172.20.1.3",
        "172.20.1.4",
    ]


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "skynet_tui", *args], capture_output=True, text=True, cwd=cwd,
        stdin=subprocess.DEVNULL, timeout=60,
    )  # fmt: skip


def test_skynet_plan_lists_steps_and_rerun_skips(tmp_path: Path, example_data: dict) -> None:
    config = tmp_path / "cluster.yaml"
    config.write_text(yaml.safe_dump(example_data))
    ws_dir = tmp_path / "ws"
    result = _cli("plan", "--config", str(config), "--workspace", str(ws_dir), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "preflight-tools" in result.stdout and "apps-wave-2" in result.stdout
    assert "a re-run skips 0" in result.stdout and not ws_dir.exists()

    Workspace.at(ws_dir).ensure()
    answers = fingerprint(spec.parse(example_data))
    (ws_dir / "journal.jsonl").write_text(
        json.dumps({"event": "run", "run": "r", "ts": 1, "answers": answers})
        + "\n"
        + json.dumps({"event": "end", "step": "preflight-tools", "status": "ok", "run": "r", "ts": 1})
        + "\n"
    )
    result = _cli("plan", "--config", str(config), "--workspace", str(ws_dir), cwd=tmp_path)
    line = next(ln for ln in result.stdout.splitlines() if "preflight-tools" in ln and "skip" in ln)
    assert "finished in an earlier run" in line and "a re-run skips 1" in result.stdout

    # Changed answers: nothing counts as finished any more (generate and push must run again).
    example_data["spec"]["ingress"]["domain"] = "example.org"
    config.write_text(yaml.safe_dump(example_data))
    result = _cli("plan", "--config", str(config), "--workspace", str(ws_dir), cwd=tmp_path)
    assert "a re-run skips 0" in result.stdout


def test_bad_answers_exit_2_and_write_nothing(tmp_path: Path, example_data: dict) -> None:
    example_data["spec"]["nodes"][1]["ip"] = example_data["spec"]["nodes"][0]["ip"]
    config = tmp_path / "cluster.yaml"
    config.write_text(yaml.safe_dump(example_data))
    for extra in (["plan"], ["install", "--yes"]):
        result = _cli(*extra, "--config", str(config), "--workspace", str(tmp_path / "ws"), cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        assert "spec.nodes[1].ip" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cluster.yaml"]


def test_install_without_yes_and_without_a_terminal_refuses(tmp_path: Path, example_data: dict) -> None:
    config = tmp_path / "cluster.yaml"
    config.write_text(yaml.safe_dump(example_data))
    result = _cli("install", "--config", str(config), "--workspace", str(tmp_path / "ws"), cwd=tmp_path)
    assert result.returncode == 2
    assert "pass --yes" in result.stderr
    assert not (tmp_path / "ws").exists()


def test_support_bundle_is_redacted(tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path / "ws")
    ws.ensure()
    ws.write_secret("secrets.yaml", (FIXTURES / "secrets.yaml").read_text())
    bundle_secret = yaml.safe_load((FIXTURES / "secrets.yaml").read_text())["secrets"][
        "secretboxencryptionsecret"
    ]
    (ws.logs_dir / "apply-cp-1.log").write_text(
        f"12:00:00 [err] leaked {bundle_secret}\n12:00:01 fine line\n"
    )
    ws.journal.write_text(json.dumps({"event": "end", "step": "apply-cp-1", "status": "failed", "reason": "boom",
                                      "run": "r", "ts": 1}) + "\n")  # fmt: skip
    ws.write("cluster.yaml", "metadata: {name: x}\n")
    path = write_bundle(ws)
    assert (
        path.parent == ws.root and path.name.startswith("support-bundle-") and path.name.endswith(".tar.gz")
    )
    with tarfile.open(path) as tar:
        names = sorted(Path(n).relative_to(Path(n).parts[0]).as_posix() for n in tar.getnames())
        texts = {n: tar.extractfile(n).read().decode() for n in tar.getnames()}  # type: ignore[union-attr]
    assert names == ["README.txt", "cluster.yaml", "journal.jsonl", "logs/apply-cp-1.log"]
    everything = "\n".join(texts.values())
    assert bundle_secret not in everything and "fine line" in everything
    assert "apply-cp-1: boom" in everything
    assert not any("secrets" in n for n in names)


def test_rollout_and_application_states() -> None:
    from skynet_tui import kube

    deployment = {
        "kind": "Deployment", "metadata": {"name": "argocd-server", "generation": 2},
        "spec": {"replicas": 2}, "status": {"observedGeneration": 2, "readyReplicas": 1, "updatedReplicas": 2},
    }  # fmt: skip
    assert kube.rollout_pending(deployment) == "argocd-server: 1/2 ready"
    deployment["status"]["readyReplicas"] = 2
    assert kube.rollout_pending(deployment) is None
    deployment["metadata"]["generation"] = 3
    assert "observe" in kube.rollout_pending(deployment)
    daemonset = {"kind": "DaemonSet", "metadata": {"name": "ds"}, "status": {"desiredNumberScheduled": 3,
                                                                             "numberReady": 3,
                                                                             "updatedNumberScheduled": 3}}  # fmt: skip
    assert kube.rollout_pending(daemonset) is None
    app = {"status": {"sync": {"status": "Synced"}, "health": {"status": "Degraded", "message": "crashloop"}}}
    assert kube.app_state(app) == ("Synced", "Degraded", "crashloop")
    assert kube.app_state({}) == ("Unknown", "Unknown", "")


def test_headless_printer() -> None:
    import io

    from rich.console import Console

    from skynet_tui import events
    from skynet_tui.headless import Printer

    out = io.StringIO()
    printer = Printer(Console(file=out, width=200, color_system=None))
    refused = "dial tcp 10.0.0.2:50000: connect: connection refused"
    for event in (
        events.PlanStarted((events.StepInfo("bootstrap", "Bootstrap etcd on cp-1", "cp-1"),), simulated=True),
        events.StepStarted("bootstrap"),
        *[events.StepLine("bootstrap", refused, "err", "cp-1", noise=True) for _ in range(3)],
        events.StepRetrying("bootstrap", 2, 0, 0.05, "bootstrap is not available yet"),
        events.StepLine("bootstrap", "[brackets] are not markup", "out", "cp-1"),
        events.StepLine("bootstrap", refused, "err", "cp-1", noise=True),
        events.StepFinished("bootstrap", 1.25),
    ):
        printer(event)
    text = out.getvalue()
    assert text.startswith("SIMULATED LAB")
    assert text.count(refused) == 2  # once, then again after a real line
    assert "(expected while it comes up; retrying)" in text
    assert "↻ try 2 in 0.05s: bootstrap is not available yet" in text
    assert "[brackets] are not markup" in text
    assert "✓ bootstrap Bootstrap etcd on cp-1  1.2s" in text


def test_install_on_a_locked_workspace_exits_2(tmp_path: Path, example_data: dict) -> None:
    config = tmp_path / "cluster.yaml"
    config.write_text(yaml.safe_dump(example_data))
    (tmp_path / "ws").mkdir()
    with lock_held_by_child(tmp_path / "ws" / ".skynet.lock") as holder:
        result = _cli(
            "install", "--config", str(config), "--workspace", str(tmp_path / "ws"), "--yes", cwd=tmp_path
        )
        assert sorted(p.name for p in (tmp_path / "ws").iterdir()) == [".skynet.lock"]
    assert result.returncode == 2 and f"in use by another skynet (PID {holder.pid}" in result.stderr


def test_secret_inputs_are_checked_before_any_machine(example_data: dict, tmp_path: Path) -> None:
    from skynet_tui.plan.probes import missing_secrets

    example_data["spec"]["ingress"]["acme"].update(
        challenge="dns01", dns01={"provider": "cloudflare", "tokenEnv": "CF_API_TOKEN"}
    )
    example_data["spec"]["gitops"]["credentials"] = {"sshKeyFile": str(tmp_path / "deploy")}
    cluster = spec.parse(example_data)
    missing = missing_secrets(cluster, {})
    assert len(missing) == 2
    assert "CF_API_TOKEN (ingress.acme.dns01.tokenEnv) is not set" in missing[0]
    assert "gitops.credentials.sshKeyFile" in missing[1]
    (tmp_path / "deploy").write_text("key\n")
    assert missing_secrets(cluster, {"CF_API_TOKEN": "t0ken-value"}) == []
