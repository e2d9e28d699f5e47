"""The console's snapshot: frozen rows per resource kind, the Talos layer, layer health and the API's state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Literal

Level = Literal["ok", "warn", "error", "unknown"]
SEVERITY: dict[Level, int] = {"ok": 0, "unknown": 1, "warn": 2, "error": 3}
EMPTY: Mapping[str, int] = MappingProxyType({})


@dataclass(frozen=True)
class Condition:
    """A status condition of a Node (or any object with `status.conditions`)."""

    type: str
    status: str
    reason: str = ""
    message: str = ""
    since: datetime | None = None


@dataclass(frozen=True)
class NodeRow:
    name: str
    ready: str  # the Ready condition's status: True, False or Unknown
    roles: tuple[str, ...]
    kubelet: str
    os_image: str
    internal_ip: str
    pressure: tuple[str, ...]  # MemoryPressure, DiskPressure, PIDPressure, NetworkUnavailable that are True
    cordoned: bool
    conditions: tuple[Condition, ...]
    taints: tuple[str, ...] = ()
    simulated: bool = False  # the lab's nodes carry skynet.dev/simulated=true

    @property
    def status(self) -> str:
        """kubectl's STATUS column: Ready, NotReady or Unknown, then SchedulingDisabled when cordoned."""
        word = {"True": "Ready", "False": "NotReady"}.get(self.ready, "Unknown")
        return f"{word},SchedulingDisabled" if self.cordoned else word

    @property
    def why(self) -> str:
        """The Ready condition's reason and message when the node is not Ready."""
        ready = next((c for c in self.conditions if c.type == "Ready"), None)
        if ready is None:
            return "no Ready condition reported"
        return ": ".join(p for p in (ready.reason, ready.message) if p)


@dataclass(frozen=True)
class AppResource:
    """One entry of an Application's `status.resources`."""

    group: str
    kind: str
    namespace: str
    name: str
    status: str  # Synced, OutOfSync, …
    health: str  # empty when Argo CD keeps resource health out of the CR (resourceHealthSource: appTree)
    health_message: str = ""
    wave: int = 0


@dataclass(frozen=True)
class AppCondition:
    type: str
    message: str
    since: datetime | None = None


@dataclass(frozen=True)
class AppRow:
    namespace: str
    name: str
    project: str
    sync: str
    health: str
    health_message: str
    revision: str
    operation_phase: str  # Running, Terminating, Failed, Error, Succeeded, or "" (none yet)
    operation_message: str
    operation_finished: datetime | None
    retry_count: int
    operation_requested: bool  # `.operation` is set: a sync was asked for and not picked up yet
    conditions: tuple[AppCondition, ...]
    wave: int
    resources: tuple[AppResource, ...]
    destination: str
    resource_version: str
    resource_health_source: str = ""

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class PodProblem:
    """A pod that is not Running/Succeeded, is not ready, or restarted: kubectl's STATUS and why."""

    namespace: str
    name: str
    node: str
    phase: str
    status: str  # kubectl's STATUS column (CrashLoopBackOff, Pending, Init:0/1, Evicted, …)
    ready: str  # "1/2"
    restarts: int
    container: str  # the container the problem is about ("" for the pod as a whole)
    message: str  # why, in the cluster's words (waiting/terminated message, scheduler message)
    waits_for_capacity: bool = False  # Pending, Unschedulable for lack of CPU or memory
    last_restart: datetime | None = None
    created: datetime | None = None
    owner: str = ""  # "ReplicaSet/grafana-5d8f7"

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class WarningEvent:
    namespace: str
    name: str
    kind: str  # of the object the event is about
    object: str  # its name
    reason: str
    message: str
    count: int
    last_seen: datetime | None
    topic: str = ""  # pod-security, scheduling, storage, image, crash, probe, network, certificate, or ""

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class CertRow:
    namespace: str
    name: str
    ready: str  # the Ready condition: True, False or "" (no condition yet)
    ready_reason: str
    ready_message: str
    not_after: datetime | None
    renewal_time: datetime | None
    issuing: str  # the Issuing condition's status, "" when absent
    issuing_message: str
    last_failure: datetime | None
    failed_attempts: int
    dns_names: tuple[str, ...]
    secret: str
    issuer: str

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class LoadBalancerRow:
    namespace: str
    name: str
    ips: tuple[str, ...]  # empty: <pending>
    ports: tuple[str, ...]
    requested: str = ""  # the address asked for (metallb.io/loadBalancerIPs or spec.loadBalancerIP)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def pending(self) -> bool:
        return not self.ips


@dataclass(frozen=True)
class UrlRow:
    namespace: str
    ingress: str
    host: str
    url: str
    tls: bool
    address: str  # the ingress's load-balancer address, "" until the controller sets one

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.ingress}/{self.url}"


@dataclass(frozen=True)
class PvcRow:
    namespace: str
    name: str
    phase: str  # Bound, Pending, Lost
    storage_class: str
    capacity: str
    volume: str

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


# -- the Talos layer ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TalosMember:
    """One `talosctl get members` entry: a machine of the cluster as Talos discovery sees it."""

    hostname: str
    addresses: tuple[str, ...]
    machine_type: str  # controlplane or worker
    os: str  # "Talos (v1.13.9)"

    @property
    def address(self) -> str:
        return self.addresses[0] if self.addresses else ""


