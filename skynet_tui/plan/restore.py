"""The guided restore, after Talos's disaster-recovery procedure: check the snapshot, wipe etcd's data on every
control plane (reset EPHEMERAL, reboot: etcd waits for a bootstrap), `talosctl bootstrap --recover-from` on the
first, then wait for every control plane to be a member again, `talosctl health`, and every node Ready.

Whether the cluster is lost is judged before this plan is built (backup/assess.py): the front ends refuse while
etcd has quorum unless forced, and ask for the cluster's name (or --yes) before the first wipe.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from skynet_tui import kube
from skynet_tui.backup import catalog
from skynet_tui.plan.probes import NET_ERRORS, TLS_ERRORS
from skynet_tui.plan.steps import Plan, Step, StepError
from skynet_tui.plan.timing import Timing
from skynet_tui.talos import commands as talos
from skynet_tui.talos import parse

if TYPE_CHECKING:
    from skynet_tui.runner import Context
    from skynet_tui.spec import Cluster, Node
    from skynet_tui.workspace import Workspace

DONE = "restore done"  # the line a finished restore prints, bare
RECOVER_WAIT = (
    "bootstrap is not available yet",
    "etcd service is not ready for recovery yet",
    "time is not in sync yet",
)
_STATE = re.compile(r"^STATE\s+(\S+)", re.MULTILINE)


def etcd_state(ctx: Context, node: Node, timeout: float) -> str:
    """The node's etcd service state (Running, Preparing, Failed…), "" when the node does not answer."""
    result = ctx.run(talos.service(node.ip, "etcd", ctx.ws.talosconfig), show_stdout=False, timeout=timeout)
    match = _STATE.search(result.stdout) if result.ok else None
    return match[1] if match else ""


def _members(ctx: Context, node: Node, timeout: float) -> list[dict[str, str]] | None:
    result = ctx.run(talos.etcd_members(node.ip, ctx.ws.talosconfig), show_stdout=False, timeout=timeout)
    return parse.table(result.stdout) if result.ok else None


def _check_step(snapshot: Path) -> Step:
    def action(ctx: Context) -> None:
        try:
            catalog.verify(snapshot)
            manifest = catalog.manifest_of(snapshot)
        except catalog.BackupError as exc:
            raise StepError(str(exc)) from None
        if manifest is None:
            ctx.line(f"{snapshot.name}: a valid etcd snapshot (no manifest beside it)")
            return
        digest = catalog.sha256_of(snapshot)
        if digest != manifest.sha256:
            raise StepError(
                f"{snapshot.name}: its sha256 is not the one its manifest recorded (another file?)"
            )
        ctx.line(
            f"{snapshot.name}: taken {manifest.taken_at} from {manifest.node} of {manifest.cluster} "
            f"(Talos {manifest.talos}, Kubernetes {manifest.kubernetes}, {len(manifest.members)} member(s))"
        )

    return Step("check-snapshot", f"Check the snapshot {snapshot.name}", action, timeout=120)


def _wipe_step(node: Node, t: Timing, deps: tuple[str, ...]) -> Step:
    """Reset EPHEMERAL on one control plane, then wait for its etcd to wait for a bootstrap (Preparing)."""

    def preparing(ctx: Context) -> bool:
        return etcd_state(ctx, node, t.kube_timeout) == "Preparing"

    def action(ctx: Context) -> None:
        ctx.check(ctx.run(talos.reset_etcd_data(node.ip, ctx.ws.talosconfig), timeout=t.bootstrap_timeout))

        def probe() -> tuple[bool, str]:
            state = etcd_state(ctx, node, t.kube_timeout)
            return state == "Preparing", f"{node.hostname}: etcd {state or 'not answering (rebooting)'}"

        ctx.wait(probe, interval=t.poll, what=f"etcd on {node.hostname} to wait for a bootstrap (Preparing)")

    return Step(
        f"wipe-{node.hostname}",
        f"Wipe etcd's data on {node.hostname} (reset EPHEMERAL, reboot)",
        action,
        target=node.hostname,
        deps=deps,
        postcondition=preparing,
        postcondition_text="etcd already waits for a bootstrap",
        transient=NET_ERRORS + TLS_ERRORS,
        timeout=t.bootstrap_timeout + t.install_timeout,
        writes_machines=True,
        hint=f"check the node's console; its etcd should show Preparing: talosctl -n {node.ip} service etcd",
        commands=lambda: [talos.reset_etcd_data(node.ip, "secrets/talosconfig"),
                          talos.service(node.ip, "etcd", "secrets/talosconfig")],
    )  # fmt: skip


