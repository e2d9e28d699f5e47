"""One-off reads for the drill-downs (a node's pods, an object's events, a pod's log), Argo CD's sync now, and
the live check that tells a finished install from an unfinished one. Blocking: call them from a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from skynet_tui.status.client import ApiStatusError, KubeClient, Unreachable
from skynet_tui.status.project import parse_time, pod_status

LOG_LINES = 200
SYNC_USER = "skynet-console"
APPS = "/apis/argoproj.io/v1alpha1"


class Reader(Protocol):
    def get_json(self, path: str, query: Any = (), timeout: Any = ...) -> dict[str, Any]: ...

    def get_text(self, path: str, query: Any = (), timeout: Any = ...) -> str: ...

    def patch(self, path: str, body: dict[str, Any], content_type: str = ...) -> dict[str, Any]: ...


@dataclass(frozen=True)
class PodLine:
    namespace: str
    name: str
    status: str
    ready: str
    restarts: int
    created: datetime | None


@dataclass(frozen=True)
class EventLine:
    type: str
    reason: str
    message: str
    count: int
    last_seen: datetime | None
    object: str  # Kind/name


def _all(client: Reader, path: str, query: list[tuple[str, str]]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    token = ""
    while True:
        page = client.get_json(path, [*query, ("limit", "500"), *([("continue", token)] if token else [])])
        items += page.get("items") or []
        token = (page.get("metadata") or {}).get("continue") or ""
        if not token:
            return items


def pods_on_node(client: Reader, node: str) -> tuple[PodLine, ...]:
    """Every pod scheduled on a node (a fieldSelector on spec.nodeName, paged), with kubectl's status words."""
    out = []
    for pod in _all(client, "/api/v1/pods", [("fieldSelector", f"spec.nodeName={node}")]):
        meta = pod.get("metadata") or {}
        computed = pod_status(pod)
        out.append(
            PodLine(
                meta.get("namespace", ""),
                meta.get("name", ""),
                computed.status,
                f"{computed.ready}/{computed.total}",
                computed.restarts,
                parse_time(meta.get("creationTimestamp")),
            )
        )
    return tuple(sorted(out, key=lambda p: (p.namespace, p.name)))


def events_for(client: Reader, namespace: str, kind: str, name: str) -> tuple[EventLine, ...]:
    """Every event about one object, newest first."""
    fields = f"involvedObject.kind={kind},involvedObject.name={name}"
    path = f"/api/v1/namespaces/{quote(namespace)}/events" if namespace else "/api/v1/events"
    out = []
    for ev in _all(client, path, [("fieldSelector", fields)]):
        involved = ev.get("involvedObject") or {}
        seen = (
            parse_time(ev.get("lastTimestamp"))
            or parse_time(ev.get("eventTime"))
            or parse_time(ev.get("firstTimestamp"))
        )
        out.append(
            EventLine(
                ev.get("type", ""),
                ev.get("reason", ""),
                ev.get("message", ""),
                int(ev.get("count") or 1),
                seen,
                f"{involved.get('kind', '')}/{involved.get('name', '')}",
            )
        )
    floor = datetime.min
    return tuple(
        sorted(out, key=lambda e: e.last_seen.replace(tzinfo=None) if e.last_seen else floor, reverse=True)
    )


def pod_logs(
    client: Reader, namespace: str, name: str, container: str = "", tail: int = LOG_LINES
) -> tuple[list[str], str]:
    """The last `tail` lines of a container's log, and a note (which run they are from, or why there are none).

    A container waiting to restart has no current log: its previous run's is read instead.
    """
    path = f"/api/v1/namespaces/{quote(namespace)}/pods/{quote(name)}/log"
    query = [("tailLines", str(tail))] + ([("container", container)] if container else [])
    try:
        return client.get_text(path, query).splitlines()[-tail:], ""
    except ApiStatusError as exc:
        if exc.code != 400:
            raise
        first = exc.message
    try:
        lines = client.get_text(path, [*query, ("previous", "true")]).splitlines()[-tail:]
        return lines, f"the previous run's log ({first})"
    except ApiStatusError:
        return [], first


class SyncRefused(Exception):
    """Sync now was not sent: an operation is in progress, or the Application changed meanwhile."""


def sync_now(client: Reader, namespace: str, name: str, *, user: str = SYNC_USER) -> str:
    """Ask Argo CD to sync an Application the way its API server does (platform-day2 §4.1): read it, refuse while
    an operation is set or running, then merge-patch `operation` with its resourceVersion as a precondition."""
    path = f"{APPS}/namespaces/{quote(namespace)}/applications/{quote(name)}"
    app = client.get_json(path)
    phase = ((app.get("status") or {}).get("operationState") or {}).get("phase")
    if app.get("operation") or phase in ("Running", "Terminating"):
        raise SyncRefused(f"another operation is already in progress on {name}")
    version = (app.get("metadata") or {}).get("resourceVersion", "")
    body = {
        "metadata": {"resourceVersion": version},
        "operation": {"initiatedBy": {"username": user}, "sync": {"syncStrategy": {"hook": {}}}},
    }
    try:
        client.patch(path, body)
    except ApiStatusError as exc:
        if exc.code == 409:
            raise SyncRefused(f"{name} changed meanwhile; look again and retry") from None
        raise
    return f"sync of {name} requested"


def live_check(kubeconfig: Path, timeout: float = 5.0) -> tuple[bool, str]:
    """Is this cluster up: the API answers and lists at least one node? (ok, why not)."""
    try:
        client = KubeClient(kubeconfig, pool_size=1)
    except ValueError as exc:
        return False, str(exc)
    try:
        nodes = client.get_json("/api/v1/nodes", [("limit", "1")], timeout=(timeout, timeout))
    except (Unreachable, ApiStatusError) as exc:
        return False, str(exc)
    finally:
        client.close()
    if not nodes.get("items"):
        return False, "the API answers but lists no node"
    return True, ""
