"""The one way anything mutating is sent: refused in read-only mode, never twice, journaled before and after."""

from __future__ import annotations

import dataclasses
import os
import signal
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.backend import Backend
from core.clock import Clock
from core.errors import (
    ConnectionLost,
    FailbackError,
    MalformedResponse,
    NotAllowedNow,
    NotFound,
    OperationInProgress,
    ReadOnlyError,
    ServiceError,
)
from core.failback import Verdict, can_cancel, can_commit, can_failover, can_reprotect
from core.journal import Journal, format_ts
from core.model import (
    AnyReprotectTarget,
    CurrentScenario,
    Job,
    JobState,
    OperationHandle,
    PointChoice,
    ProtectedItem,
    RecoveryPlan,
    RecoveryPoint,
    ReprotectTarget,
)
from core.plans import PlanView, can_cancel_plan, can_commit_plan, can_fail_over_plan, plan_is_modernized, plan_view
from core.providers import provider_for
from core.recovery import PointOption, duration

CRASH_ENV = "AVS_FAILBACK_CRASH_AT"
CRASH_POINTS = ("after-intent", "after-send")

# Job actions as the journal names them (the CLI writes the same names).
JOB_ACTIONS = {"cancel": "job-cancel", "restart": "job-restart", "resume": "job-resume"}

_SCENARIO_OPERATIONS = {
    "unplannedfailover": "failover",
    "plannedfailover": "failover",
    "failover": "failover",
    "failovercommit": "commit",
    "commitfailover": "commit",
    "commit": "commit",
    "switchprotection": "reprotect",
    "reprotect": "reprotect",
    "reversereplicate": "reprotect",
    "cancelfailover": "cancel-failover",
    "switchreplicationgroupprotection": "reprotect",
}

RESTART_HINT = (
    "Nothing was lost: the intent is in the journal. Do not send it again by hand: restart the tool, which reads "
    "the journal, re-attaches to the job if the request got through, or says that it never reached Azure."
)


def crash_point(name: str) -> None:
    """Test instrumentation: SIGKILL this process here when the environment variable AVS_FAILBACK_CRASH_AT is `name`.

    The process-death tests set it to prove that a kill between journaling and sending (`after-intent`) or
    between sending and journaling the job (`after-send`) loses nothing. Unset, it does nothing.
    """
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass(frozen=True)
class Started:
    """What a mutating call led to.

    attached=True: a job was already running on the target (another operator, a previous session, or a request
    whose answer was lost but which did get through) and it is followed instead of sending anything; `note` says
    which job, since when and, when the journal knows it, who started it.
    """

    handle: OperationHandle
    attached: bool
    note: str


def _norm(value: str) -> str:
    return value.replace(" ", "").replace("_", "").replace("-", "").lower()


def scenario_operation(scenario_name: str, fallback: str = "") -> str:
    """Our operation name for an ASR scenario name (UnplannedFailover → failover), or `fallback`."""
    return _SCENARIO_OPERATIONS.get(_norm(scenario_name), fallback or scenario_name)


