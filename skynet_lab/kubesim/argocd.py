"""The lab's Argo CD: application controller and repo-server for the Applications in Argo CD's namespace.

Applications are compared with the live objects, synced automatically wave by wave (waiting for each wave's
health, Application health through argocd-cm's Lua check), retried with backoff, pruned, and their status written
as Argo CD does (sync, health, resources, operationState, history). Sources are read from `file://` Git
repositories; chart sources are rendered from the simulated chart table.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from skynet_lab.kubesim import charts
from skynet_lab.kubesim import health as argohealth
from skynet_lab.kubesim.argosync import (
    AppState,
    Operation,
    SyncOperations,
    resource_key,
    sync_order,
    wave_of,
)
from skynet_lab.kubesim.base import TRACKING, Sim
from skynet_lab.kubesim.gitsource import GitRepos, RepoServer, SourceError, sources
from skynet_lab.kubesim.store import ApiError, Obj, now_rfc3339


class ArgoCD(SyncOperations):
    """Argo CD's application controller and repo-server, for the Applications in Argo CD's own namespace."""

    def __init__(self, sim: Sim):
        self.sim = sim
        self.repos = GitRepos()
        self.repo_server = RepoServer(self.repos)
        self.apps: dict[str, AppState] = {}
        self._prepared: dict[str, tuple[tuple, list[Obj], list[Obj]]] = {}
        self._diffs: dict[int, tuple[Obj, str | None, bool]] = {}

    # -- where Argo CD runs ---------------------------------------------------------------------------------
    def namespace(self) -> str | None:
        """Argo CD's namespace once its application controller and repo-server are ready, else None."""
        sim = self.sim
        for sts in sim.items(
            "apps", "statefulsets", None, "app.kubernetes.io/component=application-controller"
        ):
            if (sts.get("status") or {}).get("readyReplicas", 0) < 1:
                continue
            ns = sts["metadata"]["namespace"]
            repo = sim.items("apps", "deployments", ns, "app.kubernetes.io/component=repo-server")
            if any((d.get("status") or {}).get("readyReplicas", 0) >= 1 for d in repo):
                return ns
        return None

    def degraded_apps(self) -> set[str]:
        value = self.sim.faults.get("app_degraded")
        if not value:
            return set()
        return {value} if isinstance(value, str) else set(value)

    def crashing_workloads(self) -> set[str]:
        """uids of the workloads (and their ReplicaSets) of the Applications under the app_degraded fault."""
        names = self.degraded_apps()
        if not names:
            return set()
        sim = self.sim
        out: set[str] = set()
        for plural in ("deployments", "statefulsets", "daemonsets"):
            for obj in sim.items("apps", plural):
                tracking = (obj["metadata"].get("annotations") or {}).get(TRACKING, "")
                if tracking.split(":", 1)[0] in names:
                    out.add(obj["metadata"]["uid"])
        for rs in sim.items("apps", "replicasets"):
            if any(r.get("uid") in out for r in rs["metadata"].get("ownerReferences") or []):
                out.add(rs["metadata"]["uid"])
        return out

    # -- the loop ---------------------------------------------------------------------------------------------
    def step(self) -> None:
        ns = self.namespace()
        if ns is None:
            return
        sim = self.sim
        self.repos.refresh = sim.lat("argo_refresh")
        sim.ensure(
            {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "AppProject",
                "metadata": {"name": "default", "namespace": ns},
                "spec": {
                    "sourceRepos": ["*"],
                    "destinations": [{"namespace": "*", "server": "*"}],
                    "clusterResourceWhitelist": [{"group": "*", "kind": "*"}],
                },
            },
            manager="argocd-server",
        )
        cm = sim.store.find(sim.core("configmaps"), ns, "argocd-cm")
        lua = argohealth.APP_HEALTH_KEY in ((cm or {}).get("data") or {})
        live_uids = set()
        for app in sim.items("argoproj.io", "applications", ns):
            live_uids.add(app["metadata"]["uid"])
            try:
                self._reconcile(app, ns, lua)
            except ApiError:
                continue  # deleted or changed under us: next tick
        for uid in [u for u in self.apps if u not in live_uids]:
            del self.apps[uid]
            self._prepared.pop(uid, None)

    def _reconcile(self, app: Obj, ns: str, lua: bool) -> None:
        sim = self.sim
        meta, spec = app["metadata"], app.get("spec") or {}
        uid = meta["uid"]
        if not sim.timers.due(("app", uid), sim.lat("argo_reconcile")):
            return
        state = self.apps.setdefault(uid, AppState())
        projects = sim.res("argoproj.io", "appprojects")
        project = spec.get("project") or "default"
        if projects is None or sim.store.find(projects, ns, project) is None:
            self._write(
                app,
                {
                    "sync": {"status": "Unknown"},
                    "health": {"status": "Unknown"},
                    "conditions": [
                        {
                            "type": "InvalidSpecError",
                            "message": f"Application referencing project {project} which does not exist",
                        }
                    ],
                },
                ns,
            )
            return
        if "operation" in app:  # a manual sync request (argocd app sync)
            sim.mutate(app, lambda a: a.pop("operation", None))
            state.synced = None
            state.retries = 0
        try:
            revisions, target, source_type = self.repo_server.manifests(app)
        except SourceError as exc:
            self._write(
                app,
                {
                    "sync": {"status": "Unknown"},
                    "health": {"status": "Unknown"},
                    "conditions": [
                        {"type": "ComparisonError", "message": str(exc), "lastTransitionTime": now_rfc3339()}
                    ],
                },
                ns,
                state,
            )
            return
        target = self._prepare(app, target)
        resources, sync, health_status, health_message = self._compare(app, target, lua)
        # Automated sync: on a new revision, or on any drift with selfHeal; retried with backoff on failure.
        policy = (spec.get("syncPolicy") or {}).get("automated")
        due = (
            state.op is None
            and sync == "OutOfSync"
            and policy is not None
            and time.monotonic() >= state.retry_at
        )
        self_heal = bool((policy or {}).get("selfHeal"))
        if due and (tuple(revisions) != state.synced or self_heal or state.retries):
            waves = [[o for o in target if wave_of(o) == w] for w in sorted({wave_of(o) for o in target})]
            state.op = Operation(revisions, [sorted(w, key=sync_order) for w in waves], retry=state.retries)
        elif (
            state.op is not None
        ):  # a new operation shows as Running (OutOfSync) for a tick before it applies
            self._advance(app, state, target, lua)
            resources, sync, health_status, health_message = self._compare(app, target, lua)
        # app_degraded: its pods crash and its Deployments exceed their progress deadline; an app without a
        # Deployment (a crashing StatefulSet only ever shows Progressing) is held Degraded directly.
        workloads = any(r["kind"] == "Deployment" for r in resources)
        if app["metadata"]["name"] in self.degraded_apps() and state.synced is not None and not workloads:
            if health_status != "Degraded" and sim.timers.due(("fault", uid), sim.lat("progress_deadline")):
                health_status, health_message = (
                    "Degraded",
                    f"lab fault app_degraded: {meta['name']} is held Degraded",
                )
        else:
            sim.timers.forget(("fault", uid))
        status = self._status(
            app, ns, revisions, source_type, resources, sync, health_status, health_message, state
        )
        self._write(app, status, ns, state)

    def _prepare(self, app: Obj, target: list[Obj]) -> list[Obj]:
        """Target manifests with namespace defaults and Argo CD's tracking annotation (cached per render)."""
        key = (id(target), app["metadata"]["name"], len(self.sim.store.registry.all()))
        cached = self._prepared.get(app["metadata"]["uid"])
        if cached is not None and cached[0] == key and cached[2] is target:
            return cached[1]
        out = self._prepare_now(app, target)
        self._prepared[app["metadata"]["uid"]] = (key, out, target)
        return out

    def _prepare_now(self, app: Obj, target: list[Obj]) -> list[Obj]:
        dest_ns = ((app.get("spec") or {}).get("destination") or {}).get("namespace") or ""
        name = app["metadata"]["name"]
        out = []
        for doc in target:
            doc = copy.deepcopy(doc)
            meta = doc.setdefault("metadata", {})
            res = self.sim.store.registry.by_kind(doc.get("apiVersion", ""), doc.get("kind", ""))
            namespaced = res.namespaced if res is not None else doc.get("kind") not in charts.CLUSTER_SCOPED
            if namespaced:
                meta.setdefault("namespace", dest_ns or "default")
            else:
                meta.pop("namespace", None)
            group = str(doc.get("apiVersion", "")).rpartition("/")[0]
            annotations = meta.setdefault("annotations", {})
            annotations[TRACKING] = (
                f"{name}:{group}/{doc.get('kind')}:{meta.get('namespace', '')}/{meta.get('name', '')}"
            )
            out.append(doc)
        return out

    def _in_sync(self, doc: Obj, live: Obj | None) -> bool:
        """argohealth.in_sync, memoised per (target document, live resourceVersion)."""
        if live is None:
            return False
        version = live["metadata"].get("resourceVersion")
        cached = self._diffs.get(id(doc))
        if cached is not None and cached[0] is doc and cached[1] == version:
            return cached[2]
        result = argohealth.in_sync(doc, live)
        self._diffs[id(doc)] = (doc, version, result)
        if len(self._diffs) > 20000:
            self._diffs.clear()
        return result

    def _compare(self, app: Obj, target: list[Obj], lua: bool) -> tuple[list[Obj], str, str, str]:
        resources = []
        healths: list[tuple[str, str]] = []
        sync = "Synced"
        for doc in target:
            live = self._live(doc)
            synced = self._in_sync(doc, live)
            group, kind, ns, name = resource_key(doc)
            entry: Obj = {
                **({"group": group} if group else {}),
                "version": str(doc.get("apiVersion", "")).rpartition("/")[2],
                "kind": kind,
                **({"namespace": ns} if ns else {}),
                "name": name,
                "status": "Synced" if synced else "OutOfSync",
            }
            checked = argohealth.health(live, app_health_lua=lua)
            if checked is not None:
                entry["health"] = {"status": checked[0], **({"message": checked[1]} if checked[1] else {})}
                healths.append(checked)
            resources.append(entry)
            if not synced:
                sync = "OutOfSync"
        resources.sort(key=lambda r: (r.get("group", ""), r["kind"], r.get("namespace", ""), r["name"]))
        status = argohealth.worst([h for h, _ in healths])
        message = "" if status == "Healthy" else next((m for h, m in healths if h == status and m), "")
        return resources, sync, status, message

    # -- status ---------------------------------------------------------------------------------------------
    def _status(
        self,
        app: Obj,
        ns: str,
        revisions: list[str],
        source_type: str,
        resources: list[Obj],
        sync: str,
        health_status: str,
        health_message: str,
        state: AppState,
    ) -> dict[str, Any]:
        spec = app.get("spec") or {}
        srcs = sources(app)
        multi = "sources" in spec
        status: dict[str, Any] = {
            "sync": {
                "status": sync,
                "comparedTo": {
                    ("sources" if multi else "source"): srcs if multi else srcs[0],
                    "destination": spec.get("destination") or {},
                },
            },
            "health": {"status": health_status, **({"message": health_message} if health_message else {})},
            "resources": resources,
            "controllerNamespace": ns,
            "summary": self._summary(app),
        }
        status["sync"]["revisions" if multi else "revision"] = revisions if multi else revisions[0]
        if multi:
            status["sourceTypes"] = [source_type] * len(srcs)
        else:
            status["sourceType"] = source_type
        if state.op is not None:
            running = (
                "waiting for completion of hook and/or resources"
                if not state.op.waiting
                else state.op.waiting
            )
            status["operationState"] = self._op_state(app, state, "Running", running)
        elif state.last_op is not None:
            status["operationState"] = state.last_op
        if state.history:
            status["history"] = state.history
        return status

    def _summary(self, app: Obj) -> dict[str, Any]:
        images: set[str] = set()
        urls: set[str] = set()
        prefix = f"{app['metadata']['name']}:"
        for group, plural in (
            ("apps", "deployments"),
            ("apps", "statefulsets"),
            ("apps", "daemonsets"),
            ("networking.k8s.io", "ingresses"),
        ):
            for obj in self.sim.items(group, plural):
                if not (obj["metadata"].get("annotations") or {}).get(TRACKING, "").startswith(prefix):
                    continue
                if plural == "ingresses":
                    urls |= {f"https://{r['host']}/" for r in obj["spec"].get("rules") or [] if r.get("host")}
                else:
                    images |= {
                        c.get("image", "")
                        for c in ((obj["spec"].get("template") or {}).get("spec") or {}).get("containers")
                        or []
                    }
        out: dict[str, Any] = {}
        if images:
            out["images"] = sorted(images)
        if urls:
            out["externalURLs"] = sorted(urls)
        return out

    def _write(self, app: Obj, status: dict[str, Any], ns: str, state: AppState | None = None) -> None:
        old = app.get("status") or {}
        previous = old.get("health") or {}
        health = status.get("health") or {}
        if previous.get("status") == health.get("status") and previous.get("lastTransitionTime"):
            health["lastTransitionTime"] = previous["lastTransitionTime"]
        else:
            health["lastTransitionTime"] = now_rfc3339()
        status.setdefault("controllerNamespace", ns)
        if {k: v for k, v in old.items() if k != "reconciledAt"} == status:
            return
        status["reconciledAt"] = now_rfc3339()
        self.sim.mutate(app, lambda a: a.update(status=status))
