"""The vault at a glance: one row per replicated item, filtered, sorted and updated in place.

A vault can hold ten thousand items. Textual's DataTable measures and keeps every row it is given (about
1.5 s of the UI thread for 10,000), so this table keeps the items in plain lists and draws only the lines
on screen (the Line API, as toolong does): loading a page, filtering and sorting touch Python lists, never
widgets. It speaks DataTable's language to the screens: the same RowHighlighted / RowSelected messages,
row keys, cursor_row, move_cursor, get_row_index, get_cell, rows and ordered_rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist, RowKey

from core.failback import derive_stage
from core.model import ProtectedItem, Stage
from core.sanitize import one_line
from tui.text import age

COLUMNS: tuple[tuple[str, str], ...] = (
    ("name", "Name"),
    ("stage", "Stage"),
    ("health", "Health"),
    ("point", "Newest point"),
    ("plan", "Plan / group"),
    ("provider", "Provider"),
    ("location", "Active"),
)
# Ages are drawn when their line is drawn (they change with time, not with the data); "12d 23h" is the widest.
_AGE_WIDTH = 7

# Rows are coloured by what their stage asks of the operator (as k9s colours its rows); the stage's word and glyph
# say the same, so nothing is told by colour alone, and NO_COLOR or a monochrome console lose nothing.
TONES: dict[Stage, str] = {
    Stage.IN_AZURE: "act",
    Stage.READY: "ready",
    Stage.FAILOVER_RUNNING: "busy",
    Stage.CANCEL_RUNNING: "busy",
    Stage.COMMIT_RUNNING: "busy",
    Stage.REPROTECT_RUNNING: "busy",
    Stage.FAILED_OVER: "act",
    Stage.COMMITTED: "act",
    Stage.PROTECTED_TO_AZURE: "done",
    Stage.NOT_READY: "done",
}

# The order stages take in the failback, for sorting by stage.
STAGE_ORDER = {stage: index for index, stage in enumerate(Stage)}


def _short_site(name: str) -> str:
    """'avs-weu-prod-01 (vc.avs-weu-prod-01.avs.azure.com)' → 'avs-weu-prod-01'."""
    return name.split(" (")[0]


def location_text(item: ProtectedItem) -> str:
    """Where the VM runs now. On the failback leg (InMage, active site Azure; InMageRcmFailback, which has no active
    site field) the primary side is Azure and the recovery side is the AVS private cloud; on the AVS → Azure leg
    it is the other way round."""
    location = item.active_location.lower()
    failback_leg = item.instance_type in ("InMage", "InMageRcmFailback") or item.active_site_type.lower() == "azure"
    avs = _short_site(item.recovery_fabric_friendly_name if failback_leg else item.primary_fabric_friendly_name)
    if location == "primary":
        return "Azure" if failback_leg else f"AVS {avs}".strip()
    if location == "recovery":
        return f"AVS {avs}".strip() if failback_leg else "Azure"
    return item.active_location or "—"


def plan_text(item: ProtectedItem) -> str:
    plans = ", ".join(item.recovery_plans)
    group = item.consistency_group
    if plans and group:
        return f"{plans} / {group}"
    return plans or (f"/ {group}" if group else "—")


def _haystack(item: ProtectedItem, stage: Stage) -> str:
    return " ".join((item.friendly_name, item.name, plan_text(item), item.replication_health, stage.short)).lower()


def matches(item: ProtectedItem, text: str, stage: Stage | None) -> bool:
    item_stage = derive_stage(item)
    if stage is not None and item_stage is not stage:
        return False
    return not text or text.lower() in _haystack(item, item_stage)


@dataclass
class _Entry:
    """An item and what drawing, filtering and sorting it need, computed once per version of the item."""

    item: ProtectedItem
    stage: Stage | None  # None for rows that are not items (the fleet's vaults)
    cells: tuple[str, ...]  # the point column is left empty: it is drawn from the time of drawing
    haystack: str
    critical: bool
    tone: str = ""  # a key of the table's items--tone-* component classes; "" for none


@dataclass(frozen=True)
class _Row:
    key: RowKey


def _item_id(key: Any) -> str:
    return str(key.value) if isinstance(key, RowKey) else str(key)


class _Rows(Mapping[RowKey, _Row]):
    """The shown rows in their order, keyed like DataTable.rows (a RowKey equals its item id)."""

    def __init__(self, table: ItemsTable) -> None:
        self._table = table

    def __getitem__(self, key: Any) -> _Row:
        item_id = _item_id(key)
        if item_id not in self._table._index:
            raise KeyError(key)
        return _Row(RowKey(item_id))

    def __iter__(self) -> Iterator[RowKey]:
        return (RowKey(item_id) for item_id in self._table._order)

    def __len__(self) -> int:
        return len(self._table._order)

    def __contains__(self, key: object) -> bool:
        return _item_id(key) in self._table._index


class ItemsTable(ScrollView, can_focus=True):
    """Rows keyed by item id. The full list lives here; the filter decides which rows are shown.

    A subclass may show other rows (the fleet's vaults, the fleet's items) by naming its COLUMNS and answering
    the row hooks (_stage_of, _cells, _time_of, _name_of, _critical, _text_of); its rows need only an `id`.
    """

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = COLUMNS

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "datatable--header",
        "datatable--cursor",
        "items--tone-ready",
        "items--tone-busy",
        "items--tone-act",
        "items--tone-done",
        "items--tone-blocked",
    }
    # DataTable's look, so the table reads the same as every other table in the app.
    DEFAULT_CSS = """
    ItemsTable {
        background: $surface;
        color: $foreground;
        height: 1fr;
        &:focus {
            background-tint: $foreground 5%;
            & > .datatable--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .datatable--header {
                background-tint: $foreground 5%;
            }
        }
        & > .datatable--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .datatable--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .datatable--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        & > .items--tone-ready { color: $text-success; }
        & > .items--tone-busy { color: $text-accent; }
        & > .items--tone-act { color: $text-warning; }
        & > .items--tone-done { color: $text-muted; }
        & > .items--tone-blocked { color: $text-error; }
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Open the job", id="items-select", show=False, tooltip="The item's job"),
        Binding("up", "cursor_up", "Up", id="items-arrow-up", show=False),
        Binding("down", "cursor_down", "Down", id="items-arrow-down", show=False),
        Binding("pageup", "page_up", "Page up", id="items-page-up", show=False),
        Binding("pagedown", "page_down", "Page down", id="items-page-down", show=False),
        Binding("home,ctrl+home", "cursor_first", "Top", id="items-home", show=False),
        Binding("end,ctrl+end", "cursor_last", "Bottom", id="items-end", show=False),
        # The keys every list shares (tui.widgets.table.LIST_BINDINGS), on this table's own actions.
        Binding("j", "cursor_down", "Down", id="list-down", show=False, tooltip="Next row"),
        Binding("k", "cursor_up", "Up", id="list-up", show=False, tooltip="Previous row"),
        Binding("g", "cursor_first", "Top", id="list-top", show=False, tooltip="First row"),
        Binding("G", "cursor_last", "Bottom", id="list-bottom", show=False, tooltip="Last row"),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.items: dict[str, ProtectedItem] = {}
        self.filter_text = ""
        self.stage_filter: Stage | None = None
        self.sort_column = ""
        self.sort_reverse = False
        self.now: datetime | None = None
        self._entries: dict[str, _Entry] = {}
        self._order: list[str] = []  # ids of the shown rows, top to bottom
        self._index: dict[str, int] = {}
        self._cursor = 0
        self._highlighted: str | None = None
        self._stage_texts: dict[Stage, str] = {}
        self._keys = tuple(key for key, _ in self.COLUMNS)
        self._point = self._keys.index("point") if "point" in self._keys else -1
        self._health = self._keys.index("health") if "health" in self._keys else -1
        self._stage_column = self._keys.index("stage") if "stage" in self._keys else -1
        self._widths = [cell_len(label) for _, label in self.COLUMNS]
        if self._point >= 0:
            self._widths[self._point] = max(self._widths[self._point], _AGE_WIDTH)
        self._drawn_ages: dict[int, str] = {}  # screen line → the age text drawn there
        # The screen's words for a row's stage where they say more than the stage (a retry waiting for the agent, a
        # ready VM the preflight would stop); None: the stage's own glyph and word.
        # (words, tone) or None; the tone is one of TONES' values or "blocked".
        self.labeller: Callable[[ProtectedItem, Stage], tuple[str, str] | None] | None = None
        self._filtered_as: tuple[str, Stage | None, Any] | None = None  # the filter the shown rows answer

    # -- DataTable's vocabulary -------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._order)

    @property
    def rows(self) -> _Rows:
        return _Rows(self)

    @property
    def ordered_rows(self) -> list[_Row]:
        return [_Row(RowKey(item_id)) for item_id in self._order]

    @property
    def cursor_row(self) -> int:
        return self._cursor

    def get_row_index(self, row_key: Any) -> int:
        item_id = _item_id(row_key)
        if item_id not in self._index:
            raise RowDoesNotExist(f"No row with key {item_id!r}")
        return self._index[item_id]

    def get_cell(self, row_key: Any, column_key: Any) -> str:
        item_id = _item_id(row_key)
        entry = self._entries.get(item_id)
        if entry is None or item_id not in self._index:
            raise RowDoesNotExist(f"No row with key {item_id!r}")
        column = self._keys.index(_item_id(column_key))
        return self._age(entry) if column == self._point else entry.cells[column]

    def move_cursor(
        self, *, row: int | None = None, column: int | None = None, animate: bool = False, scroll: bool = True
    ) -> None:
        if row is None or not self._order:
            return
        row = max(0, min(row, len(self._order) - 1))
        if row != self._cursor:
            self._refresh_row(self._cursor)
            self._cursor = row
            self._refresh_row(row)
        if scroll:
            self._scroll_to_cursor()
        self._highlight()

    # -- cells ------------------------------------------------------------------------------------------

    def _now(self) -> datetime | None:
        return getattr(self.app, "backend_now", lambda: None)() or self.now

    def _age(self, entry: _Entry, now: datetime | None = None) -> str:
        now = now or self._now()
        return age(self._time_of(entry.item), now) if now else "—"

    # -- what a row shows (a subclass with other rows answers these) ---------------------------------------

    def _stage_of(self, item: Any) -> Stage | None:
        return derive_stage(item)

    def _stage_cell(self, stage: Stage) -> str:
        text = self._stage_texts.get(stage)
        if text is None:  # once per stage: the app's glyphs are chosen when it starts
            glyphs = getattr(self.app, "glyphs", None)
            text = self._stage_texts[stage] = glyphs.stage_text(stage) if glyphs else f"{stage.glyph} {stage.short}"
        return text

    def _cells(self, item: Any, stage: Stage | None) -> tuple[str, ...]:
        """One text per column; the point column is left empty (it is drawn from the time of drawing)."""
        assert stage is not None
        return (
            item.friendly_name or item.name,
            self._stage_cell(stage),
            item.replication_health or "—",
            "",
            plan_text(item),
            item.provider.value,
            location_text(item),
        )

    def _time_of(self, item: Any) -> datetime | None:
        when: datetime | None = item.last_recovery_point_time
        return when

    def _name_of(self, item: Any) -> str:
        return str(item.friendly_name or item.name)

    def _critical(self, item: Any) -> bool:
        return str(item.replication_health).lower() == "critical"

    def _text_of(self, item: Any, stage: Stage | None) -> str:
        """What the filter searches, lower-case."""
        assert stage is not None
        return _haystack(item, stage)

    def _label(self, item: Any, stage: Stage | None) -> tuple[str, str]:
        """The screen's words for a row's stage where they say more than the stage (`labeller`), and the row's
        colour tone ("" for rows without a stage: the fleet's vaults)."""
        if stage is None:
            return "", ""
        labelled = self.labeller(item, stage) if self.labeller is not None else None
        return labelled if labelled is not None else ("", TONES[stage])

    def _entry(self, item: Any) -> _Entry:
        stage = self._stage_of(item)
        label, tone = self._label(item, stage)
        # Drawn as segments, straight to the terminal: every value from outside is made inert here, once per
        # version of a row (one_line costs one C-level check for an ordinary name).
        cells = tuple(one_line(text) for text in self._cells(item, stage))
        if label and self._stage_column >= 0:
            cells = (*cells[: self._stage_column], label, *cells[self._stage_column + 1 :])
        for column, text in enumerate(cells):
            width = cell_len(text)
            if width > self._widths[column]:
                self._widths[column] = width
        haystack = self._text_of(item, stage) + (f" {label.lower()}" if label else "")
        return _Entry(item, stage, cells, haystack, self._critical(item), tone)  # type: ignore[arg-type]

    def _wanted(self, entry: _Entry) -> bool:
        if self.stage_filter is not None and entry.stage is not self.stage_filter:
            return False
        return not self.filter_text or self.filter_text.lower() in entry.haystack

    # -- what the dashboard calls ------------------------------------------------------------------------

    @property
    def selected(self) -> ProtectedItem | None:
        if not self._order:
            return None
        return self.items.get(self._order[min(self._cursor, len(self._order) - 1)])

    def reset(self) -> None:
        self.items.clear()
        self._entries.clear()
        self._set_order([], keep=None)

    def clear(self) -> None:
        self.reset()

    def add_page(self, page: Iterable[ProtectedItem]) -> None:
        added = False
        for item in page:
            if item.id in self.items:
                self.upsert(item)
                continue
            self.items[item.id] = item
            entry = self._entries[item.id] = self._entry(item)
            if self._wanted(entry):
                self._index[item.id] = len(self._order)
                self._order.append(item.id)
                added = True
        if added:
            self._resize()
            self.refresh()
            self._highlight()  # the first row appearing highlights it, as in DataTable

    def upsert(self, item: ProtectedItem) -> None:
        """Change a row's cells in place (the cursor stays where it is); add or hide it as the filter says."""
        before = self._entries.get(item.id)
        self.items[item.id] = item
        entry = self._entries[item.id] = self._entry(item)
        shown = item.id in self._index
        wanted = self._wanted(entry)
        if shown and wanted:
            self._resize()
            if before is None:
                self._refresh_row(self._index[item.id])
                return
            # Only the cells whose text changed are sent again: a periodic refresh of a quiet vault sends nothing.
            changed = [n for n, (old, new) in enumerate(zip(before.cells, entry.cells, strict=True)) if old != new]
            if before.critical != entry.critical and self._health >= 0:
                changed.append(self._health)
            if before.tone != entry.tone:
                changed = list(range(len(self.COLUMNS)))
            if self._point >= 0 and self._age(before) != self._age(entry):
                changed.append(self._point)
            for column in changed:
                self._refresh_cell(self._index[item.id], column)
        elif wanted:
            order = [*self._order, item.id]
            if self.sort_column:
                order.sort(key=lambda i: self._sort_key(self.items[i]), reverse=self.sort_reverse)
            self._set_order(order, keep=self._current_id())
        elif shown:
            self._set_order([i for i in self._order if i != item.id], keep=self._current_id())

    def stages_present(self) -> set[Stage]:
        return {entry.stage for entry in self._entries.values()}

    def relabel(self, ids: Iterable[str] | None = None) -> None:
        """Work out the rows' stage words again (all rows, or `ids`): what the labeller says has changed."""
        for item_id in list(self.items) if ids is None else list(ids):
            if item_id in self.items:
                self.upsert(self.items[item_id])

    def forget_missing(self, seen: set[str]) -> None:
        """Drop items a full refresh no longer lists (deleted, or disabled by someone else)."""
        gone = [i for i in self.items if i not in seen]
        if not gone:
            return
        for item_id in gone:
            del self.items[item_id]
            self._entries.pop(item_id, None)
        self._set_order([i for i in self._order if i in self.items], keep=self._current_id())

    def refresh_ages(self, now: datetime) -> None:
        """Redraw only the lines whose age text changed: a quiet vault writes nothing to the terminal."""
        self.now = now
        current = self._now() or now
        top = int(self.scroll_offset.y)
        for line, drawn in list(self._drawn_ages.items()):
            row = top + line - 1
            if 0 <= row < len(self._order):
                if self._age(self._entries[self._order[row]], current) != drawn:
                    self._refresh_cell(row, self._point)

    def apply_filter(self, text: str | None = None, stage: Stage | None | str = "keep") -> None:
        """Show the items the filter keeps, keeping the cursor on the same item if it is shown.

        A key that only lengthens the text looks through the rows shown, not every item: the rows a longer text
        keeps are among those the shorter one kept, already in order.
        """
        before = (self.filter_text.lower(), self.stage_filter, self._filter_extra())
        if text is not None:
            self.filter_text = text
        if stage != "keep":
            self.stage_filter = stage if isinstance(stage, Stage) else None
        current = self._current_id()
        needle = self.filter_text.lower()
        narrowing = (
            self._filtered_as == before
            and before[1:] == (self.stage_filter, self._filter_extra())
            and needle.startswith(before[0])
            and needle != before[0]
        )
        keep = self._predicate()
        entries = self._entries
        pool: Iterable[str] = self._order if narrowing else self.items
        shown = [item_id for item_id in pool if keep(entries[item_id])]
        if self.sort_column and not narrowing:
            shown.sort(key=lambda i: self._sort_key(self.items[i]), reverse=self.sort_reverse)
        self._filtered_as = (needle, self.stage_filter, self._filter_extra())
        self._set_order(shown, keep=current)

    def _filter_extra(self) -> Any:
        """What else a subclass filters on (the fleet: a region), for apply_filter to know a key only narrows."""
        return None

    def _predicate(self) -> Callable[[_Entry], bool]:
        """_wanted as one function built for this filter: a keystroke tests fifty thousand rows with it."""
        stage = self.stage_filter
        needle = self.filter_text.lower()
        if stage is None:
            return (lambda e: needle in e.haystack) if needle else (lambda e: True)
        return lambda e: e.stage is stage and needle in e.haystack

    def sort_on(self, column: str) -> None:
        """Sort by a column; asking again for the same column reverses the order."""
        self.sort_reverse = not self.sort_reverse if column == self.sort_column else False
        self.sort_column = column
        self._filtered_as = None  # the rows must be sorted again, not just narrowed
        self.apply_filter()

    def _sort_key(self, item: ProtectedItem) -> Any:
        column = self.sort_column
        entry = self._entries[item.id]
        if column == "stage" and entry.stage is not None:
            return STAGE_ORDER[entry.stage]
        if column == "point":
            # Newest point first; items without a point last.
            t = self._time_of(item)
            return -t.timestamp() if t else float("inf")
        if column == "name":
            return self._name_of(item).lower()
        return entry.cells[self._keys.index(column)].lower()

    # -- order, cursor and scrolling ------------------------------------------------------------------------

    def _current_id(self) -> str | None:
        if not self._order:
            return None
        return self._order[min(self._cursor, len(self._order) - 1)]

    def _set_order(self, order: list[str], keep: str | None) -> None:
        self._order = order
        self._index = {item_id: n for n, item_id in enumerate(order)}
        self._cursor = self._index.get(keep, 0) if keep is not None else 0
        self._resize()
        self.refresh()
        self._scroll_to_cursor()
        # Once more after the layout: the filter box closing (or the list growing) changes the height the scroll
        # above was clamped to, and a cursor left below the fold would act on a row the operator cannot see.
        self.call_after_refresh(self._scroll_to_cursor)
        self._highlight()

    def on_resize(self) -> None:
        self._scroll_to_cursor()

    def _resize(self) -> None:
        width = sum(w + 2 for w in self._widths)
        size = Size(width, len(self._order) + 1)
        if size != self.virtual_size:
            self.virtual_size = size

    def _scroll_to_cursor(self) -> None:
        visible = max(1, self.scrollable_content_region.height - 1)
        top = int(self.scroll_offset.y)
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False, immediate=True)
        elif self._cursor >= top + visible:
            self.scroll_to(y=self._cursor - visible + 1, animate=False, immediate=True)

    def _highlight(self) -> None:
        """Tell the screen which row is highlighted when that changes (DataTable's RowHighlighted)."""
        current = self._current_id()
        if current is not None and current != self._highlighted:
            self._highlighted = current
            self.post_message(DataTable.RowHighlighted(self, self._cursor, RowKey(current)))  # type: ignore[arg-type]
        elif current is None:
            self._highlighted = None

    def _refresh_row(self, row: int) -> None:
        self.refresh_line(row + 1)

    def _refresh_cell(self, row: int, column: int) -> None:
        y = row + 1 - int(self.scroll_offset.y)
        if y < 1 or y >= self.size.height:
            return
        x = sum(w + 2 for w in self._widths[:column]) - int(self.scroll_offset.x)
        self.refresh(Region(x, y, self._widths[column] + 2, 1))

    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - 2)

    def action_cursor_up(self) -> None:
        self.move_cursor(row=self._cursor - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(row=self._cursor + 1)

    def action_page_up(self) -> None:
        self.move_cursor(row=self._cursor - self._page())

    def action_page_down(self) -> None:
        self.move_cursor(row=self._cursor + self._page())

    def action_cursor_first(self) -> None:
        self.move_cursor(row=0)

    def action_cursor_last(self) -> None:
        self.move_cursor(row=len(self._order) - 1)

    def action_select_cursor(self) -> None:
        current = self._current_id()
        if current is not None:
            self.post_message(DataTable.RowSelected(self, self._cursor, RowKey(current)))  # type: ignore[arg-type]

    async def _on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return
        row = int(self.scroll_offset.y) + offset.y - 1
        if 0 <= row < len(self._order):
            again = row == self._cursor
            self.move_cursor(row=row)
            if again:
                self.action_select_cursor()
            event.stop()

    # -- drawing --------------------------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        scroll_x, scroll_y = (int(v) for v in self.scroll_offset)
        if y == 0:
            style = base + self.get_component_rich_style("datatable--header")
            strip = self._strip([label for _, label in self.COLUMNS], style, style)
        else:
            row = scroll_y + y - 1
            if row >= len(self._order):
                self._drawn_ages.pop(y, None)
                return Strip.blank(width, base)
            entry = self._entries[self._order[row]]
            cells = list(entry.cells)
            if self._point >= 0:
                cells[self._point] = self._drawn_ages[y] = self._age(entry)
            if row == self._cursor:
                style = base + self.get_component_rich_style("datatable--cursor")
            elif entry.tone:
                style = base + self.get_component_rich_style(f"items--tone-{entry.tone}")
            else:
                style = base
            strip = self._strip(cells, style, style + Style(bold=True) if entry.critical else style)
        return strip.crop(scroll_x, scroll_x + width).extend_cell_length(width, base)

    def _strip(self, cells: list[str], style: Style, health_style: Style) -> Strip:
        segments = []
        for column, text in enumerate(cells):
            width = self._widths[column]
            if column == self._health and health_style is not style:
                # Only the word is bold, as DataTable draws a styled cell.
                shown = set_cell_size(text, width)
                segments.append(Segment(" ", style))
                segments.append(Segment(text[:width], health_style))
                segments.append(Segment(" " * (cell_len(shown) - cell_len(text[:width]) + 1), style))
            else:
                segments.append(Segment(f" {set_cell_size(text, width)} ", style))
        return Strip(segments)
