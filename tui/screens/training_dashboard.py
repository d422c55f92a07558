"""The dashboard in training mode: the same screen and keys, with the walkthrough beside it and the lesson's events."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer

from core.failback import can_commit, can_failover
from core.model import ProtectedItem
from core.recovery import PointOption
from tui.messages import ItemRefreshed, ItemsLoaded
from tui.screens.dashboard import DashboardScreen
from tui.screens.preflight import PreflightGate, PreflightRead, PreflightScreen
from tui.screens.training_app import TIME_BINDINGS, out_of_footer
from tui.session import MANUAL_CHECKS
from tui.widgets.banner import ModeBanner
from tui.widgets.lesson_keys import LessonKeys
from tui.widgets.speed import TrainingBanner
from tui.widgets.walkthrough import WalkthroughPane

# Below this width the walkthrough starts hidden: beside the table it would leave neither readable.
PANE_HIDDEN_BELOW = 110


class TrainingPreflightGate(PreflightGate):
    """The check before the point dialog: a FAIL it shows is a preflight the trainee has read."""

    def on_preflight_read(self, message: PreflightRead) -> None:
        if message.error is None and message.reports and not message.reports[0].ok:
            self.app.preflight_done(message.reports[0])  # type: ignore[attr-defined]


class TrainingPreflightScreen(PreflightScreen):
    """The preflight screen, reporting the selected target's result to the walkthrough."""

    def on_preflight_read(self, message: PreflightRead) -> None:
        if message.scope == "target" and message.error is None and message.reports:
            self.app.preflight_done(message.reports[0])  # type: ignore[attr-defined]


