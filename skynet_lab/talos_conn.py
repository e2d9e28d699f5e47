"""How the simulated talosctl reaches lab machines: talosconfig, endpoints, nodes and the real error texts."""

from __future__ import annotations

import base64
import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from skynet_lab import state, talos_authz
from skynet_lab.cli import Invocation
from skynet_tui import api

APID_PORT = 50000


class Failure(Exception):  # noqa: N818 - the command's outcome, printed as talosctl prints errors
    """A talosctl error: `message` goes to stderr as is, the exit code is 1."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def refused(ip: str) -> str:
    return (
        'rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: '
        f'dial tcp {ip}:{APID_PORT}: connect: connection refused"'
    )


UNKNOWN_AUTHORITY = (
    'rpc error: code = Unavailable desc = connection error: desc = "transport: authentication handshake failed: '
    'tls: failed to verify certificate: x509: certificate signed by unknown authority"'
)
CERT_REQUIRED = (
    'rpc error: code = Unavailable desc = connection error: desc = "error reading server preface: '
    'remote error: tls: certificate required"'
)
NO_NODES = (
    "nodes are not set for the command: please use `--nodes` flag or configuration file to set the nodes "
    "to run the command against"
)


LISTENER_LAG = 1.0  # the lab moves a machine's listener to its new address within this (see core.Lab)


def port_open(ip: str, wait: float = 0.0) -> bool:
    """The lab process listens on <ip>:50000 for reachable machines; a stopped lab refuses like dead hardware.
    `wait`: seconds to keep trying (a machine that just moved to its configured address)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            with socket.create_connection((ip, APID_PORT), timeout=0.5):
                return True
        except OSError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)


@dataclass
class TalosConfig:
    """The talosconfig in use: its path, its raw data and the selected context."""

    path: Path
    data: dict[str, Any]
    context: str

    @property
    def ctx(self) -> dict[str, Any]:
        return (self.data.get("contexts") or {}).get(self.context) or {}

    def save(self) -> None:
        text = yaml.safe_dump(self.data, sort_keys=False, indent=4, default_flow_style=False)
        api.atomic_write(self.path, text, 0o600)


@dataclass
class Ctx:
    """One invocation against the lab: the parsed argv, the lab state and the nodes as of now."""

    inv: Invocation
    root: Path
    lab: dict[str, Any] = field(default_factory=dict)
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, inv: Invocation) -> Ctx:
        ctx = cls(inv=inv, root=state.lab_root())
        ctx.refresh()
        return ctx

    def refresh(self) -> None:
        """The machines as of now, by the address each answers at (a lease before its install, then its
        configured address; a machine with no address is reachable at none)."""
        self.lab = state.load_lab(self.root)
        derived = state.derive_all(self.lab, state.load_stored_nodes(self.root))
        self.nodes = {n["address"]: n for n in derived if n["address"]}

    def sleep(self, operation: str) -> None:
        delay = state.latency(self.lab, operation)
        if delay > 0:
            time.sleep(delay)

    # ------------------------------------------------------------ talosconfig

    def talosconfig_path(self) -> Path:
        value = self.inv.get("talosconfig") or os.environ.get("TALOSCONFIG")
        return Path(str(value)) if value else Path.home() / ".talos" / "config"

    def talosconfig(self) -> TalosConfig:
        path = self.talosconfig_path()
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except FileNotFoundError:
            raise Failure(f"open {path}: no such file or directory") from None
        except (OSError, yaml.YAMLError) as exc:
            raise Failure(f"failed to parse config: {exc}") from None
        if not isinstance(data, dict):
            raise Failure("failed to parse config: not a talosconfig")
        name = str(self.inv.get("context") or data.get("context") or "")
        if name not in (data.get("contexts") or {}):
            raise Failure(f'context "{name}" is not defined in "{path}"')
        return TalosConfig(path, data, name)

    # ------------------------------------------------------------ targets

    def insecure_nodes(self) -> list[str]:
        """Maintenance-mode calls go straight to the -n addresses."""
        if not self.inv.nodes:
            raise Failure(NO_NODES)
        return self.inv.nodes

    def secure_route(self, prefix: str = "") -> tuple[str, list[str], TalosConfig]:
        """(endpoint, target nodes, talosconfig) for an mTLS call; raises what talosctl would print.

        gRPC connects lazily, so a dead endpoint shows up as the command's own error: `prefix` is what the
        command puts before it (e.g. "error executing bootstrap: ").
        """
        config = self.talosconfig()
        endpoints = self.inv.endpoints or list(config.ctx.get("endpoints") or [])
        if not endpoints:
            raise Failure("error constructing client: failed to determine endpoints")
        nodes = self.inv.nodes or list(config.ctx.get("nodes") or []) or endpoints[:1]
        first_error = ""
        for endpoint in endpoints:
            try:
                node = self.check_secure(endpoint, config)
            except Failure as exc:
                first_error = first_error or exc.message
                continue
            roles, _ = talos_authz.authenticate(self.root, (node.get("config") or {}).get("ca"), config.ctx)
            if not talos_authz.authorized(self.inv, roles):
                raise Failure(prefix + talos_authz.NOT_AUTHORIZED)
            return endpoint, nodes, config
        raise Failure(prefix + first_error)

    def reachable(self, ip: str) -> dict[str, Any]:
        node = self.nodes.get(ip)
        if node is None or not node["reachable"] or not port_open(ip, wait=LISTENER_LAG):
            raise Failure(refused(ip))
        if node["stage"] in ("installing", "rebooting"):
            raise Failure(refused(ip))
        return node

    def check_insecure(self, ip: str) -> dict[str, Any]:
        """The node answers the maintenance API (no client certificate)."""
        node = self.reachable(ip)
        if node["configured"]:
            raise Failure(CERT_REQUIRED)
        return node

    def check_secure(self, ip: str, config: TalosConfig) -> dict[str, Any]:
        """The node answers mTLS with a certificate the talosconfig's CA trusts, and accepts the client
        certificate (signed by its OS CA, valid now); which methods the certificate's roles may call is
        secure_route's check."""
        node = self.reachable(ip)
        if not node["configured"]:
            raise Failure(UNKNOWN_AUTHORITY)
        node_ca = (node.get("config") or {}).get("ca")
        client_ca = config.ctx.get("ca")
        if node_ca and client_ca and _pem(node_ca) != _pem(client_ca):
            raise Failure(UNKNOWN_AUTHORITY)
        _, error = talos_authz.authenticate(self.root, node_ca, config.ctx)
        if error:
            raise Failure(error)
        return node


def _pem(value: str) -> str:
    """Compare CA certificates whether they are stored as base64(PEM) or PEM."""
    text = value.strip()
    if "BEGIN" not in text:
        try:
            text = base64.b64decode(text).decode()
        except (ValueError, UnicodeDecodeError):
            return text
    return "".join(text.split())
