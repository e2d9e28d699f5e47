"""Argo CD's built-in resource health checks and its live-vs-target comparison, as the lab's Argo CD uses them."""

from __future__ import annotations

import base64
from typing import Any

from skynet_lab.kubesim.base import condition

Obj = dict[str, Any]
# Argo CD's health order: a later entry is worse (gitops-engine health.IsWorse).
ORDER = ["Healthy", "Suspended", "Progressing", "Missing", "Degraded", "Unknown"]
APP_HEALTH_KEY = "resource.customizations.health.argoproj.io_Application"


def worst(statuses: list[str]) -> str:
    return max(statuses, key=ORDER.index, default="Healthy")


def _st(obj: Obj) -> dict[str, Any]:
    return obj.get("status") or {}


def health(live: Obj | None, *, app_health_lua: bool) -> tuple[str, str] | None:
    """(status, message) of one live resource, None when Argo CD has no health check for its kind."""
    if live is None:
        return ("Missing", "")
    kind = live.get("kind")
    group = str(live.get("apiVersion", "")).rpartition("/")[0]
    st, spec, meta = _st(live), live.get("spec") or {}, live["metadata"]
    name = meta["name"]
    if kind == "Deployment":
        progressing = condition(live, "Progressing")
        if progressing.get("reason") == "ProgressDeadlineExceeded":
            return ("Degraded", f'Deployment "{name}" exceeded its progress deadline')
        if st.get("observedGeneration", 0) < meta.get("generation", 1):
            return (
                "Progressing",
                "Waiting for rollout to finish: observed deployment generation less than desired generation",
            )
        want = spec.get("replicas", 1)
        updated, total, available = (
            st.get("updatedReplicas", 0),
            st.get("replicas", 0),
            st.get("availableReplicas", 0),
        )
        if updated < want:
            return (
                "Progressing",
                f"Waiting for rollout to finish: {updated} out of {want} new replicas have been updated...",
            )
        if total > updated:
            return (
                "Progressing",
                f"Waiting for rollout to finish: {total - updated} old replicas are pending termination...",
            )
        if available < updated:
            return (
                "Progressing",
                f"Waiting for rollout to finish: {available} of {updated} updated replicas are available...",
            )
        return ("Healthy", "")
    if kind == "StatefulSet":
        if st.get("observedGeneration", 0) < meta.get("generation", 1):
            return ("Progressing", "Waiting for statefulset spec update to be observed...")
        want, ready = spec.get("replicas", 1), st.get("readyReplicas", 0)
        if ready < want:
            return ("Progressing", f"Waiting for {want - ready} pods to be ready...")
        if st.get("updatedReplicas", 0) < want:
            return (
                "Progressing",
                f"Waiting for partitioned roll out to finish: {st.get('updatedReplicas', 0)} out of {want} new pods have been updated...",
            )
        return ("Healthy", f"partitioned roll out complete: {want} new pods have been updated...")
    if kind == "DaemonSet":
        if st.get("observedGeneration", 0) < meta.get("generation", 1):
            return (
                "Progressing",
                "Waiting for rollout to finish: observed daemon set generation less than desired generation",
            )
        desired = st.get("desiredNumberScheduled", 0)
        if st.get("updatedNumberScheduled", 0) < desired:
            return (
                "Progressing",
                f'Waiting for daemon set "{name}" rollout to finish: {st.get("updatedNumberScheduled", 0)} out of {desired} new pods have been updated...',
            )
        if st.get("numberAvailable", 0) < desired:
            return (
                "Progressing",
                f'Waiting for daemon set "{name}" rollout to finish: {st.get("numberAvailable", 0)} of {desired} updated pods are available...',
            )
        return ("Healthy", "")
    if kind in ("Service", "Ingress") and group in ("", "networking.k8s.io"):
        if kind == "Service" and spec.get("type") != "LoadBalancer":
            return ("Healthy", "")
        return ("Healthy", "") if (st.get("loadBalancer") or {}).get("ingress") else ("Progressing", "")
    if kind == "PersistentVolumeClaim":
        phase = st.get("phase", "Pending")
        return {"Bound": ("Healthy", ""), "Lost": ("Degraded", "")}.get(phase, ("Progressing", ""))
    if group == "cert-manager.io" and kind == "Certificate":
        ready = condition(live, "Ready")
        if ready.get("status") == "True":
            return ("Healthy", ready.get("message", ""))
        if condition(live, "Issuing").get("status") == "True" or ready:
            return ("Progressing", ready.get("message") or "Issuing certificate")
        return ("Progressing", "Waiting for certificate")
    if group == "cert-manager.io" and kind in ("ClusterIssuer", "Issuer"):
        ready = condition(live, "Ready")
        if ready.get("status") == "True":
            return ("Healthy", ready.get("message", ""))
        if ready.get("status") == "False":
            return ("Degraded", ready.get("message", ""))
        return ("Progressing", f"Initializing {kind}")
    if group == "apiregistration.k8s.io" and kind == "APIService":
        # gitops-engine pkg/health/health_apiservice.go: the Available condition decides.
        available = condition(live, "Available")
        if not available:
            return ("Progressing", "Waiting to be processed")
        text = f"{available.get('reason', '')}: {available.get('message', '')}"
        return ("Healthy" if available.get("status") == "True" else "Progressing", text)
    if group == "argoproj.io" and kind == "Application":
        if not app_health_lua:
            return (
                None  # Application health was removed in Argo CD 1.8: without the Lua check waves do not wait
            )
        own = st.get("health") or {}
        return (own.get("status") or "Progressing", own.get("message", ""))
    return None


def normalized(desired: Obj) -> Obj:
    """What the API server stores for `desired` (Secret stringData folded into data)."""
    if desired.get("kind") == "Secret" and desired.get("stringData"):
        out = dict(desired)
        data = dict(out.get("data") or {})
        for key, value in out.pop("stringData").items():
            data[key] = base64.b64encode(str(value).encode()).decode()
        out["data"] = data
        return out
    return desired


def contained(desired: Any, live: Any) -> bool:
    """Every field of `desired` is in `live` with the same value (server-side defaults are ignored)."""
    if isinstance(desired, dict):
        if not isinstance(live, dict):
            return False
        return all(
            value is None or (key in live and contained(value, live[key])) for key, value in desired.items()
        )
    if isinstance(desired, list):
        return (
            isinstance(live, list)
            and len(desired) == len(live)
            and all(contained(d, v) for d, v in zip(desired, live, strict=True))
        )
    if isinstance(desired, bool) or isinstance(live, bool):
        return desired == live
    if isinstance(desired, int | float) and isinstance(live, int | float):
        return desired == live
    return desired == live or str(desired) == str(live)


def in_sync(desired: Obj, live: Obj | None) -> bool:
    if live is None:
        return False
    want = {k: v for k, v in normalized(desired).items() if k != "status"}
    return contained(want, live)
