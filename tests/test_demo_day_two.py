"""The demo keeps its lab: day-two faults injected into a running lab, a kept lab serving in a process of its
own until `skynet demo --stop`, and the whole arc: demo --headless --keep, status --once, --fault, --stop."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from skynet_lab import faults, serve
from skynet_lab.kubesim import renewal
from skynet_lab.kubesim.base import Sim
from skynet_lab.kubesim.store import Store
from skynet_tui.__main__ import FAULTS, main
from skynet_tui.demo import keep, kept, stop_kept
from tests.console_helpers import Seeder
from tests.lab_helpers import install_state, make_lab
from tests.test_install_lab import FAST

LAYERS = ("Talos", "etcd", "Kubernetes", "Argo CD", "Ingress+TLS", "Storage")


def wait(predicate: Callable[[], Any], what: str, timeout: float = 120.0) -> Any:
    """Poll until `predicate()` is truthy; the bound only guards against a hang."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def get(url: str) -> dict[str, Any] | None:
    """GET a mock API path as JSON; None while the API refuses connections."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.loads(response.read())
    except urllib.error.URLError:
        return None


def refused(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return False
    except OSError:
        return True


def processes_naming(text: str) -> list[str]:
    """Live processes whose command line contains `text` (zombies are gone already)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if text in argv and state != "Z":
            found.append(f"{entry.name}: {argv}")
    return found


# -- the command line -----------------------------------------------------------------------------------------
def test_fault_specs_are_checked_before_anything_is_written() -> None:
    assert faults.usage() == FAULTS  # the help lists the lab's faults without loading the lab
    fault, value = faults.parse("node-notready=worker-1")
    assert (fault.key, value) == ("node_notready", "worker-1")
    assert faults.parse("api-down")[0].key == "api_down"
    for spec, message in (
        ("node-notready", "node-notready needs a node: node-notready=NODE"),
        ("api-down=yes", "api-down takes no value"),
        ("disk-full=sda", "unknown fault 'disk-full'"),
        ("app-degraded=Loki_1", "'Loki_1' is not a Kubernetes object name"),
    ):
        with pytest.raises(faults.FaultError, match=re.escape(message)):
            faults.parse(spec)


def test_stop_and_fault_act_on_a_demo_folder_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--stop"]) == 2
    assert "--stop needs --workspace DIR" in capsys.readouterr().err
    assert main(["demo", "--fault", "api-down"]) == 2
    assert main(["demo", "--stop", "--fault", "api-down", "--workspace", str(tmp_path)]) == 2
    assert main(["demo", "--fault", "api-down", "--workspace", str(tmp_path)]) == 2
    assert "holds no lab" in capsys.readouterr().err
    assert main(["demo", "--stop", "--workspace", str(tmp_path)]) == 0
    assert "nothing to stop" in capsys.readouterr().out


