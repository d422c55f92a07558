"""The product's own domain objects: frozen dataclasses that cross the core boundary (no SDK types)."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import datetime

# ASR's idle sentinel in currentScenario (scenarioName "None", startTime 1753-01-01).
IDLE_SCENARIO = "None"


class Stage(enum.Enum):
    """Where an item stands in the failback job. Derived from ASR fields (core.failback), never stored."""

    IN_AZURE = ("in-azure", "In Azure: reprotect to AVS", "○")
    READY = ("ready", "Ready to fail back", "●")
    FAILOVER_RUNNING = ("failover-running", "Failover running", "▶")
    CANCEL_RUNNING = ("cancel-running", "Cancel running: back to Azure", "▶")
    FAILED_OVER = ("failed-over", "Failed over: verify, then commit", "◆")
    COMMIT_RUNNING = ("commit-running", "Commit running", "▶")
    COMMITTED = ("committed", "Committed: reprotect needed", "◇")
    REPROTECT_RUNNING = ("reprotect-running", "Reprotect running", "▶")
    PROTECTED_TO_AZURE = ("protected-to-azure", "Protected to Azure", "✓")
    NOT_READY = ("not-ready", "Not ready", "✗")

    def __init__(self, key: str, label: str, glyph: str) -> None:
        self.key = key
        self.label = label
        self.glyph = glyph

    # ASCII fallbacks for consoles without the glyphs (TERM=linux fonts lack some of them).
    @property
    def ascii_glyph(self) -> str:
        return _ASCII_GLYPHS[self.key]

    @property
    def short(self) -> str:
        return _SHORT_NAMES[self.key]

    @classmethod
    def from_key(cls, key: str) -> Stage:
        for stage in cls:
            if stage.key == key:
                return stage
        raise ValueError(f"unknown stage {key!r}; one of: {', '.join(s.key for s in cls)}")


# Stage.ascii_glyph and Stage.short by key, built once (every row of a 50,000-item table asks for them).
_ASCII_GLYPHS: dict[str, str] = {
    "in-azure": "a",
    "ready": "o",
    "failover-running": ">",
    "cancel-running": ">",
    "failed-over": "*",
    "commit-running": ">",
    "committed": "-",
    "reprotect-running": ">",
    "protected-to-azure": "+",
    "not-ready": "x",
}
_SHORT_NAMES: dict[str, str] = {
    "in-azure": "In Azure",
    "ready": "Ready",
    "failover-running": "Failing over",
    "cancel-running": "Cancelling",
    "failed-over": "Verify/commit",
    "commit-running": "Committing",
    "committed": "Reprotect needed",
    "reprotect-running": "Reprotecting",
    "protected-to-azure": "Protected→Azure",
    "not-ready": "Not ready",
}


class Provider(enum.Enum):
    """Classic (configuration-server) versus modernized (RCM appliance) replication stack."""

    CLASSIC = "classic"
    MODERNIZED = "modernized"
    OTHER = "other"

    @classmethod
    def from_instance_type(cls, instance_type: str | None) -> Provider:
        return _PROVIDERS.get(instance_type or "", Provider.OTHER)


# The provider of each instanceType the product reads (the SDK's discriminators); any other is OTHER.
_PROVIDERS = {
    "InMage": Provider.CLASSIC,
    "InMageAzureV2": Provider.CLASSIC,
    "InMageRcm": Provider.MODERNIZED,
    "InMageRcmFailback": Provider.MODERNIZED,
}


class PointKind(enum.Enum):
    CRASH_CONSISTENT = "crash-consistent"
    APP_CONSISTENT = "app-consistent"
    OTHER = "other"

    @classmethod
    def from_asr(cls, value: str | None) -> PointKind:
        if value == "CrashConsistent":
            return cls.CRASH_CONSISTENT
        if value == "ApplicationConsistent":
            return cls.APP_CONSISTENT
        return cls.OTHER


class PointChoice(enum.Enum):
    """The operator's choice of recovery point, mapped onto ASR's InMage recoveryPointType."""

    LATEST = "latest"  # LatestTime: latest crash-consistent / processed point
    LATEST_APP_CONSISTENT = "app-consistent"  # LatestTag
    CUSTOM = "custom"  # Custom + recoveryPointId

    @property
    def asr_type(self) -> str:
        return {"latest": "LatestTime", "app-consistent": "LatestTag", "custom": "Custom"}[self.value]


class JobState(enum.Enum):
    NOT_STARTED = "NotStarted"
    IN_PROGRESS = "InProgress"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    CANCELLED = "Cancelled"
    SUSPENDED = "Suspended"
    OTHER = "Other"

    @classmethod
    def parse(cls, value: str | None) -> JobState:
        for state in cls:
            if value and state.value.lower() == value.lower():
                return state
        if value and value.lower() == "canceled":
            return cls.CANCELLED
        return cls.OTHER

    @property
    def is_terminal(self) -> bool:
        return self in (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)

    @property
    def glyph(self) -> str:
        return {
            "NotStarted": "·",
            "InProgress": "▶",
            "Succeeded": "✓",
            "Failed": "✗",
            "Cancelled": "⊘",
            "Suspended": "‖",
            "Other": "–",
        }[self.value]

    @property
    def ascii_glyph(self) -> str:
        return {
            "NotStarted": ".",
            "InProgress": ">",
            "Succeeded": "+",
            "Failed": "x",
            "Cancelled": "/",
            "Suspended": "=",
            "Other": "-",
        }[self.value]

    @property
    def word(self) -> str:
        return {
            "NotStarted": "Not started",
            "InProgress": "In progress",
            "Succeeded": "Succeeded",
            "Failed": "Failed",
            "Cancelled": "Cancelled",
            "Suspended": "Waiting",
            "Other": "Other",
        }[self.value]


_VAULT_ID = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/"
    r"Microsoft\.RecoveryServices/vaults/(?P<vault>[^/]+)/?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class VaultRef:
    subscription_id: str
    resource_group: str
    name: str

    @property
    def arm_id(self) -> str:
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.RecoveryServices/vaults/{self.name}"
        )

    @classmethod
    def parse(cls, arm_id: str) -> VaultRef:
        """Parse a vault ARM id; raises ValueError with what a valid one looks like."""
        match = _VAULT_ID.match(arm_id.strip())
        if not match:
            raise ValueError(
                f"not a Recovery Services vault id: {arm_id!r}. Expected "
                "/subscriptions/<subscription>/resourceGroups/<group>/providers/"
                "Microsoft.RecoveryServices/vaults/<vault>"
            )
        return cls(match["sub"], match["rg"], match["vault"])


@dataclass(frozen=True)
class ErrorDetail:
    """One ASR error as the operator needs it: what, why, and what to do."""

    code: str
    message: str
    possible_causes: str = ""
    recommended_action: str = ""
    activity_id: str = ""
    provider_error_code: str = ""
    provider_message: str = ""
    task_id: str = ""
    created: datetime | None = None


@dataclass(frozen=True)
class HealthError:
    code: str
    message: str
    severity: str = ""
    category: str = ""
    possible_causes: str = ""
    recommended_action: str = ""
    created: datetime | None = None


@dataclass(frozen=True)
class CurrentScenario:
    """The job running on an item or plan right now (None when ASR reports its idle sentinel)."""

    name: str
    job_name: str
    job_id: str
    start_time: datetime | None


@dataclass(frozen=True)
class RcmDetails:
    """What the modernized legs (InMageRcm, InMageRcmFailback) add that the tool reads; SDK keys in
    core/providers/MODERNIZED.md §10. None is "not reported", never zero or false."""

    appliance_id: str = ""  # processServerId (forward) or reprotectAgentId (failback): one id per appliance
    appliance_name: str = ""
    target_datastore: str = ""
    log_storage_accounts: tuple[str, ...] = ()  # protectedDisks[].logStorageAccountId (forward leg, item GET only)
    discovered_datastores: tuple[str, ...] = ()
    ir_percent: int | None = None
    ir_health: str = ""
    agent_registered_after_failover: bool | None = None
    last_planned_failover_status: str = ""
    last_used_policy_id: str = ""
    # the newest lastSyncTime of the failback leg's disks, as reported: not a point time and not a data-loss figure
    # (recorded hours, even weeks, behind the answer it came in; MODERNIZED.md §10)
    disks_last_synced: datetime | None = None


@dataclass(frozen=True)
class ProtectedItem:
    id: str
    name: str
    friendly_name: str
    fabric_name: str
    container_name: str
    protection_state: str
    protection_state_description: str
    active_location: str
    replication_health: str
    failover_health: str
    allowed_operations: tuple[str, ...]
    instance_type: str
    current_scenario: CurrentScenario | None = None
    active_site_type: str = ""
    multi_vm_group_id: str = ""
    multi_vm_group_name: str = ""
    recovery_plans: tuple[str, ...] = ()
    rpo_seconds: int | None = None
    last_heartbeat: datetime | None = None
    last_recovery_point_time: datetime | None = None
    process_server_id: str = ""
    master_target_id: str = ""
    os_type: str = ""
    policy_id: str = ""
    recovery_fabric_name: str = ""
    primary_fabric_friendly_name: str = ""
    recovery_fabric_friendly_name: str = ""
    last_successful_failover_time: datetime | None = None
    failover_recovery_point_id: str = ""
    health_errors: tuple[HealthError, ...] = ()
    rcm: RcmDetails | None = None

    @property
    def provider(self) -> Provider:
        return Provider.from_instance_type(self.instance_type)

    @property
    def consistency_group(self) -> str:
        """The named multi-VM group, or "" when the VM is alone (ASR auto-creates a GUID-named group)."""
        if not self.multi_vm_group_name or self.multi_vm_group_name == self.multi_vm_group_id:
            return ""
        return self.multi_vm_group_name

    @property
    def running_job_name(self) -> str:
        return self.current_scenario.job_name if self.current_scenario else ""

    def allows(self, operation: str) -> bool:
        return operation in self.allowed_operations


@dataclass(frozen=True)
class RecoveryPoint:
    id: str
    name: str
    time: datetime
    kind: PointKind
    is_multi_vm_sync: bool = False


@dataclass(frozen=True)
class ProcessServer:
    id: str
    friendly_name: str
    ip_address: str = ""
    health: str = ""
    service_status: str = ""
    last_heartbeat: datetime | None = None
    health_errors: tuple[HealthError, ...] = ()

    @property
    def is_healthy(self) -> bool:
        return self.health.lower() == "normal"


@dataclass(frozen=True)
class RetentionVolume:
    """A master target's retention drive. Sizes in bytes; None where ASR reports none or nothing readable."""

    name: str
    capacity_bytes: int | None = None
    free_bytes: int | None = None
    threshold_percent: int | None = None  # ASR's usage threshold for the drive


