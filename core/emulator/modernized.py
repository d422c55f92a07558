"""The modernized (replication appliance) items of the simulated vault: their states, the bodies ASR accepts, and
the jobs of a planned failover from Azure, its cancel, the commit and the reprotect back to Azure.

Recorded facts and what is assumed: core/providers/MODERNIZED.md (§4–§7, and §14 for the assumptions U1–U21).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from core.emulator.jobs import SimTask

FAILBACK = "InMageRcmFailback"
FORWARD = "InMageRcm"
POINT_TYPES = ("CrashConsistent", "ApplicationConsistent")  # InMageRcmFailbackRecoveryPointType (SDK)
# The vault's modernized policies (recorded names, MODERNIZED.md §8): forward and failback.
FORWARD_POLICY = "24-hour-replication-policy"
FAILBACK_POLICY = "appconsistency-policy-failback"
# The code of the reprotect refused while the Mobility agent has not registered since the planned failover (U8).
CODE_AGENT = 28061
# Assumed codes (U11, U12; SCENARIOS.md lists them): the planned failover's prerequisite check failing on an
# unhealthy appliance, a reprotect refused for one, and a datastore the appliance's reprotect agent cannot reach.
CODE_APPLIANCE_PFO = 28063
CODE_APPLIANCE_REFUSED = 28064
CODE_DATASTORE = 28065

# The operations a modernized item answers, and the allowedOperations entry each needs.
ASR_OPERATION = {
    "planned-failover": "PlannedFailover",
    "cancel-failover": "CancelFailover",
    "commit": "Commit",
    "reprotect": "SwitchProtection",
}

# Job scenario, friendly name and details type, as recorded (MODERNIZED.md §4–§7).
JOB_META = {
    "planned-failover": ("PlannedFailover", "Planned failover", "FailoverJobDetails"),
    "cancel-failover": ("CancelFailover", "Cancel failover and resume replication", "AsrJobDetails"),
    "reprotect": ("SwitchReplicationGroupProtection", "Reprotect", "SwitchProtectionJobDetails"),
}


def _task(task_id: str, name: str, friendly: str, seconds: float, skipped: bool = False) -> SimTask:
    # The recorded tasks carry taskType "TaskDetails" and customDetails {"instanceType": "TaskDetails"}; the second
    # is no SDK discriminator (MODERNIZED.md §10), so the emulator sends customDetails null.
    return SimTask(task_id, name, friendly, seconds, task_type="TaskDetails", skipped=skipped)


def planned_failover_tasks() -> list[SimTask]:
    """REC-FB's five tasks in order; durations assumed (U2)."""
    return [
        _task(
            "PlannedFailoverPreflightChecksTask",
            "VmPfoPrerequisitesCheck",
            "Prerequisites check for planned failover",
            30,
        ),
        _task("PrepareForFailoverTask", "VmPrepareForFailover", "Start failover", 120),
        _task("FailoverTask", "VmFailover", "Shut down the Azure virtual machine", 90),
        _task(
            "PrepareProtectedEntitiesTask",
            "VmPrepareProtectedEntitiesTask",
            "Preparing on-premise virtual machine",
            120,
        ),
        _task("StartVmOnSecondary", "VmFoStartVmOnSecondary", "Starting on-premise virtual machine", 150),
    ]


def cancel_tasks() -> list[SimTask]:
    """REC-CANCEL's four tasks in order; durations assumed (U2)."""
    return [
        _task(
            "CancelFailoverPreflightChecksTask",
            "CancelFailoverPreflightChecksTask",
            "Prerequisites check for cancel failover",
            10,
        ),
        _task("CancelFailoverRecovery", "CancelFailoverRecovery", "Cancel failover recovery", 90),
        _task("CancelFailoverPrimary", "CancelFailoverPrimaryTask", "Cancel failover primary", 90),
        _task("StartVmOnPrimary", "StartVmOnPrimary", "Starting the virtual machine", 60),
    ]


def reprotect_tasks(committed: bool) -> list[SimTask]:
    """REC-540's five tasks; "Committing failover" is skipped when the failover is already committed (U4)."""
    return [
        _task(
            "SwitchReplicationGroupProtectionPreflightTask",
            "SwitchReplicationGroupProtectionPreflightTask",
            "Prerequisite check",
            30,
        ),
        _task("CommitFailoverTask", "VmCommitFailover", "Committing failover", 20, skipped=committed),
        _task("DiscoverReplicaTask", "DiscoverReplicaTask", "Discovering replica virtual machine", 60),
        _task(
            "GetSwitchProtectionRequirementsTask",
            "GetSwitchProtectionRequirementsTask",
            "Getting reprotection requirements",
            60,
        ),
        _task("ProtectReplicaTask", "ProtectReplicaTask", "Reprotecting virtual machine", 120),
    ]


