"""The aggregation layer of the simulated API server, and the resource metrics API metrics-server would serve.

An APIService turns Available once the Service it names has a ready pod behind it (kube-aggregator's
availability check), or at once when it is local. While `v1beta1.metrics.k8s.io` is registered, the mock API lists
the metrics.k8s.io group; once it is Available it serves NodeMetrics and PodMetrics (metrics.k8s.io/v1beta1, the
version kubectl 1.36 reads, shapes of kubernetes/metrics pkg/apis/metrics/v1beta1/types.go). Usage is
simulated: steady per object, CPU in nanocores and memory in Ki as metrics-server writes them.
"""

from __future__ import annotations

import hashlib
from typing import Any, Final

from skynet_lab.kubesim.base import Sim, condition, set_condition
from skynet_lab.kubesim.pods import pod_ready
from skynet_lab.kubesim.store import ApiError, Obj, Store, now_rfc3339

GROUP: Final = "metrics.k8s.io"
VERSION: Final = "v1beta1"
API_SERVICE: Final = f"{VERSION}.{GROUP}"
WINDOW: Final = "15s"  # metrics-server's --metric-resolution in the chart's default args


# -- the aggregation layer -------------------------------------------------------------------------------------
def _backed(sim: Sim, ref: dict[str, Any]) -> bool:
    """A ready pod selected by the Service `ref` names (namespace, name)."""
    res = sim.res("", "services")
    service = sim.store.find(res, ref.get("namespace", ""), ref.get("name", "")) if res else None
    if service is None:
        return False
    wanted = (service.get("spec") or {}).get("selector") or {}
    return bool(wanted) and any(
        pod_ready(pod) and all((pod["metadata"].get("labels") or {}).get(k) == v for k, v in wanted.items())
        for pod in sim.items("", "pods", ref.get("namespace", ""))
    )


def step_api_services(sim: Sim) -> None:
    """Set each APIService's Available condition as kube-aggregator does."""
    for api in sim.items("apiregistration.k8s.io", "apiservices"):
        ref = (api.get("spec") or {}).get("service")
        if not ref:
            status, reason, message = "True", "Local", "Local APIServices are always available"
        elif _backed(sim, ref):
            status, reason, message = "True", "Passed", "all checks passed"
        else:
            status, reason = "False", "MissingEndpoints"
            message = f'endpoints for service/{ref.get("name")} in "{ref.get("namespace")}" have no addresses'
        if condition(api, "Available").get("status") == status:
            continue

        def update(obj: Obj, status: str = status, reason: str = reason, message: str = message) -> None:
            st = obj.setdefault("status", {})
            st["conditions"] = set_condition(st.get("conditions") or [], "Available", status, reason, message)

        sim.mutate(api, update)


def _api_service(store: Store) -> Obj | None:
    res = store.registry.by_key("apiregistration.k8s.io", "apiservices")
    return store.find(res, "", API_SERVICE) if res is not None else None


def registered(store: Store) -> bool:
    return _api_service(store) is not None


# -- discovery -----------------------------------------------------------------------------------------------
def group_doc() -> dict[str, Any]:
    entry = {"groupVersion": f"{GROUP}/{VERSION}", "version": VERSION}
    return {
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": GROUP,
        "versions": [entry],
        "preferredVersion": entry,
    }


def resource_list() -> dict[str, Any]:
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{GROUP}/{VERSION}",
        "resources": [
            {"name": "nodes", "singularName": "", "namespaced": False, "kind": "NodeMetrics", "verbs": ["get", "list"]},
            {"name": "pods", "singularName": "", "namespaced": True, "kind": "PodMetrics", "verbs": ["get", "list"]},
        ],
    }  # fmt: skip


# -- the metrics ---------------------------------------------------------------------------------------------
def _spread(key: str, low: int, high: int) -> int:
    """A steady value in [low, high) for `key`."""
    digest = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16)
    return low + digest % (high - low)


def _metrics_meta(obj: Obj) -> dict[str, Any]:
    meta = obj["metadata"]
    out: dict[str, Any] = {"name": meta["name"], "creationTimestamp": now_rfc3339()}
    if meta.get("namespace"):
        out["namespace"] = meta["namespace"]
    if meta.get("labels"):
        out["labels"] = dict(meta["labels"])
    return out


def node_metrics(node: Obj) -> Obj:
    name = node["metadata"]["name"]
    return {
        "kind": "NodeMetrics",
        "apiVersion": f"{GROUP}/{VERSION}",
        "metadata": _metrics_meta(node),
        "timestamp": now_rfc3339(),
        "window": WINDOW,
        "usage": {
            "cpu": f"{_spread('cpu/' + name, 150, 900) * 1_000_000}n",
            "memory": f"{_spread('mem/' + name, 900_000, 3_500_000)}Ki",
        },
    }


def pod_metrics(pod: Obj) -> Obj:
    uid = pod["metadata"].get("uid") or pod["metadata"]["name"]
    containers = [c.get("name", "") for c in (pod.get("spec") or {}).get("containers") or []]
    return {
        "kind": "PodMetrics",
        "apiVersion": f"{GROUP}/{VERSION}",
        "metadata": _metrics_meta(pod),
        "timestamp": now_rfc3339(),
        "window": WINDOW,
        "containers": [
            {
                "name": name,
                "usage": {
                    "cpu": f"{_spread(f'cpu/{uid}/{name}', 1, 120) * 1_000_000 + _spread(uid, 0, 999_999)}n",
                    "memory": f"{_spread(f'mem/{uid}/{name}', 8_000, 300_000)}Ki",
                },
            }
            for name in containers
        ],
    }


def serve(store: Store, namespace: str | None, plural: str, name: str, labels: str, fields: str) -> Obj:
    """A NodeMetrics/PodMetrics object or list, as GET /apis/metrics.k8s.io/v1beta1/… answers; raises ApiError."""
    api = _api_service(store)
    if api is None or plural not in ("nodes", "pods") or (plural == "nodes" and namespace):
        raise ApiError(404, "NotFound", "the server could not find the requested resource")
    if condition(api, "Available").get("status") != "True":
        raise ApiError(503, "ServiceUnavailable", "the server is currently unable to handle the request")
    res = store.registry.by_key("", plural)
    assert res is not None
    objects, _ = store.list(res, namespace, labels, fields)
    if plural == "pods":
        objects = [p for p in objects if (p.get("status") or {}).get("phase") == "Running"]
    build = node_metrics if plural == "nodes" else pod_metrics
    kind = "NodeMetrics" if plural == "nodes" else "PodMetrics"
    if name:
        found = next((o for o in objects if o["metadata"]["name"] == name), None)
        if found is None:
            raise ApiError(404, "NotFound", f'{plural}.{GROUP} "{name}" not found', name=name, kind=plural)
        return build(found)
    items = [build(o) for o in objects]
    return {"kind": f"{kind}List", "apiVersion": f"{GROUP}/{VERSION}", "metadata": {}, "items": items}