class Operations:
    """Failover, commit, reprotect, plan failover/commit and job actions, each sent at most once.

    Every call: refuses in read-only mode before any request; refuses a second call for a target whose first call
    is still being submitted (thread-safe: the TUI calls from worker threads); re-reads the target and attaches to
    a job already running on it instead of sending; checks the verdict on the fresh state; journals the intent
    (fsynced) before the request and the job or the refusal after it. A dropped connection during the send
    leaves the intent in flight unless a re-read shows the job: nothing is ever retried here.
    """

    def __init__(self, backend: Backend, journal: Journal | None, *, clock: Clock | None = None) -> None:
        self.backend = backend
        self.journal = journal
        # The backend's clock (simulated in the demo) dates the jobs: ages in notes are measured on it.
        self.clock: Clock | None = clock or getattr(backend, "clock", None)
        self._lock = threading.Lock()
        self._submitting: set[str] = set()

    # -- item operations -----------------------------------------------------------------------------------

    def failover_to(
        self, item: ProtectedItem, option: PointOption, *, preflight: Mapping[str, Any] | None = None
    ) -> Started:
        """The failover to a point chosen from `point_options`: its id, time and the loss accepted, journaled.

        `preflight` (core.preflight.decision) goes into the intent: the check's outcome, or the reason the operator
        typed to go on despite a FAIL, on disk before the request.
        """
        point_id = option.point.id if option.choice is PointChoice.CUSTOM and option.point else ""
        return self.failover(
            item,
            option.choice,
            point_id,
            recovery_point_time=option.point.time if option.point else None,
            data_loss_seconds=option.loss_seconds,
            acknowledged_loss=option.needs_acknowledgement,
            preflight=preflight,
        )

    def failover(
        self,
        item: ProtectedItem,
        choice: PointChoice,
        recovery_point_id: str = "",
        *,
        recovery_point_time: datetime | None = None,
        data_loss_seconds: float | None = None,
        acknowledged_loss: bool = False,
        preflight: Mapping[str, Any] | None = None,
    ) -> Started:
        """Unplanned failover from Azure to AVS (the failback), to the chosen recovery point."""
        if choice is PointChoice.CUSTOM and not recovery_point_id:
            raise NotAllowedNow(
                "A custom recovery point needs its id.", hint="Pick the point from the list of recovery points."
            )
        self._refuse_read_only("the failover")
        with self._submitting_target("failover", item.id, item.friendly_name):
            fresh = self.backend.get_item(item.id)
            if fresh.current_scenario is not None:
                return self._attach_item(fresh, "failover")
            self._check(can_failover(fresh))
            # The item's provider builds the request: an unplanned failover (classic) or a planned one (modernized).
            request = provider_for(fresh).failover_request(fresh, choice, recovery_point_id)
            intent = self._intent(
                "failover",
                fresh.id,
                fresh.friendly_name,
                recovery_point=recovery_point_id or choice.value,
                recovery_point_time=recovery_point_time,
                data_loss_seconds=data_loss_seconds,
                acknowledged_loss=acknowledged_loss,
                details={**request.journal, **(preflight or {})},
            )
            return self._send(
                intent,
                lambda: self.backend.start_item_action(fresh, request),
                lambda: self._reread_item(fresh),
                "failover",
                fresh.friendly_name,
            )

    def commit(self, item: ProtectedItem) -> Started:
        """Commit the failover (irreversible: ASR deletes the failed-over Azure VM)."""
        self._refuse_read_only("the commit")
        with self._submitting_target("commit", item.id, item.friendly_name):
            fresh = self.backend.get_item(item.id)
            if fresh.current_scenario is not None:
                return self._attach_item(fresh, "commit")
            self._check(can_commit(fresh))
            intent = self._intent("commit", fresh.id, fresh.friendly_name)
            return self._send(
                intent,
                lambda: self.backend.commit(fresh),
                lambda: self._reread_item(fresh),
                "commit",
                fresh.friendly_name,
            )

    def cancel_failover(self, item: ProtectedItem) -> Started:
        """Cancel a finished planned failover (modernized): ASR turns the Azure VM on again and resumes replication
        to AVS (MODERNIZED.md §5)."""
        self._refuse_read_only("the cancel")
        with self._submitting_target("cancel-failover", item.id, item.friendly_name):
            fresh = self.backend.get_item(item.id)
            if fresh.current_scenario is not None:
                return self._attach_item(fresh, "cancel-failover")
            self._check(can_cancel(fresh))
            request = provider_for(fresh).cancel_request(fresh)
            intent = self._intent("cancel-failover", fresh.id, fresh.friendly_name, details=dict(request.journal))
            return self._send(
                intent,
                lambda: self.backend.start_item_action(fresh, request),
                lambda: self._reread_item(fresh),
                "cancel-failover",
                fresh.friendly_name,
            )

    def reprotect(self, item: ProtectedItem, target: AnyReprotectTarget) -> Started:
        """Reprotect: classic from AVS back to Azure through the chosen process server and master target;
        modernized either way through the chosen appliance."""
        self._refuse_read_only("the reprotect")
        with self._submitting_target("reprotect", item.id, item.friendly_name):
            fresh = self.backend.get_item(item.id)
            if fresh.current_scenario is not None:
                return self._attach_item(fresh, "reprotect")
            self._check(can_reprotect(fresh))
            details: dict[str, Any] = (
                {"process_server_id": target.process_server_id, "master_target_id": target.master_target_id}
                if isinstance(target, ReprotectTarget)
                else dataclasses.asdict(target)
            )
            intent = self._intent("reprotect", fresh.id, fresh.friendly_name, details=details)
            return self._send(
                intent,
                lambda: self.backend.reprotect(fresh, target),
                lambda: self._reread_item(fresh),
                "reprotect",
                fresh.friendly_name,
            )

    # -- plan operations -----------------------------------------------------------------------------------

    def plan_failover(
        self,
        plan: RecoveryPlan,
        choice: PointChoice,
        *,
        data_loss_seconds: float | None = None,
        acknowledged_loss: bool = False,
        preflight: Mapping[str, Any] | None = None,
    ) -> Started:
        """Fail the whole plan back (Latest, or each replication group's common app-consistent point)."""
        if choice is PointChoice.CUSTOM:
            raise NotAllowedNow(
                "A plan fails back to Latest or to the latest app-consistent point, not to a custom point.",
                hint="Choose latest or app-consistent.",
            )
        self._refuse_read_only("the plan failover")
        name = plan.friendly_name or plan.name
        with self._submitting_target("plan-failover", plan.id, name):
            fresh, view = self._fresh_plan(plan)
            if fresh.current_scenario is not None:
                return self._attach_plan(fresh, "plan-failover")
            # A modernized plan fails back with a planned failover; its failback leg reports no points to read.
            modernized = plan_is_modernized(view)
            points: dict[str, list[RecoveryPoint]] = (
                {} if modernized else {m.item.name: self.backend.list_recovery_points(m.item) for m in view.members}
            )
            self._check(can_fail_over_plan(view, points))
            kind = "plannedFailover" if modernized else "unplannedFailover"
            intent = self._intent(
                "plan-failover",
                fresh.id,
                view.name,
                recovery_point=choice.value,
                data_loss_seconds=data_loss_seconds,
                acknowledged_loss=acknowledged_loss,
                details={"choice": choice.value, "kind": kind, **(preflight or {})},
            )
            send = self.backend.plan_planned_failover if modernized else self.backend.plan_unplanned_failover
            return self._send(
                intent,
                lambda: send(fresh, choice),
                lambda: self._reread_plan(fresh),
                "plan failover",
                view.name,
            )

    def plan_commit(self, plan: RecoveryPlan) -> Started:
        """Commit every VM of a failed-back plan (irreversible)."""
        self._refuse_read_only("the plan commit")
        name = plan.friendly_name or plan.name
        with self._submitting_target("plan-commit", plan.id, name):
            fresh, view = self._fresh_plan(plan)
            if fresh.current_scenario is not None:
                return self._attach_plan(fresh, "plan-commit")
            self._check(can_commit_plan(view))
            intent = self._intent("plan-commit", fresh.id, view.name)
            return self._send(
                intent,
                lambda: self.backend.plan_commit(fresh),
                lambda: self._reread_plan(fresh),
                "plan commit",
                view.name,
            )

    def plan_cancel(self, plan: RecoveryPlan) -> Started:
        """Cancel a modernized plan's finished planned failover: its VMs run in Azure again (until commit)."""
        self._refuse_read_only("the plan cancel")
        name = plan.friendly_name or plan.name
        with self._submitting_target("plan-cancel", plan.id, name):
            fresh, view = self._fresh_plan(plan)
            if fresh.current_scenario is not None:
                return self._attach_plan(fresh, "plan-cancel")
            self._check(can_cancel_plan(view))
            intent = self._intent("plan-cancel", fresh.id, view.name, details={"kind": "failoverCancel"})
            return self._send(
                intent,
                lambda: self.backend.plan_failover_cancel(fresh),
                lambda: self._reread_plan(fresh),
                "plan cancel",
                view.name,
            )

    # -- job actions ---------------------------------------------------------------------------------------

    def cancel_job(self, name: str) -> Started:
        return self._job_action(name, "cancel", lambda: self.backend.cancel_job(name))

    def restart_job(self, name: str) -> Started:
        return self._job_action(name, "restart", lambda: self.backend.restart_job(name))

    def resume_job(self, name: str, comment: str = "") -> Started:
        return self._job_action(name, "resume", lambda: self.backend.resume_job(name, comment), comment=comment)

    def _job_action(
        self, name: str, action: str, request: Callable[[], OperationHandle], *, comment: str = ""
    ) -> Started:
        operation = JOB_ACTIONS[action]
        self._refuse_read_only(f"the job {action}")
        with self._submitting_target(operation, name, name):
            job = self.backend.get_job(name)
            allowed = {a.lower() for a in job.allowed_actions}
            if action not in allowed:
                offered = ", ".join(job.allowed_actions) or "nothing"
                raise NotAllowedNow(
                    f"ASR does not allow {action} on job {job.name} ({job.title}, {job.state.word}); it allows: "
                    f"{offered}.",
                    hint="Nothing was sent. Refresh the job: someone may have acted on it meanwhile.",
                )
            details: dict[str, Any] = {"job_name": job.name}
            if comment:
                details["comment"] = comment
            target_id = job.id or job.name
            intent = self._intent(operation, target_id, job.name, details=details)
            return self._send(
                intent,
                request,
                lambda: self._reread_job(job.name, action),
                f"job {action}",
                job.name,
            )

    # -- the steps every call shares -----------------------------------------------------------------------

    def _refuse_read_only(self, what: str) -> None:
        if getattr(self.backend, "read_only", False):
            raise ReadOnlyError(f"Read-only mode: {what} was not sent.")

    @contextmanager
    def _submitting_target(self, operation: str, target_id: str, target_name: str) -> Iterator[None]:
        key = (target_id or target_name).lower()
        with self._lock:
            if key in self._submitting:
                raise NotAllowedNow(
                    f"An operation on {target_name} is already being submitted: the {operation} was not sent.",
                    hint="Nothing was sent twice. Wait for the first request's answer.",
                )
            self._submitting.add(key)
        try:
            yield
        finally:
            with self._lock:
                self._submitting.discard(key)

    @staticmethod
    def _check(verdict: Verdict) -> None:
        if not verdict.allowed:
            raise NotAllowedNow(verdict.reason, hint="Nothing was sent.")

    def _intent(self, operation: str, target_id: str, target_name: str, **fields: Any) -> str:
        if self.journal is None:
            return ""
        return self.journal.intent(
            operation, vault=self.backend.vault, target_id=target_id, target_name=target_name, **fields
        )

    def _send(
        self,
        intent_id: str,
        request: Callable[[], OperationHandle],
        reread: Callable[[], tuple[str, str, CurrentScenario | None]],
        what: str,
        target_name: str,
    ) -> Started:
        crash_point("after-intent")
        try:
            handle = request()
        except (ConnectionLost, MalformedResponse, OperationInProgress) as exc:
            # Only the target's state tells whether the request got through (a lost or unreadable answer), or
            # whose job holds the target (a 409).
            return self._settle(intent_id, exc, reread, what, target_name)
        except ServiceError as exc:
            if (exc.status or 0) >= 500:
                # A server error may come after ASR started the job: look before calling it refused.
                return self._settle(intent_id, exc, reread, what, target_name)
            self._refused(intent_id, exc, target_name)
            raise
        except FailbackError as exc:
            self._refused(intent_id, exc, target_name)
            raise
        crash_point("after-send")
        from core.rehearsal import rehearsed_for

        rehearsed = rehearsed_for(self.backend, handle.job_name)
        if self.journal is not None:
            self.journal.sent(intent_id, handle, rehearsed=rehearsed.record() if rehearsed is not None else None)
        if rehearsed is not None:
            note = (
                f"REHEARSAL: the {what} of {target_name} was not sent ({rehearsed.method} "
                f"…/{rehearsed.path.rsplit('/', 1)[-1]}); it goes on as simulated job {handle.job_name}."
            )
            return Started(handle, attached=False, note=note)
        return Started(handle, attached=False, note=f"The {what} of {target_name} was sent: job {handle.job_name}.")

    def _refused(self, intent_id: str, error: FailbackError, target_name: str) -> None:
        if not error.hint:
            action = next((d.recommended_action for d in error.details if d.recommended_action), "")
            error.hint = f"Nothing was started on {target_name}." + (f" ASR recommends: {action}" if action else "")
        if self.journal is not None:
            self.journal.refused(intent_id, error)

    def _settle(
        self,
        intent_id: str,
        error: FailbackError,
        reread: Callable[[], tuple[str, str, CurrentScenario | None]],
        what: str,
        target_name: str,
    ) -> Started:
        """After an answer that does not say whether a job started: attach to the job on the target, or refuse."""
        conflict = isinstance(error, OperationInProgress)
        unsure = isinstance(error, (ConnectionLost, MalformedResponse))
        try:
            target_id, name, scenario = reread()
        except FailbackError:
            if conflict:
                self._refused(intent_id, error, target_name)
                raise error from None
            scenario, unsure = None, True
            target_id = name = ""
        if scenario is not None and scenario.job_name:
            return self._attach_after(intent_id, error, target_id, name, scenario, what, conflict=conflict)
        if unsure:
            # Nothing runs yet, but Azure may still act on a request it received: only a later look can tell.
            lost = ConnectionLost if isinstance(error, ConnectionLost) else type(error)
            if isinstance(error, ServiceError):
                raise ServiceError(
                    f"The {what} of {target_name} may or may not have been carried out: {error.message}",
                    code=error.code,
                    status=error.status,
                    hint=RESTART_HINT,
                    details=error.details,
                    activity_id=error.activity_id,
                ) from error
            raise lost(
                f"The {what} of {target_name} may or may not have reached Azure: {error.message}",
                hint=RESTART_HINT,
                details=error.details,
            ) from error
        if isinstance(error, ServiceError) and not conflict:
            error.hint = (
                f"Azure answered with a server error and nothing runs on {target_name}: the {what} was not "
                "carried out (the journal records it as refused). Wait a minute and send it again; if it "
                "persists, give Microsoft support the activity id."
            )
        self._refused(intent_id, error, target_name)
        raise error

    def _attach_after(
        self,
        intent_id: str,
        error: FailbackError,
        target_id: str,
        name: str,
        scenario: CurrentScenario,
        what: str,
        *,
        conflict: bool,
    ) -> Started:
        if conflict:
            # ASR refused ours because another job holds the target: record the refusal, then follow that job.
            reason = f"the {what} was refused ({error.message}); job {scenario.job_name} holds {name}"
            note = (
                f"ASR refused the {what} of {name}: {scenario.name} job {scenario.job_name} started on it "
                f"meanwhile{self._since(scenario.start_time)} (another operator?). Nothing of yours runs; that job "
                "is followed instead."
            )
            if self.journal is not None:
                self.journal.refused(intent_id, error)
        else:
            reason = (
                f"the answer to the {what} was lost ({error.message}); job {scenario.job_name} now runs on "
                f"{name}: the request got through"
            )
            note = (
                f"The answer to the {what} of {name} was lost ({error.message}), but {scenario.name} job "
                f"{scenario.job_name} now runs on it{self._since(scenario.start_time)}: the request got through, and "
                "that job is followed."
            )
        if self.journal is not None:
            self.journal.attached(target_id, scenario.job_name, reason, target_name=name)
        handle = OperationHandle(
            operation=scenario_operation(scenario.name, what.replace(" ", "-")),
            job_name=scenario.job_name,
            target_id=target_id,
            target_name=name,
        )
        return Started(handle, attached=True, note=note)

    # -- fresh reads -----------------------------------------------------------------------------------------

    def _reread_item(self, item: ProtectedItem) -> tuple[str, str, CurrentScenario | None]:
        fresh = self.backend.get_item(item.id)
        return fresh.id, fresh.friendly_name, fresh.current_scenario

    def _reread_plan(self, plan: RecoveryPlan) -> tuple[str, str, CurrentScenario | None]:
        fresh = self.backend.get_plan(plan.name)
        return fresh.id, fresh.friendly_name or fresh.name, fresh.current_scenario

    def _reread_job(self, name: str, action: str) -> tuple[str, str, CurrentScenario | None]:
        job = self.backend.get_job(name)
        if not job_action_took_effect(job, action):
            return job.id, job.name, None
        return job.id or job.name, job.name, CurrentScenario(job.scenario_name, job.name, job.id, job.start_time)

    def _fresh_plan(self, plan: RecoveryPlan) -> tuple[RecoveryPlan, PlanView]:
        fresh = self.backend.get_plan(plan.name)
        members: list[ProtectedItem] = []
        for item_id in fresh.item_ids:
            try:
                members.append(self.backend.get_item(item_id))
            except NotFound:
                continue  # plan_view lists it as missing, and the plan guards refuse with its name
        return fresh, plan_view(fresh, members)

    # -- attaching -------------------------------------------------------------------------------------------

    def _attach_item(self, item: ProtectedItem, requested: str) -> Started:
        scenario = item.current_scenario
        assert scenario is not None
        return self._attach(item.id, item.friendly_name, scenario, requested)

    def _attach_plan(self, plan: RecoveryPlan, requested: str) -> Started:
        scenario = plan.current_scenario
        assert scenario is not None
        return self._attach(plan.id, plan.friendly_name or plan.name, scenario, requested)

    def _attach(self, target_id: str, target_name: str, scenario: CurrentScenario, requested: str) -> Started:
        job_label = self._job_label(scenario)
        who = self._who_started(scenario.job_name)
        by = (
            f", started by {who}"
            if who
            else ", not started from this journal (another operator, the portal or a script)"
        )
        origin = f"started by {who}" if who else "started outside this journal"
        note = (
            f"{job_label} ({scenario.job_name}) is already running on {target_name}"
            f"{self._since(scenario.start_time)}{by}. "
            f"Nothing was sent: the {requested} was not started, and that job is followed instead."
        )
        if self.journal is not None:
            self.journal.attached(
                target_id,
                scenario.job_name,
                f"already running when a {requested} was asked for; {origin}",
                target_name=target_name,
            )
        handle = OperationHandle(
            operation=scenario_operation(scenario.name, requested),
            job_name=scenario.job_name,
            target_id=target_id,
            target_name=target_name,
        )
        return Started(handle, attached=True, note=note)

    def _since(self, moment: datetime | None) -> str:
        """' since 2026-11-25T14:02:31.000Z (3 minutes ago)', the age on the backend's clock (simulated in the demo)."""
        if moment is None or moment.year < 1900:
            return ""
        text = f" since {format_ts(moment)}"
        if self.clock is not None:
            seconds = (self.clock.now() - moment).total_seconds()
            if seconds >= 1:
                text += f" ({duration(seconds)} ago)"
        return text

    def _job_label(self, scenario: CurrentScenario) -> str:
        """The job's friendly name ("Failover"), read from ASR; the scenario name when the read fails."""
        try:
            job = self.backend.get_job(scenario.job_name)
        except FailbackError:
            # Only the wording depends on it: the attach itself must not fail because this read did.
            return f"A {scenario.name} job"
        return f"The job {job.friendly_name or job.scenario_name or scenario.name!r}"

    def _who_started(self, job_name: str) -> str:
        if self.journal is None or not job_name:
            return ""
        for record in reversed(self.journal.entries()):
            if record.get("kind") == "sent" and record.get("job_name") == job_name:
                return _person(record)
        return ""


def job_action_took_effect(job: Job, action: str) -> bool:
    """Whether the job's state shows that a cancel, restart or resume reached ASR."""
    if action == "cancel":
        return job.state is JobState.CANCELLED or (job.is_running and "cancel" in job.state_description.lower())
    return job.state in (JobState.IN_PROGRESS, JobState.NOT_STARTED)


def _person(record: Mapping[str, Any]) -> str:
    who = str(record.get("who") or record.get("user") or "someone")
    host = str(record.get("host") or "")
    when = str(record.get("ts") or "")
    text = f"{who}@{host}" if host else who
    return f"{text} at {when}" if when else text


__all__ = [
    "CRASH_ENV",
    "CRASH_POINTS",
    "JOB_ACTIONS",
    "Operations",
    "Started",
    "crash_point",
    "job_action_took_effect",
    "scenario_operation",
]
