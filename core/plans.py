"""Plan-level failback: a recovery plan's members, boot groups and consistency groups, its guards, and reprotect."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from core.backend import Backend
from core.clock import Clock, SystemClock
from core.errors import (
    AuthenticationError,
    ConnectionLost,
    FailbackError,
    JobFailed,
    NotFound,
    OperationInProgress,
    ReadOnlyError,
    Throttled,
    UsageError,
)
from core.failback import (
    AGENT_REGISTRATION_WINDOW,
    Verdict,
    can_reprotect,
    derive_stage,
    is_agent_registration_failure,
)
from core.model import (
    ErrorDetail,
    Job,
    JobState,
    JobTask,
    PlanAction,
    PlanGroup,
    PointChoice,
    ProtectedItem,
    Provider,
    RecoveryPlan,
    RecoveryPoint,
    ReprotectTarget,
    Stage,
)
from core.recovery import GroupPoints, PointOption, duration, format_time, group_points
from core.tracker import JobTracker

if TYPE_CHECKING:
    # core.operations builds on this module's plan guards: imported when a PlanReprotect is made, not here
    from core.operations import Operations

# After the last agent-registration failure inside the documented window, one more try is worth it: the
# window is "up to 15 minutes" from boot, and the first reprotect is usually sent a little after boot.
AGENT_WINDOW_MARGIN = timedelta(minutes=5)
# Transient failures while sending a reprotect (network, throttling, a 409) are retried this many times.
MAX_SEND_ERRORS = 3
# Consecutive failed job reads (other than throttling) after which waiting longer is pointless.
MAX_POLL_ERRORS = 5


@dataclass(frozen=True)
class PlanMember:
    item: ProtectedItem
    group_index: int  # 0-based position of its boot group (ASR's "Group 1" is 0)
    stage: Stage

    @property
    def name(self) -> str:
        return self.item.friendly_name


@dataclass(frozen=True)
class BootGroup:
    """One boot group of the plan, in boot order, with its members and the actions around it."""

    index: int
    label: str
    members: tuple[PlanMember, ...]
    start_actions: tuple[PlanAction, ...] = ()
    end_actions: tuple[PlanAction, ...] = ()

    @property
    def manual_actions(self) -> tuple[PlanAction, ...]:
        return tuple(a for a in (*self.start_actions, *self.end_actions) if _is_manual(a))


@dataclass(frozen=True)
class PlanView:
    plan: RecoveryPlan
    members: tuple[PlanMember, ...]
    groups: tuple[BootGroup, ...]
    consistency_groups: dict[str, tuple[str, ...]]  # named replication group → its members' friendly names
    stage_counts: tuple[tuple[Stage, int], ...]  # in Stage order, only stages present
    running_job_name: str = ""
    missing_item_ids: tuple[str, ...] = ()  # listed by the plan, absent from the vault's items

    @property
    def name(self) -> str:
        return self.plan.friendly_name or self.plan.name

    @property
    def stage(self) -> Stage | None:
        """The stage every member shares, or None when they differ (or the plan is empty)."""
        return self.stage_counts[0][0] if len(self.stage_counts) == 1 else None

    @property
    def stage_summary(self) -> str:
        """ "5 VMs: 3 Ready, 2 Verify/commit"; "5 VMs, all Ready"; plus the running job when there is one."""
        total = len(self.members)
        if not total:
            text = "No VMs"
        elif self.stage is not None:
            text = f"{total} VM{'s' if total != 1 else ''}, all {self.stage.short}"
        else:
            text = f"{total} VMs: " + ", ".join(f"{n} {stage.short}" for stage, n in self.stage_counts)
        if self.running_job_name:
            text += f"; job {self.running_job_name} running"
        return text


def _is_manual(action: PlanAction) -> bool:
    return "manual" in action.kind.lower()


def _is_boot(group: PlanGroup) -> bool:
    return group.group_type.lower() == "boot" or bool(group.item_ids)


def plan_view(plan: RecoveryPlan, items: Sequence[ProtectedItem]) -> PlanView:
    """The plan with its members resolved from `items` (the vault's items, or just the plan's)."""
    by_id = {i.id.lower(): i for i in items}
    members: list[PlanMember] = []
    groups: list[BootGroup] = []
    missing: list[str] = []
    for group in (g for g in plan.groups if _is_boot(g)):
        index = len(groups)
        in_group = []
        for item_id in group.item_ids:
            item = by_id.get(item_id.lower())
            if item is None:
                missing.append(item_id)
                continue
            member = PlanMember(item=item, group_index=index, stage=derive_stage(item))
            in_group.append(member)
            members.append(member)
        groups.append(
            BootGroup(
                index=index,
                label=f"Group {index + 1}",
                members=tuple(in_group),
                start_actions=group.start_actions,
                end_actions=group.end_actions,
            )
        )
    consistency: dict[str, list[str]] = {}
    for member in members:
        if member.item.consistency_group:
            consistency.setdefault(member.item.consistency_group, []).append(member.name)
    counts = {stage: sum(1 for m in members if m.stage is stage) for stage in Stage}
    running = plan.current_scenario.job_name if plan.current_scenario else ""
    return PlanView(
        plan=plan,
        members=tuple(members),
        groups=tuple(groups),
        consistency_groups={k: tuple(v) for k, v in consistency.items()},
        stage_counts=tuple((s, n) for s, n in counts.items() if n),
        running_job_name=running,
        missing_item_ids=tuple(missing),
    )


def _points_for(item: ProtectedItem, points_by_item: Mapping[str, Sequence[RecoveryPoint]]) -> Sequence[RecoveryPoint]:
    """Points keyed by item name; the ARM id and the friendly name are accepted too."""
    for key in (item.name, item.id, item.friendly_name):
        if key in points_by_item:
            return points_by_item[key]
    return ()


def _names(members: Iterable[PlanMember]) -> str:
    return ", ".join(m.name for m in members)


def _plan_busy(view: PlanView) -> Verdict | None:
    if view.running_job_name:
        scenario = view.plan.current_scenario
        what = scenario.name if scenario else "A"
        return Verdict(
            False,
            f"A {what} job ({view.running_job_name}) is already running on the plan {view.name}. Wait for it to "
            "finish (see `jobs`), or follow it instead of starting another.",
        )
    busy = [m for m in view.members if m.item.current_scenario is not None]
    if busy:
        jobs = ", ".join(f"{m.name} ({m.item.running_job_name})" for m in busy)
        return Verdict(False, f"Jobs are running on VMs of the plan: {jobs}. Wait for them to finish first.")
    return None


def _plan_shape(view: PlanView) -> Verdict | None:
    if view.missing_item_ids:
        names = ", ".join(i.rsplit("/", 1)[-1] for i in view.missing_item_ids)
        return Verdict(
            False,
            f"The plan lists items the vault does not have (any more): {names}. Edit the plan, then retry.",
        )
    if not view.members:
        return Verdict(False, f"The plan {view.name} holds no VM.")
    if plan_kind(view) is None:
        # A classic failback is an unplanned failover, a modernized one a planned failover: one plan failover
        # cannot be both (MODERNIZED.md §9). What ASR answers to either call on a mixed plan is UNCONFIRMED.
        modernized = [m for m in view.members if m.item.provider is Provider.MODERNIZED]
        other = [m for m in view.members if m.item.provider is Provider.OTHER]
        if other:
            return Verdict(
                False,
                f"{_names(other)} replicate with a stack this tool does not fail back: fail the plan over from "
                "the Azure portal, or take these VMs out of it.",
            )
        return Verdict(
            False,
            f"{view.name} holds classic VMs and modernized ones ({_names(modernized)}): a classic failback is an "
            "unplanned failover and a modernized one a planned failover, so one plan failover cannot send both. "
            "Fail the modernized VMs back one by one (f on each, or `avs-failback failover VM`), or split the plan.",
        )
    return None


def plan_kind(view: PlanView) -> Provider | None:
    """The replication stack every VM of the plan shares, or None when they differ (or the plan is empty)."""
    kinds = {m.item.provider for m in view.members}
    return kinds.pop() if len(kinds) == 1 else None


def plan_is_modernized(view: PlanView) -> bool:
    return plan_kind(view) is Provider.MODERNIZED


def can_fail_over_plan(view: PlanView, points_by_item: Mapping[str, Sequence[RecoveryPoint]]) -> Verdict:
    """Whether the plan failback may be sent: every VM ready with a recovery point, nothing running."""
    for blocker in (_plan_shape(view), _plan_busy(view)):
        if blocker is not None:
            return blocker
    not_ready = [m for m in view.members if m.stage is not Stage.READY]
    if not_ready:
        listed = "; ".join(f"{m.name}: {m.stage.label}" for m in not_ready)
        return Verdict(False, f"Not every VM of {view.name} is ready to fail back ({listed}).")
    if plan_is_modernized(view):
        return _can_plan_planned_failover(view)
    pointless = [m for m in view.members if not _points_for(m.item, points_by_item)]
    if pointless:
        return Verdict(
            False,
            f"No recovery point yet for {_names(pointless)}: a plan fails back only when every VM has one. Wait "
            "for replication to produce them.",
        )
    refused = [m for m in view.members if not m.item.allows("UnplannedFailover")]
    if refused:
        return Verdict(
            False,
            f"ASR does not offer failover for {_names(refused)} right now. Refresh, and check their health errors.",
        )
    if view.plan.allowed_operations and "UnplannedFailover" not in view.plan.allowed_operations:
        return Verdict(False, f"ASR does not offer failover for the plan {view.name} right now. Refresh in a minute.")
    groups = len(view.groups)
    return Verdict(
        True,
        f"Fails the {len(view.members)} VMs of {view.name} over from Azure to AVS, boot group by boot group "
        f"({groups} group{'s' if groups != 1 else ''}): ASR shuts the Azure VMs down and starts them in AVS.",
    )


def _can_plan_planned_failover(view: PlanView) -> Verdict:
    """A modernized plan: the failback leg reports no recovery point (ASR makes it when the job starts), so ASR
    offering the planned failover on every VM is the sign (MODERNIZED.md §9, §10)."""
    refused = [m for m in view.members if not m.item.allows("PlannedFailover")]
    if refused:
        return Verdict(
            False,
            f"ASR does not offer the planned failover for {_names(refused)} right now. Refresh, and check their "
            "health errors and the replication appliance.",
        )
    if view.plan.allowed_operations and "PlannedFailover" not in view.plan.allowed_operations:
        return Verdict(
            False, f"ASR does not offer the planned failover for the plan {view.name} right now. Refresh in a minute."
        )
    groups = len(view.groups)
    return Verdict(
        True,
        f"Fails the {len(view.members)} VMs of {view.name} back from Azure to AVS with a planned failover, boot "
        f"group by boot group ({groups} group{'s' if groups != 1 else ''}): ASR copies the last changes, makes "
        "the point, shuts the Azure VMs down and starts them in AVS. Until the commit it can be cancelled: the VMs "
        "then run in Azure again.",
    )


def plan_type_options(view: PlanView) -> list[PointOption]:
    """A modernized plan's choices: a type of point, each with what it gives up (the point is made at the
    trigger: there is none to pick, and no age to show)."""
    from core.providers import provider_for

    if not view.members:
        return []
    first = view.members[0].item
    return provider_for(first).type_options(first)


def can_cancel_plan(view: PlanView) -> Verdict:
    """Whether the plan's finished planned failover may be cancelled (modernized plans only, until commit)."""
    for blocker in (_plan_shape(view), _plan_busy(view)):
        if blocker is not None:
            return blocker
    if not plan_is_modernized(view):
        return Verdict(
            False,
            f"{view.name} is a classic plan: its failback is an unplanned failover, which cannot be cancelled. "
            "Verify the VMs and commit, or fail them over to Azure again later.",
        )
    pending = [m for m in view.members if m.stage is not Stage.FAILED_OVER]
    if pending:
        listed = "; ".join(f"{m.name}: {m.stage.label}" for m in pending)
        return Verdict(False, f"A cancel follows a finished planned failover of every VM of {view.name} ({listed}).")
    refused = [m for m in view.members if not m.item.allows("CancelFailover")]
    if refused:
        return Verdict(False, f"ASR does not offer a cancel for {_names(refused)} now. Refresh in a minute.")
    return Verdict(
        True,
        f"Cancels the planned failover of the {len(view.members)} VMs of {view.name}: ASR rolls their AVS disks "
        "back, turns the Azure VMs on again and resumes replication to AVS; the plan can fail back again later.",
    )


