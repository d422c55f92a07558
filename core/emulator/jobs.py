"""Simulated ASR jobs: the real task lists of the failback workflow, advanced lazily from the clock."""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

# Seconds between the POST and the job turning InProgress with its task list.
START_DELAY = 5.0

RUNNING = ("NotStarted", "InProgress", "Suspended")
TERMINAL = ("Succeeded", "Failed", "Cancelled")


def seeded(text: str) -> random.Random:
    """A generator seeded from `text` the same way in every process (str hashing is salted per process)."""
    return random.Random(int.from_bytes(hashlib.sha256(text.encode()).digest()[:16], "big"))


def guid(rng: random.Random) -> str:
    """A version-4 GUID drawn from `rng`: looks like ASR's, repeats when the same steps repeat."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


@dataclass
class TaskError:
    """An ASR job error: serviceErrorDetails + providerErrorDetails (ASR_API §2.4)."""

    service_code: str
    service_message: str
    provider_code: int
    provider_message: str
    possible_causes: str = ""
    recommended_action: str = ""
    error_id: str = ""  # set by the job that fails with it, from the job's own id stream


@dataclass
class SimTask:
    task_id: str
    name: str
    friendly_name: str
    duration: float
    task_type: str = "VirtualMachineTaskDetails"
    skipped: bool = False
    manual: str = ""  # instructions of a manual action: the job waits here until resumed
    child_kind: str = ""  # a job this task starts and waits for (reprotect → EnableDr)
    children: list[SimTask] = field(default_factory=list)  # plan group tasks: one per VM, in parallel
    group_details: str = ""  # groupTaskCustomDetails.instanceType
    vm_name: str = ""
    state: str = "NotStarted"
    state_description: str = "NotStarted"
    start: datetime | None = None
    end: datetime | None = None
    error: TaskError | None = None
    child_job: str = ""
    resumed_at: datetime | None = None


@dataclass
class SimJob:
    """One ASR job. `advance(now)` moves it along its tasks; the vault supplies checks and effects."""

    name: str
    operation: str  # failover | commit | reprotect | enable-dr | plan-failover | plan-commit | plan-reprotect | history
    scenario_name: str
    friendly_name: str
    target_name: str  # item friendly name or plan name
    target_object_id: str
    target_instance_type: str  # ProtectionEntity | RecoveryPlan | Vm
    details_type: str  # FailoverJobDetails | AsrJobDetails | SwitchProtectionJobDetails
    created: datetime
    build_tasks: Callable[[], list[SimTask]]
    fabric_id: str = ""
    item_names: tuple[str, ...] = ()  # RPI names this job acts on
    plan_name: str = ""
    state: str = "NotStarted"
    state_description: str = "NotStarted"
    start: datetime | None = None
    end: datetime | None = None
    tasks: list[SimTask] = field(default_factory=list)
    errors: list[tuple[str, TaskError]] = field(default_factory=list)  # (taskId, error)
    index: int = 0
    cursor: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # recovery point choice, new item id, parent job...
    injected_failure: Any = None  # a faults.Fault of kind job-fails
    activity_id: str = ""
    _ids: random.Random | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.activity_id:
            self.activity_id = f"{self.new_id()} ActivityId: {self.new_id()}"

    def new_id(self) -> str:
        """A GUID from a stream of this job's own, so its ids do not depend on what other jobs did meanwhile."""
        if self._ids is None:
            self._ids = seeded(f"job/{self.name}")
        return guid(self._ids)

    @property
    def running(self) -> bool:
        return self.state in RUNNING

    @property
    def allowed_actions(self) -> list[str]:
        if self.state in ("NotStarted", "InProgress"):
            return ["Cancel"]
        if self.state == "Suspended":
            return ["Resume"]
        if self.state in ("Failed", "Cancelled"):
            return ["Restart"]
        return []

    def reset(self, at: datetime) -> None:
        """For restart: back to NotStarted with a fresh task list."""
        self.created = at
        self.state = self.state_description = "NotStarted"
        self.start = self.end = None
        self.tasks = []
        self.errors = []
        self.index = 0
        self.cursor = None

    def begin(self) -> None:
        self.start = self.created + timedelta(seconds=START_DELAY)
        self.cursor = self.start
        self.tasks = self.build_tasks()
        self.state = self.state_description = "InProgress"

    def fail(self, task: SimTask, error: TaskError, at: datetime) -> None:
        if not error.error_id:
            error.error_id = self.new_id()
        task.state = task.state_description = "Failed"
        task.end = at
        task.error = error
        for child in task.children:
            if child.state != "Succeeded":
                child.state = child.state_description = "Failed"
                child.end = at
        self.errors.append((task.task_id, error))
        self.state = self.state_description = "Failed"
        self.end = at

    def cancel(self, at: datetime) -> None:
        for task in self.tasks:
            if task.state in ("InProgress", "NotStarted") and task.start is not None:
                task.state = task.state_description = "Cancelled"
                task.end = at
        self.state = self.state_description = "Cancelled"
        self.end = at


