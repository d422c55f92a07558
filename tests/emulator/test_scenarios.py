"""Scenario files: the bundled ones load and cover every stage; broken ones say file, JSON path and what."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from core.clock import ManualClock
from core.emulator import ArmEmulator, ScenarioError, list_scenarios, load_scenario
from core.emulator.scenario import SCENARIO_DIR, STAGES, parse_offset


def _small() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SCENARIO_DIR / "small.json").read_text())
    return data


def _broken(tmp_path: Path, mutate: Any) -> ScenarioError:
    data = _small()
    mutate(data)
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(str(path))
    assert caught.value.file == str(path)
    assert str(path) in str(caught.value)
    return caught.value


def test_bundled_scenarios_are_listed_and_load() -> None:
    infos = {info.name: info for info in list_scenarios()}
    assert {"demo", "small"} <= set(infos)
    assert infos["demo"].title and infos["demo"].brief
    for name in infos:
        assert load_scenario(name).items


def test_demo_covers_what_a_trainer_needs() -> None:
    demo = load_scenario("demo")
    assert len(demo.items) >= 30
    assert {i.stage for i in demo.items} == set(STAGES)
    assert len(demo.plans) >= 2
    assert any(a.kind == "manual" for p in demo.plans for g in p.groups for a in g.start_actions + g.end_actions)
    erp = next(p for p in demo.plans if p.name == "rp-erp")
    members = [m for g in erp.groups for m in g.items]
    groups = {i.group for i in demo.items if i.name in members and i.group}
    assert len(members) == 5 and any(
        sum(1 for i in demo.items if i.group == g and i.name in members) == 3 for g in groups
    )
    health = {s.health for f in demo.fabrics for s in f.process_servers}
    assert "Normal" in health and health & {"Warning", "Critical"}
    assert any(i.not_ready == "no-recovery-point" for i in demo.items)
    critical = [i for i in demo.items if i.replication_health == "Critical"]
    assert critical and critical[0].health_errors[0].possible_causes and critical[0].health_errors[0].recommended_action
    assert any(i.provider == "InMageRcmFailback" for i in demo.items)
    assert any(j.state == "Failed" and j.error_message for j in demo.jobs)
    assert load_scenario("small").settings.page_size == 2


def test_demo_boots_every_stage_in_the_emulator() -> None:
    emulator = ArmEmulator(load_scenario("demo"), ManualClock(), base_url="https://x.test")
    sim = emulator.simulation
    running = {sim.jobs[i.current_job.lower()].operation for i in sim.items.values() if i.current_job}
    assert running == {"failover", "commit", "reprotect", "cancel-failover"}


@pytest.mark.parametrize(
    ("mutate", "json_path", "words"),
    [
        (lambda d: d["items"][1].update(stage="flying"), "$.items[1].stage", "'flying' is not one of"),
        (lambda d: d["items"][0].pop("name"), "$.items[0].name", "missing"),
        (lambda d: d["items"][0].update(rpo="fast"), "$.items[0].rpo", "expected an integer"),
        (lambda d: d["items"][0].update(colour="red"), "$.items[0].colour", "unknown key"),
        (lambda d: d["items"][2].update(since="yesterday"), "$.items[2].since", "not a time offset"),
        (lambda d: d["items"][0].update(stage="not-ready"), "$.items[0].not_ready", "needs a reason"),
        (lambda d: d["items"][0].update(process_server="ps-nowhere"), "$.items[0].process_server", "ps-nowhere"),
        (lambda d: d["items"].append(copy.deepcopy(d["items"][0])), "$.items[5].name", "duplicate"),
        (lambda d: d["plans"][0]["groups"][1]["items"].append("ghost-01"), "$.plans[0].groups[1].items[2]", "ghost-01"),
        (lambda d: d["vault"].pop("subscription"), "$.vault.subscription", "missing"),
        (lambda d: d["settings"].update(page_size=0), "$.settings.page_size", "greater than 0"),
        (lambda d: d["jobs"][3].pop("error_message"), "$.jobs[3].error_message", "Failed job needs"),
        (lambda d: d.update(faults=[{"kind": "gremlins"}]), "$.faults[0]", "unknown fault kind"),
        (lambda d: d.update(faults=[{"kind": "throttle", "colour": 1}]), "$.faults[0]", "unknown key 'colour'"),
        (lambda d: d["fabrics"][0].update(kind="Hyper-V"), "$.fabrics[0].kind", "not one of"),
    ],
)
def test_validation_names_file_path_and_problem(tmp_path: Path, mutate: Any, json_path: str, words: str) -> None:
    error = _broken(tmp_path, mutate)
    assert error.path == json_path
    assert words in error.what


def test_not_json_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"title": "x",\n  "vault": }')
    with pytest.raises(ScenarioError, match="line 2"):
        load_scenario(str(path))
    with pytest.raises(ScenarioError, match="no such scenario"):
        load_scenario("no-such-scenario")


def test_fault_declared_in_a_scenario_file_fires(tmp_path: Path) -> None:
    data = _small()
    data["faults"] = [{"kind": "other-operator", "item": "web-01", "operation": "failover", "after": "2m"}]
    path = tmp_path / "with-fault.json"
    path.write_text(json.dumps(data))
    clock = ManualClock()
    emulator = ArmEmulator(load_scenario(str(path)), clock, base_url="https://x.test")
    clock.advance(150)
    emulator.handle(
        "GET",
        f"https://x.test{emulator.vault.arm_id}/replicationJobs?api-version=1",
        {"Authorization": "Bearer t"},
        None,
    )
    web = emulator.simulation.find_item("web-01")
    assert web is not None and web.current_job


def test_offsets() -> None:
    assert parse_offset("-2h30m") == -9000
    assert parse_offset("3d") == 259200
    assert parse_offset("-45s") == -45
    assert parse_offset("0") == 0
    for bad in ("", "-", "2 hours", "h"):
        with pytest.raises(ValueError):
            parse_offset(bad)


def test_bulk_items_for_big_vaults(tmp_path: Path) -> None:
    data = _small()
    data["bulk"] = [{"prefix": "vm-", "count": 1200, "stage": "ready", "os": "Linux"}]
    data["settings"]["page_size"] = 100
    path = tmp_path / "big.json"
    path.write_text(json.dumps(data))
    scenario = load_scenario(str(path))
    assert len(scenario.items) == 1205 and scenario.items[-1].name == "vm-1200"
    emulator = ArmEmulator(scenario, ManualClock(), base_url="https://x.test")
    target = f"https://x.test{emulator.vault.arm_id}/replicationProtectedItems?api-version=1"
    seen = 0
    while target:
        page = json.loads(emulator.handle("GET", target, {"Authorization": "Bearer t"}, None).body)
        seen += len(page["value"])
        target = page["nextLink"]
    assert seen == 1205 and emulator.stats.total == 13
    data["bulk"][0]["count"] = 0
    path.write_text(json.dumps(data))
    with pytest.raises(ScenarioError, match=r"\$\.bulk\[0\]\.count"):
        load_scenario(str(path))


def test_server_figures_as_a_scenario_gives_them(tmp_path: Path) -> None:
    """Datastore figures go out as ASR's GB text (or a scenario's own odd text, or null); retention bytes as
    integers; a master target's health as a health error, since ASR gives it no health field."""
    from core.azure import mapping

    data = _small()
    target = data["fabrics"][0]["master_targets"][0]
    target["health"] = "Critical"
    target["datastores"] = [
        {"name": "ds-a", "capacity_gb": 2047.75, "free_gb": 158.21},
        {"name": "ds-b", "capacity_gb": "n/a", "free_gb": None},
    ]
    target["retention_volumes"] = [{"name": "R:", "capacity_gb": 10, "free_gb": None}]
    path = tmp_path / "figures.json"
    path.write_text(json.dumps(data))
    emulator = ArmEmulator(load_scenario(str(path)), ManualClock(), base_url="https://emulator.test")
    fabric = data["fabrics"][0]["name"]
    url = f"https://emulator.test{emulator.vault.arm_id}/replicationFabrics/{fabric}?api-version=2025-08-01"
    doc = json.loads(emulator.handle("GET", url, {"Authorization": "Bearer t"}, None).body)
    mt = doc["properties"]["customDetails"]["masterTargetServers"][0]
    assert [(d["capacity"], d["freeSpace"]) for d in mt["dataStores"]] == [("2047.75", "158.21"), ("n/a", None)]
    assert mt["retentionVolumes"][0] == {
        "volumeName": "R:",
        "capacityInBytes": 10 * 2**30,
        "freeSpaceInBytes": None,
        "thresholdPercentage": 80,
    }
    assert [e["errorLevel"] for e in mt["healthErrors"]] == ["Error"]
    read = mapping.fabric(doc).master_targets[0]
    assert read.health == "Critical"
    assert [(d.capacity_gb, d.free_gb) for d in read.datastores] == [(2047.75, 158.21), (None, None)]
    assert read.retention_volumes[0].free_bytes is None


def test_a_datastore_figure_must_be_a_number_text_or_null(tmp_path: Path) -> None:
    def negative(data: dict[str, Any]) -> None:
        data["fabrics"][0]["master_targets"][0]["datastores"][0]["free_gb"] = -5

    def boolean(data: dict[str, Any]) -> None:
        data["fabrics"][0]["master_targets"][0]["datastores"][0]["capacity_gb"] = True

    assert "must not be negative" in str(_broken(tmp_path, negative))
    assert "got a boolean" in str(_broken(tmp_path, boolean))
