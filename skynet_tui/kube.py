"""Small Kubernetes client helpers: an ApiClient from a kubeconfig, raw-dict reads, rollout and Application state."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REQUEST_TIMEOUT = 10.0


class KubeError(RuntimeError):
    """The API could not be read (unreachable, unauthorised, not found); the message is safe to show."""

    def __init__(self, message: str, status: int | None = None):
        self.status = status
        super().__init__(message)


def client(kubeconfig: Path) -> Any:
    """An ApiClient for this kubeconfig only (never ~/.kube/config)."""
    from kubernetes import config  # ~0.3 s to import: only steps that talk to the API pay it, on first use

    try:
        return config.new_client_from_config(config_file=str(kubeconfig))
    except Exception as exc:  # missing file, bad YAML: say which file, not its contents
        raise KubeError(f"cannot use kubeconfig {kubeconfig}: {type(exc).__name__}") from None


def get(api: Any, path: str, **query: Any) -> dict[str, Any]:
    """GET an API path and return the JSON body as a dict; KubeError on any failure."""
    params = [(key, value) for key, value in query.items() if value is not None]
    try:
        request = api.param_serialize(
            method="GET",
            resource_path=path,
            query_params=params,
            header_params={"Accept": "application/json"},
            auth_settings=["BearerToken"],
        )
        response = api.call_api(*request, _request_timeout=REQUEST_TIMEOUT)
        body = response.read()
    except Exception as exc:  # urllib3 errors name the host: fine; they never carry credentials
        raise KubeError(f"Kubernetes API not reachable ({type(exc).__name__}: {_short(exc)})") from None
    if response.status == 404:
        raise KubeError(f"{path} not found", 404)
    if response.status >= 300:
        raise KubeError(f"GET {path} answered {response.status}", response.status)
    try:
        return json.loads(body)
    except ValueError:
        raise KubeError(f"GET {path} answered with something that is not JSON") from None


def items(
    api: Any, group: str, version: str, plural: str, namespace: str | None = None
) -> list[dict[str, Any]]:
    """List objects of a kind as raw dicts (`group` "" for the core API)."""
    base = f"/api/{version}" if not group else f"/apis/{group}/{version}"
    path = f"{base}/namespaces/{namespace}/{plural}" if namespace else f"{base}/{plural}"
    return list(get(api, path).get("items") or [])


def rollout_pending(obj: dict[str, Any]) -> str | None:
    """Why a Deployment/StatefulSet/DaemonSet rollout is not complete, or None when it is."""
    kind = obj.get("kind", "")
    name = obj.get("metadata", {}).get("name", "?")
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    if status.get("observedGeneration", 0) < obj.get("metadata", {}).get("generation", 0):
        return f"{name}: waiting for the controller to observe the change"
    if kind == "DaemonSet":
        want, ready = status.get("desiredNumberScheduled", 0), status.get("numberReady", 0)
        updated = status.get("updatedNumberScheduled", 0)
    else:
        want = spec.get("replicas", 1)
        ready, updated = status.get("readyReplicas", 0), status.get("updatedReplicas", 0)
    if ready < want or updated < want:
        return f"{name}: {min(ready, updated)}/{want} ready"
    return None


def app_state(app: dict[str, Any]) -> tuple[str, str, str]:
    """An Argo CD Application's (sync status, health status, message)."""
    status = app.get("status") or {}
    sync = (status.get("sync") or {}).get("status") or "Unknown"
    health = status.get("health") or {}
    message = health.get("message") or (status.get("operationState") or {}).get("message") or ""
    for condition in status.get("conditions") or []:
        message = message or condition.get("message", "")
    return sync, health.get("status") or "Unknown", message


def _short(exc: Exception, limit: int = 160) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return text[:limit]