def _members_step(cluster: Cluster, t: Timing) -> Step:
    first = cluster.control_planes[0]
    wanted = [n.hostname for n in cluster.control_planes]

    def action(ctx: Context) -> None:
        def probe() -> tuple[bool, str]:
            rows = _members(ctx, first, t.kube_timeout)
            if rows is None:
                return False, f"{first.hostname}: etcd does not answer yet"
            joined = [r.get("HOSTNAME", "") for r in rows if r.get("LEARNER") != "true"]
            missing = [h for h in wanted if h not in joined]
            if missing:
                return False, f"etcd members: {', '.join(joined) or 'none'}; waiting for {', '.join(missing)}"
            return True, f"etcd members: {', '.join(joined)} (every control plane)"

        ctx.wait(probe, interval=t.poll, what="every control plane to join etcd")

    return Step(
        "members",
        "Wait for every control plane to join etcd",
        action,
        deps=("recover",),
        transient=NET_ERRORS,
        timeout=t.bootstrap_timeout + t.install_timeout,
        commands=lambda: [talos.etcd_members(first.ip, "secrets/talosconfig")],
    )


def _nodes_step(cluster: Cluster, t: Timing) -> Step:
    names = [n.hostname for n in cluster.spec.nodes]

    def action(ctx: Context) -> None:
        def probe() -> tuple[bool, str]:
            try:
                found = {n["metadata"]["name"]: n for n in kube.items(ctx.kube(), "", "v1", "nodes")}
            except kube.KubeError as exc:
                return False, f"the Kubernetes API does not answer yet ({str(exc).splitlines()[0][:80]})"
            ready = [
                name
                for name in names
                if any(
                    c.get("type") == "Ready" and c.get("status") == "True"
                    for c in ((found.get(name) or {}).get("status") or {}).get("conditions") or []
                )
            ]
            waiting = [n for n in names if n not in ready]
            if waiting:
                return False, f"{len(ready)} of {len(names)} nodes Ready; waiting for {', '.join(waiting)}"
            return True, f"every node Ready ({len(names)})"

        ctx.wait(probe, interval=t.poll, what="the Kubernetes API and every node Ready")

    return Step(
        "nodes-ready",
        "Wait for the Kubernetes API and every node Ready",
        action,
        deps=("health",),
        timeout=t.kube_timeout + t.health_wait,
        commands=lambda: ["read the Nodes through the Kubernetes API (secrets/kubeconfig)"],
    )


def restore_plan(
    cluster: Cluster,
    ws: Workspace,
    snapshot: Path,
    *,
    env: dict[str, str] | None = None,
    timing: Timing | None = None,
    simulated: bool = False,
) -> Plan:
    """Every step of a restore from `snapshot` (a file; it is sent from where it is)."""
    t = timing or Timing.from_env(dict(env if env is not None else os.environ))
    tc = ws.talosconfig
    first = cluster.control_planes[0]
    cps = [n.ip for n in cluster.control_planes]
    snapshot = snapshot.resolve()
    steps = [_check_step(snapshot)]
    wipes = [_wipe_step(node, t, ("check-snapshot",)) for node in cluster.control_planes]
    steps += wipes
    steps += [
        Step(
            "recover", f"Recover etcd on {first.hostname} from the snapshot (talosctl bootstrap --recover-from)",
            talos.bootstrap_recover(first.ip, snapshot, tc), target=first.hostname,
            deps=tuple(s.id for s in wipes), transient=(*RECOVER_WAIT, *NET_ERRORS), attempts=0,
            timeout=t.bootstrap_timeout, retry_delay=t.retry_delay, writes_machines=True,
            hint=f"check etcd on {first.hostname}: talosctl -n {first.ip} service etcd (it must show Preparing)",
        ),
        _members_step(cluster, t),
        Step(
            "health", "Wait for the cluster to be healthy (talosctl health)",
            talos.health(first.ip, tc, control_planes=cps, workers=[n.ip for n in cluster.workers],
                         wait_timeout=t.health_wait, endpoint=cps),
            deps=("members",), transient=("timeout", "deadline exceeded", *NET_ERRORS),
            attempts=t.health_attempts, timeout=t.health_wait * t.health_attempts + 60,
            retry_delay=t.retry_delay, hint="the last `waiting for …` line names the check that did not pass",
        ),
        _nodes_step(cluster, t),
    ]  # fmt: skip
    stamp = dt.datetime.now(dt.UTC).isoformat()
    return Plan(
        name=f"restore {cluster.name}",
        steps=steps,
        simulated=simulated,
        # Each restore is its own run; a resumed one is carried by the steps' postconditions (a wiped node).
        answers=hashlib.sha256(f"restore\n{snapshot}\n{stamp}".encode()).hexdigest()[:16],
        summary=lambda _finished_at: (
            f"etcd of {cluster.name} restored from {snapshot.name}: every control plane is a member again, "
            f"talosctl health passed and every node is Ready. Every Kubernetes object is as it was in the snapshot"
        ),
    )
