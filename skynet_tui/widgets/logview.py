"""A bounded, virtualised log pane: the last N lines of one step, node tags in colour, expected noise dimmed."""

from __future__ import annotations

import re
import zlib
from collections import deque
from collections.abc import Iterable
from typing import ClassVar, Literal, NamedTuple, get_args

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.scrollbar import ScrollBarRender
from textual.strip import Strip

from skynet_tui.widgets.lines import LineScrollView

DEFAULT_LIMIT = 5_000
# A single line longer than this is cut for display; the step's log file on disk keeps it whole.
MAX_LINE_CHARS = 1_000

# Kinds of line: process output ("out", "err"), the runner's own notes ("info"), expected transient errors
# ("noise"), separators between attempts and runs ("mark") and failure messages ("error").
LineKind = Literal["out", "err", "info", "noise", "mark", "error"]
KINDS: tuple[LineKind, ...] = get_args(LineKind)

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
TAG_COLOURS = (
    "cyan",
    "magenta",
    "green",
    "yellow",
    "bright_blue",
    "bright_cyan",
    "bright_magenta",
    "bright_green",
)


def clean_line(text: str) -> str:
    """What a terminal would show of one output line: no ANSI codes, only the last carriage-return segment."""
    text = _ANSI.sub("", text)
    if "\r" in text:
        segments = [part for part in text.split("\r") if part]
        text = segments[-1] if segments else ""
    if len(text) > MAX_LINE_CHARS:
        text = text[:MAX_LINE_CHARS] + " …"
    return _CONTROL.sub("�", text.expandtabs())


def tag_colour(tag: str) -> str:
    """A stable colour per node tag, so one node's lines look alike across steps and runs."""
    return TAG_COLOURS[zlib.crc32(tag.encode()) % len(TAG_COLOURS)]


class LogEntry(NamedTuple):
    text: str
    kind: LineKind = "out"
    tag: str | None = None
    width: int = 0


def make_entry(text: str, kind: LineKind = "out", tag: str | None = None) -> LogEntry:
    text = clean_line(text)
    return LogEntry(text, kind if kind in KINDS else "out", tag, cell_len(text))


