"""The node-facing talosctl commands of the lab: apply-config, version, bootstrap, kubeconfig, and dispatch."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import re
import secrets
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from skynet_lab import state, talos_etcd, talos_health, talos_lifecycle, talos_read, talos_tls, talos_upgrade
from skynet_lab.cli import CliError, Invocation, check_args
from skynet_lab.talos_conn import APID_PORT, Ctx, Failure
from skynet_tui import api


def handle(inv: Invocation) -> int:
    """Run one node-facing talosctl command against the lab in SKYNET_LAB_DIR; returns the exit code."""
    handler = (
        talos_upgrade.HANDLERS.get(inv.command)
        or HANDLERS.get(inv.command)
        or talos_lifecycle.HANDLERS.get(inv.command)
        or HANDLERS.get(inv.command[:1])
    )
    if handler is None:
        print(
            f"talosctl {' '.join(inv.command)} is not simulated by the Skynet lab",
            file=sys.stderr,
            flush=True,
        )
        return 1
    try:
        ctx = Ctx.load(inv)
        return handler(ctx)
    except Failure as exc:
        print(exc.message, file=sys.stderr, flush=True)
        return 1
    except state.LabStateError as exc:
        print(f"Skynet lab: {exc}", file=sys.stderr, flush=True)
        return 1


# ---------------------------------------------------------------- apply-config


def _invalid(problem: str) -> Failure:
    return Failure(
        "error applying new configuration: rpc error: code = InvalidArgument desc = configuration validation "
        f"failed: 1 error occurred:\n\t* {problem}\n\n"
    )


def summarize(text: str, node: dict[str, Any], lab: dict[str, Any]) -> dict[str, Any]:
    """What the lab keeps of an applied machine config (never its secrets); raises Failure when invalid."""
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        raise Failure(
            f"error applying new configuration: rpc error: code = InvalidArgument desc = failed to parse config: {exc}"
        ) from None
    main = next((d for d in docs if isinstance(d, dict) and isinstance(d.get("machine"), dict)), None)
    if main is None:
        raise _invalid("the configuration has no v1alpha1 document with a machine section")
    machine, cluster = main["machine"], main.get("cluster") or {}
    machine_type = machine.get("type")
    if machine_type not in ("controlplane", "worker", "init"):
        raise _invalid(f'unknown machine type "{machine_type}"')
    hostname = next(
        (d.get("hostname") for d in docs if isinstance(d, dict) and d.get("kind") == "HostnameConfig"), None
    )
    hostname = hostname or (machine.get("network") or {}).get("hostname")
    install = machine.get("install") or {}
    install_docs = [d for d in docs if isinstance(d, dict) and d.get("kind") in ("UnattendedInstallConfig",)]
    disk_path = install.get("disk") or (install_docs[0].get("disk") if install_docs else None)
    selector = install.get("diskSelector") or (install_docs[0].get("diskSelector") if install_docs else None)
    target = _install_target(node, disk_path, selector)
    kubelet_image = str((machine.get("kubelet") or {}).get("image") or "")
    cni = (((cluster.get("network") or {}).get("cni")) or {}).get("name", "flannel")
    links = [d.get("name") for d in docs if isinstance(d, dict) and d.get("kind") == "LinkConfig"]
    vips = [d.get("name") for d in docs if isinstance(d, dict) and d.get("kind") == "Layer2VIPConfig"]
    link_configs = [
        {"name": str(d.get("name")), "addresses": [str(a.get("address")) for a in d.get("addresses") or []]}
        for d in docs
        if isinstance(d, dict) and d.get("kind") == "LinkConfig"
    ]
    aliases = [_alias(d) for d in docs if isinstance(d, dict) and d.get("kind") == "LinkAliasConfig"]
    return {
        "sha256": hashlib.sha256(text.encode()).hexdigest(),
        "machine_type": "controlplane" if machine_type == "init" else machine_type,
        "hostname": hostname,
        "install_dev": target["dev_path"],
        "install_image": install.get("image"),
        "cluster_name": cluster.get("clusterName"),
        "endpoint": (cluster.get("controlPlane") or {}).get("endpoint"),
        "kubernetes": kubelet_image.rpartition(":v")[2]
        if ":v" in kubelet_image
        else lab["versions"]["kubernetes"],
        "cni": cni,
        "links": links,
        "link_configs": link_configs,
        "aliases": aliases,
        "vips": vips,
        "ca": (machine.get("ca") or {}).get("crt"),
    }


_MAC_SELECTOR = re.compile(r'^mac\(link\.(permanent_addr|hardware_addr)\) == "([0-9a-fA-F:]{17})"$')


def _alias(doc: dict[str, Any]) -> dict[str, str]:
    """A LinkAliasConfig the lab can follow: a MAC selector on the permanent or the current address."""
    match = _MAC_SELECTOR.match(str((doc.get("selector") or {}).get("match") or "").strip())
    if match is None:
        raise Failure(
            f'LinkAliasConfig {doc.get("name")!r}: only the selectors mac(link.permanent_addr) == "…" and '
            'mac(link.hardware_addr) == "…" are simulated by the Skynet lab'
        )
    field = "permanentAddr" if match[1] == "permanent_addr" else "hardwareAddr"
    return {"name": str(doc.get("name")), "field": field, "mac": match[2]}


def _install_target(node: dict[str, Any], disk_path: str | None, selector: Any) -> dict[str, Any]:
    disks = node["hardware"]["disks"]
    if selector:
        fields = {
            k: v
            for k, v in dict(selector).items()
            if k in ("serial", "wwid", "model", "type", "size", "busPath")
        }
        found = [
            d
            for d in disks
            if all(str(d.get(_SELECTOR_KEYS.get(k, k), "")) == str(v) for k, v in fields.items())
        ]
        if not found:
            raise _invalid(f"no disk found matching the install disk selector {dict(selector)}")
        target = found[0]
    else:
        path = disk_path or "/dev/sda"
        target = next((d for d in disks if d["dev_path"] == path), None)
        if target is None:
            raise _invalid(f'specified install disk does not exist: "{path}"')
    if target["readonly"] or target["cdrom"]:
        raise _invalid(f'install disk "{target["dev_path"]}" is read-only')
    return target


_SELECTOR_KEYS = {"busPath": "bus_path"}


def apply_config(ctx: Ctx) -> int:
    """`talosctl apply-config --insecure -n IP -f FILE`: a machine config for a node in maintenance mode."""
    check_args(ctx.inv, exact=0)
    if not ctx.inv.get("insecure"):
        raise Failure("talosctl apply-config is simulated for maintenance mode only: add --insecure")
    for flag in ("config-patch", "dry-run", "mode"):
        if ctx.inv.has(flag):
            raise Failure(f"talosctl apply-config --{flag} is not simulated by the Skynet lab")
    pinned = ctx.inv.strings("cert-fingerprint")
    for value in pinned:
        try:
            base64.b64decode(value, validate=True)
        except ValueError as exc:
            raise Failure(f"error parsing certificate fingerprint {value!r}: {exc}") from None
    file = ctx.inv.get("file")
    if not file:
        raise Failure("no filename supplied for configuration")
    try:
        text = Path(str(file)).read_text()
    except OSError as exc:
        raise Failure(f"open {file}: {(exc.strerror or str(exc)).lower()}") from None
    targets = ctx.insecure_nodes()
    faults = ctx.lab.get("faults", {})
    if faults.get("kill_during") == "apply-config" and state.take_fault(ctx.root, "kill_during", 1):
        _kill_parent()
        return 1
    if faults.get("kill_mid_apply") and state.take_fault(ctx.root, "kill_mid_apply", 1):
        # The installer dies while this apply is on its way; this talosctl, orphaned, carries on and the node
        # takes the config, installs and reboots, as a real machine would.
        _kill_parent()
        _orphaned()
    ctx.sleep("apply-config")
    status = 0
    for ip in targets:
        try:
            try:
                node = ctx.check_insecure(ip)
            except Failure as exc:
                raise Failure(f"error applying new configuration: {exc.message}") from None
            if pinned:
                _check_fingerprint(ip, pinned)
            machine = node["ip"]  # its planned address: the state's key, while `ip` may be its lease
            limit = int((faults.get("apply_error") or {}).get(machine, 0))
            if state.take_node_fault(ctx.root, machine, "apply_error", limit):
                raise Failure(
                    "error applying new configuration: rpc error: code = Unavailable desc = error reading from server: "
                    f"read tcp 127.0.0.1:{40000 + os.getpid() % 20000}->{ip}:50000: read: connection reset by peer"
                )
            summary = summarize(text, node, ctx.lab)
        except Failure as exc:
            print(exc.message if len(targets) == 1 else f"{ip}: {exc.message}", file=sys.stderr, flush=True)
            status = 1
            continue
        state.update_node(ctx.root, machine, _record_apply(summary))
        print("Applied configuration without a reboot", file=sys.stderr, flush=True)
    return status


def _check_fingerprint(ip: str, pinned: list[str]) -> None:
    """talosctl's --cert-fingerprint: the TLS handshake fails unless the leaf's SPKI hash is one of `pinned`
    (siderolabs/crypto x509.MatchSPKIFingerprints, as talosctl v1.13.9 installs it)."""
    try:
        presented = talos_tls.presented_fingerprint(ip, APID_PORT)
    except OSError as exc:
        raise Failure(f"error applying new configuration: {exc}") from None
    if presented not in pinned:
        shown = " ".join(pinned)
        raise Failure(
            "error applying new configuration: rpc error: code = Unavailable desc = connection error: desc = "
            "\"transport: authentication handshake failed: leaf peer certificate doesn't match the provided "
            f'fingerprints: [{shown}]"'
        )


def _record_apply(summary: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    """The update of a node's stored state once the configuration `summary` describes is applied."""

    def record(node: dict[str, Any]) -> None:
        node["applied_at"] = (
            node.get("applied_at") or time.time()
        )  # maintenance → installing → rebooting → booting
        node["config"] = summary
        node["role"] = summary["machine_type"]
        node["versions"] = {**node.get("versions", {}), "kubernetes": summary["kubernetes"]}

    return record


