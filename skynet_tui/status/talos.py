"""The Talos layer: members, etcd status, service health and versions through talosctl, on a slower cadence.

Every call goes through the one process launcher with the workspace's talosconfig (`--talosconfig`, `--nodes`;
the talosconfig's own endpoints route them). `get … -o json` prints concatenated JSON objects (talos/parse.py
reads them); `etcd status` prints a text table (NODE MEMBER DB SIZE IN USE LEADER RAFT INDEX RAFT TERM RAFT APPLIED
INDEX LEARNER PROTOCOL STORAGE ERRORS). No talosconfig, a missing file or a missing talosctl make the layer unknown
with the reason; a failing talosctl does too, with the first line it printed. Nothing here raises.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from skynet_tui import launcher
from skynet_tui.status.fold import utcnow
from skynet_tui.status.model import EtcdMember, TalosLayer, TalosMember, TalosService
from skynet_tui.talos import commands as talos
from skynet_tui.talos.parse import json_stream, table

INTERVAL = 15.0  # seconds between Talos reads (each is four talosctl calls)
TIMEOUT = 20.0  # seconds one talosctl call may take

Run = Callable[..., launcher.Result]  # launcher.run's signature


# -- parsers of the real talosctl formats ---------------------------------------------------------------------
def parse_members(text: str) -> tuple[TalosMember, ...]:
    out = []
    for obj in json_stream(text):
        spec = obj.get("spec") or {}
        out.append(
            TalosMember(
                hostname=str(spec.get("hostname") or (obj.get("metadata") or {}).get("id") or ""),
                addresses=tuple(str(a) for a in spec.get("addresses") or ()),
                machine_type=str(spec.get("machineType") or ""),
                os=str(spec.get("operatingSystem") or ""),
            )
        )
    return tuple(sorted(out, key=lambda m: m.hostname))


def parse_services(text: str) -> tuple[TalosService, ...]:
    out = []
    for obj in json_stream(text):
        spec = obj.get("spec") or {}
        out.append(
            TalosService(
                node=str(obj.get("node") or ""),
                id=str((obj.get("metadata") or {}).get("id") or ""),
                running=bool(spec.get("running")),
                healthy=bool(spec.get("healthy")),
                unknown=bool(spec.get("unknown")),
            )
        )
    return tuple(sorted(out, key=lambda s: (s.node, s.id)))


def parse_versions(text: str) -> tuple[tuple[str, str], ...]:
    out = [
        (str(obj.get("node") or ""), str((obj.get("spec") or {}).get("version") or ""))
        for obj in json_stream(text)
    ]
    return tuple(sorted(out))


def _number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 0


def parse_etcd_status(text: str) -> tuple[EtcdMember, ...]:
    """The rows of `talosctl etcd status` (the NODE column is there when nodes were named with --nodes)."""
    out = []
    for row in table(text):
        if "MEMBER" not in row:
            continue
        out.append(
            EtcdMember(
                node=row.get("NODE", ""),
                member_id=row.get("MEMBER", ""),
                db_size=row.get("DB SIZE", ""),
                in_use=row.get("IN USE", ""),
                leader_id=row.get("LEADER", ""),
                raft_index=_number(row.get("RAFT INDEX", "")),
                raft_term=_number(row.get("RAFT TERM", "")),
                raft_applied=_number(row.get("RAFT APPLIED INDEX", "")),
                learner=row.get("LEARNER", "") == "true",
                protocol=row.get("PROTOCOL", ""),
                storage=row.get("STORAGE", ""),
                errors=row.get("ERRORS", ""),
            )
        )
    return tuple(out)


def talosconfig_targets(path: Path) -> tuple[list[str], list[str]]:
    """The current context's (nodes, endpoints) of a talosconfig; empty lists when it names none."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    contexts = doc.get("contexts") or {}
    context: dict[str, Any] = (
        contexts.get(doc.get("context") or "") or next(iter(contexts.values()), {}) or {}
    )
    return [str(n) for n in context.get("nodes") or []], [str(e) for e in context.get("endpoints") or []]


def _first_line(result: launcher.Result) -> str:
    lines = [line.strip() for line in result.text("err").splitlines() if line.strip()]
    if not lines:
        lines = [line.strip() for line in result.text("out").splitlines() if line.strip()]
    if result.timed_out:
        return "timed out"
    return lines[0] if lines else f"exit code {result.returncode}"


