"""The failback workflow: the stage of each item, which step is allowed next, and the guards before sending."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.errors import NotFound, UsageError
from core.model import Job, JobState, ProtectedItem, Provider, Stage

# ASR's AVS failback tutorial: the mobility agent needs up to 15 minutes to register back after the AVS VM
# boots; a reprotect sent before that fails with an "agent isn't installed" error.
AGENT_REGISTRATION_WINDOW = timedelta(minutes=15)

_FAILOVER_SCENARIOS = {"unplannedfailover", "failover", "plannedfailover"}
_COMMIT_SCENARIOS = {"commitfailover", "commit", "failovercommit"}
_REPROTECT_SCENARIOS = {
    "switchreplicationgroupprotection",
    "switchprotection",
    "reversereplicate",
    "reprotect",
}

# protectionState values (ASR exposes its internal state-machine names) that mean "failover done, commit pending".
_COMMIT_PENDING_STATES = {"unplannedfailovercommitpendingstatesbegin", "plannedfailovercommitpendingstatesbegin"}
_PROTECTED_STATES = {"protected", "protectedstatesbegin"}
_REPROTECT_OPS = ("ReverseReplicate", "SwitchProtection")

_MODERNIZED_NOTE = (
    "This item uses the modernized replication appliance (InMageRcm). The classic failback steps of this "
    "tool do not apply to it: use the Azure portal or Az.RecoveryServices for modernized items."
)


@dataclass(frozen=True)
class Verdict:
    """Whether an action may be sent now; `reason` says why not (and what to do), or what it will do."""

    allowed: bool
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


def _norm(value: str) -> str:
    return value.replace(" ", "").replace("_", "").replace("-", "").lower()


def _running_stage(item: ProtectedItem) -> Stage | None:
    scenario = item.current_scenario
    if scenario is None:
        return None
    name = _norm(scenario.name)
    if name in _FAILOVER_SCENARIOS:
        return Stage.FAILOVER_RUNNING
    if name in _COMMIT_SCENARIOS:
        return Stage.COMMIT_RUNNING
    if name in _REPROTECT_SCENARIOS:
        return Stage.REPROTECT_RUNNING
    return None


def _is_commit_pending(item: ProtectedItem) -> bool:
    state = _norm(item.protection_state)
    if state in _COMMIT_PENDING_STATES:
        return True
    return item.allows("Commit") and item.active_location.lower() == "recovery"


def _is_committed(item: ProtectedItem) -> bool:
    if any(item.allows(op) for op in _REPROTECT_OPS):
        return True
    state = _norm(item.protection_state)
    return "committed" in state and "pending" not in state


def _not_ready_reason(item: ProtectedItem) -> str | None:
    """Why an item that is neither running nor past failover cannot be failed back; None when it can."""
    state = _norm(item.protection_state)
    described = item.protection_state_description or item.protection_state or "unknown"
    if state == "enablingfailed":
        return "Enabling replication failed. Fix the health errors, then enable replication again."
    if "enabling" in state or state.startswith("unprotected"):
        return "Replication is being enabled; wait for the initial replication to finish."
    if "initial" in state:
        return "Initial replication is still running; failback needs it to finish and a recovery point."
    if "resync" in state:
        return "Resynchronisation is running; wait for it to finish before failing back."
    if not state:
        return "ASR reports no protection state for this item yet; refresh in a minute."
    if state not in _PROTECTED_STATES:
        return f"ASR reports the state {described!r}, which is not a failback step this tool knows."
    return None


def _is_failback_leg(item: ProtectedItem) -> bool:
    return item.instance_type == "InMage" and item.active_site_type.lower() == "azure"


def derive_stage(item: ProtectedItem) -> Stage:
    """The item's stage, from ASR's fields only. Never raises, whatever strings ASR sends."""
    running = _running_stage(item)
    if running is not None:
        return running
    if _is_commit_pending(item):
        return Stage.FAILED_OVER
    if _is_committed(item):
        return Stage.COMMITTED
    if _not_ready_reason(item) is not None:
        return Stage.NOT_READY
    if item.instance_type in ("InMageAzureV2", "InMageRcm"):
        return Stage.PROTECTED_TO_AZURE
    if _is_failback_leg(item) or item.instance_type == "InMageRcmFailback":
        if item.last_recovery_point_time is None:
            return Stage.NOT_READY
        return Stage.READY
    return Stage.NOT_READY


def stage_reason(item: ProtectedItem) -> str:
    """NOT_READY: why, in plain words. Other stages: what happens next."""
    stage = derive_stage(item)
    suffix = f" {_MODERNIZED_NOTE}" if item.provider is Provider.MODERNIZED else ""
    if stage is Stage.NOT_READY:
        reason = _not_ready_reason(item)
        if reason is None:
            if _is_failback_leg(item) or item.instance_type == "InMageRcmFailback":
                reason = (
                    "No recovery point has reached the AVS side yet; wait for replication from Azure to produce one."
                )
            elif item.instance_type == "InMage":
                reason = "This item replicates towards Azure, not back to AVS: there is nothing to fail back."
            else:
                kind = item.instance_type or "unknown"
                reason = f"Items of type {kind!r} are not part of the AVS failback path."
        return reason + suffix
    running = item.current_scenario
    texts = {
        Stage.READY: "Replicating from Azure to AVS with a recovery point: ready to fail back.",
        Stage.FAILOVER_RUNNING: "The failover job is running; the VM starts in AVS when it ends.",
        Stage.FAILED_OVER: ("The VM runs in AVS. Verify the applications and that the Azure VM is off, then commit."),
        Stage.COMMIT_RUNNING: "The commit job is running; it deletes the failed-over Azure VM.",
        Stage.COMMITTED: ("Committed. The AVS VM is not protected: reprotect it to Azure (choose the process server)."),
        Stage.REPROTECT_RUNNING: "The reprotect job is running; initial replication to Azure follows.",
        Stage.PROTECTED_TO_AZURE: "Replicating from AVS to Azure again: failback is complete.",
    }
    text = texts[stage]
    if running is not None and stage in (Stage.FAILOVER_RUNNING, Stage.COMMIT_RUNNING, Stage.REPROTECT_RUNNING):
        text += f" Job {running.job_name}."
    return text + suffix


def _running_job_verdict(item: ProtectedItem) -> Verdict | None:
    scenario = item.current_scenario
    if scenario is None:
        return None
    return Verdict(
        False,
        f"A {scenario.name} job ({scenario.job_name}) is already running on {item.friendly_name}. "
        "Wait for it to finish (see `jobs`), or follow it instead of starting another.",
    )


def _modernized_verdict(item: ProtectedItem) -> Verdict | None:
    if item.provider is Provider.CLASSIC:
        return None
    if item.provider is Provider.MODERNIZED:
        return Verdict(False, _MODERNIZED_NOTE)
    kind = item.instance_type or "unknown"
    return Verdict(False, f"Items of type {kind!r} are not part of the AVS failback path.")


def can_failover(item: ProtectedItem) -> Verdict:
    """Whether the failback failover (Azure → AVS) may be sent for this item now."""
    for blocker in (_modernized_verdict(item), _running_job_verdict(item)):
        if blocker is not None:
            return blocker
    stage = derive_stage(item)
    if stage is not Stage.READY:
        return Verdict(False, f"{item.friendly_name} is not ready to fail back: {stage_reason(item)}")
    if item.last_recovery_point_time is None:
        return Verdict(False, "No recovery point exists yet; wait for replication to produce one.")
    if item.consistency_group:
        return Verdict(
            False,
            f"{item.friendly_name} belongs to the replication group {item.consistency_group!r}: fail back "
            "its recovery plan instead, so the group's VMs recover together.",
        )
    if not item.allows("UnplannedFailover"):
        return Verdict(
            False,
            "ASR does not offer failover for this item right now (UnplannedFailover is not among its allowed "
            "operations). Refresh, and check its health errors.",
        )
    target = item.recovery_fabric_friendly_name or "the AVS private cloud"
    return Verdict(
        True,
        f"Fails {item.friendly_name} over from Azure to {target}: ASR shuts the Azure VM down and starts "
        "the VM in AVS." + _health_note(item),
    )


def _health_note(item: ProtectedItem) -> str:
    """ASR still allows the failover with poor health, but the operator should know before choosing."""
    poor = [
        f"{what} health is {value}"
        for what, value in (("replication", item.replication_health), ("failover", item.failover_health))
        if value and value.lower() not in ("normal", "none")
    ]
    if not poor:
        return ""
    note = f" Note: {' and '.join(poor)}"
    first = item.health_errors[0] if item.health_errors else None
    if first is not None and first.message:
        note += f" ({first.message.rstrip('.')})"
    return note + "."


def can_commit(item: ProtectedItem) -> Verdict:
    """Whether the commit (irreversible: deletes the failed-over Azure VM) may be sent now."""
    for blocker in (_modernized_verdict(item), _running_job_verdict(item)):
        if blocker is not None:
            return blocker
    stage = derive_stage(item)
    if stage is not Stage.FAILED_OVER:
        return Verdict(False, f"Commit follows a completed failover; {item.friendly_name} is at: {stage.label}.")
    if not item.allows("Commit"):
        return Verdict(
            False,
            "ASR does not offer commit for this item right now (Commit is not among its allowed operations). "
            "Refresh in a minute.",
        )
    return Verdict(
        True,
        f"Commits the failover of {item.friendly_name}: ASR deletes the failed-over Azure VM. This cannot be undone.",
    )


def can_reprotect(item: ProtectedItem) -> Verdict:
    """Whether reprotect (AVS → Azure) may be sent now."""
    for blocker in (_modernized_verdict(item), _running_job_verdict(item)):
        if blocker is not None:
            return blocker
    stage = derive_stage(item)
    if stage is not Stage.COMMITTED:
        return Verdict(False, f"Reprotect follows the commit; {item.friendly_name} is at: {stage.label}.")
    if not any(item.allows(op) for op in _REPROTECT_OPS):
        return Verdict(
            False,
            "ASR does not offer reprotect for this item right now (neither ReverseReplicate nor "
            "SwitchProtection is allowed). Refresh in a minute.",
        )
    return Verdict(
        True,
        f"Reprotects {item.friendly_name} from AVS to Azure through the chosen process server; initial "
        "replication to Azure follows.",
    )


def next_step(item: ProtectedItem) -> str:
    """A short label for the operator's next action, or "" when there is none."""
    if item.provider is not Provider.CLASSIC:
        return ""
    stage = derive_stage(item)
    if stage is Stage.READY:
        if item.consistency_group and item.allows("UnplannedFailover") and item.current_scenario is None:
            return "Fail back its recovery plan"
        return "Fail back" if can_failover(item).allowed else ""
    if stage is Stage.FAILED_OVER:
        return "Verify, then commit"
    if stage is Stage.COMMITTED:
        return "Reprotect"
    if stage in (Stage.FAILOVER_RUNNING, Stage.COMMIT_RUNNING, Stage.REPROTECT_RUNNING):
        return "Wait for the job"
    return ""


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
