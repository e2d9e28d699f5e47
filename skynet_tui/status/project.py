"""Raw API objects (dicts) to the console's rows: pure functions, including kubectl's pod STATUS algorithm."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from skynet_tui.status.model import (
    AppCondition,
    AppResource,
    AppRow,
    CertRow,
    Condition,
    LoadBalancerRow,
    NodeRow,
    PodProblem,
    PvcRow,
    UrlRow,
    WarningEvent,
)

Obj = dict[str, Any]

PRESSURE = ("MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable")
ROLE_PREFIX = "node-role.kubernetes.io/"
SIMULATED_LABEL = "skynet.dev/simulated"
WAVE = "argocd.argoproj.io/sync-wave"
CAPACITY = re.compile(r"Insufficient (cpu|memory)")
START_GRACE = timedelta(minutes=2)  # a pod may take this long to start before it counts as a problem
RESTART_WINDOW = timedelta(hours=1)  # a Running pod that restarted within this counts as a problem
STARTING = ("ContainerCreating", "PodInitializing", "Pending", "SchedulingGated", "NotReady", "Terminating")
EVENT_TOPICS = (  # (topic, reasons, words in the message); the first that matches names the event's topic
    ("pod-security", (), ("violates PodSecurity",)),
    ("scheduling", ("FailedScheduling",), ()),
    ("storage", ("FailedMount", "FailedAttachVolume", "ProvisioningFailed", "FailedBinding"), ()),
    ("image", ("ErrImagePull", "ImagePullBackOff", "InspectFailed"), ("pull image", "pulling image")),
    ("crash", ("BackOff", "CrashLoopBackOff"), ()),
    ("probe", ("Unhealthy",), ()),
    ("network", ("NetworkNotReady", "FailedCreatePodSandBox"), ()),
    ("eviction", ("Evicted", "Preempting", "Killing"), ()),
)
CERT_KINDS = ("Certificate", "CertificateRequest", "Order", "Challenge", "Issuer", "ClusterIssuer")


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 timestamp from the API (`2026-01-01T10:00:00Z`), or None."""
    if not value or not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _meta(obj: Obj) -> Obj:
    return obj.get("metadata") or {}


def _status(obj: Obj) -> Obj:
    return obj.get("status") or {}


def _condition(obj: Obj, kind: str) -> Obj:
    return next((c for c in _status(obj).get("conditions") or [] if c.get("type") == kind), {})


# -- nodes ----------------------------------------------------------------------------------------------------
def node_row(obj: Obj) -> NodeRow:
    meta, status = _meta(obj), _status(obj)
    labels = meta.get("labels") or {}
    roles = sorted(k[len(ROLE_PREFIX) :] for k in labels if k.startswith(ROLE_PREFIX) and k != ROLE_PREFIX)
    if not roles and labels.get("kubernetes.io/role"):
        roles = [labels["kubernetes.io/role"]]
    conditions = tuple(
        Condition(
            c.get("type", ""),
            c.get("status", "Unknown"),
            c.get("reason", ""),
            c.get("message", ""),
            parse_time(c.get("lastTransitionTime")),
        )
        for c in status.get("conditions") or []
    )
    ready = next((c.status for c in conditions if c.type == "Ready"), "Unknown")
    info = status.get("nodeInfo") or {}
    addresses = status.get("addresses") or []
    ip = next((a.get("address", "") for a in addresses if a.get("type") == "InternalIP"), "")
    spec = obj.get("spec") or {}
    taints = tuple(
        f"{t.get('key', '')}{'=' + t['value'] if t.get('value') else ''}:{t.get('effect', '')}"
        for t in spec.get("taints") or []
    )
    return NodeRow(
        name=meta.get("name", ""),
        ready=ready,
        roles=tuple(roles),
        kubelet=info.get("kubeletVersion", ""),
        os_image=info.get("osImage", ""),
        internal_ip=ip,
        pressure=tuple(c.type for c in conditions if c.type in PRESSURE and c.status == "True"),
        cordoned=bool(spec.get("unschedulable")),
        conditions=conditions,
        taints=taints,
        simulated=labels.get(SIMULATED_LABEL) == "true",
    )


