"""Controllers of the simulated cluster: Deployments, StatefulSets, DaemonSets and their Pods, PVC binding."""

from __future__ import annotations

import copy
import json
from typing import Any

from skynet_lab.kubesim.base import Sim, set_condition, stable_hash, suffix
from skynet_lab.kubesim.pods import Kubelet, node_ready, pod_ready, selects, tolerates
from skynet_lab.kubesim.store import Obj

WORKLOADS = ("deployments", "statefulsets", "daemonsets")


def owner_ref(owner: Obj) -> dict[str, Any]:
    meta = owner["metadata"]
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": meta["name"],
        "uid": meta["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def owned_by(obj: Obj, uid: str) -> bool:
    return any(r.get("uid") == uid for r in obj["metadata"].get("ownerReferences") or [])


class Controllers:
    """The controller-manager, scheduler and kubelets of the simulation, one `step` per tick."""

    def __init__(self, sim: Sim):
        self.sim = sim
        self.crashing: set[str] = set()  # uids of workloads whose pods crash (fault app_degraded)
        self.kubelet = Kubelet(sim)

    def step(self, crashing: set[str]) -> None:
        self.crashing = self.kubelet.crashing = crashing
        sim = self.sim
        nodes = sim.items("", "nodes")
        self._bind_claims()
        for dep in sim.items("apps", "deployments"):
            self._deployment(dep, nodes)
        for rs in sim.items("apps", "replicasets"):
            self._replicaset(rs, nodes)
        for sts in sim.items("apps", "statefulsets"):
            self._statefulset(sts, nodes)
        for ds in sim.items("apps", "daemonsets"):
            self._daemonset(ds, nodes)
        self._collect_garbage(nodes)
        for pod in sim.items("", "pods"):
            self.kubelet.run(pod, nodes)

    # -- pods ---------------------------------------------------------------------------------------------
    def _new_pod(
        self, owner: Obj, name: str, template: Obj, extra_labels: dict[str, str], node: str = ""
    ) -> Obj | None:
        tmpl = copy.deepcopy(template)
        meta = tmpl.get("metadata") or {}
        pod: Obj = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": owner["metadata"]["namespace"],
                "labels": {**(meta.get("labels") or {}), **extra_labels},
                **({"annotations": meta["annotations"]} if meta.get("annotations") else {}),
                "ownerReferences": [owner_ref(owner)],
            },
            "spec": {**tmpl.get("spec", {}), **({"nodeName": node} if node else {})},
            "status": {"phase": "Pending", "qosClass": "BestEffort"},
        }
        pod["spec"].setdefault("restartPolicy", "Always")
        pod["spec"].setdefault("schedulerName", "default-scheduler")
        created = self.sim.ensure(pod, manager="kube-controller-manager")
        if created is not None:
            kind = owner["kind"]
            component = {
                "ReplicaSet": "replicaset-controller",
                "StatefulSet": "statefulset-controller",
                "DaemonSet": "daemonset-controller",
            }[kind]
            self.sim.event(owner, "SuccessfulCreate", f"Created pod: {name}", component=component)
        return created

    def _pods_of(self, owner: Obj) -> list[Obj]:
        return [
            p
            for p in self.sim.items("", "pods", owner["metadata"]["namespace"])
            if owned_by(p, owner["metadata"]["uid"])
        ]

    def _deployment(self, dep: Obj, nodes: list[Obj]) -> None:
        sim = self.sim
        meta, spec = dep["metadata"], dep.get("spec") or {}
        want = int(spec.get("replicas", 1))
        template = spec.get("template") or {}
        pod_hash = stable_hash(json.dumps(template, sort_keys=True))
        rs_name = f"{meta['name']}-{pod_hash}"
        all_rs = [
            rs for rs in sim.items("apps", "replicasets", meta["namespace"]) if owned_by(rs, meta["uid"])
        ]
        current = next((rs for rs in all_rs if rs["metadata"]["name"] == rs_name), None)
        if current is None:
            tmpl = copy.deepcopy(template)
            tmpl.setdefault("metadata", {}).setdefault("labels", {})["pod-template-hash"] = pod_hash
            selector = copy.deepcopy(spec.get("selector") or {})
            selector.setdefault("matchLabels", {})["pod-template-hash"] = pod_hash
            rs = {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "metadata": {
                    "name": rs_name,
                    "namespace": meta["namespace"],
                    "labels": {
                        **(template.get("metadata", {}).get("labels") or {}),
                        "pod-template-hash": pod_hash,
                    },
                    "annotations": {"deployment.kubernetes.io/revision": str(len(all_rs) + 1)},
                    "ownerReferences": [owner_ref(dep)],
                },
                "spec": {"replicas": want, "selector": selector, "template": tmpl},
            }
            current = sim.ensure(rs, manager="kube-controller-manager")
            if current is None:
                return
            sim.event(
                dep,
                "ScalingReplicaSet",
                f"Scaled up replica set {rs_name} from 0 to {want}",
                component="deployment-controller",
            )
            all_rs.append(current)
        elif current["spec"].get("replicas") != want:
            current = sim.mutate(current, lambda r: r["spec"].update(replicas=want)) or current
        new_pods = self._pods_of(current)
        new_ready = sum(1 for p in new_pods if pod_ready(p))
        for old in all_rs:
            if (
                old["metadata"]["uid"] != current["metadata"]["uid"]
                and old["spec"].get("replicas")
                and new_ready >= want
            ):
                sim.mutate(old, lambda r: r["spec"].update(replicas=0))
                sim.event(
                    dep,
                    "ScalingReplicaSet",
                    f"Scaled down replica set {old['metadata']['name']} from {old['spec'].get('replicas')} to 0",
                    component="deployment-controller",
                )
        pods = [p for rs in all_rs for p in self._pods_of(rs)]
        ready = sum(1 for p in pods if pod_ready(p))
        complete = new_ready >= want and len(pods) == want
        key = ("rollout", meta["uid"], pod_hash)
        if complete:
            sim.timers.forget(key)
        stalled = (
            not complete
            and sim.timers.due(key, sim.lat("progress_deadline"))
            and meta["uid"] in self.crashing
        )

        def status(d: Obj) -> None:
            st = d.setdefault("status", {})
            conds = st.get("conditions") or []
            avail = new_ready >= want or ready >= want
            conds = set_condition(
                conds,
                "Available",
                "True" if avail else "False",
                "MinimumReplicasAvailable" if avail else "MinimumReplicasUnavailable",
                "Deployment has minimum availability."
                if avail
                else "Deployment does not have minimum availability.",
            )
            if stalled:
                conds = set_condition(
                    conds,
                    "Progressing",
                    "False",
                    "ProgressDeadlineExceeded",
                    f'ReplicaSet "{rs_name}" has timed out progressing.',
                )
            elif complete:
                conds = set_condition(
                    conds,
                    "Progressing",
                    "True",
                    "NewReplicaSetAvailable",
                    f'ReplicaSet "{rs_name}" has successfully progressed.',
                )
            else:
                conds = set_condition(
                    conds,
                    "Progressing",
                    "True",
                    "ReplicaSetUpdated",
                    f'ReplicaSet "{rs_name}" is progressing.',
                )
            st.update(
                observedGeneration=d["metadata"].get("generation", 1),
                replicas=len(pods),
                updatedReplicas=len(new_pods),
                readyReplicas=ready,
                availableReplicas=ready,
                conditions=conds,
            )
            if len(pods) - ready > 0:
                st["unavailableReplicas"] = len(pods) - ready
            else:
                st.pop("unavailableReplicas", None)
            for k in ("readyReplicas", "availableReplicas"):
                if not st[k]:
                    del st[k]

        sim.mutate(dep, status)

    def _replicaset(self, rs: Obj, nodes: list[Obj]) -> None:
        sim = self.sim
        want = int((rs.get("spec") or {}).get("replicas", 1))
        pods = self._pods_of(rs)
        for _ in range(want - len(pods)):
            self._new_pod(rs, f"{rs['metadata']['name']}-{suffix()}", rs["spec"].get("template") or {}, {})
        for extra in sorted(pods, key=lambda p: pod_ready(p))[: max(0, len(pods) - want)]:
            sim.delete(extra)
        pods = self._pods_of(rs)
        ready = sum(1 for p in pods if pod_ready(p))
        sim.mutate(
            rs,
            lambda r: r.setdefault("status", {}).update(
                replicas=len(pods),
                readyReplicas=ready,
                availableReplicas=ready,
                fullyLabeledReplicas=len(pods),
                observedGeneration=r["metadata"].get("generation", 1),
            ),
        )

    def _statefulset(self, sts: Obj, nodes: list[Obj]) -> None:
        sim = self.sim
        meta, spec = sts["metadata"], sts.get("spec") or {}
        want = int(spec.get("replicas", 1))
        template = spec.get("template") or {}
        revision = f"{meta['name']}-{stable_hash(json.dumps(template, sort_keys=True))}"
        pods = {p["metadata"]["name"]: p for p in self._pods_of(sts)}
        for i in range(want):
            name = f"{meta['name']}-{i}"
            if name in pods:
                continue
            if any(
                not pod_ready(pods[f"{meta['name']}-{j}"]) for j in range(i) if f"{meta['name']}-{j}" in pods
            ):
                break  # OrderedReady: one at a time
            tmpl = copy.deepcopy(template)
            volumes = tmpl.setdefault("spec", {}).setdefault("volumes", [])
            for claim in spec.get("volumeClaimTemplates") or []:
                claim_name = f"{claim['metadata']['name']}-{name}"
                volumes.append(
                    {"name": claim["metadata"]["name"], "persistentVolumeClaim": {"claimName": claim_name}}
                )
                pvc = {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "metadata": {
                        "name": claim_name,
                        "namespace": meta["namespace"],
                        "labels": dict(spec.get("selector", {}).get("matchLabels") or {}),
                    },
                    "spec": copy.deepcopy(claim.get("spec") or {}),
                    "status": {"phase": "Pending"},
                }
                sim.ensure(pvc, manager="kube-controller-manager")
            extra = {
                "controller-revision-hash": revision,
                "statefulset.kubernetes.io/pod-name": name,
                "apps.kubernetes.io/pod-index": str(i),
            }
            self._new_pod(sts, name, tmpl, extra)
            break
        for name, pod in pods.items():
            index = int(name.rsplit("-", 1)[1]) if name.rsplit("-", 1)[1].isdigit() else want
            if index >= want:
                sim.delete(pod)
        outdated = [
            p
            for p in pods.values()
            if (p["metadata"].get("labels") or {}).get("controller-revision-hash") != revision
        ]
        if outdated and all(pod_ready(p) for p in pods.values()):
            sim.delete(max(outdated, key=lambda p: p["metadata"]["name"]))
        pods = {p["metadata"]["name"]: p for p in self._pods_of(sts)}
        ready = sum(1 for p in pods.values() if pod_ready(p))
        updated = sum(
            1
            for p in pods.values()
            if (p["metadata"].get("labels") or {}).get("controller-revision-hash") == revision
        )

        def status(s: Obj) -> None:
            st = s.setdefault("status", {})
            st.update(
                observedGeneration=s["metadata"].get("generation", 1),
                replicas=len(pods),
                readyReplicas=ready,
                availableReplicas=ready,
                currentReplicas=updated,
                updatedReplicas=updated,
                currentRevision=revision,
                updateRevision=revision,
                collisionCount=0,
            )
            if not ready:
                st.pop("readyReplicas", None)

        sim.mutate(sts, status)

    def _daemonset(self, ds: Obj, nodes: list[Obj]) -> None:
        sim = self.sim
        meta, spec = ds["metadata"], ds.get("spec") or {}
        template = spec.get("template") or {}
        pod_spec = template.get("spec") or {}
        revision = stable_hash(json.dumps(template, sort_keys=True))
        tolerate_all = any(
            t.get("operator") == "Exists" and not t.get("key") for t in pod_spec.get("tolerations") or []
        )
        eligible = [
            n["metadata"]["name"]
            for n in nodes
            if (node_ready(n) or tolerate_all) and tolerates(pod_spec, n) and selects(pod_spec, n)
        ]
        pods = self._pods_of(ds)
        by_node: dict[str, list[Obj]] = {}
        for pod in pods:
            by_node.setdefault(pod["spec"].get("nodeName", ""), []).append(pod)
        for node in eligible:
            if node not in by_node:
                self._new_pod(
                    ds,
                    f"{meta['name']}-{suffix()}",
                    template,
                    {
                        "controller-revision-hash": revision,
                        "pod-template-generation": str(meta.get("generation", 1)),
                    },
                    node,
                )
        for node, node_pods in by_node.items():
            if node not in eligible:
                for pod in node_pods:
                    sim.delete(pod)
        outdated = [
            p for p in pods if (p["metadata"].get("labels") or {}).get("controller-revision-hash") != revision
        ]
        if outdated and all(pod_ready(p) for p in pods if p not in outdated):
            sim.delete(outdated[0])
        pods = self._pods_of(ds)
        ready = sum(1 for p in pods if pod_ready(p))
        updated = sum(
            1 for p in pods if (p["metadata"].get("labels") or {}).get("controller-revision-hash") == revision
        )

        def status(d: Obj) -> None:
            d.setdefault("status", {}).update(
                observedGeneration=d["metadata"].get("generation", 1), desiredNumberScheduled=len(eligible),
                currentNumberScheduled=len(pods), numberReady=ready, numberAvailable=ready,
                updatedNumberScheduled=updated, numberMisscheduled=0,
            )  # fmt: skip
            if ready < len(eligible):
                d["status"]["numberUnavailable"] = len(eligible) - ready
            else:
                d["status"].pop("numberUnavailable", None)

        sim.mutate(ds, status)

    def _collect_garbage(self, nodes: list[Obj]) -> None:
        """Delete pods and ReplicaSets whose owner is gone, and pods bound to a Node that left."""
        sim = self.sim
        live = {n["metadata"]["uid"] for n in nodes}
        node_names = {n["metadata"]["name"] for n in nodes}
        for plural in (*WORKLOADS, "replicasets", "ingresses"):
            group = "networking.k8s.io" if plural == "ingresses" else "apps"
            live |= {o["metadata"]["uid"] for o in sim.items(group, plural)}
        for group, plural in (("apps", "replicasets"), ("", "pods"), ("cert-manager.io", "certificates")):
            for obj in sim.items(group, plural):
                refs = obj["metadata"].get("ownerReferences") or []
                gone = refs and not any(r.get("uid") in live for r in refs)
                lost = (
                    plural == "pods"
                    and obj["spec"].get("nodeName")
                    and obj["spec"]["nodeName"] not in node_names
                )
                if gone or lost:
                    sim.delete(obj)

    # -- storage ------------------------------------------------------------------------------------------
    def _bind_claims(self) -> None:
        sim = self.sim
        classes = {sc["metadata"]["name"]: sc for sc in sim.items("storage.k8s.io", "storageclasses")}
        default = next(
            (
                n
                for n, sc in classes.items()
                if (sc["metadata"].get("annotations") or {}).get(
                    "storageclass.kubernetes.io/is-default-class"
                )
                == "true"
            ),
            None,
        )
        for pvc in sim.items("", "persistentvolumeclaims"):
            if (pvc.get("status") or {}).get("phase") == "Bound":
                continue
            name = pvc["spec"].get("storageClassName") or default
            if name is None or name not in classes:
                sim.mutate(pvc, lambda p: p.setdefault("status", {}).update(phase="Pending"))
                msg = (
                    f'storageclass.storage.k8s.io "{name}" not found'
                    if name
                    else "no persistent volumes available for this claim and no storage class is set"
                )
                sim.event(
                    pvc,
                    "ProvisioningFailed" if name else "FailedBinding",
                    msg,
                    type_="Warning",
                    component="persistentvolume-controller",
                )
                continue
            size = ((pvc["spec"].get("resources") or {}).get("requests") or {}).get("storage", "1Gi")
            volume = f"pvc-{pvc['metadata']['uid']}"

            def bind(p: Obj, sc: str = name, v: str = volume, s: str = size) -> None:
                p["spec"].update(storageClassName=sc, volumeName=v)
                p["status"] = {
                    "phase": "Bound",
                    "accessModes": p["spec"].get("accessModes") or ["ReadWriteOnce"],
                    "capacity": {"storage": s},
                }

            new = sim.mutate(pvc, bind)
            if new is not None:
                sim.event(
                    new,
                    "ProvisioningSucceeded",
                    f"Successfully provisioned volume {volume}",
                    component=classes[name].get("provisioner", "local-path-provisioner"),
                )
