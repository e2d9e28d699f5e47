"""The base of the widgets that render their lines themselves: a ScrollView with cached component styles."""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from textual.scroll_view import ScrollView


class LineScrollView(ScrollView):
    """A ScrollView drawn by `render_line`, with its component-class styles cached until the CSS changes.

    `_style(name)` is the partial Rich style of the component class `<STYLE_PREFIX>--<name>`.
    """

    STYLE_PREFIX: ClassVar[str] = ""

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._styles: dict[str, Style] = {}

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()

    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            style = self._styles[name] = self.get_component_rich_style(
                f"{self.STYLE_PREFIX}--{name}", partial=True
            )
        return style
