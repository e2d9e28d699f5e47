"""RowTable: a DataTable kept in step with keyed rows by changing only what changed (for snapshots of big clusters)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar, Self

from rich.text import Text
from textual.binding import Binding
from textual.geometry import Region
from textual.widgets import DataTable

Render = Callable[[Any], Sequence[Any]]
REBUILD_ABOVE = 64  # removing more rows than this at once rebuilds the table (each removal is linear)


def _plain(value: Any) -> str:
    return value.plain if isinstance(value, Text) else str(value)


def _cell(value: Any) -> Any:
    """Text as it is: DataTable reads a str cell as markup, so "[a b]" in a message would vanish or fail."""
    return Text(value, no_wrap=True, end="") if isinstance(value, str) else value


def _sortable(value: Any) -> tuple[int, int, str]:
    """Numbers (a sync wave, a count) sort as numbers, before words."""
    text = _plain(value)
    if text.lstrip("-").isdigit():
        return (0, int(text), "")
    return (1, 0, text)


class RowTable(DataTable[Any]):
    """Rows are (key, object); `sync` renders only objects not seen before (by identity) into cells, updates the
    cells that changed, adds and removes rows, and re-sorts by the `order` columns only when rows came or went."""

    BINDINGS: ClassVar = [Binding("enter", "select_cursor", "Open", id="rowtable.open")]

    def __init__(
        self,
        columns: Sequence[tuple[str, str]],
        render: Render,
        *,
        order: Sequence[str] = (),
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, name=name, id=id, classes=classes)
        self.column_keys = [key for key, _ in columns]
        self.render_row = render
        self.order = tuple(order)
        self._objects: dict[str, Any] = {}
        self._cells: dict[str, tuple[Any, ...]] = {}
        self.updates = 0  # cells, rows added and rows removed by sync so far (tests and the bench read it)
        for key, label in columns:
            self.add_column(label, key=key)

    @property
    def keys(self) -> list[str]:
        """Row keys in display order."""
        return [row.key.value or "" for row in self.ordered_rows]

    def selected_key(self) -> str | None:
        if not self.row_count:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except Exception:
            return None

    def sync(self, items: Iterable[tuple[str, Any]]) -> int:
        """Make the table show exactly these rows; returns how many cells and rows it touched."""
        wanted: dict[str, Any] = dict(items)
        touched = 0
        gone = [key for key in self._objects if key not in wanted]
        if len(gone) > REBUILD_ABOVE:
            return self._rebuild(wanted)
        for key in gone:
            self.remove_row(key)
            del self._objects[key], self._cells[key]
            touched += 1
        added = False
        for key, obj in wanted.items():
            old = self._objects.get(key)
            if old is obj:
                continue
            cells = tuple(map(_cell, self.render_row(obj)))
            self._objects[key] = obj
            previous = self._cells.get(key)
            self._cells[key] = cells
            if previous is None:
                self.add_row(*cells, key=key)
                added = True
                touched += 1
                continue
            for column, before, after in zip(self.column_keys, previous, cells, strict=True):
                if before != after:
                    self.update_cell(key, column, after)
                    touched += 1
        if (added or gone) and self.order:
            self._sort()
        self.updates += touched
        return touched

    def refresh(
        self, *regions: Region, repaint: bool = True, layout: bool = False, recompose: bool = False
    ) -> Self:
        """DataTable lays the whole screen out again on every row added or removed; a table whose size its
        container fixes (`height: 1fr`) only needs to repaint itself (its scrollable size is updated apart)."""
        if layout and self._sized_by_container():
            layout = False
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def _sized_by_container(self) -> bool:
        height = self.styles.height
        return height is not None and height.is_fraction

    def _rebuild(self, wanted: dict[str, Any]) -> int:
        cursor = self.selected_key()
        self.clear()
        self._objects, self._cells = {}, {}
        for key, obj in wanted.items():
            cells = tuple(map(_cell, self.render_row(obj)))
            self._objects[key], self._cells[key] = obj, cells
            self.add_row(*cells, key=key)
        if self.order:
            self._sort()
        if cursor is not None and cursor in self._objects:
            self.move_cursor(row=self.get_row_index(cursor))
        self.updates += len(wanted)
        return len(wanted)

    def _sort(self) -> None:
        def key(values: Any) -> Any:
            return tuple(map(_sortable, values)) if isinstance(values, tuple) else _sortable(values)

        self.sort(*self.order, key=key)

    def clear_rows(self) -> None:
        self.clear()
        self._objects, self._cells = {}, {}
