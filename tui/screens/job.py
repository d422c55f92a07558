"""One job, live: its tasks with state, start, duration and errors; cancel, restart or resume it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static

from core.errors import FailbackError
from core.failback import expected_failure
from core.model import Job, JobState, RecoveryPlan
from core.operations import scenario_operation
from core.plans import pending_actions, plan_of_job, waiting_task
from tui.messages import JobUpdated, OperationStarted, RetryChanged
from tui.text import lines, plain
from tui.widgets.banner import ModeBanner
from tui.widgets.job_progress import JobProgress

JOB_ACTIONS = {
    "cancel": ("Cancel", "Cancel the job", "ASR stops the job and rolls the item back where it can."),
    "restart": ("Restart", "Restart the job", "ASR runs the failed job again from its start."),
    "resume": ("Resume", "Resume the job", "ASR continues the job after its manual step."),
}

# What the operator does after each kind of job succeeds, in the keys of the screen it was started from.
NEXT_AFTER = {
    "failover": "Next: press Escape, then v on the dashboard to verify the VM in AVS before committing.",
    "commit": "Next: press Escape, then r on the dashboard to reprotect the VM (AVS → Azure).",
    "reprotect": "Next: nothing to do; the VM replicates from AVS to Azure again once its initial copy ends.",
    "cancel-failover": "Next: the VM runs in Azure again and replicates to AVS; fail it back again with f when ready.",
}
NEXT_AFTER_PLAN = {
    "failover": "Next: press Escape, then v on the plans screen to verify each of the plan's VMs in AVS before "
    "committing the plan.",
    "commit": "Next: press Escape, then r on the plans screen to reprotect the plan's VMs (AVS → Azure).",
    "cancel-failover": "Next: the plan's VMs run in Azure again and replicate to AVS; fail the plan back again with f "
    "when ready.",
}
# A planned failover from Azure (modernized) can still be undone: said after the verify-and-commit line.
CANCEL_STILL = " Until the commit, B takes it back to the Azure VM instead."


def next_step(started: Any, job: Job, *, plan: bool = False) -> str:
    """One line on what to do now that `job` has ended ("" when there is nothing to add); `plan`: a plan's job."""
    kind = started.kind if started is not None else scenario_operation(job.scenario_name)
    if job.state is JobState.SUCCEEDED:
        words = (NEXT_AFTER_PLAN if plan else NEXT_AFTER).get(kind, "")
        if kind == "failover" and job.scenario_name.lower() == "plannedfailover":
            words += CANCEL_STILL
        return words
    if job.state is JobState.FAILED:
        if expected_failure(job):
            return "Next: nothing, if the tool is retrying (the line above says when); else reprotect again later."
        again = "press R to restart the job" if "Restart" in job.allowed_actions else "start it again"
        return f"Next: read the errors above, fix the cause, then {again}."
    if job.state is JobState.CANCELLED:
        return "Next: start the operation again from the dashboard when ready."
    return ""


@dataclass(eq=False)
class PlanOfJobRead(Message, bubble=False):
    """The recovery plan the shown job acts on (None: an item's job), read for its manual actions."""

    plan: RecoveryPlan | None
    error: BaseException | None = None


class JobScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="job-back"),
        Binding("C", "job_action('cancel')", "Cancel job…", id="job-cancel", tooltip="Asks first"),
        Binding("R", "job_action('restart')", "Restart…", id="job-restart"),
        Binding("u", "job_action('resume')", "Resume…", id="job-resume"),
        Binding("x", "stop_retry", "Stop retry", id="job-stop-retry"),
        Binding("e", "app.show_commands", "Commands", id="job-show-commands"),
    ]

    def __init__(self, job_name: str) -> None:
        super().__init__()
        self.job_name = job_name
        self.earlier: list[str] = []  # earlier attempts of the same reprotect, oldest first (shown, not led with)
        self.plan: RecoveryPlan | None = None
        self._plan_read_for = ""  # the job's target the plan was looked up for (ASR names it once the job runs)
        self._shown_at: datetime | None = None
        self._actions_shown: tuple[str, ...] | None = None

    def compose(self) -> ComposeResult:
        yield ModeBanner()
        yield Static(plain(f"Job {self.job_name}"), id="job-title", classes="pane-title")
        rehearsed = self._rehearsed_text()
        line = Static(rehearsed, id="job-rehearsed")
        line.display = bool(rehearsed)
        yield line
        yield JobProgress(id="progress")
        yield Static("", id="job-retry")
        yield Footer()

    def _rehearsed_text(self) -> Any:
        """A rehearsal's simulated job: the request that was shown and journaled instead of sent."""
        from core.rehearsal import describe_request, rehearsed_for

        request = rehearsed_for(getattr(self.app, "backend", None), self.job_name)
        if request is None:
            return ""
        return lines("REHEARSAL, simulated job. Not sent:\n" + describe_request(request))

    @property
    def job(self) -> Job | None:
        return self.app.session.jobs.get(self.job_name)  # type: ignore[attr-defined, no-any-return]

    def on_mount(self) -> None:
        self.app.follow(self.job_name)  # type: ignore[attr-defined]
        self._show()
        self._look_for_plan()

    def _look_for_plan(self) -> None:
        """Not an item operation of this run: it may be a plan's job, whose manual actions the screen names."""
        job = self.job
        if self.job_name in self.app.session.started or job is None:  # type: ignore[attr-defined]
            return
        target = job.target_object_id or job.target_object_name
        if target and target != self._plan_read_for:
            self._plan_read_for = target
            self._read_plan()

    @work(thread=True, exclusive=True, group="job-plan", exit_on_error=False, description="Reading the plans")
    def _read_plan(self) -> None:
        backend = self.app.backend  # type: ignore[attr-defined]
        if backend is None:
            return
        job = self.job
        if job is None:
            return
        try:
            plans = backend.list_plans()
        except FailbackError as exc:
            self.post_message(PlanOfJobRead(None, exc))
            return
        self.post_message(PlanOfJobRead(plan_of_job(plans, job)))

    def on_plan_of_job_read(self, message: PlanOfJobRead) -> None:
        if message.error is not None:
            self._plan_read_for = ""  # read again with the next update of the job
        self.plan = message.plan
        self._show()

    def _lead_with_newest(self) -> None:
        """A retried reprotect is shown by its newest attempt; the earlier ones are named under it."""
        newer = self._newer_job_name()
        while newer is not None:
            self.earlier.append(self.job_name)
            self.job_name = newer
            newer = self._newer_job_name()

    def _item_id(self) -> str:
        return self.app.session.item_id_for_job(self.job) if self.job else ""  # type: ignore[attr-defined]

    def _show(self, now: datetime | None = None) -> None:
        app: Any = self.app
        self._lead_with_newest()
        job = self.job
        self._shown_at = now or (app.backend.now() if app.backend is not None else None)
        if job is not None and app.backend is not None:
            self.query_one("#job-title", Static).update(plain(job.title))
            self.query_one(JobProgress).show(job, now or app.backend.now(), app.tz, app.glyphs)
        retry = self._retry()
        line = self.query_one("#job-retry", Static)
        waiting = waiting_task(job)
        text = Text()
        if retry is not None and app.backend is not None:
            when = "now" if retry.running else f"in {int(retry.seconds_left(app.backend.now()))} s"
            # The countdown leads: a notification in the corner may cover the end of the line.
            text.append(
                f"Retry {when} (attempt {retry.attempt} of {retry.max_attempts}): waiting for the agent. The mobility "
                "agent has not registered yet; the tool reprotects again on its own. Press x to stop retrying."
            )
        elif waiting:
            from tui.dialogs.resume import manual_text

            actions = pending_actions(self.plan, job) if self.plan is not None else []
            text.append_text(manual_text(actions, waiting))
        elif job is not None and not job.is_running:
            text.append(next_step(app.session.started.get(self.job_name), job, plan=self.plan is not None))
        if self.earlier:
            listed = ", ".join(self.earlier)
            text.append(f"\nEarlier attempt{'s' if len(self.earlier) > 1 else ''}: {listed}", style="dim")
        line.update(text)
        line.display = bool(text.plain)
        actions = (*(job.allowed_actions if job else ()), str(retry is not None), self.job_name)
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

    def on_job_updated(self, message: JobUpdated) -> None:
        if message.job.name in (self.job_name, self._newer_job_name()):
            self._show()
            if self.plan is None:
                self._look_for_plan()

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
            if parameters[0] == "restart" and self._retry() is not None:
                # The item is about to be reprotected again: a restart would race that attempt.
                return False
            return None if app.session.is_submitting(str(parameters[0]), job.name) else True
        if action == "stop_retry":
            started = app.session.started.get(self.job_name)
            return started is not None and started.item_id in app.session.retries
        return True

    def action_job_action(self, action: str) -> None:
        from tui.dialogs.confirm import ConfirmDialog
        from tui.dialogs.resume import ask_resume

        job = self.job
        if job is None:
            return
        if action == "resume":
            # The plans screen's dialog: every manual action ticked and a comment, whichever screen resumes.
            plan = self.plan
            actions = pending_actions(plan, job) if plan is not None else []
            name = f"the plan {plan.friendly_name or plan.name}" if plan is not None else f"job {job.name}"
            ask_resume(
                self, job, target_name=name, actions=actions, waiting=waiting_task(job), sent=self.refresh_bindings
            )
            return
        label, title, what = JOB_ACTIONS[action]
        app: Any = self.app

        def confirmed(ok: bool | None) -> None:
            if ok:
                app.start_job_action(job, action)
                self.refresh_bindings()

        self.app.push_screen(ConfirmDialog(f"{title}?", f"{job.title} ({job.name}).\n{what}", label), confirmed)

    def action_stop_retry(self) -> None:
        started = self.app.session.started.get(self.job_name)  # type: ignore[attr-defined]
        if started is not None and self.app.cancel_retry(started.item_id):  # type: ignore[attr-defined]
            self.notify("Stopped retrying the reprotect.")
        self._show()
