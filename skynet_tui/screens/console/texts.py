"""What the console writes: the layer lines, the stale banner, and the cells of each table's rows (rich Text)."""

from __future__ import annotations

from datetime import datetime, timedelta

from rich.text import Text

from skynet_tui.status.health import cert_state, duration
from skynet_tui.status.model import (
    AppResource,
    AppRow,
    CertRow,
    LayerHealth,
    Level,
    LoadBalancerRow,
    NodeRow,
    PodProblem,
    Problem,
    Snapshot,
    UrlRow,
    WarningEvent,
)

STYLE: dict[str, str] = {"ok": "green", "warn": "yellow", "error": "bold red", "unknown": "dim"}
MARK: dict[str, str] = {"ok": "●", "warn": "▲", "error": "✖", "unknown": "○"}
GOOD_WORDS = {"Ready", "Running", "Synced", "Healthy", "Succeeded", "Completed", "Bound", "True"}
BAD_WORDS = {"NotReady", "Degraded", "Missing", "Failed", "Error", "False", "Lost", "Unknown", "OutOfSync"}


def level_text(level: Level, text: str = "") -> Text:
    return Text(f"{MARK[level]} {text or level}", style=STYLE[level])


def word(value: str) -> Text:
    """A status word, coloured: green when good, red when bad, yellow otherwise."""
    if not value:
        return Text("")
    style = (
        "green" if value in GOOD_WORDS else "red" if value in BAD_WORDS or "BackOff" in value else "yellow"
    )
    return Text(value, style=style)


def overview(
    layers: tuple[LayerHealth, ...],
    capacity: str,
    backup: str = "",
    backup_level: str = "",
    access: tuple[str, str] = ("", ""),
    unshared: str = "",
) -> Text:
    """One line per layer: mark, title, level, text; then the capacity line when pods wait for it, a
    workspace's newest etcd backup (yellow when there is none or it is old), who holds Talos access
    (`access`: text and level; yellow when a grant expired or expires within 30 days), and a warning when the
    workspace is the only copy of the cluster's keys."""
    out = Text()
    for index, layer in enumerate(layers):
        if index:
            out.append("\n")
        out.append(f"{MARK[layer.level]} ", style=STYLE[layer.level])
        out.append(f"{layer.title:<12}", style="bold")
        out.append(f"{layer.level:<8}", style=STYLE[layer.level])
        out.append(layer.text, style="dim" if not layer.checked else "")
    if capacity:
        out.append("\n")
        out.append("▲ ", style="yellow")
        out.append(f"{'Capacity':<12}", style="bold")
        out.append(capacity, style="yellow")
    if backup:
        warn = backup_level == "warn"
        out.append("\n")
        out.append("▲ " if warn else "● ", style="yellow" if warn else "green")
        out.append(f"{'Backup':<12}", style="bold")
        out.append(backup, style="yellow" if warn else "")
    if access[0]:
        warn = access[1] == "warn"
        out.append("\n")
        out.append("▲ " if warn else "● ", style="yellow" if warn else "green")
        out.append(f"{'Access':<12}", style="bold")
        out.append(access[0], style="yellow" if warn else "")
    if unshared:
        out.append("\n")
        out.append("▲ ", style="yellow")
        out.append(f"{'Secrets':<12}", style="bold")
        out.append(unshared, style="yellow")
    return out


def banner(snap: Snapshot, now: float) -> str:
    """The stale banner: what failed, when the next try is, how old the data shown is."""
    api = snap.api
    parts = [f"⚠ API unreachable: {api.error}"]
    if api.retry_at is not None:
        wait = round(api.retry_at - now)
        parts.append(f"retry in {wait}s" if wait > 0 else "retrying")
    if api.last_ok is not None:
        parts.append(f"data from {duration(timedelta(seconds=max(0.0, now - api.last_ok)))} ago (stale)")
    else:
        parts.append("no data yet")
    return " · ".join(parts)


def clock_time(moment: datetime | None) -> str:
    return moment.strftime("%H:%M:%S") if moment else ""


# -- rows -----------------------------------------------------------------------------------------------------
def problem_cells(problem: Problem) -> tuple[Text, str, str]:
    return level_text(problem.level, problem.level), problem.layer, problem.text


def node_cells(node: NodeRow, pods: int, talos: str) -> tuple[object, ...]:
    notes = [*node.pressure, *(["cordoned"] if node.cordoned else [])]
    return (
        node.name,
        word(node.status.split(",")[0]) if not node.cordoned else Text(node.status, style="yellow"),
        ",".join(node.roles) or "<none>",
        node.internal_ip,
        node.kubelet,
        talos,
        str(pods),
        Text(", ".join(notes), style="yellow") if notes else Text(node.why if node.ready != "True" else ""),
    )


def app_cells(app: AppRow) -> tuple[object, ...]:
    operation = app.operation_phase or ("requested" if app.operation_requested else "")
    message = app.health_message or (app.operation_message if app.operation_phase != "Succeeded" else "")
    if not message and app.conditions:
        message = f"{app.conditions[0].type}: {app.conditions[0].message}"
    return (app.name, str(app.wave), word(app.sync), word(app.health), word(operation), message)


def pod_cells(pod: PodProblem) -> tuple[object, ...]:
    status = Text(
        pod.status,
        style="bold red" if pod.waits_for_capacity else "red" if pod.status not in ("Running",) else "yellow",
    )
    why = ("waits for capacity: " if pod.waits_for_capacity else "") + pod.message
    return (pod.namespace, pod.name, status, pod.ready, str(pod.restarts), pod.node or "<none>", why)


def cert_cells(cert: CertRow, now: datetime) -> tuple[object, ...]:
    level, why = cert_state(cert, now)
    expires = cert.not_after.strftime("%Y-%m-%d") if cert.not_after else ""
    return (
        cert.namespace,
        cert.name,
        word(cert.ready or "—"),
        expires,
        cert.issuer,
        Text(why, style=STYLE[level]),
    )


def lb_cells(lb: LoadBalancerRow) -> tuple[object, ...]:
    address = ", ".join(lb.ips) if lb.ips else Text("<pending>", style="red")
    return ("LoadBalancer", lb.key, address, " ".join(lb.ports))


def url_cells(url: UrlRow) -> tuple[object, ...]:
    return (
        "URL",
        f"{url.namespace}/{url.ingress}",
        url.url,
        url.address or Text("no address", style="yellow"),
    )


def event_cells(event: WarningEvent) -> tuple[object, ...]:
    return (
        clock_time(event.last_seen),
        f"{event.kind}/{event.object}",
        Text(event.reason, style="red" if event.topic == "pod-security" else "yellow"),
        str(event.count),
        event.message,
    )


def resource_cells(resource: AppResource) -> tuple[object, ...]:
    return (
        resource.kind,
        f"{resource.namespace}/{resource.name}" if resource.namespace else resource.name,
        str(resource.wave),
        word(resource.status),
        word(resource.health) if resource.health else Text("—", style="dim"),
        resource.health_message,
    )
