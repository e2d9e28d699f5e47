"""The lab's state on disk: lab.json, nodes/<ip>.json, file-locked updates and time-derived node stages.

Layout under the lab root (`SKYNET_LAB_DIR`):

- `lab.json`: `subnet`, `prefix` ("127.0.X"), `nodes` ([{ip, hostname, role}] as planned), `latency`
  (seconds per operation), `faults` (as injected), `fault_used` (consumed counts of global faults),
  `bootstrap` ({node, at} once etcd was bootstrapped, else null), `api_url` (mock Kubernetes API or null),
  `versions` ({talos, kubernetes}), `repo` (the bare GitOps repository), `simulated: true`.
- `nodes/<ip>.json`: what happened to one machine. Stored keys: `ip`, `index`, `role` (planned, then the applied
  machine type), `planned_hostname`, `maintenance_hostname`, `node_id`, `created_at`,
  `hardware` ({disks, volumes, links}), `applied_at`, `config` (a summary of the applied machine config, never its
  secrets), `etcd_bootstrapped`, `versions` ({talos, kubernetes}), `fault_used` ({name: count}), `lease` (the
  address it answers at in maintenance mode, its DHCP lease; absent: its `ip`), `fingerprint` (its maintenance
  certificate's, as its console prints it), `boot` ({schematic, extensions}: what the ISO it booted carries),
  `upgrade` ({at, from, to, outcome} of the last `talosctl upgrade`: outcome ok, rollback (back on `from`) or lost
  (never back); the derived `versions.talos` switches to `to` once an ok upgrade rebooted), `etcd_left` (the
  control plane left etcd: `talosctl etcd leave` or `remove-member`), `reset` ({at, hostname, graceful} of the
  last `talosctl reset`), `powered_off` (reset without a reboot: wiped and off, stage `off`).

Stages are not stored: `derive` computes them on every read from the timestamps and the lab's latencies, so no
daemon is needed. Readers (the fake talosctl, the mock Kubernetes API) get these derived keys from `load_nodes`:
`stage` (maintenance|installing|rebooting|booting|running|upgrading|off), `stage_since`, `hostname`, `reachable`, `configured`
(the mTLS API answers), `ready`, `unmet_conditions`, `etcd_running`, `kubelet_registered`, `node_ready`,
`bootstrap_available`, `address` (where it answers now: its lease until the install's reboot, then the address
its config puts on a link, or None when that link does not exist or has no carrier: a link config turns DHCP
off on every link, as on Talos) and `missing_link` (the link its config named that it lacks or that has no
carrier).
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

LAB_FILE = "lab.json"
NODES_DIR = "nodes"
ENV_DIR = "SKYNET_LAB_DIR"
UPGRADE_LATENCY = (
    3.0  # seconds a `talosctl upgrade` pulls and stages its image before the reboot (latency "upgrade")
)
ETCD_FAULT = "etcd_unhealthy_after_upgrade"  # a control plane whose etcd stops answering once it was upgraded


class LabStateError(RuntimeError):
    """The lab state is missing or unreadable."""


# ---------------------------------------------------------------- files and locks


def lab_root(root: str | Path | None = None) -> Path:
    """The lab folder: the argument, else `SKYNET_LAB_DIR`."""
    value = root if root is not None else os.environ.get(ENV_DIR)
    if not value:
        raise LabStateError(f"no simulated lab: {ENV_DIR} is not set")
    return Path(value)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LabStateError(f"{path} does not exist") from None
    except (OSError, ValueError) as exc:
        raise LabStateError(f"cannot read {path}: {exc}") from None


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Atomic replace, so readers without the lock never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
            handle.write("\n")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive fcntl lock on `<path>.lock` for one read-modify-write."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _update_json(
    path: Path, fn: Callable[[dict[str, Any]], Any], stored: Callable[[dict[str, Any]], dict[str, Any]]
) -> dict[str, Any]:
    """Locked read-modify-write of one JSON file; `fn` mutates the dict in place (or returns a new one).

    The file receives `stored(data)`; the caller gets `data`.
    """
    with _locked(path):
        data = _read_json(path)
        result = fn(data)
        if isinstance(result, dict):
            data = result
        _write_json(path, stored(data))
    return data


def node_path(root: str | Path, ip: str) -> Path:
    return Path(root) / NODES_DIR / f"{ip}.json"


# ---------------------------------------------------------------- lab.json


def load_lab(root: str | Path | None = None) -> dict[str, Any]:
    """lab.json as a dict."""
    return _read_json(lab_root(root) / LAB_FILE)


def write_lab(root: str | Path, data: dict[str, Any]) -> None:
    with _locked(Path(root) / LAB_FILE):
        _write_json(Path(root) / LAB_FILE, data)


def update_lab(root: str | Path, fn: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    """Locked read-modify-write of lab.json; `fn` mutates the dict in place (or returns a new one)."""
    return _update_json(Path(root) / LAB_FILE, fn, lambda data: data)


class _FaultCounter:
    """An update `fn` that consumes one occurrence of a counted fault while fewer than `limit` were used."""

    def __init__(self, name: str, limit: int) -> None:
        self.name = name
        self.limit = limit
        self.taken = False

    def __call__(self, data: dict[str, Any]) -> None:
        used = data.setdefault("fault_used", {})
        if used.get(self.name, 0) < self.limit:
            used[self.name] = used.get(self.name, 0) + 1
            self.taken = True


def take_fault(root: str | Path, name: str, limit: int) -> bool:
    """Consume one occurrence of a counted global fault; False once `limit` were used."""
    consume = _FaultCounter(name, limit)
    if limit > 0:
        update_lab(root, consume)
    return consume.taken


# ---------------------------------------------------------------- nodes/<ip>.json


def _ip_key(ip: str) -> tuple[int, str]:
    try:
        return (int(ipaddress.ip_address(ip)), ip)
    except ValueError:
        return (0, ip)


def load_stored_nodes(root: str | Path | None = None) -> list[dict[str, Any]]:
    """Every node as stored (no derived keys), sorted by address."""
    folder = lab_root(root) / NODES_DIR
    nodes = [_read_json(path) for path in folder.glob("*.json")] if folder.is_dir() else []
    return sorted(nodes, key=lambda n: _ip_key(n["ip"]))


def load_nodes(root: str | Path | None = None, now: float | None = None) -> list[dict[str, Any]]:
    """Every node with its derived stage and readiness, sorted by address."""
    lab = load_lab(root)
    return derive_all(lab, load_stored_nodes(root), now)


def load_node(root: str | Path | None, ip: str, now: float | None = None) -> dict[str, Any] | None:
    """One node with derived keys, or None when the lab has no machine at `ip`."""
    for node in load_nodes(root, now):
        if node["ip"] == ip:
            return node
    return None


def write_node(root: str | Path, node: dict[str, Any]) -> None:
    path = node_path(root, node["ip"])
    with _locked(path):
        _write_json(path, _stored(node))


def update_node(root: str | Path | None, ip: str, fn: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    """Locked read-modify-write of nodes/<ip>.json; `fn` mutates the stored dict (or returns a new one)."""
    return _update_json(node_path(lab_root(root), ip), fn, _stored)


def take_node_fault(root: str | Path | None, ip: str, name: str, limit: int) -> bool:
    """Consume one occurrence of a per-node counted fault (e.g. apply_error for this node)."""
    consume = _FaultCounter(name, limit)
    if limit > 0:
        update_node(root, ip, consume)
    return consume.taken


DERIVED_KEYS = (
    "stage",
    "stage_since",
    "hostname",
    "reachable",
    "configured",
    "ready",
    "unmet_conditions",
    "etcd_running",
    "kubelet_registered",
    "node_ready",
    "bootstrap_available",
    "running_since",
    "address",
    "missing_link",
)


def _stored(node: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in node.items() if k not in DERIVED_KEYS}


# ---------------------------------------------------------------- addresses


def configured_address(node: dict[str, Any]) -> tuple[str | None, str | None]:
    """(the address a configured node answers at after its reboot, the link its config named that it lacks or
    that has no carrier).

    No link config: DHCP on every link, so it keeps its lease. A link config (by name, or by a LinkAliasConfig
    MAC selector) on a link the machine lacks: DHCP is off everywhere and the node has no address at all. On a
    link without carrier (no cable) the address is set, but nothing can reach it."""
    config = node.get("config") or {}
    link_configs = config.get("link_configs") or []
    lease = node.get("lease") or node["ip"]
    if not link_configs:
        return lease, None
    aliases = {a["name"]: a for a in config.get("aliases") or []}
    links = node["hardware"]["links"]
    problem = None
    for entry in link_configs:
        name = entry["name"]
        if name in aliases:
            alias = aliases[name]
            matches = [
                link
                for link in links
                if link.get("type") == "ether"
                and str(link.get(alias["field"], "")).lower() == alias["mac"].lower()
            ]
            link = matches[0] if len(matches) == 1 else None
        else:
            link = next((x for x in links if name in (x["id"], x.get("alias"))), None)
        if link is None or not link.get("linkState"):
            problem = problem or name
            continue
        if entry.get("addresses"):
            return str(entry["addresses"][0]).split("/")[0], None
    return None, problem


# ---------------------------------------------------------------- time-derived state


def latency(lab: dict[str, Any], name: str, default: float = 0.0) -> float:
    return float(lab.get("latency", {}).get(name, default))


def derive_all(
    lab: dict[str, Any], nodes: list[dict[str, Any]], now: float | None = None
) -> list[dict[str, Any]]:
    """Add the derived keys to every node: the lab's timeline evaluated at `now`."""
    now = time.time() if now is None else now
    boot = lab.get("bootstrap") or {}
    bootstrapped_at = boot.get("at")
    api_up = None
    if bootstrapped_at is not None:
        # The API server comes up once the bootstrap node's etcd runs, plus a boot's worth of static pods.
        first = next((n for n in nodes if n["ip"] == boot.get("node")), None)
        first_boot = _timeline(lab, first)["first_boot"] if first else None
        etcd_up = max(first_boot or bootstrapped_at, bootstrapped_at) + latency(lab, "etcd")
        api_up = etcd_up + latency(lab, "boot")
    unreachable = set(lab.get("faults", {}).get("unreachable") or [])
    return [_derive(lab, dict(n), now, bootstrapped_at, api_up, n["ip"] not in unreachable) for n in nodes]


