"""`talosctl get <type> -o json` against the lab: the resources the product reads, through either API."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any

from skynet_lab.cli import CliError, check_args
from skynet_lab.talos_conn import Ctx, Failure
from skynet_lab.talos_resources import Definition, definition, timestamp

Results = list[tuple[str, dict[str, Any], str | None]]  # (ip, node, error) per target of a read


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


def _per_node(ctx: Ctx) -> Results:
    """(ip, node, error) for each target of a read, through the maintenance API or through mTLS."""
    check: Callable[[str], dict[str, Any]]
    if ctx.inv.get("insecure"):
        nodes, check = ctx.insecure_nodes(), ctx.check_insecure
    else:
        _, nodes, config = ctx.secure_route()
        check = functools.partial(ctx.check_secure, config=config)
    out: Results = []
    for ip in nodes:
        try:
            out.append((ip, check(ip), None))
        except Failure as exc:
            out.append((ip, {}, exc.message))
    return out
