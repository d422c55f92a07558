"""Stage derivation, guards and the agent-registration classifier of core.failback."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.errors import NotFound, UsageError
from core.failback import (
    AGENT_REGISTRATION_WINDOW,
    can_commit,
    can_failover,
    can_reprotect,
    derive_stage,
    is_agent_registration_failure,
    next_step,
    resolve_item,
    stage_reason,
)
from core.model import ErrorDetail, Stage
from tests.core.itemfactory import committed_item, failed_job, failed_over_item, ready_item, running


def test_ready_failback_leg_item() -> None:
    item = ready_item()
    assert derive_stage(item) is Stage.READY
    verdict = can_failover(item)
    assert verdict.allowed
    assert "avs-cloud-1" in verdict.reason
    assert next_step(item) == "Fail back"


@pytest.mark.parametrize(
    ("scenario", "stage"),
    [
        ("UnplannedFailover", Stage.FAILOVER_RUNNING),
        ("CommitFailover", Stage.COMMIT_RUNNING),
        ("SwitchReplicationGroupProtection", Stage.REPROTECT_RUNNING),
        ("SwitchProtection", Stage.REPROTECT_RUNNING),
        ("ReverseReplicate", Stage.REPROTECT_RUNNING),
    ],
)
def test_running_scenario_decides_the_stage(scenario: str, stage: Stage) -> None:
    item = failed_over_item(current_scenario=running(scenario, "job-42"))
    assert derive_stage(item) is stage
    assert "job-42" in stage_reason(item)
    assert next_step(item) == "Wait for the job"


def test_failed_over_from_state_name_and_from_commit_allowed() -> None:
    assert derive_stage(failed_over_item()) is Stage.FAILED_OVER
    by_ops = ready_item(protection_state="SomethingNew", active_location="Recovery", allowed_operations=("Commit",))
    assert derive_stage(by_ops) is Stage.FAILED_OVER
    assert next_step(by_ops) == "Verify, then commit"


def test_committed_from_operations_or_state_name() -> None:
    assert derive_stage(committed_item()) is Stage.COMMITTED
    by_ops = ready_item(protection_state="Weird", allowed_operations=("SwitchProtection",))
    assert derive_stage(by_ops) is Stage.COMMITTED
    by_name = ready_item(protection_state="FailoverCommittedStatesBegin", allowed_operations=())
    assert derive_stage(by_name) is Stage.COMMITTED
    assert next_step(committed_item()) == "Reprotect"


def test_protected_to_azure() -> None:
    item = ready_item(instance_type="InMageAzureV2", active_site_type="", allowed_operations=("PlannedFailover",))
    assert derive_stage(item) is Stage.PROTECTED_TO_AZURE
    assert "complete" in stage_reason(item)
    assert not can_failover(item).allowed


@pytest.mark.parametrize(
    ("state", "words"),
    [
        ("UnprotectedStatesBegin", "being enabled"),
        ("EnablingProtection", "being enabled"),
        ("EnablingFailed", "failed"),
        ("InitialReplicationInProgress", "Initial replication"),
        ("ResynchronizationStatesBegin", "Resynchronisation"),
        ("TotallyUnknownState42", "TotallyUnknownState42"),
        ("", "no protection state"),
    ],
)
def test_not_ready_states_say_why(state: str, words: str) -> None:
    item = ready_item(protection_state=state, protection_state_description="", allowed_operations=())
    assert derive_stage(item) is Stage.NOT_READY
    assert words in stage_reason(item)
    verdict = can_failover(item)
    assert not verdict.allowed
    assert words in verdict.reason
    assert next_step(item) == ""


def test_not_ready_without_recovery_point() -> None:
    item = ready_item(last_recovery_point_time=None)
    assert derive_stage(item) is Stage.NOT_READY
    assert "recovery point" in stage_reason(item)
    assert not can_failover(item).allowed


def test_inmage_towards_azure_is_not_a_failback_item() -> None:
    item = ready_item(active_site_type="VMware")
    assert derive_stage(item) is Stage.NOT_READY
    assert "nothing to fail back" in stage_reason(item)


def test_modernized_items_go_through_their_own_provider() -> None:
    # the failback leg offers PlannedFailover, not the classic UnplannedFailover (MODERNIZED.md §4)
    rcm_failback = ready_item(instance_type="InMageRcmFailback", active_site_type="", multi_vm_group_name="")
    assert derive_stage(rcm_failback) is Stage.NOT_READY
    assert not can_failover(rcm_failback).allowed
    ready = replace(rcm_failback, allowed_operations=("PlannedFailover", "DisableProtection"))
    assert derive_stage(ready) is Stage.READY
    assert can_failover(ready).allowed and next_step(ready) == "Fail back"
    rcm = ready_item(instance_type="InMageRcm", active_site_type="")
    assert derive_stage(rcm) is Stage.PROTECTED_TO_AZURE
    assert not can_commit(replace(rcm, allowed_operations=("Commit",))).allowed


def test_failover_needs_the_allowed_operation_not_just_the_state() -> None:
    item = ready_item(allowed_operations=("DisableProtection",))
    assert derive_stage(item) is Stage.READY
    verdict = can_failover(item)
    assert not verdict.allowed
    assert "UnplannedFailover" in verdict.reason
    assert next_step(item) == ""


def test_failover_refused_while_a_job_runs() -> None:
    item = ready_item(current_scenario=running("TestFailover", "job-77"))
    verdict = can_failover(item)
    assert not verdict.allowed
    assert "job-77" in verdict.reason


def test_failover_refused_for_a_named_consistency_group_member() -> None:
    item = ready_item(multi_vm_group_name="sql-tier", multi_vm_group_id="guid-1")
    verdict = can_failover(item)
    assert not verdict.allowed
    assert "sql-tier" in verdict.reason and "recovery plan" in verdict.reason


def test_commit_guard() -> None:
    assert can_commit(failed_over_item()).allowed
    assert "deletes the failed-over Azure VM" in can_commit(failed_over_item()).reason
    no_op = failed_over_item(allowed_operations=("DisableProtection",))
    assert derive_stage(no_op) is Stage.FAILED_OVER
    assert not can_commit(no_op).allowed
    early = can_commit(ready_item())
    assert not early.allowed and Stage.READY.label in early.reason


def test_reprotect_guard() -> None:
    assert can_reprotect(committed_item()).allowed
    assert can_reprotect(committed_item(allowed_operations=("SwitchProtection",))).allowed
    named_only = committed_item(allowed_operations=())
    assert derive_stage(named_only) is Stage.COMMITTED
    assert not can_reprotect(named_only).allowed
    assert not can_reprotect(failed_over_item()).allowed
    busy = committed_item(current_scenario=running("SwitchProtection"))
    assert not can_reprotect(busy).allowed


def test_agent_registration_window_is_fifteen_minutes() -> None:
    assert AGENT_REGISTRATION_WINDOW.total_seconds() == 15 * 60


@pytest.mark.parametrize(
    "detail",
    [
        ErrorDetail(code="95120", message="The Mobility service agent isn't installed on the VM."),
        ErrorDetail(code="", message="", provider_message="Mobility Service  is NOT registered with the CS."),
        ErrorDetail(code="x", message="Protection failed", provider_message="The agent is not installed on web01"),
        ErrorDetail(code="x", message="Agent hasn\u2019t registered yet"),
    ],
)
def test_agent_registration_failure_found_in_job_or_task_errors(detail: ErrorDetail) -> None:
    assert is_agent_registration_failure(failed_job(detail))
    assert is_agent_registration_failure(failed_job(task_errors=(detail,)))


def test_other_failures_are_not_agent_registration() -> None:
    other = ErrorDetail(code="78093", message="The VM is not running, hung or not accessible.")
    not_agent = ErrorDetail(code="1", message="The datastore is not registered with ESXi.")
    assert not is_agent_registration_failure(failed_job(other))
    assert not is_agent_registration_failure(failed_job(not_agent))
    assert not is_agent_registration_failure(failed_job())


def test_resolve_item_by_friendly_name_name_or_id() -> None:
    a = ready_item("rpi-a", "Web01")
    b = ready_item("rpi-b", "db01")
    assert resolve_item([a, b], "web01") is a
    assert resolve_item([a, b], "RPI-B") is b
    assert resolve_item([a, b], a.id.upper()) is a
    with pytest.raises(NotFound):
        resolve_item([a, b], "nope")
    twin = ready_item("rpi-c", "web01")
    with pytest.raises(UsageError) as err:
        resolve_item([a, b, twin], "web01")
    listed = " ".join(err.value.listing)
    assert "rpi-a" in listed and "rpi-c" in listed
    assert err.value.exit_code == 2


def test_poor_health_is_mentioned_but_does_not_block() -> None:
    from core.model import HealthError

    error = HealthError(code="78122", message="Data upload to Azure is stalled.")
    item = ready_item(replication_health="Critical", health_errors=(error,))
    verdict = can_failover(item)
    assert verdict.allowed
    assert "replication health is Critical (Data upload to Azure is stalled)." in verdict.reason
    assert "Note" not in can_failover(ready_item()).reason


def test_group_member_next_step_points_to_the_plan() -> None:
    member = ready_item(multi_vm_group_name="sql-tier", multi_vm_group_id="g1")
    assert next_step(member) == "Fail back its recovery plan"
    assert next_step(replace(member, allowed_operations=())) == ""


def test_the_agent_window_is_told_from_the_last_failover_time() -> None:
    from dataclasses import replace
    from datetime import timedelta

    from core.failback import agent_window, agent_window_words
    from tests.core.itemfactory import NOW, committed_item

    item = replace(committed_item(), last_successful_failover_time=NOW - timedelta(minutes=3))
    assert agent_window(item, NOW) == (180.0, 720.0)
    words = agent_window_words(item, NOW)
    assert "booted in AVS 3 minutes ago" in words and "window ends in about 12 minutes" in words
    late = replace(item, last_successful_failover_time=NOW - timedelta(hours=2))
    assert agent_window(late, NOW) == (7200.0, 0.0)
    assert "registration window is over" in agent_window_words(late, NOW)
    unknown = replace(item, last_successful_failover_time=None)
    assert agent_window(unknown, NOW) is None and "is not known" in agent_window_words(unknown, NOW)
