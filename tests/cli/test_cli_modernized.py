"""The CLI on a modernized vault: the same verbs, the planned failover from Azure with its point type, the cancel,
and no text that sends the operator to the portal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from azure.mgmt.recoveryservicessiterecovery import models as sdk

from tests.cli.test_cli_operations import Rig
from tests.conformance.witness import Witness


@pytest.fixture
def rcm(tmp_path: Path) -> Rig:
    return Rig("modernized", tmp_path)


def test_items_json_reports_the_ready_modernized_vms_ready(rcm: Rig) -> None:
    code, out, err = rcm.run("items", "--json")
    assert code == 0, err
    items = json.loads(out)["items"]
    ready = [i for i in items if i["stage"] == "ready"]
    assert {i["friendly_name"] for i in ready} == {"crm-web-01", "crm-web-02", "crm-db-01"}
    assert {i["provider"] for i in items} == {"modernized"}
    assert all(i["next_step"] == "Fail back" for i in ready)
    assert "portal" not in (out + err).lower()


@pytest.mark.parametrize(
    ("point", "point_type"), [("latest", "CrashConsistent"), ("app-consistent", "ApplicationConsistent")]
)
def test_failover_sends_one_planned_failover_the_sdk_accepts_unchanged(rcm: Rig, point: str, point_type: str) -> None:
    witness = Witness(rcm.emulator)
    code, out, err = rcm.run("failover", "crm-web-01", "--point", point, "--yes", "--wait", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["kind"] == "plannedFailover" and result["provider"] == "modernized"
    assert result["job"]["state"] == "Succeeded"
    assert result["point"]["loss_seconds"] is None  # ASR reports none for this leg
    posts = [e for e in witness.take() if e.method == "POST"]
    assert [e.segments[-1] for e in posts] == ["plannedFailover"]
    body = posts[0].request
    assert body == {
        "properties": {
            "providerSpecificDetails": {"instanceType": "InMageRcmFailback", "recoveryPointType": point_type}
        }
    }
    assert sdk.PlannedFailoverInput(body).as_dict() == body
    assert rcm.emulator.stats.count("POST unplannedFailover") == 0
    assert "portal" not in (out + err).lower()


def test_a_point_id_is_refused_for_a_modernized_vm(rcm: Rig) -> None:
    code, _out, err = rcm.run("failover", "crm-web-01", "--point", "1795572000", "--yes")
    assert code != 0
    assert "type of point" in err and rcm.posts() == 0


def test_cancel_then_fail_back_again_then_commit(rcm: Rig) -> None:
    assert rcm.run("failover", "crm-web-02", "--point", "latest", "--yes", "--wait")[0] == 0
    code, out, err = rcm.run("cancel", "crm-web-02", "--yes", "--wait")
    assert code == 0, err
    assert "Succeeded" in out
    item = (
        rcm.item(rcm.backend.list_items()[0].name)
        if False
        else next(i for i in rcm.backend.list_items() if i.friendly_name == "crm-web-02")
    )
    assert item.allows("PlannedFailover")
    assert rcm.run("failover", "crm-web-02", "--point", "app-consistent", "--yes", "--wait")[0] == 0
    code, out, err = rcm.run("commit", "crm-web-02", "--confirm", "crm-web-02", "--wait")
    assert code == 0, err
    kinds = [e["operation"] for e in rcm.records("intent")]
    assert kinds == ["failover", "cancel-failover", "failover", "commit"]


def test_cancel_is_refused_for_a_classic_vm_and_says_why(tmp_path: Path) -> None:
    classic = Rig("demo", tmp_path)
    code, _out, err = classic.run("cancel", "hr-app-01", "--yes")
    assert code != 0 and "cannot be cancelled" in err and classic.posts() == 0


def test_show_command_gives_the_modernized_commands(rcm: Rig) -> None:
    code, out, _err = rcm.run("failover", "crm-web-01", "--point", "latest", "--show-command")
    assert code == 0
    assert "/plannedFailover" in out
    assert "az site-recovery protected-item planned-failover" in out and "in-mage-rcm-failback" in out
    assert "Start-AzRecoveryServicesAsrPlannedFailoverJob" in out and "RecoveryTagCrashConsistent" in out
    code, out, _err = rcm.run("cancel", "crm-app-01", "--show-command")
    assert code == 0
    assert "/failoverCancel" in out and "Start-AzRecoveryServicesAsrCancelFailoverJob" in out
    assert rcm.posts() == 0


def test_reprotect_to_avs_then_back_to_azure_through_the_appliance(rcm: Rig) -> None:
    witness = Witness(rcm.emulator)
    # in Azure: the datastore and the log storage account are needed (ASR reports no default on this vault)
    code, _out, err = rcm.run("reprotect", "crm-queue-01", "--appliance", "rcm-avs-weu-01", "--yes")
    assert code != 0 and "needs --datastore" in err and rcm.posts() == 0
    account = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/logs"
    code, out, err = rcm.run(
        "reprotect", "crm-queue-01", "--appliance", "rcm-avs-weu-01", "--datastore", "vsanDatastore",
        "--log-storage-account", account, "--yes", "--wait",
    )  # fmt: skip
    assert code == 0, err
    body = next(e.request for e in witness.take() if e.method == "POST")
    assert body["properties"]["providerSpecificDetails"]["instanceType"] == "InMageRcm"
    assert sdk.ReverseReplicationInput(body).as_dict() == body
    # the committed VM back to Azure: the appliance's process server and the vault's InMageRcm policy
    code, out, err = rcm.run("reprotect", "crm-app-02", "--appliance", "rcm-avs-weu-01", "--show-command")
    assert code == 0, err
    assert "in-mage-rcm-failback" in out and "24-hour-replication-policy" in out and "masterTargetId" not in out
    code, out, err = rcm.run("reprotect", "crm-app-02", "--appliance", "rcm-avs-weu-01", "--yes", "--wait")
    assert code == 0, err
    sent = [e.request for e in witness.take() if e.method == "POST"]
    assert sent[-1]["properties"]["providerSpecificDetails"]["instanceType"] == "InMageRcmFailback"
    assert sdk.ReverseReplicationInput(sent[-1]).as_dict() == sent[-1]
    assert "portal" not in (out + err).lower()


def test_the_appliances_come_from_the_fabric_and_a_bad_choice_is_refused_before_sending(rcm: Rig) -> None:
    """The appliance and the datastore are checked against InMageRcmFabricSpecificDetails before anything is sent;
    an appliance the emulator deems unable to serve (stale heartbeat, U11) is refused by ASR with 28064."""
    account = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/logs"
    code, _out, err = rcm.run("reprotect", "crm-queue-01", "--appliance", "rcm-nowhere", "--yes")
    assert code != 0 and "No replication appliance named 'rcm-nowhere'" in err
    assert "rcm-avs-weu-01 (Normal)" in err and "rcm-avs-weu-02 (Warning)" in err and rcm.posts() == 0
    code, _out, err = rcm.run(
        "reprotect", "crm-queue-01", "--appliance", "rcm-avs-weu-02", "--datastore", "avs-weu-nfs-01",
        "--log-storage-account", account, "--yes",
    )  # fmt: skip
    assert code != 0 and "does not reach the datastore 'avs-weu-nfs-01'" in err and "vsanDatastore" in err
    assert rcm.posts() == 0
    # a datastore it reaches: sent, and ASR (the emulator) refuses the stale appliance with its reason
    code, out, err = rcm.run(
        "reprotect", "crm-queue-01", "--appliance", "rcm-avs-weu-02", "--datastore", "vsanDatastore",
        "--log-storage-account", account, "--yes",
    )  # fmt: skip
    assert code != 0 and rcm.posts() == 1
    assert "'rcm-avs-weu-02' has sent no heartbeat for 40 minutes" in err


def test_the_preflight_reads_the_vms_appliance_and_datastore(rcm: Rig) -> None:
    code, out, err = rcm.run("preflight", "crm-web-01", "--json")
    assert code in (0, 1), err
    checks = {c["key"]: c for c in json.loads(out)["checks"]}
    appliance, datastore = checks["appliance"], checks["datastore"]
    assert appliance["level"] == "pass" and "rcm-avs-weu-01" in appliance["detail"]
    # no modernized object reports a datastore's size: a hand check, never a figure
    assert datastore["level"] == "warn" and "free space is not reported" in datastore["detail"]
    assert "vCenter" in datastore["remedy"]