@dataclass(frozen=True)
class EtcdMember:
    """One row of `talosctl etcd status`."""

    node: str
    member_id: str
    db_size: str  # "25 MB"
    in_use: str  # "8.2 MB (32.71%)"
    leader_id: str
    raft_index: int
    raft_term: int
    raft_applied: int
    learner: bool
    protocol: str
    storage: str
    errors: str

    @property
    def is_leader(self) -> bool:
        return bool(self.member_id) and self.member_id == self.leader_id


@dataclass(frozen=True)
class TalosService:
    node: str
    id: str
    running: bool
    healthy: bool
    unknown: bool  # the service has no health check

    @property
    def ok(self) -> bool:
        return self.running and (self.healthy or self.unknown)


@dataclass(frozen=True)
class TalosLayer:
    """What talosctl said, or why it could not be asked (`configured` False: no talosconfig was given)."""

    configured: bool = False
    why: str = "not read yet"  # "" once read; else why the layer is unknown
    members: tuple[TalosMember, ...] = ()
    etcd: tuple[EtcdMember, ...] = ()
    etcd_why: str = ""  # why etcd status is missing or partial (talosctl's error or warning)
    services: tuple[TalosService, ...] = ()
    services_why: str = ""
    versions: tuple[tuple[str, str], ...] = ()  # (node, Talos version)
    checked_at: datetime | None = None

    @property
    def known(self) -> bool:
        return self.configured and not self.why


# -- health and the snapshot ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class LayerHealth:
    """One line of the overview: a layer, how it is, a short text and its counts."""

    layer: str  # talos, etcd, kubernetes, argocd, ingress, storage
    title: str
    level: Level
    text: str
    counts: tuple[tuple[str, int], ...] = ()
    checked: bool = True  # False: not asked for (no talosconfig); it does not count against health


@dataclass(frozen=True)
class Problem:
    """Something an operator should look at, with what to drill into: ("node"|"app"|"pod"|"cert", key)."""

    layer: str
    level: Level
    text: str
    target: tuple[str, str] = ("", "")


@dataclass(frozen=True)
class ApiState:
    """Whether the Kubernetes API answers. Times are on the monitor's monotonic clock."""

    ok: bool = True
    error: str = ""
    last_ok: float | None = None  # the last successful request
    retry_at: float | None = None  # the next attempt while unreachable


@dataclass(frozen=True)
class KindState:
    """One watched resource kind: listed yet, served at all, its count, and its last error."""

    name: str
    synced: bool = False
    served: bool = True  # False: the API does not serve it (its CRD is not installed)
    count: int = 0
    error: str = ""


@dataclass(frozen=True)
class PodCounts:
    total: int = 0
    running: int = 0
    pending: int = 0
    succeeded: int = 0
    failed: int = 0
    per_node: Mapping[str, int] = field(default_factory=lambda: EMPTY)


@dataclass(frozen=True)
class Snapshot:
    """Everything the console shows at one moment; never mutated, replaced by the next one."""

    taken_at: datetime  # wall clock (UTC): certificate expiry and ages are measured from it
    clock: float  # the monitor's monotonic clock at the same moment
    cluster: str
    api: ApiState = ApiState()
    kinds: tuple[KindState, ...] = ()
    nodes: tuple[NodeRow, ...] = ()
    apps: tuple[AppRow, ...] = ()
    problem_pods: tuple[PodProblem, ...] = ()
    pods: PodCounts = PodCounts()
    events: tuple[WarningEvent, ...] = ()
    certs: tuple[CertRow, ...] = ()
    load_balancers: tuple[LoadBalancerRow, ...] = ()
    urls: tuple[UrlRow, ...] = ()
    pvcs: tuple[PvcRow, ...] = ()
    talos: TalosLayer = TalosLayer()
    layers: tuple[LayerHealth, ...] = ()
    problems: tuple[Problem, ...] = ()
    capacity: str = ""  # "3 pods wait for capacity: add a node", or ""
    backup: str = ""  # a workspace's newest etcd backup and its age ("" when the console reads no workspace)
    backup_level: str = ""  # "ok", or "warn" with none or one past backup/catalog.WARN_AGE
    access: str = ""  # who holds which Talos role until when (a workspace's access.yaml; "" without grants)
    access_level: str = ""  # "ok", or "warn" when a grant has expired or expires within 30 days
    unshared: str = ""  # a workspace whose secrets exist only there (no secrets.age/), said as a warning

    @property
    def stale(self) -> bool:
        return not self.api.ok

    @property
    def synced(self) -> bool:
        return bool(self.kinds) and all(k.synced or not k.served for k in self.kinds)

    @property
    def simulated(self) -> bool:
        return any(n.simulated for n in self.nodes)

    @property
    def healthy(self) -> bool:
        """Every layer that was checked is ok (what `skynet status --once` exits 0 for)."""
        return bool(self.layers) and all(layer.level == "ok" for layer in self.layers if layer.checked)

    def kind(self, name: str) -> KindState:
        return next((k for k in self.kinds if k.name == name), KindState(name))
