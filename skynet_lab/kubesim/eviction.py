"""The eviction subresource of the simulated API (`POST …/pods/<name>/eviction`), with PodDisruptionBudgets.

As the API server does it (kubernetes/pkg/registry/core/pod/storage/eviction.go): a pod matched by one budget is
deleted only while the budget allows a disruption, else 429 TooManyRequests with the budget named in the causes;
a pod matched by two budgets is a 500; a pod that is not Ready may always go (it counts for nothing). The lab's
disruption controller is this computation, done at the moment of the eviction: healthy (Ready) pods the budget
selects against minAvailable or maxUnavailable of the pods it selects.
"""

from __future__ import annotations

import math
from typing import Any

from skynet_lab.kubesim.patches import match_labels
from skynet_lab.kubesim.store import ApiError, Obj, Store

VIOLATION = "Cannot evict pod as it would violate the pod's disruption budget."
MULTIPLE = "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."
SUCCESS: Obj = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}


def _requirements(selector: dict[str, Any]) -> list[tuple[str, str, tuple[str, ...]]] | None:
    """A LabelSelector as match requirements; None for an empty selector (it selects nothing in policy/v1
    for this purpose: a budget without a selector protects no pod)."""
    reqs: list[tuple[str, str, tuple[str, ...]]] = [
        (str(k), "=", (str(v),)) for k, v in (selector.get("matchLabels") or {}).items()
    ]
    ops = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
    for expr in selector.get("matchExpressions") or []:
        op = ops.get(str(expr.get("operator")))
        if op is not None:
            reqs.append((str(expr.get("key")), op, tuple(str(v) for v in expr.get("values") or [])))
    return reqs or None


def _ready(pod: Obj) -> bool:
    if pod["metadata"].get("deletionTimestamp"):
        return False
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _scaled(value: Any, total: int) -> int:
    """An IntOrString of a budget: a number, or a percentage of `total` rounded up."""
    text = str(value)
    if text.endswith("%"):
        return math.ceil(total * int(text[:-1]) / 100)
    return int(text)


def budget_check(budget: Obj, selected: list[Obj]) -> tuple[int, int]:
    """(healthy pods needed, healthy pods now) for a budget over the pods it selects."""
    spec = budget.get("spec") or {}
    expected = len(selected)
    healthy = sum(1 for p in selected if _ready(p))
    if spec.get("minAvailable") is not None:
        return _scaled(spec["minAvailable"], expected), healthy
    unavailable = _scaled(spec.get("maxUnavailable", 0), expected)
    return max(0, expected - unavailable), healthy


def evict(store: Store, namespace: str, name: str) -> Obj:
    """Evict one pod: delete it when its budget allows, else raise the API server's error."""
    pods = store.registry.by_key("", "pods")
    budgets = store.registry.by_key("policy", "poddisruptionbudgets")
    assert pods is not None and budgets is not None
    pod = store.get(pods, namespace, name)
    labels = pod["metadata"].get("labels") or {}
    matching = []
    for budget in store.list(budgets, namespace)[0]:
        reqs = _requirements((budget.get("spec") or {}).get("selector") or {})
        if reqs is not None and match_labels(reqs, labels):
            matching.append((budget, reqs))
    if len(matching) > 1:
        raise ApiError(500, "InternalError", MULTIPLE)
    if matching and _ready(pod):
        budget, reqs = matching[0]
        selected = [
            p for p in store.list(pods, namespace)[0] if match_labels(reqs, p["metadata"].get("labels") or {})
        ]
        needed, healthy = budget_check(budget, selected)
        if healthy - needed < 1:
            error = ApiError(429, "TooManyRequests", VIOLATION)
            error.details["causes"] = [
                {
                    "reason": "DisruptionBudget",
                    "message": f"The disruption budget {budget['metadata']['name']} needs {needed} healthy pods "
                    f"and has {healthy} currently",
                }
            ]
            raise error
    store.delete(pods, namespace, name)
    return dict(SUCCESS)
