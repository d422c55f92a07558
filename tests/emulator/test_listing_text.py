"""Item listings are encoded per shape of item with each item's values spliced in: the text must stay exactly
what encoding each document on its own gives, and follow every change to an item at the next listing."""

from __future__ import annotations

import json
from typing import Any

from core.clock import ManualClock
from core.emulator import ArmEmulator, load_scenario, shapes
from tests.emulator.conftest import AUTH, BASE, Call, failover_body, item_path, job_name, reprotect_body, url


def _listing(call: Call) -> list[bytes]:
    """Every page body of the vault-wide item list, following nextLink."""
    bodies = []
    response = call("GET", "replicationProtectedItems")
    while True:
        assert response.status == 200
        bodies.append(response.body)
        link = response.json()["nextLink"]
        if not link:
            return bodies
        response = call("GET", link.split(BASE, 1)[1].split("?")[0], query=link.split("?", 1)[1])


def _expected_pages(emulator: ArmEmulator, pages: int) -> list[bytes]:
    """The same pages, each document built and encoded on its own (no shapes, no splicing)."""
    vault = emulator.simulation
    now = emulator.clock.now()
    items = list(vault.items.values())
    size = emulator.page_size
    out = []
    for start in range(0, len(items), size):
        page: dict[str, Any] = {"value": [shapes.item(vault, i, now) for i in items[start : start + size]]}
        page["nextLink"] = None
        if start + size < len(items):
            page["nextLink"] = "LINK"
        out.append(json.dumps(page))
    assert len(out) == pages
    return [text.encode() for text in out]


def _same_pages(actual: list[bytes], expected: list[bytes]) -> None:
    for got, want in zip(actual, expected, strict=True):
        doc = json.loads(got)
        link = doc["nextLink"]
        # The link is the emulator's own (checked by the paging tests); the documents must match byte for byte.
        assert got.decode() == want.decode().replace('"LINK"', json.dumps(link))


def test_listing_matches_each_document_encoded_alone_through_a_lifecycle(clock: ManualClock) -> None:
    # The demo vault: items at every stage, groups, health errors, stalled replication, running jobs.
    emulator = ArmEmulator(load_scenario("demo"), clock, base_url=BASE, page_size=7)

    def call(method: str, suffix: str, body: Any = None, *, query: str = "api-version=2025-08-01") -> Any:
        raw = json.dumps(body).encode() if body is not None else None
        return emulator.handle(method, url(emulator, suffix, query), AUTH, raw)

    def check() -> None:
        pages = _listing(call)
        _same_pages(pages, _expected_pages(emulator, len(pages)))

    check()
    # Every stage an item passes through, and the clock moving on: failover, commit, reprotect.
    for name in [i.friendly for i in emulator.simulation.items.values() if i.stage == "ready"][:3]:
        path = item_path(emulator, name)
        started = call("POST", f"{path}/unplannedFailover", failover_body())
        if started.status != 202:
            continue
        check()
        clock.advance(900)
        check()
        assert call("POST", f"{path}/failoverCommit").status == 202
        check()
        clock.advance(900)
        check()
    clock.advance(3600)
    check()


def test_item_changed_by_failover_shows_its_new_state_on_the_next_list(
    call: Call, emulator: ArmEmulator, clock: ManualClock
) -> None:
    def listed(name: str) -> dict[str, Any]:
        docs = [d for body in _listing(call) for d in json.loads(body)["value"]]
        return next(d for d in docs if d["properties"]["friendlyName"] == name)

    before = listed("web-01")
    assert before["properties"]["protectionState"] == "Protected"
    assert before["properties"]["allowedOperations"] == ["UnplannedFailover", "DisableProtection"]
    path = item_path(emulator, "web-01")
    started = call("POST", f"{path}/unplannedFailover", failover_body())
    assert started.status == 202
    running = listed("web-01")["properties"]
    assert running["allowedOperations"] == []
    assert running["currentScenario"]["jobId"].endswith(job_name(started))
    clock.advance(900)
    after = listed("web-01")["properties"]
    assert after["protectionState"] == "UnplannedFailoverCommitPendingStatesBegin"
    assert after["activeLocation"] == "Recovery"
    assert after["allowedOperations"] == ["Commit", "DisableProtection", "ChangePit"]
    assert after["currentScenario"]["scenarioName"] == "None"
    assert after["failoverRecoveryPointId"] and after["lastSuccessfulFailoverTime"] != shapes.NEVER
    # A single GET of the item says the same as the list.
    assert call("GET", path).json()["properties"] == after


def test_reprotected_item_changes_provider_in_the_list(call: Call, emulator: ArmEmulator, clock: ManualClock) -> None:
    path = item_path(emulator, "web-01")
    assert call("POST", f"{path}/unplannedFailover", failover_body()).status == 202
    clock.advance(900)
    assert call("POST", f"{path}/failoverCommit").status == 202
    clock.advance(200)
    clock.advance(20 * 60)  # past the Mobility agent's registration window
    assert call("POST", f"{path}/reProtect", reprotect_body(emulator, call)).status == 202
    clock.advance(1100)
    docs = [d for body in _listing(call) for d in json.loads(body)["value"]]
    item = next(d for d in docs if d["properties"]["friendlyName"] == "web-01")
    assert item["properties"]["providerSpecificDetails"]["instanceType"] == "InMageAzureV2"
    assert item["properties"]["protectionState"] == "Protected"
    assert item == call("GET", path).json()


def test_text_with_quotes_backslashes_and_non_ascii_is_escaped_as_json_would(clock: ManualClock) -> None:
    emulator = ArmEmulator(load_scenario("small"), clock, base_url=BASE)
    vault = emulator.simulation
    texts = shapes.ItemDocuments(vault)
    item = next(iter(vault.items.values()))
    for odd in ('say "hi"', "back\\slash", "caf\u00e9 \u2713", "tab\there", "{braces} and %s"):
        item.friendly = odd
        now = clock.now()
        assert texts.text(item, now) == json.dumps(shapes.item(vault, item, now))
        assert json.loads(texts.text(item, now))["properties"]["friendlyName"] == odd


def test_any_change_behind_the_surface_gives_the_item_a_fresh_encoding(clock: ManualClock) -> None:
    """Trainers and faults change items directly (a stall, a freeze, a provider switch): no stale text."""
    emulator = ArmEmulator(load_scenario("small"), clock, base_url=BASE)
    vault = emulator.simulation
    texts = shapes.ItemDocuments(vault)
    items = [i for i in vault.items.values() if i.stage == "ready"]
    item, twin = items[0], items[1]

    def same() -> None:
        now = clock.now()
        for it in (item, twin):
            assert texts.text(it, now) == json.dumps(shapes.item(vault, it, now))

    same()
    item.stalled_at = clock.now()
    clock.advance(60)
    same()
    assert (
        json.loads(texts.text(item, clock.now()))["properties"]["providerSpecificDetails"]["compressedDataRateInMB"]
        == 0.0
    )
    item.frozen_at = clock.now()
    same()
    item.provider = "InMageAzureV2"
    same()
    item.stalled_at = item.frozen_at = None
    item.provider = twin.provider
    same()