def can_commit_plan(view: PlanView) -> Verdict:
    """Whether the plan commit (irreversible: deletes every failed-over Azure VM) may be sent."""
    for blocker in (_plan_shape(view), _plan_busy(view)):
        if blocker is not None:
            return blocker
    pending = [m for m in view.members if m.stage is not Stage.FAILED_OVER]
    if pending:
        listed = "; ".join(f"{m.name}: {m.stage.label}" for m in pending)
        return Verdict(False, f"Commit follows a completed failover of every VM of {view.name} ({listed}).")
    refused = [m for m in view.members if not m.item.allows("Commit")]
    if refused:
        return Verdict(False, f"ASR does not offer commit for {_names(refused)} right now. Refresh in a minute.")
    return Verdict(
        True,
        f"Commits the failover of the {len(view.members)} VMs of {view.name}: ASR deletes the failed-over Azure "
        "VMs. This cannot be undone.",
    )


def plan_next_step(view: PlanView) -> tuple[str, str]:
    """(the action, what to do next with the whole plan), worded for a plan and not for one VM; ("", …) when
    the next step is to wait, or there is none."""
    if view.running_job_name or any(m.item.current_scenario is not None for m in view.members):
        return "", "Wait for the job running on the plan (or on its VMs) to end."
    stage = view.stage
    if stage is Stage.READY and plan_is_modernized(view):
        return (
            "fail_back",
            "Fail the plan back with a planned failover: the preflight, the type of point, the confirmation.",
        )
    if stage is Stage.READY:
        return "fail_back", "Fail the plan back: the preflight, the recovery point of its groups, the confirmation."
    if stage is Stage.FAILED_OVER and plan_is_modernized(view):
        return "verify", (
            "Verify each of its VMs in AVS, then commit the plan (a typed step) — or cancel the planned failover: "
            "the VMs run in Azure again."
        )
    if stage is Stage.FAILED_OVER:
        return "verify", "Verify each of its VMs in AVS, then commit the plan (a typed step)."
    if stage is Stage.COMMITTED:
        return "reprotect", "Reprotect the plan's VMs to Azure, through one process server."
    if stage is Stage.PROTECTED_TO_AZURE:
        return "", "Nothing to do: every VM of the plan replicates to Azure again."
    if not view.members:
        return "", "The plan holds no VM."
    return "", "Its VMs are at different stages: finish each one from the dashboard, or wait for its job."


