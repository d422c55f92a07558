"""A DataTable that redraws its rows when its columns widen, shows its cells as content (never as markup), and
has the keys every list shares (j/k, g/G)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import DataTable
from textual.widgets.data_table import CellType, ColumnKey, RowKey

from core.sanitize import one_line


def _content(value: Any) -> Any:
    # DataTable parses a str cell as markup: a VM named `web-02[/]` would raise, `SQL-02 [PROD]` lose its tag.
    return Text(one_line(value), no_wrap=True) if isinstance(value, str) else value


# A k9s or vim user's list keys, beside the arrows, Home and End. The ids are shared by every list (the items
# table too), so F1 lists them once and a keymap moves them everywhere at once.
LIST_BINDINGS: list[BindingType] = [
    Binding("j", "cursor_down", "Down", id="list-down", show=False, tooltip="Next row"),
    Binding("k", "cursor_up", "Up", id="list-up", show=False, tooltip="Previous row"),
    Binding("g", "scroll_top", "Top", id="list-top", show=False, tooltip="First row"),
    Binding("G", "scroll_bottom", "Bottom", id="list-bottom", show=False, tooltip="Last row"),
]


class FreshTable(DataTable[Any]):
    """Textual 8.2.8 measures new rows on idle but keeps the lines it drew before, with the old narrow columns
    (their cache key ignores column widths): a table filled page by page could stay clipped. Dropping the
    render caches after each measurement costs one redraw of the visible rows."""

    BINDINGS: ClassVar[list[BindingType]] = LIST_BINDINGS

    def add_row(self, *cells: CellType, height: int | None = 1, key: str | None = None, label: Any = None) -> RowKey:
        return super().add_row(*(_content(cell) for cell in cells), height=height, key=key, label=label)

    def update_cell(
        self, row_key: RowKey | str, column_key: ColumnKey | str, value: CellType, *, update_width: bool = False
    ) -> None:
        super().update_cell(row_key, column_key, _content(value), update_width=update_width)

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        super()._update_dimensions(new_rows)
        self._clear_caches()


def cursor_key(table: DataTable[Any]) -> str:
    """The key of the row under the table's cursor ("" for an empty table)."""
    if not table.row_count:
        return ""
    return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value or "")