# -- Argo CD Applications -------------------------------------------------------------------------------------
def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def app_row(obj: Obj) -> AppRow:
    meta, status = _meta(obj), _status(obj)
    spec = obj.get("spec") or {}
    sync, health = status.get("sync") or {}, status.get("health") or {}
    op = status.get("operationState") or {}
    destination = spec.get("destination") or {}
    resources = tuple(
        AppResource(
            group=r.get("group", ""),
            kind=r.get("kind", ""),
            namespace=r.get("namespace", ""),
            name=r.get("name", ""),
            status=r.get("status", ""),
            health=(r.get("health") or {}).get("status", ""),
            health_message=(r.get("health") or {}).get("message", ""),
            wave=_int(r.get("syncWave")),
        )
        for r in status.get("resources") or []
    )
    return AppRow(
        namespace=meta.get("namespace", ""),
        name=meta.get("name", ""),
        project=spec.get("project", ""),
        sync=sync.get("status") or "Unknown",
        health=health.get("status") or "Unknown",
        health_message=health.get("message", ""),
        revision=str(sync.get("revision") or ""),
        operation_phase=op.get("phase", ""),
        operation_message=op.get("message", ""),
        operation_finished=parse_time(op.get("finishedAt")),
        retry_count=_int(op.get("retryCount")),
        operation_requested="operation" in obj,
        conditions=tuple(
            AppCondition(c.get("type", ""), c.get("message", ""), parse_time(c.get("lastTransitionTime")))
            for c in status.get("conditions") or []
        ),
        wave=_int((meta.get("annotations") or {}).get(WAVE)),
        resources=resources,
        destination=destination.get("namespace", "") or destination.get("server", ""),
        resource_version=meta.get("resourceVersion", ""),
        resource_health_source=status.get("resourceHealthSource", ""),
    )


# -- pods: kubectl's STATUS column ----------------------------------------------------------------------------
class PodStatus(NamedTuple):
    """kubectl's STATUS, READY and RESTARTS columns, and which container (and message) decided the status."""

    status: str
    ready: int
    total: int
    restarts: int
    last_restart: datetime | None
    container: str
    message: str


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def _terminated_word(term: Obj, prefix: str = "") -> str:
    if term.get("reason"):
        return prefix + term["reason"]
    if term.get("signal"):
        return f"{prefix}Signal:{term['signal']}"
    return f"{prefix}ExitCode:{term.get('exitCode', 0)}"


def _restartable(spec_container: Obj | None) -> bool:
    return bool(spec_container) and (spec_container or {}).get("restartPolicy") == "Always"


def pod_status(pod: Obj) -> PodStatus:
    """The STATUS kubectl (and k9s) print for a pod, following kubectl's printPod:

    phase, or status.reason; SchedulingGated; the first init container not done (Init:<reason>, Init:i/n);
    else the containers from last to first (waiting reason, terminated reason, Signal:N / ExitCode:N), with
    Completed turned back into Running (or NotReady) while a container still runs; Terminating (Unknown on a
    lost node) once deleted.
    """
    meta, spec, status = _meta(pod), pod.get("spec") or {}, _status(pod)
    phase = status.get("phase") or "Unknown"
    reason = status.get("reason") or phase
    container, message = "", status.get("message", "")
    for cond in status.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"
    init_specs = {c.get("name"): c for c in spec.get("initContainers") or []}
    total = len(spec.get("containers") or []) + sum(1 for c in init_specs.values() if _restartable(c))
    ready = restarts = sidecar_restarts = 0
    last_restart: datetime | None = None
    sidecar_last: datetime | None = None
    initializing = False
    init_statuses = status.get("initContainerStatuses") or []
    for index, cs in enumerate(init_statuses):
        count = _int(cs.get("restartCount"))
        finished = parse_time(((cs.get("lastState") or {}).get("terminated") or {}).get("finishedAt"))
        restarts += count
        last_restart = _later(last_restart, finished)
        sidecar = _restartable(init_specs.get(cs.get("name")))
        if sidecar:
            sidecar_restarts += count
            sidecar_last = _later(sidecar_last, finished)
        state = cs.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if terminated is not None and _int(terminated.get("exitCode")) == 0:
            continue
        if sidecar and cs.get("started"):
            ready += 1 if cs.get("ready") else 0
            continue
        if terminated is not None:
            reason = _terminated_word(terminated, "Init:")
            container, message = cs.get("name", ""), terminated.get("message", "")
        elif waiting is not None and waiting.get("reason") and waiting.get("reason") != "PodInitializing":
            reason = "Init:" + waiting["reason"]
            container, message = cs.get("name", ""), waiting.get("message", "")
        else:
            reason = f"Init:{index}/{len(init_specs)}"
            container = cs.get("name", "")
        initializing = True
        break
    if not initializing or _condition(pod, "Initialized").get("status") == "True":
        restarts, last_restart = sidecar_restarts, sidecar_last
        running = False
        for cs in reversed(status.get("containerStatuses") or []):
            restarts += _int(cs.get("restartCount"))
            last = (cs.get("lastState") or {}).get("terminated") or {}
            last_restart = _later(last_restart, parse_time(last.get("finishedAt")))
            state = cs.get("state") or {}
            waiting, terminated = state.get("waiting"), state.get("terminated")
            if waiting is not None and waiting.get("reason"):
                reason, container = waiting["reason"], cs.get("name", "")
                message = waiting.get("message", "")
                if last:
                    message = (
                        f"{message} (last exit {last.get('exitCode', '?')}: {last.get('reason', '')})".strip()
                    )
            elif terminated is not None:
                reason, container = _terminated_word(terminated), cs.get("name", "")
                message = terminated.get("message", "")
            elif cs.get("ready") and state.get("running") is not None:
                running = True
                ready += 1
        if reason == "Completed" and running:
            reason = "Running" if _condition(pod, "Ready").get("status") == "True" else "NotReady"
    if meta.get("deletionTimestamp") and status.get("reason") == "NodeLost":
        reason = "Unknown"
    elif meta.get("deletionTimestamp") and phase not in ("Succeeded", "Failed"):
        reason = "Terminating"
    return PodStatus(reason, ready, total, restarts, last_restart, container, message)


