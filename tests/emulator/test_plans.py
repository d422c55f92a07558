"""Recovery plans: shape, plan failover over every member, manual actions, group points, deprecated reprotect."""

from __future__ import annotations

import json
from typing import Any

import pytest

from core.clock import ManualClock
from core.emulator import ArmEmulator, load_scenario
from tests.emulator.conftest import AUTH, BASE, Call, item_path, job_name, url


def _plan_body(point_type: str = "LatestTime") -> dict[str, Any]:
    return {
        "properties": {
            "failoverDirection": "RecoveryToPrimary",
            "sourceSiteOperations": "NotRequired",
            "providerSpecificDetails": [{"instanceType": "InMage", "recoveryPointType": point_type}],
        }
    }


@pytest.fixture
def demo(clock: ManualClock) -> ArmEmulator:
    return ArmEmulator(load_scenario("demo"), clock, base_url=BASE)


def _get(emulator: ArmEmulator, suffix: str) -> dict[str, Any]:
    response = emulator.handle("GET", url(emulator, suffix), AUTH, None)
    assert response.status == 200, response.body
    data: dict[str, Any] = json.loads(response.body)
    return data


def _post(emulator: ArmEmulator, suffix: str, body: dict[str, Any] | None = None) -> str:
    raw = json.dumps(body).encode() if body is not None else None
    response = emulator.handle("POST", url(emulator, suffix), AUTH, raw)
    assert response.status == 202, response.body
    return job_name(response)


def test_plan_shape_has_groups_members_and_actions(demo: ArmEmulator) -> None:
    plans = _get(demo, "replicationRecoveryPlans")["value"]
    assert {p["name"] for p in plans} >= {"rp-erp", "rp-intranet"}
    erp = _get(demo, "replicationRecoveryPlans/rp-erp")
    props = erp["properties"]
    assert erp["id"].startswith("/Subscriptions/")
    assert [g["groupType"] for g in props["groups"]] == ["Shutdown", "Failover", "Boot", "Boot"]
    members = [m for g in props["groups"] for m in g["replicationProtectedItems"]]
    assert len(members) == 5 and all(m["id"].startswith("/Subscriptions/") and m["virtualMachineId"] for m in members)
    assert props["allowedOperations"] == ["UnplannedFailover"]
    assert props["currentScenario"]["scenarioName"] == "None"
    intranet = _get(demo, "replicationRecoveryPlans/rp-intranet")["properties"]
    actions = [a for g in intranet["groups"] for a in g["startGroupActions"]]
    assert actions[0]["customDetails"]["instanceType"] == "ManualActionDetails"


def test_plan_failover_moves_every_member(demo: ArmEmulator, clock: ManualClock) -> None:
    name = _post(demo, "replicationRecoveryPlans/rp-erp/unplannedFailover", _plan_body("LatestTag"))
    plan = _get(demo, "replicationRecoveryPlans/rp-erp")["properties"]
    assert plan["currentScenario"]["jobId"].endswith(name)
    sql = _get(demo, item_path(demo, "sql-01"))["properties"]
    assert sql["currentScenario"]["jobId"].endswith(name)
    clock.advance(60)
    job = _get(demo, f"replicationJobs/{name}")["properties"]
    assert job["targetInstanceType"] == "RecoveryPlan"
    groups = [t for t in job["tasks"] if t["taskType"] == "GroupTaskDetails"]
    assert len(groups) == 4
    assert len(groups[1]["groupTaskCustomDetails"]["childTasks"]) == 5
    clock.advance(1200)
    job = _get(demo, f"replicationJobs/{name}")["properties"]
    assert job["state"] == "Succeeded"
    picked = {d["friendlyName"]: d["recoveryPointTime"] for d in job["customDetails"]["protectedItemDetails"]}
    # The consistency group lands on one common app-consistent time.
    assert picked["sql-01"] == picked["erp-app-01"] == picked["erp-app-02"]
    for name_ in ("sql-01", "erp-app-01", "erp-app-02", "erp-web-01", "erp-web-02"):
        assert _get(demo, item_path(demo, name_))["properties"]["protectionState"] == (
            "UnplannedFailoverCommitPendingStatesBegin"
        )
    assert _get(demo, "replicationRecoveryPlans/rp-erp")["properties"]["allowedOperations"][0] == "Commit"
    commit = _post(demo, "replicationRecoveryPlans/rp-erp/failoverCommit")
    clock.advance(300)
    assert _get(demo, f"replicationJobs/{commit}")["properties"]["state"] == "Succeeded"
    assert _get(demo, item_path(demo, "erp-web-02"))["properties"]["allowedOperations"][0] == "ReverseReplicate"


def test_manual_action_suspends_until_resumed(demo: ArmEmulator, clock: ManualClock) -> None:
    name = _post(demo, "replicationRecoveryPlans/rp-intranet/unplannedFailover", _plan_body())
    clock.advance(1200)
    job = _get(demo, f"replicationJobs/{name}")["properties"]
    assert job["state"] == "Suspended" and job["allowedActions"] == ["Resume"]
    waiting = next(t for t in job["tasks"] if t["taskType"] == "ManualActionTaskDetails")
    assert waiting["stateDescription"] == "WaitingForManualAction"
    assert "A records" in waiting["customDetails"]["instructions"]
    _post(demo, f"replicationJobs/{name}/resume", {"properties": {"comments": "DNS repointed"}})
    clock.advance(600)
    assert _get(demo, f"replicationJobs/{name}")["properties"]["state"] == "Succeeded"


def test_group_without_common_app_point_fails_app_consistent_plan_failover(
    demo: ArmEmulator, clock: ManualClock
) -> None:
    name = _post(demo, "replicationRecoveryPlans/rp-billing/unplannedFailover", _plan_body("LatestTag"))
    clock.advance(120)
    job = _get(demo, f"replicationJobs/{name}")["properties"]
    assert job["state"] == "Failed"
    assert "common" in job["errors"][0]["serviceErrorDetails"]["message"]
    assert _get(demo, item_path(demo, "billing-db-01"))["properties"]["allowedOperations"][0] == "UnplannedFailover"


def test_plan_reprotect_is_answered_then_fails(demo: ArmEmulator, clock: ManualClock) -> None:
    name = _post(demo, "replicationRecoveryPlans/rp-erp/reProtect")
    clock.advance(120)
    job = _get(demo, f"replicationJobs/{name}")["properties"]
    assert job["state"] == "Failed"
    assert "individually" in job["errors"][0]["serviceErrorDetails"]["recommendedAction"]


def test_plan_with_busy_member_is_409(demo: ArmEmulator, call: Call) -> None:
    _post(
        demo,
        f"{item_path(demo, 'erp-web-01')}/unplannedFailover",
        {
            "properties": {
                "failoverDirection": "PrimaryToRecovery",
                "providerSpecificDetails": {"instanceType": "InMage", "recoveryPointType": "LatestTime"},
            }
        },
    )
    response = demo.handle(
        "POST", url(demo, "replicationRecoveryPlans/rp-erp/unplannedFailover"), AUTH, json.dumps(_plan_body()).encode()
    )
    assert response.status == 409


def test_plan_failover_refuses_a_custom_point(demo: ArmEmulator) -> None:
    response = demo.handle(
        "POST",
        url(demo, "replicationRecoveryPlans/rp-erp/unplannedFailover"),
        AUTH,
        json.dumps(_plan_body("Custom")).encode(),
    )
    assert response.status == 400 and "LatestTag" in response.json()["error"]["message"]
