"""One health line per layer (Talos, etcd, Kubernetes, Argo CD, ingress+TLS, storage) and the problems list: pure."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from skynet_tui.status.model import (
    SEVERITY,
    AppRow,
    CertRow,
    LayerHealth,
    Level,
    Problem,
    Snapshot,
)

EXPIRY_WARNING = timedelta(days=7)  # a certificate expiring sooner is a problem
MAX_POD_PROBLEMS = 10  # the problems list names this many pods, then counts them (all are in the pods table)
APP_ERROR_CONDITIONS = ("InvalidSpecError", "ComparisonError", "SyncError", "UnknownError", "DeletionError")
LAYERS = ("talos", "etcd", "kubernetes", "argocd", "ingress", "storage")
TITLES = {
    "talos": "Talos",
    "etcd": "etcd",
    "kubernetes": "Kubernetes",
    "argocd": "Argo CD",
    "ingress": "Ingress+TLS",
    "storage": "Storage",
}
NOT_CONFIGURED = "not checked: no talosconfig (pass --talosconfig or --workspace)"


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count} {word if count == 1 else many or word + 's'}"


def duration(delta: timedelta) -> str:
    """A short human duration: 45s, 12m, 5h, 3d."""
    seconds = int(delta.total_seconds())
    if seconds < 0:
        return "0s"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def worst(levels: list[Level]) -> Level:
    return max(levels, key=lambda level: SEVERITY[level]) if levels else "ok"


def _names(items: list[str], limit: int = 3) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" +{len(items) - limit}" if len(items) > limit else "")


# -- Talos and etcd -------------------------------------------------------------------------------------------
def talos_layer(snap: Snapshot) -> tuple[LayerHealth, list[Problem]]:
    talos = snap.talos
    if not talos.configured:
        return LayerHealth("talos", TITLES["talos"], "unknown", NOT_CONFIGURED, checked=False), []
    if talos.why:
        return LayerHealth("talos", TITLES["talos"], "unknown", talos.why), []
    problems: list[Problem] = []
    members = {m.hostname for m in talos.members}
    missing = sorted(n.name for n in snap.nodes if n.name not in members)
    for name in missing:
        problems.append(
            Problem("talos", "error", f"node {name} is not a Talos cluster member", ("node", name))
        )
    down = [s for s in talos.services if not s.running]
    unhealthy = [s for s in talos.services if s.running and not s.ok]
    host = {m.address: m.hostname for m in talos.members}
    for service in down:
        node = host.get(service.node, service.node)
        problems.append(
            Problem("talos", "error", f"service {service.id} is not running on {node}", ("node", node))
        )
    for service in unhealthy:
        node = host.get(service.node, service.node)
        problems.append(
            Problem("talos", "warn", f"service {service.id} is unhealthy on {node}", ("node", node))
        )
    versions = Counter(v for _, v in talos.versions)
    text = [plural(len(talos.members), "member")]
    if talos.services:
        healthy = sum(1 for s in talos.services if s.ok)
        text.append(f"{healthy}/{len(talos.services)} services healthy")
    elif talos.services_why:
        text.append(f"services: {talos.services_why}")
    if len(versions) == 1:
        text.append(f"Talos {next(iter(versions))}")
    elif versions:
        common = versions.most_common(1)[0][0]
        odd = sorted(host.get(n, n) for n, v in talos.versions if v != common)
        text.append(f"Talos {common}, other versions on {_names(odd)}")
        problems.append(Problem("talos", "warn", f"Talos versions differ: {_names(odd)} not on {common}"))
    if missing:
        text.append(f"not members: {_names(missing)}")
    level = worst([p.level for p in problems])
    if talos.services_why and level == "ok":
        level = "warn"
    counts = (
        ("members", len(talos.members)),
        ("services", len(talos.services)),
        ("services_unhealthy", len(down) + len(unhealthy)),
    )
    return LayerHealth("talos", TITLES["talos"], level, " · ".join(text), counts), problems


def etcd_layer(snap: Snapshot) -> tuple[LayerHealth, list[Problem]]:
    talos = snap.talos
    if not talos.configured:
        return LayerHealth("etcd", TITLES["etcd"], "unknown", NOT_CONFIGURED, checked=False), []
    if talos.why or (not talos.etcd and talos.etcd_why):
        return LayerHealth("etcd", TITLES["etcd"], "unknown", talos.why or talos.etcd_why), []
    problems: list[Problem] = []
    host = {m.address: m.hostname for m in talos.members}
    rows = talos.etcd
    leaders = {r.leader_id for r in rows if r.leader_id and r.leader_id.strip("0")}
    leader = next((host.get(r.node, r.node) for r in rows if r.is_leader), "")
    if not rows:
        problems.append(Problem("etcd", "error", "no etcd member answered"))
    elif not leaders:
        problems.append(Problem("etcd", "error", "etcd has no leader"))
    elif len(leaders) > 1:
        problems.append(Problem("etcd", "warn", "etcd members disagree on the leader"))
    for row in rows:
        if row.errors:
            problems.append(Problem("etcd", "error", f"etcd on {host.get(row.node, row.node)}: {row.errors}"))
    control_planes = [m for m in talos.members if m.machine_type == "controlplane"]
    if control_planes and len(rows) < len(control_planes):
        answered = {r.node for r in rows}
        silent = sorted(m.hostname for m in control_planes if m.address not in answered)
        problems.append(
            Problem(
                "etcd", "error", f"etcd did not answer on {_names(silent)}: {talos.etcd_why or 'no reply'}"
            )
        )
    elif talos.etcd_why:
        problems.append(Problem("etcd", "warn", f"etcd status: {talos.etcd_why}"))
    text = [plural(len(rows), "member")]
    if leader:
        text.append(f"leader {leader}")
    sizes = sorted({r.db_size for r in rows if r.db_size})
    if sizes:
        text.append(f"DB {sizes[-1]}")
    learners = sum(1 for r in rows if r.learner)
    if learners:
        text.append(plural(learners, "learner"))
    counts = (("members", len(rows)), ("errors", sum(1 for r in rows if r.errors)))
    return LayerHealth(
        "etcd", TITLES["etcd"], worst([p.level for p in problems]), " · ".join(text), counts
    ), problems


# -- Kubernetes -----------------------------------------------------------------------------------------------
def kubernetes_layer(snap: Snapshot) -> tuple[LayerHealth, list[Problem]]:
    problems: list[Problem] = []
    nodes_kind = snap.kind("nodes")
    if not snap.api.ok:
        problems.append(Problem("kubernetes", "error", f"Kubernetes API unreachable: {snap.api.error}"))
    if not nodes_kind.synced:
        text = problems[0].text if problems else nodes_kind.error or "listing nodes…"
        level: Level = "error" if problems else "unknown"
        return LayerHealth("kubernetes", TITLES["kubernetes"], level, text), problems
    not_ready = [n for n in snap.nodes if n.ready != "True"]
    for node in not_ready:
        problems.append(
            Problem("kubernetes", "error", f"node {node.name} {node.status}: {node.why}", ("node", node.name))
        )
    for node in snap.nodes:
        for pressure in node.pressure:
            problems.append(
                Problem("kubernetes", "warn", f"node {node.name}: {pressure}", ("node", node.name))
            )
        if node.cordoned:
            problems.append(
                Problem("kubernetes", "warn", f"node {node.name} is cordoned", ("node", node.name))
            )
    if snap.capacity:
        problems.append(Problem("kubernetes", "warn", snap.capacity))
    pods = snap.problem_pods
    for pod in pods[:MAX_POD_PROBLEMS]:
        why = f": {pod.message}" if pod.message else ""
        word = f"{pod.status} ({plural(pod.restarts, 'restart')})" if pod.restarts else pod.status
        problems.append(Problem("kubernetes", "warn", f"pod {pod.key} {word}{why}", ("pod", pod.key)))
    if len(pods) > MAX_POD_PROBLEMS:
        problems.append(
            Problem("kubernetes", "warn", f"… and {len(pods) - MAX_POD_PROBLEMS} more problem pods")
        )
    for event in snap.events:
        if event.topic == "pod-security":
            target = ("pod", f"{event.namespace}/{event.object}") if event.kind == "Pod" else ("", "")
            problems.append(
                Problem(
                    "kubernetes",
                    "error",
                    f"{event.kind} {event.namespace}/{event.object}: {event.message}",
                    target,
                )
            )
    ready = len(snap.nodes) - len(not_ready)
    words = [f"{ready}/{len(snap.nodes)} nodes Ready"]
    if snap.kind("pods").synced:
        words.append(plural(snap.pods.total, "pod"))
        words.append(plural(len(pods), "problem pod"))
    else:
        words.append("listing pods…")
    if not_ready:
        words.append(f"NotReady: {_names([n.name for n in not_ready])}")
    if not snap.api.ok:
        words.insert(0, "API unreachable")
    counts = (
        ("nodes", len(snap.nodes)),
        ("nodes_ready", ready),
        ("pods", snap.pods.total),
        ("problem_pods", len(pods)),
        ("waiting_for_capacity", sum(1 for p in pods if p.waits_for_capacity)),
    )
    level = worst([p.level for p in problems])
    return LayerHealth("kubernetes", TITLES["kubernetes"], level, " · ".join(words), counts), problems


def capacity(snap: Snapshot) -> str:
    """The bare-metal stand-in for a cluster autoscaler: how many pods wait for CPU or memory."""
    waiting = sum(1 for p in snap.problem_pods if p.waits_for_capacity)
    if not waiting:
        return ""
    return (
        f"{waiting} pod waits for capacity: add a node"
        if waiting == 1
        else f"{waiting} pods wait for capacity: add a node"
    )


# -- Argo CD --------------------------------------------------------------------------------------------------
def _app_problems(app: AppRow) -> list[Problem]:
    target = ("app", app.key)
    out = []
    if app.health in ("Degraded", "Missing"):
        why = f": {app.health_message}" if app.health_message else ""
        out.append(Problem("argocd", "error", f"Application {app.name} {app.health}{why}", target))
    if app.operation_phase in ("Failed", "Error"):
        out.append(
            Problem(
                "argocd",
                "error",
                f"Application {app.name} sync {app.operation_phase}: {app.operation_message}",
                target,
            )
        )
    for cond in app.conditions:
        level: Level = "error" if cond.type in APP_ERROR_CONDITIONS else "warn"
        out.append(Problem("argocd", level, f"Application {app.name} {cond.type}: {cond.message}", target))
    if not out and (app.sync != "Synced" or app.health != "Healthy"):
        detail = app.operation_message if app.operation_phase == "Running" else app.health_message
        why = f": {detail}" if detail else ""
        out.append(Problem("argocd", "warn", f"Application {app.name} {app.sync}/{app.health}{why}", target))
    return out


def argocd_layer(snap: Snapshot) -> tuple[LayerHealth, list[Problem]]:
    kind = snap.kind("applications")
    if not kind.served:
        return (
            LayerHealth(
                "argocd",
                TITLES["argocd"],
                "unknown",
                "Argo CD is not installed (no applications.argoproj.io)",
            ),
            [],
        )
    if not kind.synced:
        return LayerHealth("argocd", TITLES["argocd"], "unknown", kind.error or "listing Applications…"), []
    problems = [p for app in snap.apps for p in _app_problems(app)]
    good = sum(1 for a in snap.apps if a.sync == "Synced" and a.health == "Healthy")
    text = [plural(len(snap.apps), "Application"), f"{good} Synced+Healthy"]
    for word in ("Degraded", "Missing", "Progressing"):
        names = [a.name for a in snap.apps if a.health == word]
        if names:
            text.append(f"{word}: {_names(names)}")
    out_of_sync = [a.name for a in snap.apps if a.sync == "OutOfSync"]
    if out_of_sync:
        text.append(f"OutOfSync: {_names(out_of_sync)}")
    counts = (
        ("applications", len(snap.apps)),
        ("synced_healthy", good),
        ("degraded", sum(1 for a in snap.apps if a.health == "Degraded")),
        ("out_of_sync", len(out_of_sync)),
    )
    level = worst([p.level for p in problems])
    return LayerHealth("argocd", TITLES["argocd"], level, " · ".join(text), counts), problems


# -- ingress and TLS ------------------------------------------------------------------------------------------
def cert_state(cert: CertRow, now: datetime) -> tuple[Level, str]:
    """How a certificate is: ("ok", "expires in 80d"), ("warn", "expires in 3d"), ("error", "expired 2d ago")."""
    if cert.not_after is not None and cert.not_after <= now:
        return "error", f"expired {duration(now - cert.not_after)} ago"
    if cert.ready == "False":
        return "error", f"not ready: {cert.ready_message or cert.ready_reason}"
    if not cert.ready:
        return "warn", "not issued yet"
    if cert.not_after is not None and cert.not_after - now < EXPIRY_WARNING:
        return "warn", f"expires in {duration(cert.not_after - now)}"
    if cert.issuing == "False" and cert.last_failure is not None:
        return "warn", f"renewal failing ({plural(cert.failed_attempts, 'attempt')}): {cert.issuing_message}"
    if cert.not_after is not None:
        return "ok", f"expires in {duration(cert.not_after - now)}"
    return "ok", "ready"


def ingress_layer(snap: Snapshot) -> tuple[LayerHealth, list[Problem]]:
    problems: list[Problem] = []
    now = snap.taken_at
    for lb in snap.load_balancers:
        if lb.pending:
            want = f" (asked for {lb.requested})" if lb.requested else ""
            problems.append(
                Problem(
                    "ingress", "error", f"LoadBalancer {lb.key} has no address{want}: check the MetalLB pool"
                )
            )
    states = [(cert, *cert_state(cert, now)) for cert in snap.certs]
    for cert, level, why in states:
        if level != "ok":
            problems.append(Problem("ingress", level, f"Certificate {cert.key} {why}", ("cert", cert.key)))
    text = [plural(len(snap.urls), "URL"), plural(len(snap.load_balancers), "LoadBalancer")]
    pending = [lb for lb in snap.load_balancers if lb.pending]
    if pending:
        text[-1] += f" ({len(pending)} pending)"
    certs_kind = snap.kind("certificates")
    if certs_kind.served:
        text.append(plural(len(snap.certs), "certificate"))
        soon = [(c, why) for c, level, why in states if level != "ok"]
        if soon:
            text.append(", ".join(f"{c.name} {why}" for c, why in soon[:2]) + (" …" if len(soon) > 2 else ""))
    else:
        text.append("cert-manager not installed")
    synced = all(
        snap.kind(k).synced or not snap.kind(k).served for k in ("services", "ingresses", "certificates")
    )
    counts = (
        ("urls", len(snap.urls)),
        ("load_balancers", len(snap.load_balancers)),
        ("load_balancers_pending", len(pending)),
        ("certificates", len(snap.certs)),
        ("certificates_not_ok", sum(1 for _, level, _ in states if level != "ok")),
    )
    level = worst([p.level for p in problems]) if synced else "unknown"
    return LayerHealth("ingress", TITLES["ingress"], level, " · ".join(text), counts), problems


# -- storage --------------------------------------------------------------------------------------------------
def storage_layer(snap: Snapshot) -> tuple[LayerHealth, list[Problem]]:
    problems: list[Problem] = []
    for pvc in snap.pvcs:
        if pvc.phase == "Lost":
            problems.append(
                Problem("storage", "error", f"PVC {pvc.key} Lost (its volume {pvc.volume} is gone)")
            )
        elif pvc.phase != "Bound":
            sc = pvc.storage_class or "no storage class"
            problems.append(Problem("storage", "warn", f"PVC {pvc.key} {pvc.phase} ({sc})"))
    for event in snap.events:
        if event.topic == "storage":
            target = ("pod", f"{event.namespace}/{event.object}") if event.kind == "Pod" else ("", "")
            problems.append(
                Problem(
                    "storage",
                    "warn",
                    f"{event.reason} {event.kind} {event.namespace}/{event.object}: {event.message}",
                    target,
                )
            )
    bound = sum(1 for p in snap.pvcs if p.phase == "Bound")
    text = [f"{bound}/{len(snap.pvcs)} PVCs Bound" if snap.pvcs else "no PVCs"]
    others = [p.key for p in snap.pvcs if p.phase != "Bound"]
    if others:
        text.append(f"not Bound: {_names(others)}")
    counts = (("pvcs", len(snap.pvcs)), ("bound", bound), ("not_bound", len(others)))
    level: Level = worst([p.level for p in problems]) if snap.kind("pvcs").synced else "unknown"
    return LayerHealth("storage", TITLES["storage"], level, " · ".join(text), counts), problems


def assess(snap: Snapshot) -> tuple[tuple[LayerHealth, ...], tuple[Problem, ...]]:
    """Every layer's line, and the problems worst first (layer order within a level)."""
    parts = [
        talos_layer(snap),
        etcd_layer(snap),
        kubernetes_layer(snap),
        argocd_layer(snap),
        ingress_layer(snap),
        storage_layer(snap),
    ]
    layers = tuple(layer for layer, _ in parts)
    problems = [p for _, found in parts for p in found]
    if snap.backup_level == "warn":  # a workspace without a recent etcd backup: a restore would lose more
        problems.append(Problem("etcd", "warn", snap.backup))
    if snap.access_level == "warn":  # a grant expired or expiring: its holder loses (or lost) Talos access
        problems.append(Problem("talos", "warn", f"Talos access: {snap.access}"))
    problems.sort(key=lambda p: -SEVERITY[p.level])  # stable: layer order kept within a level
    return layers, tuple(problems)