def members_to_reprotect(view: PlanView) -> list[ProtectedItem]:
    """Committed members, in boot order: the ones a plan reprotect sends."""
    return [m.item for m in view.members if m.stage is Stage.COMMITTED]


def plan_point_summary(
    view: PlanView,
    points_by_item: Mapping[str, Sequence[RecoveryPoint]],
    now: datetime,
    tz: tzinfo | None = None,
) -> list[GroupPoints]:
    """Per replication group (boot order), then per VM alone: Latest versus the common app-consistent point.

    A VM outside any named group recovers to its own latest app-consistent point with that choice; it is
    shown as a group of one so that the whole plan's loss reads in one list.
    """
    out: list[GroupPoints] = []
    for group in view.consistency_groups:
        members = [m for m in view.members if m.item.consistency_group == group]
        out.append(group_points(group, {m.name: _points_for(m.item, points_by_item) for m in members}, now, tz))
    for member in view.members:
        if not member.item.consistency_group:
            alone = group_points(member.name, {member.name: _points_for(member.item, points_by_item)}, now, tz)
            out.append(replace(alone, explanation=_alone_explanation(member.name, alone, now, tz)))
    return out


def _alone_explanation(name: str, points: GroupPoints, now: datetime, tz: tzinfo | None) -> str:
    row = points.members[0]
    if row.common_point is None or row.common_loss_seconds is None:
        if row.latest is None:
            return f"{name} is in no replication group and has no recovery point yet."
        return f"{name} is in no replication group and has no app-consistent point: it recovers to its latest point."
    return (
        f"{name} is in no replication group: with app-consistent it recovers to its own latest app-consistent "
        f"point, {format_time(row.common_point.time, now, tz)}, losing about {duration(row.common_loss_seconds)} "
        "of writes."
    )