@dataclass(frozen=True)
class Datastore:
    """A datastore the master target sees. Sizes in GB, as ASR reports them; None when unknown (never 0)."""

    name: str
    uuid: str = ""
    capacity_gb: float | None = None
    free_gb: float | None = None
    kind: str = ""


@dataclass(frozen=True)
class MasterTarget:
    """A master target server in AVS. ASR gives it no health field (SDK MasterTargetServer): its health errors
    are what it says about its health."""

    id: str
    name: str
    ip_address: str = ""
    os_type: str = ""
    last_heartbeat: datetime | None = None
    retention_volumes: tuple[RetentionVolume, ...] = ()
    datastores: tuple[Datastore, ...] = ()
    health_errors: tuple[HealthError, ...] = ()
    # False when the answer carried no healthErrors list at all: then nothing is known of its health.
    health_reported: bool = True

    @property
    def health(self) -> str:
        """Its health in ASR's words, from its health errors: Normal (none), Warning, or Critical (one at level
        Error). Only meaningful when `health_reported`; `core.preflight.master_target_health` says both."""
        if not self.health_errors:
            return "Normal"
        if any(e.severity.lower() == "error" for e in self.health_errors):
            return "Critical"
        return "Warning"


@dataclass(frozen=True)
class RunAsAccount:
    id: str
    name: str


