"""The fleet: every vault in every subscription in scope, from Azure Resource Graph; Enter opens one, live."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static, TabbedContent, TabPane, Tabs
from textual.worker import Worker, WorkerState

from core.errors import FailbackError
from core.fleet import FleetItem, Tally, VaultSummary
from tui.messages import FleetItemsPage, FleetLoaded, FleetLoadFailed, FleetReady, FleetVaultsLoaded
from tui.screens.dashboard import PAGE_BATCH_SECONDS, STAGE_CYCLE, _minutes_ago
from tui.text import plain
from tui.widgets.banner import ModeBanner
from tui.widgets.fleet_tables import FleetItemsTable, VaultsTable

BATCH_ITEMS = 1500
NOTE = "Counts from Azure Resource Graph, which may lag the vaults by minutes or more. Enter opens a vault live (ARM)."


class FleetScreen(Screen[None]):
    AUTO_FOCUS = "#vault-rows"
    BINDINGS = [
        Binding("1", "show_tab('vaults-tab')", "Vaults", id="fleet-vaults", tooltip="One row per vault"),
        Binding("2", "show_tab('items-tab')", "Items", id="fleet-items", tooltip="Every item of the fleet"),
        Binding("slash", "filter", "Filter", id="fleet-filter", tooltip="Type to filter by name, vault, region"),
        Binding("s", "cycle_stage", "Stage", id="fleet-stage", tooltip="Only one stage; again for the next"),
        Binding(
            "L", "cycle_region", "Region", id="fleet-region", tooltip="Only one location (region); again for the next"
        ),
        Binding("o", "cycle_sort", "Sort", id="fleet-sort", show=False, tooltip="Sort by the next column"),
        Binding("O", "reverse_sort", "Reverse", id="fleet-reverse", show=False),
        Binding("ctrl+r", "refresh", "Refresh", id="fleet-refresh", show=False, tooltip="Ask Resource Graph again"),
        Binding("escape", "clear_filter", "Clear filter", id="fleet-clear", show=False),
        Binding("q", "app.quit", "Quit", id="fleet-quit", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.generation = 0
        self.loading = False
        self.read_at: datetime | None = None
        self.requests = 0
        self.error: BaseException | None = None
        self.vaults: dict[str, VaultSummary] = {}
        self._entries: list[FleetItem] = []
        self._status_text = ""
        self._mounted = False

    def compose(self) -> ComposeResult:
        yield ModeBanner()
        yield Static("Fleet · reading Azure Resource Graph…", id="fleet-line")
        yield Input(placeholder="Filter: name, vault, region… (Enter keeps it, Esc clears)", id="filter")
        with TabbedContent(id="fleet-tabs", initial="vaults-tab"):
            with TabPane("Vaults (1)", id="vaults-tab"):
                yield VaultsTable(id="vault-rows")
            with TabPane("Items (2)", id="items-tab"):
                yield FleetItemsTable(id="fleet-item-rows")
        yield Static(NOTE, id="fleet-note")
        yield Static("", id="status")
        yield Footer()

    @property
    def vault_table(self) -> VaultsTable:
        return self.query_one(VaultsTable)

    @property
    def item_table(self) -> FleetItemsTable:
        return self.query_one(FleetItemsTable)

    @property
    def active_table(self) -> VaultsTable | FleetItemsTable:
        active = self.query_one(TabbedContent).active
        return self.item_table if active == "items-tab" else self.vault_table

    def on_mount(self) -> None:
        # 1 and 2 switch tabs: the tab strip taking focus would leave the keys of the table without effect.
        self.query_one(TabbedContent).query_one(Tabs).can_focus = False
        self.query_one("#filter", Input).display = False
        self.vault_table.tz = getattr(self.app, "tz", None)
        self.call_after_refresh(self.active_table.focus)
        self._mounted = True
        if getattr(self.app, "fleet", None) is not None and not self.generation:
            self.reload()

    def on_fleet_ready(self, message: FleetReady) -> None:
        self.query_one(ModeBanner).refresh_modes()
        if not self.generation:  # the first read; later ones are the operator's (ctrl+r)
            self.reload()

    # -- reading --------------------------------------------------------------------------------------------

    def reload(self) -> None:
        self.generation += 1
        self.loading = True
        self.error = None
        self._update_status()
        self.read_fleet(self.generation)

    @work(thread=True, exclusive=True, group="fleet", exit_on_error=False, description="Reading the fleet")
    def read_fleet(self, generation: int) -> None:
        from textual.worker import get_current_worker

        worker = get_current_worker()
        fleet: Any = self.app.fleet  # type: ignore[attr-defined]
        what = "the vaults"
        try:
            vaults = fleet.list_vaults()
            self.post_message(FleetVaultsLoaded(vaults, generation))
            what = "the items"
            # Each item is counted once, here, off the UI thread; the UI gets copies of the vault rows that moved.
            tally = Tally(vaults)
            pending: list[FleetItem] = []
            posted = 0.0
            for page in fleet.iter_item_pages():
                if worker.is_cancelled:
                    return
                tally.add(page)
                pending.extend(page)
                # Pages reach the UI together at most ~8 times a second, in messages of at most BATCH_ITEMS
                # items: the UI draws a frame between two of them.
                if time.monotonic() - posted >= PAGE_BATCH_SECONDS:
                    self._post_items(pending, tally, generation)
                    pending, posted = [], time.monotonic()
            if pending:
                self._post_items(pending, tally, generation)
            what = "the jobs"
            jobs = fleet.list_jobs()
        except FailbackError as exc:
            self.post_message(FleetLoadFailed(generation, what, exc))
            return
        self.post_message(FleetLoaded(jobs, generation, fleet.now(), fleet.requests, tally.finish(jobs)))

    def _post_items(self, pending: list[FleetItem], tally: Tally, generation: int) -> None:
        starts = range(0, len(pending), BATCH_ITEMS)
        for start in starts:
            last = start == starts[-1]
            rows = tally.changed() if last else []
            self.post_message(FleetItemsPage(pending[start : start + BATCH_ITEMS], generation, rows))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The read died of something unexpected: say so, and let g try again."""
        if event.state is WorkerState.ERROR and event.worker.group == "fleet":
            error = event.worker.error or RuntimeError("unknown error")
            self.post_message(FleetLoadFailed(self.generation, "the fleet", error))

    def on_fleet_vaults_loaded(self, message: FleetVaultsLoaded) -> None:
        if message.generation != self.generation:
            return
        self._entries = []
        self.vaults = {v.key: v for v in message.vaults}
        table = self.vault_table
        table.now = self._now()
        table.reset()
        table.add_page(message.vaults)
        self.item_table.reset()
        subs = {v.ref.subscription_id.lower() for v in message.vaults}
        self.query_one("#fleet-line", Static).update(
            f"Fleet · {len(message.vaults)} vaults in {len(subs)} subscriptions · Azure Resource Graph"
        )
        self._update_status()

    def on_fleet_items_page(self, message: FleetItemsPage) -> None:
        if message.generation != self.generation:
            return
        self._entries.extend(message.entries)
        self.item_table.now = self._now()
        self.item_table.add_page(message.entries)
        table = self.vault_table
        for summary in message.summaries:  # counted by the reader: the rows these items moved
            self.vaults[summary.key] = summary
            table.upsert(summary)
        self._update_status()

    def on_fleet_loaded(self, message: FleetLoaded) -> None:
        if message.generation != self.generation:
            return
        self.loading = False
        self.read_at = message.read_at
        self.requests = message.requests
        table = self.vault_table
        for summary in message.summaries:
            key = summary.key
            self.vaults[key] = summary
            table.upsert(summary)
        if table.sort_column:
            table.apply_filter()
        self._update_status()

    def on_fleet_load_failed(self, message: FleetLoadFailed) -> None:
        if message.generation != self.generation:
            return
        self.loading = False
        self.error = message.error
        self._update_status()
        self.app.show_error(  # type: ignore[attr-defined]
            message.error, heading=f"Could not read {message.what} from Azure Resource Graph"
        )

    def _now(self) -> datetime | None:
        fleet = getattr(self.app, "fleet", None)
        return fleet.now() if fleet is not None else None

    def on_clock_tick(self, now: datetime) -> None:
        if not self._mounted:
            return
        self._update_status()
        self.active_table.refresh_ages(now)

    def on_screen_resume(self) -> None:
        self.refresh_bindings()
        now = self._now()
        if now is not None and self._mounted:
            self.active_table.refresh_ages(now)
            self._update_status()

    # -- status ---------------------------------------------------------------------------------------------

    def _keep_focus(self) -> None:
        """The table keeps the keys while data comes in (unless the filter box has them)."""
        if self.app.screen is self and self.focused is None:
            self.active_table.focus()

    def _update_status(self) -> None:
        if not self._mounted:
            return
        self._keep_focus()
        table = self.active_table
        items = len(self._entries)
        parts = [f"Reading… {items} items so far" if self.loading else f"{len(self.vaults)} vaults · {items} items"]
        if table.filter_text or table.stage_filter or table.region_filter:
            parts.append(f"showing {table.row_count}")
        if table.filter_text:
            parts.append(f"filter “{table.filter_text}”")
        if table.stage_filter is not None:
            parts.append(f"stage: {table.stage_filter.short}")
        if table.region_filter:
            parts.append(f"region: {table.region_filter}")
        now = self._now()
        if self.read_at is not None and now is not None:
            parts.append(f"read {_minutes_ago((now - self.read_at).total_seconds())}")
            parts.append(f"{self.requests} Resource Graph requests")
        if self.error is not None:
            parts.append("last read FAILED (ctrl+r retries)")
        text = " · ".join(parts)
        if text != self._status_text:
            self._status_text = text
            # The filter is typed, the regions come from Resource Graph: content, never markup.
            self.query_one("#status", Static).update(plain(text), layout=False)

    # -- keys -----------------------------------------------------------------------------------------------

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        self.active_table.focus()
        self._update_status()

    @on(TabbedContent.TabActivated)
    def _tab_changed(self, event: TabbedContent.TabActivated) -> None:
        self.active_table.focus()
        now = self._now()
        if now is not None:
            self.active_table.refresh_ages(now)
        self._update_status()

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = self.active_table.filter_text
        box.display = True
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.active_table.apply_filter(text=event.value)
        self._update_status()

    @on(Input.Submitted, "#filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        box = self.query_one("#filter", Input)
        box.display = bool(box.value)
        self.active_table.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        box.display = False
        table = self.active_table
        table.region_filter = ""
        table.apply_filter(text="", stage=None)
        table.focus()
        self._update_status()

    def action_cycle_stage(self) -> None:
        table = self.active_table
        index = STAGE_CYCLE.index(table.stage_filter)
        table.apply_filter(stage=STAGE_CYCLE[(index + 1) % len(STAGE_CYCLE)])
        self._update_status()

    def action_cycle_region(self) -> None:
        regions = ["", *sorted({v.location.lower() for v in self.vaults.values() if v.location})]
        table = self.active_table
        current = regions.index(table.region_filter) if table.region_filter in regions else 0
        table.region_filter = regions[(current + 1) % len(regions)]
        table.apply_filter()
        self._update_status()

    def action_cycle_sort(self) -> None:
        table = self.active_table
        keys = [k for k, _ in table.COLUMNS]
        nxt = keys[(keys.index(table.sort_column) + 1) % len(keys)] if table.sort_column else keys[0]
        table.sort_reverse = False
        table.sort_column = nxt
        table.apply_filter()
        self._update_status()

    def action_reverse_sort(self) -> None:
        table = self.active_table
        if table.sort_column:
            table.sort_on(table.sort_column)
            self._update_status()

    def action_refresh(self) -> None:
        if not self.loading and getattr(self.app, "fleet", None) is not None:
            self.reload()

    @on(DataTable.RowSelected, "#vault-rows")
    def _vault_chosen(self, event: DataTable.RowSelected) -> None:
        summary = self.vault_table.selected
        if summary is not None:
            self.app.open_vault(summary.ref)  # type: ignore[attr-defined]

    @on(DataTable.RowSelected, "#fleet-item-rows")
    def _item_chosen(self, event: DataTable.RowSelected) -> None:
        entry = self.item_table.selected
        if entry is not None:
            self.app.open_vault(entry.vault, select=entry.item.id)  # type: ignore[attr-defined]
