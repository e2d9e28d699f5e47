"""Day-two faults of a running lab (`skynet demo --fault`): written to lab.json, where the running lab reads them.

The lab's processes never share memory with the command that injects a fault: the cluster simulation reads the
faults every tick (Nodes, Applications, Certificates), the fake talosctl on every call (the kubelet service) and
the lab's own fault watcher every FAULT_POLL seconds (the mock Kubernetes API going down and coming back).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skynet_lab import state


@dataclass(frozen=True)
class DayTwo:
    """One kind of day-two fault: its name on the command line, its key in lab.json, what it does."""

    name: str
    key: str
    argument: str  # what follows `=`; "" when it takes none
    effect: str


DAY_TWO: tuple[DayTwo, ...] = (
    DayTwo(
        "node-notready",
        "node_notready",
        "NODE",
        "the node's kubelet stops: its Node turns NotReady, its Talos kubelet service fails",
    ),
    DayTwo(
        "app-degraded",
        "app_degraded",
        "APP",
        "the Argo CD Application's workloads crash: it turns Degraded",
    ),
    DayTwo(
        "cert-expiring",
        "cert_expiring",
        "CERT",
        "the cert-manager Certificate's renewal fails: it expires in 3 days",
    ),
    DayTwo("api-down", "api_down", "", "the Kubernetes API stops answering until the fault is cleared"),
)
CLEAR = "clear"  # `--fault clear` removes every day-two fault
KEYS = tuple(fault.key for fault in DAY_TWO)
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")


class FaultError(ValueError):
    """A fault the lab cannot inject (bad spec, unknown node); the message says what is expected."""


def usage() -> str:
    """The faults as `--help` lists them."""
    lines = [f"{f.name}={f.argument}" if f.argument else f.name for f in DAY_TWO]
    return ", ".join(lines) + f"; `{CLEAR}` removes them"


def parse(spec: str) -> tuple[DayTwo, str]:
    """`node-notready=worker-1` → (the fault, "worker-1"); `api-down` → (the fault, "")."""
    name, _, value = spec.strip().partition("=")
    fault = next((f for f in DAY_TWO if f.name == name), None)
    if fault is None:
        raise FaultError(f"unknown fault {name!r}: use {usage()}")
    if fault.argument and not value:
        raise FaultError(f"{name} needs a {fault.argument.lower()}: {name}={fault.argument}")
    if not fault.argument and value:
        raise FaultError(f"{name} takes no value")
    if value and not _NAME.match(value):
        raise FaultError(f"{name}={value}: {value!r} is not a Kubernetes object name")
    return fault, value


def _names(value: Any) -> list[str]:
    if not value:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def inject(root: str | Path, specs: list[str]) -> list[str]:
    """Add the faults `specs` names to the lab under `root` (its lab.json); returns a line for each.

    `clear` among them first removes every day-two fault. A node must be one of the lab's machines.
    """
    wanted = [s.strip() for s in specs if s.strip()]
    clear = CLEAR in wanted
    parsed = [parse(s) for s in wanted if s != CLEAR]
    lab = state.load_lab(root)
    hostnames = {n["hostname"] for n in lab.get("nodes") or []}
    for fault, value in parsed:
        if fault.key == "node_notready" and value not in hostnames:
            raise FaultError(f"node-notready={value}: the lab's nodes are {', '.join(sorted(hostnames))}")

    def apply(data: dict[str, Any]) -> None:
        faults = data.setdefault("faults", {})
        if clear:
            for key in KEYS:
                faults.pop(key, None)
        for fault, value in parsed:
            if not fault.argument:
                faults[fault.key] = True
                continue
            names = _names(faults.get(fault.key))
            faults[fault.key] = [*names, value] if value not in names else names

    state.update_lab(root, apply)
    lines = ["every day-two fault cleared"] if clear else []
    lines += [f"fault {fault.name}{'=' + value if value else ''}: {fault.effect}" for fault, value in parsed]
    return lines


def active(lab: dict[str, Any]) -> list[str]:
    """The day-two faults in a lab.json, as `--fault` spells them."""
    faults = lab.get("faults") or {}
    out = []
    for fault in DAY_TWO:
        value = faults.get(fault.key)
        if fault.argument:
            out += [f"{fault.name}={name}" for name in _names(value)]
        elif value:
            out.append(fault.name)
    return out


def matches(name: str, dns_names: list[str], wanted: list[str]) -> bool:
    """Whether a Certificate is one `cert-expiring=X` names: its name is X or X-…, or a DNS name starts X."""
    return any(
        name == w or name.startswith(f"{w}-") or any(d.startswith(f"{w}.") for d in dns_names) for w in wanted
    )