# -- task lists (ASR_API §3.3; durations in simulated seconds) -------------------------------------------------


def failover_tasks(source_site_required: bool) -> list[SimTask]:
    skip = not source_site_required
    return [
        SimTask(
            "UnplannedFailoverPreflightChecksTask", "VmUfoPrerequisitesCheck", "Prerequisites check for failover", 40
        ),
        SimTask(
            "ShutdownVmOnPrimaryForUFO", "VmShutdownVmOnPrimary", "Shut down the virtual machine", 80, skipped=skip
        ),
        SimTask(
            "PrepareForUnPlannedFailoverTask",
            "VmPrepareForUnPlannedFailover",
            "Synchronizing the latest changes",
            120,
            skipped=skip,
        ),
        SimTask("FailoverTask", "VmFailover", "Start failover", 240),
        SimTask("StartVmOnSecondary", "VmFoStartVmOnSecondary", "Start the replica virtual machine", 120),
    ]


def commit_tasks(new_id: Callable[[], str]) -> list[SimTask]:
    # ASR names the commit tasks by GUID rather than by a fixed task id.
    return [
        SimTask(new_id(), "VmCommitPrerequisitesCheck", "Prerequisite check", 20),
        SimTask(new_id(), "VmCommit", "Commit", 100),
    ]


def reprotect_tasks() -> list[SimTask]:
    return [
        SimTask(
            "SwitchReplicationGroupProtectionPreflightTask",
            "SwitchProtectionPrerequisitesCheck",
            "Prerequisite check",
            30,
        ),
        SimTask("CommitFailoverTask", "VmCommitFailover", "Committing failover", 0, skipped=True),
        SimTask("DiscoverReplicaTask", "DiscoverReplica", "Discovering replica virtual machine", 60),
        SimTask(
            "GetSwitchProtectionRequirementsTask",
            "GetSwitchProtectionRequirements",
            "Getting reprotection requirements",
            60,
        ),
        SimTask(
            "ProtectReplicaTask",
            "ProtectReplica",
            "Reprotecting virtual machine (1)",
            0,
            task_type="GroupTaskDetails",
            child_kind="enable-dr",
            group_details="InlineWorkflowTaskDetails",
        ),
    ]


def enable_dr_tasks() -> list[SimTask]:
    # The child job's own task names are not in any public recording: plausible names, flagged in SCENARIOS.md.
    return [
        SimTask("EnableProtectionPreflightChecksTask", "EnableProtectionPrerequisitesCheck", "Prerequisites check", 30),
        SimTask("CreateProtectionTargetTask", "CreateProtectionTarget", "Identifying replication target", 60),
        SimTask("EnableProtectionTask", "EnableProtection", "Enable replication", 120),
        SimTask("StartInitialReplicationTask", "StartInitialReplication", "Starting initial replication", 90),
        SimTask("UpdateDraStateTask", "FinalizeProtection", "Finalizing protection", 30),
    ]


def history_tasks(operation: str, new_id: Callable[[], str]) -> list[SimTask]:
    if operation in ("failover", "failover-to-azure"):
        return failover_tasks(source_site_required=True)
    if operation == "commit":
        return commit_tasks(new_id)
    return [task for task in reprotect_tasks() if not task.child_kind] + [
        SimTask("ProtectReplicaTask", "ProtectReplica", "Reprotecting virtual machine (1)", 330)
    ]


