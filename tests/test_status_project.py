"""The status core's projections: kubectl's pod STATUS algorithm, problem pods, capacity, certificates, rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from skynet_tui.status import health, project
from skynet_tui.status.model import CertRow, KindState, PodProblem, Snapshot

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
OLD = "2026-03-01T00:00:00Z"


def pod(containers: list[dict[str, Any]], *, phase: str = "Running", init: list[dict[str, Any]] | None = None,
        init_spec: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:  # fmt: skip
    status: dict[str, Any] = {"phase": phase, "containerStatuses": containers, **extra.pop("status", {})}
    if init is not None:
        status["initContainerStatuses"] = init
    return {
        "metadata": {"name": "p", "namespace": "ns", "creationTimestamp": OLD, **extra.pop("metadata", {})},
        "spec": {
            "nodeName": "worker-1",
            "containers": [{"name": c["name"]} for c in containers] or [{"name": "main"}],
            "initContainers": init_spec
            if init_spec is not None
            else [{"name": c["name"]} for c in init or []],
        },
        "status": status,
    }


def running(name: str = "main", ready: bool = True, restarts: int = 0, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "ready": ready,
        "restartCount": restarts,
        "state": {"running": {"startedAt": OLD}},
        **extra,
    }


def waiting(reason: str, name: str = "main", restarts: int = 0, message: str = "") -> dict[str, Any]:
    return {"name": name, "ready": False, "restartCount": restarts, "state": {"waiting": {"reason": reason, "message": message}}}  # fmt: skip


def terminated(name: str = "main", code: int = 0, reason: str = "", signal: int = 0) -> dict[str, Any]:
    term: dict[str, Any] = {"exitCode": code, **({"reason": reason} if reason else {}), **({"signal": signal} if signal else {})}  # fmt: skip
    return {"name": name, "ready": False, "restartCount": 0, "state": {"terminated": term}}


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (pod([running()]), "Running"),
        (pod([waiting("CrashLoopBackOff", restarts=4)]), "CrashLoopBackOff"),
        (pod([waiting("ImagePullBackOff")], phase="Pending"), "ImagePullBackOff"),
        (pod([waiting("CreateContainerConfigError")], phase="Pending"), "CreateContainerConfigError"),
        (pod([terminated(code=0, reason="Completed")], phase="Succeeded"), "Completed"),
        (pod([terminated(code=137, reason="OOMKilled")], phase="Failed"), "OOMKilled"),
        (pod([terminated(code=2)], phase="Failed"), "ExitCode:2"),
        (pod([terminated(code=0, signal=9)], phase="Failed"), "Signal:9"),
        # containers are read last to first: the first container's reason wins
        (pod([waiting("ErrImagePull", name="a"), running(name="b")], phase="Pending"), "ErrImagePull"),
        # Completed turns back into Running while another container runs, NotReady without the Ready condition
        (
            pod(
                [terminated(name="a", reason="Completed"), running(name="b")],
                status={"conditions": [{"type": "Ready", "status": "True"}]},
            ),
            "Running",
        ),  # fmt: skip
        (pod([running(name="b"), terminated(name="a", reason="Completed")]), "NotReady"),
        # init containers: the first not done decides
        (
            pod(
                [waiting("PodInitializing")],
                phase="Pending",
                init=[terminated(name="i1", code=0), waiting("PodInitializing", name="i2")],
            ),
            "Init:1/2",
        ),  # fmt: skip
        (
            pod([waiting("PodInitializing")], phase="Pending", init=[waiting("CrashLoopBackOff", name="i1")]),
            "Init:CrashLoopBackOff",
        ),  # fmt: skip
        (
            pod([waiting("PodInitializing")], phase="Pending", init=[terminated(name="i1", code=3)]),
            "Init:ExitCode:3",
        ),
        (
            pod(
                [waiting("PodInitializing")],
                phase="Pending",
                init=[terminated(name="i1", code=1, reason="Error")],
            ),
            "Init:Error",
        ),  # fmt: skip
        # a sidecar (restartable init container) that started does not hold the pod in Init
        (
            pod(
                [running()],
                init=[running(name="sidecar", started=True)],
                init_spec=[{"name": "sidecar", "restartPolicy": "Always"}],
            ),
            "Running",
        ),  # fmt: skip
        # pod-level reasons
        (
            pod(
                [],
                phase="Failed",
                status={"reason": "Evicted", "message": "The node was low on resource: memory."},
            ),
            "Evicted",
        ),  # fmt: skip
        (
            pod(
                [],
                phase="Pending",
                status={
                    "conditions": [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]
                },
            ),
            "SchedulingGated",
        ),  # fmt: skip
        (pod([running()], metadata={"deletionTimestamp": OLD}), "Terminating"),
        (pod([running()], metadata={"deletionTimestamp": OLD}, status={"reason": "NodeLost"}), "Unknown"),
        (
            pod([terminated(reason="Completed")], phase="Succeeded", metadata={"deletionTimestamp": OLD}),
            "Completed",
        ),
    ],
)
def test_pod_status_follows_kubectl(obj: dict[str, Any], expected: str) -> None:
    assert project.pod_status(obj).status == expected


def test_pod_status_counts_ready_restarts_and_the_last_restart() -> None:
    last = {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": "2026-03-02T09:00:00Z"}}
    status = project.pod_status(pod([running("a", restarts=2, lastState=last), running("b", ready=False)]))
    assert (status.ready, status.total, status.restarts) == (1, 2, 2)
    assert status.last_restart == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_crash_looping_pod_is_a_problem_with_its_last_exit() -> None:
    obj = pod([waiting("CrashLoopBackOff", restarts=7, message="back-off 5m0s restarting failed container")])
    obj["status"]["containerStatuses"][0]["lastState"] = {
        "terminated": {"exitCode": 137, "reason": "OOMKilled"}
    }
    entry = project.pod_entry(obj)
    problem = entry.problem_at(NOW)
    assert problem is not None
    assert (problem.status, problem.restarts, problem.container) == ("CrashLoopBackOff", 7, "main")
    assert problem.message == "back-off 5m0s restarting failed container (last exit 137: OOMKilled)"
    assert (entry.node, entry.phase) == ("worker-1", "Running")


def test_healthy_pods_are_not_problems_and_keep_only_node_and_phase() -> None:
    entry = project.pod_entry(pod([running()]))
    assert entry == project.PodEntry("worker-1", "Running")
    done = project.pod_entry(pod([terminated(reason="Completed")], phase="Succeeded"))
    assert done.problem is None


def test_unschedulable_for_cpu_or_memory_waits_for_capacity() -> None:
    def pending(message: str) -> PodProblem | None:
        obj = pod([], phase="Pending", status={"conditions": [
            {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": message}]})  # fmt: skip
        del obj["spec"]["nodeName"]
        return project.pod_entry(obj).problem_at(NOW)

    cpu = pending("0/5 nodes are available: 3 Insufficient cpu, 2 node(s) had untolerated taint.")
    assert cpu is not None and cpu.waits_for_capacity and cpu.status == "Pending"
    assert cpu.message.startswith("0/5 nodes are available")
    memory = pending("0/3 nodes are available: 3 Insufficient memory.")
    assert memory is not None and memory.waits_for_capacity
    affinity = pending("0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.")
    assert affinity is not None and not affinity.waits_for_capacity  # a problem, but not one a node would fix

    pods = tuple(p for p in (cpu, memory, affinity) if p is not None)
    snap = Snapshot(NOW, 0.0, "lab", problem_pods=pods)
    assert health.capacity(snap) == "2 pods wait for capacity: add a node"
    assert (
        health.capacity(Snapshot(NOW, 0.0, "lab", problem_pods=(cpu,)))
        == "1 pod waits for capacity: add a node"
    )
    assert health.capacity(Snapshot(NOW, 0.0, "lab", problem_pods=(affinity,))) == ""


def test_a_starting_pod_counts_only_after_the_grace_and_a_restart_only_within_the_window() -> None:
    created = NOW - timedelta(seconds=30)
    starting = pod(
        [waiting("ContainerCreating")], phase="Pending", metadata={"creationTimestamp": project_time(created)}
    )
    entry = project.pod_entry(starting)
    assert entry.problem is not None and entry.problem_at(NOW) is None
    assert entry.problem_at(NOW + project.START_GRACE) is not None

    finished = NOW - timedelta(minutes=10)
    restarted = pod(
        [running(restarts=1, lastState={"terminated": {"exitCode": 1, "finishedAt": project_time(finished)}})]
    )
    entry = project.pod_entry(restarted)
    assert entry.problem_at(NOW) is not None and entry.problem_at(NOW).status == "Running"  # type: ignore[union-attr]
    assert entry.problem_at(finished + project.RESTART_WINDOW + timedelta(seconds=1)) is None


def project_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def cert(not_after: datetime | None, ready: str = "True", **extra: Any) -> CertRow:
    fields: dict[str, Any] = dict(
        namespace="monitoring", name="grafana", ready=ready, ready_reason="Ready", ready_message="",
        not_after=not_after, renewal_time=None, issuing="", issuing_message="", last_failure=None,
        failed_attempts=0, dns_names=("grafana.lab.example",), secret="grafana-tls", issuer="ClusterIssuer/le",
    )  # fmt: skip
    fields.update(extra)
    return CertRow(**fields)


def test_certificate_expiry_states() -> None:
    assert health.cert_state(cert(NOW + timedelta(days=60)), NOW) == ("ok", "expires in 60d")
    assert health.cert_state(cert(NOW + timedelta(days=3, hours=2)), NOW) == ("warn", "expires in 3d")
    assert health.cert_state(cert(NOW + timedelta(hours=5)), NOW) == ("warn", "expires in 5h")
    assert health.cert_state(cert(NOW - timedelta(days=2)), NOW) == ("error", "expired 2d ago")
    failing = cert(
        NOW + timedelta(days=20), ready="False", ready_message="Issuing certificate as Secret does not exist"
    )
    assert health.cert_state(failing, NOW) == (
        "error",
        "not ready: Issuing certificate as Secret does not exist",
    )
    renewal = cert(NOW + timedelta(days=20), issuing="False", last_failure=NOW, failed_attempts=3,
                   issuing_message="The certificate request has failed to complete and will be retried")  # fmt: skip
    level, why = health.cert_state(renewal, NOW)
    assert level == "warn" and why.startswith("renewal failing (3 attempts)")


def test_certificate_row_and_the_ingress_layer_names_one_expiring_soon() -> None:
    row = project.cert_row(
        {
            "metadata": {"name": "grafana", "namespace": "monitoring"},
            "spec": {
                "secretName": "grafana-tls",
                "dnsNames": ["grafana.lab.example"],
                "issuerRef": {"kind": "ClusterIssuer", "name": "letsencrypt-staging"},
            },  # fmt: skip
            "status": {
                "conditions": [
                    {"type": "Ready", "status": "True", "reason": "Ready", "message": "up to date"}
                ],
                "notAfter": project_time(NOW + timedelta(days=3)),
                "renewalTime": project_time(NOW - timedelta(days=27)),
            },
        }
    )
    assert row.issuer == "ClusterIssuer/letsencrypt-staging" and row.not_after == NOW + timedelta(days=3)
    kinds = tuple(KindState(k, synced=True) for k in ("services", "ingresses", "certificates"))
    layer, problems = health.ingress_layer(Snapshot(NOW, 0.0, "lab", kinds=kinds, certs=(row,)))
    assert layer.level == "warn" and "grafana expires in 3d" in layer.text
    assert [(p.level, p.text, p.target) for p in problems] == [
        ("warn", "Certificate monitoring/grafana expires in 3d", ("cert", "monitoring/grafana"))
    ]


def test_node_row() -> None:
    row = project.node_row(
        {
            "metadata": {
                "name": "cp-1",
                "labels": {"node-role.kubernetes.io/control-plane": "", "skynet.dev/simulated": "true"},
            },  # fmt: skip
            "spec": {
                "unschedulable": True,
                "taints": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}],
            },  # fmt: skip
            "status": {
                "conditions": [
                    {
                        "type": "Ready",
                        "status": "False",
                        "reason": "KubeletNotReady",
                        "message": "PLEG is not healthy",
                    },
                    {"type": "DiskPressure", "status": "True"},
                    {"type": "MemoryPressure", "status": "False"},
                ],
                "addresses": [{"type": "InternalIP", "address": "10.5.0.11"}],
                "nodeInfo": {"kubeletVersion": "v1.36.3", "osImage": "Talos (v1.13.9)"},
            },
        }
    )
    assert row.status == "NotReady,SchedulingDisabled"
    assert row.why == "KubeletNotReady: PLEG is not healthy"
    assert (row.roles, row.internal_ip, row.pressure) == (("control-plane",), "10.5.0.11", ("DiskPressure",))
    assert row.taints == ("node-role.kubernetes.io/control-plane:NoSchedule",) and row.simulated


def test_application_row() -> None:
    row = project.app_row(
        {
            "metadata": {
                "name": "loki",
                "namespace": "argocd",
                "resourceVersion": "42",
                "annotations": {"argocd.argoproj.io/sync-wave": "-3"},
            },  # fmt: skip
            "spec": {"project": "default", "destination": {"namespace": "loki"}},
            "operation": {"sync": {}},
            "status": {
                "sync": {"status": "OutOfSync", "revision": "abc"},
                "health": {
                    "status": "Degraded",
                    "message": 'Deployment "loki" exceeded its progress deadline',
                },
                "operationState": {
                    "phase": "Failed",
                    "message": "one or more objects failed to apply",
                    "retryCount": 2,
                },
                "conditions": [{"type": "SyncError", "message": "failed"}],
                "resources": [
                    {
                        "kind": "StatefulSet",
                        "name": "loki",
                        "namespace": "loki",
                        "status": "Synced",
                        "syncWave": 1,
                    }
                ],
            },
        }
    )
    assert (row.sync, row.health, row.wave, row.retry_count, row.operation_requested) == (
        "OutOfSync",
        "Degraded",
        -3,
        2,
        True,
    )
    assert row.resources[0].wave == 1 and row.resources[0].health == ""
    problems = health._app_problems(row)
    assert [p.level for p in problems] == ["error", "error", "error"]
    assert problems[0].text == 'Application loki Degraded: Deployment "loki" exceeded its progress deadline'


def test_events_load_balancers_urls_and_pvcs() -> None:
    rejected = project.event_row(
        {
            "metadata": {"name": "x.1", "namespace": "metallb-system"},
            "type": "Warning",
            "reason": "FailedCreate",
            "message": 'pods "speaker-abc" is forbidden: violates PodSecurity "baseline:latest": host namespaces',
            "involvedObject": {"kind": "DaemonSet", "name": "speaker"},
            "count": 12,
            "lastTimestamp": OLD,
        }  # fmt: skip
    )
    assert rejected is not None and rejected.topic == "pod-security" and rejected.count == 12
    assert project.event_row({"type": "Normal", "reason": "Pulled"}) is None
    mount = project.event_row({"metadata": {"name": "y", "namespace": "loki"}, "type": "Warning", "reason": "FailedMount",
                               "involvedObject": {"kind": "Pod", "name": "loki-0"}})  # fmt: skip
    assert mount is not None and mount.topic == "storage"

    assert project.lb_row({"spec": {"type": "ClusterIP"}}) is None
    lb = project.lb_row({"metadata": {"name": "traefik", "namespace": "traefik",
                                      "annotations": {"metallb.io/loadBalancerIPs": "10.5.0.200"}},
                         "spec": {"type": "LoadBalancer", "ports": [{"port": 443}]}, "status": {}})  # fmt: skip
    assert lb is not None and lb.pending and lb.requested == "10.5.0.200" and lb.ports == ("443/TCP",)

    urls = project.url_rows({"metadata": {"name": "grafana", "namespace": "monitoring"},
                             "spec": {"tls": [{"hosts": ["grafana.lab.example"]}],
                                      "rules": [{"host": "grafana.lab.example", "http": {"paths": [{"path": "/"}]}},
                                                {"host": "plain.lab.example", "http": {"paths": [{"path": "/api"}]}}]},
                             "status": {"loadBalancer": {"ingress": [{"ip": "10.5.0.200"}]}}})  # fmt: skip
    assert [(u.url, u.tls, u.address) for u in urls] == [
        ("https://grafana.lab.example", True, "10.5.0.200"),
        ("http://plain.lab.example/api", False, "10.5.0.200"),
    ]
    pvc = project.pvc_row(
        {"metadata": {"name": "data", "namespace": "loki"}, "spec": {}, "status": {"phase": "Pending"}}
    )
    assert (pvc.phase, pvc.storage_class) == ("Pending", "")
