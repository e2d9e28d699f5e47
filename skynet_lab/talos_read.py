"""talosctl's read-only commands against the lab: get, version, service, etcd members|status."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterator
from typing import Any

import yaml

from skynet_lab.talos_conn import Ctx, Failure
from skynet_lab.talos_resources import Definition, definition, services, timestamp
from skynet_lab.talosctl_cli import CliError, check_args

Results = list[tuple[str, dict[str, Any], str | None]]  # (ip, node, error) per target of a read

# ---------------------------------------------------------------- output


def _column(spec: dict[str, Any], path: str) -> str:
    value: Any = spec
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def tabwrite(rows: list[list[str]]) -> str:
    """Go's tabwriter (padding 3, spaces): every cell but the last padded to its column's width."""
    widths: list[int] = []
    for row in rows:
        for i, cell in enumerate(row[:-1]):
            if i >= len(widths):
                widths.append(0)
            widths[i] = max(widths[i], len(cell))
    lines = []
    for row in rows:
        cells = [cell.ljust(widths[i] + 3) for i, cell in enumerate(row[:-1])] + row[-1:]
        lines.append("".join(cells))
    return "\n".join(lines) + "\n"


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
    """`talosctl get <type> [<id>] [--insecure] -o json|yaml|table`."""
    check_args(ctx.inv, maximum=2)
    if not ctx.inv.args:
        raise CliError("requires at least 1 arg(s), only received 0", ctx.inv.command)
    if ctx.inv.get("watch"):
        raise Failure("--watch is not simulated by the Skynet lab")
    item = definition(ctx.inv.args[0])
    wanted_id = ctx.inv.args[1] if len(ctx.inv.args) > 1 else None
    output = str(ctx.inv.get("output") or "table")
    if output not in ("table", "json", "yaml"):
        raise Failure(
            f"output format {output!r} is not simulated by the Skynet lab (use json, yaml or table)"
        )
    ctx.sleep("get")
    results = _per_node(ctx)
    rows: list[list[str]] = [["NODE", "NAMESPACE", "TYPE", "ID", "VERSION", *(h for h, _ in item.columns)]]
    first_yaml = True
    failed = False
    for ip, node, error in results:
        if error is not None:
            print(error if len(results) == 1 else f"{ip}: {error}", file=sys.stderr, flush=True)
            failed = True
            continue
        resources = item.build(ctx, node)
        if wanted_id is not None:
            resources = [r for r in resources if r[0] == wanted_id]
            if not resources:
                print(
                    f"rpc error: code = NotFound desc = resource {item.type}({item.namespace}/{wanted_id}@undefined) "
                    "doesn't exist",
                    file=sys.stderr,
                    flush=True,
                )
                failed = True
                continue
        for rid, version, spec in resources:
            metadata = _metadata(item, rid, version, node)
            if output == "json":
                print(
                    json.dumps({"node": ip, "metadata": metadata, "spec": spec}, indent=4, sort_keys=True),
                    flush=True,
                )
            elif output == "yaml":
                if not first_yaml:
                    print("---")
                first_yaml = False
                body = yaml.safe_dump({"metadata": metadata, "spec": spec}, sort_keys=False, indent=4)
                print(f"node: {ip}\n{body}", end="", flush=True)
            else:
                rows.append(
                    [
                        ip,
                        item.namespace,
                        item.display,
                        rid,
                        str(version),
                        *(_column(spec, p) for _, p in item.columns),
                    ]
                )
    if output == "table" and (len(rows) > 1 or not failed):
        print(tabwrite(rows), end="", flush=True)
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
    """`talosctl version [--insecure] [-n IP]`: the client block, then one server block per node."""
    from skynet_lab.fake_talosctl import GO_VERSION, SHA, print_client

    check_args(ctx.inv, exact=0)
    ctx.sleep("version")
    results = _per_node(ctx, "error getting version: ")
    print_client(short=bool(ctx.inv.get("short")))
    print("Server:", flush=True)
    for ip, node in _answered(results, "error getting version: "):
        print(f"\tNODE:        {ip}")
        print(f"\tTag:         {node['versions']['talos']}")
        print(f"\tSHA:         {SHA}")
        print("\tBuilt:       simulated lab")
        print(f"\tGo version:  {GO_VERSION}")
        print("\tOS/Arch:     linux/amd64")
        print("\tEnabled:     RBAC", flush=True)
    return 1 if _any_failed(results) else 0


def service(ctx: Ctx) -> int:
    """`talosctl service [<id> [status]]`: the services table, or one service's details."""
    check_args(ctx.inv, maximum=2)
    if len(ctx.inv.args) == 2 and ctx.inv.args[1] != "status":
        raise Failure(f"service {ctx.inv.args[1]} is not simulated by the Skynet lab (status only)")
    ctx.sleep("service")
    results = _per_node(ctx, "error listing services: ")
    rows = [["NODE", "SERVICE", "STATE", "HEALTH", "LAST CHANGE", "LAST EVENT"]]
    for ip, node in _answered(results, "error listing services: "):
        for name, run_state, health, event in services(node):
            if ctx.inv.args and ctx.inv.args[0] != name:
                continue
            rows.append([ip, name, run_state, health, "12s ago", event])
    failed = _any_failed(results)
    if ctx.inv.args and len(rows) == 1 and not failed:
        raise Failure(f'rpc error: code = NotFound desc = service "{ctx.inv.args[0]}" not found')
    if ctx.inv.args:
        for ip, name, run_state, health, _, event in rows[1:]:
            print(
                tabwrite(
                    [
                        ["NODE", ip],
                        ["ID", name],
                        ["STATE", run_state],
                        ["HEALTH", health],
                        ["EVENTS", f"[{run_state}]: {event} (12s ago)"],
                    ]
                ),
                end="",
            )
    elif len(rows) > 1:
        print(tabwrite(rows), end="", flush=True)
    return 1 if failed else 0


