"""`talosctl health` against the lab: the real checks in the real order, waiting on the simulated timeline."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from skynet_lab import state
from skynet_lab.cli import CliError, check_args
from skynet_lab.talos_conn import Ctx, Failure, port_open, refused

Nodes = list[dict[str, Any]]
Check = Callable[
    [Nodes, Nodes], "str | None"
]  # (control planes, workers) → None when OK, else the error text

POLL = 0.1
DEADLINE = "rpc error: code = DeadlineExceeded desc = context deadline exceeded"


def _errors(failing: list[tuple[str, str]]) -> str | None:
    """Talos' multierror text, or None when nothing failed."""
    if not failing:
        return None
    body = "".join(f"\n\t* {ip}: {text}" for ip, text in failing)
    return f"{len(failing)} error{'s' if len(failing) > 1 else ''} occurred:{body}\n\n"


def _etcd(cps: Nodes, workers: Nodes) -> str | None:
    return _errors(
        [
            (
                n["ip"],
                'service "etcd" not in expected state "Running": current state [Preparing] Running pre state',
            )
            for n in cps
            if not n["etcd_running"]
        ]
    )


def _apid(cps: Nodes, workers: Nodes) -> str | None:
    return _errors(
        [
            (n["ip"], refused(n["ip"]))
            for n in cps + workers
            if not (n["configured"] and n["reachable"] and port_open(n["ip"]))
        ]
    )


def _booted(cps: Nodes, workers: Nodes) -> str | None:
    return _errors(
        [
            (n["ip"], f"node is not ready: stage {n['stage']}")
            for n in cps + workers
            if n["stage"] != "running"
        ]
    )


def _kubelet(cps: Nodes, workers: Nodes) -> str | None:
    return _errors(
        [
            (n["ip"], 'service "kubelet" not in expected state "Running"')
            for n in cps + workers
            if not n["configured"]
        ]
    )


def _k8s_report(cps: Nodes, workers: Nodes) -> str | None:
    missing = [n["ip"] for n in cps + workers if not n["kubelet_registered"]]
    return (
        f"expected number of nodes to be {len(cps + workers)}, got {len(cps + workers) - len(missing)}"
        if missing
        else None
    )


def _static_pods(cps: Nodes, workers: Nodes) -> str | None:
    pending = [n for n in cps if n["stage"] != "running"]
    if not pending:
        return None
    return f'static pod "kube-system/kube-apiserver-{pending[0]["hostname"]}" is not running yet'


def _k8s_ready(cps: Nodes, workers: Nodes) -> str | None:
    not_ready = [n["hostname"] for n in cps + workers if not n["node_ready"]]
    return f"some nodes are not ready: {not_ready}".replace("'", "") if not_ready else None


def _ok(cps: Nodes, workers: Nodes) -> str | None:
    return None


# talosctl's default cluster checks, in order (pkg/cluster/check/default.go); the last flag marks the checks
# that report SKIP when the cluster runs without a CNI.
CHECKS: list[tuple[str, Check, bool]] = [
    ("etcd to be healthy", _etcd, False),
    ("etcd members to be consistent across nodes", _etcd, False),
    ("etcd members to be control plane nodes", _etcd, False),
    ("apid to be ready", _apid, False),
    ("all nodes memory sizes", _ok, False),
    ("all nodes disk sizes", _ok, False),
    ("no diagnostics", _ok, False),
    ("kubelet to be healthy", _kubelet, False),
    ("all nodes to finish boot sequence", _booted, False),
    ("all k8s nodes to report", _k8s_report, False),
    ("all control plane static pods to be running", _static_pods, False),
    ("all control plane components to be ready", _static_pods, False),
    ("all k8s nodes to report ready", _k8s_ready, True),
    ("kube-proxy to report ready", _ok, False),
    ("coredns to report ready", _ok, True),
    ("all k8s nodes to report schedulable", _ok, False),
]
TIMEOUT_FAULT_AT = "all k8s nodes to report ready"


def _say(line: str) -> None:
    print(line.strip(), file=sys.stderr, flush=True)


def health(ctx: Ctx) -> int:
    """Server-side health with the node lists given: `waiting for <check>: ...|OK|SKIP|<error>` lines on stderr."""
    check_args(ctx.inv, exact=0)
    if not ctx.inv.get("server", True):
        raise Failure("client-side talosctl health (--server=false) is not simulated by the Skynet lab")
    _, nodes, config = ctx.secure_route()
    if len(nodes) > 1:
        raise CliError('command "health" is not supported with multiple nodes', ctx.inv.command)
    ctx.check_secure(nodes[0], config)
    cp_ips = ctx.inv.strings("control-plane-nodes")
    worker_ips = ctx.inv.strings("worker-nodes")
    if not cp_ips:
        raise Failure("talosctl health without --control-plane-nodes is not simulated by the Skynet lab")
    deadline = time.monotonic() + (ctx.inv.duration("wait-timeout", 20 * 60.0) or 0.0)
    unknown = [ip for ip in cp_ips + worker_ips if ip not in ctx.nodes]
    if unknown:
        raise Failure(refused(unknown[0]))
    _say("discovered nodes: [" + " ".join(f'"{ip}"' for ip in cp_ips + worker_ips) + "]")
    timeout_fault = state.take_fault(
        ctx.root, "health_timeout", int(ctx.lab.get("faults", {}).get("health_timeout") or 0)
    )
    no_cni = any((n.get("config") or {}).get("cni") == "none" for n in ctx.nodes.values())
    for name, check, skips_without_cni in CHECKS:
        _say(f"waiting for {name}: ...")
        ctx.sleep("health_check")
        if skips_without_cni and no_cni:
            _say(f"waiting for {name}: SKIP")
            continue
        if timeout_fault and name == TIMEOUT_FAULT_AT:
            ctx.refresh()
            last_node = ctx.nodes[(cp_ips + worker_ips)[-1]]
            _say(f"waiting for {name}: some nodes are not ready: [{last_node['hostname']}]")
            raise Failure(DEADLINE)
        last = ""
        while True:
            ctx.refresh()
            error = check([ctx.nodes[ip] for ip in cp_ips], [ctx.nodes[ip] for ip in worker_ips])
            if error is None:
                break
            if error != last:
                _say(f"waiting for {name}: {error}")
                last = error
            if time.monotonic() >= deadline:
                raise Failure(DEADLINE)
            time.sleep(POLL)
        _say(f"waiting for {name}: OK")
    return 0
