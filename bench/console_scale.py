"""Benchmark: the console at scale, 1,000 nodes / 30,000 pods / 200 Applications in the lab's mock API.

The mock API runs in a child process of its own (so the measurements are the status core's, not the server's).
Three measurements, in one run:

1. first_snapshot_s: from starting the status core (status.monitor.Monitor: list+watch per kind, the fold) to
   its first snapshot with every kind listed; rss_mb: this process's peak RSS then (the status core, the
   kubernetes client and the interpreter; Textual is not loaded yet).
2. kubectl_s: the wall time of `kubectl get pods -A -o json` against the same server (when kubectl is on PATH),
   and ratio = first_snapshot_s / kubectl_s: the console's whole first view against one kubectl listing.
3. max_frame_gap_ms: the real console screen in a headless Textual app, watching the same cluster, while the
   server changes RATE pods a second for SECONDS (a crash loop rolling over 500 pods: watch events, problem
   pods appearing and recovering). A 60 Hz heartbeat on the UI's event loop records the longest the loop could
   not draw a frame.

Targets: ratio <= 1.0, rss_mb <= 400, max_frame_gap_ms <= 100. Exit 1 when one is missed. `--pods N` scales the
cluster down for a quick look (nodes and Applications scale with it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

NODES, PODS, APPS = 1_000, 30_000, 200
RATE, SECONDS = 200, 30.0
STORM_PODS = 500  # the pods the event storm cycles through
TARGET_RATIO, TARGET_RSS_MB, TARGET_GAP_MS = 1.0, 400.0, 100.0
HEARTBEAT = 1 / 60
STAMP = "2026-03-01T08:00:00Z"


# -- the cluster, in the server process -----------------------------------------------------------------------
def pod(namespace: str, name: str, node: str, ip: str, app: str) -> dict[str, Any]:
    """A pod as an API server returns it (about 3 KB of JSON, like a small real one)."""
    return {
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": f"uid-{namespace}-{name}",
            "creationTimestamp": STAMP,
            "generateName": name.rsplit("-", 1)[0] + "-",
            "labels": {"app.kubernetes.io/name": app, "pod-template-hash": "7c9f8d6b5"},
            "annotations": {"kubectl.kubernetes.io/restartedAt": STAMP},
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": f"{app}-7c9f8d6b5",
                 "uid": f"rs-{namespace}-{app}", "controller": True, "blockOwnerDeletion": True}
            ],
        },
        "spec": {
            "nodeName": node,
            "serviceAccountName": app,
            "containers": [
                {
                    "name": "main",
                    "image": f"registry.example/{app}:1.4.2",
                    "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}],
                    "env": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "PORT", "value": "8080"}],
                    "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}},
                    "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}, "periodSeconds": 10},
                    "volumeMounts": [{"name": "kube-api-access", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": True}],
                    "securityContext": {"runAsNonRoot": True, "allowPrivilegeEscalation": False,
                                        "capabilities": {"drop": ["ALL"]}},
                }
            ],
            "tolerations": [
                {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
                {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
            ],
            "volumes": [{"name": "kube-api-access", "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]}}],
        },
        "status": running_status(ip),
    }  # fmt: skip


def running_status(ip: str, restarts: int = 0) -> dict[str, Any]:
    return {
        "phase": "Running",
        "conditions": [
            {"type": kind, "status": "True", "lastTransitionTime": STAMP}
            for kind in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled")
        ],
        "hostIP": "10.5.0.21",
        "podIP": ip,
        "podIPs": [{"ip": ip}],
        "startTime": STAMP,
        "qosClass": "Burstable",
        "containerStatuses": [
            {"name": "main", "ready": True, "started": True, "restartCount": restarts,
             "image": "registry.example/app:1.4.2", "imageID": "registry.example/app@sha256:" + "ab" * 32,
             "containerID": "containerd://" + "cd" * 32, "state": {"running": {"startedAt": STAMP}}}
        ],
    }  # fmt: skip


def crashing_status(ip: str, restarts: int) -> dict[str, Any]:
    status = running_status(ip, restarts)
    container = status["containerStatuses"][0]
    container.update(ready=False, started=False)
    container["state"] = {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s restarting failed container"}}  # fmt: skip
    container["lastState"] = {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": STAMP}}
    for condition in status["conditions"]:
        if condition["type"] in ("Ready", "ContainersReady"):
            condition["status"] = "False"
    return status


def seed(store: Any, nodes: int, pods: int, apps: int) -> list[tuple[str, str, str]]:
    """The cluster; returns (namespace, name, ip) of the pods the storm cycles through."""
    from tests.console_helpers import Seeder

    seeder = Seeder(store)
    seeder.crds()
    for i in range(nodes):
        seeder.node(f"node-{i:04d}", f"10.5.{i // 250}.{i % 250 + 1}", control_plane=i < 3)
    namespaces = [f"team-{i:03d}" for i in range(100)]
    for ns in namespaces:
        seeder.namespace(ns)
    res = seeder.res("", "pods")
    stormy = []
    for i in range(pods):
        ns = namespaces[i % len(namespaces)]
        app = f"svc-{i % 300:03d}"
        name = f"{app}-7c9f8d6b5-{i:05d}"
        ip = f"10.244.{i // 250}.{i % 250 + 1}"
        store.create(res, ns, pod(ns, name, f"node-{i % nodes:04d}", ip, app), internal=True)
        if len(stormy) < STORM_PODS:
            stormy.append((ns, name, ip))
    for i in range(apps):
        seeder.app(f"app-{i:03d}", i % 5 - 2)
    for i in range(20):
        seeder.lb("ingress", f"lb-{i:02d}", f"10.5.9.{i + 1}")
        seeder.pvc("data", f"data-{i:02d}")
    return stormy


def storm(store: Any, pods: list[tuple[str, str, str]], rate: float, seconds: float) -> int:
    """Change `rate` pods a second for `seconds`: each in turn starts crash-looping, or recovers."""
    res = store.registry.by_key("", "pods")
    crashing: dict[str, int] = {}
    sent = 0
    started = time.perf_counter()
    while True:
        due = int((time.perf_counter() - started) * rate)
        if due >= rate * seconds:
            return sent
        while sent < due:
            ns, name, ip = pods[sent % len(pods)]
            restarts = crashing.pop(name, None)
            if restarts is None:
                crashing[name] = sent // len(pods) + 1
                status = crashing_status(ip, crashing[name])
            else:
                status = running_status(ip, restarts)
            store.mutate(res, ns, name, lambda p, s=status: p.update(status=s))
            sent += 1
        time.sleep(0.002)


def serve(nodes: int, pods: int, apps: int) -> int:
    """The child process: seed, serve, then run storms asked for on stdin (`storm RATE SECONDS`)."""
    from skynet_lab.kube import MockKubeAPI

    api = MockKubeAPI(simulate=False)
    stormy = seed(api.store, nodes, pods, apps)
    print(f"url {api.start()}", flush=True)
    for line in sys.stdin:
        words = line.split()
        if words[:1] == ["storm"]:
            sent = storm(api.store, stormy, float(words[1]), float(words[2]))
            print(f"stormed {sent}", flush=True)
        elif words[:1] == ["quit"]:
            break
    api.stop()
    return 0


# -- the measurements, in this process ------------------------------------------------------------------------
class Server:
    """The mock API child process."""

    def __init__(self, nodes: int, pods: int, apps: int):
        argv = [
            sys.executable,
            __file__,
            "--serve",
            "--nodes",
            str(nodes),
            "--pods",
            str(pods),
            "--apps",
            str(apps),
        ]
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO)
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline().split()
        if first[:1] != ["url"]:
            raise RuntimeError(f"the mock API did not start: {first}")
        self.url = first[1]

    def ask(self, line: str) -> str:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def close(self) -> None:
        with contextlib.suppress(BrokenPipeError, OSError):
            self.ask("quit")
        self.proc.wait(30)


def first_snapshot(kubeconfig: Path, pods: int) -> tuple[float, float]:
    """(seconds to the first snapshot with every kind listed, peak RSS in MB)."""
    from skynet_tui.status.monitor import Monitor
    from skynet_tui.status.source import Source

    done = threading.Event()
    seen: list[Any] = []

    def publish(snap: Any) -> None:
        if snap.synced and not done.is_set():
            seen.append(snap)
            done.set()

    monitor = Monitor(Source(kubeconfig, None, None, "scale"), publish)
    started = time.perf_counter()
    monitor.start()
    if not done.wait(600):
        raise RuntimeError("no full snapshot within 600 s")
    elapsed = time.perf_counter() - started
    monitor.stop()
    snap = seen[0]
    if snap.pods.total != pods:
        raise RuntimeError(f"the first snapshot holds {snap.pods.total} pods, not {pods}")
    return elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def kubectl_seconds(kubeconfig: Path) -> float | None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        return None
    argv = [kubectl, "--kubeconfig", str(kubeconfig), "get", "pods", "-A", "-o", "json"]
    started = time.perf_counter()
    result = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=600)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"kubectl failed: {result.stderr.strip()[:300]}")
    return elapsed


def frame_gaps(
    kubeconfig: Path, server: Server, pods: int, rate: float, seconds: float
) -> tuple[float, int, str, float]:
    """(largest heartbeat gap in ms during the storm, snapshots shown meanwhile, the server's answer, the CPU
    seconds the UI thread spent meanwhile)."""
    from skynet_tui.screens.console import ConsoleScreen
    from skynet_tui.status.monitor import Monitor
    from skynet_tui.status.source import Source
    from tests.console_helpers import Host

    source = Source(kubeconfig, None, None, "scale")
    screen = ConsoleScreen(lambda publish: Monitor(source, publish), title="scale")
    app = Host(screen)

    async def scenario() -> tuple[float, int, str, float]:
        async with app.run_test(size=(100, 32)) as pilot:
            deadline = time.monotonic() + 600
            while not (
                screen.snapshot is not None and screen.snapshot.synced and screen.snapshot.pods.total == pods
            ):
                if time.monotonic() > deadline:
                    raise RuntimeError("the console never showed the whole cluster")
                await pilot.pause(0.05)
            await pilot.pause(0.5)
            beats: list[float] = []
            timer = app.set_interval(HEARTBEAT, lambda: beats.append(time.perf_counter()))
            shown, cpu = screen.shown, time.thread_time()
            answer = await asyncio.to_thread(server.ask, f"storm {rate} {seconds}")
            await pilot.pause(0.5)  # the last events reach the screen
            timer.stop()
            gaps = [b - a for a, b in zip(beats, beats[1:], strict=False)]
            return max(gaps) * 1000, screen.shown - shown, answer, time.thread_time() - cpu

    return asyncio.run(scenario())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--pods", type=int, default=PODS)
    parser.add_argument("--nodes", type=int, default=None)
    parser.add_argument("--apps", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=SECONDS)
    args = parser.parse_args()
    nodes = args.nodes or max(3, NODES * args.pods // PODS)
    apps = args.apps or max(1, APPS * args.pods // PODS)
    if args.serve:
        return serve(nodes, args.pods, apps)

    from tests.lab_kube_helpers import write_kubeconfig

    print(f"seeding the mock API: {nodes} nodes, {args.pods} pods, {apps} Applications …", flush=True)
    started = time.perf_counter()
    server = Server(nodes, args.pods, apps)
    print(f"  served at {server.url} after {time.perf_counter() - started:.1f} s", flush=True)
    try:
        with tempfile.TemporaryDirectory(prefix="skynet-bench-") as tmp:
            kubeconfig = write_kubeconfig(Path(tmp) / "kubeconfig", server.url)
            first_s, rss_mb = first_snapshot(kubeconfig, args.pods)
            print(
                f"first full snapshot: {first_s:.2f} s; peak RSS {rss_mb:.0f} MB (target {TARGET_RSS_MB:.0f})"
            )
            kubectl_s = kubectl_seconds(kubeconfig)
            if kubectl_s is None:
                print("kubectl not on PATH: no comparison")
            else:
                print(
                    f"kubectl get pods -A -o json: {kubectl_s:.2f} s; ratio {first_s / kubectl_s:.2f} (target {TARGET_RATIO})"
                )
            gap_ms, shown, answer, ui_cpu = frame_gaps(kubeconfig, server, args.pods, RATE, args.seconds)
            print(
                f"{RATE} pod changes/s for {args.seconds:.0f} s ({answer}): {shown} snapshots shown, the UI "
                f"thread busy {ui_cpu / args.seconds:.0%} of the time, largest frame gap {gap_ms:.0f} ms "
                f"(target {TARGET_GAP_MS:.0f}); load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
            )
    finally:
        server.close()
    ratio = first_s / kubectl_s if kubectl_s else None
    kubectl_text = f"{kubectl_s:.2f}" if kubectl_s is not None else "n/a"
    ratio_text = f"{ratio:.2f}" if ratio is not None else "n/a"
    print(
        f"console_scale: pods={args.pods} first_snapshot_s={first_s:.2f} kubectl_s={kubectl_text} "
        f"ratio={ratio_text} rss_mb={rss_mb:.0f} max_frame_gap_ms={gap_ms:.0f}"
    )
    missed = (ratio is not None and ratio > TARGET_RATIO) or rss_mb > TARGET_RSS_MB or gap_ms > TARGET_GAP_MS
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