def etcd(ctx: Ctx) -> int:
    """`talosctl etcd members|status`: the tables of reference §5.3."""
    check_args(ctx.inv, exact=0)
    sub = ctx.inv.command[1]
    if sub not in ("members", "status"):
        raise Failure(f"etcd {sub} is not simulated by the Skynet lab (members and status only)")
    ctx.sleep("etcd-cmd")
    members = [n for n in ctx.nodes.values() if n["role"] == "controlplane" and n["etcd_running"]]
    leader = (ctx.lab.get("bootstrap") or {}).get("node")
    leader_id = ctx.nodes[leader]["etcd_member_id"] if leader in ctx.nodes else ""
    failed = False
    if sub == "members":
        rows = [["NODE", "ID", "HOSTNAME", "PEER URLS", "CLIENT URLS", "LEARNER"]]
    else:
        rows = [
            ["NODE", "MEMBER", "DB SIZE", "IN USE", "LEADER", "RAFT INDEX", "RAFT TERM", "RAFT APPLIED INDEX"]
        ]
        rows[0] += ["LEARNER", "PROTOCOL", "STORAGE", "ERRORS"]
    for ip, node, error in _per_node(ctx, f"error getting {sub}: "):
        if error is None and not node["etcd_running"]:
            error = "rpc error: code = FailedPrecondition desc = etcd is not running on this node"
        if error is not None:
            print(
                f"error getting {sub}: {error}" if sub == "members" else f"{ip}: {error}",
                file=sys.stderr,
                flush=True,
            )
            failed = True
            continue
        if sub == "members":
            for member in members:
                rows.append(
                    [
                        ip,
                        member["etcd_member_id"],
                        member["hostname"],
                        f"https://{member['ip']}:2380",
                        f"https://{member['ip']}:2379",
                        "false",
                    ]
                )
        else:
            rows.append(
                [
                    ip,
                    node["etcd_member_id"],
                    "4.2 MB",
                    "2.1 MB (50.00%)",
                    leader_id,
                    "1520",
                    "2",
                    "1520",
                    "false",
                    "3.6.0",
                    "3.6.0",
                    "",
                ]
            )
    if len(rows) > 1:
        print(tabwrite(rows), end="", flush=True)
    return 1 if failed else 0
