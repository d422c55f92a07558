"""Every fault kind: matched by method, path and page, fired `count` times, and what the client then sees."""

from __future__ import annotations

import json

import pytest
import requests
from azure.core.rest import HttpRequest

from core.clock import ManualClock
from core.emulator import ArmEmulator, EmulatorTransport, Fault
from tests.emulator.conftest import AUTH, BASE, Call, failover_body, item_path, job_name, url


def test_throttle_with_and_without_retry_after(call: Call, emulator: ArmEmulator) -> None:
    emulator.faults.add(Fault("throttle", method="GET", path="*/replicationjobs", retry_after=7))
    emulator.faults.add(Fault("throttle", method="GET", path="*/replicationrecoveryplans"))
    first = call("GET", "replicationJobs")
    assert first.status == 429 and first.headers["Retry-After"] == "7"
    assert first.json()["error"]["code"] == "SubscriptionRequestsThrottled"
    assert call("GET", "replicationJobs").status == 200  # count 1: fired once
    bare = call("GET", "replicationRecoveryPlans")
    assert bare.status == 429 and "Retry-After" not in bare.headers


def test_server_error_burst(call: Call, emulator: ArmEmulator) -> None:
    emulator.faults.add(Fault("server-error", status=503, count=3, path="*/replicationFabrics"))
    statuses = [call("GET", "replicationFabrics").status for _ in range(4)]
    assert statuses == [503, 503, 503, 200]
    emulator.faults.add(Fault("server-error", status=500))
    assert call("GET", "replicationJobs").json()["error"]["code"] == "InternalServerError"


def test_token_expired_once_then_forbidden(call: Call, emulator: ArmEmulator) -> None:
    emulator.faults.add(Fault("token-expired"))
    expired = call("GET", "replicationJobs")
    assert expired.status == 401 and expired.json()["error"]["code"] == "ExpiredAuthenticationToken"
    assert "invalid_token" in expired.headers["WWW-Authenticate"]
    assert call("GET", "replicationJobs").status == 200
    emulator.faults.add(Fault("forbidden", method="POST", path="*/unplannedfailover"))
    denied = call("POST", f"{item_path(emulator, 'web-01')}/unplannedFailover", failover_body())
    assert denied.status == 403 and denied.json()["error"]["code"] == "AuthorizationFailed"
    assert "replicationProtectedItems/unplannedFailover/action" in denied.json()["error"]["message"]
    assert call("GET", item_path(emulator, "web-01")).json()["properties"]["currentScenario"]["scenarioName"] == "None"


def test_busy_fault_is_409_on_post(call: Call, emulator: ArmEmulator) -> None:
    emulator.faults.add(Fault("busy", path="*/failovercommit"))
    response = call("POST", f"{item_path(emulator, 'app-01')}/failoverCommit")
    assert response.status == 409 and "Retry-After" not in response.headers
    assert response.json()["error"]["details"][0]["code"].isdigit()


def test_malformed_json_and_unknown_values(call: Call, emulator: ArmEmulator) -> None:
    emulator.faults.add(Fault("malformed-json", path="*/replicationprotecteditems"))
    broken = call("GET", "replicationProtectedItems")
    assert broken.status == 200
    with pytest.raises(ValueError):
        json.loads(broken.body)
    emulator.faults.add(Fault("unknown-enum", path="*/replicationprotecteditems"))
    odd = call("GET", "replicationProtectedItems").json()["value"][0]["properties"]
    assert odd["replicationHealth"] == "Impaired"
    assert odd["providerSpecificDetails"]["protectionStage"] == "DeltaReplicationV3"
    emulator.faults.add(Fault("unknown-instance-type", path=f"*/{item_path(emulator, 'web-01')}"))
    alien = call("GET", item_path(emulator, "web-01")).json()["properties"]["providerSpecificDetails"]
    assert alien["instanceType"] == "InMageRcmNextGen"
    assert (
        call("GET", item_path(emulator, "web-01")).json()["properties"]["providerSpecificDetails"]["instanceType"]
        == "InMage"
    )


def test_item_deleted_at_a_simulated_time(call: Call, emulator: ArmEmulator, clock: ManualClock) -> None:
    emulator.faults.add(Fault("item-deleted", item="web-02", after=60))
    path = item_path(emulator, "web-02")
    assert call("GET", path).status == 200
    clock.advance(61)
    gone = call("GET", path)
    assert gone.status == 404 and gone.json()["error"]["code"] == "ResourceNotFound"