class TrainingDashboardScreen(DashboardScreen):
    """The dashboard's footer keeps its verbs, F1 and the palette; the lesson's keys have a line of their own."""

    BINDING_GROUP_TITLE = "Training lesson"
    BINDINGS = [
        Binding(
            "w",
            "toggle_walkthrough",
            "Walkthrough",
            id="training-walkthrough",
            show=False,
            tooltip="Show or hide the lesson",
        ),
        Binding(
            "E",
            "export_report",
            "Report",
            id="training-report",
            show=False,
            tooltip="Export the session report (Markdown)",
        ),
        *out_of_footer(TIME_BINDINGS),
    ]
    DEFAULT_CSS = """
    TrainingDashboardScreen #training-body {
        height: 1fr;
    }
    TrainingDashboardScreen #training-main {
        width: 1fr;
        height: 1fr;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self._observed_item = ""
        self._verified_counts: dict[str, int] = {}
        self._pane_placed = False
        self._time_shown: datetime | None = None

    def compose(self) -> ComposeResult:
        # Same banner, with the speed of simulated time in it, and the footer under both columns: the pane beside
        # the dashboard stops above the lesson line, so neither the footer's right end nor the banner is covered.
        yield TrainingBanner()
        with Horizontal(id="training-body"):
            with Vertical(id="training-main"):
                for widget in super().compose():
                    if not isinstance(widget, ModeBanner | Footer):
                        yield widget
            yield WalkthroughPane(id="walkthrough")
        yield LessonKeys(id="lesson-keys")
        yield Footer()

    @property
    def pane(self) -> WalkthroughPane:
        return self.query_one(WalkthroughPane)

    def on_mount(self) -> None:
        self.refresh_walkthrough()

    def on_resize(self) -> None:
        if not self._pane_placed:
            # Decided once, from the first size: afterwards the trainer's w wins.
            self._pane_placed = True
            self.pane.display = self.size.width >= PANE_HIDDEN_BELOW

    # -- the walkthrough ----------------------------------------------------------------------------------

    @property
    def _training(self) -> Any:
        return self.app

    def refresh_walkthrough(self) -> None:
        walk = getattr(self.app, "walkthrough", None)
        if walk is None:
            return
        app: Any = self.app
        self.pane.show(walk, ascii_only=app.glyphs.ascii_only)
        self._show_time(app.backend_now())
        self.query_one(ModeBanner).refresh_modes()

    def _show_time(self, now: datetime | None) -> None:
        app: Any = self.app
        self._time_shown = now
        self.pane.show_time(now, app.sim_time.label, app.training_keys)

    def on_clock_tick(self, now: datetime) -> None:
        super().on_clock_tick(now)
        if now != self._time_shown:
            # A paused (or manual) clock repaints nothing.
            self._show_time(now)

    def action_toggle_walkthrough(self) -> None:
        self._pane_placed = True
        self.pane.display = not self.pane.display

    def _is_focus(self, item: ProtectedItem) -> bool:
        return bool(self._training.is_focus_item(item))

    def _observe(self, event: str, **data: Any) -> None:
        self._training.observe(event, **data)

    # -- the trainee's moves, read from the dashboard's own events --------------------------------------------

    @on(DataTable.RowHighlighted, "#items")
    def _training_row(self, event: DataTable.RowHighlighted) -> None:
        item = self.items_table.selected
        if item is None or not self._is_focus(item) or item.id == self._observed_item:
            return
        self._observed_item = item.id
        self._observe("item_selected", item=item.friendly_name or item.name)

    @on(DataTable.RowSelected, "#items")
    def _training_row_chosen(self, event: DataTable.RowSelected) -> None:
        item = self.items_table.selected
        if item is not None and not self._is_focus(item):
            self._observe("item_selected", item=item.friendly_name or item.name)

    def _note_other_item(self) -> None:
        """Acting on a VM the lesson is not about is pointed out (not counted as a mistake)."""
        item = self.items_table.selected
        if item is not None and not self._is_focus(item):
            self._observe("item_selected", item=item.friendly_name or item.name)

    def action_fail_back(self) -> None:
        self._note_other_item()
        item = self.items_table.selected
        if item is None or item.consistency_group or not can_failover(item).allowed:
            super().action_fail_back()  # the dashboard explains, or offers the plan
            return
        from core.preflight import check_item

        backend = self.app.backend  # type: ignore[attr-defined]
        if self._is_focus(item):
            self._observe("failover_requested")  # the preflight nudge comes before anything is sent

        def checked(outcome: dict[str, Any] | None) -> None:
            if outcome is not None:
                self.preflighted(item, outcome)

        # The dashboard's own gate, whose FAIL the walkthrough hears of.
        gate = TrainingPreflightGate(
            item.friendly_name or item.name, lambda: check_item(backend, item), show_warnings=False
        )
        self.app.push_screen(gate, checked)

    def _confirm_failover(self, item: ProtectedItem, option: PointOption) -> None:
        # The point dialog returns an option that needs acknowledging only once its box is ticked.
        self._observe("point_chosen", choice=option.choice, loss_seconds=option.age_seconds, acknowledged=True)
        super()._confirm_failover(item, option)

    def sync_plan_verification(self) -> bool:
        """For a plan lesson: report how many of its VMs are fully verified; True when all of them are."""
        app: Any = self.app
        total = len(MANUAL_CHECKS)
        members = [i for i in self.items_table.items.values() if self._is_focus(i)]
        done = [i for i in members if len(app.session.ticked.get(i.id, ())) >= total]
        if members and self._verified_counts.get("plan") != len(done):
            self._verified_counts["plan"] = len(done)
            for item in done:
                name = item.friendly_name or item.name
                self._observe("verify_ticked", check=name, done=len(done), total=len(members))
        return bool(members) and len(done) == len(members)

    def _sync_verification(self, item: ProtectedItem) -> bool:
        """Report the checklist's ticks to the walkthrough; True when every check is ticked."""
        app: Any = self.app
        if app.lesson is not None and app.lesson.plan:
            return self.sync_plan_verification()
        ticked = app.session.ticked.get(item.id, set())
        total = len(MANUAL_CHECKS)
        if self._is_focus(item) and self._verified_counts.get(item.id) != len(ticked):
            self._verified_counts[item.id] = len(ticked)
            for key in sorted(ticked):
                self._observe("verify_ticked", check=key, done=len(ticked), total=total)
        return len(ticked) >= total

    def on_screen_resume(self) -> None:
        item = self.items_table.selected if self._mounted else None
        if item is not None:
            self._sync_verification(item)
        self.refresh_walkthrough()

    def action_verify(self) -> None:
        self._note_other_item()
        super().action_verify()

    def action_commit(self) -> None:
        item = self.items_table.selected
        if item is not None and can_commit(item).allowed:
            self._note_other_item()
            verified = self._sync_verification(item)
            if self._is_focus(item):
                # Said before the typed confirmation opens: the why, not only the dialog's warning.
                self._observe("commit_attempted", verified=verified)
        super().action_commit()

    def action_reprotect(self) -> None:
        self._note_other_item()
        super().action_reprotect()

    # -- another operator's job, seen on a lesson's VM ---------------------------------------------------------

    def _look_for_other_jobs(self, items: list[ProtectedItem]) -> None:
        app: Any = self.app
        for item in items:
            job = item.running_job_name
            if job and self._is_focus(item) and job not in app.session.started:
                scenario = item.current_scenario.name if item.current_scenario else "failover"
                app.note_foreign_job(scenario, job)

    def on_items_loaded(self, message: ItemsLoaded) -> None:
        self._look_for_other_jobs(list(self.items_table.items.values()))

    def on_item_refreshed(self, message: ItemRefreshed) -> None:
        self._look_for_other_jobs([message.item])

    # -- preflight ---------------------------------------------------------------------------------------------

    def action_preflight(self) -> None:
        self._note_other_item()
        self.app.push_screen(TrainingPreflightScreen(item=self.items_table.selected))

    # -- the session report ------------------------------------------------------------------------------------

    def action_export_report(self) -> None:
        path: Path | None = self._training.export_report()
        if path is not None:
            self.notify(str(path), title="Session report exported", timeout=15)