# What each choice does to a replication group, in the words every screen uses (the dialog, its confirmation and the
# walkthrough's reaction to Latest on a group).
GROUP_RULE = {
    PointChoice.LATEST: (
        "Latest: each VM fails over to its own newest point (crash-consistent), taken at its own moment, so the VMs "
        "of a replication group come back a little apart in time and recover as after a power cut."
    ),
    PointChoice.LATEST_APP_CONSISTENT: (
        "App-consistent: the VMs of each replication group fail over together to the newest app-consistent point "
        "they all hold, so they agree with each other; a VM in no group goes to its own newest app-consistent point."
    ),
}


@dataclass(frozen=True)
class VmLoss:
    name: str
    seconds: float  # writes given up by this VM with the choice (now minus the point's time)
    extra_seconds: float = 0.0  # beyond what the same VM gives up with Latest


@dataclass(frozen=True)
class PlanLoss:
    """What a plan choice gives up, VM by VM: the worst case is the largest loss of any one VM, not an average."""

    choice: PointChoice
    per_vm: tuple[VmLoss, ...]
    no_point: tuple[str, ...] = ()  # VMs with no recovery point: what they would lose is not known

    @property
    def worst(self) -> VmLoss | None:
        return max(self.per_vm, key=lambda v: v.seconds, default=None)

    @property
    def most_extra(self) -> VmLoss | None:
        """The VM that gives up the most beyond Latest (its own Latest: a VM's loss is against its own point)."""
        return max(self.per_vm, key=lambda v: v.extra_seconds, default=None)

    @property
    def worst_seconds(self) -> float:
        return self.worst.seconds if self.worst else 0.0

    @property
    def extra_seconds(self) -> float:
        return self.most_extra.extra_seconds if self.most_extra else 0.0

    def words(self) -> str:
        """ "at most about 10 minutes (sql-01); 12 minutes more than Latest for erp-app-02" """
        worst = self.worst
        missing = f"no recovery point yet for {', '.join(self.no_point)}" if self.no_point else ""
        if worst is None:
            return missing or "no VM"
        text = f"at most about {duration(worst.seconds)} of writes ({worst.name})"
        extra = self.most_extra
        if extra is not None and extra.extra_seconds >= 1:
            text += f"; up to {duration(extra.extra_seconds)} more than Latest ({extra.name})"
        return f"{text}; {missing}" if missing else text


