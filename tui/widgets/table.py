"""A DataTable that redraws its rows when its columns widen, and the keys every list shares (j/k, g/G)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from textual.binding import Binding, BindingType
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

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

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        super()._update_dimensions(new_rows)
        self._clear_caches()
