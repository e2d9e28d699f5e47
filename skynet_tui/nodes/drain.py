"""Cordon and drain a node through the Kubernetes API, as `kubectl drain` does: every pod but DaemonSet and
mirror (static) pods is evicted through the eviction API, so PodDisruptionBudgets are respected; a pod whose
budget refuses is tried again until the timeout, which then names every pod still blocked and why.

A pod evicted from a node that is not Ready stays Terminating (no kubelet confirms it): it counts as gone, and
deleting the Node lets the API's garbage collector remove it. Blocking: run it in a step (a worker thread).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

MIRROR = "kubernetes.io/config.mirror"


class Api(Protocol):
    def get_json(self, path: str, query: Any = (), timeout: Any = ...) -> dict[str, Any]: ...

    def send(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> tuple[int, dict[str, Any]]: ...


class DrainError(RuntimeError):
    """The drain did not finish: the message names the pods still on the node and what holds them."""


@dataclass(frozen=True)
class Blocked:
    pod: str  # namespace/name
    why: str


def node_path(name: str) -> str:
    return f"/api/v1/nodes/{quote(name, safe='')}"


def cordon(api: Api, name: str) -> bool:
    """Mark the node unschedulable; False when there is no such Node (nothing to cordon)."""
    code, body = api.send("PATCH", node_path(name), {"spec": {"unschedulable": True}})
    if code == 404:
        return False
    if code >= 300:
        raise DrainError(f"cordon {name}: {body.get('message') or f'HTTP {code}'}")
    return True


def _evictable(pod: dict[str, Any]) -> bool:
    meta = pod.get("metadata") or {}
    if (
        MIRROR in (meta.get("annotations") or {})
        or (meta.get("annotations") or {}).get("kubernetes.io/config.source") == "file"
    ):
        return False
    return not any(ref.get("kind") == "DaemonSet" for ref in meta.get("ownerReferences") or [])


def pods_on(api: Api, name: str) -> list[dict[str, Any]]:
    """The pods a drain must move off the node (not DaemonSet or mirror pods)."""
    body = api.get_json("/api/v1/pods", [("fieldSelector", f"spec.nodeName={name}")])
    return [p for p in body.get("items") or [] if _evictable(p)]


def _key(pod: dict[str, Any]) -> str:
    meta = pod.get("metadata") or {}
    return f"{meta.get('namespace', '')}/{meta.get('name', '')}"


def evict(api: Api, pod: dict[str, Any]) -> str:
    """Ask the eviction API for one pod: "" once it goes (or is gone), else why it may not (the budget's words)."""
    meta = pod.get("metadata") or {}
    ns, name = meta.get("namespace", ""), meta.get("name", "")
    path = f"/api/v1/namespaces/{quote(ns, safe='')}/pods/{quote(name, safe='')}/eviction"
    body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name, "namespace": ns}}
    code, answer = api.send("POST", path, body)
    if code < 300 or code == 404:
        return ""
    causes = [
        str(c.get("message")) for c in (answer.get("details") or {}).get("causes") or [] if c.get("message")
    ]
    return "; ".join([str(answer.get("message") or f"HTTP {code}"), *causes])


def _node_ready(api: Api, name: str) -> bool:
    code, node = api.send("GET", node_path(name))
    if code >= 300:
        return False
    conditions = (node.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def drain(
    api: Api,
    name: str,
    *,
    timeout: float,
    interval: float,
    sleep: Callable[[float], None],
    say: Callable[[str], None],
) -> int:
    """Evict every pod of the node until none is left; the number evicted. DrainError after `timeout` seconds,
    naming the pods a PodDisruptionBudget (or anything else) still holds."""
    until = time.monotonic() + timeout
    evicted: set[str] = set()
    blocked: dict[str, Blocked] = {}
    while True:
        ready = _node_ready(api, name)
        left = [
            p for p in pods_on(api, name) if ready or not (p.get("metadata") or {}).get("deletionTimestamp")
        ]
        if not left:
            return len(evicted)
        for pod in left:
            key = _key(pod)
            if (pod.get("metadata") or {}).get("deletionTimestamp"):
                continue  # evicted, terminating: wait for it
            why = evict(api, pod)
            if why:
                if key not in blocked or blocked[key].why != why:
                    say(f"{key}: {why}")
                blocked[key] = Blocked(key, why)
                continue
            blocked.pop(key, None)
            if key not in evicted:
                evicted.add(key)
                say(f"evicted {key}")
        if time.monotonic() >= until:
            held = [b for b in blocked.values() if b.pod in {_key(p) for p in left}]
            names = "; ".join(f"{b.pod} ({b.why})" for b in held) or ", ".join(_key(p) for p in left)
            raise DrainError(f"{name} still runs {len(left)} pod(s) after {timeout:.0f}s: {names}")
        sleep(interval)
