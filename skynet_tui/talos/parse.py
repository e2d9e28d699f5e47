"""Parsers for talosctl output: `get -o json` streams, versions, health lines and text tables."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any


def json_stream(text: str) -> list[dict[str, Any]]:
    """`talosctl get … -o json` prints concatenated indented JSON objects, not an array; returns them all."""
    decoder = json.JSONDecoder()
    out: list[dict[str, Any]] = []
    index, end = 0, len(text)
    while True:
        while index < end and text[index].isspace():
            index += 1
        if index >= end:
            return out
        try:
            obj, index = decoder.raw_decode(text, index)
        except json.JSONDecodeError as exc:
            raise ValueError(f"talosctl printed something that is not JSON at character {exc.pos}") from None
        if not isinstance(obj, dict):
            raise ValueError("talosctl printed a JSON value that is not an object")
        out.append(obj)


_VERSION = re.compile(r"v\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?")


def client_version(text: str) -> str | None:
    """The client tag from `talosctl version --client [--short]` (`Talos v1.13.9` or `Tag: v1.13.9`)."""
    in_client = False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped == "Client:":
            in_client = True
            continue
        if stripped == "Server:":
            in_client = False
        if in_client:
            match = re.match(r"^(?:Talos|Tag:)\s+(v\S+)$", stripped)
            if match and _VERSION.fullmatch(match[1]):
                return match[1]
    return None


def server_versions(text: str) -> dict[str, str]:
    """Node → Talos tag from the `Server:` blocks of `talosctl version` (`NODE: ip` then `Tag: v…`)."""
    out: dict[str, str] = {}
    node: str | None = None
    in_server = False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped == "Server:":
            in_server = True
            node = None
            continue
        if not in_server:
            continue
        key, _, value = stripped.partition(":")
        if key == "NODE":
            node = value.strip()
        elif key == "Tag" and node is not None:
            out[node] = value.strip()
    return out


@dataclass(frozen=True)
class HealthLine:
    """One line of `talosctl health`: a check and its state, or the discovered node list."""

    check: str  # "etcd to be healthy"; "" for the discovered-nodes line
    state: str  # "..." (in progress), "OK", "SKIP" or the last error text
    nodes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.state in ("OK", "SKIP")

    @property
    def waiting(self) -> bool:
        return self.state == "..."

    @property
    def failed(self) -> bool:
        return bool(self.check) and not self.ok and not self.waiting


_HEALTH = re.compile(r"^waiting for (?P<check>.+?): (?P<state>.*)$")
_DISCOVERED = re.compile(r"^discovered nodes: \[(?P<nodes>.*)\]$")


def health_line(line: str) -> HealthLine | None:
    """Parse one line of health output (`waiting for <check>: <state>`); None for anything else."""
    text = line.strip()
    match = _DISCOVERED.match(text)
    if match:
        return HealthLine("", "OK", tuple(re.findall(r'"([^"]*)"', match["nodes"])))
    match = _HEALTH.match(text)
    if match:
        return HealthLine(match["check"], match["state"].strip())
    return None


def table(text: str) -> list[dict[str, str]]:
    """A talosctl text table (`etcd status`, `etcd members`, `service`): columns split on 2+ spaces."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return []
    header_line = lines[0]
    starts = [m.start() for m in re.finditer(r"(?:(?<=\s\s)|^)\S", header_line)]
    headers = [header_line[s:e].strip() for s, e in zip(starts, [*starts[1:], None], strict=True)]
    rows = []
    for line in lines[1:]:
        cells = [
            line[s:e].strip() if s < len(line) else ""
            for s, e in zip(starts, [*starts[1:], None], strict=True)
        ]
        rows.append(dict(zip(headers, cells, strict=True)))
    return rows
