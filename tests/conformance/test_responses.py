"""Everything the emulator answers, over every shipped scenario and each step of a whole failback, read as the
installed SDK's models define it: no key they lack (but the sourced allow-list), no wrong JSON type, no unknown
instanceType."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bench import scenarios as bench_scenarios
from bench.run import Plan
from core.emulator import list_scenarios, load_scenario
from core.emulator.scenario import Scenario
from tests.conformance import tour
from tests.conformance.walker import Finding, Walker
from tests.conformance.witness import RECORDED_EXTRAS, Exchange, check_response, response_model

SHIPPED = [info.name for info in list_scenarios()]


def _findings(exchanges: list[Exchange], walker: Walker) -> list[Finding]:
    return [f for exchange in exchanges for f in check_response(exchange, walker)]


def _report(found: list[Finding]) -> str:
    """The differences, each kind once with how often it came (a page repeats the same mistake fifty times)."""
    counted = Counter(str(f).split(": ", 1)[0].split("[", 1)[0] + ": " + f.problem.rsplit(": ", 1)[-1] for f in found)
    return "\n".join(f"{n:5} × {what}" for what, n in counted.most_common(40))


def _tour(scenario: Scenario, **reading: Any) -> tour.Rig:
    r = tour.rig(scenario)
    tour.read_everything(r, **reading)
    tour.whole_failback(r)
    tour.plan_failback(r)
    tour.modernized_failback(r)
    return r


@pytest.mark.parametrize("name", SHIPPED)
def test_every_answer_of_a_whole_failback_follows_the_sdk_models(name: str) -> None:
    r = _tour(load_scenario(name))
    walker = Walker(RECORDED_EXTRAS)
    exchanges = r.witness.take()
    found = _findings(exchanges, walker)
    assert not found, f"{len(found)} differences from the SDK's models in {name}:\n{_report(found)}"
    # The tour went somewhere: at least one operation was sent and followed in every scenario.
    assert any(e.method == "POST" and e.status == 202 for e in exchanges), r.stages


def test_the_demo_tour_meets_every_kind_of_answer() -> None:
    """What the walk above covers on the demo vault: every resource kind, a step of each operation, ASR errors."""
    r = _tour(load_scenario("demo"))
    assert r.stages == [
        "failover sent",
        "refused commit while busy",
        "failed over",
        "refused failover",
        "committed",
        "reprotect failed in the agent window",
        "reprotected",
        "failover cancelled",
        "plan failover sent",
        "plan waiting for its manual action",
        "plan failed over",
        "plan committed",
        *MODERNIZED_STAGES,
    ]
    exchanges = r.witness.take()
    models = {(kind, model.__name__) for e in exchanges if (found := response_model(e)) for kind, model in [found]}
    assert models >= {
        ("page", "ReplicationProtectedItem"),
        ("one", "ReplicationProtectedItem"),
        ("page", "Fabric"),
        ("one", "Fabric"),
        ("page", "ProtectionContainer"),
        ("one", "ProtectionContainer"),
        ("page", "RecoveryPoint"),
        ("one", "RecoveryPoint"),
        ("page", "RecoveryPlan"),
        ("one", "RecoveryPlan"),
        ("page", "Policy"),
        ("one", "Policy"),
        ("page", "Job"),
        ("one", "Job"),
    }
    statuses = {e.status for e in exchanges}
    assert {200, 202, 400, 404, 409} <= statuses
    assert any(e.segments[0].lower() == "replicationoperationstatus" for e in exchanges if e.segments)
    jobs = [e.response for e in exchanges if e.status == 200 and e.segments[:1] == ("replicationJobs",) and e.response]
    single = [j for j in jobs if "properties" in j]
    assert any(j["properties"]["errors"] for j in single), "a failed job with its errors"
    tasks = [t for j in single for t in j["properties"]["tasks"]]
    assert any(t["groupTaskCustomDetails"] for t in tasks), "a group task with its child job"
    assert any((t["customDetails"] or {}).get("instanceType") == "ManualActionTaskDetails" for t in tasks)
    # Every allow-list entry was needed by some answer: none is left over from a shape the emulator dropped.
    walker = Walker(RECORDED_EXTRAS)
    assert not _findings(exchanges, walker)
    assert walker.used == {(a.model, a.key) for a in RECORDED_EXTRAS}


def _bench_scenarios(directory: Path) -> list[Path]:
    biggest = max(Plan().vault_sizes)
    return [
        bench_scenarios.big_vault(directory, biggest),
        bench_scenarios.running_jobs(directory, 8),
        bench_scenarios.ready_items(directory, 20),
        bench_scenarios.idle_vault(directory),
    ]


def test_the_benchmark_vaults_follow_the_sdk_models(tmp_path: Path) -> None:
    """The big vault's listing is walked whole (items of one shape are encoded once and spliced: the splice is
    walked too); recovery points are read for one item of each state and provider."""
    shown: set[tuple[str, str]] = set()

    def one_per_shape(doc: dict[str, Any]) -> bool:
        props = doc.get("properties") or {}
        key = (str(props.get("protectionState")), str((props.get("providerSpecificDetails") or {}).get("instanceType")))
        if key in shown:
            return False
        shown.add(key)
        return True

    for path in _bench_scenarios(tmp_path):
        shown.clear()
        scenario = load_scenario(str(path))
        r = tour.rig(scenario)
        tour.read_everything(r, points_for=one_per_shape)
        tour.whole_failback(r, everything=_focus_only)
        walker = Walker(RECORDED_EXTRAS)
        exchanges = r.witness.take()
        found = _findings(exchanges, walker)
        assert not found, f"{len(found)} differences in {path.name}:\n{_report(found)}"
        pages = [e.response for e in exchanges if e.segments == ("replicationProtectedItems",) and e.status == 200]
        listed = sum(len(page["value"]) for page in pages)
        assert listed >= len(scenario.items)


def _focus_only(r: tour.Rig) -> None:
    """After each step of a tour on a big vault: the items worked on and the jobs, not ten thousand items again."""
    for name in r.focus:
        item = r.emulator.item_id(name)
        path = item.split("/vaults/", 1)[1].split("/", 1)[1]
        r.get(path)
        r.get(f"{path}/recoveryPoints")
    for job in list(r.pages("replicationJobs")):
        r.get(f"replicationJobs/{job['name']}")
    r.get("replicationFabrics")


def test_the_modernized_tour_walks_a_whole_modernized_failback() -> None:
    """Planned failover, its cancel, a second one, commit, a reprotect refused before the agent registered and the
    one after: every answer on the way follows the SDK's models (no allow-list entry of its own)."""
    r = _tour(load_scenario("modernized"))
    assert r.stages[-11:] == MODERNIZED_STAGES
    found = _findings(r.witness.take(), Walker(RECORDED_EXTRAS))
    assert not found, _report(found)


MODERNIZED_STAGES = [
    "initial replication to AVS",
    "reprotected to AVS",
    "planned failover sent",
    "planned failover finished",
    "cancelled",
    "planned failover sent",
    "planned failover finished",
    "committed",
    "reprotect failed before the agent registered",
    "reprotect Succeeded",
    "protected to Azure",
]
