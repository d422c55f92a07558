"""The vault at a glance: one row per replicated item, filtered, sorted and updated in place."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from rich.text import Text
from textual.widgets.data_table import CellDoesNotExist, RowDoesNotExist

from core.failback import derive_stage
from core.model import ProtectedItem, Stage
from tui.text import age
from tui.widgets.table import FreshTable

COLUMNS: tuple[tuple[str, str], ...] = (
    ("name", "Name"),
    ("stage", "Stage"),
    ("health", "Health"),
    ("point", "Newest point"),
    ("plan", "Plan / group"),
    ("provider", "Provider"),
    ("location", "Active"),
)

# The order stages take in the failback, for sorting by stage.
STAGE_ORDER = {stage: index for index, stage in enumerate(Stage)}


def _short_site(name: str) -> str:
    """'avs-weu-prod-01 (vc.avs-weu-prod-01.avs.azure.com)' → 'avs-weu-prod-01'."""
    return name.split(" (")[0]


def location_text(item: ProtectedItem) -> str:
    """Where the VM runs now. On the failback leg (InMage, active site Azure) the primary side is Azure and the
    recovery side is the AVS private cloud; on the AVS → Azure leg it is the other way round."""
    location = item.active_location.lower()
    failback_leg = item.instance_type == "InMage" or item.active_site_type.lower() == "azure"
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


def matches(item: ProtectedItem, text: str, stage: Stage | None) -> bool:
    if stage is not None and derive_stage(item) is not stage:
        return False
    if not text:
        return True
    needle = text.lower()
    haystack = " ".join(
        (item.friendly_name, item.name, plan_text(item), item.replication_health, derive_stage(item).short)
    ).lower()
    return needle in haystack


class ItemsTable(FreshTable):
    """Rows keyed by item id. The full list lives here; the filter decides which rows are shown."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self.items: dict[str, ProtectedItem] = {}
        self.filter_text = ""
        self.stage_filter: Stage | None = None
        self.sort_column = ""
        self.sort_reverse = False
        self.now: datetime | None = None

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            self.add_column(label, key=key)

    # -- cells ------------------------------------------------------------------------------------------

    def _cells(self, item: ProtectedItem) -> dict[str, Any]:
        glyphs = getattr(self.app, "glyphs", None)
        stage = derive_stage(item)
        stage_cell = glyphs.stage_text(stage) if glyphs else f"{stage.glyph} {stage.short}"
        health = item.replication_health or "—"
        now = getattr(self.app, "backend_now", lambda: None)() or self.now
        return {
            "name": item.friendly_name or item.name,
            "stage": stage_cell,
            "health": Text(health, style="bold" if health.lower() == "critical" else ""),
            "point": age(item.last_recovery_point_time, now) if now else "—",
            "plan": plan_text(item),
            "provider": item.provider.value,
            "location": location_text(item),
        }

    def _add(self, item: ProtectedItem) -> None:
        cells = self._cells(item)
        self.add_row(*(cells[key] for key, _ in COLUMNS), key=item.id)

    # -- what the dashboard calls ------------------------------------------------------------------------

    @property
    def selected(self) -> ProtectedItem | None:
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except CellDoesNotExist:
            return None
        return self.items.get(str(key.value)) if key.value is not None else None

    def reset(self) -> None:
        self.items.clear()
        self.clear()

    def add_page(self, page: Iterable[ProtectedItem]) -> None:
        for item in page:
            if item.id in self.items:
                self.upsert(item)
                continue
            self.items[item.id] = item
            if matches(item, self.filter_text, self.stage_filter):
                self._add(item)

    def upsert(self, item: ProtectedItem) -> None:
        """Change a row's cells in place (the cursor stays where it is); add or hide it as the filter says."""
        self.items[item.id] = item
        shown = item.id in self.rows
        wanted = matches(item, self.filter_text, self.stage_filter)
        if shown and wanted:
            for key, value in self._cells(item).items():
                self.update_cell(item.id, key, value, update_width=True)
        elif wanted:
            self._add(item)
        elif shown:
            self.remove_row(item.id)

    def forget_missing(self, seen: set[str]) -> None:
        """Drop items a full refresh no longer lists (deleted, or disabled by someone else)."""
        for item_id in [i for i in self.items if i not in seen]:
            del self.items[item_id]
            try:
                self.remove_row(item_id)
            except RowDoesNotExist:
                pass

    def refresh_ages(self, now: datetime) -> None:
        self.now = now
        for item_id in list(self.rows):
            item = self.items.get(str(item_id.value))
            if item is not None:
                self.update_cell(item_id, "point", age(item.last_recovery_point_time, now), update_width=True)

    def apply_filter(self, text: str | None = None, stage: Stage | None | str = "keep") -> None:
        """Rebuild the visible rows from the full list, keeping the cursor on the same item if it is shown."""
        if text is not None:
            self.filter_text = text
        if stage != "keep":
            self.stage_filter = stage if isinstance(stage, Stage) else None
        current = self.selected
        self.clear()
        shown = [i for i in self.items.values() if matches(i, self.filter_text, self.stage_filter)]
        if self.sort_column:
            shown.sort(key=self._sort_key, reverse=self.sort_reverse)
        for item in shown:
            self._add(item)
        if current is not None and current.id in self.rows:
            self.move_cursor(row=self.get_row_index(current.id))

    def sort_on(self, column: str) -> None:
        """Sort by a column; asking again for the same column reverses the order."""
        self.sort_reverse = not self.sort_reverse if column == self.sort_column else False
        self.sort_column = column
        self.apply_filter()

    def _sort_key(self, item: ProtectedItem) -> Any:
        column = self.sort_column
        if column == "stage":
            return STAGE_ORDER[derive_stage(item)]
        if column == "point":
            # Newest point first; items without a point last.
            t = item.last_recovery_point_time
            return -t.timestamp() if t else float("inf")
        if column == "name":
            return (item.friendly_name or item.name).lower()
        return str(self._cells(item)[column]).lower()
