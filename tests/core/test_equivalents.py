"""Request bodies and the REST / az / PowerShell equivalents of each operation."""

from __future__ import annotations

import json
import shlex
from datetime import UTC, datetime

import pytest

from core.equivalents import (
    API_VERSION,
    OPERATIONS,
    equivalents,
    failover_body,
    job_filter_text,
    reprotect_body,
)
from core.errors import UsageError
from core.model import JobFilter, PointChoice, ReprotectTarget, VaultRef
from tests.core.itemfactory import VAULT_ID, committed_item, ready_item

VAULT = VaultRef.parse(VAULT_ID)
TARGET = ReprotectTarget(
    process_server_id="ps-guid",
    master_target_id="mt-guid",
    run_as_account_id="2",
    policy_id="/Subscriptions/sub-1/x/replicationPolicies/pol-avs",
)


def _rest_body(rest: str) -> dict:
    return json.loads(rest.split("\n\n", 1)[1])


def test_failover_bodies_match_the_recorded_failback_request_with_the_shutdown_asked() -> None:
    assert failover_body(PointChoice.LATEST) == {
        "properties": {
            "failoverDirection": "PrimaryToRecovery",
            "sourceSiteOperations": "Required",
            "providerSpecificDetails": {"instanceType": "InMage", "recoveryPointType": "LatestTime"},
        }
    }
    tag = failover_body(PointChoice.LATEST_APP_CONSISTENT)["properties"]["providerSpecificDetails"]
    assert tag == {"instanceType": "InMage", "recoveryPointType": "LatestTag"}
    custom = failover_body(PointChoice.CUSTOM, "/x/recoveryPoints/rp1")["properties"]["providerSpecificDetails"]
    assert custom == {
        "instanceType": "InMage",
        "recoveryPointType": "Custom",
        "recoveryPointId": "/x/recoveryPoints/rp1",
    }
    with pytest.raises(UsageError):
        failover_body(PointChoice.CUSTOM)


def test_reprotect_body_matches_the_recorded_request() -> None:
    assert reprotect_body(TARGET) == {
        "properties": {
            "failoverDirection": "RecoveryToPrimary",
            "providerSpecificDetails": {
                "instanceType": "InMageAzureV2",
                "masterTargetId": "mt-guid",
                "processServerId": "ps-guid",
                "runAsAccountId": "2",
                "policyId": "/Subscriptions/sub-1/x/replicationPolicies/pol-avs",
            },
        }
    }
    minimal = reprotect_body(ReprotectTarget("ps", "mt", disks_to_include=("d1",)))["properties"]
    assert minimal["providerSpecificDetails"] == {
        "instanceType": "InMageAzureV2",
        "masterTargetId": "mt",
        "processServerId": "ps",
        "disksToInclude": ["d1"],
    }


def test_failover_equivalent() -> None:
    item = ready_item()
    eq = equivalents("failover", vault=VAULT, item=item, choice=PointChoice.LATEST)
    first = eq.rest.splitlines()[0]
    assert first == f"POST https://management.azure.com{item.id}/unplannedFailover?api-version={API_VERSION}"
    assert _rest_body(eq.rest) == failover_body(PointChoice.LATEST)
    native, rest = eq.az.splitlines()
    args = shlex.split(native)
    assert args[:4] == ["az", "site-recovery", "protected-item", "unplanned-failover"]
    assert args[args.index("--fabric-name") + 1] == "fab-vmware"
    assert args[args.index("-n") + 1] == "rpi-web01"
    assert args[args.index("--failover-direction") + 1] == "PrimaryToRecovery"
    assert args[args.index("--provider-details") + 1] == "{in-mage:{recovery-point-type:LatestTime}}"
    rest_args = shlex.split(rest)
    assert rest_args[:4] == ["az", "rest", "--method", "post"]
    assert json.loads(rest_args[rest_args.index("--body") + 1]) == failover_body(PointChoice.LATEST)
    assert "Start-AzRecoveryServicesAsrUnplannedFailoverJob -ReplicationProtectedItem $rpi" in eq.powershell
    assert "-Direction PrimaryToRecovery -RecoveryTag Latest" in eq.powershell
    assert "Get-AzRecoveryServicesAsrReplicationProtectedItem" in eq.powershell
    assert "rg-dr" in eq.powershell and "vault-avs" in eq.powershell


def test_app_consistent_and_custom_failover_equivalents() -> None:
    item = ready_item()
    app = equivalents("failover", vault=VAULT, item=item, choice="app-consistent")
    assert "-RecoveryTag LatestAvailableApplicationConsistent" in app.powershell
    assert _rest_body(app.rest)["properties"]["providerSpecificDetails"]["recoveryPointType"] == "LatestTag"
    custom = equivalents("failover", vault=VAULT, item=item, choice=PointChoice.CUSTOM, recovery_point_id="rp-x")
    assert "recovery-point-id" in custom.az
    assert "Invoke-AzRestMethod -Method POST" in custom.powershell
    assert "-RecoveryTag" not in custom.powershell