# The component lists of InMageRcmFabricSpecificDetails (SDK line 15733) and how the operator knows each.
APPLIANCE_ROLES = {
    "processServers": "process server",
    "reprotectAgents": "reprotect agent",
    "rcmProxies": "RCM proxy",
    "pushInstallers": "push installer",
    "replicationAgents": "replication agent",
    "marsAgents": "MARS agent",
    "dras": "DRA",
}


@dataclass(frozen=True)
class ApplianceComponent:
    """One component of a replication appliance, as one entry of a component list of InMageRcmFabricSpecificDetails
    (process server, reprotect agent, RCM proxy, …): health is ASR's ProtectionHealth word, "" when not reported."""

    role: str  # how the operator knows it: "process server", "reprotect agent", …
    health: str = ""
    last_heartbeat: datetime | None = None
    version: str = ""
    health_errors: tuple[HealthError, ...] = ()


# ProtectionHealth, worst first; "None" is ASR's word for no health (not an alarm).
_HEALTH_ORDER = ("critical", "warning", "normal", "none")


@dataclass(frozen=True)
class Appliance:
    """A replication appliance of a modernized vault: every component list names it once, with one id and name
    (MODERNIZED.md §8). `accessible_datastores` is None when no reprotect agent of it is listed (nothing known),
    an empty tuple when it is listed and reaches none."""

    id: str
    name: str
    fqdn: str = ""
    ip_address: str = ""
    components: tuple[ApplianceComponent, ...] = ()
    accessible_datastores: tuple[str, ...] | None = None
    vcenter_id: str = ""
    free_space_percent: float | None = None  # the process server's free disk space

    @property
    def health(self) -> str:
        """The worst health its components report ("" when none reports one)."""
        known = [c.health for c in self.components if c.health.lower() in _HEALTH_ORDER]
        return min(known, key=lambda h: _HEALTH_ORDER.index(h.lower()), default="")

    @property
    def last_heartbeat(self) -> datetime | None:
        """The stalest heartbeat of its components: the appliance is only as alive as its quietest part."""
        beats = [c.last_heartbeat for c in self.components if c.last_heartbeat is not None]
        return min(beats) if beats else None

    @property
    def unwell(self) -> tuple[ApplianceComponent, ...]:
        """Its components that report a health other than Normal (or None, ASR's word for no health)."""
        return tuple(c for c in self.components if c.health.lower() in ("critical", "warning"))