def protection_state(stage: str, provider: str, initial: bool) -> tuple[str, str]:
    """protectionState and its description: recorded (MODERNIZED.md §3–§5), the committed one assumed (U3)."""
    if provider == FORWARD:
        if stage == "in-azure":
            return "UnplannedFailoverCommitted", "Failover committed"
        if initial:
            return "InitialReplicationRecoveryCompletionPending", "Waiting for first recovery point"
        return "Protected", "Protected"
    if stage == "failed-over":
        return "CommitPendingStatesBegin", "Planned failover finished"
    if stage == "committed":
        return "PlannedFailoverCommitted", "Failover committed"
    if initial:
        return "InitialReplicationInProgress", "Initial replication is in progress"
    return "Protected", "Protected"


def allowed_operations(stage: str, provider: str, initial: bool) -> list[str]:
    if provider == FORWARD and stage == "in-azure":
        return ["CompleteMigration", "DisableProtection", "SwitchProtection"]
    if provider == FORWARD:
        return ["DisableProtection"] if initial else ["UnplannedFailover", "TestFailover", "DisableProtection"]
    if stage == "failed-over":
        return ["CompleteMigration", "Commit", "DisableProtection", "SwitchProtection", "CancelFailover"]
    if stage == "committed":
        return ["DisableProtection", "SwitchProtection"]
    if stage == "ready" and not initial:
        return ["PlannedFailover", "DisableProtection"]
    return ["DisableProtection"]


class BadInput(ValueError):
    """A request body ASR would refuse with 400; the message says what is wrong, `code` the ASR code if any."""

    def __init__(self, message: str, code: int = 0) -> None:
        super().__init__(message)
        self.code = code


def _details(body: Any, instance_type: str, what: str) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    props = body.get("properties") if isinstance(body, Mapping) else None
    if not isinstance(props, Mapping):
        raise BadInput(f"The {what} request body needs 'properties'.")
    details = props.get("providerSpecificDetails")
    if not isinstance(details, Mapping):
        raise BadInput(f"properties.providerSpecificDetails is required for {what}.")
    if details.get("instanceType") != instance_type:
        raise BadInput(
            f"providerSpecificDetails.instanceType must be {instance_type!r} for this {what}, not "
            f"{details.get('instanceType')!r}."
        )
    return props, details


def planned_failover_point_type(body: Any) -> str:
    """The recoveryPointType of a planned failover body (required by the SDK); no direction is sent (§4)."""
    props, details = _details(body, FAILBACK, "planned failover")
    direction = props.get("failoverDirection")
    if direction not in (None, "RecoveryToPrimary"):
        raise BadInput(f"failoverDirection {direction!r} does not fail a modernized VM back from Azure.")
    kind = details.get("recoveryPointType")
    if kind not in POINT_TYPES:
        raise BadInput(f"recoveryPointType must be CrashConsistent or ApplicationConsistent, not {kind!r}.")
    return str(kind)


def plan_planned_failover_point_type(body: Any) -> str:
    """The recoveryPointType of a plan's planned failover (RecoveryPlanPlannedFailoverInput, MODERNIZED.md §9):
    failoverDirection required, one InMageRcmFailback entry in the providerSpecificDetails list, its type required,
    useMultiVmSyncPoint a string when given."""
    props = body.get("properties") if isinstance(body, Mapping) else None
    if not isinstance(props, Mapping):
        raise BadInput("The request body needs 'properties'.")
    direction = props.get("failoverDirection")
    if direction != "RecoveryToPrimary":
        raise BadInput(
            f"failoverDirection is required, and RecoveryToPrimary fails a modernized plan back from Azure; "
            f"not {direction!r}."
        )
    entries = props.get("providerSpecificDetails")
    if not isinstance(entries, list):
        raise BadInput("For a recovery plan, providerSpecificDetails is a list (one entry per provider).")
    entry = next((e for e in entries if isinstance(e, Mapping) and e.get("instanceType") == FAILBACK), None)
    if entry is None:
        raise BadInput(f"providerSpecificDetails has no {FAILBACK} entry for the plan's VMs.")
    kind = entry.get("recoveryPointType")
    if kind not in POINT_TYPES:
        raise BadInput(f"recoveryPointType must be CrashConsistent or ApplicationConsistent, not {kind!r}.")
    sync = entry.get("useMultiVmSyncPoint")
    if sync is not None and not isinstance(sync, str):
        raise BadInput('useMultiVmSyncPoint is a string ("True" or "False").')
    return str(kind)


