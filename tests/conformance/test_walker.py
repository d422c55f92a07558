"""The walker itself: it must fail on each kind of difference, or its silence over the emulator means nothing."""

from __future__ import annotations

from typing import Any

from azure.mgmt.recoveryservicessiterecovery import models as sdk

from tests.conformance.walker import Allowed, Walker, known_discriminators, subclass_for


def _problems(doc: Any, model: type, walker: Walker | None = None) -> list[str]:
    return [str(f) for f in (walker or Walker()).walk(doc, model)]


def _master_target(**datastore: Any) -> dict[str, Any]:
    store = {"symbolicName": "vsanDatastore", "uuid": "6005a082", "capacity": "61440", "freeSpace": "7168.5"}
    store.update(datastore)
    return {
        "instanceType": "VMware",
        "masterTargetServers": [
            {
                "id": "MT-1",
                "name": "mt-avs-01",
                "lastHeartbeat": "2026-04-06T11:50:42Z",
                "retentionVolumes": [
                    {"volumeName": "R", "capacityInBytes": 10734268416, "freeSpaceInBytes": 10275106816},
                ],
                "dataStores": [store],
            }
        ],
    }


def test_a_well_formed_document_passes() -> None:
    assert _problems(_master_target(), sdk.FabricSpecificDetails) == []


def test_a_key_the_model_lacks_is_named_with_its_path() -> None:
    doc = _master_target()
    doc["masterTargetServers"][0]["retentionVolumes"][0]["freeSpace"] = 1
    assert _problems(doc, sdk.FabricSpecificDetails) == [
        "$.masterTargetServers[0].retentionVolumes[0].freeSpace (RetentionVolume): key not in the SDK's model"
    ]


def test_values_of_the_wrong_json_type() -> None:
    doc = _master_target(freeSpace=7168.5)  # a string in GB in the SDK
    doc["masterTargetServers"][0]["retentionVolumes"][0]["capacityInBytes"] = "10734268416"
    doc["masterTargetServers"][0]["lastHeartbeat"] = "yesterday"
    found = _problems(doc, sdk.FabricSpecificDetails)
    assert len(found) == 3
    assert any("freeSpace (DataStore): expected a JSON string, got a number" in f for f in found)
    assert any("capacityInBytes (RetentionVolume): expected a JSON integer, got a string" in f for f in found)
    assert any("lastHeartbeat (MasterTargetServer): expected an RFC 3339 date-time string" in f for f in found)
    assert _problems({"volumeName": "R", "thresholdPercentage": True}, sdk.RetentionVolume)  # a boolean is no int


def test_an_unknown_discriminator_names_what_the_sdk_knows() -> None:
    found = _problems(
        {"instanceType": "InMage", "isMultiVmSyncPoint": "true"}, sdk.ProviderSpecificRecoveryPointDetails
    )
    assert found[0].startswith("$.instanceType (ProviderSpecificRecoveryPointDetails): unknown discriminator 'InMage'")
    assert "InMageAzureV2" in found[0]
    assert (
        _problems(
            {"instanceType": "InMageAzureV2", "isMultiVmSyncPoint": "true"}, sdk.ProviderSpecificRecoveryPointDetails
        )
        == []
    )


def test_discriminators_are_followed_through_every_level_of_subclasses() -> None:
    """VirtualMachineTaskDetails is a JobTaskDetails, in JobTaskDetails' own table, not in TaskTypeDetails'."""
    assert "VirtualMachineTaskDetails" not in sdk.TaskTypeDetails.__mapping__
    assert subclass_for(sdk.TaskTypeDetails, "VirtualMachineTaskDetails") is sdk.VirtualMachineTaskDetails
    assert "FabricReplicationGroupTaskDetails" in known_discriminators(sdk.TaskTypeDetails)
    task = {"instanceType": "VirtualMachineTaskDetails", "skippedReason": "NotRequired", "jobTask": {"jobId": "j"}}
    assert _problems(task, sdk.TaskTypeDetails) == []
    task["colour"] = "blue"
    assert _problems(task, sdk.TaskTypeDetails) == ["$.colour (VirtualMachineTaskDetails): key not in the SDK's model"]


def test_null_where_the_sdk_has_no_optional() -> None:
    found = _problems(
        {"properties": {"failoverDirection": None, "sourceSiteOperations": "Required"}},
        sdk.RecoveryPlanUnplannedFailoverInput,
    )
    assert found == [
        "$.properties.failoverDirection (RecoveryPlanUnplannedFailoverInputProperties): "
        "null where the SDK has no Optional"
    ]


def test_the_allow_list_lets_a_recorded_key_through_and_says_it_was_used() -> None:
    envelope = {"error": {"code": "BadRequest", "details": [{"code": "28051", "possibleCauses": "x"}]}}
    assert _problems(envelope, sdk.ErrorResponse) == [
        "$.error.details[0].possibleCauses (ErrorDetail): key not in the SDK's model"
    ]
    walker = Walker([Allowed("ErrorDetail", "possibleCauses", "a test")])
    assert _problems(envelope, sdk.ErrorResponse, walker) == []
    assert walker.used == {("ErrorDetail", "possibleCauses")}


def test_strict_enums_for_what_is_sent() -> None:
    body = {"instanceType": "InMage", "recoveryPointType": "Newest"}
    assert _problems(body, sdk.UnplannedFailoverProviderSpecificInput) == []  # answers: ASR may add values
    found = _problems(body, sdk.UnplannedFailoverProviderSpecificInput, Walker(strict_enums=True))
    assert found and "'Newest' is not a value of RecoveryPointType" in found[0]
