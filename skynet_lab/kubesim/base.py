"""Shared pieces of the lab's cluster simulation: latencies, timers, object helpers and Kubernetes Events."""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import time
from collections.abc import Callable
from typing import Any

from skynet_lab.kubesim.resources import Resource
from skynet_lab.kubesim.store import ApiError, Obj, Store, now_rfc3339

SIMULATED = "skynet.dev/simulated"
MANAGER = "skynet-lab"
TRACKING = "argocd.argoproj.io/tracking-id"
MAX_EVENTS = 3000
REPEAT_EVERY = 10.0  # seconds between count bumps of a repeated Event

# Seconds per simulated transition when lab.json's "latency" does not say otherwise (watchable in the demo).
DEFAULT_LATENCY: dict[str, float] = {
    "pod_start": 1.5,  # ContainerCreating -> Running
    "lb_assign": 0.5,  # MetalLB hands out an address
    "cert_issue": 3.0,  # cert-manager issues a certificate / registers an ACME account
    "progress_deadline": 6.0,  # a crashing Deployment turns Degraded
    "argo_reconcile": 1.0,  # Argo CD compares a new/changed Application
    "argo_sync": 1.0,  # one sync operation (per wave)
    "argo_wave": 2.0,  # pause between sync waves (ARGOCD_SYNC_WAVE_DELAY)
    "argo_retry": 3.0,  # first retry backoff of a failed sync
    "argo_refresh": 3.0,  # how often Argo CD polls the repository
}

_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # Kubernetes' safe-encoding alphabet for generated names


def suffix(length: int = 5) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def stable_hash(text: str, length: int = 10) -> str:
    digest = int(hashlib.sha256(text.encode()).hexdigest(), 16)
    out = []
    for _ in range(length):
        digest, idx = divmod(digest, len(_ALPHABET))
        out.append(_ALPHABET[idx])
    return "".join(out)


class Timers:
    """Time since a keyed condition was first seen; forgetting a key restarts its clock."""

    def __init__(self) -> None:
        self._since: dict[Any, float] = {}

    def elapsed(self, key: Any) -> float:
        return time.monotonic() - self._since.setdefault(key, time.monotonic())

    def due(self, key: Any, delay: float) -> bool:
        return self.elapsed(key) >= delay

    def forget(self, key: Any) -> None:
        self._since.pop(key, None)

    def forget_prefix(self, prefix: tuple) -> None:
        for key in [k for k in self._since if isinstance(k, tuple) and k[: len(prefix)] == prefix]:
            del self._since[key]


class Sim:
    """What every simulation step gets: the store, the lab's latencies and faults, timers and event helpers."""

    def __init__(self, store: Store):
        self.store = store
        self.timers = Timers()
        self.latency: dict[str, float] = dict(DEFAULT_LATENCY)
        self.faults: dict[str, Any] = {}
        self._event_names: dict[tuple, tuple[str, float]] = {}

    def lat(self, name: str) -> float:
        return float(self.latency.get(name, DEFAULT_LATENCY.get(name, 0.0)))

    def res(self, group: str, plural: str) -> Resource | None:
        return self.store.registry.by_key(group, plural)

    def core(self, plural: str) -> Resource:
        res = self.store.registry.by_key("", plural) or self.store.registry.by_key("apps", plural)
        assert res is not None, plural
        return res

    def items(self, group: str, plural: str, namespace: str | None = None, labels: str = "") -> list[Obj]:
        res = self.res(group, plural)
        return self.store.list(res, namespace, labels)[0] if res is not None else []

    def ensure(self, obj: Obj, *, manager: str = MANAGER) -> Obj | None:
        """Create `obj` if missing (status included); None when its kind or namespace does not exist (yet)."""
        api_version, kind = obj["apiVersion"], obj["kind"]
        res = self.store.registry.by_kind(api_version, kind)
        if res is None:
            return None
        meta = obj["metadata"]
        found = self.store.find(res, meta.get("namespace", ""), meta["name"])
        if found is not None:
            return found
        try:
            return self.store.create(res, meta.get("namespace", ""), obj, manager=manager, internal=True)
        except ApiError:
            return None

    def mutate(self, obj: Obj, fn: Callable[[Obj], None]) -> Obj | None:
        res = self.store.registry.by_kind(obj["apiVersion"], obj["kind"])
        if res is None:
            return None
        meta = obj["metadata"]
        return self.store.mutate(res, meta.get("namespace", ""), meta["name"], fn, manager=MANAGER)

    def delete(self, obj: Obj) -> None:
        res = self.store.registry.by_kind(obj["apiVersion"], obj["kind"])
        if res is not None:
            with contextlib.suppress(ApiError):
                self.store.delete(res, obj["metadata"].get("namespace", ""), obj["metadata"]["name"])

    def event(
        self, obj: Obj, reason: str, message: str, *, type_: str = "Normal", component: str = ""
    ) -> None:
        """Record a core/v1 Event about `obj`; a repeat bumps `count` and `lastTimestamp` as the API does."""
        meta = obj["metadata"]
        namespace = meta.get("namespace") or "default"
        key = (meta.get("uid"), reason, message)
        res = self.core("events")
        now = now_rfc3339()
        seen = self._event_names.get(key)
        if seen is not None:
            name, last = seen
            if time.monotonic() - last < REPEAT_EVERY:
                return  # repeats are aggregated, as the kubelet and controllers do
            bumped = self.store.mutate(
                res, namespace, name, lambda e: e.update(count=e.get("count", 1) + 1, lastTimestamp=now)
            )
            if bumped is not None:
                self._event_names[key] = (name, time.monotonic())
                return
        name = f"{meta['name']}.{secrets.token_hex(8)}"
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": {
                "apiVersion": obj.get("apiVersion"),
                "kind": obj.get("kind"),
                "name": meta["name"],
                **({"namespace": meta["namespace"]} if meta.get("namespace") else {}),
                "uid": meta.get("uid"),
                "resourceVersion": meta.get("resourceVersion"),
            },
            "reason": reason,
            "message": message,
            "type": type_,
            "count": 1,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "source": {"component": component or "skynet-lab"},
            "reportingComponent": component or "skynet-lab",
            "reportingInstance": "",
        }
        try:
            self.store.create(res, namespace, event, internal=True)
        except ApiError:
            return
        self._event_names[key] = (name, time.monotonic())
        if len(self._event_names) > MAX_EVENTS:
            oldest = next(iter(self._event_names))
            old_name = self._event_names.pop(oldest)[0]
            for ev in self.store.list(res, None, fields=f"metadata.name={old_name}")[0]:
                self.delete(ev)


def labels_of(obj: Obj) -> dict[str, str]:
    return obj["metadata"].get("labels") or {}


def condition(obj: Obj, kind: str) -> dict[str, Any]:
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") == kind), {})


def set_condition(
    conditions: list[dict[str, Any]], kind: str, status: str, reason: str = "", message: str = ""
) -> list[dict[str, Any]]:
    """`conditions` with `kind` set in place; lastTransitionTime changes only when the status does."""
    old = next((c for c in conditions if c.get("type") == kind), None)
    kept = old.get("lastTransitionTime") if old is not None and old.get("status") == status else None
    entry: dict[str, Any] = {"type": kind, "status": status, "lastTransitionTime": kept or now_rfc3339()}
    if reason:
        entry["reason"] = reason
    if message:
        entry["message"] = message
    if old is None:
        return [*conditions, entry]
    return [entry if c is old else c for c in conditions]
