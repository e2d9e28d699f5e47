"""The etcd backup: `talosctl etcd snapshot` from the first control plane that answers, into backups/ with its
manifest; the step the upgrade plans take before any change, and `skynet backup`'s plan (plus its retention).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from typing import TYPE_CHECKING

from skynet_tui.backup import catalog
from skynet_tui.plan.steps import Plan, Step, StepError
from skynet_tui.plan.timing import Timing
from skynet_tui.talos import commands as talos
from skynet_tui.talos import parse

if TYPE_CHECKING:
    from pathlib import Path

    from skynet_tui.runner import Context
    from skynet_tui.spec import Cluster
    from skynet_tui.workspace import Workspace

SNAPSHOT_TIMEOUT = 600.0
# `backup written <path>`: the line a finished backup prints, bare, path relative to the workspace.
WRITTEN = re.compile(r"^backup written (\S+)$")


def written(path: str) -> str:
    return f"backup written {path}"


def _members(ctx: Context, ip: str, timeout: float) -> tuple[catalog.Member, ...]:
    """The etcd members as the node that gave the snapshot sees them (empty when it does not say)."""
    result = ctx.run(talos.etcd_members(ip, ctx.ws.talosconfig), show_stdout=False, timeout=timeout)
    if not result.ok:
        return ()
    return tuple(
        catalog.Member(row.get("ID", ""), row.get("HOSTNAME", ""))
        for row in parse.table(result.stdout)
        if row.get("ID")
    )


def _commit(ctx: Context) -> str:
    if not (ctx.ws.root / ".git").exists():
        return ""
    result = ctx.run(["git", "rev-parse", "--verify", "--quiet", "HEAD"], show_stdout=False, timeout=60)
    return result.stdout.strip() if result.ok else ""


def take(ctx: Context, cluster: Cluster, *, label: str, reason: str, timeout: float) -> Path:
    """Snapshot etcd from the first control plane that answers, write its manifest; the snapshot's path."""
    base = catalog.folder(ctx.ws)
    now = dt.datetime.now(dt.UTC)
    path = base / catalog.snapshot_name(label, now)
    errors = []
    for node in cluster.control_planes:
        result = ctx.run(talos.etcd_snapshot(node.ip, path, ctx.ws.talosconfig), timeout=timeout)
        if not (result.ok and path.is_file()):
            errors.append(f"{node.hostname}: {result.tail(1) or f'exit code {result.returncode}'}")
            continue
        path.chmod(0o600)
        size = path.stat().st_size
        manifest = catalog.Manifest(
            file=path.name,
            taken_at=catalog.now_rfc3339(now),
            cluster=cluster.name,
            node=node.hostname,
            talos=cluster.spec.talos.version,
            kubernetes=cluster.spec.kubernetes.version,
            sha256=catalog.sha256_of(path),
            size=size,
            commit=_commit(ctx),
            reason=reason,
            members=_members(ctx, node.ip, timeout),
        )
        catalog.write_manifest(path, manifest)
        rel = path.relative_to(ctx.ws.root)
        ctx.line(f"etcd snapshot from {node.hostname}: {rel} ({size} bytes, 0600, not in git)")
        return path
    raise StepError("no control plane gave an etcd snapshot (" + "; ".join(errors) + ")")


def snapshot_step(
    cluster: Cluster,
    t: Timing,
    *,
    deps: tuple[str, ...] = (),
    label: str,
    reason: str,
    title: str = "Snapshot etcd into backups/ before anything changes",
    hint: str = "an upgrade never starts without a fresh etcd snapshot: check etcd (skynet status)",
    keep: int | None = None,
) -> Step:
    """The snapshot as a step (`etcd-snapshot`); `keep` prunes backups/ to the newest N afterwards."""
    timeout = getattr(t, "snapshot_timeout", SNAPSHOT_TIMEOUT)

    def action(ctx: Context) -> None:
        path = take(ctx, cluster, label=label, reason=reason, timeout=timeout)
        ctx.line(written(str(path.relative_to(ctx.ws.root))))
        if keep is not None:
            for old in catalog.prune(ctx.ws.root, keep):
                ctx.line(f"removed {old.relative_to(ctx.ws.root)} (--keep {keep})")

    return Step(
        "etcd-snapshot",
        title,
        action,
        deps=deps,
        timeout=timeout * max(1, len(cluster.control_planes)) + 60,
        hint=hint,
        commands=lambda: [
            talos.etcd_snapshot(cluster.control_planes[0].ip, f"{catalog.FOLDER}/etcd-<time>-{label}.snapshot",
                                "secrets/talosconfig"),
            talos.etcd_members(cluster.control_planes[0].ip, "secrets/talosconfig"),
        ],
    )  # fmt: skip


def backup_plan(
    cluster: Cluster,
    ws: Workspace,
    *,
    keep: int | None = None,
    env: dict[str, str] | None = None,
    simulated: bool = False,
) -> Plan:
    """`skynet backup`: one snapshot with its manifest, then the retention."""
    t = Timing.from_env(dict(env if env is not None else os.environ))
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S")
    step = snapshot_step(
        cluster,
        t,
        label="manual",
        reason="on demand",
        title="Snapshot etcd into backups/" + (f", keep the newest {keep}" if keep else ""),
        hint="a snapshot needs etcd healthy on a control plane: check etcd (skynet status)",
        keep=keep,
    )
    return Plan(
        name=f"backup {cluster.name}",
        steps=[step],
        simulated=simulated,
        # Every backup is a run of its own: a journal entry of an earlier backup never skips this one.
        answers=hashlib.sha256(f"backup\n{stamp}".encode()).hexdigest()[:16],
        summary=lambda _finished_at: f"etcd backed up into {ws.root / catalog.FOLDER}",
    )
