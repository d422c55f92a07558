"""The failback workflow: the stage of each item, which step is allowed next, and the guards before sending."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from core.errors import NotFound, UsageError
from core.model import Job, JobState, ProtectedItem, Stage
from core.providers import Verb, Verdict, provider_for

__all__ = ["Verdict"]

# ASR's AVS failback tutorial: the mobility agent needs up to 15 minutes to register back after the AVS VM
# boots; a reprotect sent before that fails with an "agent isn't installed" error.
AGENT_REGISTRATION_WINDOW = timedelta(minutes=15)


def derive_stage(item: ProtectedItem) -> Stage:
    """The item's stage, from ASR's fields only. Never raises, whatever strings ASR sends."""
    return provider_for(item).stage(item)


def stage_reason(item: ProtectedItem) -> str:
    """NOT_READY: why, in plain words. Other stages: what happens next."""
    return provider_for(item).stage_reason(item)


def can_failover(item: ProtectedItem) -> Verdict:
    """Whether the failback failover (Azure → AVS) may be sent for this item now."""
    return provider_for(item).verdict(item, Verb.FAILOVER)


def can_cancel(item: ProtectedItem) -> Verdict:
    """Whether a finished planned failover may be cancelled now (modernized only; classic says why not)."""
    return provider_for(item).verdict(item, Verb.CANCEL)


def can_commit(item: ProtectedItem) -> Verdict:
    """Whether the commit (irreversible: deletes the failed-over Azure VM) may be sent now."""
    return provider_for(item).verdict(item, Verb.COMMIT)


def can_reprotect(item: ProtectedItem) -> Verdict:
    """Whether reprotect may be sent now (classic: AVS → Azure; modernized: either way, by where the VM runs)."""
    return provider_for(item).verdict(item, Verb.REPROTECT)


def next_step(item: ProtectedItem) -> str:
    """A short label for the operator's next action, or "" when there is none."""
    return provider_for(item).next_step(item)


_AGENT_PHRASES = (
    "isn't installed",
    "is not installed",
    "not installed",
    "isn't registered",
    "is not registered",
    "not registered",
    "hasn't registered",
    "has not registered",
    "not yet registered",
)


def _mentions_agent_not_ready(text: str) -> bool:
    lowered = " ".join(text.replace("\u2019", "'").lower().split())
    if "agent" not in lowered and "mobility" not in lowered:
        return False
    return any(phrase in lowered for phrase in _AGENT_PHRASES)


def is_agent_registration_failure(job: Job) -> bool:
    """True when the job failed because the mobility agent has not registered back yet (retry later)."""
    details = list(job.errors)
    pending = list(job.tasks)
    while pending:
        task = pending.pop()
        details.extend(task.errors)
        pending.extend(task.child_tasks)
    for detail in details:
        texts = (detail.message, detail.provider_message, detail.possible_causes)
        if any(_mentions_agent_not_ready(text) for text in texts if text):
            return True
    return False


def agent_window(item: ProtectedItem, now: datetime) -> tuple[float, float] | None:
    """(seconds since the VM booted in AVS, seconds left of the agent-registration window), or None when the boot
    time is not known.

    The boot time is the item's lastSuccessfulFailoverTime (ReplicationProtectedItemProperties.
    last_successful_failover_time in the SDK: "The Last successful failover time"): the failback failover ends by
    starting the VM in AVS. The seconds left are never below zero.
    """
    booted = item.last_successful_failover_time
    if booted is None:
        return None
    since = max(0.0, (now - booted).total_seconds())
    return since, max(0.0, AGENT_REGISTRATION_WINDOW.total_seconds() - since)


def agent_window_words(item: ProtectedItem, now: datetime) -> str:
    """The agent-registration window for this VM, in words, before a reprotect."""
    from core.recovery import duration

    minutes = int(AGENT_REGISTRATION_WINDOW.total_seconds() // 60)
    name = item.friendly_name or item.name
    window = agent_window(item, now)
    if window is None:
        return (
            f"When {name} booted in AVS is not known. For up to {minutes} minutes after a VM boots in AVS, ASR "
            "refuses reprotect until its mobility agent registers; the tool then retries on its own, on a countdown "
            "you can stop."
        )
    since, left = window
    if left <= 0:
        return (
            f"{name} booted in AVS {duration(since)} ago: its mobility agent's {minutes}-minute registration window "
            "is over."
        )
    return (
        f"{name} booted in AVS {duration(since)} ago: its mobility agent's registration window ends in about "
        f"{duration(left)}. Until then ASR may refuse the reprotect; the tool retries on its own, on a countdown you "
        "can stop."
    )


def expected_failure(job: Job) -> str:
    """Why a failed job was expected ("" when it was not): a reprotect refused inside the agent-registration window.

    Shown beside its state, so that a failure the tool rides out by retrying does not read as one to act on.
    """
    if job.state is JobState.FAILED and is_agent_registration_failure(job):
        minutes = int(AGENT_REGISTRATION_WINDOW.total_seconds() // 60)
        return f"the mobility agent had not registered yet (normal up to {minutes} minutes after the VM boots in AVS)"
    return ""


def resolve_item(items: Iterable[ProtectedItem], ref: str) -> ProtectedItem:
    """Find an item by friendly name, item name or ARM id (case-insensitive)."""
    wanted = ref.strip().lower()
    if not wanted:
        raise UsageError("No item given.", hint="Name an item by its friendly name, item name or ARM id.")
    pool = list(items)
    by_id = [i for i in pool if i.id.lower() == wanted]
    if by_id:
        return by_id[0]
    matches = [i for i in pool if i.name.lower() == wanted or i.friendly_name.lower() == wanted]
    unique = {i.id.lower(): i for i in matches}
    if len(unique) == 1:
        return next(iter(unique.values()))
    if len(unique) > 1:
        raise UsageError(
            f"{ref!r} matches {len(unique)} items:",
            listing=tuple(f"{i.friendly_name}  {i.id}" for i in unique.values()),
            hint="Name the item by its ARM id (shown above) to pick one.",
        )
    raise NotFound(f"No replicated item named {ref!r} in this vault.")
