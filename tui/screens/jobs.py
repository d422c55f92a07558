"""Job history: filter by state and time window; Enter opens a job's detail."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from core.errors import FailbackError
from core.model import Job, JobFilter, JobState
from tui.messages import BackendReady, JobsListed, JobUpdated, LoadFailed
from tui.screens.refresh import PeriodicRead, read_interval
from tui.text import age, compact_duration, job_time
from tui.widgets.banner import ModeBanner
from tui.widgets.job_progress import duration
from tui.widgets.table import FreshTable

STATE_FILTERS: tuple[JobState | None, ...] = (
    None,
    JobState.IN_PROGRESS,
    JobState.SUCCEEDED,
    JobState.FAILED,
    JobState.CANCELLED,
    JobState.SUSPENDED,
)
WINDOWS: tuple[tuple[str, timedelta | None], ...] = (
    ("last 24 hours", timedelta(hours=24)),
    ("last 7 days", timedelta(days=7)),
    ("last hour", timedelta(hours=1)),
    ("all", None),
)
COLUMNS = (("state", "State"), ("job", "Job"), ("started", "Started"), ("duration", "Duration"), ("name", "Name"))


class JobsScreen(PeriodicRead, Screen[None]):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="jobs-back"),
        Binding("s", "cycle_state", "State", id="jobs-state", tooltip="Filter by state"),
        Binding("W", "cycle_window", "Window", id="jobs-window", tooltip="Time window"),
        Binding("ctrl+r", "reload", "Refresh", id="jobs-refresh", tooltip="Read the job history again"),
        Binding("t", "open", "Detail", id="jobs-open", tooltip="The selected job's tasks and errors"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.state_index = 0
        self.window_index = 0
        self.jobs: list[Job] = []
        self.history_loading = False

    def compose(self) -> ComposeResult:
        yield ModeBanner()
        yield Static("", id="jobs-filter", classes="pane-title")
        yield FreshTable(id="history", cursor_type="row")
        yield Static("", id="jobs-status")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#history", DataTable)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        table.focus()
        self.action_reload()

    def _filter(self) -> JobFilter:
        state = STATE_FILTERS[self.state_index]
        window = WINDOWS[self.window_index][1]
        now = self.app.backend.now()  # type: ignore[attr-defined]
        return JobFilter(
            states=(state.value,) if state is not None else (),
            start_time=now - window if window is not None else None,
        )

    def on_backend_ready(self, message: BackendReady) -> None:
        self.action_reload()  # opened while the vault was still opening: read it now

    def action_reload(self) -> None:
        if getattr(self.app, "backend", None) is None:
            self.query_one("#jobs-status", Static).update("Opening the vault…")
            return
        state = STATE_FILTERS[self.state_index]
        self.query_one("#jobs-filter", Static).update(
            f"Jobs · state: {state.word if state else 'any'} · {WINDOWS[self.window_index][0]}"
        )
        self.history_loading = True
        self.query_one("#jobs-status", Static).update("Reading jobs…")
        self.load(self._filter())

    @work(thread=True, exclusive=True, group="history", exit_on_error=False, description="Reading jobs")
    def load(self, job_filter: JobFilter) -> None:
        try:
            jobs = self.app.backend.list_jobs(job_filter)  # type: ignore[attr-defined]
        except FailbackError as exc:
            self.post_message(LoadFailed("jobs history", exc))
            return
        self.post_message(JobsListed(jobs))

    def on_jobs_listed(self, message: JobsListed) -> None:
        app: Any = self.app
        self.history_loading = False
        self.schedule_read()
        self.jobs = sorted(message.jobs, key=lambda j: j.start_time.timestamp() if j.start_time else 0.0, reverse=True)
        table = self.query_one("#history", DataTable)
        keep = self._cursor_name()
        table.clear()
        now = app.backend.now()
        for job in self.jobs:
            table.add_row(*self._cells(job, now).values(), key=job.name)
        if keep in table.rows:
            table.move_cursor(row=table.get_row_index(keep))  # a read on its own leaves the cursor where it was
        count = len(self.jobs)
        if count:
            text = f"{count} job{'s' if count != 1 else ''} · t or Enter opens one · read again every "
            text += compact_duration(read_interval(app))
        else:
            state = STATE_FILTERS[self.state_index]
            window = WINDOWS[self.window_index][0]
            text = f"No jobs in this state ({state.word if state else 'any'}, {window}): s and W widen it"
        self.query_one("#jobs-status", Static).update(text)

    def _cursor_name(self) -> str:
        table = self.query_one("#history", DataTable)
        if not table.row_count:
            return ""
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def read_again(self) -> None:
        if not self.history_loading:
            self.action_reload()

    def on_screen_resume(self) -> None:
        self.resume_reads()

    def _cells(self, job: Job, now: datetime) -> dict[str, str]:
        app: Any = self.app
        started = f"{job_time(job.start_time, now, app.tz)} ({age(job.start_time, now)} ago)" if job.start_time else "—"
        return {
            "state": app.glyphs.job_state(job),
            "job": job.title,
            "started": started,
            "duration": duration(job, now),
            "name": job.name,
        }

    def on_load_failed(self, message: LoadFailed) -> None:
        if message.what == "jobs history":
            self.history_loading = False
            self.app.show_error(message.error, heading="Could not read the job history")  # type: ignore[attr-defined]
            self.query_one("#jobs-status", Static).update("Reading jobs failed · ctrl+r retries")
            self.schedule_read()

    def on_job_updated(self, message: JobUpdated) -> None:
        table = self.query_one("#history", DataTable)
        if message.job.name in table.rows:
            for key, value in self._cells(message.job, self.app.backend.now()).items():  # type: ignore[attr-defined]
                table.update_cell(message.job.name, key, value, update_width=True)

    def action_cycle_state(self) -> None:
        self.state_index = (self.state_index + 1) % len(STATE_FILTERS)
        self.action_reload()

    def action_cycle_window(self) -> None:
        self.window_index = (self.window_index + 1) % len(WINDOWS)
        self.action_reload()

    @on(DataTable.RowSelected, "#history")
    def _selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    def action_open(self) -> None:
        table = self.query_one("#history", DataTable)
        if not table.row_count:
            return
        name = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        job = next((j for j in self.jobs if j.name == name), None)
        if job is not None:
            self.app.session.record_job(job)  # type: ignore[attr-defined]
        self.app.show_job(name)  # type: ignore[attr-defined]
