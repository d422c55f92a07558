"""The jobs pane: every job this session follows, running ones first, plus pending automatic retries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from core.model import Job
from tui.glyphs import Glyphs
from tui.session import AgentRetry
from tui.text import age, clean
from tui.widgets.table import FreshTable

JOB_COLUMNS = (("state", "State"), ("job", "Job"), ("started", "Started"), ("task", "Task"))


def task_summary(job: Job) -> str:
    if not job.tasks:
        return "waiting for ASR to list its tasks" if job.is_running else ""
    done = sum(1 for t in job.tasks if t.state.is_terminal or t.skipped)
    running = next((t for t in job.tasks if t.state.value == "InProgress"), None)
    name = (running.friendly_name or running.name) if running else ""
    return f"{done}/{len(job.tasks)} {name}".strip()


class JobsTable(FreshTable):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", **kwargs)

    def on_mount(self) -> None:
        for key, label in JOB_COLUMNS:
            self.add_column(label, key=key)

    def cells(self, job: Job, now: datetime, glyphs: Glyphs) -> dict[str, str]:
        started = f"{age(job.start_time, now)} ago" if job.start_time else "—"
        return {
            "state": glyphs.job_state(job),
            "job": job.title,
            "started": started,
            "task": task_summary(job),
        }

    def upsert(self, job: Job, now: datetime, glyphs: Glyphs) -> None:
        cells = self.cells(job, now, glyphs)
        if job.name in self.rows:
            for key, value in cells.items():
                self.update_cell(job.name, key, value, update_width=True)
        else:
            self.add_row(*(cells[k] for k, _ in JOB_COLUMNS), key=job.name)

    @property
    def selected_name(self) -> str:
        if not self.row_count:
            return ""
        row_key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        return str(row_key.value or "")


class JobsPane(Vertical):
    DEFAULT_CLASSES = "jobs-pane"

    _title = "Jobs: none followed yet"
    _retries_text = ""

    def compose(self) -> ComposeResult:
        yield Static("Jobs: none followed yet", id="jobs-title", classes="pane-title")
        yield Static("", id="retries")
        yield JobsTable(id="jobs-table")

    def show(self, jobs: list[Job], retries: list[AgentRetry], now: datetime, glyphs: Glyphs) -> None:
        table = self.query_one(JobsTable)
        running = sum(1 for j in jobs if j.is_running)
        title = f"Jobs: {running} running, {len(jobs) - running} finished" if jobs else "Jobs: none followed yet"
        if title != self._title:
            self._title = title
            self.query_one("#jobs-title", Static).update(title, layout=False)
        ordered = sorted(
            jobs, key=lambda j: (not j.is_running, -(j.start_time.timestamp() if j.start_time else 0), j.name)
        )
        if [j.name for j in ordered] != [str(r.key.value) for r in table.ordered_rows]:
            # Running jobs first, newest first: rebuilt only when the order changes (a job starts or ends).
            table.clear()
        for job in ordered:
            table.upsert(job, now, glyphs)
        lines = []
        for r in retries:
            if r.running:
                lines.append(f"{r.item.friendly_name}: reprotect attempt {r.attempt}/{r.max_attempts} being sent")
            else:
                lines.append(
                    f"{r.item.friendly_name}: waiting for the agent — retry {r.attempt} of {r.max_attempts} in "
                    f"{int(r.seconds_left(now))} s (x stops it)"
                )
        retries_widget = self.query_one("#retries", Static)
        text = "\n".join(clean(line) for line in lines)
        # Unchanged text is not sent again: an update re-lays-out the screen and repaints the footer.
        if retries_widget.display != bool(lines):
            retries_widget.display = bool(lines)
        if text != self._retries_text:
            self._retries_text = text
            retries_widget.update(Text(text))
