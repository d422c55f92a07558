"""What the product sends, read by the installed SDK's input models and written back: nothing dropped, nothing
renamed, every instanceType and enum value one the SDK knows."""

from __future__ import annotations

from typing import Any

import pytest
from azure.mgmt.recoveryservicessiterecovery import models as sdk

from core.emulator import list_scenarios, load_scenario
from core.equivalents import failover_body, plan_failover_body, reprotect_body, resume_body
from core.model import PointChoice, RcmReprotectToAvs, RcmReprotectToAzure, ReprotectTarget
from core.providers.modernized import planned_failover_body, reprotect_to_avs_body, reprotect_to_azure_body
from tests.conformance import tour
from tests.conformance.walker import Walker
from tests.conformance.witness import TYPED_STRINGS, Exchange, check_request, request_model

BASE = "https://emulator.test/subscriptions/s/resourceGroups/g/providers/Microsoft.RecoveryServices/vaults/v"
ITEM = f"{BASE}/replicationFabrics/f/replicationProtectionContainers/c/replicationProtectedItems/i"
POINT_ID = f"{ITEM}/recoveryPoints/17955720001"


def _strict() -> Walker:
    return Walker(strict_enums=True, enums=TYPED_STRINGS)


def _sent(url: str, body: Any) -> Exchange:
    return Exchange("POST", f"{url}?api-version=2025-08-01", 202, body, None)


BODIES = [
    pytest.param(f"{ITEM}/unplannedFailover", failover_body(PointChoice.LATEST), id="failover-latest"),
    pytest.param(
        f"{ITEM}/unplannedFailover", failover_body(PointChoice.LATEST_APP_CONSISTENT), id="failover-app-consistent"
    ),
    pytest.param(f"{ITEM}/unplannedFailover", failover_body(PointChoice.CUSTOM, POINT_ID), id="failover-custom"),
    pytest.param(
        f"{ITEM}/unplannedFailover",
        failover_body(PointChoice.LATEST, shut_down_azure_vm=False),
        id="failover-no-shutdown",
    ),
    pytest.param(
        f"{ITEM}/reProtect",
        reprotect_body(
            ReprotectTarget(
                process_server_id="F266C329-7AB0-5297-80B1-7904DFECCA6C",
                master_target_id="132B780A-7B59-525B-A758-9AD929EFC0EE",
                run_as_account_id="2",
                policy_id=f"{BASE}/replicationPolicies/avs-to-azure",
                storage_account_id="/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/a",
                log_storage_account_id="/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/l",
                disks_to_include=("disk0", "disk1"),
            )
        ),
        id="reprotect-every-field",
    ),
    pytest.param(
        f"{ITEM}/reProtect",
        reprotect_body(ReprotectTarget(process_server_id="PS", master_target_id="MT")),
        id="reprotect-minimal",
    ),
    pytest.param(
        f"{BASE}/replicationRecoveryPlans/rp/unplannedFailover",
        plan_failover_body(PointChoice.LATEST),
        id="plan-latest",
    ),
    pytest.param(
        f"{BASE}/replicationRecoveryPlans/rp/unplannedFailover",
        plan_failover_body(PointChoice.LATEST_APP_CONSISTENT),
        id="plan-app-consistent",
    ),
    pytest.param(f"{BASE}/replicationJobs/j/resume", resume_body("DNS repointed"), id="resume"),
    pytest.param(f"{ITEM}/plannedFailover", planned_failover_body(PointChoice.LATEST), id="planned-failover-crash"),
    pytest.param(
        f"{ITEM}/plannedFailover", planned_failover_body(PointChoice.LATEST_APP_CONSISTENT), id="planned-failover-app"
    ),
    pytest.param(
        f"{ITEM}/reProtect",
        reprotect_to_avs_body(RcmReprotectToAvs("7d30ec24", "SharedDS-84-85", "/s/acct", "/p/failback")),
        id="reprotect-to-avs-modernized",
    ),
    pytest.param(
        f"{ITEM}/reProtect",
        reprotect_to_azure_body(RcmReprotectToAzure("7d30ec24", "/p/forward", "/s/runas")),
        id="reprotect-to-azure-modernized",
    ),
]