class PodEntry(NamedTuple):
    """What the console keeps per pod (of maybe tens of thousands): where it runs, its phase, any problem.

    A problem that depends on time counts only between `not_before` and `not_after`: a pod still starting
    (counts once it is older than START_GRACE) or a Running pod that restarted (counts for RESTART_WINDOW).
    """

    node: str
    phase: str
    problem: PodProblem | None = None
    not_before: datetime | None = None
    not_after: datetime | None = None

    def problem_at(self, now: datetime) -> PodProblem | None:
        if self.problem is None:
            return None
        if self.not_before is not None and now < self.not_before:
            return None
        if self.not_after is not None and now > self.not_after:
            return None
        return self.problem


def _owner(meta: Obj) -> str:
    owner = next(iter(meta.get("ownerReferences") or []), None)
    return f"{owner.get('kind', '')}/{owner.get('name', '')}" if owner else ""


def pod_entry(pod: Obj) -> PodEntry:
    """A pod's slim projection: phase and node always; a PodProblem when it is not Running/Succeeded and ready."""
    meta, spec, status = _meta(pod), pod.get("spec") or {}, _status(pod)
    phase = status.get("phase") or "Unknown"
    node = spec.get("nodeName") or ""
    computed = pod_status(pod)
    word = computed.status
    healthy = word in ("Running", "Completed", "Succeeded") and (
        computed.ready >= computed.total or word != "Running"
    )
    if healthy and not (word == "Running" and computed.restarts):
        return PodEntry(node, phase)
    created = parse_time(meta.get("creationTimestamp"))
    message = computed.message
    scheduled = _condition(pod, "PodScheduled")
    unschedulable = scheduled.get("status") == "False" and scheduled.get("reason") == "Unschedulable"
    if unschedulable:
        message = scheduled.get("message", "") or "Unschedulable"
    problem = PodProblem(
        namespace=meta.get("namespace", ""),
        name=meta.get("name", ""),
        node=node,
        phase=phase,
        status=word,
        ready=f"{computed.ready}/{computed.total}",
        restarts=computed.restarts,
        container=computed.container,
        message=message or ("restarted" if healthy else ""),
        waits_for_capacity=unschedulable and phase == "Pending" and bool(CAPACITY.search(message)),
        last_restart=computed.last_restart,
        created=created,
        owner=_owner(meta),
    )
    if healthy:  # Running and ready, but restarted: a problem while the last restart is recent
        if computed.last_restart is None:
            return PodEntry(node, phase)
        return PodEntry(node, phase, problem, None, computed.last_restart + RESTART_WINDOW)
    starting = word in STARTING or (word.startswith("Init:") and word[5:6].isdigit()) or word == "Running"
    if starting and not unschedulable and created is not None:
        return PodEntry(node, phase, problem, created + START_GRACE)
    return PodEntry(node, phase, problem)


# -- events, certificates, endpoints, storage -----------------------------------------------------------------
def event_topic(reason: str, message: str, kind: str) -> str:
    for topic, reasons, words in EVENT_TOPICS:
        if reason in reasons or any(w in message for w in words):
            return topic
    return "certificate" if kind in CERT_KINDS else ""


