"""The scheduler and the kubelets of the simulated cluster: pods bound to Ready nodes, started, crashing."""

from __future__ import annotations

import json
from typing import Any

from skynet_lab.kubesim.base import Sim, set_condition, stable_hash
from skynet_lab.kubesim.store import Obj, now_rfc3339


def pod_ready(pod: Obj) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (pod.get("status") or {}).get("conditions") or []
    )


def node_ready(node: Obj) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True" for c in node["status"].get("conditions") or []
    )


def tolerates(pod_spec: dict[str, Any], node: Obj) -> bool:
    tolerations = pod_spec.get("tolerations") or []
    for taint in node["spec"].get("taints") or []:
        if taint.get("effect") not in ("NoSchedule", "NoExecute"):
            continue
        if not any(
            (t.get("operator") == "Exists" and not t.get("key"))
            or (t.get("key") == taint.get("key") and t.get("effect") in (None, "", taint.get("effect")))
            for t in tolerations
        ):
            return False
    return True


def selects(pod_spec: dict[str, Any], node: Obj) -> bool:
    wanted = pod_spec.get("nodeSelector") or {}
    labels = node["metadata"].get("labels") or {}
    return all(labels.get(k) == v for k, v in wanted.items())


class Kubelet:
    """Schedules and runs pods: Pending → ContainerCreating → Running (or a waiting reason)."""

    def __init__(self, sim: Sim):
        self.sim = sim
        self.crashing: set[str] = set()  # uids of the controllers (ReplicaSet, StatefulSet…) whose pods crash

    def _schedule(self, pod: Obj, nodes: list[Obj]) -> tuple[str, str]:
        """(node name, "") or ("", why not) for a pod without nodeName."""
        spec = pod["spec"]
        # A cordoned node (spec.unschedulable, the taint node.kubernetes.io/unschedulable) takes no new pod.
        usable = [n for n in nodes if not n["spec"].get("unschedulable")]
        fits = [n for n in usable if node_ready(n) and tolerates(spec, n) and selects(spec, n)]
        if not fits:
            not_ready = sum(1 for n in nodes if not node_ready(n))
            tainted = sum(1 for n in nodes if node_ready(n) and not tolerates(spec, n))
            parts = []
            if tainted:
                parts.append(
                    f"{tainted} node(s) had untolerated taint {{node-role.kubernetes.io/control-plane: }}"
                )
            if not_ready:
                parts.append(f"{not_ready} node(s) had untolerated taint {{node.kubernetes.io/not-ready: }}")
            rest = len(nodes) - tainted - not_ready
            if rest:
                parts.append(f"{rest} node(s) didn't match Pod's node affinity/selector")
            why = (
                f"0/{len(nodes)} nodes are available: {', '.join(parts)}."
                if nodes
                else "no nodes available to schedule pods"
            )
            return "", why
        load: dict[str, int] = {n["metadata"]["name"]: 0 for n in fits}
        owner = (pod["metadata"].get("ownerReferences") or [{}])[0].get("uid")
        for other in self.sim.items("", "pods", pod["metadata"]["namespace"]):
            if (
                other["spec"].get("nodeName") in load
                and (other["metadata"].get("ownerReferences") or [{}])[0].get("uid") == owner
            ):
                load[other["spec"]["nodeName"]] += 1
        return min(load, key=lambda n: (load[n], n)), ""

    def _unbound_claims(self, pod: Obj) -> list[str]:
        names = [
            v["persistentVolumeClaim"]["claimName"]
            for v in pod["spec"].get("volumes") or []
            if v.get("persistentVolumeClaim")
        ]
        res = self.sim.core("persistentvolumeclaims")
        out = []
        for name in names:
            pvc = self.sim.store.find(res, pod["metadata"]["namespace"], name)
            if pvc is None or (pvc.get("status") or {}).get("phase") != "Bound":
                out.append(name)
        return out

    def _missing_secret(self, pod: Obj) -> str:
        res = self.sim.core("secrets")
        ns = pod["metadata"]["namespace"]
        for container in pod["spec"].get("containers") or []:
            for env in container.get("env") or []:
                ref = (env.get("valueFrom") or {}).get("secretKeyRef")
                if (
                    ref
                    and not ref.get("optional")
                    and self.sim.store.find(res, ns, ref.get("name", "")) is None
                ):
                    return ref.get("name", "")
        return ""

    def run(self, pod: Obj, nodes: list[Obj]) -> None:
        """Schedule, start, crash or recover one pod."""
        sim = self.sim
        meta = pod["metadata"]
        by_name = {n["metadata"]["name"]: n for n in nodes}
        if meta.get("annotations", {}).get("kubernetes.io/config.source") == "file":
            return  # static pods are written running by their node
        node_name = pod["spec"].get("nodeName", "")
        if not node_name:
            unbound = self._unbound_claims(pod)
            node_name, why = (
                (
                    "",
                    f"0/{len(nodes)} nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/{len(nodes)} nodes are available: {len(nodes)} Preemption is not helpful for scheduling.",
                )
                if unbound
                else self._schedule(pod, nodes)
            )
            if not node_name:

                def pending(p: Obj, w: str = why) -> None:
                    p["status"]["phase"] = "Pending"
                    p["status"]["conditions"] = set_condition(
                        p["status"].get("conditions") or [], "PodScheduled", "False", "Unschedulable", w
                    )

                before = pod["status"].get("conditions")
                new = sim.mutate(pod, pending)
                if new is not None and new["status"].get("conditions") != before:
                    sim.event(new, "FailedScheduling", why, type_="Warning", component="default-scheduler")
                return

            def bind(p: Obj, n: str = node_name) -> None:
                p["spec"]["nodeName"] = n
                p["status"]["conditions"] = set_condition(
                    p["status"].get("conditions") or [], "PodScheduled", "True"
                )

            pod = sim.mutate(pod, bind) or pod
            sim.event(
                pod,
                "Scheduled",
                f"Successfully assigned {meta['namespace']}/{meta['name']} to {node_name}",
                component="default-scheduler",
            )
        node = by_name.get(node_name)
        if node is None:
            return
        uid = meta["uid"]
        if not sim.timers.due(("pod", uid), sim.lat("pod_start")):
            self._write_status(pod, node, "ContainerCreating", "")
            return
        missing = self._missing_secret(pod)
        owner = (meta.get("ownerReferences") or [{}])[0].get("uid", "")
        if missing:
            self._write_status(pod, node, "CreateContainerConfigError", f'secret "{missing}" not found')
        elif owner in self.crashing:
            self._write_status(pod, node, "CrashLoopBackOff", "back-off restarting failed container")
        else:
            self._write_status(pod, node, "", "")

    def _write_status(self, pod: Obj, node: Obj, waiting: str, message: str) -> None:
        sim = self.sim
        meta = pod["metadata"]
        host_net = bool(pod["spec"].get("hostNetwork"))
        host_ip = next(
            (a["address"] for a in node["status"].get("addresses") or [] if a["type"] == "InternalIP"), ""
        )
        old_status = pod.get("status") or {}
        pod_ip = old_status.get("podIP") or (host_ip if host_net else self._pod_ip(node, meta["uid"]))
        running = not waiting
        restarts_before = sum(c.get("restartCount", 0) for c in old_status.get("containerStatuses") or [])
        crash = waiting == "CrashLoopBackOff"
        restarts = int(sim.timers.elapsed(("crash", meta["uid"])) // 5) + 1 if crash else restarts_before
        if not crash:
            sim.timers.forget(("crash", meta["uid"]))
        started = old_status.get("startTime") or now_rfc3339()

        def update(p: Obj) -> None:
            st = p["status"]
            ready = "True" if running else "False"
            conds = st.get("conditions") or []
            conds = set_condition(
                conds, "PodReadyToStartContainers", "True" if waiting != "ContainerCreating" else "False"
            )
            conds = set_condition(conds, "Initialized", "True")
            conds = set_condition(
                conds,
                "Ready",
                ready,
                "" if running else "ContainersNotReady",
                ""
                if running
                else "containers with unready status: ["
                + ",".join(c["name"] for c in p["spec"]["containers"])
                + "]",
            )
            conds = set_condition(conds, "ContainersReady", ready, "" if running else "ContainersNotReady")
            conds = set_condition(conds, "PodScheduled", "True")
            statuses = []
            for c in p["spec"].get("containers") or []:
                cid = f"containerd://{stable_hash(meta['uid'] + c['name'], 24)}"
                if running:
                    state: dict[str, Any] = {"running": {"startedAt": started}}
                else:
                    state = {"waiting": {"reason": waiting, **({"message": message} if message else {})}}
                entry = {
                    "name": c["name"],
                    "image": c.get("image", ""),
                    "imageID": ""
                    if waiting == "ContainerCreating"
                    else f"{c.get('image', '').split(':')[0]}@sha256:{stable_hash(c.get('image', ''), 32)}",
                    "ready": running,
                    "started": running,
                    "restartCount": restarts,
                    "state": state,
                }
                if waiting != "ContainerCreating" and waiting != "CreateContainerConfigError":
                    entry["containerID"] = cid
                statuses.append(entry)
            st.update(
                phase="Running"
                if waiting not in ("ContainerCreating", "CreateContainerConfigError")
                else "Pending",
                conditions=conds,
                hostIP=host_ip,
                hostIPs=[{"ip": host_ip}],
                podIP=pod_ip,
                podIPs=[{"ip": pod_ip}],
                startTime=started,
                containerStatuses=statuses,
            )

        was_running = pod_ready(pod)
        before = json.dumps((old_status.get("containerStatuses") or [{}])[0].get("state"), sort_keys=True)
        new = sim.mutate(pod, update)
        if new is None:
            return
        after = json.dumps((new["status"].get("containerStatuses") or [{}])[0].get("state"), sort_keys=True)
        container = (pod["spec"].get("containers") or [{}])[0]
        if running and not was_running:
            sim.event(
                new,
                "Pulled",
                f'Container image "{container.get("image", "")}" already present on machine',
                component="kubelet",
            )
            sim.event(new, "Created", f"Created container: {container.get('name', '')}", component="kubelet")
            sim.event(new, "Started", f"Started container {container.get('name', '')}", component="kubelet")
        elif crash and (before != after or restarts != restarts_before):
            sim.event(
                new,
                "BackOff",
                f"Back-off restarting failed container {container.get('name', '')} in pod {meta['name']}_{meta['namespace']}({meta['uid']})",
                type_="Warning",
                component="kubelet",
            )
        elif waiting == "CreateContainerConfigError" and before != after:
            sim.event(new, "Failed", f"Error: {message}", type_="Warning", component="kubelet")

    def _pod_ip(self, node: Obj, uid: str) -> str:
        cidr = node["spec"].get("podCIDR", "10.244.0.0/24")
        base = cidr.split("/")[0].rsplit(".", 1)[0]
        return f"{base}.{2 + int(stable_hash(uid, 6), 36) % 250}"

    # -- controllers --------------------------------------------------------------------------------------