def test_help_lists_the_faults(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "node-notready=NODE, app-degraded=APP, cert-expiring=CERT, api-down" in out
    assert "--keep" in out and "--stop" in out


# -- the lab's side -------------------------------------------------------------------------------------------
def test_cert_expiring_makes_renewal_fail_and_clearing_it_renews() -> None:
    store = Store()
    seed = Seeder(store)
    seed.crds()
    now = datetime.now(UTC)
    seed.cert("monitoring", "grafana-tls", now + timedelta(days=80))
    seed.cert("argocd", "argocd-server-tls", now + timedelta(days=80))
    res = seed.res("cert-manager.io", "certificates")
    sim = Sim(store)
    sim.faults = {"cert_expiring": ["grafana"]}
    renewal.step(sim)
    failing = store.get(res, "monitoring", "grafana-tls")["status"]
    not_after = datetime.strptime(failing["notAfter"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert timedelta(days=3) < not_after - now < timedelta(days=4)
    issuing = next(c for c in failing["conditions"] if c["type"] == "Issuing")
    assert (issuing["status"], issuing["reason"]) == ("False", "Failed")
    assert failing["failedIssuanceAttempts"] == 1
    assert store.get(res, "argocd", "argocd-server-tls")["status"]["notAfter"] == (
        (now + timedelta(days=80)).strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    renewal.step(sim)  # a failure is recorded once, not every tick
    assert store.get(res, "monitoring", "grafana-tls")["status"]["failedIssuanceAttempts"] == 1
    sim.faults = {}
    renewal.step(sim)  # its renewalTime has passed: cert-manager renews it
    renewed = store.get(res, "monitoring", "grafana-tls")["status"]
    assert renewed["revision"] == 2 and "failedIssuanceAttempts" not in renewed
    assert all(c["type"] != "Issuing" for c in renewed["conditions"])
    assert renewed["notAfter"] > (now + timedelta(days=89)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.lab
def test_faults_reach_a_running_lab_and_clear(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lab = make_lab(tmp_path, 1, 1, latency=FAST, root=tmp_path / "demo" / "simulated-lab")
    try:
        install_state(lab)
        url = lab.api_url
        assert url is not None
        node = f"{url}/api/v1/nodes/worker-1"

        def ready() -> str:
            found = get(node)
            conditions = (found or {}).get("status", {}).get("conditions") or []
            return next((c["status"] for c in conditions if c["type"] == "Ready"), "")

        wait(lambda: ready() == "True", "worker-1 to be Ready")
        demo = ["demo", "--workspace", str(tmp_path / "demo")]
        assert main([*demo, "--fault", "node-notready=worker-1"]) == 0
        assert "node-notready=worker-1: the node's kubelet stops" in capsys.readouterr().out
        wait(lambda: ready() == "Unknown", "worker-1 to go NotReady")
        assert main([*demo, "--fault", "node-notready=worker-9"]) == 2
        assert "the lab's nodes are cp-1, worker-1" in capsys.readouterr().err

        assert main([*demo, "--fault", "api-down"]) == 0
        port = int(url.rsplit(":", 1)[1])
        wait(lambda: refused("127.0.0.1", port), "the API to go down")
        assert main([*demo, "--fault", "clear"]) == 0
        assert "every day-two fault cleared" in capsys.readouterr().out
        wait(lambda: ready() == "True", "the API back, worker-1 Ready again")
    finally:
        lab.stop()
    assert main(["demo", "--workspace", str(tmp_path / "demo"), "--fault", "api-down"]) == 0
    assert "No lab runs in" in capsys.readouterr().out  # written all the same: it applies at the next start


@pytest.mark.lab
def test_a_kept_lab_serves_in_its_own_process_until_stopped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "demo"
    lab = make_lab(tmp_path, 1, 0, latency=FAST, root=root / "simulated-lab")
    url, prefix = lab.api_url, lab.prefix
    assert url is not None
    handed = keep(lab)
    try:
        assert handed.pid != os.getpid() and handed.api_url == url  # the same port: kubeconfigs stay valid
        assert get(f"{url}/version") is not None
        assert kept(root) == handed and serve.in_use(root / "simulated-lab")
        assert not refused(f"{prefix}.11", 50000)
        assert main(["demo", "--headless", "--workspace", str(root), "--nodes", "1+0"]) == 1
        assert f"a kept lab serves {root} (pid {handed.pid})" in capsys.readouterr().err
    finally:
        pid = stop_kept(root)
    assert pid == handed.pid
    assert processes_naming(str(root)) == []
    assert refused("127.0.0.1", int(url.rsplit(":", 1)[1])) and refused(f"{prefix}.11", 50000)
    assert kept(root) is None and not (root / "simulated-lab" / serve.SERVER_FILE).exists()
    assert stop_kept(root) is None


@pytest.mark.lab
@pytest.mark.slow
def test_demo_keep_then_status_then_stop_leaves_no_process(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    # A lab made beforehand with near-zero latencies: the demo reopens it (same subnet and machines).
    make_lab(tmp_path, 1, 1, latency=FAST, root=root / "simulated-lab").stop()
    skynet = [sys.executable, "-m", "skynet_tui"]
    demo = subprocess.run(
        [*skynet, "demo", "--headless", "--keep", "--workspace", str(root), "--nodes", "1+1"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert "SIMULATED LAB kept running (pid " in demo.stdout
    assert f"skynet demo --stop --workspace {root}" in demo.stdout
    try:
        exported = re.search(r"export PATH=(\S+):\"\$PATH\" SKYNET_LAB_DIR=(\S+)", demo.stdout)
        assert exported is not None, demo.stdout
        env = {**os.environ, "PATH": f"{exported[1]}:{os.environ['PATH']}", "SKYNET_LAB_DIR": exported[2]}

        def status(*extra: str) -> subprocess.CompletedProcess[str]:
            argv = [*skynet, "status", "--once", "--workspace", str(root / "lab"), *extra]
            return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)

        healthy = status()
        assert healthy.returncode == 0, healthy.stdout + healthy.stderr
        for title in LAYERS:
            assert re.search(rf"● {re.escape(title)}\s+ok ", healthy.stdout), (title, healthy.stdout)

        fault = [*skynet, "demo", "--workspace", str(root), "--fault", "node-notready=worker-1"]
        fault += ["--fault", "cert-expiring=grafana"]
        assert subprocess.run(fault, capture_output=True, timeout=120).returncode == 0

        codes: list[int] = []

        def problems() -> set[str]:
            report = status("--json")
            assert report.returncode in (0, 1), report.stderr
            codes.append(report.returncode)
            return {p["text"] for p in json.loads(report.stdout)["problems"]}

        wanted = {
            "node worker-1 Unknown: NodeStatusUnknown: Kubelet stopped posting node status.",
            "service kubelet is not running on worker-1",
            "Certificate monitoring/grafana-tls expires in 3d",
        }
        wait(lambda: wanted <= problems(), "the faults in status --once", timeout=300)
        assert codes[-1] == 1  # an unhealthy lab
    finally:
        stop = subprocess.run(
            [*skynet, "demo", "--stop", "--workspace", str(root)], capture_output=True, text=True, timeout=120
        )
    assert stop.returncode == 0 and "SIMULATED LAB stopped (pid " in stop.stdout
    assert processes_naming(str(root)) == []
