"""Kubernetes Nodes and kube-system of the simulated cluster, derived from the simulated Talos machines."""

from __future__ import annotations

import json
from typing import Any

from skynet_lab.kubesim.base import SIMULATED, Sim, condition, set_condition, stable_hash
from skynet_lab.kubesim.store import Obj, Store, now_rfc3339

CP_LABEL = "node-role.kubernetes.io/control-plane"
EXCLUDE_LB = "node.kubernetes.io/exclude-from-external-load-balancers"
CP_TAINT = {"key": CP_LABEL, "effect": "NoSchedule"}
TOLERATE_ALL = [{"operator": "Exists"}]
NOT_READY = (
    "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
    "message:Network plugin returns error: cni plugin not initialized"
)


def _v(version: str | None, default: str) -> str:
    version = str(version or default)
    return version if version.startswith("v") else f"v{version}"


def seed(store: Store) -> None:
    """What an API server holds from its first start: the four namespaces and the `kubernetes` Service."""
    ns = store.registry.by_key("", "namespaces")
    svc = store.registry.by_key("", "services")
    assert ns is not None and svc is not None
    for name in ("default", "kube-node-lease", "kube-public", "kube-system"):
        if store.find(ns, "", name) is None:
            labels = {"kubernetes.io/metadata.name": name}
            store.create(ns, "", {"metadata": {"name": name, "labels": labels}, "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}, internal=True)  # fmt: skip
    if store.find(svc, "default", "kubernetes") is None:
        spec = {
            "type": "ClusterIP",
            "clusterIP": "10.96.0.1",
            "clusterIPs": ["10.96.0.1"],
            "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}],
            "sessionAffinity": "None",
        }
        labels = {"component": "apiserver", "provider": "kubernetes"}
        store.create(
            svc,
            "default",
            {"metadata": {"name": "kubernetes", "labels": labels}, "spec": spec},
            internal=True,
        )


def node_object(lab: dict[str, Any], node: dict[str, Any], tainted: bool) -> Obj:
    """The Node the kubelet of a simulated machine registers (status without conditions)."""
    versions = {**(lab.get("versions") or {}), **{k: v for k, v in (node.get("versions") or {}).items() if v}}
    kubernetes = _v((node.get("config") or {}).get("kubernetes") or versions.get("kubernetes"), "1.36.3")
    talos = _v(versions.get("talos"), "1.13.9")
    is_cp = node.get("role") == "controlplane"
    name = node["hostname"]
    labels = {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        SIMULATED: "true",
    }
    if is_cp:
        labels[CP_LABEL] = ""
        labels[EXCLUDE_LB] = ""
    index = int(node.get("index", 0))
    big = not is_cp
    capacity = {
        "cpu": "8" if big else "4",
        "ephemeral-storage": "487051468Ki",
        "hugepages-2Mi": "0",
        "memory": "16314412Ki" if big else "8139700Ki",
        "pods": "110",
    }
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": labels,
            "annotations": {
                SIMULATED: "true",
                "node.alpha.kubernetes.io/ttl": "0",
                "talos.dev/owned-labels": json.dumps([CP_LABEL] if is_cp else []),
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
            },
        },
        "spec": {
            "podCIDR": f"10.244.{index}.0/24",
            "podCIDRs": [f"10.244.{index}.0/24"],
            **({"taints": [CP_TAINT]} if is_cp and tainted else {}),
        },
        "status": {
            "addresses": [
                {"address": node.get("address") or node["ip"], "type": "InternalIP"},
                {"address": name, "type": "Hostname"},
            ],
            "allocatable": dict(capacity),
            "capacity": capacity,
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "architecture": "amd64",
                "bootID": str(node.get("node_id") or ""),
                "containerRuntimeVersion": "containerd://2.1.5",
                "kernelVersion": "6.18.9-talos",
                "kubeProxyVersion": kubernetes,
                "kubeletVersion": kubernetes,
                "machineID": str(node.get("node_id") or "").replace("-", ""),
                "operatingSystem": "linux",
                "osImage": f"Talos ({talos})",
                "systemUUID": str(node.get("node_id") or ""),
            },
            "conditions": [],
        },
    }


