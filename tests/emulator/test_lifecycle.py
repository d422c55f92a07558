"""Operations over simulated time: LRO answers, job lifecycles, item stages, the agent window, plans."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

from core.azure import mapping
from core.clock import AcceleratedClock, ManualClock
from core.emulator import ArmEmulator, load_scenario
from tests.emulator.conftest import AUTH, BASE, Call, failover_body, item_path, job_name, reprotect_body, url

FAILOVER_TASKS = [
    "VmUfoPrerequisitesCheck",
    "VmShutdownVmOnPrimary",
    "VmPrepareForUnPlannedFailover",
    "VmFailover",
    "VmFoStartVmOnSecondary",
]


def parse_time(text: Any) -> datetime:
    parsed = mapping.parse_time(text)
    assert parsed is not None, text
    return parsed


def _item(call: Call, emulator: ArmEmulator, name: str) -> dict[str, Any]:
    props: dict[str, Any] = call("GET", item_path(emulator, name)).json()["properties"]
    return props


def _job(call: Call, name: str) -> dict[str, Any]:
    props: dict[str, Any] = call("GET", f"replicationJobs/{name}").json()["properties"]
    return props


def _failover(call: Call, emulator: ArmEmulator, name: str, **kw: str) -> str:
    response = call("POST", f"{item_path(emulator, name)}/unplannedFailover", failover_body(**kw))
    assert response.status == 202, response.body
    return job_name(response)


def test_post_answers_202_with_empty_body_and_lro_headers(call: Call, emulator: ArmEmulator) -> None:
    response = call("POST", f"{item_path(emulator, 'web-01')}/unplannedFailover", failover_body())
    assert response.status == 202
    assert response.body == b""
    name = job_name(response)
    item_id = emulator.item_id("web-01")
    assert item_id.startswith("/Subscriptions/")
    assert response.headers["Location"] == f"{BASE}{item_id}/operationresults/{name}?api-version=2021-06-01"
    vault = item_id.split("/replicationFabrics/")[0]
    assert response.headers["Azure-AsyncOperation"] == (
        f"{BASE}{vault}/replicationOperationStatus/{name}?api-version=2021-06-01"
    )
    assert response.headers["x-ms-request-id"] == f"{vault}/replicationJobs/{name}"
    assert response.headers["Retry-After"] == "30"
    assert int(response.headers["x-ms-ratelimit-remaining-subscription-writes"]) > 0


def test_retry_after_is_thirty_simulated_seconds_scaled_to_the_clock() -> None:
    fast = ArmEmulator(load_scenario("small"), AcceleratedClock(speed=30.0), base_url=BASE)
    faster = ArmEmulator(load_scenario("small"), AcceleratedClock(speed=600.0), base_url=BASE)
    for emu, expected in ((fast, "1"), (faster, "1")):
        path = item_path(emu, "web-01")
        body = json.dumps(failover_body()).encode()
        response = emu.handle("POST", url(emu, f"{path}/unplannedFailover"), AUTH, body)
        assert response.headers["Retry-After"] == expected
    slow = ArmEmulator(load_scenario("small"), AcceleratedClock(speed=2.0), base_url=BASE)
    assert slow._retry_after() == "15"


def test_job_goes_not_started_in_progress_succeeded(call: Call, emulator: ArmEmulator, clock: ManualClock) -> None:
    name = _failover(call, emulator, "web-01")
    job = _job(call, name)
    assert job["state"] == "NotStarted"
    assert job["tasks"] == []
    assert job["scenarioName"] is None and job["friendlyName"] is None and job["targetObjectId"] is None
    assert job["allowedActions"] == ["Cancel"]

    clock.advance(10)
    job = _job(call, name)
    assert job["state"] == "InProgress"
    assert job["scenarioName"] == "UnplannedFailover" and job["friendlyName"] == "Failover"
    assert [t["name"] for t in job["tasks"]] == FAILOVER_TASKS
    assert job["tasks"][0]["state"] == "InProgress"
    status = call("GET", f"replicationOperationStatus/{name}")
    assert status.json()["status"] == "InProgress" and status.json()["name"] == name
    assert call("GET", f"{item_path(emulator, 'web-01')}/operationresults/{name}").status == 202

    clock.advance(60)
    job = _job(call, name)
    shutdown = job["tasks"][1]
    assert (shutdown["state"], shutdown["stateDescription"]) == ("Other", "Skipped")
    assert job["tasks"][0]["state"] == "Succeeded"

    clock.advance(600)
    job = _job(call, name)
    assert job["state"] == "Succeeded"
    assert "endTime" in job and job["allowedActions"] == []
    assert all(t["state"] in ("Succeeded", "Other") for t in job["tasks"])
    assert call("GET", f"replicationOperationStatus/{name}").json()["status"] == "Succeeded"
    final = call("GET", f"{item_path(emulator, 'web-01')}/operationresults/{name}")
    assert final.status == 200 and final.json()["properties"]["friendlyName"] == "web-01"


def test_failover_takes_six_to_ten_simulated_minutes(call: Call, emulator: ArmEmulator, clock: ManualClock) -> None:
    quick = _failover(call, emulator, "web-01")
    full = _failover(call, emulator, "web-02", ssop="Required")
    clock.advance(1200)
    for name, skipped in ((quick, True), (full, False)):
        job = _job(call, name)
        assert job["state"] == "Succeeded"
        shutdown = job["tasks"][1]
        assert (shutdown["stateDescription"] == "Skipped") is skipped
    durations = []
    for name in (quick, full):
        job = _job(call, name)
        durations.append((parse_time(job["endTime"]) - parse_time(job["startTime"])).total_seconds())
    assert 360 <= durations[0] <= 600 and 360 <= durations[1] <= 600
    assert durations[1] > durations[0]


def test_item_walks_failover_commit_reprotect(call: Call, emulator: ArmEmulator, clock: ManualClock) -> None:
    path = item_path(emulator, "web-01")
    ready = _item(call, emulator, "web-01")
    assert ready["protectionState"] == "Protected" and ready["activeLocation"] == "Primary"
    assert ready["allowedOperations"] == ["UnplannedFailover", "DisableProtection"]
    assert ready["providerSpecificDetails"]["instanceType"] == "InMage"
    assert ready["providerSpecificDetails"]["activeSiteType"] == "Azure"
    assert ready["currentScenario"]["scenarioName"] == "None"
    assert ready["currentScenario"]["startTime"] == "1753-01-01T01:01:01Z"
    assert ready["currentScenario"]["jobId"].endswith("/replicationJobs/None")

    name = _failover(call, emulator, "web-01")
    running = _item(call, emulator, "web-01")
    assert running["currentScenario"]["scenarioName"] == "UnplannedFailover"
    assert running["currentScenario"]["jobId"].endswith(f"/replicationJobs/{name}")
    assert running["currentScenario"]["jobId"].startswith("/Subscriptions/")

    clock.advance(700)
    failed_over = _item(call, emulator, "web-01")
    assert failed_over["protectionState"] == "UnplannedFailoverCommitPendingStatesBegin"
    assert failed_over["protectionStateDescription"] == "Failover completed"
    assert failed_over["activeLocation"] == "Recovery"
    assert failed_over["allowedOperations"] == ["Commit", "DisableProtection", "ChangePit"]
    assert failed_over["currentScenario"]["scenarioName"] == "None"

    commit = call("POST", f"{path}/failoverCommit")
    assert commit.status == 202
    assert _item(call, emulator, "web-01")["currentScenario"]["scenarioName"] == "CommitFailover"
    clock.advance(200)
    commit_job = _job(call, job_name(commit))
    assert commit_job["state"] == "Succeeded"
    assert [t["name"] for t in commit_job["tasks"]] == ["VmCommitPrerequisitesCheck", "VmCommit"]
    committed = _item(call, emulator, "web-01")
    assert committed["protectionState"] == "UnplannedFailoverCommittedStatesBegin"
    assert committed["allowedOperations"] == ["ReverseReplicate", "DisableProtection"]

    clock.advance(20 * 60)  # past the agent-registration window
    reprotect = call("POST", f"{path}/reProtect", reprotect_body(emulator, call))
    assert reprotect.status == 202
    name = job_name(reprotect)
    clock.advance(200)
    job = _job(call, name)
    assert job["scenarioName"] == "SwitchReplicationGroupProtection"
    group = job["tasks"][-1]
    assert group["taskType"] == "GroupTaskDetails"
    child_ref = group["groupTaskCustomDetails"]["childTasks"][0]
    assert child_ref["taskId"] == "EnableDr" and child_ref["taskType"] == "JobTaskDetails"
    child_id = child_ref["customDetails"]["jobTask"]["jobId"]
    child = call("GET", f"replicationJobs/{child_id.rsplit('/', 1)[1]}").json()["properties"]
    assert child["scenarioName"] == "EnableDr" and child["friendlyName"] == "Enable replication"
    assert child["tasks"], "the child job has its own tasks"

    clock.advance(900)
    job = _job(call, name)
    assert job["state"] == "Succeeded"
    protected = _item(call, emulator, "web-01")
    assert protected["providerSpecificDetails"]["instanceType"] == "InMageAzureV2"
    assert protected["protectionState"] == "Protected" and protected["activeLocation"] == "Primary"
    assert protected["allowedOperations"] == [
        "PlannedFailover",
        "UnplannedFailover",
        "TestFailover",
        "DisableProtection",
    ]
    assert job["customDetails"]["instanceType"] == "SwitchProtectionJobDetails"
    assert job["customDetails"]["newReplicationProtectedItemId"] == emulator.item_id("web-01")


def test_reprotect_inside_agent_window_fails_then_restart_succeeds(
    call: Call, emulator: ArmEmulator, clock: ManualClock
) -> None:
    path = item_path(emulator, "web-01")
    _failover(call, emulator, "web-01")
    clock.advance(700)
    call("POST", f"{path}/failoverCommit")
    clock.advance(200)
    name = job_name(call("POST", f"{path}/reProtect", reprotect_body(emulator, call)))
    clock.advance(60)
    job = _job(call, name)
    assert job["state"] == "Failed"
    assert job["allowedActions"] == ["Restart"]
    error = job["errors"][0]
    assert error["providerErrorDetails"]["errorCode"] == 95467
    assert "Mobility service agent" in error["providerErrorDetails"]["errorMessage"]
    assert "wait" in error["serviceErrorDetails"]["recommendedAction"].lower()
    assert job["tasks"][0]["state"] == "Failed" and job["tasks"][0]["errors"]
    item = _item(call, emulator, "web-01")
    assert item["allowedOperations"] == ["ReverseReplicate", "DisableProtection"]
    assert item["currentScenario"]["scenarioName"] == "None"

    clock.advance(15 * 60)
    restart = call("POST", f"replicationJobs/{name}/restart")
    assert restart.status == 202 and job_name(restart) == name
    clock.advance(1200)
    assert _job(call, name)["state"] == "Succeeded"
    assert _item(call, emulator, "web-01")["providerSpecificDetails"]["instanceType"] == "InMageAzureV2"


def test_busy_item_answers_409_without_retry_after(call: Call, emulator: ArmEmulator) -> None:
    _failover(call, emulator, "web-01")
    second = call("POST", f"{item_path(emulator, 'web-01')}/unplannedFailover", failover_body())
    assert second.status == 409
    assert "Retry-After" not in second.headers
    error = second.json()["error"]
    assert error["code"] == "OperationInProgress"
    assert error["code"] != "MissingSubscriptionRegistration"
    assert error["details"][0]["code"].isdigit()


def test_operation_not_allowed_is_400_with_asr_details(call: Call, emulator: ArmEmulator) -> None:
    response = call("POST", f"{item_path(emulator, 'web-01')}/failoverCommit")
    assert response.status == 400
    detail = response.json()["error"]["details"][0]
    assert "Commit" in detail["message"] and detail["recommendedAction"] and detail["possibleCauses"]


def test_wrong_failover_input_is_refused(call: Call, emulator: ArmEmulator) -> None:
    path = f"{item_path(emulator, 'web-01')}/unplannedFailover"
    assert call("POST", path, {"properties": {"providerSpecificDetails": {"instanceType": "A2A"}}}).status == 400
    bogus = failover_body("Custom", point_id="/nope/recoveryPoints/123")
    assert call("POST", path, bogus).status == 400
    wrong_way = failover_body()
    wrong_way["properties"]["failoverDirection"] = "RecoveryToPrimary"
    assert call("POST", path, wrong_way).status == 400


def test_cancel_ends_job_and_rolls_item_back(call: Call, emulator: ArmEmulator, clock: ManualClock) -> None:
    name = _failover(call, emulator, "web-01")
    clock.advance(100)
    assert call("POST", f"replicationJobs/{name}/cancel").status == 202
    job = _job(call, name)
    assert job["state"] == "Cancelled" and job["allowedActions"] == ["Restart"]
    assert call("GET", f"replicationOperationStatus/{name}").json()["status"] == "Canceled"
    item = _item(call, emulator, "web-01")
    assert item["currentScenario"]["scenarioName"] == "None"
    assert item["allowedOperations"] == ["UnplannedFailover", "DisableProtection"]
    assert call("POST", f"replicationJobs/{name}/cancel").status == 400


def test_recovery_points_follow_the_clock_and_freeze_at_failover(
    call: Call, emulator: ArmEmulator, clock: ManualClock
) -> None:
    path = item_path(emulator, "web-01")
    points = call("GET", f"{path}/recoveryPoints").json()["value"]
    times = [parse_time(p["properties"]["recoveryPointTime"]) for p in points]
    assert times == sorted(times, reverse=True)
    newest = times[0]
    assert (clock.now() - newest).total_seconds() == 30  # web-01's RPO
    details = _item(call, emulator, "web-01")["providerSpecificDetails"]
    assert parse_time(details["retentionWindowEnd"]) == newest
    assert details["rpoInSeconds"] == 30
    crash = [t for t, p in zip(times, points, strict=True) if p["properties"]["recoveryPointType"] == "CrashConsistent"]
    app = [
        t for t, p in zip(times, points, strict=True) if p["properties"]["recoveryPointType"] == "ApplicationConsistent"
    ]
    assert all(t.minute % 5 == 0 and t.second == 0 for t in crash[1:])
    assert all(t.minute == 0 and t.second == 0 for t in app)
    assert 23 <= len(app) <= 25 and 280 <= len(crash) <= 300
    one = call("GET", f"{path}/recoveryPoints/{points[3]['name']}")
    assert one.status == 200 and one.json()["id"] == points[3]["id"]

    clock.advance(600)
    assert (
        parse_time(call("GET", f"{path}/recoveryPoints").json()["value"][0]["properties"]["recoveryPointTime"]) > newest
    )

    name = _failover(call, emulator, "web-01", point_type="LatestTag")
    clock.advance(900)
    frozen = call("GET", f"{path}/recoveryPoints").json()["value"][0]["properties"]["recoveryPointTime"]
    clock.advance(3600)
    assert call("GET", f"{path}/recoveryPoints").json()["value"][0]["properties"]["recoveryPointTime"] == frozen
    item = _item(call, emulator, "web-01")
    chosen = _job(call, name)["customDetails"]["protectedItemDetails"][0]
    assert item["failoverRecoveryPointId"] == chosen["recoveryPointId"]
    chosen_point = call("GET", f"{path}/recoveryPoints/{chosen['recoveryPointId'].rsplit('/', 1)[1]}").json()
    assert chosen_point["properties"]["recoveryPointType"] == "ApplicationConsistent"
    assert chosen_point["properties"]["recoveryPointTime"] == chosen["recoveryPointTime"]


def test_custom_point_lands_the_item_on_it(call: Call, emulator: ArmEmulator, clock: ManualClock) -> None:
    path = item_path(emulator, "web-02")
    older = call("GET", f"{path}/recoveryPoints").json()["value"][10]
    name = _failover(call, emulator, "web-02", point_type="Custom", point_id=older["id"])
    clock.advance(900)
    assert _item(call, emulator, "web-02")["failoverRecoveryPointId"] == older["id"]
    assert _job(call, name)["customDetails"]["protectedItemDetails"][0]["recoveryPointId"] == older["id"]


def test_group_members_share_app_consistent_times(call: Call, emulator: ArmEmulator) -> None:
    def app_times(name: str) -> set[str]:
        values = call("GET", f"{item_path(emulator, name)}/recoveryPoints").json()["value"]
        picked = [p["properties"] for p in values if p["properties"]["recoveryPointType"] == "ApplicationConsistent"]
        # The SDK models no InMage point details (isMultiVmSyncPoint exists for InMageAzureV2, A2A, InMageRcm):
        # the group shows in the shared times.
        assert all(p["providerSpecificDetails"] is None for p in picked)
        return {p["recoveryPointTime"] for p in picked}

    assert app_times("web-01") == app_times("db-01")
    details = _item(call, emulator, "web-01")["providerSpecificDetails"]
    assert details["multiVmGroupName"] == "shop" and details["multiVmSyncStatus"] == "Enabled"


def test_item_without_point_fails_at_prerequisites(clock: ManualClock) -> None:
    emulator = ArmEmulator(load_scenario("demo"), clock, base_url=BASE)
    path = item_path(emulator, "bi-01")
    auth = AUTH
    assert json.loads(emulator.handle("GET", url(emulator, f"{path}/recoveryPoints"), auth, None).body)["value"] == []
    response = emulator.handle(
        "POST", url(emulator, f"{path}/unplannedFailover"), auth, json.dumps(failover_body()).encode()
    )
    assert response.status == 202
    clock.advance(120)
    job = json.loads(emulator.handle("GET", url(emulator, f"replicationJobs/{job_name(response)}"), auth, None).body)
    assert job["properties"]["state"] == "Failed"
    assert job["properties"]["tasks"][0]["name"] == "VmUfoPrerequisitesCheck"
    assert "recovery point" in job["properties"]["errors"][0]["serviceErrorDetails"]["message"]


def test_stalled_replication_stops_points_and_grows_rpo(clock: ManualClock) -> None:
    emulator = ArmEmulator(load_scenario("demo"), clock, base_url=BASE)
    path = item_path(emulator, "jump-01")

    def details() -> dict[str, Any]:
        found: dict[str, Any] = json.loads(emulator.handle("GET", url(emulator, path), AUTH, None).body)
        return dict(found["properties"]["providerSpecificDetails"])

    before = details()
    assert before["rpoInSeconds"] == 28 * 60 + 60
    clock.advance(600)
    after = details()
    assert after["rpoInSeconds"] == before["rpoInSeconds"] + 600
    assert after["retentionWindowEnd"] == before["retentionWindowEnd"]
    assert after["compressedDataRateInMB"] == 0.0


def test_retention_window_matches_the_point_list(clock: ManualClock) -> None:
    emulator = ArmEmulator(load_scenario("demo"), clock, base_url=BASE)
    sim = emulator.simulation
    for step in (0, 137, 3600 * 30):
        clock.advance(step)
        for item in sim.items.values():
            points = sim.points(item, clock.now())
            expected = (points[-1].time, points[0].time) if points else (None, None)
            assert sim.retention_window(item, clock.now()) == expected, item.friendly


def test_the_newest_point_half_a_second_past_a_regular_one_shares_no_id_with_it(clock: ManualClock) -> None:
    # The newest point is "now minus the RPO", to the microsecond; a regular point sits on the whole minute. Within the
    # same second both used to get one name, so one ARM id came twice in one list.
    emulator = ArmEmulator(load_scenario("demo"), clock, base_url=BASE)
    sim = emulator.simulation
    crash = sim.settings.crash_interval_minutes * 60
    moving = [i for i in sim.items.values() if sim.points(i, clock.now())]
    item = next(i for i in moving if i.frozen_at is None and i.stalled_at is None)
    newest = sim.points(item, clock.now())[0].time.timestamp()
    clock.advance(crash - newest % crash + 0.5)
    points = sim.points(item, clock.now())
    assert points[0].time.timestamp() % crash == pytest.approx(0.5)
    names = [p.name for p in points]
    assert len(names) == len(set(names)), [n for n in names if names.count(n) > 1]
