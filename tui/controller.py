"""App-wide work that outlives any one screen: job polling, submitting operations, reprotect retries."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from textual import work
from textual.screen import ModalScreen
from textual.timer import Timer

from core.errors import FailbackError
from core.failback import AGENT_REGISTRATION_WINDOW, is_agent_registration_failure
from core.model import AnyReprotectTarget, Job, JobState, PointChoice, ProtectedItem
from core.providers import provider_for
from core.recovery import PointOption
from tui.messages import (
    CancelStarted,
    CommitStarted,
    FailoverStarted,
    ItemRefreshed,
    JobActionAccepted,
    JobsPolled,
    JobUpdated,
    LoadFailed,
    LossGrew,
    OperationFailed,
    OperationStarted,
    ReprotectStarted,
    RetryChanged,
)
from tui.session import RETRY_INTERVAL, ActionRecord, AgentRetry, StartedOperation

if TYPE_CHECKING:
    from tui.session import Session


def describe_equivalent(op: str, backend: Any, item: ProtectedItem | None, **params: Any) -> Any:
    """The REST / az / PowerShell equivalent of an action, or the reason it could not be built."""
    from core.equivalents import equivalents

    try:
        return equivalents(op, vault=backend.vault, item=item, **params)
    except (FailbackError, ValueError, KeyError, TypeError) as exc:
        return f"(no equivalent for {op}: {exc})"


class Controller:
    """Mixed into the App. Workers post messages to the App; the App forwards what screens need."""

    backend: Any
    tracker: Any
    operations: Any  # core.operations.Operations: read-only refusal, attach, journal around every send
    session: Session
    poll_paused_for_modals = True

    def _init_controller(self) -> None:
        self._poll_timer: Timer | None = None
        self._to_follow: list[str] = []
        self._follow_lock = threading.Lock()
        self._polling = False

    # -- messages to every screen -------------------------------------------------------------------------

    def broadcast(self, make: Any) -> None:
        """Post a fresh message (from the factory `make`) to every screen in the stack."""
        for screen in list(self.screen_stack):  # type: ignore[attr-defined]
            screen.post_message(make())

    # -- job polling: one poll at a time; the next is scheduled when the previous one ends ---------------

    def follow(self, job_name: str) -> None:
        if not job_name:
            return
        with self._follow_lock:
            self._to_follow.append(job_name)
        self.schedule_poll(0.0)

    def schedule_poll(self, delay: float | None = None) -> None:
        if self.tracker is None or self._polling:
            return
        if self._poll_timer is not None:
            self._poll_timer.stop()
        wait = self.tracker.next_delay() if delay is None else delay
        # A zero-length Textual timer divides by zero when stopped: "now" is a hundredth of a second.
        wait = max(0.01, wait)
        self._poll_timer = self.set_timer(wait, self._poll_due)  # type: ignore[attr-defined]

    def _poll_due(self) -> None:
        self._poll_timer = None
        if not self.screen_stack:  # type: ignore[attr-defined]
            return  # shutting down
        if self.poll_paused_for_modals and isinstance(self.screen, ModalScreen):  # type: ignore[attr-defined]
            # Nothing reads the panes behind a dialog: spare the vault the reads until it closes.
            self.schedule_poll(0.5)
            return
        self._polling = True
        self.poll_jobs()

    @work(thread=True, exclusive=True, group="poll", exit_on_error=False, description="Polling jobs")
    def poll_jobs(self) -> None:
        with self._follow_lock:
            names, self._to_follow = self._to_follow, []
        changed: list[Job] = []
        error: BaseException | None = None
        # The vault may be closed (back to the fleet) while this thread runs: it works on the tracker it started on.
        tracker = self.tracker
        if tracker is None:
            return
        try:
            for name in names:
                tracker.track(name)
            changed = tracker.poll()
            error = tracker.last_error
        except FailbackError as exc:
            error = exc
        self.post_message(JobsPolled(changed, error, tracker))  # type: ignore[attr-defined]

    def on_jobs_polled(self, message: JobsPolled) -> None:
        if message.tracker is not None and message.tracker is not self.tracker:
            return  # a poll of a vault closed meanwhile: its jobs are followed again when it is opened again
        self._polling = False
        for job in message.changed:
            if self.session.record_job(job):
                self.broadcast(lambda job=job: JobUpdated(job))
                self._tell_job(job)
                self._after_job(job)
        error = message.error
        if error is not None:
            self.broadcast(lambda: LoadFailed("jobs", error))
        with self._follow_lock:
            waiting = bool(self._to_follow)
        # A job asked for during this poll is read at once rather than at the next interval.
        self.schedule_poll(0.0 if waiting else None)

    def _tell_job(self, job: Job) -> None:
        """A job this session started that ended, or waits for a manual action, is said outside the screen too."""
        from core.notify import job_event

        started = self.session.started.get(job.name)
        if started is None:
            return
        event = job_event(
            job, self.backend.now(), item=started.item_name, vault=self.backend.vault.name,
            simulated=bool(getattr(self.backend, "simulated", False)),
        )  # fmt: skip
        if event is not None:
            self.tell(event)  # type: ignore[attr-defined]

    def _after_job(self, job: Job) -> None:
        started = self.session.started.get(job.name)
        if started is None or not job.state.is_terminal:
            return
        self.refresh_item(started.item_id)
        if started.kind == "reprotect" and job.state is JobState.FAILED and is_agent_registration_failure(job):
            self._plan_retry(started, job)
        elif started.kind == "reprotect":
            self.session.retry_deadlines.pop(started.item_id, None)
            retry = self.session.retries.pop(started.item_id, None)
            if retry is not None:
                self.broadcast(lambda: RetryChanged(started.item_id, f"Reprotect ended {job.state.word}."))

    # -- the agent-registration retry -----------------------------------------------------------------------

    def _plan_retry(self, started: StartedOperation, job: Job) -> None:
        if started.item_id in self.session.retries_stopped:
            return  # the operator stopped retrying while this attempt was on its way
        now = self.backend.now()
        # One notification per retry window: a toast per attempt piles up over the countdown line.
        first_failure = started.item_id not in self.session.retry_deadlines
        deadline = self.session.retry_deadlines.setdefault(started.item_id, now + AGENT_REGISTRATION_WINDOW)
        max_attempts = 1 + int(AGENT_REGISTRATION_WINDOW / RETRY_INTERVAL)
        item = self._item(started.item_id)
        if started.target is None or item is None:
            return
        attempt = started.attempt + 1
        if attempt > max_attempts or now + RETRY_INTERVAL > deadline:
            self.session.retries.pop(started.item_id, None)
            self.session.retry_deadlines.pop(started.item_id, None)
            note = (
                f"The mobility agent on {started.item_name} still has not registered after "
                f"{started.attempt} attempts. Check the VM in the AVS private cloud (is it running? is the "
                "Mobility service started?), then reprotect again."
            )
            self.broadcast(lambda: RetryChanged(started.item_id, note))
            self.notify(note, severity="error", timeout=30)  # type: ignore[attr-defined]
            return
        self.session.retries[started.item_id] = AgentRetry(
            item=item,
            target=started.target,
            attempt=attempt,
            due=now + RETRY_INTERVAL,
            deadline=deadline,
            max_attempts=max_attempts,
            last_job=job.name,
        )
        note = (
            f"Reprotect of {started.item_name} failed because its mobility agent has not registered yet. "
            f"That is normal for up to {int(AGENT_REGISTRATION_WINDOW.total_seconds() // 60)} minutes after "
            f"the VM boots in AVS. Retrying in {int(RETRY_INTERVAL.total_seconds())} s."
        )
        self.broadcast(lambda: RetryChanged(started.item_id, note))
        if first_failure:
            self.notify(note, title="Retrying reprotect", timeout=10)  # type: ignore[attr-defined]

    def cancel_retry(self, item_id: str) -> bool:
        retry = self.session.retries.pop(item_id, None)
        if retry is None:
            return False
        self.session.retries_stopped.add(item_id)
        self.session.retry_deadlines.pop(item_id, None)
        self.broadcast(lambda: RetryChanged(item_id, "Automatic reprotect retry stopped."))
        return True

    def check_retries(self) -> None:
        """Called on each tick: send the retries whose countdown (in backend time) has run out."""
        if self.backend is None:
            return
        now = self.backend.now()
        for retry in list(self.session.retries.values()):
            if not retry.running and now >= retry.due:
                retry.running = True
                self.submit_reprotect(retry.item, retry.target, attempt=retry.attempt)

    def _item(self, item_id: str) -> ProtectedItem | None:
        for screen in self.screen_stack:  # type: ignore[attr-defined]
            table = getattr(screen, "items_table", None)
            if table is not None and item_id in table.items:
                return table.items[item_id]  # type: ignore[no-any-return]
        return None

    # -- operations: a second press while one is being submitted does nothing ------------------------------

    def _claim(self, kind: str, key: str) -> bool:
        if self.session.is_submitting(kind, key):
            return False
        self.session.submitting.add((kind, key))
        return True

    def start_failover(self, item: ProtectedItem, option: PointOption) -> bool:
        if not self._claim("failover", item.id):
            return False
        self._submit_failover(item, option)
        return True

    @work(thread=True, group="submit", exit_on_error=False, description="Sending failover")
    def _submit_failover(self, item: ProtectedItem, option: PointOption) -> None:
        from core.errors import NotAllowedNow
        from core.recovery import loss_grew, recheck

        try:
            # The loss accepted in the dialog, checked against the points ASR holds now: newer points may have come
            # while the dialogs were open (fast on a sped-up demo clock), and what is sent is what was accepted.
            if not provider_for(item).needs_points:
                # a type of point (modernized): ASR makes or picks it when the job runs; nothing to check again
                self._pending_options[item.id] = option
                started = self.operations.failover_to(item, option, preflight=self.session.preflight.pop(item.id, None))
                self.post_message(  # type: ignore[attr-defined]
                    FailoverStarted("failover", item, started.handle, note=started.note if started.attached else "")
                )
                return
            points = list(self.backend.list_recovery_points(item))
            fresh = recheck(option, points, self.backend.now(), getattr(self, "tz", None))
            if fresh is None:
                raise NotAllowedNow(
                    "The recovery point chosen is no longer held by ASR (it aged out of the retention window).",
                    hint="Nothing was sent. Fail back again and choose a point from the current list.",
                )
            was, grown = option.loss_seconds, fresh.loss_seconds
            if option.needs_acknowledgement and was is not None and grown is not None and loss_grew(was, grown):
                self.post_message(LossGrew(item, option, fresh, points))  # type: ignore[attr-defined]
                return
            self._pending_options[item.id] = fresh
            started = self.operations.failover_to(item, fresh, preflight=self.session.preflight.pop(item.id, None))
        except FailbackError as exc:
            self.post_message(OperationFailed("failover", item, exc))  # type: ignore[attr-defined]
            return
        self.post_message(  # type: ignore[attr-defined]
            FailoverStarted("failover", item, started.handle, note=started.note if started.attached else "")
        )

    def start_cancel_failover(self, item: ProtectedItem) -> bool:
        """Cancel a finished planned failover (modernized), once: a second press does nothing."""
        if not self._claim("cancel-failover", item.id):
            return False
        self._submit_cancel_failover(item)
        return True

    @work(thread=True, group="submit", exit_on_error=False, description="Sending cancel")
    def _submit_cancel_failover(self, item: ProtectedItem) -> None:
        try:
            started = self.operations.cancel_failover(item)
        except FailbackError as exc:
            self.post_message(OperationFailed("cancel-failover", item, exc))  # type: ignore[attr-defined]
            return
        self.post_message(  # type: ignore[attr-defined]
            CancelStarted("cancel-failover", item, started.handle, note=started.note if started.attached else "")
        )

    def on_cancel_started(self, message: CancelStarted) -> None:
        self._started(message)
        if message.item is not None and not message.note:
            # The checks were of a VM in AVS that the cancel shuts down: a second failback is verified afresh.
            self.session.ticked.pop(message.item.id, None)
        self.show_job(message.handle.job_name)

    def start_commit(self, item: ProtectedItem) -> bool:
        if not self._claim("commit", item.id):
            return False
        self._submit_commit(item)
        return True

    @work(thread=True, group="submit", exit_on_error=False, description="Sending commit")
    def _submit_commit(self, item: ProtectedItem) -> None:
        try:
            started = self.operations.commit(item)
        except FailbackError as exc:
            self.post_message(OperationFailed("commit", item, exc))  # type: ignore[attr-defined]
            return
        self.post_message(  # type: ignore[attr-defined]
            CommitStarted("commit", item, started.handle, note=started.note if started.attached else "")
        )

    def start_reprotect(self, item: ProtectedItem, target: AnyReprotectTarget) -> bool:
        if item.id in self.session.retries or not self._claim("reprotect", item.id):
            return False
        # A reprotect the operator starts by hand may be retried again, on a fresh window.
        self.session.retries_stopped.discard(item.id)
        self.session.retry_deadlines.pop(item.id, None)
        self.submit_reprotect(item, target, attempt=1, claimed=True)
        return True

    def submit_reprotect(
        self, item: ProtectedItem, target: AnyReprotectTarget, *, attempt: int, claimed: bool = False
    ) -> None:
        if not claimed:
            self.session.submitting.add(("reprotect", item.id))
        self._submit_reprotect(item, target, attempt)

    @work(thread=True, group="submit", exit_on_error=False, description="Sending reprotect")
    def _submit_reprotect(self, item: ProtectedItem, target: AnyReprotectTarget, attempt: int) -> None:
        try:
            started = self.operations.reprotect(item, target)
        except FailbackError as exc:
            self.post_message(OperationFailed("reprotect", item, exc))  # type: ignore[attr-defined]
            return
        self._reprotect_targets[started.handle.job_name] = target
        self.post_message(  # type: ignore[attr-defined]
            ReprotectStarted("reprotect", item, started.handle, attempt, note=started.note if started.attached else "")
        )

    def start_job_action(self, job: Job, action: str, *, comment: str = "") -> bool:
        """Cancel, restart or resume (with the operator's comment) a job, once: a second press does nothing."""
        if not self._claim(action, job.name):
            return False
        self._submit_job_action(job, action, comment)
        return True

    @work(thread=True, group="submit", exit_on_error=False, description="Sending a job action")
    def _submit_job_action(self, job: Job, action: str, comment: str = "") -> None:
        try:
            if action == "resume":
                started = self.operations.resume_job(job.name, comment)
            else:
                started = {"cancel": self.operations.cancel_job, "restart": self.operations.restart_job}[action](
                    job.name
                )
        except FailbackError as exc:
            self.post_message(OperationFailed(action, None, exc, job_name=job.name))  # type: ignore[attr-defined]
            return
        self.post_message(JobActionAccepted(action, None, started.handle, job_name=job.name))  # type: ignore[attr-defined]

    def on_loss_grew(self, message: LossGrew) -> None:
        """Nothing was sent: the dialog asks again, with the loss as it is now."""
        self.session.submitting.discard(("failover", message.item.id))
        for screen in reversed(self.screen_stack):  # type: ignore[attr-defined]
            ask = getattr(screen, "ask_point_again", None)
            if ask is not None:
                ask(message.item, message.points, message.was, message.now)
                return

    # -- answers -------------------------------------------------------------------------------------------

    def _started(self, message: OperationStarted, **params: Any) -> None:
        handle = message.handle
        item = message.item
        key = item.id if item is not None else handle.target_name
        self.session.submitting.discard((message.kind, key))
        self.session.own.add(handle.job_name)
        if item is not None:
            self.session.started[handle.job_name] = StartedOperation(
                kind=message.kind,
                item_id=item.id,
                item_name=item.friendly_name or item.name,
                handle=handle,
                target=self._reprotect_targets.pop(handle.job_name, None),
                attempt=message.attempt,
            )
        title = f"{message.kind.capitalize()} {item.friendly_name if item else handle.target_name}".strip()
        equivalent = describe_equivalent(message.kind, self.backend, item, **params)
        self.session.actions.append(ActionRecord(self.backend.now(), title, handle.job_name, equivalent))
        if message.kind == "reprotect" and item is not None and item.id in self.session.retries:
            self.session.retries[item.id].running = False
            self.session.retries.pop(item.id, None)
        if message.note:
            self.notify(message.note, title="Following the job already running", timeout=15)  # type: ignore[attr-defined]
        self.follow(handle.job_name)
        self.broadcast(lambda: OperationStarted(message.kind, item, handle, message.attempt))
        if item is not None:
            self.refresh_item(item.id)

    def on_failover_started(self, message: FailoverStarted) -> None:
        option = self._pending_options.pop(message.item.id if message.item else "", None)
        params: dict[str, Any] = {}
        if option is not None:
            params["choice"] = option.choice
            if option.choice is PointChoice.CUSTOM and option.point is not None:
                params["recovery_point_id"] = option.point.id
        self._started(message, **params)
        self.show_job(message.handle.job_name)

    def on_commit_started(self, message: CommitStarted) -> None:
        self._started(message)
        self.show_job(message.handle.job_name)

    def on_reprotect_started(self, message: ReprotectStarted) -> None:
        started_target = self._reprotect_targets.get(message.handle.job_name)
        self._started(message, target=started_target)
        if message.attempt == 1:
            self.show_job(message.handle.job_name)

    def on_job_action_accepted(self, message: JobActionAccepted) -> None:
        self.session.submitting.discard((message.kind, message.job_name))
        self._started(message, job_name=message.job_name or message.handle.job_name)
        if message.kind == "resume":
            self.notify(f"Job {message.handle.job_name} resumed.", timeout=5)  # type: ignore[attr-defined]

    def on_operation_failed(self, message: OperationFailed) -> None:
        key = message.item.id if message.item is not None else message.job_name
        self.session.submitting.discard((message.kind, key))
        retry = self.session.retries.pop(key, None) if message.item is not None else None
        if retry is not None:
            self.broadcast(lambda: RetryChanged(key, "The automatic reprotect retry could not be sent."))
        self.show_error(message.error, heading=f"{message.kind.capitalize()} was not started")

    # -- reads every screen may ask for ----------------------------------------------------------------------

    def refresh_item(self, item_id: str) -> None:
        self._refresh_item(item_id)

    @work(thread=True, group="item", exit_on_error=False, description="Refreshing an item")
    def _refresh_item(self, item_id: str) -> None:
        try:
            item = self.backend.get_item(item_id)
        except FailbackError as exc:
            self.post_message(LoadFailed("item", exc))  # type: ignore[attr-defined]
            return
        self.post_message(ItemRefreshed(item))  # type: ignore[attr-defined]

    def on_item_refreshed(self, message: ItemRefreshed) -> None:
        self.broadcast(lambda: ItemRefreshed(message.item))

    def on_load_failed(self, message: LoadFailed) -> None:
        self.broadcast(lambda: LoadFailed(message.what, message.error))

    # Filled by the App
    def show_job(self, job_name: str) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def show_error(self, error: BaseException, heading: str = "") -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    _pending_options: dict[str, PointOption]
    _reprotect_targets: dict[str, AnyReprotectTarget]