def reprotect_to_avs_input(body: Any, agents: Mapping[str, set[str]], policies: set[str]) -> tuple[str, str]:
    """(reprotectAgentId, datastoreName) of an InMageRcmReprotectInput body (MODERNIZED.md §3): the agent, the
    datastore and the log storage account are required (SDK), the policy optional; `agents` maps each appliance
    id to the datastores its reprotect agent reaches, and another datastore is refused (U12)."""
    props, details = _details(body, FORWARD, "reprotect")
    direction = props.get("failoverDirection")
    if direction not in (None, "RecoveryToPrimary"):
        raise BadInput(f"failoverDirection {direction!r} does not reprotect an Azure VM to AVS.")
    agent = str(details.get("reprotectAgentId") or "")
    datastore = str(details.get("datastoreName") or "")
    if not agent or not datastore or not details.get("logStorageAccountId"):
        raise BadInput("reprotectAgentId, datastoreName and logStorageAccountId are required for the reprotect to AVS.")
    if agent.upper() not in agents:
        raise BadInput(f"reprotectAgentId {agent!r} is not an appliance of this vault.")
    if datastore not in agents[agent.upper()]:
        reach = ", ".join(sorted(agents[agent.upper()])) or "none"
        raise BadInput(
            f"The appliance's reprotect agent cannot reach the datastore {datastore!r} (it reaches: {reach}).",
            CODE_DATASTORE,
        )
    policy = str(details.get("policyId") or "")
    if policy and policy.rstrip("/").rsplit("/", 1)[-1].lower() not in policies:
        raise BadInput(f"policyId {policy!r} is not an Azure to AVS (InMageRcmFailback) policy of this vault.")
    return agent.upper(), datastore


def reprotect_to_azure_input(body: Any, process_servers: set[str], policies: set[str]) -> tuple[str, str]:
    """(processServerId, policyId) of an InMageRcmFailbackReprotectInput body; direction absent or
    PrimaryToRecovery (U20), runAsAccountId optional (U19)."""
    props, details = _details(body, FAILBACK, "reprotect")
    direction = props.get("failoverDirection")
    if direction not in (None, "PrimaryToRecovery"):
        raise BadInput(f"failoverDirection {direction!r} does not reprotect a failed-back VM to Azure.")
    server = str(details.get("processServerId") or "")
    policy = str(details.get("policyId") or "")
    if not server or not policy:
        raise BadInput("processServerId and policyId are required for the reprotect of a modernized VM to Azure.")
    if server.upper() not in process_servers:
        raise BadInput(f"processServerId {server!r} is not an appliance of this vault.")
    if policy.rstrip("/").rsplit("/", 1)[-1].lower() not in policies:
        raise BadInput(f"policyId {policy!r} is not an AVS to Azure (InMageRcm) policy of this vault.")
    return server.upper(), policy


def agent_registered(failed_over_at: datetime | None, now: datetime, minutes: float, never: bool) -> bool | None:
    """isAgentRegistrationSuccessfulAfterFailover: None before any failover, false for `minutes` after the planned
    failover ended (U7), and for good when the scenario says the agent never registers."""
    if failed_over_at is None:
        return None
    if never:
        return False
    return now - failed_over_at >= timedelta(minutes=minutes)


def agent_error_text(vm: str) -> tuple[str, str, str, str]:
    """(message, provider message, possible causes, recommended action) of the refused reprotect (U8)."""
    return (
        "The Mobility agent on the virtual machine has not registered since the planned failover.",
        f"The Mobility agent on '{vm}' has not registered with the replication appliance since the planned failover.",
        "After a planned failover the Mobility agent in the virtual machine registers with ASR by itself; until it "
        "has, the reprotect to Azure cannot start.",
        "Check that the virtual machine's Mobility services run and that it reaches the appliance, then retry.",
    )
