"""A modernized recovery plan: one planned failover from Azure for all its VMs, its cancel, its commit — the
bodies the SDK's own models accept unchanged, and the classic and mixed plans refused in plain words."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from azure.mgmt.recoveryservicessiterecovery import models as sdk

from core.failback import derive_stage
from core.model import Stage
from core.plans import can_cancel_plan, can_fail_over_plan, plan_kind, plan_view
from tests.cli.test_cli_operations import Rig
from tests.conformance.witness import Witness

PLAN = "rp-crm"
MEMBERS = ("crm-db-01", "crm-web-01")


@pytest.fixture
def rcm(tmp_path: Path) -> Rig:
    return Rig("modernized", tmp_path)


def stages(rig: Rig) -> set[str]:
    return {derive_stage(rig.item(name)).key for name in MEMBERS}


def test_without_a_point_the_choices_are_types_each_with_what_it_gives_up(rcm: Rig) -> None:
    code, out, err = rcm.run("plan-failover", PLAN)
    assert code == 2 and out == ""
    assert "planned failover from Azure" in err and "Crash-consistent, made when the job starts" in err
    assert "app-consistent" in err and "\\n" not in err
    assert rcm.posts() == 0


@pytest.mark.parametrize(
    ("point", "kind"), [("latest", "CrashConsistent"), ("app-consistent", "ApplicationConsistent")]
)
def test_the_plan_fails_back_with_one_planned_failover_the_sdk_accepts(rcm: Rig, point: str, kind: str) -> None:
    witness = Witness(rcm.emulator)
    code, out, err = rcm.run("plan-failover", PLAN, "--point", point, "--yes", "--wait", "--json")
    assert code == 0, err
    assert json.loads(out)["job"]["state"] == "Succeeded"
    posts = [e for e in witness.take() if e.method == "POST"]
    assert [e.segments[-1] for e in posts] == ["plannedFailover"]
    body = posts[0].request
    assert body == {
        "properties": {
            "failoverDirection": "RecoveryToPrimary",
            "providerSpecificDetails": [
                {"instanceType": "InMageRcmFailback", "recoveryPointType": kind, "useMultiVmSyncPoint": "True"}
            ],
        }
    }
    built = sdk.RecoveryPlanPlannedFailoverInput(body)
    assert built.as_dict() == body
    assert isinstance(built.properties.provider_specific_details[0], sdk.RecoveryPlanInMageRcmFailbackFailoverInput)
    assert rcm.emulator.stats.count("POST recoveryPlan unplannedFailover") == 0
    assert stages(rcm) == {"failed-over"}
    intent = rcm.records("intent")[-1]
    assert intent["operation"] == "plan-failover" and intent["details"]["kind"] == "plannedFailover"


def test_cancel_takes_every_vm_back_to_azure_and_the_plan_can_fail_back_again(rcm: Rig) -> None:
    assert rcm.run("plan-failover", PLAN, "--point", "latest", "--yes", "--wait")[0] == 0
    witness = Witness(rcm.emulator)
    code, out, err = rcm.run("plan-cancel", PLAN, "--yes", "--wait")
    assert code == 0, err
    posts = [e for e in witness.take() if e.method == "POST"]
    assert [e.segments[-1] for e in posts] == ["failoverCancel"] and posts[0].request is None
    assert stages(rcm) == {"ready"}
    assert rcm.run("plan-failover", PLAN, "--point", "latest", "--yes", "--wait")[0] == 0
    code, _, err = rcm.run("plan-commit", PLAN, "--confirm", PLAN, "--wait")
    assert code == 0, err
    assert stages(rcm) == {"committed"}
    code, _, err = rcm.run("plan-cancel", PLAN, "--yes")
    assert code == 4 and "finished planned failover" in err  # committed: nothing to cancel, nothing sent


def test_a_classic_plan_cannot_be_cancelled_and_says_why(tmp_path: Path) -> None:
    classic = Rig("demo", tmp_path)
    code, _, err = classic.run("plan-cancel", "rp-erp", "--yes")
    assert code == 4 and "classic plan" in err and "cannot be cancelled" in err
    assert classic.posts() == 0


def test_the_show_command_names_the_planned_failover_and_powershell_limits(rcm: Rig) -> None:
    code, out, _ = rcm.run("plan-failover", PLAN, "--point", "app-consistent", "--show-command")
    assert code == 0 and rcm.posts() == 0
    assert "/replicationRecoveryPlans/rp-crm/plannedFailover" in out
    assert "takes no recovery tag" in out  # PowerShell's plan cmdlet sends CrashConsistent only
    code, out, _ = rcm.run("plan-failover", PLAN, "--point", "latest", "--show-command")
    assert "Start-AzRecoveryServicesAsrPlannedFailoverJob -RecoveryPlan $plan -Direction RecoveryToPrimary" in out
    assert rcm.run("plan-failover", PLAN, "--point", "latest", "--yes", "--wait")[0] == 0
    sent = rcm.posts()
    code, out, _ = rcm.run("plan-cancel", PLAN, "--show-command")
    assert code == 0 and "/rp-crm/failoverCancel" in out and "-RecoveryPlan $plan" in out
    assert rcm.posts() == sent  # shown, not sent


def test_the_preflight_of_a_modernized_plan_asks_for_no_recovery_point(rcm: Rig) -> None:
    code, out, err = rcm.run("preflight", PLAN, "--json")
    assert code == 0, err
    checks = {c["key"]: c for c in json.loads(out)["checks"]}
    assert "recovery-points" not in checks and "master-target" not in checks
    assert checks["allowed-operation"]["level"] == "pass"
    # each VM's replication appliance, from the fabric; the datastores' space is a hand check
    assert checks["appliance"]["level"] == "pass" and checks["datastore"]["level"] == "warn"


def test_the_plans_vms_are_reprotected_through_one_appliance_without_a_master_target(rcm: Rig) -> None:
    assert rcm.run("plan-failover", PLAN, "--point", "latest", "--yes", "--wait")[0] == 0
    assert rcm.run("plan-commit", PLAN, "--confirm", PLAN, "--wait")[0] == 0
    witness = Witness(rcm.emulator)
    code, _out, err = rcm.run("plan-reprotect", PLAN, "--appliance", "rcm-avs-weu-01", "--yes")
    assert code == 4 and "has not registered since the planned failover" in err and "Nothing was sent" in err
    assert not [e for e in witness.take() if e.method == "POST"]
    rcm.clock.advance(16 * 60)  # the Mobility agents register (the emulator's rcm_agent_minutes)
    code, out, err = rcm.run("plan-reprotect", PLAN, "--appliance", "rcm-avs-weu-01", "--yes", "--wait")
    assert code == 0, err
    assert "master target" not in out.lower()
    sent = [e.request for e in witness.take() if e.method == "POST"]
    assert sent and all(b["properties"]["providerSpecificDetails"]["instanceType"] == "InMageRcmFailback" for b in sent)
    assert all(sdk.ReverseReplicationInput(b).as_dict() == b for b in sent)
    assert stages(rcm) == {"protected-to-azure"}


def test_a_mixed_plan_is_refused_before_anything_is_sent(rcm: Rig) -> None:
    items = rcm.backend.list_items()
    plan = next(p for p in rcm.backend.list_plans() if p.name == PLAN)
    crm = next(i for i in items if i.friendly_name == "crm-web-01")
    classic = replace(crm, id=crm.id + "-classic", friendly_name="old-01", instance_type="InMage")
    group = plan.groups[0]
    grown = replace(group, item_ids=(*group.item_ids, classic.id))
    view = plan_view(replace(plan, groups=(grown, *plan.groups[1:])), [*items, classic])
    assert plan_kind(view) is None
    verdict = can_fail_over_plan(view, {})
    assert not verdict.allowed and "classic VMs and modernized ones" in verdict.reason
    assert "split the plan" in verdict.reason
    assert not can_cancel_plan(view).allowed


def test_a_plan_whose_vms_asr_does_not_offer_for_planned_failover_is_refused(rcm: Rig) -> None:
    items = rcm.backend.list_items()
    plan = next(p for p in rcm.backend.list_plans() if p.name == PLAN)
    stripped = [replace(i, allowed_operations=()) if i.friendly_name == "crm-db-01" else i for i in items]
    view = plan_view(plan, stripped)
    if derive_stage(next(i for i in stripped if i.friendly_name == "crm-db-01")) is Stage.READY:
        verdict = can_fail_over_plan(view, {})
        assert not verdict.allowed and "crm-db-01" in verdict.reason
