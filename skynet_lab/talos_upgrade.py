"""`talosctl upgrade`, `upgrade-k8s` and `etcd snapshot` against the lab, and the upgrade faults.

An upgrade records {at, from, to, outcome} on the node (skynet_lab/state.py derives the rest): the node stages the
image, reboots, and comes back on the new version, or with the faults on its old one (`upgrade_rollback`, as an
A/B fallback) or not at all (`upgrade_lost`); `etcd_unhealthy_after_upgrade` makes a control plane's etcd stop
answering once it is back. Each fault is consumed by the node's next upgrade. `upgrade-k8s` moves every kubelet
one minor at most, within every node's Talos range, printing talosctl's phases.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from skynet_lab import state, talos_etcd
from skynet_lab.cli import CliError, check_args
from skynet_lab.talos_conn import Ctx, Failure
from skynet_tui import api

POLL = 0.1
STEP_LATENCY = 0.02  # each printed step of upgrade-k8s (latency "upgrade-k8s")
FAULTS = ("upgrade_rollback", "upgrade_lost", state.ETCD_FAULT)


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def inject(root: str | Path, **faults: Any) -> None:
    """Set upgrade faults in lab.json: upgrade_rollback / upgrade_lost = [hostname, …], etcd_unhealthy_after_upgrade
    = a control plane's hostname (None clears one). Each node's next upgrade consumes its fault."""
    unknown = sorted(set(faults) - set(FAULTS))
    if unknown:
        raise ValueError(f"unknown upgrade fault(s) {', '.join(unknown)}; known: {', '.join(FAULTS)}")

    def apply(lab: dict[str, Any]) -> None:
        current = lab.setdefault("faults", {})
        for name, value in faults.items():
            if value is None:
                current.pop(name, None)
            else:
                current[name] = value

    state.update_lab(root, apply)
    for stored in state.load_stored_nodes(root):
        state.update_node(
            root, stored["ip"], lambda n: [n.setdefault("fault_used", {}).pop(f, None) for f in faults]
        )


def _tag(image: str) -> str:
    """The Talos version an installer image reference names (its tag)."""
    last = image.rpartition("/")[2]
    tag = last.rpartition(":")[2] if ":" in last else ""
    if api.version_key(tag) is None:
        raise Failure(
            f'rpc error: code = Unknown desc = error pulling image "{image}": failed to resolve reference '
            f'"{image}": not found'
        )
    return tag if tag.startswith("v") else f"v{tag}"


def _check_path(current: str, target: str) -> None:
    """The installer's preflight: the host must run at least the target minor's `upgrade_from` version."""
    release = api.release_for(target)
    have = api.version_key(current)
    low = api.version_key(release.upgrade_from) if release else None
    if release is None or have is None or low is None:
        raise Failure(f"rpc error: code = FailedPrecondition desc = upgrade to {target} is not supported")
    if have < low:
        raise Failure(
            f"rpc error: code = FailedPrecondition desc = this version of Talos ({target}) cannot be installed "
            f"over {current}: upgrade from v{release.upgrade_from.removeprefix('v')} or later"
        )


def _outcome(ctx: Ctx, node: dict[str, Any]) -> str:
    """ok, or the fault this node's upgrade meets (consumed once per node)."""
    faults = ctx.lab.get("faults") or {}
    for name, outcome in (("upgrade_lost", "lost"), ("upgrade_rollback", "rollback")):
        wanted = faults.get(name) or []
        named = node["hostname"] in ([wanted] if isinstance(wanted, str) else wanted)
        if named and state.take_node_fault(ctx.root, node["ip"], name, 1):
            return outcome
    return "ok"