def plan_failover_tasks(
    groups: list[tuple[str, list[tuple[str, str]], list[tuple[str, str]], list[tuple[str, str]]]],
    source_site_required: bool,
) -> list[SimTask]:
    """groups: (groupType, [(vmName, itemName)], start actions [(name, instructions)], end actions)."""
    everyone = [vm for _, members, _, _ in groups for vm in members]
    tasks = [
        SimTask(
            "RecoveryPlanPrerequisiteCheckTask", "RecoveryPlanPrerequisiteCheck", "Prerequisites check for failover", 30
        ),
        _group_task(
            "RecoveryPlanShutdownGroupTask",
            "Group Shutdown",
            "Shut down all virtual machines",
            "RecoveryPlanShutdownGroupTaskDetails",
            everyone,
            "VmShutdownVmOnPrimary",
            "Shut down the virtual machine",
            90,
            skipped=not source_site_required,
        ),
        _group_task(
            "RecoveryPlanFailoverGroupTask",
            "Group Failover",
            "Fail over all virtual machines",
            "RecoveryPlanGroupTaskDetails",
            everyone,
            "VmFailover",
            "Start failover",
            240,
        ),
    ]
    boot_index = 0
    for group_type, members, start_actions, end_actions in groups:
        if group_type != "Boot":
            continue
        boot_index += 1
        for k, (action, instructions) in enumerate(start_actions):
            tasks.append(
                SimTask(
                    f"Group{boot_index}StartAction{k + 1}",
                    action,
                    f"Group {boot_index}: Pre-steps: {action}",
                    0,
                    task_type="ManualActionTaskDetails",
                    manual=instructions or action,
                )
            )
        tasks.append(
            _group_task(
                f"RecoveryPlanBootGroup{boot_index}Task",
                f"Group {boot_index}",
                f"Group {boot_index}: Start",
                "RecoveryPlanGroupTaskDetails",
                members,
                "VmFoStartVmOnSecondary",
                "Start the replica virtual machine",
                120,
            )
        )
        for k, (action, instructions) in enumerate(end_actions):
            tasks.append(
                SimTask(
                    f"Group{boot_index}EndAction{k + 1}",
                    action,
                    f"Group {boot_index}: Post-steps: {action}",
                    0,
                    task_type="ManualActionTaskDetails",
                    manual=instructions or action,
                )
            )
    return tasks


def plan_commit_tasks(members: list[tuple[str, str]]) -> list[SimTask]:
    return [
        SimTask(
            "RecoveryPlanCommitPrerequisiteCheckTask", "RecoveryPlanCommitPrerequisiteCheck", "Prerequisite check", 20
        ),
        _group_task(
            "RecoveryPlanCommitGroupTask",
            "Group Commit",
            "Commit all virtual machines",
            "RecoveryPlanGroupTaskDetails",
            members,
            "VmCommit",
            "Commit",
            100,
        ),
    ]


def plan_cancel_tasks(members: list[tuple[str, str]]) -> list[SimTask]:
    """A modernized plan's failoverCancel: no recording shows its tasks (U16); a prerequisite check, then one
    group task with a cancel per VM, as the plan commit's shape."""
    return [
        SimTask(
            "RecoveryPlanCancelFailoverPrerequisiteCheckTask",
            "RecoveryPlanCancelFailoverPrerequisiteCheck",
            "Prerequisites check for cancel failover",
            10,
        ),
        _group_task(
            "RecoveryPlanCancelFailoverGroupTask",
            "Group CancelFailover",
            "Cancel the failover of all virtual machines",
            "RecoveryPlanGroupTaskDetails",
            members,
            "CancelFailoverRecovery",
            "Cancel failover",
            180,
        ),
    ]


def plan_reprotect_tasks() -> list[SimTask]:
    return [
        SimTask(
            "RecoveryPlanReprotectPrerequisiteCheckTask",
            "RecoveryPlanReprotectPrerequisiteCheck",
            "Prerequisite check",
            15,
        )
    ]


def _group_task(
    task_id: str,
    name: str,
    friendly: str,
    details: str,
    members: list[tuple[str, str]],
    child_name: str,
    child_friendly: str,
    child_duration: float,
    *,
    skipped: bool = False,
) -> SimTask:
    children = [
        SimTask(
            f"{child_name}-{item}", child_name, f"{child_friendly} ({vm})", child_duration, skipped=skipped, vm_name=vm
        )
        for vm, item in members
    ]
    return SimTask(
        task_id,
        name,
        friendly,
        0 if skipped or not members else child_duration,
        task_type="GroupTaskDetails",
        skipped=skipped,
        children=children,
        group_details=details,
    )