def plan_loss(groups: Sequence[GroupPoints], choice: PointChoice) -> PlanLoss:
    """Each VM's loss with `choice`: Latest, its own newest point; app-consistent, its group's common point (a VM
    without one, or in no group without an app-consistent point, falls back to its newest)."""
    per_vm, no_point = [], []
    for group in groups:
        for row in group.members:
            if row.latest_loss_seconds is None:  # no point at all: its loss is unknown, never counted as none
                no_point.append(row.item_name)
                continue
            if choice is PointChoice.LATEST or row.common_loss_seconds is None:
                seconds = row.latest_loss_seconds
            else:
                seconds = row.common_loss_seconds
            per_vm.append(VmLoss(row.item_name, seconds, max(0.0, seconds - row.latest_loss_seconds)))
    return PlanLoss(choice, tuple(per_vm), tuple(no_point))


_GROUP_LABELS = {"shutdown": "shutdown", "failover": "failover"}


def manual_actions(plan: RecoveryPlan) -> list[tuple[str, PlanAction]]:
    """The plan's manual actions, in the order ASR stops for them, each labelled with where it sits.

    Labels: "Before shutdown", "After failover", "Group 1, before boot", "Group 2, after boot". ASR applies
    an action in the directions it lists; both failback directions are plausible for a plan (ASR_API §0.1),
    so none is filtered out here.
    """
    out: list[tuple[str, PlanAction]] = []
    boot = 0
    for group in plan.groups:
        kind = group.group_type.lower()
        if _is_boot(group):
            boot += 1
            before, after = f"Group {boot}, before boot", f"Group {boot}, after boot"
        else:
            word = _GROUP_LABELS.get(kind, kind or "group")
            before, after = f"Before {word}", f"After {word}"
        out.extend((before, a) for a in group.start_actions if _is_manual(a))
        out.extend((after, a) for a in group.end_actions if _is_manual(a))
    return out


def waiting_task(job: Job | None) -> str:
    """The task a job is stopped at, waiting for the operator (a manual action), or "" when it is not waiting."""
    if job is None or job.state.is_terminal:
        return ""

    def walk(tasks: Sequence[JobTask]) -> str:
        for task in tasks:
            waiting = task.state is JobState.SUSPENDED or "manual" in task.state_description.lower()
            if waiting and not task.state.is_terminal:
                return task.friendly_name or task.name
            found = walk(task.child_tasks)
            if found:
                return found
        return ""

    found = walk(job.tasks)
    if found:
        return found
    if job.state is JobState.SUSPENDED or "manual" in job.state_description.lower():
        return job.state_description or "a manual action"
    return ""


def action_done(job: Job | None, action_name: str) -> bool:
    """Whether the job's task for the plan action `action_name` has succeeded (the action was resumed past)."""
    if job is None:
        return False
    stack = list(job.tasks)
    while stack:
        task = stack.pop()
        stack.extend(task.child_tasks)
        named = action_name and (action_name == task.name or action_name in task.friendly_name)
        if named and task.state is JobState.SUCCEEDED:
            return True
    return False


def pending_actions(plan: RecoveryPlan, job: Job | None) -> list[tuple[str, PlanAction]]:
    """The plan's manual actions the job has not passed yet, labelled as manual_actions() labels them."""
    return [(where, a) for where, a in manual_actions(plan) if not action_done(job, a.name)]


def plan_of_job(plans: Iterable[RecoveryPlan], job: Job) -> RecoveryPlan | None:
    """The recovery plan a job acts on (ASR names its target by id or name), or None for an item's job."""
    names = {n.strip().lower() for n in (job.target_object_id, job.target_object_name) if n.strip()}
    names |= {n.rsplit("/", 1)[-1] for n in names}
    for plan in plans:
        if names & {plan.id.lower(), plan.name.lower(), (plan.friendly_name or "").lower()} - {""}:
            return plan
    return None


def resolve_plan(plans: Iterable[RecoveryPlan], ref: str) -> RecoveryPlan:
    """Find a plan by friendly name, name or ARM id (case-insensitive)."""
    wanted = ref.strip().lower()
    if not wanted:
        raise UsageError("No recovery plan given.", hint="Name a plan by its friendly name or its name.")
    pool = list(plans)
    exact = [p for p in pool if p.id.lower() == wanted or p.name.lower() == wanted]
    if len(exact) == 1:
        return exact[0]
    matches = {p.id.lower(): p for p in pool if p.friendly_name.lower() == wanted}
    if len(matches) == 1:
        return next(iter(matches.values()))
    if len(matches) > 1:
        raise UsageError(
            f"{ref!r} matches {len(matches)} recovery plans:",
            listing=tuple(f"{p.friendly_name}  ({p.name})" for p in matches.values()),
            hint="Name the plan by its name (in brackets above) to pick one.",
        )
    known = ", ".join(sorted((p.friendly_name or p.name for p in pool), key=str.lower)) or "none"
    raise NotFound(f"No recovery plan named {ref!r} in this vault (plans: {known}).")