def _kill_parent() -> None:
    """The kill_during fault: the caller (the installer) dies by SIGKILL, as on a crash or power loss."""
    parent = os.getppid()
    if parent > 1:
        os.kill(parent, signal.SIGKILL)


def _orphaned() -> None:
    """Nobody reads our output any more: send it to /dev/null instead of failing on a broken pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError):
            stream.flush()
        os.dup2(devnull, stream.fileno())
    os.close(devnull)


# ---------------------------------------------------------------- bootstrap


def bootstrap(ctx: Ctx) -> int:
    """`talosctl bootstrap -n CP`: exactly once per lab; the real transient and already-done errors."""
    check_args(ctx.inv, exact=0)
    _, nodes, config = ctx.secure_route("error executing bootstrap: ")
    if len(nodes) > 1:
        raise CliError('command "bootstrap" is not supported with multiple nodes', ctx.inv.command)
    ip = nodes[0]
    prefix = "error executing bootstrap: rpc error: code = "
    try:
        node = ctx.check_secure(ip, config)
    except Failure as exc:
        raise Failure(f"error executing bootstrap: {exc.message}") from None
    ctx.sleep("bootstrap")
    if ctx.inv.get("recover-from"):
        return talos_etcd.recover(ctx, node)
    if node["role"] != "controlplane":
        raise Failure(prefix + "FailedPrecondition desc = bootstrap is not available on worker nodes")
    limit = int(ctx.lab.get("faults", {}).get("bootstrap_not_ready") or 0)
    if not ctx.lab.get("bootstrap") and (
        not node["bootstrap_available"] or state.take_fault(ctx.root, "bootstrap_not_ready", limit)
    ):
        raise Failure(prefix + "FailedPrecondition desc = bootstrap is not available yet")
    won = False

    def claim(lab: dict[str, Any]) -> None:
        nonlocal won
        if not lab.get("bootstrap"):
            lab["bootstrap"] = {"node": node["ip"], "at": time.time()}
            won = True

    state.update_lab(ctx.root, claim)
    if not won:
        raise Failure(prefix + "AlreadyExists desc = etcd data directory is not empty")
    state.update_node(ctx.root, node["ip"], lambda n: n.update(etcd_bootstrapped=True))
    return 0


# ---------------------------------------------------------------- kubeconfig


def kubeconfig(ctx: Ctx) -> int:
    """`talosctl kubeconfig PATH [--force] --merge=false -n CP`: an admin kubeconfig for the mock API."""
    check_args(ctx.inv, maximum=1)
    if not ctx.inv.args or ctx.inv.args[0] == "-":
        raise Failure(
            "the Skynet lab writes the kubeconfig to a file only (never ~/.kube/config): pass its path"
        )
    _, nodes, config = ctx.secure_route("error copying: ")
    if len(nodes) > 1:
        raise CliError('command "kubeconfig" is not supported with multiple nodes', ctx.inv.command)
    try:
        node = ctx.check_secure(nodes[0], config)
    except Failure as exc:
        raise Failure(f"error copying: {exc.message}") from None
    if node["role"] != "controlplane":
        raise Failure(
            "error copying: rpc error: code = Unimplemented desc = kubeconfig is only available on control plane nodes"
        )
    ctx.sleep("kubeconfig")
    path = Path(ctx.inv.args[0])
    if path.is_dir():
        path = path / "kubeconfig"
    if path.exists() and ctx.inv.get("merge", True):
        raise Failure("merging kubeconfigs is not simulated by the Skynet lab: pass --merge=false")
    if path.exists() and not ctx.inv.get("force"):
        raise Failure(f"kubeconfig file already exists, use --force to overwrite: {path}")
    api.atomic_write(path, _kubeconfig_text(ctx, node), 0o600)
    return 0


def _kubeconfig_text(ctx: Ctx, node: dict[str, Any]) -> str:
    cluster = (node.get("config") or {}).get("cluster_name") or "lab"
    name = f"{cluster}-simulated-lab"
    endpoint = str((node.get("config") or {}).get("endpoint") or f"https://{node['ip']}:6443")
    # The mock Kubernetes API when the lab runs one; else the cluster endpoint, as on real hardware.
    server = ctx.lab.get("api_url") or endpoint
    token = "lab-" + secrets.token_hex(16)
    data = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": server}}],
        "users": [{"name": f"admin@{name}", "user": {"token": token}}],
        "contexts": [
            {
                "name": f"admin@{name}",
                "context": {"cluster": name, "namespace": "default", "user": f"admin@{name}"},
            }
        ],
        "current-context": f"admin@{name}",
        "preferences": {},
    }
    return yaml.safe_dump(data, sort_keys=False)


def reset(ctx: Ctx) -> int:
    """`talosctl reset`: with --system-labels-to-wipe the disaster-recovery wipe of etcd's data (skynet restore),
    else the reset of a whole machine (skynet node remove)."""
    if ctx.inv.has("system-labels-to-wipe"):
        return talos_etcd.reset(ctx)
    return talos_lifecycle.reset(ctx)


HANDLERS: dict[tuple[str, ...], Callable[[Ctx], int]] = {
    ("reset",): reset,
    ("get",): talos_read.get,
    ("version",): talos_read.version,
    ("service",): talos_read.service,
    ("etcd",): talos_read.etcd,
    ("apply-config",): apply_config,
    ("bootstrap",): bootstrap,
    ("health",): talos_health.health,
    ("kubeconfig",): kubeconfig,
}
