"""The model read as data: `skynet schema`, and each field's help, choices, example and default by answers path."""

from __future__ import annotations

import re
import types
import typing
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from skynet_tui.spec.model import Cluster

_SENTENCE_END = re.compile(r"\.\s+(?=[A-Z])")


def json_schema() -> dict[str, Any]:
    """The JSON schema of the answers file, for editors: every property with its description."""
    schema = Cluster.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Skynet cluster answers (skynet.dev/v1alpha1)"
    schema["description"] = "cluster.yaml: what Skynet installs on a rack of machines booted into Talos."
    return schema


def _members(annotation: Any) -> list[Any]:
    """The types an annotation stands for: itself, and the members of a union or a list, recursively."""
    out = [annotation]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, list):
        for arg in typing.get_args(annotation):
            out += _members(arg)
    return out


def model_of(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds (`Acme`, a list of `Node`, `DiskSelector | str`), or None for plain values."""
    found = [t for t in _members(annotation) if isinstance(t, type) and issubclass(t, BaseModel)]
    return found[0] if found else None


def _by_key(model: type[BaseModel]) -> dict[str, FieldInfo]:
    return {info.alias or name: info for name, info in model.model_fields.items()}


def field_at(path: str) -> FieldInfo:
    """The field of an answers path by its file keys, list indexes left out: `spec.nodes.hostname`."""
    model: type[BaseModel] | None = Cluster
    info: FieldInfo | None = None
    for key in path.split("."):
        info = _by_key(model).get(key) if model is not None else None
        if info is None:
            raise KeyError(f"{path}: no such field in cluster.yaml")
        model = model_of(info.annotation)
    assert info is not None
    return info


def help_line(path: str) -> str:
    """The first sentence of a field's description, without its period: the wizard's help for the field."""
    description = field_at(path).description or ""
    return _SENTENCE_END.split(description, maxsplit=1)[0].removesuffix(".")


def choices(path: str) -> tuple[str, ...]:
    """The values a field allows (its Literal), in the model's order; empty when it takes free text."""
    for member in _members(field_at(path).annotation):
        if typing.get_origin(member) is Literal:
            return tuple(str(value) for value in typing.get_args(member))
    return ()


def example(path: str) -> Any:
    """The first example of a field, else its default; None when it has neither."""
    info = field_at(path)
    if info.examples:
        return info.examples[0]
    return None if info.is_required() else info.get_default(call_default_factory=True)


def defaults(model: type[BaseModel] = Cluster) -> dict[str, Any]:
    """A new cluster's answers: every default filled in, the sections to fill in present and empty (objects as
    `{}`, lists of objects as `[]`), every value the operator must give absent."""
    out: dict[str, Any] = {}
    for key, info in _by_key(model).items():
        sub = model_of(info.annotation)
        if not info.is_required():
            value = info.get_default(call_default_factory=True)
            if isinstance(value, BaseModel):
                value = value.model_dump(mode="json", by_alias=True, exclude_none=True)
            if value is not None:
                out[key] = value
        elif sub is not None:
            out[key] = [] if typing.get_origin(info.annotation) is list else defaults(sub)
    return out