STOPPED = "Kubelet stopped posting node status."


def _conditions(old: list[dict[str, Any]], ready: bool, stopped: bool = False) -> list[dict[str, Any]]:
    conds = old
    if stopped:  # the node controller's view of a node whose kubelet went silent
        for kind in ("MemoryPressure", "DiskPressure", "PIDPressure", "Ready"):
            conds = set_condition(conds, kind, "Unknown", "NodeStatusUnknown", STOPPED)
        return conds
    for kind, reason, message in (
        ("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
        ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    ):
        conds = set_condition(conds, kind, "False", reason, message)
    if ready:
        return set_condition(conds, "Ready", "True", "KubeletReady", "kubelet is posting ready status")
    return set_condition(conds, "Ready", "False", "KubeletNotReady", NOT_READY)


def step_nodes(sim: Sim, lab: dict[str, Any], machines: list[dict[str, Any]]) -> None:
    """Register, update and remove Nodes to match the machines' kubelets."""
    res = sim.core("nodes")
    tainted = any(m.get("role") == "worker" for m in machines)
    stopped = sim.faults.get("node_notready") or []
    stopped = {stopped} if isinstance(stopped, str) else set(stopped)
    live = {n["metadata"]["name"]: n for n in sim.store.list(res)[0]}
    wanted = set()
    for machine in machines:
        if not machine.get("kubelet_registered"):
            continue
        desired = node_object(lab, machine, tainted)
        name = desired["metadata"]["name"]
        wanted.add(name)
        halted = name in stopped  # the day-two fault node_notready
        ready = bool(machine.get("node_ready")) and not halted
        old = live.get(name)
        if old is None:
            desired["status"]["conditions"] = _conditions([], ready, halted)
            created = sim.ensure(desired, manager="kubelet")
            if created is not None:
                sim.event(created, "Starting", "Starting kubelet.", component="kubelet")
                sim.event(
                    created,
                    "RegisteredNode",
                    f"Node {name} event: Registered Node {name} in Controller",
                    component="node-controller",
                )
            continue
        was_ready = condition(old, "Ready").get("status") == "True"

        def update(n: Obj, d: Obj = desired, r: bool = ready, h: bool = halted) -> None:
            n["metadata"]["labels"] = {**(n["metadata"].get("labels") or {}), **d["metadata"]["labels"]}
            n["metadata"]["annotations"] = {
                **(n["metadata"].get("annotations") or {}),
                **d["metadata"]["annotations"],
            }
            n["spec"].pop("taints", None)
            n["spec"].update(d["spec"])
            n["status"].update({k: v for k, v in d["status"].items() if k != "conditions"})
            n["status"]["conditions"] = _conditions(n["status"].get("conditions") or [], r, h)

        new = sim.mutate(old, update)
        if new is not None and ready != was_ready:
            status = "NodeReady" if ready else "NodeNotReady"
            sim.event(new, status, f"Node {name} status is now: {status}", component="kubelet")
    # A machine reset without a reboot leaves its Node behind, its kubelet silent, until someone deletes it.
    gone = {(m.get("reset") or {}).get("hostname") for m in machines if m.get("stage") == "off"}
    for name, node in live.items():
        if name in wanted or SIMULATED not in (node["metadata"].get("labels") or {}):
            continue
        if name in gone:
            if condition(node, "Ready").get("status") != "Unknown":
                sim.mutate(node, lambda n: n["status"].update(conditions=_conditions(n["status"].get("conditions") or [], False, True)))  # fmt: skip
            continue
        sim.delete(node)


def step_kube_system(sim: Sim, lab: dict[str, Any], machines: list[dict[str, Any]]) -> None:
    """Static control-plane pods, kube-proxy, flannel and CoreDNS once the cluster is bootstrapped."""
    registered = [m for m in machines if m.get("kubelet_registered")]
    if not lab.get("bootstrap") or not registered:
        return
    versions = lab.get("versions") or {}
    k8s = _v(versions.get("kubernetes"), "1.36.3")
    nodes = {n["metadata"]["name"]: n for n in sim.store.list(sim.core("nodes"))[0]}
    for machine in registered:
        node = nodes.get(machine["hostname"])
        if node is None or machine.get("role") != "controlplane":
            continue
        node_k8s = node["status"]["nodeInfo"]["kubeletVersion"]
        for comp in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
            sim.ensure(
                _static_pod(comp, node, node_k8s, machine.get("address") or machine["ip"]), manager="kubelet"
            )
    cni = next(((m.get("config") or {}).get("cni") for m in registered if m.get("config")), "flannel")
    system = [_daemonset("kube-proxy", f"registry.k8s.io/kube-proxy:{k8s}", {"k8s-app": "kube-proxy"})]
    if cni == "flannel":
        system.append(
            _daemonset("kube-flannel", "ghcr.io/siderolabs/flannel:v0.27.4", {"k8s-app": "flannel"})
        )
    system.append(_coredns())
    system.append(_kube_dns())
    for obj in system:
        sim.ensure(obj, manager="talos")


def _static_pod(comp: str, node: Obj, version: str, ip: str) -> Obj:
    name = f"{comp}-{node['metadata']['name']}"
    labels = {"k8s-app": comp, "component": comp, "tier": "control-plane"}
    now = now_rfc3339()
    container = {"name": comp, "image": f"registry.k8s.io/{comp}:{version}"}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "kube-system",
            "labels": labels,
            "annotations": {"kubernetes.io/config.source": "file", "kubernetes.io/config.mirror": name},
            "ownerReferences": [
                {
                    "apiVersion": "v1",
                    "kind": "Node",
                    "name": node["metadata"]["name"],
                    "uid": node["metadata"]["uid"],
                    "controller": True,
                }
            ],
        },
        "spec": {
            "nodeName": node["metadata"]["name"],
            "hostNetwork": True,
            "priorityClassName": "system-node-critical",
            "containers": [container],
            "tolerations": TOLERATE_ALL,
        },
        "status": {
            "phase": "Running",
            "hostIP": ip,
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "startTime": now,
            "qosClass": "Burstable",
            "conditions": [
                {"type": t, "status": "True", "lastTransitionTime": now}
                for t in (
                    "PodReadyToStartContainers",
                    "Initialized",
                    "Ready",
                    "ContainersReady",
                    "PodScheduled",
                )
            ],
            "containerStatuses": [
                {
                    "name": comp,
                    "image": container["image"],
                    "imageID": "",
                    "containerID": f"containerd://{stable_hash(name, 24)}",
                    "ready": True,
                    "started": True,
                    "restartCount": 0,
                    "state": {"running": {"startedAt": now}},
                }
            ],
        },
    }