@dataclass(frozen=True)
class Fabric:
    id: str
    name: str
    friendly_name: str
    instance_type: str
    process_servers: tuple[ProcessServer, ...] = ()
    master_targets: tuple[MasterTarget, ...] = ()
    run_as_accounts: tuple[RunAsAccount, ...] = ()
    appliances: tuple[Appliance, ...] = ()  # a modernized fabric (InMageRcm): its replication appliances


@dataclass(frozen=True)
class PlanAction:
    name: str
    kind: str  # ManualActionDetails | ScriptActionDetails | AutomationRunbookActionDetails
    instructions: str = ""
    failover_directions: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlanGroup:
    group_type: str  # Shutdown | Failover | Boot
    item_ids: tuple[str, ...] = ()
    start_actions: tuple[PlanAction, ...] = ()
    end_actions: tuple[PlanAction, ...] = ()


@dataclass(frozen=True)
class RecoveryPlan:
    id: str
    name: str
    friendly_name: str
    allowed_operations: tuple[str, ...] = ()
    groups: tuple[PlanGroup, ...] = ()
    current_scenario: CurrentScenario | None = None
    current_scenario_status: str = ""
    replication_providers: tuple[str, ...] = ()
    primary_fabric_friendly_name: str = ""
    recovery_fabric_friendly_name: str = ""

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(i for g in self.groups for i in g.item_ids)


@dataclass(frozen=True)
class JobTask:
    task_id: str
    name: str
    friendly_name: str
    state: JobState
    state_description: str
    start_time: datetime | None = None
    end_time: datetime | None = None
    errors: tuple[ErrorDetail, ...] = ()
    child_tasks: tuple[JobTask, ...] = ()
    child_job_name: str = ""  # a JobTaskDetails task points at another job (reprotect → "Enable replication")
    allowed_actions: tuple[str, ...] = ()

    @property
    def skipped(self) -> bool:
        return self.state_description.lower() == "skipped"


@dataclass(frozen=True)
class Job:
    id: str
    name: str
    scenario_name: str
    friendly_name: str
    state: JobState
    state_description: str
    start_time: datetime | None = None
    end_time: datetime | None = None
    tasks: tuple[JobTask, ...] = ()
    errors: tuple[ErrorDetail, ...] = ()
    allowed_actions: tuple[str, ...] = ()
    target_object_id: str = ""
    target_object_name: str = ""
    target_instance_type: str = ""
    details_type: str = ""
    new_item_id: str = ""  # SwitchProtectionJobDetails.newReplicationProtectedItemId

    @property
    def is_running(self) -> bool:
        return not self.state.is_terminal

    @property
    def title(self) -> str:
        what = self.friendly_name or self.scenario_name or "Job"
        return f"{what}: {self.target_object_name}" if self.target_object_name else what


@dataclass(frozen=True)
class OperationHandle:
    """What a mutating call returns at once: the ASR job it started (state NotStarted)."""

    operation: str  # failover | commit | reprotect | plan-failover | cancel | restart | resume ...
    job_name: str
    target_id: str
    target_name: str
    retry_after: float | None = None
    request_id: str = ""


@dataclass(frozen=True)
class JobFilter:
    """The fields of ASR's JobQueryParameter that the product uses."""

    states: tuple[str, ...] = ()
    start_time: datetime | None = None
    end_time: datetime | None = None
    affected_object_types: str = ""
    job_name: str = ""


@dataclass(frozen=True)
class ReprotectTarget:
    """The choices reprotect (AVS → Azure) needs: process server, master target and the rest."""

    process_server_id: str
    master_target_id: str
    run_as_account_id: str = ""
    policy_id: str = ""
    storage_account_id: str = ""
    log_storage_account_id: str = ""
    disks_to_include: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class RcmReprotectToAvs:
    """Reprotect of a modernized VM in Azure back towards AVS (InMageRcmReprotectInput): the appliance's reprotect
    agent, the AVS datastore, the log storage account and the failback policy (MODERNIZED.md §3)."""

    reprotect_agent_id: str
    datastore_name: str
    log_storage_account_id: str
    policy_id: str = ""


@dataclass(frozen=True)
class RcmReprotectToAzure:
    """Reprotect of a failed-back modernized VM from AVS to Azure (InMageRcmFailbackReprotectInput): the
    appliance's process server, the forward policy and an optional run-as account (MODERNIZED.md §7)."""

    process_server_id: str
    policy_id: str
    run_as_account_id: str = ""


AnyReprotectTarget = ReprotectTarget | RcmReprotectToAvs | RcmReprotectToAzure