def event_row(obj: Obj) -> WarningEvent | None:
    """A Warning event (Normal ones are not kept)."""
    if obj.get("type") != "Warning":
        return None
    meta = _meta(obj)
    involved = obj.get("involvedObject") or obj.get("regarding") or {}
    reason, message = obj.get("reason", ""), obj.get("message", "") or obj.get("note", "")
    kind = involved.get("kind", "")
    seen = (
        parse_time(obj.get("lastTimestamp"))
        or parse_time(obj.get("eventTime"))
        or parse_time((obj.get("series") or {}).get("lastObservedTime"))
        or parse_time(obj.get("firstTimestamp"))
        or parse_time(meta.get("creationTimestamp"))
    )
    return WarningEvent(
        namespace=meta.get("namespace", ""),
        name=meta.get("name", ""),
        kind=kind,
        object=involved.get("name", ""),
        reason=reason,
        message=message,
        count=_int(obj.get("count") or (obj.get("series") or {}).get("count"), 1),
        last_seen=seen,
        topic=event_topic(reason, message, kind),
    )


def cert_row(obj: Obj) -> CertRow:
    meta, status, spec = _meta(obj), _status(obj), obj.get("spec") or {}
    ready, issuing = _condition(obj, "Ready"), _condition(obj, "Issuing")
    issuer = spec.get("issuerRef") or {}
    return CertRow(
        namespace=meta.get("namespace", ""),
        name=meta.get("name", ""),
        ready=ready.get("status", ""),
        ready_reason=ready.get("reason", ""),
        ready_message=ready.get("message", ""),
        not_after=parse_time(status.get("notAfter")),
        renewal_time=parse_time(status.get("renewalTime")),
        issuing=issuing.get("status", ""),
        issuing_message=issuing.get("message", ""),
        last_failure=parse_time(status.get("lastFailureTime")),
        failed_attempts=_int(status.get("failedIssuanceAttempts")),
        dns_names=tuple(spec.get("dnsNames") or ()),
        secret=spec.get("secretName", ""),
        issuer=f"{issuer.get('kind', 'Issuer')}/{issuer.get('name', '')}" if issuer else "",
    )


def _lb_addresses(status: Obj) -> tuple[str, ...]:
    ingress = (status.get("loadBalancer") or {}).get("ingress") or []
    return tuple(i.get("ip") or i.get("hostname") or "" for i in ingress if i.get("ip") or i.get("hostname"))


def lb_row(obj: Obj) -> LoadBalancerRow | None:
    """A Service of type LoadBalancer (None for the others)."""
    spec = obj.get("spec") or {}
    if spec.get("type") != "LoadBalancer":
        return None
    meta = _meta(obj)
    notes = meta.get("annotations") or {}
    requested = (
        notes.get("metallb.io/loadBalancerIPs")
        or notes.get("metallb.universe.tf/loadBalancerIPs")
        or spec.get("loadBalancerIP")
        or ""
    )
    return LoadBalancerRow(
        namespace=meta.get("namespace", ""),
        name=meta.get("name", ""),
        ips=_lb_addresses(_status(obj)),
        ports=tuple(f"{p.get('port')}/{p.get('protocol', 'TCP')}" for p in spec.get("ports") or []),
        requested=requested,
    )


def url_rows(obj: Obj) -> tuple[UrlRow, ...]:
    """The URLs an Ingress serves: one per host and path (https when the host is in its tls list)."""
    meta, spec = _meta(obj), obj.get("spec") or {}
    tls_hosts = {h for t in spec.get("tls") or [] for h in t.get("hosts") or []}
    address = next(iter(_lb_addresses(_status(obj))), "")
    out = []
    for rule in spec.get("rules") or []:
        host = rule.get("host") or ""
        if not host:
            continue
        paths = [p.get("path") or "/" for p in (rule.get("http") or {}).get("paths") or []] or ["/"]
        for path in dict.fromkeys(paths):
            scheme = "https" if host in tls_hosts else "http"
            url = f"{scheme}://{host}{'' if path == '/' else path}"
            out.append(
                UrlRow(meta.get("namespace", ""), meta.get("name", ""), host, url, host in tls_hosts, address)
            )
    return tuple(out)


def pvc_row(obj: Obj) -> PvcRow:
    meta, spec, status = _meta(obj), obj.get("spec") or {}, _status(obj)
    return PvcRow(
        namespace=meta.get("namespace", ""),
        name=meta.get("name", ""),
        phase=status.get("phase") or "Pending",
        storage_class=spec.get("storageClassName") or "",
        capacity=str((status.get("capacity") or {}).get("storage") or ""),
        volume=spec.get("volumeName") or "",
    )