# -- reprotect of a whole plan ----------------------------------------------------------------------------------


class MemberState(enum.Enum):
    PENDING = ("pending", "Waiting to send", False)
    RUNNING = ("running", "Reprotecting", False)
    WAITING_FOR_AGENT = ("waiting-for-agent", "Waiting for the mobility agent", False)
    PROTECTED = ("protected", "Protected to Azure", True)
    FAILED = ("failed", "Failed", True)
    BLOCKED = ("blocked", "Not reprotectable now", True)

    def __init__(self, key: str, word: str, final: bool) -> None:
        self.key = key
        self.word = word
        self.final = final


@dataclass(frozen=True)
class MemberProgress:
    item_name: str
    item_id: str
    state: MemberState
    job_name: str = ""
    attempts: int = 0
    next_retry_at: datetime | None = None
    last_error: str = ""
    group_index: int = 0
    new_item_id: str = ""  # ASR may hand the reprotected VM a new replicated item

    @property
    def word(self) -> str:
        return self.state.word


@dataclass
class _Member:
    item: ProtectedItem
    group_index: int
    state: MemberState
    job_name: str = ""
    attempts: int = 0
    due: datetime | None = None
    first_sent: datetime | None = None
    last_error: str = ""
    send_errors: int = 0
    new_item_id: str = ""
    history: list[str] = field(default_factory=list)  # job names of every attempt

    def snapshot(self) -> MemberProgress:
        retry = self.due if self.state in (MemberState.WAITING_FOR_AGENT, MemberState.PENDING) else None
        return MemberProgress(
            item_name=self.item.friendly_name,
            item_id=self.item.id,
            state=self.state,
            job_name=self.job_name,
            attempts=self.attempts,
            next_retry_at=retry if self.attempts else None,
            last_error=self.last_error,
            group_index=self.group_index,
            new_item_id=self.new_item_id,
        )


def _first_error(job: Job) -> str:
    details = list(job.errors) or [e for t in job.tasks for e in t.errors]
    for detail in details:
        text = detail.provider_message or detail.message
        code = detail.provider_error_code or detail.code
        if text:
            return f"[{code}] {text}" if code else text
    return f"Job {job.name} ended {job.state.word}."


def _exc_text(exc: FailbackError) -> str:
    """The refusal with ASR's own words, which the ARM envelope's message often lacks."""
    extra = [d.provider_message or d.message for d in exc.details if (d.provider_message or d.message)]
    return " ".join(dict.fromkeys([exc.message, *extra]))


def _agent_not_ready(exc: FailbackError) -> bool:
    """The same test as for a failed job, on a refused request (ASR may answer either way: ASR_API §5)."""
    details = (*exc.details, ErrorDetail(code="", message=exc.message))
    probe = Job(
        id="", name="", scenario_name="", friendly_name="", state=JobState.FAILED, state_description="", errors=details
    )
    return is_agent_registration_failure(probe)