@pytest.mark.parametrize(("url", "body"), BODIES)
def test_every_body_built_in_equivalents_reads_into_its_sdk_model_and_back(url: str, body: Any) -> None:
    exchange = _sent(url, body)
    assert request_model(exchange)[1] is not None
    assert check_request(exchange, _strict()) == []


def test_the_failover_body_lands_in_the_inmage_input_class() -> None:
    """The instanceType takes the SDK to InMageUnplannedFailoverInput, with its recoveryPointType enum."""
    built = sdk.UnplannedFailoverInput(failover_body(PointChoice.CUSTOM, POINT_ID))
    details = built.properties.provider_specific_details
    assert isinstance(details, sdk.InMageUnplannedFailoverInput)
    assert details.recovery_point_type == sdk.RecoveryPointType.CUSTOM and details.recovery_point_id == POINT_ID
    plan = sdk.RecoveryPlanUnplannedFailoverInput(plan_failover_body(PointChoice.LATEST_APP_CONSISTENT))
    entry = plan.properties.provider_specific_details[0]
    assert isinstance(entry, sdk.RecoveryPlanInMageFailoverInput)
    assert entry.recovery_point_type == sdk.RpInMageRecoveryPointType.LATEST_TAG
    reprotect = sdk.ReverseReplicationInput(reprotect_body(ReprotectTarget("PS", "MT")))
    assert isinstance(reprotect.properties.provider_specific_details, sdk.InMageAzureV2ReprotectInput)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda b: b["properties"]["providerSpecificDetails"].update(recoveryPoint="x"), "key not in the SDK"),
        (lambda b: b["properties"].update(failoverDirection="AzureToAvs"), "PossibleOperationsDirections"),
        (lambda b: b["properties"].update(sourceSiteOperations="Yes"), "SourceSiteOperations"),
        (lambda b: b["properties"]["providerSpecificDetails"].update(recoveryPointType="Newest"), "RecoveryPointType"),
        (lambda b: b["properties"]["providerSpecificDetails"].update(instanceType="InMageV3"), "unknown discrim"),
        (lambda b: b["properties"].update(providerSpecificDetails=[{"instanceType": "InMage"}]), "JSON object"),
    ],
    ids=["renamed-key", "direction", "shutdown", "point-type", "instance-type", "list-for-object"],
)
def test_a_body_the_sdk_would_change_or_refuse_is_caught(change: Any, words: str) -> None:
    body = failover_body(PointChoice.CUSTOM, POINT_ID)
    change(body)
    found = check_request(_sent(f"{ITEM}/unplannedFailover", body), _strict())
    assert any(words in str(f) for f in found), found


def test_a_body_on_an_action_that_takes_none_is_caught() -> None:
    found = check_request(_sent(f"{ITEM}/failoverCommit", {"properties": {}}), _strict())
    assert found and "no body" in str(found[0])


@pytest.mark.parametrize("name", [info.name for info in list_scenarios()])
def test_every_request_the_backend_sends_in_a_whole_failback_follows_the_sdk(name: str) -> None:
    r = tour.rig(load_scenario(name))
    tour.whole_failback(r, everything=lambda rig: None)
    tour.plan_failback(r, everything=lambda rig: None)
    tour.modernized_failback(r, everything=lambda rig: None)
    posts = [e for e in r.witness.take() if e.method == "POST"]
    assert posts, r.stages
    walker = _strict()
    found = [f for e in posts for f in check_request(e, walker)]
    assert not found, "\n".join(map(str, found))


def test_the_demo_tour_sends_every_kind_of_body() -> None:
    r = tour.rig(load_scenario("demo"))
    tour.whole_failback(r, everything=lambda rig: None)
    tour.plan_failback(r, everything=lambda rig: None)
    models = {request_model(e)[1] for e in r.witness.take() if e.method == "POST"}
    assert models >= {
        sdk.UnplannedFailoverInput,
        sdk.ReverseReplicationInput,
        sdk.RecoveryPlanUnplannedFailoverInput,
        sdk.ResumeJobParams,
        None,  # commit, job cancel and restart: no body
    }
