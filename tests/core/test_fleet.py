"""The fleet in core: Resource Graph rows mapped as a vault listing maps ARM documents, paging, quota, errors."""

from __future__ import annotations

import dataclasses
import json
import time
from collections import Counter
from typing import Any

import pytest

from core.azure import mapping
from core.bootstrap import build_fleet
from core.clock import ManualClock
from core.config import Settings
from core.emulator import ArmEmulator, Fault, kql, list_scenarios, load_scenario
from core.emulator.fleet import TABLES, FleetEmulator, load_fleet
from core.errors import ServiceError, Throttled
from core.failback import derive_stage, stage_reason
from core.fleet import ITEM_TYPE, ITEMS_QUERY, item_document, summarise, vault_key
from core.model import PointChoice, Provider


def _rows(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """What the item query itself (ITEMS_QUERY, run by the emulator's KQL) makes of the documents as Resource Graph
    holds them: one column per path, null where a path is absent or not wanted on that row."""
    table = [{"id": d["id"], "name": d["name"], "type": ITEM_TYPE, "properties": d["properties"]} for d in docs]
    rows = kql.parse(ITEMS_QUERY, TABLES).run(table)
    assert len(rows) == len(docs)
    return {row["id"]: row for row in rows}


FIELDS = (
    "id", "name", "friendly_name", "protection_state", "active_location", "replication_health", "failover_health",
    "allowed_operations", "instance_type", "current_scenario", "active_site_type", "consistency_group",
    "rpo_seconds", "last_recovery_point_time", "provider", "protection_state_description", "running_job_name",
)  # fmt: skip


def _scenarios() -> list[Any]:
    found = [load_scenario(info.name) for info in list_scenarios()]
    found += [vault.scenario for vault in load_fleet("demo").vaults]
    return found


@pytest.mark.parametrize("scenario", _scenarios(), ids=lambda s: s.vault.name + "/" + s.name)
def test_projected_item_has_the_stage_and_fields_of_the_whole_document(scenario: Any) -> None:
    emulator = ArmEmulator(scenario, ManualClock())
    items, _jobs = emulator.documents()
    assert items
    rows = _rows(items)
    for doc in items:
        whole = mapping.protected_item(doc)
        projected = mapping.protected_item(item_document(rows[doc["id"]]))
        assert derive_stage(projected) is derive_stage(whole), whole.friendly_name
        assert stage_reason(projected) == stage_reason(whole)
        for name in FIELDS:
            assert getattr(projected, name) == getattr(whole, name), (whole.friendly_name, name)
        if whole.rcm is not None:  # the modernized legs: what a not-ready reason and the disks' sync time read
            assert projected.rcm is not None
            for name in ("disks_last_synced", "ir_percent", "ir_health"):
                assert getattr(projected.rcm, name) == getattr(whole.rcm, name), (whole.friendly_name, name)


def _fleet(**settings: Any) -> tuple[Any, FleetEmulator, ManualClock]:
    clock = ManualClock()
    fleet = load_fleet("demo")
    if settings:
        fleet = dataclasses.replace(fleet, settings=dataclasses.replace(fleet.settings, **settings))
    emulator = FleetEmulator(fleet, clock, base_url="https://emulator.avs-failback.invalid")
    return build_fleet(Settings(demo=True), emulator=emulator), emulator, clock


def _by_vault(reader: Any) -> dict[str, Counter[str]]:
    counts: dict[str, Counter[str]] = {}
    for page in reader.iter_item_pages():
        for entry in page:
            counts.setdefault(vault_key(entry.vault), Counter())[entry.stage.key] += 1
    return counts


def _over_arm(reader: Any, vaults: list[Any]) -> dict[str, Counter[str]]:
    return {v.key: Counter(derive_stage(i).key for i in reader.open_vault(v.ref).list_items()) for v in vaults}


def test_fleet_counts_follow_a_failover_in_one_vault() -> None:
    reader, _emulator, clock = _fleet(index_every=0.0)
    vaults = reader.list_vaults()
    assert _by_vault(reader) == _over_arm(reader, vaults)
    backend = reader.open_vault(next(v.ref for v in vaults if v.ref.name == "rsv-avs-frc-01"))
    item = next(i for i in backend.list_items() if derive_stage(i).key == "ready")
    backend.unplanned_failover(item, PointChoice.LATEST)
    clock.advance(3600)
    counts = _by_vault(reader)
    assert counts == _over_arm(reader, vaults)
    assert counts[vault_key(backend.vault)]["failed-over"] == 1


def test_the_index_lags_the_vault_until_it_reads_it_again() -> None:
    reader, _emulator, clock = _fleet(index_every=600.0)
    vaults = reader.list_vaults()
    before = _by_vault(reader)
    backend = reader.open_vault(next(v.ref for v in vaults if v.ref.name == "rsv-avs-frc-01"))
    item = next(i for i in backend.list_items() if derive_stage(i).key == "ready")
    backend.unplanned_failover(item, PointChoice.LATEST)
    clock.advance(300)
    key = vault_key(backend.vault)
    assert _by_vault(reader)[key] == before[key]  # Resource Graph has not read the vault again yet
    assert _over_arm(reader, vaults)[key] != before[key]
    clock.advance(400)
    assert _by_vault(reader)[key] == _over_arm(reader, vaults)[key]


def test_summaries_count_stages_health_providers_and_the_oldest_point() -> None:
    reader, _emulator, clock = _fleet()
    vaults = reader.list_vaults()
    items = [e for page in reader.iter_item_pages() for e in page]
    summaries = {s.ref.name: s for s in summarise(vaults, items, reader.list_jobs())}
    web = summaries["rsv-avs-weu-web"]
    assert web.items == 24 and web.providers and max(web.providers.values()) == 18
    assert summaries["rsv-avs-neu-02"].health["Critical"] == 7
    assert summaries["rsv-avs-cus-ops"].jobs_open == 5 and summaries["rsv-avs-cus-ops"].running == 5
    oldest = summaries["rsv-avs-uks-data"].oldest_point
    assert oldest is not None and (clock.now() - oldest).total_seconds() >= 900
    # The index time is read from the classic items' lastRpoCalculatedTime; InMageRcmFailback carries none, so a
    # vault of modernized items only has no index time to show (unknown, never "now").
    indexed = [s for s in summaries.values() if s.indexed_at is not None]
    assert len(indexed) >= 10 and all(s.indexed_at == clock.now() for s in indexed)
    assert summaries["rsv-avs-uks-ops"].providers == {Provider.MODERNIZED: 3}
    assert summaries["rsv-avs-uks-ops"].indexed_at is None


def test_pages_follow_the_skip_token() -> None:
    reader, emulator, _ = _fleet(quota=1000)  # no wait on the quota: the vaults stay as the first page saw them
    reader.graph.page_size = 7
    vaults = reader.list_vaults()
    items = [e for page in reader.iter_item_pages() for e in page]
    assert len(items) == sum(len(em.simulation.items) for em in emulator.vaults)
    assert len({e.item.id for e in items}) == len(items)
    assert _by_vault(reader) == _over_arm(reader, vaults)
    assert reader.requests > len(items) // 7


def test_the_next_page_is_read_ahead_one_at_a_time_and_a_failure_comes_in_its_place() -> None:
    """The reader asks for page n+1 while the caller works on page n: never two queries at once, in page order;
    a page that fails raises where it would have been yielded, after every page before it."""
    reader, emulator, _ = _fleet(quota=1000)
    reader.graph.page_size = 10
    reader.list_vaults()
    answer = emulator.handle
    in_flight: list[int] = []
    most = [0]

    def counting(method: str, url: str, headers: Any, body: bytes | None) -> Any:
        in_flight.append(1)
        most[0] = max(most[0], len(in_flight))
        try:
            return answer(method, url, headers, body)
        finally:
            in_flight.pop()

    emulator.handle = counting  # type: ignore[method-assign]
    emulator.faults.add(
        Fault(
            "server-error", method="POST", path="/providers/microsoft.resourcegraph/*", page=3, count=None, status=503
        )
    )
    seen: list[int] = []
    pages = reader.iter_item_pages()
    before = emulator.graph_stats.queries
    seen.append(len(next(pages)))
    deadline = time.monotonic() + 5
    while emulator.graph_stats.queries < before + 2 and time.monotonic() < deadline:
        time.sleep(0.01)  # page 2 is asked for while the caller still holds page 1
    assert emulator.graph_stats.queries == before + 2
    with pytest.raises(ServiceError) as caught:
        for page in pages:
            seen.append(len(page))
    assert seen == [10, 10] and caught.value.status == 503
    assert most[0] == 1


def test_the_quota_is_waited_out_not_failed() -> None:
    reader, emulator, clock = _fleet(quota=3, quota_window=5.0)
    reader.graph.page_size = 20
    start = clock.now()
    items = [e for page in reader.iter_item_pages() for e in page]
    assert len(items) == sum(len(em.simulation.items) for em in emulator.vaults)
    assert reader.graph.stats.waited > 0 and (clock.now() - start).total_seconds() >= 5
    assert emulator.graph_stats.throttled == 0  # the headers said when to stop, so no query was refused


def test_a_429_is_retried_after_the_time_the_headers_give() -> None:
    reader, emulator, _ = _fleet()
    emulator.faults.add(Fault("throttle", method="POST", path="/providers/microsoft.resourcegraph/*", count=2))
    assert len(reader.list_vaults()) == 14
    assert reader.graph.stats.throttled == 2 and emulator.graph_stats.throttled == 2


def test_throttling_without_end_says_so() -> None:
    reader, emulator, _ = _fleet()
    emulator.faults.add(Fault("throttle", method="POST", path="/providers/microsoft.resourcegraph/*", count=None))
    with pytest.raises(Throttled) as caught:
        reader.list_vaults()
    assert "429" in caught.value.message


def test_a_query_resource_graph_refuses_is_a_service_error_with_its_details() -> None:
    reader, _emulator, _ = _fleet()
    with pytest.raises(ServiceError) as caught:
        reader.graph.rows("recoveryservicesresources | summarize count() by type")
    codes = [d.code for d in caught.value.details]
    assert caught.value.status == 400 and codes[:1] == ["InvalidQuery"] and "InvalidQueryLanguage" in codes


def test_the_emulator_answers_resource_graphs_envelope_and_headers() -> None:
    _reader, emulator, _ = _fleet()
    url = f"{emulator.base_url}/providers/Microsoft.ResourceGraph/resources?api-version=2021-03-01"
    body = json.dumps({"query": "resources | where type =~ 'microsoft.recoveryservices/vaults' | project id"})
    answer = emulator.handle("POST", url, {"Authorization": "Bearer t"}, body.encode())
    data = answer.json()
    assert answer.status == 200 and data["totalRecords"] == 14 and data["resultTruncated"] == "false"
    assert answer.headers["x-ms-user-quota-remaining"] == "14"
    assert answer.headers["x-ms-user-quota-resets-after"] == "00:00:05"
    bad = emulator.handle(
        "POST", url, {"Authorization": "Bearer t"}, json.dumps({"query": "resources | where ("}).encode()
    )
    error = bad.json()["error"]
    assert bad.status == 400 and error["code"] == "BadRequest" and error["message"].startswith("Please provide")
    assert error["details"][1]["code"] == "ParserFailure" and "characterPositionInLine" in error["details"][1]
    nobody = emulator.handle("POST", url, {}, body.encode())
    assert nobody.status == 401


def test_pages_come_as_tables_and_a_table_that_does_not_add_up_is_refused() -> None:
    """The reader asks for resultFormat table (SDK Table: columns once, rows of values); the emulator answers
    it with the projection's columns and types; an objectArray answer is read too; a row shorter than the columns
    is a malformed answer, not a row with values in the wrong places."""
    from core.emulator import EmulatorResponse
    from core.errors import MalformedResponse

    reader, emulator, _ = _fleet()
    url = f"{emulator.base_url}/providers/Microsoft.ResourceGraph/resources?api-version=2021-03-01"
    query = "resources | where type =~ 'microsoft.recoveryservices/vaults' | project id, name, n = strlen(name)"
    body = json.dumps({"query": query, "options": {"resultFormat": "table"}})
    data = emulator.handle("POST", url, {"Authorization": "Bearer t"}, body.encode()).json()["data"]
    assert data["columns"] == [
        {"name": "id", "type": "string"},
        {"name": "name", "type": "string"},
        {"name": "n", "type": "integer"},
    ]
    assert len(data["rows"]) == 14 and all(len(row) == 3 and row[2] == len(row[1]) for row in data["rows"])
    assert {v.ref.name for v in reader.list_vaults()} == {row[1] for row in data["rows"]}

    answer = emulator.handle

    def answering(data: Any) -> Any:
        def handle(method: str, url: str, headers: Any, body: bytes | None) -> EmulatorResponse:
            if "microsoft.resourcegraph" not in url.lower():
                return answer(method, url, headers, body)
            payload = {"totalRecords": 1, "count": 1, "resultTruncated": "false", "data": data}
            return EmulatorResponse(200, {"Content-Type": "application/json"}, json.dumps(payload).encode())

        return handle

    vault = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v1"
    emulator.handle = answering([{"id": vault, "location": "westeurope"}])  # type: ignore[method-assign]
    assert [(v.ref.name, v.location) for v in reader.list_vaults()] == [("v1", "westeurope")]
    emulator.handle = answering(  # type: ignore[method-assign]
        {"columns": [{"name": "id"}, {"name": "location"}], "rows": [[vault]]}
    )
    with pytest.raises(MalformedResponse) as caught:
        reader.list_vaults()
    assert "table" in caught.value.message


def test_a_page_cut_short_is_a_malformed_answer_that_says_to_retry() -> None:
    """The body is parsed once, by the pipeline's decode policy: a page that is not whole JSON still leaves as
    our MalformedResponse, with what to do, and the next read succeeds."""
    from core.errors import MalformedResponse

    reader, emulator, _ = _fleet()
    emulator.faults.add(Fault("malformed-json", method="POST", path="/providers/microsoft.resourcegraph/*", count=1))
    with pytest.raises(MalformedResponse) as caught:
        reader.list_vaults()
    assert "Retry" in (caught.value.hint or "")
    assert len(reader.list_vaults()) == 14


def test_resource_graph_is_held_to_the_arm_origin_as_the_vaults_are() -> None:
    """A redirect from the query endpoint to another host is neither followed (the token would go with it) nor
    believed: the same pinned-origin policy as every vault read."""
    from core.emulator import EmulatorResponse
    from core.errors import UntrustedEndpoint

    reader, emulator, _ = _fleet()
    answer = emulator.handle

    def redirecting(method: str, url: str, headers: Any, body: bytes | None) -> EmulatorResponse:
        if "microsoft.resourcegraph" in url.lower():
            return EmulatorResponse(
                307, {"Location": "https://elsewhere.invalid/resources?api-version=2021-03-01"}, b""
            )
        return answer(method, url, headers, body)

    emulator.handle = redirecting  # type: ignore[method-assign]
    with pytest.raises(UntrustedEndpoint) as caught:
        reader.list_vaults()
    # Followed, the request would have left for a host the in-process transport cannot reach: a connection
    # error, not this refusal naming the URL.
    assert "elsewhere.invalid" in caught.value.message
