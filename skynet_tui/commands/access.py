"""`skynet access grant|list|revoke`: per-operator Talos talosconfigs with a role (os:operator, os:reader),
issued from the workspace's secrets bundle and recorded in access.yaml (committed, no key material).

Exit codes: 0 done, 1 failed, 2 bad input (nothing written).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

import yaml

from skynet_tui.access import grants
from skynet_tui.access.grants import AccessError, Grant
from skynet_tui.commands import EXIT_OK, EXIT_USAGE
from skynet_tui.commands.target import UsageError, workspace_arg
from skynet_tui.workspace import SEALED, Workspace, WorkspaceLocked

NO_CRL = (
    "Talos has no certificate revocation list: the certificate stays valid until its not-after ({when}). "
    "Short --ttl values are the control; rotating the OS CA is the only hard revoke."
)


def run(args: argparse.Namespace) -> int:
    try:
        ws = workspace_arg(args)
        if args.action == "list":
            return show(ws)
        name = grants.check_name(args.name or "")
        if args.action == "grant":
            return grant(ws, name, grants.check_role(args.role or ""), grants.parse_ttl(args.ttl))
        return revoke(ws, name)
    except (AccessError, UsageError, WorkspaceLocked) as exc:
        print(f"skynet access: {exc}; nothing was written", file=sys.stderr)
        return EXIT_USAGE


def _admin_context(ws: Workspace) -> tuple[str, list[str], list[str]]:
    """(cluster name, endpoints, nodes) of the workspace's admin talosconfig: the grant reaches the same API."""
    try:
        data = yaml.safe_load(ws.talosconfig.read_text(encoding="utf-8")) or {}
        name = str(data["context"])
        context = data["contexts"][name]
    except FileNotFoundError:
        raise AccessError(
            f"{ws.talosconfig} does not exist: the workspace's install has not finished"
        ) from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise AccessError(f"{ws.talosconfig}: cannot be read ({exc})") from None
    endpoints = [str(e) for e in context.get("endpoints") or []]
    if not endpoints:
        raise AccessError(f"{ws.talosconfig}: no endpoints: the workspace's install has not finished")
    return name, endpoints, [str(n) for n in context.get("nodes") or []]


def grant(ws: Workspace, name: str, role: str, ttl: dt.timedelta) -> int:
    from skynet_tui.access import issue  # cryptography: only when a certificate is made

    with ws.lock():
        recipients = _recipients(ws)
        recorded = grants.load(ws.root)
        held = next((g for g in recorded if g.name == name), None)
        if held is not None:
            raise AccessError(
                f"NAME {name!r} already holds {held.role} until {held.not_after:%Y-%m-%d}: "
                f"`skynet access revoke {name}` first"
            )
        cluster, endpoints, nodes = _admin_context(ws)
        ca_crt, ca_key = issue.read_os_ca(ws.secrets_bundle)
        issued = issue.issue(
            ca_crt, ca_key, name=name, role=role, ttl=ttl, cluster=cluster, endpoints=endpoints, nodes=nodes
        )
        path = grants.talosconfig_path(ws, name)
        ws.write_secret(path.relative_to(ws.secrets_dir), issued.talosconfig)
        ws.write(grants.FILE, grants.dump([*recorded, issued.grant]))
        _commit(ws, f"skynet access: grant {name} {role} until {issued.grant.not_after:%Y-%m-%d}", recipients)
    g = issued.grant
    print(f"granted {name} {role} until {g.not_after:%Y-%m-%d %H:%M} UTC (certificate serial {g.serial})")
    print(f"talosconfig: {path}")
    print("Hand it over privately: it holds the private key. Recorded in access.yaml (no key material).")
    return EXIT_OK


def revoke(ws: Workspace, name: str) -> int:
    with ws.lock():
        recipients = _recipients(ws)
        recorded = grants.load(ws.root)
        held = next((g for g in recorded if g.name == name), None)
        if held is None:
            raise AccessError(f"NAME {name!r}: no such grant in {grants.FILE} (`skynet access list`)")
        ws.write(grants.FILE, grants.dump([g for g in recorded if g.name != name]))
        grants.talosconfig_path(ws, name).unlink(missing_ok=True)
        _commit(ws, f"skynet access: revoke {name} ({held.role}, serial {held.serial})", recipients)
    print(f"revoked {name} ({held.role}): removed from {grants.FILE} and the local talosconfig deleted.")
    print(NO_CRL.format(when=f"{held.not_after:%Y-%m-%d %H:%M} UTC"))
    return EXIT_OK


def _recipients(ws: Workspace) -> list[str]:
    """Who the workspace's secrets are encrypted to (read before anything is written: bad answers exit 2)."""
    from skynet_tui import spec

    return spec.load(ws.cluster_yaml).recipients


def _commit(ws: Workspace, message: str, recipients: list[str]) -> None:
    """Commit access.yaml; a workspace that shares its secrets also gets the issued talosconfig (secrets/access/)
    encrypted into secrets.age/ in the same commit. Called with the workspace lock held."""
    if not (ws.root / ".git").exists():
        return
    if recipients or ws.path(SEALED).exists():
        from skynet_tui.sharing.store import seal

        seal(ws, recipients)
    ws.commit(message, [grants.FILE, SEALED])


def show(ws: Workspace) -> int:
    recorded = grants.load(ws.root)
    if not recorded:
        print(f"No Talos access granted in {ws.root}: `skynet access grant NAME --role os:reader`")
        return EXIT_OK
    now = dt.datetime.now(dt.UTC)
    rows = [("NAME", "ROLE", "ISSUED", "EXPIRES", "SERIAL", "")]
    rows += [_row(g, now) for g in sorted(recorded, key=lambda g: g.name)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return EXIT_OK


def _row(g: Grant, now: dt.datetime) -> tuple[str, str, str, str, str, str]:
    note = {"expired": "EXPIRED", "expiring": "expires within 30 days"}.get(grants.state(g, now), "")
    return (g.name, g.role, f"{g.issued_at:%Y-%m-%d}", f"{g.not_after:%Y-%m-%d %H:%M}", g.serial, note)