class PlanReprotect:
    """Reprotects every member of a failed-back plan as one step: ASR does not reprotect InMage plans as a unit (§0.3).

    Every VM gets the same process server and master target (`target`), which keeps each replication group on
    one pair as ASR requires. A VM whose reprotect fails because its mobility agent has not registered back yet
    (up to AGENT_REGISTRATION_WINDOW after it booted in AVS) is retried every `retry_delay` seconds, for the
    window plus AGENT_WINDOW_MARGIN from its first attempt. A VM already being reprotected is followed, not sent
    again. Every reprotect goes through `operations` (journaled when it has a journal; one without a journal is
    built on `backend` when none is given), which also attaches to a job found running on the VM at send time.
    Times are the clock's (simulated in the demo).
    """

    def __init__(
        self,
        backend: Backend,
        view: PlanView,
        target: ReprotectTarget,
        *,
        clock: Clock | None = None,
        retry_delay: float = 60.0,
        poll_interval: float = 15.0,
        window: timedelta = AGENT_REGISTRATION_WINDOW + AGENT_WINDOW_MARGIN,
        operations: Operations | None = None,
    ) -> None:
        # a modernized plan's VMs go through a replication appliance alone; a classic one needs its master target
        modernized = bool(view.members) and all(m.item.provider is Provider.MODERNIZED for m in view.members)
        if not target.process_server_id or (not target.master_target_id and not modernized):
            raise UsageError(
                "Reprotect needs a process server and a master target.",
                hint="Choose the process server that sends data to Azure and a master target, from the vault's fabric.",
            )
        if operations is None:
            from core.operations import Operations

            operations = Operations(backend, None, clock=clock)
        self.backend = backend
        self.operations = operations
        self.view = view
        self.target = target
        self.clock: Clock = clock or getattr(backend, "clock", None) or SystemClock()
        self.retry_delay = retry_delay
        self.poll_interval = poll_interval
        self.window = window
        self.tracker = JobTracker(backend, self.clock, interval=poll_interval, follow_children=False)
        self._unjournaled: list[_Member] = []  # followed from the start: journaled on the first step
        self._members = [self._initial(m) for m in view.members]
        self._errors_at_success = 0

    def _initial(self, member: PlanMember) -> _Member:
        entry = _Member(item=member.item, group_index=member.group_index, state=MemberState.PENDING)
        if member.stage is Stage.PROTECTED_TO_AZURE:
            entry.state = MemberState.PROTECTED
        elif member.stage is Stage.REPROTECT_RUNNING:
            self._attach(entry, member.item.running_job_name)
            self._unjournaled.append(entry)
        elif member.stage is not Stage.COMMITTED:
            entry.state = MemberState.BLOCKED
            entry.last_error = f"{member.stage.label}: reprotect follows the commit."
        return entry

    def _attach(self, entry: _Member, job_name: str) -> None:
        entry.state = MemberState.RUNNING
        entry.job_name = job_name
        entry.history.append(job_name)
        self.tracker.track(job_name)

    @property
    def progress(self) -> list[MemberProgress]:
        return [m.snapshot() for m in self._members]

    def done(self) -> bool:
        return all(m.state.final for m in self._members)

    @property
    def all_protected(self) -> bool:
        return all(m.state is MemberState.PROTECTED for m in self._members)

    def attempts_of(self, item_name: str) -> list[str]:
        """Job names of every reprotect sent (or followed) for a VM, oldest first."""
        for m in self._members:
            if m.item.friendly_name == item_name or m.item.name == item_name:
                return list(m.history)
        raise NotFound(f"{item_name!r} is not a member of {self.view.name}.")

    # -- one round --------------------------------------------------------------------------------------------

    def step(self) -> list[MemberProgress]:
        """Send what is due, poll the running jobs, schedule retries. Blocking reads: call from a worker."""
        self._journal_followed()
        now = self.clock.now()
        for entry in self._members:
            if entry.state in (MemberState.PENDING, MemberState.WAITING_FOR_AGENT) and (
                entry.due is None or entry.due <= now
            ):
                self._send(entry)
        if any(m.state is MemberState.RUNNING for m in self._members):
            self.tracker.poll()
            self._check_polling()
        now = self.clock.now()
        for entry in self._members:
            if entry.state is MemberState.RUNNING:
                job = self.tracker.jobs.get(entry.job_name)
                if job is not None and job.state.is_terminal:
                    self._finished(entry, job, now)
        return self.progress

    def _journal_followed(self) -> None:
        """Record the jobs followed from the start, so that a dropped session's resume follows them again."""
        journal = self.operations.journal
        while self._unjournaled:
            entry = self._unjournaled.pop(0)
            if journal is not None:
                journal.attached(
                    entry.item.id,
                    entry.job_name,
                    f"reprotect already running when the plan reprotect of {self.view.name} started",
                )

    @property
    def poll_error(self) -> FailbackError | None:
        """The last error reading the jobs (the tracker backs off and retries); None once a read succeeds."""
        return self.tracker.last_error

    def _check_polling(self) -> None:
        error = self.tracker.last_error
        if error is None:
            self._errors_at_success = self.tracker.stats.errors
            return
        # Throttling passes with time; anything else that keeps failing (sign-in, network) will not by waiting.
        if not isinstance(error, Throttled) and self.tracker.stats.errors - self._errors_at_success >= MAX_POLL_ERRORS:
            raise error

    def _send(self, entry: _Member) -> None:
        now = self.clock.now()
        item = entry.item
        if entry.attempts or entry.send_errors or entry.history:
            # ASR may have moved on meanwhile (another operator, a request that did go through, the end of a job
            # this run followed): the copy held here is stale, so look first.
            try:
                item = entry.item = self.backend.get_item(item.id)
            except (ConnectionLost, Throttled) as exc:
                self._send_error(entry, exc, now)
                return
            except FailbackError as exc:
                self._fail(entry, f"{_exc_text(exc)} {exc.hint}".strip())
                return
            stage = derive_stage(item)
            if stage is Stage.REPROTECT_RUNNING:
                self._attach(entry, item.running_job_name)
                return
            if stage is Stage.PROTECTED_TO_AZURE:
                entry.state = MemberState.PROTECTED
                return
        verdict = can_reprotect(item)
        if not verdict:
            self._fail(entry, verdict.reason, blocked=not (entry.attempts or entry.history))
            return
        try:
            started = self.operations.reprotect(item, self.target)
        except (ReadOnlyError, AuthenticationError):
            raise  # the same for every VM: the operator must act, not the retry loop
        except FailbackError as exc:
            entry.attempts += 1
            entry.first_sent = entry.first_sent or now
            if _agent_not_ready(exc):
                self._agent_retry(entry, _exc_text(exc), now)
            elif isinstance(exc, (ConnectionLost, Throttled, OperationInProgress)):
                self._send_error(entry, exc, now)
            else:
                self._fail(entry, f"{_exc_text(exc)} {exc.hint}".strip())
            return
        handle = started.handle
        if started.attached:
            # nothing was sent: a job someone else started holds the VM, and its end decides what comes next
            self._attach(entry, handle.job_name)
            entry.due = None
            return
        entry.attempts += 1
        entry.first_sent = entry.first_sent or now
        entry.job_name = handle.job_name
        entry.history.append(handle.job_name)
        entry.state = MemberState.RUNNING
        entry.due = None
        self.tracker.track(handle.job_name, handle.retry_after)

    def _send_error(self, entry: _Member, exc: FailbackError, now: datetime) -> None:
        entry.send_errors += 1
        entry.last_error = exc.message
        if entry.send_errors > MAX_SEND_ERRORS:
            self._fail(entry, f"{_exc_text(exc)} {exc.hint}".strip())
            return
        entry.state = MemberState.PENDING
        entry.due = now + timedelta(seconds=self.retry_delay)

    def _agent_retry(self, entry: _Member, error: str, now: datetime) -> None:
        started = entry.first_sent or now
        retry_at = now + timedelta(seconds=self.retry_delay)
        if retry_at - started > self.window:
            minutes = int(AGENT_REGISTRATION_WINDOW.total_seconds() // 60)
            self._fail(
                entry,
                f"{error} The mobility agent still has not registered after {entry.attempts} attempts; ASR expects "
                f"it within {minutes} minutes of the VM booting in AVS. Check that the agent's service runs on the "
                "VM and reaches the configuration server (443 and 9443/TCP), then reprotect it on its own.",
            )
            return
        entry.state = MemberState.WAITING_FOR_AGENT
        entry.last_error = error
        entry.due = retry_at

    def _finished(self, entry: _Member, job: Job, now: datetime) -> None:
        if job.state is JobState.SUCCEEDED:
            entry.state = MemberState.PROTECTED
            entry.new_item_id = job.new_item_id
            entry.last_error = ""
            return
        error = _first_error(job)
        if job.state is JobState.FAILED and is_agent_registration_failure(job):
            self._agent_retry(entry, error, now)
            return
        self._fail(entry, error)

    def _fail(self, entry: _Member, error: str, blocked: bool = False) -> None:
        entry.state = MemberState.BLOCKED if blocked else MemberState.FAILED
        entry.last_error = error
        entry.due = None

    # -- blocking loop ----------------------------------------------------------------------------------------

    def _pause(self) -> float:
        """Clock seconds until something is due: the next retry or the next poll, whichever comes first."""
        now = self.clock.now()
        waits = [self.poll_interval] if any(m.state is MemberState.RUNNING for m in self._members) else []
        waits += [
            max(0.0, (m.due - now).total_seconds())
            for m in self._members
            if m.due is not None and m.state in (MemberState.PENDING, MemberState.WAITING_FOR_AGENT)
        ]
        return max(1.0, min(waits, default=self.poll_interval))

    def run(
        self,
        on_update: Callable[[list[MemberProgress]], None] | None = None,
        timeout: float | None = None,
    ) -> list[MemberProgress]:
        """Step until every member is protected, failed or blocked; `timeout` is in clock seconds.

        Returns the final progress (check `all_protected`); raises JobFailed on timeout, naming who is left.
        """
        started = self.clock.now()
        last: list[MemberProgress] | None = None
        while True:
            progress = self.step()
            if on_update is not None and progress != last:
                on_update(progress)
            last = progress
            if self.done():
                return progress
            if timeout is not None and (self.clock.now() - started).total_seconds() > timeout:
                left = ", ".join(f"{p.item_name} ({p.word})" for p in progress if not p.state.final)
                raise JobFailed(
                    f"Gave up waiting after {timeout:.0f} s; still in progress: {left}.",
                    hint="The jobs keep running in ASR: follow them with `avs-failback jobs`.",
                )
            self.clock.sleep(self._pause())
