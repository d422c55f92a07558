"""The main screen: the vault's items, the focused item's detail, and the jobs this session follows."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from core.errors import FailbackError
from core.failback import can_cancel, can_commit, can_failover, can_reprotect, derive_stage
from core.model import Fabric, Job, ProtectedItem, RecoveryPoint, Stage
from core.preflight import ServerChecks, blocking
from core.providers import provider_for
from core.recovery import PointOption, point_options
from tui.messages import (
    ApplianceChoicesLoaded,
    BackendFailed,
    BackendReady,
    FabricsLoaded,
    FirstPageRead,
    ItemRefreshed,
    ItemsLoaded,
    ItemsLoadFailed,
    ItemsPageLoaded,
    JobUpdated,
    LoadFailed,
    OperationStarted,
    PointsLoaded,
    RetryChanged,
)
from tui.screens.refresh import PeriodicRead
from tui.session import job_targets
from tui.text import clean, compact_duration, lines, plain
from tui.widgets.banner import ModeBanner
from tui.widgets.item_detail import DetailContext, ItemDetail
from tui.widgets.items_table import COLUMNS, ItemsTable
from tui.widgets.jobs_pane import JobsPane

# Pages after the first reach the table together, at most this often (seconds).
PAGE_BATCH_SECONDS = 0.12
STAGE_CYCLE: tuple[Stage | None, ...] = (None, *Stage)
MUTATING = ("fail_back", "commit", "reprotect", "cancel_failover")
# Backend seconds between two redraws of the table's age cells (each redraw writes only the cells that changed).
AGE_REFRESH_SECONDS = 15.0
# Before the first frame, how long to wait for an early page that is nearly read: drawing an empty table first
# and the rows a moment later costs more than one frame with the rows, and the screen is blank meanwhile anyway.
FIRST_PAGE_GRACE_SECONDS = 0.04
# Below this width the detail pane goes under the table: beside it, the table's columns would be cut.
NARROW_BELOW = 150
# Narrow and below this height, the dashboard is list first: the detail pane shows on demand (i).
SHORT_BELOW = 30


def _minutes_ago(seconds: float) -> str:
    """How old the data is, to the minute: a status line that changed every second would repaint every second."""
    minutes = int(max(0.0, seconds) // 60)
    if minutes < 1:
        return "<1 min ago"
    if minutes < 120:
        return f"{minutes} min ago"
    return f"{compact_duration(seconds)} ago"


def _vault_line(vault: Any) -> Text:
    return plain(f"Vault {vault.name} · resource group {vault.resource_group} · subscription {vault.subscription_id}")


class DashboardScreen(PeriodicRead, Screen[None]):
    BINDINGS = [
        Binding(
            "slash", "filter", "Filter", id="filter", show=False, tooltip="Type to filter items by name, plan, stage"
        ),
        Binding(
            "s",
            "cycle_stage",
            "Stage",
            id="stage-filter",
            show=False,
            tooltip="Show only one stage; again for the next",
        ),
        Binding("o", "cycle_sort", "Sort", id="sort", show=False, tooltip="Sort by the next column; O reverses"),
        Binding("O", "reverse_sort", "Reverse", id="reverse-sort", show=False),
        Binding("f", "fail_back", "Fail back…", id="fail-back", tooltip="Choose a point, confirm, fail back"),
        Binding("v", "verify", "Verify", id="verify", tooltip="The checks before commit"),
        Binding("c", "commit", "Commit…", id="commit", tooltip="Commit (deletes the Azure VM; typed name)"),
        # B: back to the Azure VM. Not C, which cancels a running job: ASR's failoverCancel is another operation.
        Binding(
            "B",
            "cancel_failover",
            "Back to Azure…",
            id="cancel-failover",
            tooltip="Cancel the planned failover: ASR turns the Azure VM on again (modernized VMs, until commit)",
        ),
        Binding("r", "reprotect", "Reprotect…", id="reprotect", tooltip="Reprotect AVS → Azure"),
        Binding("x", "stop_retry", "Stop retry", id="stop-retry", tooltip="Stop the automatic reprotect retry"),
        Binding("t", "open_job", "Job", id="open-job", show=False, tooltip="Progress of the item's job"),
        Binding("e", "app.show_commands", "Commands", id="show-commands", show=False, tooltip="REST / az / PowerShell"),
        Binding("ctrl+r", "refresh", "Refresh", id="refresh", show=False, tooltip="Read every item again"),
        Binding(
            "p",
            "app.plans",
            "Plans",
            id="plans",
            show=False,
            tooltip="Recovery plans: fail back, commit, reprotect a plan",
        ),
        Binding("F", "preflight", "Preflight", id="preflight", show=False, tooltip="Check before you start"),
        Binding(
            "i", "toggle_detail", "Detail", id="toggle-detail", show=False, tooltip="Show or hide the item's detail"
        ),
        Binding("escape", "clear_filter", "Clear filter", id="clear-filter", show=False, tooltip="Back to every item"),
        Binding("q", "app.quit", "Quit", id="quit-dashboard", show=False, tooltip="Asks first while work is running"),
        # ctrl+q still quits; at 80 columns its footer entry would push "^p palette" off the line.
        Binding("ctrl+q", "app.quit", "Quit", id="quit-dashboard-ctrl", show=False),
    ]

    def __init__(self, *, from_fleet: bool = False, select: str = "") -> None:
        super().__init__()
        # Opened from the fleet: Esc (with no filter to clear) goes back to it; `select` is the item to show.
        self.from_fleet = from_fleet
        self._select = select
        self.generation = 0
        self.items_loading = False
        self.loaded_at: datetime | None = None
        self.load_error: BaseException | None = None
        self.points: dict[str, list[RecoveryPoint]] = {}
        self.fabrics: list[Fabric] | None = None
        self.server_checks = ServerChecks()  # each server checked once per listing and second, not once per row
        self._ticks = 0
        self._status_text = ""
        self._mounted = False
        self._ticked_at: datetime | None = None
        self._aged_at: datetime | None = None  # backend time the table's age cells were last redrawn for
        self.detail_wanted: bool | None = None  # None: as the terminal's size says; else the operator's i

    # -- layout ---------------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # Laid out for the terminal's size from the start: a class set later restyles every widget once more.
        self._lay_out(self.app.size.width, self.app.size.height)
        yield ModeBanner()
        yield Static("Opening the vault…", id="vault-line")
        yield Input(placeholder="Filter: name, plan, stage… (Enter keeps it, Esc clears)", id="filter")
        with Horizontal(id="main"):
            yield ItemsTable(id="items")
            yield ItemDetail(id="detail")
        yield JobsPane(id="jobs")
        yield Static("", id="status")
        yield Footer()

    @property
    def items_table(self) -> ItemsTable:
        return self.query_one(ItemsTable)

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        self.items_table.labeller = self._stage_label
        self.items_table.focus()
        self._mounted = True
        if getattr(self.app, "backend", None) is not None and getattr(self.app, "tracker", None) is not None:
            self._open_vault()
        else:
            self._take_first_page()

    def on_resize(self) -> None:
        self._lay_out(self.size.width, self.size.height)

    def _lay_out(self, width: int, height: int) -> None:
        narrow = width < NARROW_BELOW
        self.set_class(narrow, "-narrow")
        shown = self.detail_wanted if self.detail_wanted is not None else not (narrow and height < SHORT_BELOW)
        self.set_class(not shown, "-no-detail")

    @property
    def detail_shown(self) -> bool:
        return not self.has_class("-no-detail")

    def action_toggle_detail(self) -> None:
        """The operator's choice wins over the size from here on."""
        self.detail_wanted = not self.detail_shown
        self._lay_out(self.size.width, self.size.height)
        self._show_detail()
        self._update_status()

    # -- loading --------------------------------------------------------------------------------------------

    def _take_first_page(self) -> None:
        reader = getattr(self.app, "first_page_reader", None)
        if reader is None or reader.done:
            return
        page = reader.poll(FIRST_PAGE_GRACE_SECONDS)
        if page is not None:
            self._show_first_page(page)  # in time for the first frame
        elif not reader.done:
            self._wait_first_page(reader)

    @work(thread=True, exclusive=True, group="first-page", exit_on_error=False, description="Reading the first page")
    def _wait_first_page(self, reader: Any) -> None:
        page = reader.wait()
        if page is not None:
            self.post_message(FirstPageRead(page))

    def on_first_page_read(self, message: FirstPageRead) -> None:
        self._show_first_page(message.page)

    def _show_first_page(self, page: Any) -> None:
        """Rows from the early read, until the dashboard's own read of the vault replaces them in place."""
        table = self.items_table
        if self.generation or table.items or self.load_error is not None:
            return  # the vault's own list is already coming in, or the vault could not be opened
        self.items_loading = True
        self.query_one("#vault-line", Static).update(_vault_line(page.vault))
        table.now = page.now
        table.add_page(page.items)
        self.query_one(ItemDetail).say("Opening the vault: the detail follows in a moment.")
        self._update_status()

    def on_backend_ready(self, message: BackendReady) -> None:
        self._open_vault()

    def on_backend_failed(self, message: BackendFailed) -> None:
        self.items_loading = False
        self.load_error = message.error
        self.query_one("#vault-line", Static).update("Could not open the vault: see the error.")
        self._update_status()

    def _open_vault(self) -> None:
        backend = self.app.backend  # type: ignore[attr-defined]
        line = _vault_line(backend.vault)
        self.query_one("#vault-line", Static).update(f"Esc: fleet · {line}" if self.from_fleet else line)
        self.query_one(ModeBanner).refresh_modes()
        self.reload_items()
        self.load_fabrics(None, "detail")
        selected = self.items_table.selected
        if selected is not None and selected.id not in self.points:
            self.load_points(selected, "detail")  # rows from the early read were highlighted before the backend

    def _stage_label(self, item: ProtectedItem, stage: Stage) -> tuple[str, str] | None:
        """A row's stage in words that say more than the stage: a retry waiting for the agent, a ready VM that the
        preflight would stop."""
        app: Any = self.app
        glyphs = app.glyphs
        if item.id in app.session.retries:
            return f"{glyphs.expected} Waiting for agent", "busy"
        if app.backend is not None and blocking(item, self.fabrics, app.backend.now(), self.server_checks):
            return f"{glyphs.stage(stage)} Ready, blocked", "blocked"
        return None

    def reload_items(self) -> None:
        if self.fabrics is not None and getattr(self.app, "backend", None) is not None:
            self.load_fabrics(None, "detail")  # heartbeats age: the blocked words follow the servers' state
        self.generation += 1
        self.items_loading = True
        self.load_items(self.generation)
        self._update_status()

    @work(thread=True, exclusive=True, group="items", exit_on_error=False, description="Listing items")
    def load_items(self, generation: int) -> None:
        from textual.worker import get_current_worker

        worker = get_current_worker()
        backend = self.app.backend  # type: ignore[attr-defined]
        first = True
        count = 0
        pending: list[ProtectedItem] = []
        posted_at = 0.0
        try:
            for page in backend.iter_item_pages():
                if worker.is_cancelled:
                    return
                count += len(page)
                pending.extend(page)
                # The first page goes out at once (first rows); later ones in batches at most ~8 a second,
                # so a 10,000-item vault costs the UI a few dozen updates, not two hundred.
                if first or time.monotonic() - posted_at >= PAGE_BATCH_SECONDS:
                    self.post_message(ItemsPageLoaded(pending, generation, first))
                    pending, first, posted_at = [], False, time.monotonic()
        except FailbackError as exc:
            if pending:
                self.post_message(ItemsPageLoaded(pending, generation, first))
            self.post_message(ItemsLoadFailed(generation, exc))
            return
        if pending or first:
            self.post_message(ItemsPageLoaded(pending, generation, first))
        self.post_message(ItemsLoaded(generation, count, backend.now()))

    def on_items_page_loaded(self, message: ItemsPageLoaded) -> None:
        if message.generation != self.generation:
            return
        table = self.items_table
        if message.first and not table.items:
            table.now = self.app.backend_now()  # type: ignore[attr-defined]
        if not hasattr(self, "_seen") or message.first:
            self._seen: set[str] = set()
        self._seen.update(i.id for i in message.items)
        for item in message.items:
            before = table.items.get(item.id)
            if before is not None and before.last_recovery_point_time != item.last_recovery_point_time:
                # ASR holds a newer point than the list read for the pane: read it again, or the pane and the row
                # give two answers to "how old is the data".
                self.points.pop(item.id, None)
        was_empty = table.row_count == 0
        table.add_page(message.items)
        if self._select and self._select in table.items:
            table.move_cursor(row=table.get_row_index(self._select))
            self._select = ""
        if was_empty and table.row_count:
            self._show_detail()
        self._update_status()

    def on_items_loaded(self, message: ItemsLoaded) -> None:
        if message.generation != self.generation:
            return
        self.items_loading = False
        self.load_error = None
        self.loaded_at = message.loaded_at
        table = self.items_table
        table.forget_missing(getattr(self, "_seen", set()))
        if table.sort_column:
            table.apply_filter()
        for item in table.items.values():
            if item.running_job_name:
                self.app.follow(item.running_job_name)  # type: ignore[attr-defined]
        selected = table.selected
        if selected is not None and selected.id not in self.points:
            self.load_points(selected, "detail")
        self._show_detail()
        self.refresh_bindings()
        self._update_status()
        self.schedule_read()

    def on_items_load_failed(self, message: ItemsLoadFailed) -> None:
        if message.generation != self.generation:
            return
        self.items_loading = False
        self.load_error = message.error
        self._update_status()
        self.app.show_error(message.error, heading="Could not list the vault's items")  # type: ignore[attr-defined]
        self.schedule_read()

    def read_again(self) -> None:
        if not self.items_loading:
            self.reload_items()

    @work(thread=True, exclusive=True, group="points", exit_on_error=False, description="Reading points")
    def load_points(self, item: ProtectedItem, purpose: str) -> None:
        try:
            points = self.app.backend.list_recovery_points(item)  # type: ignore[attr-defined]
        except FailbackError as exc:
            self.post_message(LoadFailed("points" if purpose == "detail" else purpose, exc))
            return
        self.post_message(PointsLoaded(item, points, purpose))

    @work(thread=True, exclusive=True, group="fabrics", exit_on_error=False, description="Reading fabrics")
    def load_fabrics(self, item: ProtectedItem | None, purpose: str) -> None:
        try:
            fabrics = self.app.backend.list_fabrics()  # type: ignore[attr-defined]
        except FailbackError as exc:
            self.post_message(LoadFailed("fabrics" if purpose == "detail" else purpose, exc))
            return
        self.post_message(FabricsLoaded(item, fabrics, purpose))  # type: ignore[arg-type]

    @work(thread=True, exclusive=True, group="fabrics", exit_on_error=False, description="Reading appliances")
    def load_appliance_choices(self, item: ProtectedItem) -> None:
        """A modernized reprotect's choices: the appliances (fabrics), the policies, and the item read afresh —
        its disks name the log storage account, which list pages leave out (MODERNIZED.md §8)."""
        backend: Any = self.app.backend  # type: ignore[attr-defined]
        try:
            fresh = backend.get_item(item.id)
            fabrics = backend.list_fabrics()
            policies = backend.list_policies() if hasattr(backend, "list_policies") else []
        except FailbackError as exc:
            self.post_message(LoadFailed("reprotect", exc))
            return
        self.post_message(ApplianceChoicesLoaded(fresh, fabrics, policies))

    def on_appliance_choices_loaded(self, message: ApplianceChoicesLoaded) -> None:
        from tui.dialogs.appliance_reprotect import ApplianceReprotectDialog

        self.fabrics = message.fabrics
        if self.app.screen is not self:
            return  # a second press already opened it, or the operator moved on meanwhile
        app: Any = self.app
        item = message.item

        def chosen(target: Any) -> None:
            if target is not None:
                app.start_reprotect(item, target)
                self.refresh_bindings()

        to_avs = derive_stage(item) is Stage.IN_AZURE
        dialog = ApplianceReprotectDialog(
            item, message.fabrics, app.backend.now(), to_avs=to_avs, policies=message.policies
        )
        self.app.push_screen(dialog, chosen)

    def on_points_loaded(self, message: PointsLoaded) -> None:
        self.points[message.item.id] = message.points
        if message.purpose == "failover":
            self._open_point_dialog(message.item, message.points)
        self._show_detail()

    def on_fabrics_loaded(self, message: FabricsLoaded) -> None:
        self.fabrics = message.fabrics
        self.items_table.relabel()
        if message.purpose == "reprotect" and message.item is not None:
            self._open_reprotect_dialog(message.item, message.fabrics)
        self._show_detail()

    def on_load_failed(self, message: LoadFailed) -> None:
        if message.what in ("failover", "reprotect"):
            self.app.show_error(  # type: ignore[attr-defined]
                message.error, heading=f"Could not prepare the {message.what}"
            )
        elif message.what != "jobs":
            self.notify(f"Could not read {message.what}: {message.error}", severity="warning", timeout=8)
        self._update_status()

    # -- the focused item -----------------------------------------------------------------------------------

    @on(DataTable.RowHighlighted, "#items")
    def _row_changed(self, event: DataTable.RowHighlighted) -> None:
        self.refresh_bindings()
        item = self.items_table.selected
        if item is not None and item.id not in self.points and getattr(self.app, "backend", None) is not None:
            self.load_points(item, "detail")
        self._show_detail()

    @on(DataTable.RowSelected, "#items")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open_job()

    @on(DataTable.RowSelected, "#jobs-table")
    def _job_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.app.show_job(str(event.row_key.value))  # type: ignore[attr-defined]

    def _detail_context(self, item: ProtectedItem) -> DetailContext:
        app: Any = self.app
        return DetailContext(
            now=app.backend.now(),
            tz=app.tz,
            glyphs=app.glyphs,
            points=self.points.get(item.id),
            fabrics=self.fabrics,
            job=app.session.job_for_item(item),
            retry=app.session.retries.get(item.id),
            ticked=len(app.session.ticked.get(item.id, ())),
            blocked=blocking(item, self.fabrics, app.backend.now(), self.server_checks),
        )

    def _show_detail(self) -> None:
        if not self._mounted or getattr(self.app, "backend", None) is None:
            return
        item = self.items_table.selected
        self.query_one(ItemDetail).show(item, self._detail_context(item) if item else None)

    def on_item_refreshed(self, message: ItemRefreshed) -> None:
        self.points.pop(message.item.id, None)
        self.items_table.upsert(message.item)
        selected = self.items_table.selected
        if selected is not None and selected.id == message.item.id:
            self.load_points(selected, "detail")
        self.refresh_bindings()
        self._show_detail()

    # -- jobs -----------------------------------------------------------------------------------------------

    def on_job_updated(self, message: JobUpdated) -> None:
        app: Any = self.app
        job = message.job
        if job.state.is_terminal and job.name not in app.session.started:
            for item in self.items_table.items.values():
                if job_targets(job, item):
                    app.refresh_item(item.id)
        self._show_jobs()
        self._show_detail()

    def on_operation_started(self, message: OperationStarted) -> None:
        self.refresh_bindings()
        self._show_jobs()

    def on_retry_changed(self, message: RetryChanged) -> None:
        self.items_table.relabel([message.item_id])
        self.refresh_bindings()
        self._show_jobs()
        self._show_detail()

    def _show_jobs(self) -> None:
        app: Any = self.app
        if not self._mounted or app.backend is None:
            return
        jobs: list[Job] = list(app.session.jobs.values())
        self.query_one(JobsPane).show(jobs, list(app.session.retries.values()), app.backend.now(), app.glyphs)

    def on_clock_tick(self, now: datetime) -> None:
        # Nothing shown depends on anything but backend time here: a frozen clock repaints nothing.
        if not self._mounted or now == self._ticked_at:
            return
        self._ticked_at = now
        self._ticks += 1
        app: Any = self.app
        self._update_status()
        # Ages follow backend time, not ticks: on a sped-up demo clock fifteen ticks are a quarter of an hour, and
        # the table would lag the detail pane by that much.
        ages_due = self._aged_at is None or (now - self._aged_at).total_seconds() >= AGE_REFRESH_SECONDS
        if ages_due:
            self._aged_at = now
            self.items_table.refresh_ages(now)
        if app.session.retries or ages_due:
            # The detail's "… ago" follows the table's ages, or the two disagree about the same point.
            self._show_jobs()
            self._show_detail()

    def on_screen_resume(self) -> None:
        self.refresh_bindings()
        self._show_detail()
        self._show_jobs()
        if self._mounted and getattr(self.app, "backend", None) is not None:
            now = self.app.backend.now()  # type: ignore[attr-defined]
            self._aged_at = now
            self.items_table.refresh_ages(now)
            self._update_status()
        # A periodic read that fell due while another screen was in front: now, not a whole interval later.
        self.resume_reads()

    # -- status ---------------------------------------------------------------------------------------------

    def _update_status(self) -> None:
        if not self._mounted:
            return
        app: Any = self.app
        table = self.items_table
        parts = []
        if self.items_loading:
            parts.append(f"Loading items… {len(table.items)} so far")
        else:
            parts.append(f"{len(table.items)} items")
        if table.filter_text or table.stage_filter:
            parts.append(f"showing {table.row_count}")
        if table.filter_text:
            parts.append(f"filter “{table.filter_text}”")
        if table.stage_filter is not None:
            parts.append(f"stage: {table.stage_filter.short}")
        if table.sort_column:
            label = dict(COLUMNS)[table.sort_column]
            parts.append(f"sorted by {label} {'descending' if table.sort_reverse else 'ascending'}")
        if self.loaded_at is not None and app.backend is not None:
            parts.append(f"data read {_minutes_ago((app.backend.now() - self.loaded_at).total_seconds())}")
        if not self.detail_shown:
            parts.append("i: detail")
        if self.load_error is not None:
            parts.append("last read FAILED (ctrl+r retries)")
        tracker_error = getattr(app.tracker, "last_error", None) if app.tracker is not None else None
        if tracker_error is not None:
            parts.append(f"job updates failing: {tracker_error} (retrying)")
        text = " · ".join(parts)
        if text != self._status_text:
            # Over SSH every byte counts: the line is sent again only when what it says changes.
            self._status_text = text
            self.query_one("#status", Static).update(plain(text), layout=False)

    # -- filter and sort ------------------------------------------------------------------------------------

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.items_table.apply_filter(text=event.value)
        self._show_detail()
        self._update_status()

    @on(Input.Submitted, "#filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        box = self.query_one("#filter", Input)
        box.display = bool(box.value)
        self.items_table.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        table = self.items_table
        if self.from_fleet and not (box.value or table.filter_text or table.stage_filter):
            self.app.close_vault()  # type: ignore[attr-defined]
            return
        box.value = ""
        box.display = False
        self.items_table.apply_filter(text="", stage=None)
        self.items_table.focus()
        self._update_status()

    def select_named(self, name: str) -> str:
        """Put the cursor on the VM called `name` (friendly name, item name or id, any case); "" when done, else why
        not. A filter that hides it is cleared first: the cursor never rests on a row the operator cannot see."""
        from core.errors import FailbackError
        from core.failback import resolve_item

        table = self.items_table
        try:
            item = resolve_item(table.items.values(), name)
        except FailbackError as exc:
            return exc.message
        if item.id not in table.rows:
            self.action_clear_filter()
        table.move_cursor(row=table.get_row_index(item.id))
        table.focus()
        return ""

    def action_cycle_stage(self) -> None:
        table = self.items_table
        present = table.stages_present()
        index = STAGE_CYCLE.index(table.stage_filter)
        # The next stage that some item is in: a stage with no item would show an empty table for nothing.
        for step in range(1, len(STAGE_CYCLE) + 1):
            stage = STAGE_CYCLE[(index + step) % len(STAGE_CYCLE)]
            if stage is None or stage in present:
                break
        table.apply_filter(stage=stage)
        self._show_detail()
        self._update_status()

    def action_cycle_sort(self) -> None:
        keys = [k for k, _ in COLUMNS]
        table = self.items_table
        nxt = keys[(keys.index(table.sort_column) + 1) % len(keys)] if table.sort_column else keys[0]
        table.sort_reverse = False
        table.sort_column = nxt
        table.apply_filter()
        self._update_status()

    def action_reverse_sort(self) -> None:
        table = self.items_table
        if table.sort_column:
            table.sort_on(table.sort_column)
            self._update_status()

    def action_refresh(self) -> None:
        if not self.items_loading and getattr(self.app, "backend", None) is not None:
            self.points.clear()  # read again means everything the pane shows, the focused item's points too
            self.reload_items()

    # -- actions: key → dialog → explicit confirm -----------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        app: Any = self.app
        if action in MUTATING and app.read_only:
            return False
        if action not in (*MUTATING, "verify", "stop_retry", "open_job"):
            return True
        item = self.items_table.selected if self._mounted else None
        if item is None or app.backend is None:
            return None if action != "stop_retry" else False
        if action == "stop_retry":
            return item.id in app.session.retries
        if item.id in app.session.retries and action in ("fail_back", "verify", "commit"):
            return False  # none applies while the reprotect waits for the agent; the footer keeps r and x in view
        if action == "open_job":
            return True if app.session.job_for_item(item) is not None else None
        if action == "fail_back":
            # A member of a replication group is not refused silently: the key explains and offers its plan.
            allowed = can_failover(item).allowed or bool(item.consistency_group)
            return True if allowed and not app.session.is_submitting("failover", item.id) else None
        if action in ("commit", "verify"):
            return True if can_commit(item).allowed and not app.session.is_submitting("commit", item.id) else None
        if action == "cancel_failover":
            # hidden unless ASR offers the cancel, so the 80-column footer keeps its width for classic items
            return can_cancel(item).allowed and not app.session.is_submitting("cancel-failover", item.id)
        if action == "reprotect":
            if item.id in app.session.retries:
                return True  # answered with what it waits for, rather than doing nothing
            busy = app.session.is_submitting("reprotect", item.id)
            return True if can_reprotect(item).allowed and not busy else None
        return True

    def action_fail_back(self) -> None:
        item = self.items_table.selected
        if item is None:
            return
        if item.consistency_group:
            from tui.screens.plans import offer_plan

            offer_plan(self, item)
            return
        verdict = can_failover(item)
        if not verdict.allowed:
            self.notify(verdict.reason, title="Fail back is not possible now", severity="warning")
            return
        from tui.screens.preflight import preflight_item_then

        # Check first (FAILs stop here), then read fresh points: the choice must rest on what ASR holds now.
        preflight_item_then(self, item, lambda outcome: self.preflighted(item, outcome))

    def preflighted(self, item: ProtectedItem, outcome: dict[str, Any]) -> None:
        """The check let the failover go on (or the operator typed why it should): read fresh points for the dialog."""
        self.app.session.preflight[item.id] = outcome  # type: ignore[attr-defined]
        provider = provider_for(item)
        if provider.needs_points:
            self.load_points(item, "failover")
            return
        from tui.dialogs.point import PointDialog

        app: Any = self.app

        def chosen(option: PointOption | None) -> None:
            if option is not None:
                self._confirm_failover(item, option)

        now = app.backend.now()
        app.push_screen(PointDialog(item, [], now, app.tz, types=provider.type_options(item)), chosen)

    def action_cancel_failover(self) -> None:
        from tui.dialogs.confirm import ConfirmDialog

        item = self.items_table.selected
        if item is None:
            return
        verdict = can_cancel(item)
        if not verdict.allowed:
            self.notify(verdict.reason, title="Cancel is not possible now", severity="warning")
            return
        app: Any = self.app

        def confirmed(ok: bool | None) -> None:
            if ok:
                app.start_cancel_failover(item)
                self.refresh_bindings()

        title = f"Cancel the planned failover of {clean(item.friendly_name)}"
        app.push_screen(ConfirmDialog(title, lines(verdict.reason), "Cancel failover"), confirmed)

    def action_preflight(self) -> None:
        from tui.screens.preflight import PreflightScreen

        self.app.push_screen(PreflightScreen(item=self.items_table.selected))

    def _open_point_dialog(self, item: ProtectedItem, points: list[RecoveryPoint]) -> None:
        from tui.dialogs.point import PointDialog

        if self.app.screen is not self:
            return  # a second press already opened it, or the operator moved on meanwhile
        app: Any = self.app
        now = app.backend.now()
        if not point_options(points, now, app.tz):
            self.notify("ASR holds no recovery point for this item yet.", severity="warning")
            return

        def chosen(option: PointOption | None) -> None:
            if option is not None:
                self._confirm_failover(item, option)

        self.app.push_screen(PointDialog(item, points, now, app.tz), chosen)

    def ask_point_again(
        self, item: ProtectedItem, points: list[RecoveryPoint], was: PointOption, now: PointOption
    ) -> None:
        """The loss accepted grew before it was sent: the point dialog again, on today's points, saying so."""
        from core.recovery import duration
        from tui.dialogs.point import PointDialog

        app: Any = self.app
        note = (
            f"Nothing was sent: ASR took newer points while the dialogs were open. You accepted losing about "
            f"{duration(was.loss_seconds or 0.0)} more than Latest; with the same choice it is now about "
            f"{duration(now.loss_seconds or 0.0)}. Choose again."
        )

        def chosen(option: PointOption | None) -> None:
            if option is not None:
                self._confirm_failover(item, option)

        self.app.push_screen(PointDialog(item, points, app.backend.now(), app.tz, chosen=now, note=note), chosen)

    def _confirm_failover(self, item: ProtectedItem, option: PointOption) -> None:
        from tui.dialogs.confirm_failover import ConfirmFailoverDialog

        app: Any = self.app

        def confirmed(ok: bool | None) -> None:
            if ok:
                app._pending_options[item.id] = option
                app.start_failover(item, option)
                self.refresh_bindings()

        self.app.push_screen(ConfirmFailoverDialog(item, option, app.tz, app.backend.now()), confirmed)

    def action_verify(self) -> None:
        from tui.screens.verify import VerifyScreen

        item = self.items_table.selected
        if item is None:
            return

        def done(result: str | None) -> None:
            if result == "commit":
                self.action_commit()

        self.app.push_screen(VerifyScreen(item), done)

    def action_commit(self) -> None:
        from tui.dialogs.commit import CommitDialog

        item = self.items_table.selected
        if item is None:
            return
        verdict = can_commit(item)
        if not verdict.allowed:
            self.notify(verdict.reason, title="Commit is not possible now", severity="warning")
            return
        app: Any = self.app
        ticked = len(app.session.ticked.get(item.id, ()))

        def confirmed(ok: bool | None) -> None:
            if ok:
                app.start_commit(item)
                self.refresh_bindings()

        self.app.push_screen(CommitDialog(item, ticked), confirmed)

    def action_reprotect(self) -> None:
        item = self.items_table.selected
        if item is None:
            return
        retry = self.app.session.retries.get(item.id)  # type: ignore[attr-defined]
        if retry is not None:
            when = "now" if retry.running else f"in {int(retry.seconds_left(self.app.backend.now()))} s"  # type: ignore[attr-defined]
            self.notify(
                f"Waiting for the agent — retry {retry.attempt} of {retry.max_attempts} {when}. The tool reprotects "
                f"{item.friendly_name} again on its own; x stops the retries.",
                title="Reprotect already on its way",
            )
            return
        verdict = can_reprotect(item)
        if not verdict.allowed:
            self.notify(verdict.reason, title="Reprotect is not possible now", severity="warning")
            return
        if provider_for(item).key == "modernized":
            self.load_appliance_choices(item)  # through a replication appliance, either way
            return
        self.load_fabrics(item, "reprotect")

    def _open_reprotect_dialog(self, item: ProtectedItem, fabrics: list[Fabric]) -> None:
        from tui.dialogs.reprotect import ReprotectDialog

        if self.app.screen is not self:
            return  # a second press already opened it, or the operator moved on meanwhile
        app: Any = self.app

        def chosen(target: Any) -> None:
            if target is not None:
                app.start_reprotect(item, target)
                self.refresh_bindings()

        self.app.push_screen(ReprotectDialog(item, fabrics, app.backend.now()), chosen)

    def action_stop_retry(self) -> None:
        item = self.items_table.selected
        if item is not None and self.app.cancel_retry(item.id):  # type: ignore[attr-defined]
            self.notify(f"Stopped retrying the reprotect of {item.friendly_name}.")

    def action_open_job(self) -> None:
        app: Any = self.app
        item = self.items_table.selected
        if item is None:
            return
        job = app.session.job_for_item(item)
        if job is not None:
            app.show_job(job.name)
        elif item.running_job_name:
            app.follow(item.running_job_name)
            app.show_job(item.running_job_name)


__all__ = ["DashboardScreen", "derive_stage"]