def test_commit_and_reprotect_equivalents() -> None:
    item = committed_item()
    commit = equivalents("commit", vault=VAULT, item=item)
    assert commit.rest.splitlines()[0].startswith(f"POST https://management.azure.com{item.id}/failoverCommit?")
    assert "Content-Type" not in commit.rest
    assert "az site-recovery protected-item failover-commit" in commit.az
    assert "Start-AzRecoveryServicesAsrCommitFailoverJob -ReplicationProtectedItem $rpi" in commit.powershell

    rep = equivalents("reprotect", vault=VAULT, item=item, target=TARGET, process_server_name="ps-azure-01")
    assert f"{item.id}/reProtect?" in rep.rest
    assert _rest_body(rep.rest) == reprotect_body(TARGET)
    assert "az site-recovery protected-item reprotect" in rep.az
    assert 'process-server-id:"ps-guid"' in rep.az
    assert "Update-AzRecoveryServicesAsrProtectionDirection -VMwareToAzure" in rep.powershell
    assert "FriendlyName -eq 'ps-azure-01'" in rep.powershell
    with pytest.raises(UsageError):
        equivalents("reprotect", vault=VAULT, item=item)


def test_job_and_list_equivalents() -> None:
    cancel = equivalents("job-cancel", vault=VAULT, job_name="job-1")
    assert cancel.rest.splitlines()[0] == (
        f"POST https://management.azure.com{VAULT.arm_id}/replicationJobs/job-1/cancel?api-version={API_VERSION}"
    )
    assert "az site-recovery job cancel" in cancel.az
    assert "Stop-AzRecoveryServicesAsrJob -Job $job" in cancel.powershell
    resume = equivalents("resume", vault=VAULT, job_name="job-1", comment="checked it")
    assert _rest_body(resume.rest) == {"properties": {"comments": "checked it"}}
    assert "Resume-AzRecoveryServicesAsrJob -Job $job -Comment 'checked it'" in resume.powershell
    assert "Restart-AzRecoveryServicesAsrJob" in equivalents("job-restart", vault=VAULT, job_name="j").powershell
    items = equivalents("list-items", vault=VAULT)
    assert items.rest.startswith(f"GET https://management.azure.com{VAULT.arm_id}/replicationProtectedItems?")
    jobs = equivalents("list-jobs", vault=VAULT, states=("Failed",))
    assert "%24filter" not in jobs.rest and "$filter=JobStatus%20eq%20%27Failed%27" in jobs.rest
    assert "Get-AzRecoveryServicesAsrJob -State Failed" in jobs.powershell
    assert "Get-AzRecoveryServicesAsrRecoveryPoint" in equivalents("points", vault=VAULT, item=ready_item()).powershell
    assert "Get-AzRecoveryServicesAsrJob -Name 'j'" in equivalents("job", vault=VAULT, job_name="j").powershell


def test_sovereign_endpoint_and_errors() -> None:
    eq = equivalents("commit", vault=VAULT, item=committed_item(), arm_endpoint="https://management.chinacloudapi.cn/")
    assert eq.rest.splitlines()[0].startswith("POST https://management.chinacloudapi.cn/Subscriptions/")
    with pytest.raises(UsageError):
        equivalents("explode", vault=VAULT)
    with pytest.raises(UsageError):
        equivalents("commit", vault=VAULT)
    with pytest.raises(UsageError):
        equivalents("job-cancel", vault=VAULT)
    assert "failover" in OPERATIONS


def test_job_filter_text() -> None:
    start = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
    text = job_filter_text(JobFilter(states=("InProgress", "Failed"), start_time=start))
    assert text == (
        "StartTime eq '2026-11-25T00:00:00.0000000Z' and ( JobStatus eq 'InProgress' or JobStatus eq 'Failed' )"
    )
    assert job_filter_text(None) == ""


def test_plan_equivalents_and_body() -> None:
    from core.equivalents import plan_failover_body
    from core.model import RecoveryPlan

    assert plan_failover_body(PointChoice.LATEST_APP_CONSISTENT) == {
        "properties": {
            "failoverDirection": "RecoveryToPrimary",
            "sourceSiteOperations": "Required",
            "providerSpecificDetails": [{"instanceType": "InMage", "recoveryPointType": "LatestTag"}],
        }
    }
    with pytest.raises(UsageError):
        plan_failover_body(PointChoice.CUSTOM)
    plan = RecoveryPlan(id=f"{VAULT.arm_id}/replicationRecoveryPlans/rp-erp", name="rp-erp", friendly_name="ERP")
    eq = equivalents("plan-failover", vault=VAULT, plan=plan, choice="app-consistent")
    assert f"{VAULT.arm_id}/replicationRecoveryPlans/rp-erp/unplannedFailover?" in eq.rest
    assert _rest_body(eq.rest) == plan_failover_body(PointChoice.LATEST_APP_CONSISTENT)
    assert "-RecoveryPlan $plan -Direction RecoveryToPrimary -RecoveryTag LatestAvailableApplicationConsistent" in (
        eq.powershell
    )
    assert "az rest --method post" in eq.az
    commit = equivalents("plan-commit", vault=VAULT, plan=plan)
    assert commit.rest.splitlines()[0].endswith(
        "/replicationRecoveryPlans/rp-erp/failoverCommit?api-version=2025-08-01"
    )
    assert "Start-AzRecoveryServicesAsrCommitFailoverJob -RecoveryPlan $plan" in commit.powershell
    with pytest.raises(UsageError):
        equivalents("plan-commit", vault=VAULT)
