"""After a dropped session: find what the journal left in flight, re-attach to its jobs, and close what never left."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from core.backend import Backend
from core.errors import NotFound
from core.journal import InFlight, Journal, format_ts
from core.model import CurrentScenario, Job, JobFilter
from core.operations import JOB_ACTIONS, job_action_took_effect, scenario_operation
from core.tracker import JobTracker

RE_ATTACHED = "re-attached"
ATTACHED_TO_RUNNING = "attached-to-running"
ABANDONED = "abandoned"

# A job ASR started for our request carries ASR's clock; the intent carries ours. Jobs that started this long
# before the intent still count as its job, so a skewed local clock does not hide one that ran and finished.
CLOCK_MARGIN = timedelta(minutes=5)

NEVER_REACHED = "the request never reached Azure: nothing is running on the item"


@dataclass(frozen=True)
class Resumed:
    """What resume did about one operation the journal had in flight."""

    target_name: str
    job_name: str | None
    how: str  # re-attached | attached-to-running | abandoned
    text: str  # one sentence for the operator
    operation: str = ""
    target_id: str = ""
    intent_id: str = ""


def resume(backend: Backend, journal: Journal, tracker: JobTracker) -> list[Resumed]:
    """Resolve every operation of this vault that the journal left in flight, oldest first.

    Known job → tracked again. Intent without a job → the target is read: a job running there (or one that ran
    for this request since it was written) is tracked — the request got through; otherwise the intent is
    abandoned, so the operator can send it again knowingly. Entries of other vaults are left for their own
    resume. Reads only: nothing is ever sent from here. Errors other than a vanished target propagate (the
    journal stays as it was for the entries not yet resolved, and resume can simply run again).
    """
    vault = backend.vault.arm_id.lower()
    results: list[Resumed] = []
    for entry in journal.in_flight():
        if entry.vault and entry.vault.lower() != vault:
            continue
        if entry.job_name:
            results.append(_reattach(journal, tracker, entry, entry.job_name))
        else:
            results.append(_resolve(backend, journal, tracker, entry))
    return results


def _reattach(journal: Journal, tracker: JobTracker, entry: InFlight, job_name: str) -> Resumed:
    tracker.track(job_name)
    journal.attached(entry.target_id, job_name, "resumed")
    what = entry.operation if entry.operation != "attach" else "job"
    since = f" (sent {format_ts(entry.sent_at)})" if entry.sent_at else ""
    return Resumed(
        target_name=entry.target_name,
        job_name=job_name,
        how=RE_ATTACHED,
        text=f"Following the {what} of {entry.target_name} again: job {job_name}{since}.",
        operation=entry.operation,
        target_id=entry.target_id,
        intent_id=entry.intent_id,
    )


def _resolve(backend: Backend, journal: Journal, tracker: JobTracker, entry: InFlight) -> Resumed:
    """An intent written without its outcome: look at the target to learn whether the request got through."""
    action = next((a for a, op in JOB_ACTIONS.items() if op == entry.operation), None)
    try:
        if action is not None:
            found, absent_reason = _job_action_outcome(backend, journal, entry, action)
        elif entry.operation.startswith("plan-"):
            plan = backend.get_plan(_last_segment(entry.target_id) or entry.target_name)
            found = _running_or_since(backend, entry, plan.current_scenario, (plan.name, plan.friendly_name))
            absent_reason = "the request never reached Azure: nothing is running on the plan"
        else:
            item = backend.get_item(entry.target_id)
            found = _running_or_since(backend, entry, item.current_scenario, (item.friendly_name, item.name))
            absent_reason = NEVER_REACHED
    except NotFound as exc:
        found = None
        absent_reason = f"the target no longer exists in the vault ({exc.message})"
    if found is None:
        journal.abandon(entry.intent_id, absent_reason)
        return Resumed(
            target_name=entry.target_name,
            job_name=None,
            how=ABANDONED,
            text=(
                f"The {entry.operation} of {entry.target_name} was not sent: {absent_reason}. Check the "
                "target and send it again if it is still needed."
            ),
            operation=entry.operation,
            target_id=entry.target_id,
            intent_id=entry.intent_id,
        )
    job_name, state = found
    tracker.track(job_name)
    journal.attached(entry.target_id, job_name, f"resumed: the {entry.operation} got through (job {state})")
    return Resumed(
        target_name=entry.target_name,
        job_name=job_name,
        how=ATTACHED_TO_RUNNING,
        text=(f"The {entry.operation} of {entry.target_name} did reach Azure: following job {job_name} ({state})."),
        operation=entry.operation,
        target_id=entry.target_id,
        intent_id=entry.intent_id,
    )


def _running_or_since(
    backend: Backend, entry: InFlight, scenario: CurrentScenario | None, names: tuple[str, ...]
) -> tuple[str, str] | None:
    """(job name, state word) of the job the request started, whether it still runs or already ended."""
    if scenario is not None and scenario.job_name:
        return scenario.job_name, "running"
    if entry.sent_at is None:
        return None
    # The session may have been gone for longer than the job took: nothing runs now, yet the request worked.
    since = entry.sent_at - CLOCK_MARGIN
    wanted = {n.lower() for n in names if n}
    operation = entry.operation.removeprefix("plan-")
    for job in backend.list_jobs(JobFilter(start_time=since)):
        if _is_job_for(job, wanted, operation, since):
            return job.name, job.state.word.lower()
    return None


def _is_job_for(job: Job, names: set[str], operation: str, since: datetime) -> bool:
    if job.start_time is not None and job.start_time < since:
        return False
    target = {job.target_object_name.lower(), job.target_object_id.lower()} - {""}
    if not target & names:
        return False
    return scenario_operation(job.scenario_name) == operation


def _job_action_outcome(
    backend: Backend, journal: Journal, entry: InFlight, action: str
) -> tuple[tuple[str, str] | None, str]:
    name = _intent_field(journal, entry.intent_id, "job_name") or entry.target_name
    job = backend.get_job(name)
    if job_action_took_effect(job, action):
        return (job.name, job.state.word.lower()), ""
    return None, f"nothing shows that the {action} reached Azure: job {job.name} is {job.state.word.lower()}"


def _intent_field(journal: Journal, intent_id: str, key: str) -> str:
    for record in journal.entries():
        if record.get("kind") == "intent" and record.get("intent") == intent_id:
            details: Any = record.get("details") or {}
            return str(details.get(key) or "") if isinstance(details, dict) else ""
    return ""


def _last_segment(arm_id: str) -> str:
    return arm_id.rstrip("/").rsplit("/", 1)[-1] if "/" in arm_id else ""


__all__ = ["ABANDONED", "ATTACHED_TO_RUNNING", "RE_ATTACHED", "Resumed", "resume"]
