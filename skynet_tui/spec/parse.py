"""The entry points: check and parse raw answers, load `cluster.yaml`, dump the answers canonically."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from skynet_tui.spec.issues import Issue, SpecError, name_nodes, pydantic_issues
from skynet_tui.spec.loader import parse_yaml, read_answers
from skynet_tui.spec.model import Cluster
from skynet_tui.spec.rules import cross_field_issues


def check(data: Any) -> list[Issue]:
    """Every error in raw answers (a dict as read from YAML); empty when valid."""
    try:
        parse(data)
    except SpecError as exc:
        return exc.issues
    return []


def parse(data: Any) -> Cluster:
    """Validate raw answers and return the model; SpecError lists every problem with its path."""
    if not isinstance(data, dict):
        raise SpecError(
            [Issue("(file)", "the answers file must be a YAML mapping (apiVersion, kind, metadata, spec)")]
        )
    try:
        cluster = Cluster.model_validate(data)
    except ValidationError as exc:
        raise SpecError(name_nodes(pydantic_issues(exc), data)) from None
    issues = cross_field_issues(cluster)
    if issues:
        raise SpecError(name_nodes(issues, data))
    return cluster


def loads(text: str, source: str = "") -> Cluster:
    """Validate answers given as YAML text (read as hostile input, see spec/loader.py)."""
    return parse(parse_yaml(text, source))


def load(path: str | Path) -> Cluster:
    """Read and validate `cluster.yaml`: a regular file, at most 1 MiB, plain YAML (spec/loader.py)."""
    return parse(read_answers(path))


def to_data(cluster: Cluster) -> dict[str, Any]:
    """The answers as plain data with the file's key names."""
    return cluster.model_dump(mode="json", by_alias=True, exclude_none=True)


def dump(cluster: Cluster) -> str:
    """The canonical YAML text of the answers: every default written out, stable key order."""
    return yaml.safe_dump(
        to_data(cluster), sort_keys=False, default_flow_style=False, allow_unicode=True, width=120
    )
