"""Helpers for the console's tests and bench: objects seeded straight into the mock API's store, fixed snapshots."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen

from skynet_lab.kube import MockKubeAPI
from skynet_lab.kubesim.crds import group_crds
from skynet_lab.kubesim.store import Store
from tests.lab_kube_helpers import write_kubeconfig

NOW = datetime(2026, 3, 2, 9, 30, 0, tzinfo=UTC)
LONG_AGO = "2026-01-05T08:00:00Z"


def rfc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class Seeder:
    """Creates objects in a mock API's store as a cluster's controllers would (status included)."""

    def __init__(self, store: Store):
        self.store = store

    def res(self, group: str, plural: str) -> Any:
        res = self.store.registry.by_key(group, plural)
        assert res is not None, (group, plural)
        return res

    def create(self, group: str, plural: str, namespace: str, obj: dict[str, Any]) -> dict[str, Any]:
        return self.store.create(self.res(group, plural), namespace, obj, internal=True)

    def mutate(self, group: str, plural: str, namespace: str, name: str, fn: Callable[[dict], None]) -> None:
        assert self.store.mutate(self.res(group, plural), namespace, name, fn) is not None

    def crds(self) -> None:
        for group in ("argoproj.io", "cert-manager.io"):
            for crd in group_crds(group):
                self.create("apiextensions.k8s.io", "customresourcedefinitions", "", crd)

    def namespace(self, name: str) -> None:
        if self.store.find(self.res("", "namespaces"), "", name) is None:
            self.create("", "namespaces", "", {"metadata": {"name": name}, "status": {"phase": "Active"}})

    def node(self, name: str, ip: str, *, control_plane: bool = False, ready: bool = True) -> None:
        labels = {"kubernetes.io/hostname": name, "skynet.dev/simulated": "true"}
        if control_plane:
            labels["node-role.kubernetes.io/control-plane"] = ""
        self.create(
            "",
            "nodes",
            "",
            {
                "metadata": {"name": name, "labels": labels},
                "status": {
                    "conditions": [node_ready(ready)],
                    "addresses": [
                        {"type": "InternalIP", "address": ip},
                        {"type": "Hostname", "address": name},
                    ],
                    "nodeInfo": {"kubeletVersion": "v1.36.3", "osImage": "Talos (v1.13.9)"},
                },
            },
        )

    def pod(self, namespace: str, name: str, node: str, **status: Any) -> None:
        self.namespace(namespace)
        self.create("", "pods", namespace, pod(namespace, name, node, **status))

    def app(
        self, name: str, wave: int, sync: str = "Synced", health: str = "Healthy", message: str = ""
    ) -> None:
        self.namespace("argocd")
        self.create("argoproj.io", "applications", "argocd", application(name, wave, sync, health, message))

    def cert(self, namespace: str, name: str, not_after: datetime) -> None:
        self.namespace(namespace)
        self.create("cert-manager.io", "certificates", namespace, certificate(namespace, name, not_after))

    def lb(self, namespace: str, name: str, ip: str) -> None:
        self.namespace(namespace)
        self.create(
            "",
            "services",
            namespace,
            {
                "metadata": {"name": name},
                "spec": {"type": "LoadBalancer", "ports": [{"port": 443, "protocol": "TCP"}]},
                "status": {"loadBalancer": {"ingress": [{"ip": ip}] if ip else []}},
            },
        )

    def ingress(self, namespace: str, name: str, host: str, address: str) -> None:
        self.namespace(namespace)
        self.create(
            "networking.k8s.io",
            "ingresses",
            namespace,
            {
                "metadata": {"name": name},
                "spec": {
                    "rules": [{"host": host, "http": {"paths": [{"path": "/"}]}}],
                    "tls": [{"hosts": [host]}],
                },
                "status": {"loadBalancer": {"ingress": [{"ip": address}]}},
            },
        )

    def pvc(self, namespace: str, name: str, phase: str = "Bound") -> None:
        self.namespace(namespace)
        self.create(
            "",
            "persistentvolumeclaims",
            namespace,
            {
                "metadata": {"name": name},
                "spec": {"storageClassName": "local-path", "volumeName": f"pvc-{name}"},
                "status": {"phase": phase, "capacity": {"storage": "10Gi"}},
            },
        )


def node_ready(ready: bool) -> dict[str, Any]:
    if ready:
        return {
            "type": "Ready",
            "status": "True",
            "reason": "KubeletReady",
            "message": "kubelet is posting ready status",
        }
    return {
        "type": "Ready",
        "status": "Unknown",
        "reason": "NodeStatusUnknown",
        "message": "Kubelet stopped posting node status.",
    }


def pod(
    namespace: str, name: str, node: str, *, waiting: str = "", restarts: int = 0, pending: str = ""
) -> dict:
    """A Running pod; `waiting` a container waiting reason (CrashLoopBackOff…); `pending` an unschedulable message."""
    meta = {
        "name": name,
        "namespace": namespace,
        "creationTimestamp": LONG_AGO,
        "labels": {"app": name.rsplit("-", 2)[0]},
    }
    spec: dict[str, Any] = {"containers": [{"name": "main", "image": "registry.example/app:1.0"}]}
    if pending:
        return {
            "metadata": meta,
            "spec": spec,
            "status": {
                "phase": "Pending",
                "conditions": [
                    {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": pending}
                ],
            },
        }
    spec["nodeName"] = node
    state: dict[str, Any] = {"running": {"startedAt": LONG_AGO}}
    container: dict[str, Any] = {
        "name": "main",
        "ready": not waiting,
        "restartCount": restarts,
        "state": state,
    }
    if waiting:
        container["state"] = {
            "waiting": {
                "reason": waiting,
                "message": f"back-off 5m0s restarting failed container=main pod={name}",
            }
        }
        container["lastState"] = {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": LONG_AGO}}
    return {
        "metadata": meta,
        "spec": spec,
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "False" if waiting else "True"}],
            "containerStatuses": [container],
        },
    }


def application(
    name: str, wave: int, sync: str = "Synced", health: str = "Healthy", message: str = ""
) -> dict:
    resources = [
        {"group": "apps", "version": "v1", "kind": "Deployment", "namespace": name, "name": name, "status": sync,
         "health": {"status": health, **({"message": message} if message else {})}},
        {"version": "v1", "kind": "Service", "namespace": name, "name": name, "status": "Synced",
         "health": {"status": "Healthy"}},
    ]  # fmt: skip
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": name,
            "namespace": "argocd",
            "annotations": {"argocd.argoproj.io/sync-wave": str(wave)},
        },
        "spec": {
            "project": "default",
            "destination": {"server": "https://kubernetes.default.svc", "namespace": name},
        },
        "status": {
            "sync": {"status": sync, "revision": "4f1c2e9a7b3d5c6e8f9a0b1c2d3e4f5a6b7c8d9e"},
            "health": {"status": health, **({"message": message} if message else {})},
            "operationState": {
                "phase": "Succeeded",
                "message": "successfully synced (all tasks run)",
                "finishedAt": "2026-03-02T09:00:00Z",
            },
            "resources": resources,
        },
    }


def certificate(namespace: str, name: str, not_after: datetime) -> dict:
    return {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "secretName": f"{name}-tls",
            "dnsNames": [f"{name}.lab.example"],
            "issuerRef": {"kind": "ClusterIssuer", "name": "letsencrypt-staging"},
        },
        "status": {
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "Ready",
                    "message": "Certificate is up to date and has not expired",
                }
            ],
            "notBefore": rfc(not_after - timedelta(days=90)),
            "notAfter": rfc(not_after),
            "renewalTime": rfc(not_after - timedelta(days=30)),
        },
    }


def seed_small_cluster(store: Store, *, now: datetime = NOW) -> Seeder:
    """3 control planes, 2 workers, a few platform Applications, certificates, endpoints and PVCs: all healthy."""
    seed = Seeder(store)
    seed.crds()
    for i in range(3):
        seed.node(f"cp-{i + 1}", f"10.5.0.{11 + i}", control_plane=True)
    for i in range(2):
        seed.node(f"worker-{i + 1}", f"10.5.0.{21 + i}")
    for wave, name in enumerate(("metallb", "cert-manager", "traefik", "kube-prometheus-stack", "loki")):
        seed.app(name, wave - 2)
        seed.pod(name, f"{name}-6d4b9c7f5-x2k8q", f"worker-{1 + wave % 2}")
    seed.cert("monitoring", "grafana", now + timedelta(days=60))
    seed.cert("argocd", "argocd-server", now + timedelta(days=75))
    seed.lb("traefik", "traefik", "10.5.0.200")
    seed.ingress("monitoring", "grafana", "grafana.lab.example", "10.5.0.200")
    seed.ingress("argocd", "argocd-server", "argocd.lab.example", "10.5.0.200")
    seed.pvc("loki", "storage-loki-0")
    seed.pvc("monitoring", "prometheus-db-0")
    return seed


def start_api(tmp: Path) -> tuple[MockKubeAPI, Path]:
    """A store-only mock API (no simulation: tests change the objects) and a kubeconfig for it."""
    api = MockKubeAPI(simulate=False)
    url = api.start()
    return api, write_kubeconfig(tmp / "kubeconfig", url)


class Host(App[None]):
    """An app that shows one screen (the console) and nothing else."""

    def __init__(self, screen: Screen[Any]) -> None:
        super().__init__()
        self._first = screen

    def on_mount(self) -> None:
        self.push_screen(self._first)


async def wait_for(
    pilot: Pilot, predicate: Callable[[], bool], timeout: float = 20.0, what: str = ""
) -> None:
    """Let the app run until `predicate()` holds; a generous bound only guards against a hang."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await pilot.pause(0.02)


def run(coro: Any) -> Any:
    return asyncio.run(coro)
