"""A DataTable that redraws its rows when its columns widen."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual.widgets import DataTable
from textual.widgets.data_table import RowKey


class FreshTable(DataTable[Any]):
    """Textual 8.2.8 measures new rows on idle but keeps the lines it drew before, with the old narrow columns
    (their cache key ignores column widths): a table filled page by page could stay clipped. Dropping the
    render caches after each measurement costs one redraw of the visible rows."""

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        super()._update_dimensions(new_rows)
        self._clear_caches()