class TalosReader:
    """Reads the Talos layer once per `read()`; `hint` gives Kubernetes' (hostname, IP, is control plane)."""

    def __init__(
        self,
        talosconfig: Path | None,
        *,
        env: Mapping[str, str] | None = None,
        run: Run = launcher.run,
        wall: Callable[[], datetime] = utcnow,
        timeout: float = TIMEOUT,
    ):
        self.talosconfig = talosconfig
        self.env = env
        self.run = run
        self.wall = wall
        self.timeout = timeout

    def _call(self, argv: list[str]) -> launcher.Result:
        return self.run(argv, env=self.env, timeout=self.timeout)

    def read(self, hint: Sequence[tuple[str, str, bool]] = ()) -> TalosLayer:
        if self.talosconfig is None:
            return TalosLayer(configured=False, why="no talosconfig")
        tc = self.talosconfig
        if not tc.is_file():
            return TalosLayer(configured=True, why=f"talosconfig {tc} not found")
        if launcher.which("talosctl", self.env) is None:
            return TalosLayer(configured=True, why="talosctl is not on PATH")
        try:
            nodes, endpoints = talosconfig_targets(tc)
        except (OSError, yaml.YAMLError, AttributeError) as exc:
            return TalosLayer(configured=True, why=f"cannot read talosconfig {tc}: {type(exc).__name__}")
        candidates = [ip for ip in (nodes or endpoints or [ip for _, ip, _ in hint if ip]) if ip]
        if not candidates:
            return TalosLayer(configured=True, why="the talosconfig names no endpoints or nodes")
        try:
            return self._read(tc, candidates, hint)
        except launcher.ToolNotFound as exc:
            return TalosLayer(configured=True, why=str(exc).split(";")[0])
        except ValueError as exc:  # output that is not what talosctl prints
            return TalosLayer(configured=True, why=f"talosctl: {exc}")

    def _read(self, tc: Path, candidates: Sequence[str], hint: Sequence[tuple[str, str, bool]]) -> TalosLayer:
        # Discovery's members from the first machine that answers: a control plane that died (the one a node
        # removal is about) must not blind the whole layer.
        failures: list[launcher.Result] = []
        for node in candidates:
            result = self._call(talos.get_on("members", [node], tc))
            if result.ok:
                break
            failures.append(result)
        else:
            return TalosLayer(configured=True, why=f"talosctl get members: {_first_line(failures[0])}")
        members = parse_members(result.stdout)
        all_ips = [m.address for m in members if m.address] or [ip for _, ip, _ in hint if ip]
        control_planes = [m.address for m in members if m.machine_type == "controlplane" and m.address] or [
            ip for _, ip, cp in hint if ip and cp
        ]
        services: tuple[TalosService, ...] = ()
        versions: tuple[tuple[str, str], ...] = ()
        services_why = etcd_why = ""
        if all_ips:
            result = self._call(talos.get_on("services", all_ips, tc))
            services = parse_services(result.stdout)
            if not result.ok:
                services_why = _first_line(result)
            result = self._call(talos.get_on("versions", all_ips, tc))
            versions = parse_versions(result.stdout)
        etcd: tuple[EtcdMember, ...] = ()
        if control_planes:
            result = self._call(talos.etcd_status_on(control_planes, tc))
            etcd = parse_etcd_status(result.stdout)
            warnings = [line.strip() for line in result.text("err").splitlines() if line.strip()]
            if not result.ok or warnings:
                etcd_why = _first_line(result)
        else:
            etcd_why = "no control plane among the members"
        return TalosLayer(
            configured=True,
            why="",
            members=members,
            etcd=etcd,
            etcd_why=etcd_why,
            services=services,
            services_why=services_why,
            versions=versions,
            checked_at=self.wall(),
        )


class TalosPoller:
    """Reads the Talos layer every `interval` in a daemon thread and hands it to `sink`; `poke()` reads now."""

    def __init__(
        self,
        reader: TalosReader,
        sink: Callable[[TalosLayer], None],
        *,
        hint: Callable[[], Sequence[tuple[str, str, bool]]] = lambda: (),
        interval: float = INTERVAL,
    ):
        self.reader = reader
        self.sink = sink
        self.hint = hint
        self.interval = interval
        self.reads = 0
        self._stop = threading.Event()
        self._poke = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="status-talos", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._poke.set()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def poke(self) -> None:
        self._poke.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._poke.clear()
            try:
                layer = self.reader.read(self.hint())
            except Exception as exc:  # a bug in a parser must not end the console: show it as the reason
                layer = TalosLayer(configured=True, why=f"reading Talos failed: {type(exc).__name__}: {exc}")
            if self._stop.is_set():
                return
            self.reads += 1
            self.sink(layer)
            if self.reader.talosconfig is None:
                return  # nothing to poll
            self._poke.wait(self.interval)
