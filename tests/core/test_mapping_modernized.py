"""The modernized legs as the mapping reads them: the shapes of the recorded sessions (MODERNIZED.md §3, §4, §10)."""

from __future__ import annotations

from typing import Any

from azure.mgmt.recoveryservicessiterecovery import models as sdk

from core.azure import mapping

ITEM_ID = (
    "/Subscriptions/s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v/replicationFabrics/f"
    "/replicationProtectionContainers/c/replicationProtectedItems/vcenter67_5015"
)


def _doc(details: dict[str, Any], **props: Any) -> dict[str, Any]:
    body = {"friendlyName": "Rcm-W2K19-152", "providerSpecificDetails": details, **props}
    return {"id": ITEM_ID, "name": "vcenter67_5015", "properties": body}


def test_failback_leg_reads_the_agent_flag_the_datastore_and_initial_replication() -> None:
    details = {
        "instanceType": "InMageRcmFailback",
        "reprotectAgentId": "7d30ec24",
        "reprotectAgentName": "Rcm-App-150",
        "targetDataStoreName": "SharedDS-84-85",
        "initialReplicationProgressPercentage": 92,
        "initialReplicationProgressHealth": "InProgress",
        "isAgentRegistrationSuccessfulAfterFailover": False,
        "lastPlannedFailoverStatus": "Succeeded",
        "discoveredVmDetails": {"datastores": ["SharedDS-84-85"]},
    }
    doc = _doc(details, protectionState="CommitPendingStatesBegin")
    # the SDK's own model keeps every key we read: nothing here is of our invention
    assert sdk.ReplicationProtectedItem(doc).as_dict() == doc
    item = mapping.protected_item(doc)
    assert item.rcm is not None
    assert (item.rcm.appliance_id, item.rcm.appliance_name) == ("7d30ec24", "Rcm-App-150")
    assert item.rcm.target_datastore == "SharedDS-84-85"
    assert item.rcm.ir_percent == 92
    assert item.rcm.agent_registered_after_failover is False
    assert item.rcm.discovered_datastores == ("SharedDS-84-85",)
    assert item.rcm.last_planned_failover_status == "Succeeded"


def test_a_null_agent_flag_is_unknown_and_a_string_one_is_read() -> None:
    never = mapping.protected_item(
        _doc({"instanceType": "InMageRcmFailback", "isAgentRegistrationSuccessfulAfterFailover": None})
    )
    assert never.rcm is not None and never.rcm.agent_registered_after_failover is None
    text = mapping.protected_item(
        _doc({"instanceType": "InMageRcm", "isAgentRegistrationSuccessfulAfterFailover": "true"})
    )
    assert text.rcm is not None and text.rcm.agent_registered_after_failover is True


def test_forward_leg_log_accounts_are_deduplicated_case_insensitively_and_absent_in_list_pages() -> None:
    account = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/v2aecystor"
    disks = [{"logStorageAccountId": account.lower()}, {"logStorageAccountId": account}]
    got = mapping.protected_item(
        _doc({"instanceType": "InMageRcm", "processServerId": "7d30", "protectedDisks": disks})
    )
    assert got.rcm is not None and got.rcm.log_storage_accounts == (account.lower(),)
    trimmed = mapping.protected_item(_doc({"instanceType": "InMageRcm", "protectedDisks": []}))
    assert trimmed.rcm is not None and trimmed.rcm.log_storage_accounts == ()
    assert trimmed.rcm.ir_percent is None


def test_classic_items_carry_no_modernized_details() -> None:
    item = mapping.protected_item(_doc({"instanceType": "InMage", "activeSiteType": "Azure"}))
    assert item.rcm is None
