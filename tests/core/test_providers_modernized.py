"""The modernized provider on the recorded item states (MODERNIZED.md §3–§7): stages, verdicts and the bodies it
sends, each held to the SDK input model that must accept it unchanged."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from azure.mgmt.recoveryservicessiterecovery import models as sdk

from core.errors import NotAllowedNow, UsageError
from core.failback import can_cancel, can_commit, can_failover, can_reprotect, derive_stage, next_step, stage_reason
from core.model import (
    CurrentScenario,
    PointChoice,
    ProtectedItem,
    RcmDetails,
    RcmReprotectToAvs,
    RcmReprotectToAzure,
    ReprotectTarget,
    Stage,
)
from core.providers import CLASSIC, MODERNIZED, Verb, provider_for
from core.providers.modernized import TRADEOFF, plan_planned_failover_body
from tests.core.itemfactory import ready_item

# (instanceType, protectionState, activeLocation, allowedOperations) as recorded, and the stage each one is.
RECORDED = {
    "in-azure-committed": (
        "InMageRcm",
        "UnplannedFailoverCommitted",
        "Recovery",
        ("CompleteMigration", "DisableProtection", "SwitchProtection"),
        Stage.IN_AZURE,
    ),
    "in-azure-pending": (
        "InMageRcm",
        "UnplannedFailoverCommitPendingStatesBegin",
        "Recovery",
        ("CompleteMigration", "Commit", "DisableProtection", "ChangePit", "SwitchProtection"),
        Stage.IN_AZURE,
    ),
    "failback-ir": (
        "InMageRcmFailback",
        "InitialReplicationInProgress",
        "Primary",
        ("DisableProtection",),
        Stage.NOT_READY,
    ),
    "ready": ("InMageRcmFailback", "Protected", "Primary", ("PlannedFailover", "DisableProtection"), Stage.READY),
    "planned-failover-finished": (
        "InMageRcmFailback",
        "CommitPendingStatesBegin",
        "Recovery",
        ("CompleteMigration", "Commit", "DisableProtection", "SwitchProtection", "CancelFailover"),
        Stage.FAILED_OVER,
    ),
    "committed": (
        "InMageRcmFailback",
        "PlannedFailoverCommitted",
        "Recovery",
        ("DisableProtection", "SwitchProtection"),
        Stage.COMMITTED,
    ),
    "forward": (
        "InMageRcm",
        "Protected",
        "Primary",
        ("UnplannedFailover", "DisableProtection"),
        Stage.PROTECTED_TO_AZURE,
    ),
}


def rcm_item(state: str, **changes: Any) -> ProtectedItem:
    kind, protection, location, allowed, _stage = RECORDED[state]
    base = ready_item(
        name="vcenter67_5015",
        friendly="Rcm-W2K19-152",
        instance_type=kind,
        active_site_type="",
        protection_state=protection,
        active_location=location,
        allowed_operations=allowed,
        last_recovery_point_time=None,  # the failback leg reports none (MODERNIZED.md §10)
        multi_vm_group_name="",
        rcm=RcmDetails(appliance_id="7d30ec24", appliance_name="Rcm-App-150", agent_registered_after_failover=True),
    )
    return replace(base, **changes)


@pytest.mark.parametrize("state", sorted(RECORDED))
def test_each_recorded_state_has_its_stage_and_no_text_sends_the_operator_to_the_portal(state: str) -> None:
    item = rcm_item(state)
    assert derive_stage(item) is RECORDED[state][4]
    texts = [stage_reason(item), next_step(item)] + [provider_for(item).verdict(item, v).reason for v in Verb]
    assert not any("portal" in t.lower() for t in texts), texts


def test_ready_without_a_point_time_and_the_failover_is_a_planned_one() -> None:
    item = rcm_item("ready")
    assert can_failover(item).allowed
    assert "planned failover" in can_failover(item).reason
    request = provider_for(item).failover_request(item, PointChoice.LATEST)
    assert request.operation == "plannedFailover"
    assert request.body == {
        "properties": {
            "providerSpecificDetails": {"instanceType": "InMageRcmFailback", "recoveryPointType": "CrashConsistent"}
        }
    }
    assert sdk.PlannedFailoverInput(request.body).as_dict() == request.body
    app = provider_for(item).failover_request(item, PointChoice.LATEST_APP_CONSISTENT)
    assert app.body is not None and app.body["properties"]["providerSpecificDetails"]["recoveryPointType"] == (
        "ApplicationConsistent"
    )


def test_a_chosen_point_is_refused_for_a_modernized_vm() -> None:
    with pytest.raises(UsageError, match="type of point"):
        MODERNIZED.failover_request(rcm_item("ready"), PointChoice.CUSTOM, "point-1")


def test_cancel_only_while_asr_offers_it_and_never_for_classic() -> None:
    finished = rcm_item("planned-failover-finished")
    assert can_cancel(finished).allowed
    assert MODERNIZED.cancel_request(finished).operation == "failoverCancel"
    assert MODERNIZED.cancel_request(finished).body is None
    assert not can_cancel(rcm_item("ready")).allowed
    classic = ready_item()
    assert "cannot be cancelled" in can_cancel(classic).reason
    with pytest.raises(NotAllowedNow):
        CLASSIC.cancel_request(classic)


def test_commit_after_the_planned_failover_and_no_reprotect_before_it() -> None:
    finished = rcm_item("planned-failover-finished")
    assert can_commit(finished).allowed
    refused = can_reprotect(finished)
    assert not refused.allowed and "Commit" in refused.reason


def test_reprotect_back_waits_for_the_agent_and_allows_an_unknown_flag_with_a_note() -> None:
    committed = rcm_item("committed")
    assert can_reprotect(committed).allowed
    waiting = replace(committed, rcm=RcmDetails(agent_registered_after_failover=False))
    assert not can_reprotect(waiting).allowed and "Mobility agent" in can_reprotect(waiting).reason
    unknown = replace(committed, rcm=RcmDetails(agent_registered_after_failover=None))
    assert can_reprotect(unknown).allowed and "does not report" in can_reprotect(unknown).reason


def test_reprotect_to_avs_body_as_recorded_and_accepted_by_the_sdk() -> None:
    item = rcm_item("in-azure-committed")
    assert can_reprotect(item).allowed
    target = RcmReprotectToAvs("7d30ec24", "SharedDS-84-85", "/subscriptions/s/.../storageAccounts/v2aecystor", "/p/fb")
    body = MODERNIZED.reprotect_request(item, target).body
    assert body == {
        "properties": {
            "failoverDirection": "RecoveryToPrimary",
            "providerSpecificDetails": {
                "instanceType": "InMageRcm",
                "reprotectAgentId": "7d30ec24",
                "datastoreName": "SharedDS-84-85",
                "logStorageAccountId": "/subscriptions/s/.../storageAccounts/v2aecystor",
                "policyId": "/p/fb",
            },
        }
    }
    assert sdk.ReverseReplicationInput(body).as_dict() == body
    assert "also commits" in can_reprotect(rcm_item("in-azure-pending")).reason


def test_reprotect_to_azure_body_as_recorded_and_accepted_by_the_sdk() -> None:
    item = rcm_item("committed")
    body = MODERNIZED.reprotect_request(item, RcmReprotectToAzure("7d30ec24", "/p/fwd")).body
    assert body == {
        "properties": {
            "providerSpecificDetails": {
                "instanceType": "InMageRcmFailback",
                "processServerId": "7d30ec24",
                "policyId": "/p/fwd",
            }
        }
    }
    assert sdk.ReverseReplicationInput(body).as_dict() == body


def test_a_target_of_the_other_stack_is_refused() -> None:
    with pytest.raises(UsageError, match="replication appliance"):
        MODERNIZED.reprotect_request(rcm_item("committed"), ReprotectTarget("ps", "mt"))
    with pytest.raises(UsageError, match="process server"):
        CLASSIC.reprotect_request(ready_item(), RcmReprotectToAzure("ps", "p"))


def test_plan_body_as_powershell_builds_it_and_accepted_by_the_sdk() -> None:
    body = plan_planned_failover_body(PointChoice.LATEST)
    assert body["properties"]["providerSpecificDetails"] == [
        {"instanceType": "InMageRcmFailback", "recoveryPointType": "CrashConsistent", "useMultiVmSyncPoint": "True"}
    ]
    assert sdk.RecoveryPlanPlannedFailoverInput(body).as_dict() == body


def test_the_point_wording_claims_no_lossless_failback() -> None:
    for text in TRADEOFF.values():
        assert "no data loss" not in text.lower() and "zero" not in text.lower()


def test_running_jobs_name_their_stage_including_the_cancel() -> None:
    running = CurrentScenario("CancelFailover", "job-c", "id", None)
    item = rcm_item("planned-failover-finished", current_scenario=running)
    assert derive_stage(item) is Stage.CANCEL_RUNNING
    assert "job-c" in stage_reason(item) and not can_commit(item).allowed
