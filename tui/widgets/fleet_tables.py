"""The fleet's two tables, on the items table's virtual rows: one row per vault, and every item of the fleet.

Both draw only the lines on screen and filter and sort plain lists, as the vault's items table does, so the
fifty thousand items of a large estate cost the UI what fifty do.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any, ClassVar

from core.fleet import FleetItem, VaultSummary
from core.model import Provider, Stage
from tui.widgets.items_table import ItemsTable

# Vault columns that count items, and the stages each counts.
STAGE_GROUPS: dict[str, tuple[Stage, ...]] = {
    "ready": (Stage.READY,),
    "verify": (Stage.FAILED_OVER,),
    "running": (Stage.FAILOVER_RUNNING, Stage.COMMIT_RUNNING, Stage.REPROTECT_RUNNING),
    "reprotect": (Stage.COMMITTED,),
    "protected": (Stage.PROTECTED_TO_AZURE,),
    "notready": (Stage.NOT_READY,),
}


def _count(summary: VaultSummary, column: str) -> int:
    return sum(summary.stages.get(stage, 0) for stage in STAGE_GROUPS[column])


class VaultsTable(ItemsTable):
    """One row per vault: where it is, its items by stage and health, its oldest newest-point, its provider mix."""

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("name", "Vault"),
        ("region", "Region"),
        ("ready", "Ready"),
        ("verify", "Verify"),
        ("running", "Run"),
        ("reprotect", "Reprot"),
        ("protected", "Prot"),
        ("notready", "NotRdy"),
        ("health", "Crit/Wrn"),
        ("point", "Oldest pt"),
        ("items", "Items"),
        ("mix", "Cl/Mod"),
        ("indexed", "Indexed"),
        ("subscription", "Subscription"),
    )
    _NUMERIC = frozenset({"items", *STAGE_GROUPS})

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.region_filter = ""
        self.tz: tzinfo | None = None

    def _stage_of(self, item: Any) -> Stage | None:
        return None

    def _cells(self, item: Any, stage: Stage | None) -> tuple[str, ...]:
        summary: VaultSummary = item
        ref = summary.ref
        read = bool(summary.items) or summary.indexed_at is not None
        counts = [str(_count(summary, key)) if read else "…" for key in STAGE_GROUPS]
        health = f"{summary.health.get('Critical', 0)}/{summary.health.get('Warning', 0)}" if read else "…"
        mix = f"{summary.providers.get(Provider.CLASSIC, 0)}/{summary.providers.get(Provider.MODERNIZED, 0)}"
        indexed = summary.indexed_at.astimezone(self.tz).strftime("%H:%M") if summary.indexed_at else "—"
        return (
            ref.name,
            summary.location or "—",
            *counts,
            health,
            "",
            str(summary.items) if read else "…",
            mix if read else "…",
            indexed,
            ref.subscription_id,
        )

    def _time_of(self, item: Any) -> datetime | None:
        when: datetime | None = item.oldest_point
        return when

    def _name_of(self, item: Any) -> str:
        return str(item.ref.name)

    def _critical(self, item: Any) -> bool:
        return bool(item.health.get("Critical", 0))

    def _text_of(self, item: Any, stage: Stage | None) -> str:
        ref = item.ref
        return " ".join((ref.name, item.location, ref.subscription_id, ref.resource_group)).lower()

    def _filter_extra(self) -> Any:
        return self.region_filter

    def _predicate(self) -> Any:
        return self._wanted

    def _wanted(self, entry: Any) -> bool:
        summary: VaultSummary = entry.item
        if self.stage_filter is not None and summary.stages.get(self.stage_filter, 0) == 0:
            return False
        if self.region_filter and summary.location.lower() != self.region_filter:
            return False
        return not self.filter_text or self.filter_text.lower() in entry.haystack

    def _sort_key(self, item: Any) -> Any:
        if self.sort_column in self._NUMERIC:
            summary: VaultSummary = item
            return summary.items if self.sort_column == "items" else _count(summary, self.sort_column)
        if self.sort_column == "health":
            return (item.health.get("Critical", 0), item.health.get("Warning", 0))
        return super()._sort_key(item)


class FleetItemsTable(ItemsTable):
    """Every item of the fleet with its vault and region, filterable by text, stage and region."""

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("name", "Name"),
        ("vault", "Vault"),
        ("region", "Region"),
        ("stage", "Stage"),
        ("health", "Health"),
        ("point", "Newest point"),
        ("provider", "Provider"),
    )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.region_filter = ""

    def _stage_of(self, item: Any) -> Stage | None:
        stage: Stage = item.stage
        return stage

    def _cells(self, item: Any, stage: Stage | None) -> tuple[str, ...]:
        entry: FleetItem = item
        assert stage is not None
        return (
            entry.item.friendly_name or entry.item.name,
            entry.vault.name,
            entry.location or "—",
            self._stage_cell(stage),
            entry.item.replication_health or "—",
            "",
            entry.item.provider.value,
        )

    def _time_of(self, item: Any) -> datetime | None:
        when: datetime | None = item.item.last_recovery_point_time
        return when

    def _name_of(self, item: Any) -> str:
        return str(item.item.friendly_name or item.item.name)

    def _critical(self, item: Any) -> bool:
        return str(item.item.replication_health).lower() == "critical"

    def _text_of(self, item: Any, stage: Stage | None) -> str:
        entry: FleetItem = item
        assert stage is not None
        parts = (entry.item.friendly_name, entry.item.name, entry.vault.name, entry.location, stage.short)
        return " ".join((*parts, entry.item.replication_health)).lower()

    def _wanted(self, entry: Any) -> bool:
        if self.region_filter and entry.item.location.lower() != self.region_filter:
            return False
        return super()._wanted(entry)

    def _filter_extra(self) -> Any:
        return self.region_filter

    def _predicate(self) -> Any:
        keep = super()._predicate()
        region = self.region_filter
        if not region:
            return keep
        return lambda e: e.item.location.lower() == region and keep(e)
