"""Builders of ProtectedItem, RecoveryPoint and Job values for the core and CLI tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from core.model import (
    CurrentScenario,
    ErrorDetail,
    Job,
    JobState,
    JobTask,
    PointKind,
    ProtectedItem,
    RecoveryPoint,
)

NOW = datetime(2026, 11, 25, 14, 3, 9, tzinfo=UTC)
VAULT_ID = "/subscriptions/sub-1/resourceGroups/rg-dr/providers/Microsoft.RecoveryServices/vaults/vault-avs"


def item_id(name: str, fabric: str = "fab-vmware", container: str = "cont-1") -> str:
    return (
        f"/Subscriptions/sub-1/resourceGroups/rg-dr/providers/Microsoft.RecoveryServices/vaults/vault-avs"
        f"/replicationFabrics/{fabric}/replicationProtectionContainers/{container}"
        f"/replicationProtectedItems/{name}"
    )


def ready_item(name: str = "rpi-web01", friendly: str = "web01", **changes: Any) -> ProtectedItem:
    """A failback-leg item (InMage, active site Azure) with a recovery point: ready to fail back."""
    base = ProtectedItem(
        id=item_id(name),
        name=name,
        friendly_name=friendly,
        fabric_name="fab-vmware",
        container_name="cont-1",
        protection_state="Protected",
        protection_state_description="Protected",
        active_location="Primary",
        replication_health="Normal",
        failover_health="Normal",
        allowed_operations=("UnplannedFailover", "DisableProtection"),
        instance_type="InMage",
        active_site_type="Azure",
        multi_vm_group_id="5b0f3c5e-0000-4000-8000-000000000001",
        multi_vm_group_name="5b0f3c5e-0000-4000-8000-000000000001",
        rpo_seconds=38,
        last_recovery_point_time=datetime(2026, 11, 25, 14, 2, 31, tzinfo=UTC),
        recovery_fabric_friendly_name="avs-cloud-1",
        process_server_id="ps-1",
        master_target_id="mt-1",
        policy_id="/Subscriptions/sub-1/.../replicationPolicies/pol-failback",
    )
    return replace(base, **changes)


def failed_over_item(**changes: Any) -> ProtectedItem:
    base = ready_item(
        protection_state="UnplannedFailoverCommitPendingStatesBegin",
        protection_state_description="Failover completed",
        active_location="Recovery",
        allowed_operations=("CompleteMigration", "Commit", "DisableProtection", "ChangePit"),
    )
    return replace(base, **changes)


def committed_item(**changes: Any) -> ProtectedItem:
    base = ready_item(
        protection_state="UnplannedFailoverCommittedStatesBegin",
        protection_state_description="Failover committed",
        active_location="Recovery",
        allowed_operations=("ReverseReplicate", "DisableProtection"),
    )
    return replace(base, **changes)


def running(name: str, job: str = "job-1") -> CurrentScenario:
    return CurrentScenario(
        name=name,
        job_name=job,
        job_id=f"/Subscriptions/sub-1/resourceGroups/rg-dr/providers/Microsoft.RecoveryServices/vaults/vault-avs/replicationJobs/{job}",
        start_time=NOW,
    )


def point(minutes_before: float, kind: PointKind, name: str = "", *, at: datetime = NOW) -> RecoveryPoint:
    from datetime import timedelta

    when = at - timedelta(minutes=minutes_before)
    rp_name = name or f"rp-{int(minutes_before * 60)}"
    return RecoveryPoint(id=f"{item_id('rpi-web01')}/recoveryPoints/{rp_name}", name=rp_name, time=when, kind=kind)


def failed_job(*errors: ErrorDetail, task_errors: tuple[ErrorDetail, ...] = ()) -> Job:
    task = JobTask(
        task_id="t1",
        name="SwitchReplicationGroupProtectionPreflightTask",
        friendly_name="Prerequisite check",
        state=JobState.FAILED,
        state_description="Failed",
        errors=task_errors,
    )
    return Job(
        id="/x/replicationJobs/job-9",
        name="job-9",
        scenario_name="SwitchReplicationGroupProtection",
        friendly_name="Reprotect",
        state=JobState.FAILED,
        state_description="Failed",
        tasks=(task,),
        errors=errors,
    )
