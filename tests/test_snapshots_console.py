"""SVG snapshots of the console at 100×32 (the README shows them): the overview with problems, an Application's
drill-down, and the stale banner while the API is unreachable. The snapshot is folded from objects seeded into a
store (no server, no threads), at a fixed moment, so every run draws the same screen."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from skynet_lab.kubesim.store import Store
from skynet_tui.screens.console import ConsoleScreen
from skynet_tui.status.fold import Fold
from skynet_tui.status.model import Snapshot, TalosLayer
from skynet_tui.status.monitor import KINDS
from skynet_tui.status.talos import parse_etcd_status, parse_members, parse_services, parse_versions
from skynet_tui.status.watch import object_key
from tests import talos_samples as samples
from tests.console_helpers import NOW, Host, rfc, seed_small_cluster

SIZE = (100, 32)
NODES = [("cp-1", "10.5.0.11", True), ("cp-2", "10.5.0.12", True), ("cp-3", "10.5.0.13", True),
         ("worker-1", "10.5.0.21", False), ("worker-2", "10.5.0.22", False)]  # fmt: skip
LOKI = 'Deployment "loki-gateway" exceeded its progress deadline'
LISTED_AT = 1000.0  # the fold's clock when the objects were listed
DOWN_FOR = 95.0  # the stale banner: the API has been unreachable this long
RETRY_IN = 7.0


def talos_layer() -> TalosLayer:
    out = samples.cluster_outputs(NODES)
    return TalosLayer(
        configured=True,
        why="",
        members=parse_members(out["members"]),
        services=parse_services(out["services"]),
        versions=parse_versions(out["versions"]),
        etcd=parse_etcd_status(out["etcd"]),
        checked_at=NOW,
    )


def seeded_store() -> Store:
    """The small healthy cluster, then what goes wrong on day two: loki Degraded and crashing, grafana's
    certificate five days from expiry, two pods waiting for CPU."""
    store = Store()
    seed = seed_small_cluster(store, now=NOW)

    def degrade(app: dict[str, Any]) -> None:
        app["status"]["health"] = {"status": "Degraded", "message": LOKI}
        app["status"]["resources"][0].update(
            name="loki-gateway", health={"status": "Degraded", "message": LOKI}
        )

    seed.mutate("argoproj.io", "applications", "argocd", "loki", degrade)
    seed.pod("loki", "loki-gateway-7c9f8d6b5-kq2vx", "worker-1", waiting="CrashLoopBackOff", restarts=6)
    for name in ("api-5d8c7b9f4-h7xqz", "api-5d8c7b9f4-m2wrt"):
        seed.pod("shop", name, "", pending="0/5 nodes are available: 3 Insufficient cpu, 2 node(s) had untolerated taint.")  # fmt: skip
    seed.mutate("cert-manager.io", "certificates", "monitoring", "grafana",
                lambda c: c["status"].update(notAfter=rfc(NOW + timedelta(days=5, hours=2))))  # fmt: skip
    seed.create("", "events", "loki", {
        "metadata": {"name": "loki-gateway-7c9f8d6b5-kq2vx.181"}, "type": "Warning", "reason": "BackOff",
        "message": "Back-off restarting failed container main in pod loki-gateway-7c9f8d6b5-kq2vx",
        "involvedObject": {"kind": "Pod", "name": "loki-gateway-7c9f8d6b5-kq2vx", "namespace": "loki"},
        "count": 14, "lastTimestamp": rfc(NOW - timedelta(seconds=40))})  # fmt: skip
    return store


def fixed_snapshot(*, stale: bool = False) -> Snapshot:
    """Every kind listed from the seeded store at LISTED_AT; with `stale`, the API unreachable since."""
    store = seeded_store()
    clock = [LISTED_AT]
    fold = Fold(
        [k.name for k in KINDS],
        lambda snap: None,
        cluster="homelab",
        talos=talos_layer(),
        clock=lambda: clock[0],
        wall=lambda: NOW,
    )
    for kind in KINDS:
        group, version, plural = _path(kind.path)
        res = store.registry.by_path(group, version, plural)
        assert res is not None, kind.path
        items = store.list(res, None, "", kind.field_selector)[0]
        fold.replace(kind.name, {object_key(o): v for o in items if (v := kind.project(o)) is not None})
    if stale:
        clock[0] = LISTED_AT + DOWN_FOR
        for kind in KINDS:
            fold.failed(
                kind.name,
                "127.0.0.1:6443: Connection refused",
                unreachable=True,
                retry_at=clock[0] + RETRY_IN,
            )
    return fold.build()


def _path(path: str) -> tuple[str, str, str]:
    parts = path.strip("/").split("/")
    return ("", parts[1], parts[2]) if parts[0] == "api" else (parts[1], parts[2], parts[3])


def console(snapshot: Snapshot) -> tuple[Host, ConsoleScreen]:
    screen = ConsoleScreen(None, title="homelab", snapshot=snapshot, clock=lambda: snapshot.clock)
    return Host(screen), screen


def test_console_overview(snap_compare) -> None:
    """The overview of a cluster with day-two problems, 100×32. Visible: "Skynet · homelab · console", "updated
    09:30:00"; six layer lines: ● Talos ok "5 members · 31/31 services healthy · Talos v1.13.9", ● etcd ok
    "3 members · leader cp-1 · DB 25 MB", ▲ Kubernetes warn "5/5 nodes Ready · 8 pods · 3 problem pods", ✖
    Argo CD error "Degraded: loki", ▲ Ingress+TLS warn "grafana expires in 5d", ● Storage ok; "▲ Capacity
    2 pods wait for capacity: add a node"; the tabs with their counts (Problems 6 first) and the problems
    table worst first: loki Degraded with its message, the capacity line, the pods and the certificate; the
    footer keys."""
    app, _ = console(fixed_snapshot())
    assert snap_compare(app, terminal_size=SIZE)


def test_console_app_drill_down(snap_compare) -> None:
    """The loki Application opened from the console, 100×32: "Application argocd/loki"; Sync Synced at
    4f1c2e9a7b3d, Health Degraded with the progress-deadline message, the last sync Succeeded, its wave,
    destination and project; its resources: the loki-gateway Deployment Degraded and the Service Healthy; the
    footer: esc Back, s Sync now."""
    app, screen = console(fixed_snapshot())

    async def open_app(pilot: Any) -> None:
        await pilot.pause()
        screen.open_row("apps", "argocd/loki")
        await pilot.pause()
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=open_app)


def test_console_stale_banner(snap_compare) -> None:
    """The API unreachable for 1m35s, 100×32: a red banner "⚠ API unreachable: 127.0.0.1:6443: Connection
    refused · retry in 7s · data from 1m ago (stale)" under the title; the last good layer lines dimmed, the
    Kubernetes line in error led by "API unreachable"; the problems table dimmed, that problem first."""
    app, _ = console(fixed_snapshot(stale=True))
    assert snap_compare(app, terminal_size=SIZE)
