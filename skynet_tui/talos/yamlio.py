"""Multi-document YAML for Talos: dumping in a stable style and loading back with checks."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml

# libyaml when PyYAML has it (the same documents, several times faster): every patch is read back once.
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Dumper(yaml.SafeDumper):
    """Block style with list items indented under their key, as Talos' own YAML looks."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)


def dump(document: Any, indent: int = 2) -> str:
    """One document as YAML text (no `---`)."""
    return yaml.dump(
        document,
        Dumper=_Dumper,
        indent=indent,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=1 << 20,
    )


def dump_all(documents: Iterable[Any], indent: int = 2) -> str:
    """Documents joined by `---` lines; the first has no leading separator (like talosctl's output)."""
    return "---\n".join(dump(doc, indent) for doc in documents)


def load_all(text: str) -> list[Any]:
    """Every non-empty document of a YAML stream."""
    return [doc for doc in yaml.load_all(text, Loader=_LOADER) if doc is not None]


def round_trip(documents: list[dict[str, Any]], indent: int = 2) -> str:
    """Dump documents and parse the text back; raises ValueError if it does not read back identically."""
    text = dump_all(documents, indent)
    if load_all(text) != documents:
        raise ValueError("rendered YAML does not read back as the documents it was rendered from")
    return text
