"""talosctl's read-only commands against the lab: `get <type> -o json`, `etcd members|status`, `service`,
`version` (through the maintenance API or mTLS with the talosconfig), in talosctl 1.13.9's output formats."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterator
from typing import Any

from skynet_lab import hardware
from skynet_lab.cli import CliError, check_args
from skynet_lab.talos_conn import Ctx, Failure
from skynet_lab.talos_resources import Definition, definition, services, timestamp
from skynet_lab.talos_version import GO_VERSION, SHA, client_version

Results = list[tuple[str, dict[str, Any], str | None]]  # (ip, node, error) per target of a read
NOT_AUTHORIZED = "rpc error: code = PermissionDenied desc = not authorized"
NOT_RUNNING = "rpc error: code = FailedPrecondition desc = etcd is not running on this node"


def tabwrite(rows: list[list[str]]) -> str:
    """Go's text/tabwriter (padding 3, spaces, flags 0): every cell but a line's last padded to its column."""
    widths: list[int] = []
    for row in rows:
        for i, cell in enumerate(row[:-1]):
            if i >= len(widths):
                widths.append(0)
            widths[i] = max(widths[i], len(cell))
    return "".join(
        "".join(cell.ljust(widths[i] + 3) for i, cell in enumerate(row[:-1])) + row[-1] + "\n" for row in rows
    )


def _multierror(failing: list[tuple[str, str]]) -> str:
    """Talos' multierror text for the nodes that failed (the proxy's per-node errors)."""
    body = "".join(f"\n\t* {ip}: {text}" for ip, text in failing)
    return f"{len(failing)} error{'s' if len(failing) > 1 else ''} occurred:{body}\n\n"


def _metadata(item: Definition, rid: str, version: int, node: dict[str, Any]) -> dict[str, Any]:
    created = node.get("created_at")
    return {
        "namespace": item.namespace,
        "type": item.type,
        "id": rid,
        "version": version,
        "owner": "",
        "phase": "running",
        "created": timestamp(created),
        "updated": timestamp(max(created or 0, node.get("stage_since") or 0)),
    }


def get(ctx: Ctx) -> int:
    """`talosctl get <type> [--insecure] -o json`: one JSON object per resource and node."""
    check_args(ctx.inv, maximum=2)
    if not ctx.inv.args:
        raise CliError("requires at least 1 arg(s), only received 0", ctx.inv.command)
    if len(ctx.inv.args) > 1:
        raise Failure("talosctl get <type> <id> is not simulated by the Skynet lab: get the whole type")
    if ctx.inv.get("watch"):
        raise Failure("--watch is not simulated by the Skynet lab")
    item = definition(ctx.inv.args[0])
    if (
        ctx.inv.get("insecure") and not item.insecure
    ):  # the maintenance API serves non-sensitive resources only
        raise Failure(NOT_AUTHORIZED)
    output = str(ctx.inv.get("output") or "table")
    if output != "json":
        raise Failure(f"output format {output!r} is not simulated by the Skynet lab (use -o json)")
    ctx.sleep("get")
    failed = False
    results = _per_node(ctx)
    for ip, node, error in results:
        if error is not None:
            print(error if len(results) == 1 else f"{ip}: {error}", file=sys.stderr, flush=True)
            failed = True
            continue
        for rid, version, spec in item.build(ctx, node):
            metadata = _metadata(item, rid, version, node)
            doc = {"node": ip, "metadata": metadata, "spec": spec}
            print(json.dumps(doc, indent=4, sort_keys=True), flush=True)
    return 1 if failed else 0


def _per_node(ctx: Ctx, prefix: str = "") -> Results:
    """(ip, node, error) for each target of a read, through the maintenance API or through mTLS."""
    check: Callable[[str], dict[str, Any]]
    if ctx.inv.get("insecure"):
        nodes, check = ctx.insecure_nodes(), ctx.check_insecure
    else:
        _, nodes, config = ctx.secure_route(prefix)
        check = functools.partial(ctx.check_secure, config=config)
    out: Results = []
    for ip in nodes:
        try:
            out.append((ip, check(ip), None))
        except Failure as exc:
            out.append((ip, {}, exc.message))
    return out


def _answered(results: Results, prefix: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(ip, node) of the nodes that answered; the others' errors go to stderr as `<prefix><error>`, in turn."""
    for ip, node, error in results:
        if error is not None:
            print(f"{prefix}{error}", file=sys.stderr, flush=True)
            continue
        yield ip, node


def _any_failed(results: Results) -> bool:
    return any(error is not None for _, _, error in results)


def version(ctx: Ctx) -> int:
    """`talosctl version [--insecure] [-n IP…]`: the client block, then one server block per node."""
    check_args(ctx.inv, exact=0)
    if ctx.inv.get("short"):
        raise Failure(
            "talosctl version --short against nodes is not simulated by the Skynet lab (add --client)"
        )
    ctx.sleep("version")
    results = _per_node(ctx, "error getting version: ")
    print("Client:")
    print(f"\tTag:         {client_version()}")
    print(f"\tSHA:         {SHA}")
    print("\tBuilt:       ")
    print(f"\tGo version:  {GO_VERSION}")
    print("\tOS/Arch:     linux/amd64")
    print("Server:", flush=True)
    for ip, node in _answered(results, "error getting version: "):
        print(f"\tNODE:        {ip}")
        print(f"\tTag:         {(node.get('versions') or {}).get('talos') or client_version()}")
        print(f"\tSHA:         {SHA}")
        print("\tBuilt:       ")
        print(f"\tGo version:  {GO_VERSION}")
        print("\tOS/Arch:     linux/amd64")
        print("\tEnabled:     RBAC", flush=True)
    return 1 if _any_failed(results) else 0