def _timeline(lab: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """When a configured node finished installing, first booted, and every later restart (upgrades) began."""
    applied = node.get("applied_at")
    if not applied:
        return {"first_boot": None, "installed": None, "restarts": []}
    installed = applied + latency(lab, "install")
    restarts = [installed]
    upgrade = node.get("upgrade")
    if upgrade:
        restarts.append(upgrade["at"] + latency(lab, "upgrade", UPGRADE_LATENCY))
    if node.get("reset_at") and node["reset_at"] > installed:
        restarts.append(node["reset_at"])  # a reset that wiped EPHEMERAL reboots the machine
    return {
        "first_boot": installed + latency(lab, "reboot"),
        "installed": installed,
        "restarts": sorted(restarts),
    }


def etcd_standing(lab: dict[str, Any], node: dict[str, Any]) -> str:
    """A control plane's etcd against a loss (lab.json `etcd_lost_at`): "" (no loss, or recovered here), "failed"
    (its data is gone and it was not wiped since), "preparing" (wiped: waiting for a bootstrap to recover)."""
    lost = lab.get("etcd_lost_at")
    if not lost or node.get("role") != "controlplane":
        return ""
    if float(node.get("etcd_wiped_at") or 0) < lost:
        return "failed"
    return "" if float((lab.get("bootstrap") or {}).get("at") or 0) >= lost else "preparing"


def _derive(
    lab: dict[str, Any],
    node: dict[str, Any],
    now: float,
    bootstrapped_at: float | None,
    api_up: float | None,
    reachable: bool,
) -> dict[str, Any]:
    config = node.get("config") or {}
    is_cp = node.get("role") == "controlplane"
    name = config.get("hostname") or node.get("maintenance_hostname") or node["ip"]
    node["versions"] = dict(node.get("versions") or {})
    lease = node.get("lease") or node["ip"]
    node.update(
        hostname=name,
        reachable=reachable,
        address=lease,
        missing_link=None,
        configured=False,
        ready=False,
        unmet_conditions=[],
        etcd_running=False,
        kubelet_registered=False,
        node_ready=False,
        bootstrap_available=False,
        running_since=None,
    )
    if node.get("powered_off"):
        # Reset without a reboot (`talosctl reset`): its disk wiped, the machine is off and answers nowhere.
        node.update(
            stage="off", stage_since=(node.get("reset") or {}).get("at"), reachable=False, address=None
        )
        return node
    times = _timeline(lab, node)
    if times["installed"] is None:
        # Talos checks readiness only while booting or running: a machine in maintenance reports ready.
        node.update(
            stage="maintenance", stage_since=node.get("created_at"), hostname=node["maintenance_hostname"]
        )
        node["ready"] = True
        return node
    if now < times["installed"]:
        node.update(stage="installing", stage_since=node["applied_at"])
        return node
    restart = max(r for r in times["restarts"] if r <= now)
    booted = restart + latency(lab, "reboot")
    upgrade = node.get("upgrade") or {}
    outcome = upgrade.get("outcome", "ok")
    rebooted = bool(upgrade) and now >= upgrade["at"] + latency(lab, "upgrade", UPGRADE_LATENCY)
    if rebooted and outcome == "ok" and now >= booted:
        node["versions"]["talos"] = upgrade["to"]
    node["kubelet_registered"] = api_up is not None and now >= max(times["first_boot"], api_up)
    if now >= times["first_boot"]:
        # Booted from disk once: its config's address from then on, through later reboots (upgrades) too.
        address, missing = configured_address(node)
        node.update(address=address, missing_link=missing)
    if now < booted or (rebooted and outcome == "lost"):
        node.update(stage="rebooting", stage_since=restart)
        return node
    if node["address"] is None:
        # Booted from disk with no address: nothing reaches it, and it never joins the cluster.
        node.update(reachable=False, kubelet_registered=False)
    node["configured"] = True
    node["bootstrap_available"] = is_cp and now >= booted + latency(lab, "bootstrap_ready")
    etcd_up = max(booted, bootstrapped_at) + latency(lab, "etcd") if is_cp and bootstrapped_at else None
    node["etcd_running"] = (
        etcd_up is not None and now >= etcd_up and not node.get("etcd_left") and not etcd_standing(lab, node)
    )
    if upgrade and not rebooted:
        node.update(stage="upgrading", stage_since=upgrade["at"])
        return node
    if is_cp:
        running_at = etcd_up + latency(lab, "boot") if etcd_up is not None else None
    else:
        running_at = max(booted, api_up) + latency(lab, "boot") if api_up is not None else None
    if running_at is not None and now >= running_at:
        node.update(
            stage="running",
            stage_since=running_at,
            ready=True,
            node_ready=node["address"] is not None,
            running_since=running_at,
        )
        if rebooted and is_cp and (lab.get("faults") or {}).get(ETCD_FAULT) == name:
            node["etcd_running"] = False  # the machine is back, but its etcd member no longer answers
        return node
    unmet: list[dict[str, str]] = []
    if is_cp and not node["etcd_running"]:
        unmet.append(
            {"name": "services", "reason": "etcd not running" if etcd_up is None else "etcd not healthy"}
        )
    if not node["kubelet_registered"]:
        unmet.append({"name": "nodeReady", "reason": f'node "{name}" status is not available yet'})
    else:
        unmet.append({"name": "nodeReady", "reason": f'node "{name}" is not ready'})
    node.update(stage="booting", stage_since=booted, unmet_conditions=unmet)
    return node
