"""The ARM surface: auth, api-version, routing and 404s, ids, paging with nextLink, $filter, counts."""

from __future__ import annotations

import urllib.parse
from typing import Any

from core.clock import ManualClock
from core.emulator import ArmEmulator
from tests.emulator.conftest import AUTH, BASE, Call, failover_body, item_path, url


def test_bearer_token_required(call: Call) -> None:
    for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Basic abc"}):
        response = call("GET", "replicationJobs", headers=headers)
        assert response.status == 401
        assert response.json()["error"]["code"] == "AuthenticationFailed"
    assert call("GET", "replicationJobs", headers={"authorization": "Bearer anything"}).status == 200


def test_api_version_required(call: Call) -> None:
    response = call("GET", "replicationJobs", query="")
    assert response.status == 400
    assert response.json()["error"]["code"] == "MissingApiVersionParameter"


def test_unknown_path_and_wrong_vault_are_arm_404s(call: Call, emulator: ArmEmulator) -> None:
    unknown = call("GET", "replicationWidgets")
    assert unknown.status == 404 and unknown.json()["error"]["message"]
    outside = call("GET", "/providers/Microsoft.Nothing")
    assert outside.status == 404
    wrong_vault = emulator.vault.arm_id.replace(emulator.vault.name, "rsv-other")
    response = call("GET", f"{wrong_vault}/replicationJobs")
    assert response.status == 404
    error = response.json()["error"]
    assert error["code"] == "ResourceNotFound" and "rsv-other" in error["message"]
    wrong_sub = emulator.vault.arm_id.replace(emulator.vault.subscription_id, "00000000-0000-0000-0000-000000000000")
    response = call("GET", f"{wrong_sub}/replicationJobs")
    assert response.status == 404 and "00000000-0000-0000-0000-000000000000" in response.json()["error"]["message"]
    assert call("GET", f"{item_path(emulator, 'web-01')[:-3]}xyz").status == 404


def test_paths_match_case_insensitively(call: Call, emulator: ArmEmulator) -> None:
    path = item_path(emulator, "web-01").lower().replace("replicationprotecteditems", "REPLICATIONPROTECTEDITEMS")
    shouting = emulator.vault.arm_id.replace("/subscriptions/", "/SUBSCRIPTIONS/") + "/" + path
    response = call("GET", shouting)
    assert response.status == 200
    assert response.json()["id"].startswith("/Subscriptions/")


def test_wrong_method_is_refused(call: Call) -> None:
    assert call("DELETE", "replicationJobs").status == 405


def test_item_and_fabric_shapes(call: Call, emulator: ArmEmulator) -> None:
    item = call("GET", item_path(emulator, "web-01")).json()
    assert item["type"].endswith("replicationProtectedItems")
    assert item["properties"]["providerSpecificDetails"]["instanceType"] == "InMage"
    fabric = call("GET", "replicationFabrics/avs-weu-prod-01-fabric").json()
    custom = fabric["properties"]["customDetails"]
    assert custom["instanceType"] == "VMware"
    assert {p["health"] for p in custom["processServers"]} == {"Normal", "Warning"}
    master = custom["masterTargetServers"][0]
    assert master["retentionVolumes"][0]["volumeName"] and master["dataStores"][0]["symbolicName"] == "vsanDatastore"
    assert custom["runAsAccounts"][0] == {"accountId": "1", "accountName": "vcenter-asr"}
    containers = call("GET", "replicationFabrics/avs-weu-prod-01-fabric/replicationProtectionContainers").json()
    assert [c["name"] for c in containers["value"]] == ["cloud_avs01"]
    per_container = call(
        "GET",
        "replicationFabrics/avs-weu-prod-01-fabric/replicationProtectionContainers/cloud_avs01/replicationProtectedItems",
    ).json()
    assert len(per_container["value"]) == 2 and per_container["nextLink"]


def _follow(call: Call, first: dict[str, Any]) -> list[dict[str, Any]]:
    values = list(first["value"])
    link = first.get("nextLink")
    while link:
        assert link.startswith(BASE + "/Subscriptions/")
        split = urllib.parse.urlsplit(link)
        page = call("GET", split.path, query=split.query).json()
        values.extend(page["value"])
        link = page.get("nextLink")
    return values


def test_paging_carries_filter_and_skip_token_in_next_link(call: Call) -> None:
    everything = _follow(call, call("GET", "replicationProtectedItems").json())
    assert len(everything) == 5 and len({i["id"] for i in everything}) == 5

    query = "api-version=2025-08-01&$filter=" + urllib.parse.quote("RecoveryPlanName eq 'rp-shop'")
    first = call("GET", "replicationProtectedItems", query=query).json()
    assert len(first["value"]) == 2
    params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(first["nextLink"]).query))
    assert params["$filter"] == "RecoveryPlanName eq 'rp-shop'" and params["skipToken"] == "2"
    members = _follow(call, first)
    assert sorted(i["properties"]["friendlyName"] for i in members) == ["db-01", "web-01", "web-02"]

    query = "api-version=1&$filter=" + urllib.parse.quote("InstanceType eq 'InMage' and RecoveryPlanName eq 'none'")
    assert call("GET", "replicationProtectedItems", query=query).json()["value"] == []
    bad = call("GET", "replicationProtectedItems", query="api-version=1&$filter=" + urllib.parse.quote("Color eq 'x'"))
    assert bad.status == 400 and bad.json()["error"]["code"] == "InvalidFilter"
    assert call("GET", "replicationProtectedItems", query="api-version=1&skipToken=abc").status == 400