class LineBuffer:
    """The last `limit` lines of one step, with a count of every line the step printed."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self.lines: deque[LogEntry] = deque(maxlen=limit)
        self.total = 0
        self.max_width = 0
        self.tag_width = 0

    @property
    def limit(self) -> int:
        return self.lines.maxlen or 0

    @property
    def dropped(self) -> int:
        """Lines no longer held here (they are in the step's log file)."""
        return self.total - len(self.lines)

    def extend(self, entries: Iterable[LogEntry], seen: int | None = None) -> tuple[int, int]:
        """Append entries; `seen` counts lines dropped before they got here too. Returns (added, evicted)."""
        entries = list(entries)[-self.limit :] if self.limit else []
        evicted = max(0, len(self.lines) + len(entries) - self.limit)
        self.lines.extend(entries)
        self.total += max(seen if seen is not None else 0, len(entries))
        for entry in entries:
            if entry.width > self.max_width:
                self.max_width = entry.width
            if entry.tag and len(entry.tag) > self.tag_width:
                self.tag_width = len(entry.tag)
        return len(entries), evicted


class WholeCellScrollBar(ScrollBarRender):
    """A scrollbar whose thumb covers whole cells: Textual's eighth-cell glyphs (▁▂▃…) at the thumb's ends
    change on every appended line of a streaming log, and flicker there like stray block characters."""

    VERTICAL_BARS: ClassVar[list[str]] = [" "] * 8
    HORIZONTAL_BARS: ClassVar[list[str]] = [" "] * 8


class LogView(LineScrollView, can_focus=True):
    """Shows one `LineBuffer`; renders only the visible lines, so a full buffer costs nothing to display."""

    STYLE_PREFIX = "logview"
    COMPONENT_CLASSES = {
        "logview--tag",
        "logview--err",
        "logview--info",
        "logview--noise",
        "logview--mark",
        "logview--error",
        "logview--placeholder",
    }

    DEFAULT_CSS = """
    LogView {
        background: $surface;
        border: round $panel-lighten-2;
        padding: 0 0 0 1;
        border-title-color: $text;
        border-subtitle-color: $text-muted;
        scrollbar-size-vertical: 1;
        &:focus { border: round $primary; }
        & > .logview--tag { text-style: bold; }
        & > .logview--err { color: $text; }
        & > .logview--info { color: $text-accent; }
        & > .logview--noise { color: $text-muted; text-style: dim italic; }
        & > .logview--mark { color: $text-primary; text-style: bold; }
        & > .logview--error { color: $text-error; text-style: bold; }
        & > .logview--placeholder { color: $text-muted; text-style: italic; }
    }
    """

    def __init__(
        self,
        *,
        placeholder: str = "No output yet.",
        wrap: bool = False,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.placeholder = placeholder
        self._buffer = LineBuffer(0)
        self.following = True
        self._wrap = wrap
        # With wrapping, the screen rows: (index of the line, first cell of its text shown on the row).
        self._rows: list[tuple[int, int]] = []
        self._rows_key: tuple[int, int, int, int] | None = None

    @property
    def wrap(self) -> bool:
        """Long lines continue on the next rows (else they are cut, and scroll sideways)."""
        return self._wrap

    @wrap.setter
    def wrap(self, value: bool) -> None:
        self._wrap = value
        self._rows_key = None
        self._resize()
        self.scroll_to(x=0, animate=False, immediate=True)
        if self.following:
            self.scroll_end(animate=False, x_axis=False)
        self.refresh()

    def on_mount(self) -> None:
        # Per instance, as Textual documents it (its type says ClassVar).
        self.vertical_scrollbar.renderer = WholeCellScrollBar  # type: ignore[misc]
        self.horizontal_scrollbar.renderer = WholeCellScrollBar  # type: ignore[misc]

    def on_resize(self) -> None:
        if self._wrap:
            self._resize()

    def _gutter(self) -> int:
        return self._buffer.tag_width + 2 if self._buffer.tag_width else 0

    def _wrapped(self) -> list[tuple[int, int]]:
        """The screen rows of the buffer at the current width (recounted when the buffer or width changes)."""
        buffer = self._buffer
        room = max(1, self.scrollable_content_region.width - self._gutter())
        key = (id(buffer), buffer.total, len(buffer.lines), room)
        if key != self._rows_key:
            rows: list[tuple[int, int]] = []
            for index, entry in enumerate(buffer.lines):
                rows.extend((index, start) for start in range(0, max(entry.width, 1), room))
            self._rows, self._rows_key = rows, key
        return self._rows

    @property
    def buffer(self) -> LineBuffer:
        return self._buffer

    @property
    def line_count(self) -> int:
        return len(self._buffer.lines)

    def show(self, buffer: LineBuffer) -> None:
        """Display another buffer, following its end."""
        self._buffer = buffer
        self.following = True
        self._resize()
        self.scroll_to(x=0, animate=False, immediate=True)
        self.scroll_end(animate=False, x_axis=False)
        self.refresh()

    def appended(self, added: int, evicted: int) -> None:
        """The shown buffer grew by `added` lines and lost `evicted` from its top: follow the end or stay put."""
        if not added:
            return
        self._resize()
        if self.following:
            self.scroll_end(animate=False, x_axis=False)  # after the next layout, when the new size is known
        elif evicted:
            self.scroll_to(y=max(0, self.scroll_y - evicted), animate=False, immediate=True)
        self.refresh()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        # Scrolling up stops following the output; getting back to the end resumes it.
        if new_value >= self.max_scroll_y:
            self.following = True
        elif new_value < old_value:
            self.following = False

    def _resize(self) -> None:
        buffer = self._buffer
        if self._wrap:
            self.virtual_size = Size(self.scrollable_content_region.width, len(self._wrapped()))
            return
        self.virtual_size = Size(self._gutter() + buffer.max_width, len(buffer.lines))

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        base = self.rich_style
        lines = self._buffer.lines
        index = scroll_y + y
        start, room = 0, 0
        if self._wrap:
            rows = self._wrapped()
            room = max(1, width - self._gutter())
            if index < len(rows):
                index, start = rows[index]
            else:  # past the end: a blank row (the placeholder when there is no line at all)
                index = max(index, len(lines))
        if index >= len(lines):
            if index == 0:
                text = " " + self.placeholder
                return Strip([Segment(text, base + self._style("placeholder"))], cell_len(text)).crop_extend(
                    0, width, base
                )
            return Strip.blank(width, base)
        entry = lines[index]
        segments: list[Segment] = []
        length = entry.width
        tag_width = self._buffer.tag_width
        if tag_width:
            tag = (entry.tag or "").ljust(tag_width) + "  "
            tag_style = base + self._style("tag")
            if entry.tag and not start:
                tag_style += Style(color=tag_colour(entry.tag))
            segments.append(Segment(tag if not start else " " * len(tag), tag_style))
            length += tag_width + 2
        style = base if entry.kind == "out" else base + self._style(entry.kind)
        if self._wrap:
            part = Strip([Segment(entry.text, style)], entry.width).crop(start, start + room)
            return Strip([*segments, *part], length - entry.width + part.cell_length).crop_extend(
                0, width, base
            )
        segments.append(Segment(entry.text, style))
        return Strip(segments, length).crop_extend(scroll_x, scroll_x + width, base)
