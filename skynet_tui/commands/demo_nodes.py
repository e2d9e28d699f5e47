"""`skynet demo --scenario replace-node`: after the lab's install, `worker-1` then the control plane `cp-1` are
replaced by new machines booted into the running lab, through `skynet node replace`'s own code, with etcd's
membership checked after each (`node <host> removed` / `node <host> joined` lines)."""

from __future__ import annotations

import sys
from collections.abc import Callable

from skynet_tui import spec
from skynet_tui.workspace import Workspace

REPLACED = ("worker-1", "cp-1")  # a worker, then a control plane (the one etcd was bootstrapped on)
REPLACE_NEEDS = (
    "--scenario replace-node replaces worker-1, then cp-1: it needs --nodes with 2 or more control planes "
    "(etcd keeps its quorum while one is replaced) and a worker (3+2 by default)"
)


def membership(ws: Workspace, env: dict[str, str]) -> tuple[bool, str]:
    """Whether every control plane of cluster.yaml is an etcd member with one leader they agree on, and what
    was seen (the upgrade's etcd gate on a fresh status snapshot)."""
    from skynet_tui.upgrade import gates, live

    cluster = spec.load(ws.cluster_yaml)
    gate = gates.etcd_gate(live.read(ws.root, env=env), cluster)
    return gate.ok, gate.detail


def replace_scenario(ws: Workspace, env: dict[str, str], add_machine: Callable[[], str]) -> int:
    """Replace each node of REPLACED on a new lab machine; the first exit code that is not 0."""
    from skynet_tui.commands.node import run_node

    hosts = {n.hostname: n.role for n in spec.load(ws.cluster_yaml).spec.nodes}
    planes = sum(1 for role in hosts.values() if role == "controlplane")
    if any(host not in hosts for host in REPLACED) or planes < 2:
        print(f"skynet demo: {REPLACE_NEEDS}", file=sys.stderr)
        return 2
    for host in REPLACED:
        address = add_machine()
        print(
            f"SIMULATED LAB: a new machine for {host} boots the Talos ISO and answers at {address}",
            flush=True,
        )
        code = run_node(ws, "replace", host, address=address, assume_yes=True, env=env, simulated=True)
        if code:
            return code
        ok, seen = membership(ws, env)
        print(f"etcd membership after replacing {host}: {seen}", flush=True)
        if not ok:
            return 1
    return 0