def _jobs(call: Call, expression: str) -> list[dict[str, Any]]:
    return _follow(
        call, call("GET", "replicationJobs", query="api-version=1&$filter=" + urllib.parse.quote(expression)).json()
    )


def test_jobs_filter(call: Call, emulator: ArmEmulator, clock: ManualClock) -> None:
    call("POST", f"{item_path(emulator, 'web-01')}/unplannedFailover", failover_body())
    clock.advance(10)
    everything = _follow(call, call("GET", "replicationJobs").json())
    assert len(everything) == 5
    failed = _jobs(call, "JobStatus eq 'Failed'")
    assert [j["properties"]["state"] for j in failed] == ["Failed"]
    either = _jobs(call, "( JobStatus eq 'Failed' or JobStatus eq 'InProgress' )")
    assert sorted(j["properties"]["state"] for j in either) == ["Failed", "InProgress"]
    recent = _jobs(call, "StartTime eq '2026-11-25T13:00:00.0000000Z' and EndTime eq '2026-11-25T15:00:00.0000000Z'")
    assert [j["properties"]["scenarioName"] for j in recent] == ["UnplannedFailover"]
    combined = _jobs(
        call,
        "StartTime eq '2026-11-20T00:00:00Z' and ( JobStatus eq 'Succeeded' or JobStatus eq 'Failed' ) "
        "and AffectedObjectTypes eq 'ProtectionEntity'",
    )
    assert len(combined) == 4
    assert _jobs(call, "JobName eq 'CommitFailover'")[0]["properties"]["state"] == "Failed"
    assert len(_jobs(call, "FabricId eq 'avs-weu-prod-01-fabric'")) == 5
    for bad in ("JobStatus eq", "Colour eq 'x'", "StartTime eq 'yesterday'", "( JobStatus eq 'Failed'"):
        response = call("GET", "replicationJobs", query="api-version=1&$filter=" + urllib.parse.quote(bad))
        assert response.status == 400, bad


def test_stats_and_rate_limit_headers(call: Call, emulator: ArmEmulator) -> None:
    first = call("GET", "replicationJobs")
    second = call("GET", "replicationJobs")
    remaining = [int(r.headers["x-ms-ratelimit-remaining-subscription-reads"]) for r in (first, second)]
    assert remaining[0] - remaining[1] == 1
    call("POST", f"{item_path(emulator, 'web-01')}/unplannedFailover", failover_body())
    stats = emulator.stats
    assert stats.total == 3 and stats.reads == 2 and stats.writes == 1
    assert stats.by_kind["GET replicationJobs"] == 2 and stats.by_kind["POST unplannedFailover"] == 1
    assert stats.log[-1][0] == "POST" and stats.log[-1][1].endswith("/unplannedFailover")


def test_other_operator_makes_the_item_busy(call: Call, emulator: ArmEmulator) -> None:
    name = emulator.act_as_other_operator("web-02", "failover")
    item = call("GET", item_path(emulator, "web-02")).json()["properties"]
    assert item["currentScenario"]["jobId"].endswith(name)
    assert call("POST", f"{item_path(emulator, 'web-02')}/unplannedFailover", failover_body()).status == 409


def test_handle_takes_absolute_urls_as_sent(emulator: ArmEmulator) -> None:
    response = emulator.handle("GET", url(emulator, "replicationRecoveryPlans/RP-SHOP"), AUTH, None)
    assert response.status == 200 and response.json()["name"] == "rp-shop"


def test_replication_policies_and_reprotect_policy_check(call: Call, emulator: ArmEmulator) -> None:
    from tests.emulator.conftest import reprotect_body

    policies = call("GET", "replicationPolicies").json()["value"]
    kinds = {p["name"]: p["properties"]["providerSpecificDetails"]["instanceType"] for p in policies}
    assert kinds == {"azure-to-avs-failback": "InMage", "avs-to-azure": "InMageAzureV2"}
    assert call("GET", "replicationPolicies/avs-to-azure").json()["id"].startswith("/Subscriptions/")
    assert call("GET", "replicationPolicies/nope").status == 404
    body = reprotect_body(emulator, call)
    body["properties"]["providerSpecificDetails"]["policyId"] += "-typo"
    refused = call("POST", f"{item_path(emulator, 'app-01')}/reProtect", body)
    assert refused.status == 400 and "policyId" in refused.json()["error"]["message"]
    body["properties"]["providerSpecificDetails"]["processServerId"] = "not-a-server"
    assert call("POST", f"{item_path(emulator, 'app-01')}/reProtect", body).status == 400
    assert call("POST", f"{item_path(emulator, 'app-01')}/reProtect", reprotect_body(emulator, call)).status == 202