def upgrade(ctx: Ctx) -> int:
    """`talosctl upgrade -n IP --image …:vX.Y.Z [--wait] [--progress plain] [--timeout D]`, per node."""
    check_args(ctx.inv, exact=0)
    _, nodes, config = ctx.secure_route("error upgrading: ")
    image = ctx.inv.string("image") or f"ghcr.io/siderolabs/installer:{ctx.lab['versions']['talos']}"
    target = _tag(image)
    for flag in ("no-reboot", "legacy"):
        if ctx.inv.get(flag):
            raise Failure(f"talosctl upgrade --{flag} is not simulated by the Skynet lab")
    wait = bool(ctx.inv.get("wait", True))
    deadline = time.monotonic() + (ctx.inv.duration("timeout", 30 * 60.0) or 0.0)
    started: list[str] = []
    for ip in nodes:
        node = ctx.check_secure(ip, config)
        current = node["versions"]["talos"]
        _check_path(current, target)
        outcome = _outcome(ctx, node)

        def record(stored: dict[str, Any], have: str = current, result: str = outcome) -> None:
            stored["versions"] = {**stored.get("versions", {}), "talos": have}
            stored["upgrade"] = {"at": time.time(), "from": have, "to": target, "outcome": result}

        state.update_node(ctx.root, ip, record)
        started.append(ip)
    if not wait:
        return 0
    for ip in started:
        _say(f'"{ip}": waiting for actor ID')
        _say(f'"{ip}": actor ID: {uuid.uuid4()}')
        for line in ("sequence: upgrade action: START", "phase: drain action: START"):
            _say(f'"{ip}": {line}')
    return _track(ctx, started, deadline)


def _track(ctx: Ctx, ips: list[str], deadline: float) -> int:
    """Follow the nodes through upgrading → rebooting → booting → running, printing the tracker's lines."""
    last: dict[str, str] = {}
    pending = list(ips)
    while pending:
        ctx.refresh()
        for ip in list(pending):
            node = ctx.nodes[ip]
            stage = node["stage"]
            if stage != last.get(ip):
                if stage == "rebooting":
                    _say(f'"{ip}": task: stopAllServices action: START')
                    _say(f'"{ip}": unavailable, retrying...')
                elif stage in ("booting", "running", "upgrading"):
                    unmet = " ".join(
                        f"name:{c['name']!r} reason:{c['reason']!r}" for c in node["unmet_conditions"]
                    )
                    ready = str(node["ready"]).lower()
                    _say(f'"{ip}": stage: {stage.upper()} ready: {ready} unmetCond: [{unmet}]')
                last[ip] = stage
            if stage == "running" and node["ready"]:
                _say(f'"{ip}": events check condition met')
                _say(f'"{ip}": post check passed')
                pending.remove(ip)
        if pending and time.monotonic() >= deadline:
            for ip in pending:
                _say(f'"{ip}": context deadline exceeded')
            _say("error: 1 error occurred:\n\t* context deadline exceeded")
            return 1
        if pending:
            time.sleep(POLL)
    return 0


# ---------------------------------------------------------------- upgrade-k8s


def _one_minor(current: str, target: str) -> bool:
    have, want = api.version_key(current), api.version_key(target)
    if have is None or want is None:
        return False
    return want[0] == have[0] and want[1] in (have[1], have[1] + 1) and want >= have


def upgrade_k8s(ctx: Ctx) -> int:
    """`talosctl upgrade-k8s -n CP --to X [--from Y] [--dry-run]`: every node's Kubernetes, one minor at most."""
    check_args(ctx.inv, exact=0)
    _, nodes, config = ctx.secure_route()
    if len(nodes) > 1:
        raise CliError('command "upgrade-k8s" is not supported with multiple nodes', ctx.inv.command)
    ctx.check_secure(nodes[0], config)
    target = str(ctx.inv.get("to") or "").removeprefix("v")
    if api.version_key(target) is None:
        raise Failure(f"invalid version {target!r}: the --to flag needs a Kubernetes version such as 1.36.3")
    members = [n for n in ctx.nodes.values() if n["configured"]]
    known = [str(n["versions"].get("kubernetes")) for n in members if n["versions"].get("kubernetes")]
    lowest = min(known, key=lambda v: api.version_key(v) or (0, 0, 0, 0, ())) if known else target
    current = str(ctx.inv.get("from") or lowest).removeprefix("v")
    if not ctx.inv.get("from"):
        _say(f"automatically detected the lowest Kubernetes version {current}")
    if not _one_minor(current, target):
        raise Failure(f'unsupported upgrade path "{current}->{target}" (try one minor version at a time)')
    for node in members:
        if not api.kubernetes_supported(node["versions"]["talos"], target):
            raise Failure(
                f"version of Kubernetes {target} is not supported by Talos {node['versions']['talos']} "
                f"on {node['ip']}"
            )
    dry = bool(ctx.inv.get("dry-run"))
    cps = [n["ip"] for n in members if n["role"] == "controlplane"]
    workers = [n["ip"] for n in members if n["role"] == "worker"]
    _say(f"checking for resource APIs to be deprecated in version {target}")
    _say("discovered controlplane nodes [" + " ".join(f'"{ip}"' for ip in cps) + "]")
    _say("discovered worker nodes [" + " ".join(f'"{ip}"' for ip in workers) + "]")
    for component in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        _say(f'updating "{component}" to version "{target}"')
        for ip in cps:
            _step(ctx, ip, [f"update {component}: {current} -> {target}", *_phases(component, dry)])
    _say(f'updating kube-proxy to version "{target}"')
    for ip in cps:
        _step(ctx, ip, ["skipped in dry-run"] if dry else ["updating kube-proxy", "update successful"])
    _say(f'updating kubelet to version "{target}"')
    for ip in cps + workers:
        lines = (
            ["skipped in dry-run"]
            if dry
            else ["machine configuration patched", "waiting for kubelet restart"]
        )
        _step(ctx, ip, lines + ([] if dry else ["waiting for node update", "update successful"]))
        if not dry:
            state.update_node(ctx.root, ip, _set_kubernetes(target))
    _say("updating manifests")
    _say(" > apply manifest ServiceAccount kube-system/coredns")
    _say(" > apply skipped in dry run" if dry else " > apply manifest Deployment kube-system/coredns")
    if not dry:
        state.update_lab(ctx.root, lambda lab: lab["versions"].update(kubernetes=target))
    return 0


