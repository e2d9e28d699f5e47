"""The step checklist: one row per plan step with status icon, title, target, retries and elapsed time."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from rich.cells import cell_len
from rich.segment import Segment
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip

from skynet_tui.progress import ACTIVE, StepProgress, StepState
from skynet_tui.widgets.lines import LineScrollView

ICONS = {
    StepState.PENDING: "○",
    StepState.RUNNING: "▶",
    StepState.RETRYING: "↻",
    StepState.DONE: "✔",
    StepState.SKIPPED: "↷",
    StepState.FAILED: "✖",
    StepState.CANCELLED: "■",
}
HIGHLIGHTED = ACTIVE | {StepState.FAILED}  # rows whose title takes the state's colour


def format_duration(seconds: float) -> str:
    """Short elapsed time: 4.2s, 42s, 3m05s, 1h02m (at most 6 cells)."""
    seconds = max(0.0, seconds)
    if seconds < 10:
        return f"{seconds:.1f}s"
    if seconds < 60:
        return f"{int(seconds)}s"
    if seconds < 3600:
        minutes, rest = divmod(int(seconds), 60)
        return f"{minutes}m{rest:02d}s"
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours}h{rest // 60:02d}m"


def _fit(text: str, width: int) -> str:
    """Cut `text` to `width` cells with an ellipsis, or pad it."""
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return text + " " * (width - cell_len(text))
    out = ""
    for char in text:
        if cell_len(out + char) > width - 1:
            break
        out += char
    return out + "…" + " " * (width - 1 - cell_len(out))


class StepList(LineScrollView, can_focus=True):
    """A keyboard- and mouse-navigable checklist of the plan's steps; only visible rows are rendered."""

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "cursor(-10)", "Page up", show=False),
        Binding("pagedown", "cursor(10)", "Page down", show=False),
        Binding("home", "cursor(-100000)", "First", show=False),
        Binding("end", "cursor(100000)", "Last", show=False),
    ]

    STYLE_PREFIX = "steplist"
    COMPONENT_CLASSES = {
        "steplist--cursor",
        "steplist--cursor-blurred",
        "steplist--muted",
        *(f"steplist--{state}" for state in StepState),
    }

    DEFAULT_CSS = """
    StepList {
        background: $surface;
        border: round $panel-lighten-2;
        border-title-color: $text;
        scrollbar-size-vertical: 1;
        overflow-x: hidden;
        &:focus { border: round $primary; }
        & > .steplist--cursor { background: $block-cursor-background; color: $block-cursor-foreground; }
        & > .steplist--cursor-blurred { background: $block-cursor-blurred-background; }
        & > .steplist--muted { color: $text-muted; }
        & > .steplist--pending { color: $text-muted; }
        & > .steplist--running { color: $text-warning; text-style: bold; }
        & > .steplist--retrying { color: $text-warning; text-style: bold; }
        & > .steplist--done { color: $text-success; }
        & > .steplist--skipped { color: $text-muted; }
        & > .steplist--failed { color: $text-error; text-style: bold; }
        & > .steplist--cancelled { color: $text-warning; }
    }
    """

    cursor: reactive[int] = reactive(0)

    class Highlighted(Message):
        """The highlighted step changed; `by_user` is False when the screen moved the cursor itself."""

        def __init__(self, step_list: StepList, step_id: str, by_user: bool) -> None:
            super().__init__()
            self.step_list = step_list
            self.step_id = step_id
            self.by_user = by_user

        @property
        def control(self) -> StepList:
            return self.step_list

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.clock = clock
        self.rows: Sequence[StepProgress] = ()
        self._index: dict[str, int] = {}

    # ------------------------------------------------------------------ model

    def show(self, rows: Sequence[StepProgress]) -> None:
        """Show these steps, in this order (the run's progress state)."""
        same_steps = [row.info.id for row in rows] == [row.info.id for row in self.rows]
        self.rows = rows
        if not same_steps:
            self._index = {row.info.id: number for number, row in enumerate(rows)}
            self.virtual_size = Size(self.size.width, len(rows))
            self.cursor = min(self.cursor, max(0, len(rows) - 1))
        self.refresh()

    def get(self, step_id: str) -> StepProgress | None:
        number = self._index.get(step_id)
        return None if number is None else self.rows[number]

    @property
    def highlighted(self) -> str | None:
        return self.rows[self.cursor].info.id if self.rows else None

    def select(self, step_id: str) -> None:
        """Move the cursor to a step (not a user choice)."""
        number = self._index.get(step_id)
        if number is None:
            return
        if number != self.cursor:
            self.cursor = number
        self.scroll_to_row(number)
        self.post_message(self.Highlighted(self, step_id, by_user=False))

    def scroll_to_row(self, number: int) -> None:
        """Scroll just enough for row `number` to be visible (after the first layout if there was none yet)."""
        height = self.scrollable_content_region.height
        if not height:
            self.call_after_refresh(self.scroll_to_row, number)
        elif number < self.scroll_y:
            self.scroll_to(y=number, animate=False, immediate=True)
        elif height and number >= self.scroll_y + height:
            self.scroll_to(y=number - height + 1, animate=False, immediate=True)

    # ------------------------------------------------------------------ input

    def action_cursor(self, delta: int) -> None:
        self._user_move(self.cursor + delta)

    def _user_move(self, number: int) -> None:
        if not self.rows:
            return
        number = max(0, min(len(self.rows) - 1, number))
        self.cursor = number
        self.scroll_to_row(number)
        self.post_message(self.Highlighted(self, self.rows[number].info.id, by_user=True))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is not None:
            self._user_move(offset.y + self.scroll_offset.y)

    def watch_cursor(self) -> None:
        self.refresh()

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.rows))
        self.call_after_refresh(self.scroll_to_row, self.cursor)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    # ------------------------------------------------------------------ rendering

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        number = self.scroll_offset.y + y
        if number >= len(self.rows):
            return Strip.blank(width, base)
        row = self.rows[number]
        if number == self.cursor:
            base += self._style("cursor" if self.has_focus else "cursor-blurred")
        target_width = min(12, max((len(r.info.target) for r in self.rows), default=0))
        retries_width = 3 if any(r.attempt > 1 for r in self.rows) else 0
        title_width = width - 12 - target_width - retries_width
        elapsed = row.elapsed(self.clock())
        state_style = base + self._style(row.state)
        muted = base + self._style("muted")
        title_style = state_style if row.state in HIGHLIGHTED else base
        segments = [
            Segment(" ", base),
            Segment(ICONS.get(row.state, "?"), state_style),
            Segment(" ", base),
            Segment(_fit(row.info.title, title_width), title_style),
            Segment(" " + _fit(row.info.target, target_width), muted),
        ]
        if retries_width:
            retries = f"↻{row.attempt}" if row.attempt > 1 else ""
            segments.append(Segment(" " + retries.ljust(retries_width - 1)[: retries_width - 1], state_style))
        segments.append(
            Segment(" " + ("" if elapsed is None else format_duration(elapsed)).rjust(6) + " ", muted)
        )
        return Strip(segments).crop_extend(0, width, base)
