"""Talos's role-based access in the lab: the client certificate checked against the node's OS CA, its roles
(the subject's Organization) against the API method the command calls, with Talos's own per-method table."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import time
from pathlib import Path
from typing import Any

from skynet_lab.cli import Invocation
from skynet_tui import api

ADMIN, OPERATOR, READER, ETCD_BACKUP = "os:admin", "os:operator", "os:reader", "os:etcd:backup"
READERS = frozenset({ADMIN, OPERATOR, READER})

# siderolabs/talos internal/app/machined/pkg/system/services/machined.go, `rules` (the methods the lab's
# commands call); a method absent from the table falls back to os:admin alone (`FallbackRoles`). An unknown role
# is kept by role.Parse (pkg/machinery/role) but no rule names it, so it is never authorized.
RULES: dict[str, frozenset[str]] = {
    "/cluster.ClusterService/HealthCheck": READERS,
    "/cosi.resource.State/Get": READERS,
    "/cosi.resource.State/List": READERS,
    "/machine.MachineService/Version": READERS,
    "/machine.MachineService/ServiceList": READERS,
    "/machine.MachineService/EtcdMemberList": READERS | {ETCD_BACKUP},
    "/machine.MachineService/EtcdStatus": READERS | {ETCD_BACKUP},
    "/machine.MachineService/EtcdSnapshot": frozenset({ADMIN, OPERATOR, ETCD_BACKUP}),
    "/machine.MachineService/EtcdLeaveCluster": frozenset({ADMIN}),
    "/machine.MachineService/EtcdRemoveMemberByID": frozenset({ADMIN}),
    "/machine.MachineService/Bootstrap": frozenset({ADMIN}),
    "/machine.MachineService/Kubeconfig": frozenset({ADMIN}),
    "/machine.MachineService/Reset": frozenset({ADMIN}),
    "/machine.MachineService/Upgrade": frozenset({ADMIN}),
    # The table allows os:reader too, "for maintenance only, verified in the handler": on a configured node
    # (the only kind an mTLS call reaches) the handler refuses it.
    "/machine.MachineService/ApplyConfiguration": frozenset({ADMIN}),
}
FALLBACK = frozenset({ADMIN})

# The API method behind each talosctl command the lab simulates over mTLS.
METHODS: dict[tuple[str, ...], str] = {
    ("version",): "/machine.MachineService/Version",
    ("get",): "/cosi.resource.State/List",  # every type talos_resources simulates is non-sensitive
    ("service",): "/machine.MachineService/ServiceList",
    ("health",): "/cluster.ClusterService/HealthCheck",
    ("etcd", "members"): "/machine.MachineService/EtcdMemberList",
    ("etcd", "status"): "/machine.MachineService/EtcdStatus",
    ("etcd", "snapshot"): "/machine.MachineService/EtcdSnapshot",
    ("etcd", "leave"): "/machine.MachineService/EtcdLeaveCluster",
    ("etcd", "remove-member"): "/machine.MachineService/EtcdRemoveMemberByID",
    ("bootstrap",): "/machine.MachineService/Bootstrap",
    ("kubeconfig",): "/machine.MachineService/Kubeconfig",
    (
        "upgrade-k8s",
    ): "/machine.MachineService/Kubeconfig",  # it reads the admin kubeconfig through Talos first
    ("reset",): "/machine.MachineService/Reset",
    ("upgrade",): "/machine.MachineService/Upgrade",
    ("apply-config",): "/machine.MachineService/ApplyConfiguration",
}

NOT_AUTHORIZED = "rpc error: code = PermissionDenied desc = not authorized"
CACHE_DIR = "authz"  # under the lab root: what a certificate check found, by hash of (CA, certificate, key)
_seen: dict[str, dict[str, Any]] = {}


def alert(text: str) -> str:
    """How talosctl reports the node's TLS alert about its client certificate (TLS 1.3: at the first read)."""
    return (
        'rpc error: code = Unavailable desc = connection error: desc = "error reading server preface: '
        f'remote error: tls: {text}"'
    )


def _pem(value: str) -> str:
    text = str(value or "").strip()
    if "BEGIN" in text:
        return text
    try:
        return base64.b64decode(text, validate=True).decode()
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return ""


def _checked(root: Path, ca: str, crt: str, key: str) -> dict[str, Any]:
    """verify_client's answer, kept under the lab root: cryptography costs each talosctl call ~0.2 s, and the
    answer for one (CA, certificate, key) never changes (expiry is judged at each call from the dates kept)."""
    digest = hashlib.sha256("\0".join((ca, crt, key)).encode()).hexdigest()
    found = _seen.get(digest)
    if found is not None:
        return found
    path = Path(root) / CACHE_DIR / f"{digest}.json"
    try:
        found = json.loads(path.read_text())
    except (OSError, ValueError):
        from skynet_lab import talos_pki

        found = talos_pki.verify_client(_pem(ca), _pem(crt), _pem(key))
        path.parent.mkdir(parents=True, exist_ok=True)
        api.atomic_write(path, json.dumps(found), 0o600)
    _seen[digest] = found
    return found


def authenticate(root: Path, node_ca: str | None, context: dict[str, Any]) -> tuple[frozenset[str], str]:
    """(roles, "") of the talosconfig's client certificate as the node verifies it, or (no roles, the error
    talosctl prints)."""
    crt, key = str(context.get("crt") or ""), str(context.get("key") or "")
    if not _pem(crt) or not _pem(key):
        return frozenset(), "error constructing client: tls: failed to find any PEM data in certificate input"
    if not node_ca or not _pem(node_ca):
        return frozenset(), alert("unknown certificate authority")
    found = _checked(root, node_ca, crt, key)
    if found.get("error") == "client":
        return frozenset(), f"error constructing client: {found['text']}"
    if "error" in found:
        return frozenset(), alert(str(found["text"]))
    if not found["not_before"] <= time.time() <= found["not_after"]:
        return frozenset(), alert("expired certificate")
    return frozenset(found["roles"]), ""


def method(inv: Invocation) -> str:
    """The API method a command calls; "" for one the table does not know (it falls back to os:admin)."""
    return METHODS.get(inv.command) or METHODS.get(inv.command[:1]) or ""


def authorized(inv: Invocation, roles: frozenset[str]) -> bool:
    """One of the roles may call the command's method (Talos's Authorizer: a non-empty intersection)."""
    return bool(RULES.get(method(inv), FALLBACK) & roles)