def _set_kubernetes(version: str) -> Callable[[dict[str, Any]], None]:
    """upgrade-k8s patches the kubelet image in the machine config: the config summary follows."""

    def patch(node: dict[str, Any]) -> None:
        node.setdefault("versions", {})["kubernetes"] = version
        if node.get("config"):
            node["config"]["kubernetes"] = version

    return patch


def _phases(component: str, dry: bool) -> list[str]:
    if dry:
        return ["skipped in dry-run"]
    return [
        "machine configuration patched",
        f"waiting for {component} pod update",
        f"{component}: pod is ready",
    ]


def _step(ctx: Ctx, ip: str, lines: list[str]) -> None:
    _say(f' > "{ip}": starting update')
    delay = state.latency(ctx.lab, "upgrade-k8s", STEP_LATENCY)
    for line in lines:
        if delay > 0:
            time.sleep(delay)
        # "update <component>: a -> b" is printed without the node, like talosctl does.
        _say(f" > {line}" if "->" in line else f' > "{ip}": {line}')


# ---------------------------------------------------------------- etcd snapshot


def etcd_snapshot(ctx: Ctx) -> int:
    """`talosctl etcd snapshot PATH -n CP`: a file ending in its sha256 (size % 512 == 32), written via PATH.part."""
    check_args(ctx.inv, exact=1)
    _, nodes, config = ctx.secure_route("error reading file: ")
    if len(nodes) > 1:
        raise CliError('command "snapshot" is not supported with multiple nodes', ctx.inv.command)
    node = ctx.check_secure(nodes[0], config)
    if node["role"] != "controlplane":
        raise Failure(
            "rpc error: code = Unimplemented desc = etcd snapshot is only available on control plane nodes"
        )
    if not node["etcd_running"]:
        raise Failure("error reading file: rpc error: code = FailedPrecondition desc = etcd is not running")
    path = Path(ctx.inv.args[0])
    # The data is the cluster's objects as the mock API holds them now: a recovery brings them back.
    data, revision, keys = talos_etcd.snapshot_bytes(ctx, node)
    part = path.with_name(path.name + ".part")
    try:
        with open(part, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(part, path)
    except OSError as exc:
        raise Failure(f"open {part}: {(exc.strerror or str(exc)).lower()}") from None
    print(f'etcd snapshot saved to "{path}" ({len(data)} bytes)', file=sys.stderr, flush=True)
    digest = int.from_bytes(data[-4:], "big")
    print(
        f"snapshot info: hash {digest:08x}, revision {revision}, total keys {keys}, total size {len(data)}",
        file=sys.stderr,
        flush=True,
    )
    return 0


HANDLERS: dict[tuple[str, ...], Callable[[Ctx], int]] = {
    ("upgrade",): upgrade,
    ("upgrade-k8s",): upgrade_k8s,
    ("etcd", "snapshot"): etcd_snapshot,
}
