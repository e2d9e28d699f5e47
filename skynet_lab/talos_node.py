"""The node-facing talosctl commands of the lab: apply-config, bootstrap, kubeconfig, config, and dispatch."""

from __future__ import annotations

import hashlib
import os
import secrets
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from skynet_lab import state, talos_health, talos_read, talos_upgrade
from skynet_lab.talos_conn import Ctx, Failure, TalosConfig
from skynet_lab.talosctl_cli import CliError, Invocation, check_args


def handle(inv: Invocation) -> int:
    """Run one node-facing talosctl command against the lab in SKYNET_LAB_DIR; returns the exit code."""
    handler = HANDLERS.get(inv.command) or HANDLERS.get(inv.command[:1])
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


def _load_patch(text: str) -> list[Any]:
    if text.startswith("@"):
        try:
            text = Path(text[1:]).read_text()
        except OSError as exc:
            raise Failure(f"open {text[1:]}: {exc.strerror.lower() if exc.strerror else exc}") from None
    try:
        return [doc for doc in yaml.safe_load_all(text) if doc is not None]
    except yaml.YAMLError as exc:
        raise Failure(f"error loading config patch: {exc}") from None


def _merge(base: Any, patch: Any) -> Any:
    """Talos' strategic merge, enough for the lab: maps merge, lists append, scalars replace."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for key, value in patch.items():
            out[key] = _merge(base[key], value) if key in base else value
        return out
    if isinstance(base, list) and isinstance(patch, list):
        return base + patch
    return patch


def _patched(docs: list[Any], patches: list[str]) -> list[Any]:
    for text in patches:
        for patch in _load_patch(text):
            if not isinstance(patch, dict):
                continue  # JSON6902 patches do not change what the lab records
            if "kind" in patch:
                key = (patch.get("kind"), patch.get("name"))
                match = [
                    i
                    for i, d in enumerate(docs)
                    if isinstance(d, dict) and (d.get("kind"), d.get("name")) == key
                ]
                if match:
                    docs[match[0]] = _merge(docs[match[0]], patch)
                else:
                    docs.append(patch)
            else:
                main = [i for i, d in enumerate(docs) if isinstance(d, dict) and "machine" in d]
                if main:
                    docs[main[0]] = _merge(docs[main[0]], patch)
    return docs


def _invalid(problem: str) -> Failure:
    return Failure(
        "error applying new configuration: rpc error: code = InvalidArgument desc = configuration validation "
        f"failed: 1 error occurred:\n\t* {problem}\n\n"
    )


def summarize(text: str, patches: list[str], node: dict[str, Any], lab: dict[str, Any]) -> dict[str, Any]:
    """What the lab keeps of an applied machine config (never its secrets); raises Failure when invalid."""
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        raise Failure(
            f"error applying new configuration: rpc error: code = InvalidArgument desc = failed to parse config: {exc}"
        ) from None
    docs = _patched(docs, patches)
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
        "vips": vips,
        "ca": (machine.get("ca") or {}).get("crt"),
    }


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
    """`talosctl apply-config [--insecure] -n IP -f FILE [-p PATCH]... [--dry-run] [--mode M]`."""
    check_args(ctx.inv, exact=0)
    file = ctx.inv.get("file")
    if not file:
        raise Failure("no filename supplied for configuration")
    try:
        text = Path(str(file)).read_text()
    except OSError as exc:
        raise Failure(f"open {file}: {(exc.strerror or str(exc)).lower()}") from None
    patches = [str(p) for p in ctx.inv.get("config-patch", []) or []]
    insecure = bool(ctx.inv.get("insecure"))
    if insecure:
        targets = ctx.insecure_nodes()
        config = None
    else:
        _, targets, config = ctx.secure_route("error applying new configuration: ")
    faults = ctx.lab.get("faults", {})
    if faults.get("kill_during") == "apply-config" and state.take_fault(ctx.root, "kill_during", 1):
        _kill_parent()
        return 1
    ctx.sleep("apply-config")
    status = 0
    for ip in targets:
        try:
            try:
                node = ctx.check_insecure(ip) if config is None else ctx.check_secure(ip, config)
            except Failure as exc:
                raise Failure(f"error applying new configuration: {exc.message}") from None
            limit = int((faults.get("apply_error") or {}).get(ip, 0))
            if state.take_node_fault(ctx.root, ip, "apply_error", limit):
                raise Failure(
                    "error applying new configuration: rpc error: code = Unavailable desc = error reading from server: "
                    f"read tcp 127.0.0.1:{40000 + os.getpid() % 20000}->{ip}:50000: read: connection reset by peer"
                )
            summary = summarize(text, patches, node, ctx.lab)
        except Failure as exc:
            print(exc.message if len(targets) == 1 else f"{ip}: {exc.message}", file=sys.stderr, flush=True)
            status = 1
            continue
        if ctx.inv.get("dry-run"):
            print(
                "Dry run summary:\nApplied configuration without a reboot (skipped in dry-run).",
                file=sys.stderr,
            )
            continue
        reboot = node["configured"] and str(ctx.inv.get("mode") or "auto") == "reboot"
        state.update_node(ctx.root, ip, lambda n, s=summary, r=reboot: _record_apply(n, s, r))
        message = (
            "Applied configuration with a reboot" if reboot else "Applied configuration without a reboot"
        )
        print(message, file=sys.stderr, flush=True)
    return status


def _record_apply(node: dict[str, Any], summary: dict[str, Any], reboot: bool) -> None:
    now = time.time()
    if not node.get("applied_at"):
        node["applied_at"] = now  # maintenance → installing → rebooting → booting
    elif reboot:
        node["reboot_at"] = now
    node["config"] = summary
    node["role"] = summary["machine_type"]
    node["versions"] = {**node.get("versions", {}), "kubernetes": summary["kubernetes"]}


def _kill_parent() -> None:
    """The kill_during fault: the caller (the installer) dies by SIGKILL, as on a crash or power loss."""
    parent = os.getppid()
    if parent > 1:
        os.kill(parent, signal.SIGKILL)


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
            lab["bootstrap"] = {"node": ip, "at": time.time()}
            won = True

    state.update_lab(ctx.root, claim)
    if not won:
        raise Failure(prefix + "AlreadyExists desc = etcd data directory is not empty")
    state.update_node(ctx.root, ip, lambda n: n.update(etcd_bootstrapped=True))
    return 0


# ---------------------------------------------------------------- kubeconfig


def kubeconfig(ctx: Ctx) -> int:
    """`talosctl kubeconfig PATH|- [--force] [--merge=false] -n CP`: an admin kubeconfig for the mock API."""
    check_args(ctx.inv, maximum=1)
    if not ctx.inv.args:
        raise Failure("the Skynet lab never writes ~/.kube/config: pass a path (or - for stdout)")
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
    text = _kubeconfig_text(ctx, node)
    target = ctx.inv.args[0]
    if target == "-":
        print(text, end="", flush=True)
        return 0
    path = Path(target)
    if path.is_dir():
        path = path / "kubeconfig"
    merge = ctx.inv.get("merge", True)
    if path.exists() and merge:
        text = _merge_kubeconfig(path, text)
    elif path.exists() and not ctx.inv.get("force"):
        raise Failure(f"kubeconfig file already exists, use --force to overwrite: {path}")
    from skynet_tui.workspace import atomic_write

    atomic_write(path, text, 0o600)
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


def _merge_kubeconfig(path: Path, text: str) -> str:
    try:
        current = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise Failure(f"error merging kubeconfig: {exc}") from None
    new = yaml.safe_load(text)
    for section in ("clusters", "users", "contexts"):
        names = {item["name"] for item in new[section]}
        current[section] = [i for i in current.get(section) or [] if i.get("name") not in names] + new[
            section
        ]
    current["current-context"] = new["current-context"]
    current.setdefault("apiVersion", "v1")
    current.setdefault("kind", "Config")
    return yaml.safe_dump(current, sort_keys=False)


# ---------------------------------------------------------------- config endpoint|node|info


def config_cmd(ctx: Ctx) -> int:
    """`talosctl config endpoint|node A B…` edit the talosconfig's current context; `config info` prints it."""
    sub = ctx.inv.command[1]
    config = ctx.talosconfig()
    if sub in ("endpoint", "endpoints", "node", "nodes"):
        key = "endpoints" if sub.startswith("endpoint") else "nodes"
        config.data["contexts"][config.context][key] = list(ctx.inv.args)
        config.save()
        return 0
    if sub == "info":
        return _config_info(config)
    raise Failure(f"talosctl config {sub} is not simulated by the Skynet lab")


def _config_info(config: TalosConfig) -> int:
    ctx = config.ctx
    rows = [
        ["Current context:", config.context],
        ["Nodes:", ", ".join(ctx.get("nodes") or []) or "not defined"],
        ["Endpoints:", ", ".join(ctx.get("endpoints") or []) or "not defined"],
        ["Roles:", "os:admin"],
        ["Certificate expires:", "1 year from now (simulated lab)"],
    ]
    print(talos_read.tabwrite(rows), end="", flush=True)
    return 0


HANDLERS: dict[tuple[str, ...], Callable[[Ctx], int]] = {
    ("version",): talos_read.version,
    ("get",): talos_read.get,
    ("service",): talos_read.service,
    ("etcd",): talos_read.etcd,
    ("apply-config",): apply_config,
    ("bootstrap",): bootstrap,
    ("health",): talos_health.health,
    ("kubeconfig",): kubeconfig,
    ("config",): config_cmd,
    ("upgrade",): talos_upgrade.upgrade,
    ("upgrade-k8s",): talos_upgrade.upgrade_k8s,
}
