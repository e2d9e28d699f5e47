"""Label/field selectors and JSON merge / JSON patches, as the lab's mock Kubernetes API applies them."""

from __future__ import annotations

import pickle
import re
from collections.abc import Iterable
from typing import Any

Obj = dict[str, Any]


class PatchError(ValueError):
    """A patch cannot be applied (the API answers 422 Invalid)."""


def clone(obj: Any) -> Any:
    """A deep copy of JSON-like data (pickle is ~3x faster than copy.deepcopy here)."""
    return pickle.loads(pickle.dumps(obj, pickle.HIGHEST_PROTOCOL))


# -- selectors ------------------------------------------------------------------------------------------------
_TERM = re.compile(
    r"^\s*(!?)\s*([A-Za-z0-9./_-]+)\s*(?:(==|=|!=)\s*([A-Za-z0-9._-]*)|\s+(in|notin)\s*\(([^)]*)\))?\s*$"
)


def parse_label_selector(text: str) -> list[tuple[str, str, tuple[str, ...]]]:
    """Parse `a=b,c!=d,e in (x,y),!f,g` into (key, op, values) requirements; ValueError when malformed."""
    reqs: list[tuple[str, str, tuple[str, ...]]] = []
    for term in re.split(r",(?![^()]*\))", text or ""):
        if not term.strip():
            continue
        m = _TERM.match(term)
        if not m:
            raise ValueError(f"unable to parse requirement: {term.strip()!r}")
        bang, key, op, value, set_op, set_values = m.groups()
        if bang:
            reqs.append((key, "!", ()))
        elif op:
            reqs.append((key, "!=" if op == "!=" else "=", (value,)))
        elif set_op:
            reqs.append((key, set_op, tuple(v.strip() for v in set_values.split(",") if v.strip())))
        else:
            reqs.append((key, "exists", ()))
    return reqs


def match_labels(reqs: Iterable[tuple[str, str, tuple[str, ...]]], labels: dict[str, str]) -> bool:
    for key, op, values in reqs:
        present, value = key in labels, labels.get(key)
        if op == "=":
            ok = present and value == values[0]
        elif op == "!=":
            ok = not present or value != values[0]
        elif op == "in":
            ok = present and value in values
        elif op == "notin":
            ok = not present or value not in values
        else:
            ok = present if op == "exists" else not present
        if not ok:
            return False
    return True


def parse_field_selector(text: str) -> list[tuple[str, bool, str]]:
    """Parse `metadata.name=x,spec.nodeName!=y` into (path, equal, value)."""
    out = []
    for term in (text or "").split(","):
        if not term.strip():
            continue
        m = re.match(r"^\s*([A-Za-z0-9.]+)\s*(==|=|!=)\s*(.*?)\s*$", term)
        if not m:
            raise ValueError(f"invalid selector: {term.strip()!r}")
        out.append((m.group(1), m.group(2) != "!=", m.group(3)))
    return out


def field_value(obj: Obj, path: str) -> str:
    cur: Any = obj
    for part in path.split("."):
        cur = cur.get(part) if isinstance(cur, dict) else None
    return "" if cur is None else str(cur)


def match_fields(reqs: Iterable[tuple[str, bool, str]], obj: Obj) -> bool:
    return all((field_value(obj, path) == value) == equal for path, equal, value in reqs)


# -- patches --------------------------------------------------------------------------------------------------
def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch (also used for strategic-merge and server-side apply: lists are replaced)."""
    if not isinstance(patch, dict):
        return clone(patch)
    return _merge_into(clone(target) if isinstance(target, dict) else {}, patch)


def _merge_into(out: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict):
            out[key] = _merge_into(out[key] if isinstance(out.get(key), dict) else {}, value)
        else:
            out[key] = clone(value) if isinstance(value, list) else value
    return out


def json_patch(doc: Any, ops: list[Obj]) -> Any:
    """RFC 6902 JSON patch: add, remove, replace, test, copy, move."""
    doc = clone(doc)

    def walk(path: str) -> tuple[Any, str]:
        parts = [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]
        cur = doc
        for part in parts[:-1]:
            cur = cur[int(part)] if isinstance(cur, list) else cur[part]
        return cur, parts[-1]

    def get(path: str) -> Any:
        parent, last = walk(path)
        return parent[int(last)] if isinstance(parent, list) else parent[last]

    def put(path: str, value: Any, replace: bool) -> None:
        parent, last = walk(path)
        if isinstance(parent, list):
            if last == "-":
                parent.append(value)
            elif replace:
                parent[int(last)] = value
            else:
                parent.insert(int(last), value)
        else:
            if replace and last not in parent:
                raise KeyError(last)
            parent[last] = value

    def remove(path: str) -> Any:
        parent, last = walk(path)
        return parent.pop(int(last)) if isinstance(parent, list) else parent.pop(last)

    for op in ops:
        kind, path = op.get("op"), op.get("path", "")
        try:
            if kind == "add":
                put(path, clone(op.get("value")), False)
            elif kind == "replace":
                put(path, clone(op.get("value")), True)
            elif kind == "remove":
                remove(path)
            elif kind == "test":
                if get(path) != op.get("value"):
                    raise PatchError(f"test failed at {path}")
            elif kind in ("copy", "move"):
                value = remove(op["from"]) if kind == "move" else clone(get(op["from"]))
                put(path, value, False)
            else:
                raise PatchError(f"unexpected patch operation {kind!r}")
        except PatchError:
            raise
        except (KeyError, IndexError, ValueError, TypeError) as exc:
            raise PatchError(f"{path}: {exc}") from exc
    return doc
