"""Problems with the answers: `Issue`, `SpecError`, and pydantic's errors turned into issues at field paths."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from skynet_tui.spec.fields import show
from skynet_tui.spec.model import Cluster
from skynet_tui.spec.schema import model_of

_PLAIN_KEY = re.compile(r"[A-Za-z0-9_.:*-]{1,60}")
# The names pydantic gives the members of a union in an error's location, and its marker of a dict key.
_UNION_MEMBER = re.compile(
    r"\[key\]|str|constrained-str|DiskSelector|literal|(function-[a-z]+|literal|constrained-\w+)\[.*\]", re.S
)


@dataclass(frozen=True)
class Issue:
    """One problem with the answers file: where (`spec.nodes[2].ip`), what, and for warnings, nothing fatal."""

    path: str
    message: str
    subject: str = field(default="", compare=False)  # the node's hostname, for an issue of one node

    def __str__(self) -> str:
        where = f"{self.path} ({self.subject})" if self.subject else self.path
        return f"{where}: {self.message}"


_NODE_PATH = re.compile(r"^spec\.nodes\[(\d+)\]")


def name_nodes(issues: list[Issue], data: Any) -> list[Issue]:
    """Each issue of a node names it by hostname: `spec.nodes[2].ip (worker-1): …`."""
    section = data.get("spec") if isinstance(data, dict) else None
    nodes = section.get("nodes") if isinstance(section, dict) else None
    nodes = nodes if isinstance(nodes, list) else []
    out = []
    for issue in issues:
        match = _NODE_PATH.match(issue.path)
        index = int(match[1]) if match else -1
        node = nodes[index] if 0 <= index < len(nodes) else None
        hostname = node.get("hostname") if isinstance(node, dict) else None
        if isinstance(hostname, str) and hostname and not issue.subject:
            plain = _PLAIN_KEY.fullmatch(hostname)  # a hostile hostname is shown quoted and cut
            issue = Issue(issue.path, issue.message, hostname if plain else show(hostname))
        out.append(issue)
    return out


class SpecError(ValueError):
    """The answers file is invalid; `issues` lists every error with its field path."""

    def __init__(self, issues: list[Issue]):
        self.issues = issues
        super().__init__("\n".join(str(issue) for issue in issues))


def format_loc(loc: Iterable[Any]) -> str:
    """('spec', 'nodes', 2, 'ip') → 'spec.nodes[2].ip'; a key that is not plain text is shown quoted and cut."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = str(part) if isinstance(part, str) and _PLAIN_KEY.fullmatch(part) else show(part)
            out += ("." if out else "") + text
    return out


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class that holds the key at `loc` (used to suggest the nearest valid key)."""
    model: type[BaseModel] | None = Cluster
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        fields = {f.alias or name: f for name, f in model.model_fields.items()} if model else {}
        field = fields.get(part)
        model = model_of(field.annotation) if field else None
    return model


def _nearest(key: str, valid: list[str]) -> list[str]:
    """The valid key a typo most likely meant: a close spelling, else one that starts the same way."""
    if len(key) > 60:
        return []
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    if close:
        return close
    lowered = key.lower()
    return [v for v in valid if lowered.startswith(v.lower()) or v.lower().startswith(lowered)][:1]


def _field_loc(err: ErrorDetails) -> tuple[Any, ...]:
    """The error's location without the union members pydantic appends ("str", "function-after[…]"). An
    unknown key's location ends with the key as written, which may look like anything: it is kept."""
    loc = tuple(err["loc"])
    keep_last = err["type"] == "extra_forbidden" and bool(loc)
    body = loc[:-1] if keep_last else loc
    body = tuple(p for p in body if not (isinstance(p, str) and _UNION_MEMBER.fullmatch(p)))
    return (*body, loc[-1]) if keep_last else body


def _issue_from_error(err: ErrorDetails) -> Issue:
    loc = _field_loc(err)
    path = format_loc(loc) or "(file)"
    kind = err["type"]
    if kind == "extra_forbidden" and loc:
        model = _model_at(loc)
        valid = [f.alias or n for n, f in model.model_fields.items()] if model else []
        near = _nearest(str(loc[-1]), valid)
        hint = f"; did you mean {near[0]!r}?" if near else f"; valid keys: {', '.join(valid)}"
        return Issue(path, f"unknown key{hint}")
    if kind == "missing":
        return Issue(path, "is required")
    message = err["msg"]
    message = message.removeprefix("Value error, ")[:500]
    if kind == "literal_error":
        message = f"{show(err.get('input'))} is not allowed; {message.lower()}"
    return Issue(path, message)


_TYPE_MISMATCH = {"string_type", "model_type", "dict_type", "model_attributes_type"}


def pydantic_issues(exc: ValidationError) -> list[Issue]:
    # A union field (installDisk) reports one error per member: the member of the wrong type says only
    # "should be a valid string/dict"; keep the error of the member the input was meant for.
    errors = exc.errors()
    by_path: dict[str, list[tuple[ErrorDetails, Issue]]] = {}
    for err in errors:
        issue = _issue_from_error(err)
        by_path.setdefault(issue.path, []).append((err, issue))
    out = []
    for path, found in by_path.items():
        specific = [issue for err, issue in found if err["type"] not in _TYPE_MISMATCH]
        # The member of the wrong type while another member's field failed deeper ({serial: <too long>}).
        deeper = any(other.startswith((f"{path}.", f"{path}[")) for other in by_path)
        if specific or not deeper:
            out.append((specific or [found[0][1]])[0])
    return out
