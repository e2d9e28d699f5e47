"""The lab's etcd as data: snapshots that hold the mock API's objects, losing etcd, `talosctl reset` wiping
EPHEMERAL, and `talosctl bootstrap --recover-from` bringing the objects back as the snapshot has them.

A snapshot is laid out as talosctl writes one (the database in 512-byte pages, then its sha256): a header line,
the mock API's objects as JSON (read from the running API, else from its saved kube-objects.json), zero padding.
State in lab.json: `etcd_lost_at` (every control plane lost its etcd data then; the API stops answering) and
`etcd_restores` (recoveries so far: the lab process empties its store before serving the recovered objects). A
machine's `etcd_wiped_at` records its last reset that wiped EPHEMERAL (its etcd then waits for a bootstrap).
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from skynet_lab import hardware, state
from skynet_lab.cli import CliError, check_args
from skynet_lab.talos_conn import Ctx, Failure
from skynet_tui import api

OBJECTS = "kube-objects.json"  # the mock API's saved objects (skynet_lab/argo.py SNAPSHOT)
ENDPOINT = "/skynet-lab/etcd-snapshot"  # the running mock API's objects, for the lab's etcd snapshot
HEADER = "SIMULATED LAB etcd snapshot"
PAGE, HASH = 512, 32
RECOVER_PREFIX = "error recovering etcd: rpc error: code = "


# ---------------------------------------------------------------- the data


def objects(lab: dict[str, Any], root: Path) -> dict[str, Any]:
    """The cluster's objects now: from the running mock API, else the ones it saved last."""
    url = lab.get("api_url")
    if url:
        try:
            with urllib.request.urlopen(url + ENDPOINT, timeout=10) as response:  # noqa: S310 - 127.0.0.1
                return dict(json.loads(response.read()))
        except (OSError, ValueError):
            pass
    try:
        return dict(json.loads((root / OBJECTS).read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return {"resourceVersion": 1, "objects": []}


def encode(member: str, data: dict[str, Any]) -> tuple[bytes, int, int]:
    """(the snapshot's bytes, its revision, its key count)."""
    revision = int(data.get("resourceVersion") or 1)
    keys = len(data.get("objects") or [])
    head = f"{HEADER} of member {member} at revision {revision}\n".encode()
    body = head + json.dumps(data, separators=(",", ":")).encode() + b"\n"
    body = body.ljust(-(-len(body) // PAGE) * PAGE, b"\0")
    return body + hashlib.sha256(body).digest(), revision, keys


def decode(blob: bytes, *, check_hash: bool = True) -> dict[str, Any]:
    """The objects a snapshot holds; Failure as talosctl reports a file it cannot use."""
    if check_hash and (len(blob) % PAGE != HASH or hashlib.sha256(blob[:-HASH]).digest() != blob[-HASH:]):
        raise Failure("error recovering from snapshot: snapshot file integrity check failed")
    head, _, rest = blob.partition(b"\n")
    if not head.startswith(HEADER.encode()):
        raise Failure("error recovering from snapshot: not an etcd snapshot of the Skynet lab")
    try:
        return dict(json.loads(rest.split(b"\n", 1)[0]))
    except ValueError:
        raise Failure("error recovering from snapshot: the snapshot's data is damaged") from None


# ---------------------------------------------------------------- losing it


def lose(root: str | Path) -> None:
    """Every control plane loses its etcd data at once: etcd fails everywhere, the API stops answering."""
    now = time.time()
    state.update_lab(root, lambda lab: lab.update(etcd_lost_at=now))


# ---------------------------------------------------------------- talosctl reset


def reset(ctx: Ctx) -> int:
    """`talosctl reset --graceful=false --reboot --system-labels-to-wipe=EPHEMERAL -n CP`: the disaster-recovery
    wipe of a control plane's etcd data; the machine reboots with its config and waits for a bootstrap."""
    check_args(ctx.inv, exact=0)
    labels = ctx.inv.strings("system-labels-to-wipe")
    if ctx.inv.get("graceful", True) or not ctx.inv.get("reboot") or labels != ["EPHEMERAL"]:
        raise Failure(
            "talosctl reset is simulated by the Skynet lab for the disaster-recovery wipe only: "
            "--graceful=false --reboot --system-labels-to-wipe=EPHEMERAL"
        )
    _, nodes, config = ctx.secure_route("error executing reset: ")
    if len(nodes) > 1:
        raise CliError('command "reset" is not supported with multiple nodes', ctx.inv.command)
    node = ctx.check_secure(nodes[0], config)
    ctx.sleep("reset")
    now = time.time()
    state.update_node(ctx.root, node["ip"], lambda n: n.update(etcd_wiped_at=now, reset_at=now))
    return 0


# ---------------------------------------------------------------- talosctl bootstrap --recover-from


def recover(ctx: Ctx, node: dict[str, Any]) -> int:
    """`talosctl bootstrap --recover-from=FILE -n CP`: checks the file, then etcd starts from it on this node."""
    path = Path(str(ctx.inv.get("recover-from")))
    try:
        blob = path.read_bytes()
    except OSError as exc:
        raise Failure(f"open {path}: {(exc.strerror or str(exc)).lower()}") from None
    data = decode(blob, check_hash=not ctx.inv.get("recover-skip-hash-check"))
    revision = int(data.get("resourceVersion") or 1)
    keys = len(data.get("objects") or [])
    digest = int.from_bytes(blob[-4:], "big")
    print(
        f'recovering from snapshot "{path}": hash {digest:08x}, revision {revision}, total keys {keys}, '
        f"total size {len(blob)}",
        file=sys.stderr,
        flush=True,
    )
    if node["role"] != "controlplane":
        raise Failure(
            RECOVER_PREFIX + "Unimplemented desc = etcd recover is only available on control plane nodes"
        )
    stands = state.etcd_standing(ctx.lab, node)
    if stands != "preparing" or not node["bootstrap_available"]:
        raise Failure(RECOVER_PREFIX + "FailedPrecondition desc = etcd service is not ready for recovery yet")
    won = False

    def claim(lab: dict[str, Any]) -> None:
        nonlocal won
        at = float((lab.get("bootstrap") or {}).get("at") or 0)
        if at < float(lab.get("etcd_lost_at") or 0):
            # The objects first: the lab process loads them once it sees the recovery count move.
            api.atomic_write(ctx.root / OBJECTS, json.dumps(data, separators=(",", ":")), 0o600)
            lab["bootstrap"] = {"node": node["ip"], "at": time.time()}
            lab["etcd_restores"] = int(lab.get("etcd_restores") or 0) + 1
            won = True

    state.update_lab(ctx.root, claim)
    if not won:
        raise Failure(
            "error executing bootstrap: rpc error: code = AlreadyExists desc = etcd data directory is not empty"
        )
    return 0


def snapshot_bytes(ctx: Ctx, node: dict[str, Any]) -> tuple[bytes, int, int]:
    return encode(hardware.etcd_member_id(node["ip"]), objects(ctx.lab, ctx.root))


def api_down(lab: dict[str, Any]) -> bool:
    """The API stops answering while etcd is lost and not yet recovered."""
    lost = float(lab.get("etcd_lost_at") or 0)
    return bool(lost) and float((lab.get("bootstrap") or {}).get("at") or 0) < lost


def restores(lab: dict[str, Any]) -> int:
    return int(lab.get("etcd_restores") or 0)
