"""Server-side `Table` rendering (meta.k8s.io/v1) for the mock API: the columns kubectl shows per kind."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from skynet_lab.kubesim.resources import Resource

Obj = dict[str, Any]


def human_duration(seconds: float) -> str:
    """k8s.io/apimachinery HumanDuration: 45s, 3m20s, 25m, 4h10m, 12h, 3d4h, 40d, 2y10d."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m" if s % 60 == 0 else f"{minutes}m{s % 60}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        return f"{hours}h" if minutes % 60 == 0 else f"{hours}h{minutes % 60}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d" if hours % 24 == 0 else f"{hours // 24}d{hours % 24}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        years, days = hours // (24 * 365), (hours // 24) % 365
        return f"{years}y" if days == 0 else f"{years}y{days}d"
    return f"{hours // (24 * 365)}y"


def age(timestamp: str | None) -> str:
    if not timestamp:
        return "<unknown>"
    try:
        then = dt.datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        return "<unknown>"
    return human_duration((dt.datetime.now(dt.UTC) - then).total_seconds())


_FILTER = re.compile(r"^\[\?\(@\.([A-Za-z0-9_]+)\s*==\s*[\"']([^\"']*)[\"']\)\]")


def json_path(obj: Any, path: str) -> Any:
    """The subset of JSONPath used by CRD printer columns: `.a.b`, `[0]`, `[?(@.type=="Ready")]`."""
    cur = obj
    rest = path.lstrip(".")
    while rest and cur is not None:
        if rest.startswith("["):
            m = _FILTER.match(rest)
            if m:
                cur = next((x for x in cur or [] if isinstance(x, dict) and str(x.get(m[1])) == m[2]), None)
                rest = rest[m.end() :]
            else:
                end = rest.index("]")
                idx = int(rest[1:end]) if rest[1:end].lstrip("-").isdigit() else 0
                cur = cur[idx] if isinstance(cur, list) and -len(cur) <= idx < len(cur) else None
                rest = rest[end + 1 :]
        else:
            m = re.match(r"^([^.\[]+)", rest)
            key = m.group(1) if m else rest
            cur = cur.get(key) if isinstance(cur, dict) else None
            rest = rest[len(key) :]
        rest = rest.lstrip(".")
    return cur


def _cond(obj: Obj, kind: str) -> dict:
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") == kind), {})


def _node_status(o: Obj) -> str:
    ready = _cond(o, "Ready").get("status")
    text = "Ready" if ready == "True" else "NotReady" if ready == "False" else "Unknown"
    return text + (",SchedulingDisabled" if (o.get("spec") or {}).get("unschedulable") else "")


def _roles(o: Obj) -> str:
    labels = o["metadata"].get("labels") or {}
    roles = sorted(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/"))
    return ",".join(roles) or "<none>"


def _address(o: Obj, kind: str) -> str:
    addrs = (o.get("status") or {}).get("addresses") or []
    return next((a["address"] for a in addrs if a.get("type") == kind), "<none>")


def _pod_status(o: Obj) -> str:
    status = o.get("status") or {}
    if o["metadata"].get("deletionTimestamp"):
        return "Terminating"
    for cs in status.get("containerStatuses") or []:
        waiting = (cs.get("state") or {}).get("waiting")
        if waiting and waiting.get("reason"):
            return waiting["reason"]
    return status.get("phase", "Pending")


def _pod_ready(o: Obj) -> str:
    containers = (o.get("spec") or {}).get("containers") or []
    statuses = (o.get("status") or {}).get("containerStatuses") or []
    return f"{sum(1 for c in statuses if c.get('ready'))}/{len(containers)}"


def _pod_restarts(o: Obj) -> int:
    return sum(c.get("restartCount", 0) for c in (o.get("status") or {}).get("containerStatuses") or [])


def _svc_external(o: Obj) -> str:
    spec = o.get("spec") or {}
    ips = [
        i.get("ip") or i.get("hostname")
        for i in ((o.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    ]
    if ips:
        return ",".join(ips)
    if spec.get("externalIPs"):
        return ",".join(spec["externalIPs"])
    return "<pending>" if spec.get("type") == "LoadBalancer" else "<none>"


def _svc_ports(o: Obj) -> str:
    ports = []
    for p in (o.get("spec") or {}).get("ports") or []:
        node = f":{p['nodePort']}" if p.get("nodePort") else ""
        ports.append(f"{p.get('port')}{node}/{p.get('protocol', 'TCP')}")
    return ",".join(ports) or "<none>"


def _replicas(o: Obj) -> str:
    return f"{(o.get('status') or {}).get('readyReplicas', 0)}/{(o.get('spec') or {}).get('replicas', 1)}"


def _st(o: Obj, key: str) -> int:
    return (o.get("status") or {}).get(key, 0)


def _event_object(o: Obj) -> str:
    inv = o.get("involvedObject") or {}
    return f"{(inv.get('kind') or '').lower()}/{inv.get('name', '')}"


Col = tuple[str, str, int, Callable[[Obj], Any]]  # name, type, priority, value
_AGE: Col = ("Age", "string", 0, lambda o: age(o["metadata"].get("creationTimestamp")))

COLUMNS: dict[str, list[Col]] = {
    "Node": [
        ("Status", "string", 0, _node_status),
        ("Roles", "string", 0, _roles),
        _AGE,
        (
            "Version",
            "string",
            0,
            lambda o: ((o.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion", ""),
        ),
        ("Internal-IP", "string", 1, lambda o: _address(o, "InternalIP")),
        ("External-IP", "string", 1, lambda o: _address(o, "ExternalIP")),
        (
            "OS-Image",
            "string",
            1,
            lambda o: ((o.get("status") or {}).get("nodeInfo") or {}).get("osImage", ""),
        ),
        (
            "Kernel-Version",
            "string",
            1,
            lambda o: ((o.get("status") or {}).get("nodeInfo") or {}).get("kernelVersion", ""),
        ),
        (
            "Container-Runtime",
            "string",
            1,
            lambda o: ((o.get("status") or {}).get("nodeInfo") or {}).get("containerRuntimeVersion", ""),
        ),
    ],
    "Pod": [
        ("Ready", "string", 0, _pod_ready),
        ("Status", "string", 0, _pod_status),
        ("Restarts", "string", 0, _pod_restarts),
        _AGE,
        ("IP", "string", 1, lambda o: (o.get("status") or {}).get("podIP") or "<none>"),
        ("Node", "string", 1, lambda o: (o.get("spec") or {}).get("nodeName") or "<none>"),
        ("Nominated Node", "string", 1, lambda o: "<none>"),
        ("Readiness Gates", "string", 1, lambda o: "<none>"),
    ],
    "Service": [
        ("Type", "string", 0, lambda o: (o.get("spec") or {}).get("type", "ClusterIP")),
        ("Cluster-IP", "string", 0, lambda o: (o.get("spec") or {}).get("clusterIP") or "<none>"),
        ("External-IP", "string", 0, _svc_external),
        ("Port(s)", "string", 0, _svc_ports),
        _AGE,
        (
            "Selector",
            "string",
            1,
            lambda o: (
                ",".join(f"{k}={v}" for k, v in ((o.get("spec") or {}).get("selector") or {}).items())
                or "<none>"
            ),
        ),
    ],
    "Deployment": [
        ("Ready", "string", 0, _replicas),
        ("Up-to-date", "integer", 0, lambda o: _st(o, "updatedReplicas")),
        ("Available", "integer", 0, lambda o: _st(o, "availableReplicas")),
        _AGE,
    ],
    "StatefulSet": [("Ready", "string", 0, _replicas), _AGE],
    "DaemonSet": [
        ("Desired", "integer", 0, lambda o: _st(o, "desiredNumberScheduled")),
        ("Current", "integer", 0, lambda o: _st(o, "currentNumberScheduled")),
        ("Ready", "integer", 0, lambda o: _st(o, "numberReady")),
        ("Up-to-date", "integer", 0, lambda o: _st(o, "updatedNumberScheduled")),
        ("Available", "integer", 0, lambda o: _st(o, "numberAvailable")),
        (
            "Node Selector",
            "string",
            0,
            lambda o: (
                ",".join(
                    f"{k}={v}"
                    for k, v in (((o.get("spec") or {}).get("template") or {}).get("spec") or {})
                    .get("nodeSelector", {})
                    .items()
                )
                or "<none>"
            ),
        ),
        _AGE,
    ],
    "Namespace": [("Status", "string", 0, lambda o: (o.get("status") or {}).get("phase", "Active")), _AGE],
    "Secret": [
        ("Type", "string", 0, lambda o: o.get("type", "Opaque")),
        ("Data", "integer", 0, lambda o: len(o.get("data") or {})),
        _AGE,
    ],
    "ConfigMap": [
        ("Data", "integer", 0, lambda o: len(o.get("data") or {}) + len(o.get("binaryData") or {})),
        _AGE,
    ],
    "Event": [
        (
            "Last Seen",
            "string",
            0,
            lambda o: age(o.get("lastTimestamp") or o["metadata"].get("creationTimestamp")),
        ),
        ("Type", "string", 0, lambda o: o.get("type", "")),
        ("Reason", "string", 0, lambda o: o.get("reason", "")),
        ("Object", "string", 0, _event_object),
        ("Message", "string", 0, lambda o: o.get("message", "")),
    ],
    "CustomResourceDefinition": [
        ("Created At", "date", 0, lambda o: o["metadata"].get("creationTimestamp", ""))
    ],
    "ReplicaSet": [
        ("Desired", "integer", 0, lambda o: (o.get("spec") or {}).get("replicas", 1)),
        ("Current", "integer", 0, lambda o: _st(o, "replicas")),
        ("Ready", "integer", 0, lambda o: _st(o, "readyReplicas")),
        _AGE,
    ],
    "Ingress": [
        ("Class", "string", 0, lambda o: (o.get("spec") or {}).get("ingressClassName") or "<none>"),
        (
            "Hosts",
            "string",
            0,
            lambda o: ",".join(r.get("host", "*") for r in (o.get("spec") or {}).get("rules") or []) or "*",
        ),
        (
            "Address",
            "string",
            0,
            lambda o: ",".join(
                i.get("ip") or i.get("hostname", "")
                for i in ((o.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
            ),
        ),
        ("Ports", "string", 0, lambda o: "80, 443" if (o.get("spec") or {}).get("tls") else "80"),
        _AGE,
    ],
    "PersistentVolumeClaim": [
        ("Status", "string", 0, lambda o: (o.get("status") or {}).get("phase", "Pending")),
        ("Volume", "string", 0, lambda o: (o.get("spec") or {}).get("volumeName", "")),
        (
            "Capacity",
            "string",
            0,
            lambda o: ((o.get("status") or {}).get("capacity") or {}).get("storage", ""),
        ),
        (
            "Access Modes",
            "string",
            0,
            lambda o: ",".join(
                {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX"}.get(m, m)
                for m in (o.get("status") or {}).get("accessModes") or []
            ),
        ),
        ("StorageClass", "string", 0, lambda o: (o.get("spec") or {}).get("storageClassName") or "<unset>"),
        ("VolumeAttributesClass", "string", 0, lambda o: "<unset>"),
        _AGE,
    ],
    "StorageClass": [
        ("Provisioner", "string", 0, lambda o: o.get("provisioner", "")),
        ("ReclaimPolicy", "string", 0, lambda o: o.get("reclaimPolicy", "Delete")),
        ("VolumeBindingMode", "string", 0, lambda o: o.get("volumeBindingMode", "Immediate")),
        ("AllowVolumeExpansion", "boolean", 0, lambda o: bool(o.get("allowVolumeExpansion"))),
        _AGE,
    ],
    "ServiceAccount": [("Secrets", "integer", 0, lambda o: len(o.get("secrets") or [])), _AGE],
}
# Kinds whose Name column is wide-only (kubectl get events shows no NAME).
NAME_PRIORITY = {"Event": 1}


def _path_value(path: str) -> Callable[[Obj], Any]:
    return lambda o: json_path(o, path)


def _path_age(path: str) -> Callable[[Obj], str]:
    return lambda o: age(json_path(o, path))


def _custom_columns(res: Resource) -> list[Col]:
    cols: list[Col] = []
    for c in res.columns:
        if c.type == "date":
            cols.append((c.name, "string", c.priority, _path_age(c.path)))
        else:
            cols.append((c.name, c.type, c.priority, _path_value(c.path)))
    return cols


def table(
    res: Resource, objects: list[Obj], resource_version: str, *, include_object: str = "Metadata"
) -> Obj:
    """A meta.k8s.io/v1 Table of `objects`; rows carry PartialObjectMetadata (or the object) as kubectl expects."""
    builtin = not res.group or res.group in (
        "apps",
        "apiextensions.k8s.io",
        "networking.k8s.io",
        "storage.k8s.io",
    )
    cols = COLUMNS.get(res.kind) if builtin else None
    if cols is None:
        cols = _custom_columns(res) if res.columns else [_AGE]
    name_priority = NAME_PRIORITY.get(res.kind, 0) if builtin else 0
    name_col = {
        "name": "Name",
        "type": "string",
        "format": "name",
        "description": "Name",
        "priority": name_priority,
    }
    definitions = [] if name_priority else [name_col]
    definitions += [
        {"name": n, "type": t, "format": "", "description": n, "priority": p} for n, t, p, _ in cols
    ]
    if name_priority:
        definitions.append(name_col)
    rows = []
    for obj in objects:
        cells: list[Any] = [] if name_priority else [obj["metadata"]["name"]]
        for _, _, _, fn in cols:
            value = fn(obj)
            cells.append("<none>" if value is None else value)
        if name_priority:
            cells.append(obj["metadata"]["name"])
        row: Obj = {"cells": cells}
        if include_object == "Object":
            row["object"] = obj
        elif include_object != "None":
            row["object"] = {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": {k: v for k, v in obj["metadata"].items() if k != "managedFields"},
            }
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": definitions,
        "rows": rows,
    }