def _daemonset(name: str, image: str, labels: dict[str, str]) -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": name, "namespace": "kube-system", "labels": dict(labels)},
        "spec": {
            "selector": {"matchLabels": dict(labels)},
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": {
                    "hostNetwork": True,
                    "priorityClassName": "system-node-critical",
                    "tolerations": TOLERATE_ALL,
                    "containers": [{"name": name, "image": image}],
                },
            },
        },
    }


def _coredns() -> Obj:
    labels = {"k8s-app": "kube-dns"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "coredns", "namespace": "kube-system", "labels": dict(labels)},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": dict(labels)},
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": {
                    "priorityClassName": "system-cluster-critical",
                    "tolerations": [{"key": CP_LABEL, "operator": "Exists", "effect": "NoSchedule"}],
                    "containers": [
                        {
                            "name": "coredns",
                            "image": "registry.k8s.io/coredns/coredns:v1.12.4",
                            "ports": [{"containerPort": 53, "protocol": "UDP"}],
                        }
                    ],
                },
            },
        },
    }


def _kube_dns() -> Obj:
    labels = {"k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS"}
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "kube-dns", "namespace": "kube-system", "labels": labels},
        "spec": {
            "type": "ClusterIP",
            "clusterIP": "10.96.0.10",
            "clusterIPs": ["10.96.0.10"],
            "selector": {"k8s-app": "kube-dns"},
            "ports": [
                {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
                {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153},
            ],
        },
    }
