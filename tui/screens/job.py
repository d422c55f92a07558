"""One job, live: its tasks with state, start, duration and errors; cancel, restart or resume it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static

from core.model import Job, JobState
from core.operations import scenario_operation
from tui.messages import JobUpdated, OperationStarted, RetryChanged
from tui.widgets.banner import ModeBanner
from tui.widgets.job_progress import JobProgress

JOB_ACTIONS = {
    "cancel": ("Cancel", "Cancel the job", "ASR stops the job and rolls the item back where it can."),
    "restart": ("Restart", "Restart the job", "ASR runs the failed job again from its start."),
    "resume": ("Resume", "Resume the job", "ASR continues the job after its manual step."),
}

# What the operator does after each kind of job succeeds, in the dashboard's keys.
NEXT_AFTER = {
    "failover": "Next: press Escape, then v on the dashboard to verify the VM in AVS before committing.",
    "commit": "Next: press Escape, then r on the dashboard to reprotect the VM (AVS → Azure).",
    "reprotect": "Next: nothing to do; the VM replicates from AVS to Azure again once its initial copy ends.",
}


def next_step(started: Any, job: Job) -> str:
    """One line on what to do now that `job` has ended ("" when there is nothing to add)."""
    kind = started.kind if started is not None else scenario_operation(job.scenario_name)
    if job.state is JobState.SUCCEEDED:
        return NEXT_AFTER.get(kind, "")
    if job.state is JobState.FAILED:
        again = "press R to restart the job" if "Restart" in job.allowed_actions else "start it again"
        return f"Next: read the errors above, fix the cause, then {again}."
    if job.state is JobState.CANCELLED:
        return "Next: start the operation again from the dashboard when ready."
    return ""


class JobScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="job-back"),
        Binding("k", "job_action('cancel')", "Cancel job…", id="job-cancel"),
        Binding("R", "job_action('restart')", "Restart…", id="job-restart"),
        Binding("u", "job_action('resume')", "Resume…", id="job-resume"),
        Binding("x", "stop_retry", "Stop retry", id="job-stop-retry"),
        Binding("n", "newer_job", "Newer attempt", id="job-newer"),
        Binding("e", "app.show_commands", "Commands", id="job-show-commands"),
    ]

    def __init__(self, job_name: str) -> None:
        super().__init__()
        self.job_name = job_name
        self._shown_at: datetime | None = None
        self._actions_shown: tuple[str, ...] | None = None

    def compose(self) -> ComposeResult:
        yield ModeBanner()
        yield Static(f"Job {self.job_name}", id="job-title", classes="pane-title")
        yield JobProgress(id="progress")
        yield Static("", id="job-retry")
        yield Footer()

    @property
    def job(self) -> Job | None:
        return self.app.session.jobs.get(self.job_name)  # type: ignore[attr-defined, no-any-return]

    def on_mount(self) -> None:
        self.app.follow(self.job_name)  # type: ignore[attr-defined]
        self._show()

    def _item_id(self) -> str:
        return self.app.session.item_id_for_job(self.job) if self.job else ""  # type: ignore[attr-defined]

    def _show(self, now: datetime | None = None) -> None:
        app: Any = self.app
        job = self.job
        self._shown_at = now or (app.backend.now() if app.backend is not None else None)
        if job is not None and app.backend is not None:
            self.query_one("#job-title", Static).update(job.title)
            self.query_one(JobProgress).show(job, now or app.backend.now(), app.tz, app.glyphs)
        retry = self._retry()
        newer = self._newer_job_name()
        line = self.query_one("#job-retry", Static)
        if retry is not None and app.backend is not None:
            when = "now" if retry.running else f"in {int(retry.seconds_left(app.backend.now()))} s"
            # The countdown leads: a notification in the bottom-right corner may cover the end of the line.
            line.update(
                f"Retrying automatically {when}: reprotect attempt {retry.attempt} of {retry.max_attempts}. "
                "The mobility agent has not registered yet. Press x to stop retrying."
            )
            line.display = True
        elif newer is not None:
            line.update(self._newer_text(newer))
            line.display = True
        elif job is not None and not job.is_running:
            step = next_step(app.session.started.get(self.job_name), job)
            line.update(step)
            line.display = bool(step)
        else:
            line.display = False
        actions = (*(job.allowed_actions if job else ()), str(retry is not None), str(newer))
        if actions != self._actions_shown:
            self._actions_shown = actions
            self.refresh_bindings()

    def _retry(self) -> Any:
        """The automatic retry scheduled or running for this job's item, if any."""
        app: Any = self.app
        if self.job is None and self.job_name not in app.session.started:
            return None
        retry = app.session.retries.get(self._item_id())
        if retry is None:
            started = app.session.started.get(self.job_name)
            if started is not None:
                retry = app.session.retries.get(started.item_id)
        return retry

    def _newer_job_name(self) -> str | None:
        """The latest reprotect of the same item started after this one (an automatic retry or a new try)."""
        app: Any = self.app
        mine = app.session.started.get(self.job_name)
        if mine is None or mine.kind != "reprotect":
            return None
        names = list(app.session.started)
        later = [
            name
            for name in names[names.index(self.job_name) + 1 :]
            if app.session.started[name].kind == "reprotect" and app.session.started[name].item_id == mine.item_id
        ]
        return later[-1] if later else None

    def _newer_text(self, name: str) -> str:
        app: Any = self.app
        newer = app.session.jobs.get(name)
        attempt = app.session.started[name].attempt
        if newer is None or newer.is_running:
            state = "running"
        else:
            state = newer.state.word.lower()
        if attempt > 1:
            return f"Retried automatically: attempt {attempt} is job {name} ({state}). Press n to open it."
        return f"Reprotected again: job {name} ({state}). Press n to open it."

    def on_job_updated(self, message: JobUpdated) -> None:
        if message.job.name in (self.job_name, self._newer_job_name()):
            self._show()

    def on_retry_changed(self, message: RetryChanged) -> None:
        self._show()

    def on_operation_started(self, message: OperationStarted) -> None:
        # A restart may start a new job; follow the retry's new job too.
        self._show()

    def on_clock_tick(self, now: datetime) -> None:
        # Durations only change when backend time does (a frozen test clock: never between steps).
        if now == self._shown_at:
            return
        job = self.job
        if job is not None and (job.is_running or self.app.session.retries):  # type: ignore[attr-defined]
            self._show(now)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        app: Any = self.app
        if action == "job_action":
            if app.read_only:
                return False
            job = self.job
            name = JOB_ACTIONS[str(parameters[0])][0]
            if job is None or name not in job.allowed_actions:
                return False
            if parameters[0] == "restart" and (self._retry() is not None or self._newer_job_name() is not None):
                # The item is already being (or was) reprotected again: a restart would race that attempt.
                return False
            return None if app.session.is_submitting(str(parameters[0]), job.name) else True
        if action == "newer_job":
            return self._newer_job_name() is not None
        if action == "stop_retry":
            started = app.session.started.get(self.job_name)
            return started is not None and started.item_id in app.session.retries
        return True

    def action_job_action(self, action: str) -> None:
        from tui.dialogs.confirm import ConfirmDialog

        job = self.job
        if job is None:
            return
        label, title, what = JOB_ACTIONS[action]
        app: Any = self.app

        def confirmed(ok: bool | None) -> None:
            if ok:
                app.start_job_action(job, action)
                self.refresh_bindings()

        self.app.push_screen(ConfirmDialog(f"{title}?", f"{job.title} ({job.name}).\n{what}", label), confirmed)

    def action_newer_job(self) -> None:
        newer = self._newer_job_name()
        if newer is not None:
            self.app.switch_screen(JobScreen(newer))

    def action_stop_retry(self) -> None:
        started = self.app.session.started.get(self.job_name)  # type: ignore[attr-defined]
        if started is not None and self.app.cancel_retry(started.item_id):  # type: ignore[attr-defined]
            self.notify("Stopped retrying the reprotect.")
        self._show()
