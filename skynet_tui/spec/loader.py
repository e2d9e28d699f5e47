"""Reading an answers file as hostile input: a regular file of bounded size, and a YAML subset without surprises.

An answers file needs plain mappings, lists and scalars. Anything else is refused before it can cost time or
memory, each with the file, line and column: devices, FIFOs and folders (checked on the open descriptor, which
is opened non-blocking so a FIFO cannot hang it), files over MAX_BYTES (checked before reading), anchors and
aliases (a kilobyte of nested aliases expands to gigabytes), duplicate keys (YAML keeps the last silently),
merge keys, explicit tags, more than one document, nesting deeper than MAX_DEPTH and more than MAX_NODES values.
Events come from libyaml when PyYAML has it (C speed); the document is composed here, within those limits.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml
from yaml import events
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from skynet_tui.spec.fields import show
from skynet_tui.spec.issues import Issue, SpecError

MAX_BYTES = 1 << 20  # 1 MiB: a 250-node answers file is ~60 KB
MAX_DEPTH = 32  # the answers nest 5 deep (spec.nodes[].installDisk.serial)
MAX_NODES = 20_000  # values, lists and mappings in one file: 250 nodes take ~3,500; each costs ~15 µs to read
_CORE_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "map", "seq")
)
_NUMBER_TAGS = frozenset({"tag:yaml.org,2002:int", "tag:yaml.org,2002:float"})
MAX_NUMBER = 40  # characters of a number (Python refuses to read integers of over 4,300 digits at all)
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_text(path: str | Path) -> str:
    """The text of an answers file; SpecError (with the path) for anything but a readable, small, UTF-8 file."""
    where = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise SpecError([Issue(where, f"cannot read the answers file: {exc.strerror}")]) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = _kind(info.st_mode)
            raise SpecError([Issue(where, f"is {kind}, not a regular file; give the path of cluster.yaml")])
        if info.st_size > MAX_BYTES:
            raise SpecError(
                [Issue(where, f"is {info.st_size:,} bytes; an answers file has at most {MAX_BYTES:,}")]
            )
        chunks, total = [], 0
        while total <= MAX_BYTES:  # the size may grow while it is read
            chunk = os.read(fd, MAX_BYTES + 1 - total)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise SpecError([Issue(where, f"cannot read the answers file: {exc.strerror}")]) from None
    finally:
        os.close(fd)
    if total > MAX_BYTES:
        raise SpecError([Issue(where, f"is over {MAX_BYTES:,} bytes, the most an answers file may have")])
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError([Issue(where, f"is not UTF-8 text (byte {exc.start}); save it as UTF-8")]) from None


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def parse_yaml(text: str, source: str = "") -> Any:
    """The YAML document in `text` as plain data, within the limits above; SpecError at `source`, line, column."""
    if len(text) > MAX_BYTES:
        raise SpecError(
            [
                Issue(
                    source or "(answers)",
                    f"is over {MAX_BYTES:,} characters, the most an answers file may have",
                )
            ]
        )
    loader = _Loader(text)
    try:
        composer = _Composer(loader, source)
        node = composer.document()
        return None if node is None else loader.construct_document(node)
    except SpecError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "not valid YAML"
        raise SpecError([Issue(_where(source, mark), f"not valid YAML: {problem}")]) from None
    except yaml.YAMLError as exc:
        raise SpecError([Issue(source or "(answers)", f"not valid YAML: {show(str(exc), 200)}")]) from None
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:  # e.g. an integer too long to read
        raise SpecError(
            [Issue(source or "(answers)", f"a value cannot be read: {show(str(exc), 200)}")]
        ) from None
    finally:
        loader.dispose()


def read_answers(path: str | Path) -> Any:
    """The raw answers (usually a dict) of the file at `path`, read as hostile input."""
    return parse_yaml(read_text(path), str(path))


def _where(source: str, mark: Any) -> str:
    """`cluster.yaml, line 3, column 5` (or without the file for text given in memory)."""
    if mark is None:
        return source or "(answers)"
    at = f"line {mark.line + 1}, column {mark.column + 1}"
    return f"{source}, {at}" if source else at


class _Refused(Exception):  # noqa: N818 - internal: becomes a SpecError with the mark
    def __init__(self, mark: Any, message: str):
        super().__init__(message)
        self.mark, self.message = mark, message


class _Composer:
    """yaml.composer.Composer's work on the parser's events, refusing what an answers file never needs."""

    def __init__(self, loader: Any, source: str):
        self.loader = loader
        self.source = source
        self.count = 0

    def document(self) -> Node | None:
        loader = self.loader
        try:
            loader.get_event()  # StreamStart
            if loader.check_event(events.StreamEndEvent):
                return None
            loader.get_event()  # DocumentStart
            node = self.node(1)
            loader.get_event()  # DocumentEnd
            if not loader.check_event(events.StreamEndEvent):
                raise _Refused(loader.peek_event().start_mark, "more than one YAML document; give one")
        except _Refused as exc:
            raise SpecError([Issue(_where(self.source, exc.mark), exc.message)]) from None
        return node

    def node(self, depth: int) -> Node:
        loader = self.loader
        event = loader.peek_event()
        mark: Any = event.start_mark  # libyaml's events carry their own Mark type
        self.count += 1
        if self.count > MAX_NODES:
            raise _Refused(
                event.start_mark, f"more than {MAX_NODES:,} values; an answers file is far smaller"
            )
        if depth > MAX_DEPTH:
            raise _Refused(event.start_mark, f"nested more than {MAX_DEPTH} levels deep")
        if isinstance(event, events.AliasEvent):
            raise _Refused(event.start_mark, "YAML aliases (*name) are not allowed in an answers file")
        if getattr(event, "anchor", None) is not None:
            raise _Refused(event.start_mark, "YAML anchors (&name) are not allowed in an answers file")
        tag = getattr(event, "tag", None)
        if tag not in (None, "!") and tag not in _CORE_TAGS:
            raise _Refused(event.start_mark, f"YAML tag {show(tag)} is not allowed in an answers file")
        if isinstance(event, events.ScalarEvent):
            loader.get_event()
            if tag in (None, "!"):
                tag = loader.resolve(ScalarNode, event.value, event.implicit)
            if tag in _NUMBER_TAGS and len(event.value) > MAX_NUMBER:
                raise _Refused(mark, f"a number of {len(event.value):,} characters; no answer needs one")
            end_mark: Any = event.end_mark
            return ScalarNode(tag, event.value, mark, end_mark, style=event.style)
        if isinstance(event, events.SequenceStartEvent):
            loader.get_event()
            if tag in (None, "!"):
                tag = loader.resolve(SequenceNode, None, event.implicit)
            items = []
            while not loader.check_event(events.SequenceEndEvent):
                items.append(self.node(depth + 1))
            end: Any = loader.get_event()
            return SequenceNode(tag, items, mark, end.end_mark, flow_style=event.flow_style)
        if isinstance(event, events.MappingStartEvent):
            loader.get_event()
            if tag in (None, "!"):
                tag = loader.resolve(MappingNode, None, event.implicit)
            pairs: list[tuple[Node, Node]] = []
            seen: dict[tuple[str, str], Any] = {}
            while not loader.check_event(events.MappingEndEvent):
                key = self.node(depth + 1)
                if not isinstance(key, ScalarNode):
                    raise _Refused(key.start_mark, "a key must be plain text, not a list or a mapping")
                if key.tag == "tag:yaml.org,2002:merge":
                    raise _Refused(key.start_mark, "YAML merge keys (<<) are not allowed in an answers file")
                first = seen.get((key.tag, key.value))
                if first is not None:
                    raise _Refused(
                        key.start_mark,
                        f"duplicate key {show(key.value)} (first at line {first.line + 1}, column "
                        f"{first.column + 1}); YAML would keep only the last",
                    )
                seen[(key.tag, key.value)] = key.start_mark
                pairs.append((key, self.node(depth + 1)))
            end = loader.get_event()
            return MappingNode(tag, pairs, mark, end.end_mark, flow_style=event.flow_style)
        raise _Refused(event.start_mark, f"unexpected YAML event {type(event).__name__}")