def service(ctx: Ctx) -> int:
    """`talosctl service [<id> [status]]`: the services table, or one service's details (mTLS only)."""
    check_args(ctx.inv, maximum=2)
    if len(ctx.inv.args) == 2 and ctx.inv.args[1] != "status":
        raise Failure(f"talosctl service {ctx.inv.args[1]} is not simulated by the Skynet lab (status only)")
    ctx.sleep("service")
    results = _per_node(ctx, "error listing services: ")
    rows = [["NODE", "SERVICE", "STATE", "HEALTH", "LAST CHANGE", "LAST EVENT"]]
    for ip, node in _answered(results, "error listing services: "):
        for name, run_state, health, event in services(ctx, node):
            if ctx.inv.args and ctx.inv.args[0] != name:
                continue
            rows.append([ip, name, run_state, health, "12s ago", event])
    failed = _any_failed(results)
    if ctx.inv.args and len(rows) == 1 and not failed:
        raise Failure(f'rpc error: code = NotFound desc = service "{ctx.inv.args[0]}" not found')
    if ctx.inv.args:
        for ip, name, run_state, health, _, event in rows[1:]:
            details = [["NODE", ip], ["ID", name], ["STATE", run_state], ["HEALTH", health]]
            details.append(["EVENTS", f"[{run_state}]: {event} (12s ago)"])
            print(tabwrite(details), end="", flush=True)
    elif len(rows) > 1:
        print(tabwrite(rows), end="", flush=True)
    return 1 if failed else 0


def _etcd_rows(ctx: Ctx, sub: str, ip: str, node: dict[str, Any]) -> list[list[str]]:
    """One node's rows of `etcd members` (the member list it sees) or `etcd status` (its own member)."""
    if sub == "members":
        members = [n for n in ctx.nodes.values() if n["role"] == "controlplane" and n["etcd_running"]]
        return [
            [ip, hardware.etcd_member_id(m["ip"]), m["hostname"], f"https://{m['ip']}:2380",
             f"https://{m['ip']}:2379", "false"]
            for m in sorted(members, key=lambda m: m["ip"])
        ]  # fmt: skip
    leader = str(ctx.lab.get("etcd_leader") or (ctx.lab.get("bootstrap") or {}).get("node") or "")
    known = {n["ip"] for n in ctx.nodes.values()}  # machines by their state key (a new one's is its lease)
    leader_id = hardware.etcd_member_id(leader) if leader in known else "0" * 16
    index = str(1500 + 7 * len(ctx.nodes))
    return [
        [ip, hardware.etcd_member_id(node["ip"]), "4.2 MB", "2.1 MB (50.00%)", leader_id, index, "2", index,
         "false", "3.6.0", "3.6.0", ""]
    ]  # fmt: skip


ETCD_HEADERS = {
    "members": ["NODE", "ID", "HOSTNAME", "PEER URLS", "CLIENT URLS", "LEARNER"],
    "status": ["NODE", "MEMBER", "DB SIZE", "IN USE", "LEADER", "RAFT INDEX", "RAFT TERM", "RAFT APPLIED INDEX",
               "LEARNER", "PROTOCOL", "STORAGE", "ERRORS"],
}  # fmt: skip
ETCD_API = {"members": "member list", "status": "etcd status"}


def etcd(ctx: Ctx) -> int:
    """`talosctl etcd members|status` on control planes (mTLS): a tabwriter table with the NODE column.

    A node that cannot answer (a worker, etcd not running, unreachable) makes a WARNING with Talos' multierror
    on stderr while the others answer; when none answers, `error getting <sub>: …` and exit 1.
    """
    check_args(ctx.inv, exact=0)
    sub = ctx.inv.command[1]
    if sub not in ETCD_HEADERS:
        raise Failure(f"talosctl etcd {sub} is not simulated by the Skynet lab (members and status only)")
    ctx.sleep("etcd-cmd")
    rows = [ETCD_HEADERS[sub]]
    failing: list[tuple[str, str]] = []
    for ip, node, error in _per_node(ctx, f"error getting {sub}: "):
        if error is None and node["role"] != "controlplane":
            error = f"rpc error: code = Unimplemented desc = {ETCD_API[sub]} is only available on control plane nodes"
        elif error is None and not node["etcd_running"]:
            error = NOT_RUNNING
        if error is not None:
            failing.append((ip, error))
            continue
        rows += _etcd_rows(ctx, sub, ip, node)
    if len(rows) == 1:
        single = failing[0][1] if len(failing) == 1 else _multierror(failing)
        raise Failure(f"error getting {sub}: {single}")
    if failing:
        print(f"WARNING: {_multierror(failing)}", file=sys.stderr, flush=True)
    print(tabwrite(rows), end="", flush=True)
    return 0