def test_other_operator_at_a_simulated_time(call: Call, emulator: ArmEmulator, clock: ManualClock) -> None:
    emulator.faults.add(Fault("other-operator", item="web-01", operation="failover", after=120))
    path = item_path(emulator, "web-01")
    assert call("GET", path).json()["properties"]["currentScenario"]["scenarioName"] == "None"
    clock.advance(130)
    scenario = call("GET", path).json()["properties"]["currentScenario"]
    assert scenario["scenarioName"] == "UnplannedFailover"
    assert call("POST", f"{path}/unplannedFailover", failover_body()).status == 409


def test_job_fails_at_named_task_with_provider_error(call: Call, emulator: ArmEmulator, clock: ManualClock) -> None:
    emulator.faults.add(
        Fault(
            "job-fails",
            operation="failover",
            item="web-01",
            task="Start failover",
            error_code=8038,
            error_message="Failed to bring up the virtual machine on the ESXi host.",
            recommended_action="Free up resources on the cluster and retry.",
        )
    )
    response = call("POST", f"{item_path(emulator, 'web-01')}/unplannedFailover", failover_body())
    clock.advance(900)
    job = call("GET", f"replicationJobs/{job_name(response)}").json()["properties"]
    assert job["state"] == "Failed" and job["allowedActions"] == ["Restart"]
    failing = next(t for t in job["tasks"] if t["state"] == "Failed")
    assert failing["name"] == "VmFailover"
    assert failing["errors"][0]["providerErrorDetails"]["errorCode"] == 8038
    assert job["errors"][0]["providerErrorDetails"]["recommendedAction"].startswith("Free up")
    assert job["errors"][0]["serviceErrorDetails"]["message"]
    assert call("GET", f"replicationOperationStatus/{job_name(response)}").json()["error"]["code"] == "8038"
    item = call("GET", item_path(emulator, "web-01")).json()["properties"]
    assert item["allowedOperations"] == ["UnplannedFailover", "DisableProtection"]
    # A second job on the item is not hit again: the fault had count 1.
    retry = call("POST", f"replicationJobs/{job_name(response)}/restart")
    assert retry.status == 202
    clock.advance(900)
    assert call("GET", f"replicationJobs/{job_name(response)}").json()["properties"]["state"] == "Succeeded"


def _send(transport: EmulatorTransport, target: str, **kwargs: object) -> int:
    request = HttpRequest("GET", target, headers=AUTH)
    return int(transport.send(request, **kwargs).status_code)


def test_drop_on_page_two_through_the_transport(emulator: ArmEmulator) -> None:
    emulator.faults.add(Fault("drop", path="*/replicationprotecteditems", page=2))
    transport = EmulatorTransport(emulator)
    first = transport.send(HttpRequest("GET", url(emulator, "replicationProtectedItems"), headers=AUTH))
    assert first.status_code == 200
    link = first.json()["nextLink"]
    from azure.core.exceptions import ServiceRequestError, ServiceResponseError

    with pytest.raises((ServiceRequestError, ServiceResponseError, requests.ConnectionError)):
        _send(transport, link)
    assert _send(transport, link) == 200


def test_slow_response_and_read_timeout(emulator: ArmEmulator, clock: ManualClock) -> None:
    from azure.core.exceptions import ServiceResponseError

    transport = EmulatorTransport(emulator)
    emulator.faults.add(Fault("slow", path="*/replicationjobs", delay=3))
    before = clock.now()
    assert _send(transport, url(emulator, "replicationJobs"), read_timeout=10) == 200
    assert (clock.now() - before).total_seconds() == 3
    emulator.faults.add(Fault("slow", path="*/replicationjobs", delay=60))
    with pytest.raises((ServiceResponseError, requests.ReadTimeout)):
        _send(transport, url(emulator, "replicationJobs"), read_timeout=5)


def test_fault_validation() -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        Fault("gremlins")
    with pytest.raises(ValueError, match="status"):
        Fault("server-error", status=404)
    with pytest.raises(ValueError, match="operation"):
        Fault("other-operator", item="x", operation="dance")
    with pytest.raises(ValueError, match="task"):
        Fault("job-fails")


def test_scenario_faults_are_copied_per_emulator(clock: ManualClock) -> None:
    from core.emulator.scenario import load_scenario

    scenario = load_scenario("small")
    with_fault = scenario.__class__(**{**scenario.__dict__, "faults": (Fault("throttle", retry_after=1),)})
    one = ArmEmulator(with_fault, clock, base_url=BASE)
    two = ArmEmulator(with_fault, clock, base_url=BASE)
    assert one.handle("GET", url(one, "replicationJobs"), AUTH, None).status == 429
    assert two.handle("GET", url(two, "replicationJobs"), AUTH, None).status == 429
