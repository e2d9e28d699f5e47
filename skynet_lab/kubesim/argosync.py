"""Argo CD sync operations in the lab: waves applied server-side, health gates, retries, pruning, results."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from skynet_lab.kubesim import health as argohealth
from skynet_lab.kubesim import helm
from skynet_lab.kubesim.base import TRACKING, Sim
from skynet_lab.kubesim.store import ApiError, Obj, now_rfc3339

WAVE = "argocd.argoproj.io/sync-wave"
CONTROLLER = "argocd-controller"


@dataclass
class Operation:
    """A running sync: the target, the waves still to apply and where it stands."""

    revisions: list[str]
    waves: list[list[Obj]]
    started: str = field(default_factory=now_rfc3339)
    since: float = field(default_factory=time.monotonic)
    applied: list[Obj] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    waiting: str = ""
    retry: int = 0
    checked: bool = False  # CreateNamespace and the dry run are done


@dataclass
class AppState:
    synced: tuple[str, ...] | None = None  # revisions last synced automatically
    op: Operation | None = None
    retry_at: float = 0.0
    retries: int = 0
    last_op: dict[str, Any] | None = None
    history: list[dict[str, Any]] = field(default_factory=list)


def wave_of(obj: Obj) -> int:
    try:
        return int(str((obj["metadata"].get("annotations") or {}).get(WAVE, "0")))
    except ValueError:
        return 0


def sync_order(obj: Obj) -> tuple[int, str]:
    kind = obj.get("kind", "")
    return (
        helm.INSTALL_ORDER.index(kind) if kind in helm.INSTALL_ORDER else len(helm.INSTALL_ORDER),
        obj["metadata"].get("name", ""),
    )


def resource_key(obj: Obj) -> tuple[str, str, str, str]:
    group = str(obj.get("apiVersion", "")).rpartition("/")[0]
    return (group, obj.get("kind", ""), obj["metadata"].get("namespace", ""), obj["metadata"]["name"])


class SyncOperations:
    """The sync half of the lab's Argo CD application controller (mixed into ArgoCD)."""

    sim: Sim

    def _live(self, doc: Obj) -> Obj | None:
        res = self.sim.store.registry.by_kind(doc.get("apiVersion", ""), doc.get("kind", ""))
        if res is None:
            return None
        return self.sim.store.find(res, doc["metadata"].get("namespace", ""), doc["metadata"]["name"])

    def _advance(self, app: Obj, state: AppState, target: list[Obj], lua: bool) -> None:
        sim, op = self.sim, state.op
        assert op is not None
        if time.monotonic() - op.since < sim.lat("argo_sync"):
            return
        if op.applied:  # between waves: wait for the applied wave's health, then ARGOCD_SYNC_WAVE_DELAY
            for doc in op.applied:
                checked = argohealth.health(self._live(doc), app_health_lua=lua)
                if checked is not None and checked[0] != "Healthy":
                    group, kind, _, name = resource_key(doc)
                    op.waiting = f"waiting for healthy state of {group}/{kind}/{name}"
                    sim.timers.forget(("wave", app["metadata"]["uid"]))
                    return
            op.waiting = ""
            if not sim.timers.due(("wave", app["metadata"]["uid"]), sim.lat("argo_wave")):
                return
            op.applied = []
        sim.timers.forget(("wave", app["metadata"]["uid"]))
        if not op.checked:
            if not self._first_wave_checks(app, state, target):
                return
            op.checked = True
        wave = op.waves.pop(0) if op.waves else []
        failures = [f for doc in wave if (f := self._apply(doc, op))]
        if failures:
            self._fail(app, state, failures[0])
            return
        if op.waves:
            op.applied, op.since = wave, time.monotonic()
            return
        self._prune(app, target)
        state.last_op = self._op_state(
            app, state, "Succeeded", "successfully synced (all tasks run)", finished=True
        )
        state.synced, state.op, state.retries, state.retry_at = tuple(op.revisions), None, 0, 0.0
        entry = {
            "revision" if len(op.revisions) == 1 else "revisions": op.revisions[0]
            if len(op.revisions) == 1
            else op.revisions,
            "deployStartedAt": op.started,
            "deployedAt": now_rfc3339(),
            "id": len(state.history),
            "initiatedBy": {"automated": True},
        }
        state.history = (state.history + [entry])[-10:]
        sim.event(
            app,
            "OperationCompleted",
            f"Sync operation to {op.revisions[0]} succeeded",
            component="argocd-application-controller",
        )

    def _first_wave_checks(self, app: Obj, state: AppState, target: list[Obj]) -> bool:
        """CreateNamespace and the dry run that fails on kinds with no CRD (unless SkipDryRunOnMissingResource)."""
        sim, op = self.sim, state.op
        assert op is not None
        spec = app.get("spec") or {}
        policy = spec.get("syncPolicy") or {}
        options = set(policy.get("syncOptions") or [])
        dest_ns = (spec.get("destination") or {}).get("namespace")
        sim.event(
            app,
            "OperationStarted",
            f"Initiated automated sync to {op.revisions[0]}",
            component="argocd-application-controller",
        )
        if dest_ns and "CreateNamespace=true" in options:
            managed = policy.get("managedNamespaceMetadata") or {}
            ns_doc = {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {
                    "name": dest_ns,
                    "labels": dict(managed.get("labels") or {}),
                    "annotations": dict(managed.get("annotations") or {}),
                },
            }
            sim.store.apply(sim.core("namespaces"), "", dest_ns, ns_doc, manager=CONTROLLER)
        provided = {
            (c["spec"]["group"], c["spec"]["names"]["kind"])
            for c in target
            if c.get("kind") == "CustomResourceDefinition" and c.get("spec")
        }
        if "SkipDryRunOnMissingResource=true" not in options:
            for doc in target:
                group = str(doc.get("apiVersion", "")).rpartition("/")[0]
                if (
                    sim.store.registry.by_kind(doc.get("apiVersion", ""), doc.get("kind", "")) is None
                    and (group, doc.get("kind")) not in provided
                ):
                    self._fail(app, state, self._missing_kind(doc))
                    return False
        return True

    @staticmethod
    def _missing_kind(doc: Obj) -> str:
        group, kind, ns, name = resource_key(doc)
        return f'The Kubernetes API could not find {group}/{kind} for requested resource {ns + "/" if ns else ""}{name}. Make sure the "{kind}" CRD is installed on the destination cluster.'

    def _apply(self, doc: Obj, op: Operation) -> str:
        """Server-side apply one manifest; returns an error message or ''."""
        sim = self.sim
        group, kind, ns, name = resource_key(doc)
        res = sim.store.registry.by_kind(doc.get("apiVersion", ""), doc.get("kind", ""))
        result = {
            "group": group,
            "version": str(doc.get("apiVersion", "")).rpartition("/")[2],
            "kind": kind,
            "namespace": ns,
            "name": name,
            "hookPhase": "Running",
            "syncPhase": "Sync",
        }
        if res is None:
            message = self._missing_kind(doc)
            op.results.append({**result, "status": "SyncFailed", "message": message})
            return message
        try:
            sim.store.apply(res, ns, name, argohealth.normalized(doc), manager=CONTROLLER)
        except ApiError as exc:
            op.results.append({**result, "status": "SyncFailed", "message": exc.message})
            return exc.message
        op.results.append(
            {**result, "status": "Synced", "message": f"{res.qualified}/{name} serverside-applied"}
        )
        return ""

    def _fail(self, app: Obj, state: AppState, message: str) -> None:
        sim, op = self.sim, state.op
        assert op is not None
        retry = (((app.get("spec") or {}).get("syncPolicy") or {}).get("retry")) or {}
        limit = int(retry.get("limit", 0))
        state.op = None
        if state.retries < limit:
            state.retries += 1
            delay = sim.lat("argo_retry") * (2 ** (state.retries - 1))
            state.retry_at = time.monotonic() + delay
            when = time.strftime("%Y-%m-%d %H:%M:%S +0000 UTC", time.gmtime(time.time() + delay))
            state.last_op = self._op_state(
                app, state, "Running", f"{message}. Retrying attempt #{state.retries} at {when}.", op=op
            )
        else:
            state.synced = tuple(op.revisions)
            state.last_op = self._op_state(
                app, state, "Failed", f"{message} (retried {state.retries} times).", op=op, finished=True
            )
            state.retries = 0
        sim.event(
            app,
            "OperationCompleted",
            f"Sync operation to {op.revisions[0]} failed: {message}",
            type_="Warning",
            component="argocd-application-controller",
        )

    def _prune(self, app: Obj, target: list[Obj]) -> None:
        """With prune on, delete what this app tracks but no longer targets."""
        automated = ((app.get("spec") or {}).get("syncPolicy") or {}).get("automated") or {}
        if not automated.get("prune"):
            return
        wanted = {resource_key(d) for d in target}
        prefix = f"{app['metadata']['name']}:"
        store = self.sim.store
        for res in store.registry.all():
            if res.kind in ("Event", "Pod", "ReplicaSet"):
                continue
            for obj in store.list(res)[0]:
                tracking = (obj["metadata"].get("annotations") or {}).get(TRACKING, "")
                if tracking.startswith(prefix) and resource_key(obj) not in wanted:
                    self.sim.delete(obj)

    def _op_state(
        self,
        app: Obj,
        state: AppState,
        phase: str,
        message: str,
        *,
        op: Operation | None = None,
        finished: bool = False,
    ) -> dict[str, Any]:
        op = op or state.op
        assert op is not None
        single = len(op.revisions) == 1
        out: dict[str, Any] = {
            "operation": {
                "sync": {
                    ("revision" if single else "revisions"): op.revisions[0] if single else op.revisions,
                    "syncStrategy": {"hook": {}},
                },
                "initiatedBy": {"automated": True},
                "retry": ((app.get("spec") or {}).get("syncPolicy") or {}).get("retry") or {},
            },
            "phase": phase,
            "message": message,
            "startedAt": op.started,
            "retryCount": state.retries,
            "syncResult": {
                "resources": op.results,
                ("revision" if single else "revisions"): op.revisions[0] if single else op.revisions,
            },
        }
        if finished:
            out["finishedAt"] = now_rfc3339()
        return out
