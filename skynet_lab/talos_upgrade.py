"""`talosctl upgrade` and `talosctl upgrade-k8s` against the lab: version paths, progress lines, new versions."""

from __future__ import annotations

import sys
import time
import uuid
from typing import Any

from skynet_lab import state
from skynet_lab.talos_conn import Ctx, Failure
from skynet_lab.talosctl_cli import CliError, check_args
from skynet_tui import versions

POLL = 0.1


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _image_tag(image: str) -> str:
    tag = image.rpartition(":")[2] if ":" in image.rpartition("/")[2] else ""
    if not versions.parse_version(tag):
        raise Failure(
            f'rpc error: code = Unknown desc = error pulling image "{image}": failed to resolve reference '
            f'"{image}": not found'
        )
    return tag if tag.startswith("v") else f"v{tag}"


def _check_path(current: str, target: str) -> None:
    """The installer's preflight: the host must run at least the target minor's `upgrade_from` version."""
    release = versions.release_for(target)
    have, low = (
        versions.parse_version(current),
        versions.parse_version(release.upgrade_from) if release else None,
    )
    if release is None or have is None or low is None:
        raise Failure(f"rpc error: code = FailedPrecondition desc = upgrade to {target} is not supported")
    if have < low:
        raise Failure(
            f"rpc error: code = FailedPrecondition desc = this version of Talos ({target}) cannot be installed "
            f"over {current}: upgrade from v{release.upgrade_from} or later"
        )


def upgrade(ctx: Ctx) -> int:
    """`talosctl upgrade -n IP --image …:vX.Y.Z [--wait] [--progress plain] [--timeout D]`, one node per node."""
    check_args(ctx.inv, exact=0)
    _, nodes, config = ctx.secure_route()
    image = str(ctx.inv.get("image") or f"ghcr.io/siderolabs/installer:{ctx.lab['versions']['talos']}")
    target = _image_tag(image)
    wait = ctx.inv.get("wait", True)
    deadline = time.monotonic() + (ctx.inv.duration("timeout", 30 * 60.0) or 0.0)
    started: list[str] = []
    for ip in nodes:
        node = ctx.check_secure(ip, config)
        _check_path(node["versions"]["talos"], target)
        if node["role"] == "controlplane":
            others = [n for n in ctx.nodes.values() if n["role"] == "controlplane" and n["ip"] != ip]
            down = [n["hostname"] for n in others if n["configured"] and not n["etcd_running"]]
            if down:
                raise Failure(
                    "rpc error: code = FailedPrecondition desc = etcd quorum check failed: upgrading "
                    f"{node['hostname']} now would lose quorum ({', '.join(down)} not healthy)"
                )
        current = node["versions"]["talos"]

        def record(stored: dict[str, Any], now: float = time.time(), have: str = current) -> None:
            stored["versions"] = {**stored.get("versions", {}), "talos": have}
            stored["upgrade"] = {"at": now, "from": have, "to": target}

        state.update_node(ctx.root, ip, record)
        started.append(ip)
    if not wait:
        return 0
    for ip in started:
        _say(f'"{ip}": waiting for actor ID')
        _say(f'"{ip}": actor ID: {uuid.uuid4()}')
        for line in (
            "sequence: upgrade action: START",
            "phase: drain action: START",
            "task: cordonAndDrainNode action: START",
        ):
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
                    _say(
                        f'"{ip}": stage: {stage.upper()} ready: {str(node["ready"]).lower()} unmetCond: [{unmet}]'
                    )
                last[ip] = stage
            if stage == "running" and node["ready"]:
                _say(f'"{ip}": events check condition met')
                _say(f'"{ip}": post check passed')
                pending.remove(ip)
        if pending and time.monotonic() >= deadline:
            for ip in pending:
                _say(f'"{ip}": context deadline exceeded')
            return 1
        if pending:
            time.sleep(POLL)
    return 0


# ---------------------------------------------------------------- upgrade-k8s


def _k8s_path_ok(current: str, target: str) -> bool:
    have, want = versions.parse_version(current), versions.parse_version(target)
    return bool(have and want) and want[0] == have[0] and want[1] in (have[1], have[1] + 1) and want >= have


def upgrade_k8s(ctx: Ctx) -> int:
    """`talosctl upgrade-k8s -n CP --to X [--from Y] [--dry-run]`: every node's Kubernetes, one minor at most."""
    check_args(ctx.inv, exact=0)
    _, nodes, config = ctx.secure_route()
    if len(nodes) > 1:
        raise CliError('command "upgrade-k8s" is not supported with multiple nodes', ctx.inv.command)
    ctx.check_secure(nodes[0], config)
    target = str(ctx.inv.get("to") or "").removeprefix("v")
    if not versions.parse_version(target):
        raise Failure(f"invalid version {target!r}: the --to flag needs a Kubernetes version such as 1.36.3")
    members = [n for n in ctx.nodes.values() if n["configured"]]
    known = [n["versions"].get("kubernetes") for n in members if n["versions"].get("kubernetes")]
    lowest = min(known, key=lambda v: versions.parse_version(v) or (0, 0, 0)) if known else target
    current = str(ctx.inv.get("from") or lowest).removeprefix("v")
    if not ctx.inv.get("from"):
        _say(f"automatically detected the lowest Kubernetes version {current}")
    if not _k8s_path_ok(current, target):
        raise Failure(f"unsupported upgrade path {current}->{target} (try one minor version at a time)")
    for node in members:
        if not versions.kubernetes_supported(node["versions"]["talos"], target):
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
            state.update_node(ctx.root, ip, lambda n: _set_kubernetes(n, target))
    _say("updating manifests")
    _say(" > apply manifest ServiceAccount kube-system/coredns")
    _say(" > apply skipped in dry run" if dry else " > apply manifest Deployment kube-system/coredns")
    if not dry:
        state.update_lab(ctx.root, lambda lab: lab["versions"].update(kubernetes=target))
    return 0


def _set_kubernetes(node: dict[str, Any], version: str) -> None:
    """upgrade-k8s patches the kubelet image in the machine config: the config summary follows."""
    node.setdefault("versions", {})["kubernetes"] = version
    if node.get("config"):
        node["config"]["kubernetes"] = version


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
    for line in lines:
        ctx.sleep("upgrade-k8s")
        # "update <component>: a -> b" is printed without the node, like talosctl does.
        _say(f" > {line}" if "->" in line else f' > "{ip}": {line}')
