"""The workspace's record of Talos access grants (access.yaml, committed): who holds which role until when.

It holds no key material: a grant's certificate and key live only in the talosconfig handed to the operator
(secrets/access/NAME.talosconfig on the laptop that issued it). Talos has no certificate revocation list, so a
revoked grant's certificate stays valid until its not-after: short TTLs are the control, rotating the OS CA the
only hard revoke.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from skynet_tui.workspace import Workspace

FILE = "access.yaml"
FOLDER = "access"  # under secrets/: the issued talosconfigs (0600, never committed)
WARN_BEFORE = dt.timedelta(days=30)
# Talos's built-in roles (siderolabs/talos pkg/machinery/role). What `grant` issues, and why not the others:
GRANTABLE = {
    "os:operator": "everything os:reader may, plus reboot, shutdown, service restart and etcd snapshot",
    "os:reader": "read-only APIs that expose no secrets (version, get, services, logs, etcd members, health)",
    # Talos's least-privilege role for a backup job: etcd snapshot, member list and status, nothing else.
    "os:etcd:backup": "etcd snapshot only (for a machine that takes backups with talosctl etcd snapshot)",
}
REFUSED = {
    "os:admin": "the workspace's talosconfig (secrets/talosconfig) already is the admin credential; "
    "grant os:operator or os:reader",
    "os:impersonator": "it lets its holder claim any role, os:admin included; Talos uses it between its own "
    "API servers",
}
NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
TTL = re.compile(r"^(\d+)([mhdw])$")
UNITS = {"m": dt.timedelta(minutes=1), "h": dt.timedelta(hours=1), "d": dt.timedelta(days=1),
         "w": dt.timedelta(weeks=1)}  # fmt: skip
DEFAULT_TTL = (
    "8760h"  # Talos's default for the admin client certificate (TalosAPIDefaultCertificateValidityDuration)
)
HEADER = (
    "# Written by `skynet access`: who holds a Talos client certificate of this cluster, with which role, until\n"
    "# when. No key material here. Talos has no certificate revocation list: a revoked grant stays valid until\n"
    "# its notAfter; rotating the OS CA is the only hard revoke.\n"
)


class AccessError(ValueError):
    """Bad input or an unreadable record: exit 2, the message names the field; nothing was written."""


@dataclass(frozen=True)
class Grant:
    name: str
    role: str
    serial: str  # the certificate's serial number, hex
    sha256: str  # SHA-256 of the certificate (DER), hex: what `openssl x509 -fingerprint -sha256` shows
    issued_at: dt.datetime
    not_after: dt.datetime

    def to_dict(self) -> dict[str, str]:
        return {
            "name": self.name,
            "role": self.role,
            "serial": self.serial,
            "sha256": self.sha256,
            "issuedAt": _stamp(self.issued_at),
            "notAfter": _stamp(self.not_after),
        }


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _time(value: Any, where: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise AccessError(f"{where}: not an RFC 3339 time: {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def check_name(name: str) -> str:
    if not NAME.match(name or ""):
        raise AccessError(
            f"NAME {name!r}: 1 to 63 lower-case letters, digits or '-', starting and ending with a letter or "
            "digit (a DNS label: it names the operator in the certificate and the talosconfig's file)"
        )
    return name


def check_role(role: str) -> str:
    if role in REFUSED:
        raise AccessError(f"--role {role}: not granted: {REFUSED[role]}")
    if role not in GRANTABLE:
        raise AccessError(f"--role {role!r}: not a Talos role skynet grants; one of {', '.join(GRANTABLE)}")
    return role


def parse_ttl(text: str) -> dt.timedelta:
    """A lifetime like 24h, 90d, 12w, 30m (Go's h and m, plus d and w)."""
    match = TTL.match(text or "")
    if not match or int(match.group(1)) == 0:
        raise AccessError(f"--ttl {text!r}: a positive number and a unit: m, h, d or w (e.g. 24h, 90d)")
    return int(match.group(1)) * UNITS[match.group(2)]


def load(root: Path) -> list[Grant]:
    """The grants recorded in the workspace at `root` (none without the file); AccessError when unreadable."""
    path = Path(root) / FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise AccessError(f"{path}: cannot be read: {exc}") from None
    entries = (data or {}).get("grants") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise AccessError(f"{path}: grants: a list is expected")
    found = []
    for index, entry in enumerate(entries):
        where = f"{path}: grants[{index}]"
        if not isinstance(entry, dict):
            raise AccessError(f"{where}: a mapping is expected")
        try:
            found.append(
                Grant(
                    name=str(entry["name"]),
                    role=str(entry["role"]),
                    serial=str(entry["serial"]),
                    sha256=str(entry["sha256"]),
                    issued_at=_time(entry["issuedAt"], f"{where}.issuedAt"),
                    not_after=_time(entry["notAfter"], f"{where}.notAfter"),
                )
            )
        except KeyError as exc:
            raise AccessError(f"{where}: {exc.args[0]} is missing") from None
    return found


def dump(grants: list[Grant]) -> str:
    body = yaml.safe_dump(
        {"grants": [g.to_dict() for g in grants]}, sort_keys=False, default_flow_style=False
    )
    return HEADER + body


def talosconfig_path(ws: Workspace, name: str) -> Path:
    """Where `grant` writes NAME's talosconfig (0600, under the git-ignored secrets/)."""
    return ws.secrets_dir / FOLDER / f"{name}.talosconfig"


def state(grant: Grant, now: dt.datetime) -> str:
    """ "expired", "expiring" (within WARN_BEFORE) or "ok"."""
    if grant.not_after <= now:
        return "expired"
    return "expiring" if grant.not_after - now <= WARN_BEFORE else "ok"


def summary(grants: list[Grant], now: dt.datetime) -> tuple[str, str]:
    """The console's line about Talos access: (text, "ok" or "warn"); ("", "") with no grant."""
    if not grants:
        return "", ""
    parts, warn = [], False
    # The expired and the expiring first: the console's problem line repeats this text.
    for grant in sorted(grants, key=lambda g: (state(g, now) == "ok", g.name)):
        when = f"{grant.not_after:%Y-%m-%d}"
        kind = state(grant, now)
        warn = warn or kind != "ok"
        tail = {"expired": f"EXPIRED {when}", "expiring": f"expires {when}, within 30 days"}.get(
            kind, f"until {when}"
        )
        parts.append(f"{grant.name} {grant.role} {tail}")
    return "; ".join(parts), "warn" if warn else "ok"


class Watcher:
    """The console's line about a workspace's grants, read again only when access.yaml changes (it asks often)."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._seen: tuple[int, list[Grant] | str] | None = None

    def summary(self, now: dt.datetime) -> tuple[str, str]:
        try:
            stamp = (self.root / FILE).stat().st_mtime_ns
        except OSError:
            stamp = -1
        if self._seen is None or self._seen[0] != stamp:
            try:
                self._seen = (stamp, load(self.root))
            except AccessError as exc:
                self._seen = (stamp, str(exc))
        found = self._seen[1]
        return (found, "warn") if isinstance(found, str) else summary(found, now)
