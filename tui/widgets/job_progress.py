"""A job as it runs: each task with its state (word and glyph), start, duration and errors."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from core.model import Job, JobTask
from tui.glyphs import Glyphs
from tui.text import clean, clock_time, compact_duration, details_text
from tui.widgets.pane import Pane
from tui.widgets.table import FreshTable

TASK_COLUMNS = (("task", "Task"), ("state", "State"), ("start", "Started"), ("duration", "Duration"))


def duration(task: JobTask | Job, now: datetime) -> str:
    if task.start_time is None:
        return "—"
    end = task.end_time or now
    return compact_duration((end - task.start_time).total_seconds())


def flatten(tasks: tuple[JobTask, ...], depth: int = 0) -> list[tuple[int, JobTask]]:
    rows: list[tuple[int, JobTask]] = []
    for task in tasks:
        rows.append((depth, task))
        rows.extend(flatten(task.child_tasks, depth + 1))
    return rows


def header_text(job: Job, now: datetime, tz: tzinfo | None, glyphs: Glyphs) -> Text:
    from core.failback import expected_failure

    text = Text()
    expected = expected_failure(job)
    if expected:
        text.append(f"{glyphs.expected} {job.state.word}, as expected: {expected}")
    else:
        text.append(f"{glyphs.job(job.state)} {job.state.word}")
    described = job.state_description.replace(" ", "").lower()
    if described and described not in (job.state.word.replace(" ", "").lower(), job.state.value.lower()):
        text.append(f" ({clean(job.state_description)})")
    text.append(f" · job {clean(job.name)}\n")
    if job.start_time:
        verb = "ran for" if job.end_time else "running for"
        text.append(f"Started {clock_time(job.start_time, tz)} · {verb} {duration(job, now)}")
        if job.end_time:
            text.append(f" · ended {clock_time(job.end_time, tz)}")
        text.append("\n")
    if job.allowed_actions:
        text.append(f"ASR allows: {clean(', '.join(job.allowed_actions))}\n", style="dim")
    text.rstrip()
    return text


def errors_text(job: Job) -> Text:
    text = Text()
    if job.errors:
        text.append("Errors\n", style="bold")
        text.append(details_text(job.errors))
        text.append("\n")
    shown = {(e.code, e.message) for e in job.errors}
    for _, task in flatten(job.tasks):
        # ASR repeats the failing task's errors at job level: show each once, under the job.
        fresh = tuple(e for e in task.errors if (e.code, e.message) not in shown)
        if fresh:
            text.append(f"Task “{clean(task.friendly_name or task.name)}” failed\n", style="bold")
            text.append(details_text(fresh))
            text.append("\n")
    text.rstrip()
    return text


class JobProgress(Vertical):
    DEFAULT_CLASSES = "job-progress"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.job: Job | None = None

    def compose(self) -> ComposeResult:
        yield Static("Waiting for the job…", classes="job-header")
        table = FreshTable(cursor_type="row", classes="task-table")
        yield table
        with Pane(classes="job-errors-scroll"):
            yield Static("", classes="job-errors")

    def _table(self) -> DataTable[Any]:
        table: DataTable[Any] = self.query_one(".task-table", DataTable)
        # show() may come before this widget's own on_mount (the screen shows a job as soon as it mounts).
        if not table.columns:
            for key, label in TASK_COLUMNS:
                table.add_column(label, key=key)
        return table

    def on_mount(self) -> None:
        self._table()

    def show(self, job: Job, now: datetime, tz: tzinfo | None, glyphs: Glyphs) -> None:
        self.job = job
        self.query_one(".job-header", Static).update(header_text(job, now, tz, glyphs))
        table = self._table()
        seen: set[str] = set()
        for depth, task in flatten(job.tasks):
            key = f"{task.task_id or task.name}:{depth}:{task.name}"
            seen.add(key)
            state = "– Skipped" if task.skipped else glyphs.job_text(task.state)
            cells = {
                "task": "  " * depth + (task.friendly_name or task.name),
                "state": state,
                "start": clock_time(task.start_time, tz) if task.start_time else "—",
                "duration": duration(task, now),
            }
            if key in table.rows:
                for column, value in cells.items():
                    table.update_cell(key, column, value, update_width=True)
            else:
                table.add_row(*(cells[c] for c, _ in TASK_COLUMNS), key=key)
        for stale in [k for k in table.rows if str(k.value) not in seen]:
            table.remove_row(stale)
        errors = errors_text(job)
        holder = self.query_one(".job-errors", Static)
        holder.update(errors if errors.plain else "No errors.")
