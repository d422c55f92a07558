"""The replication appliances of a modernized vault (InMageRcmFabricSpecificDetails), read through the product's
own backend: each appliance named once in every component list, the situations that stop a step (U11, U12), and
the initial replication after each reprotect (U5, U6)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from core.bootstrap import build_backend
from core.clock import ManualClock
from core.config import Settings
from core.emulator import emulate, load_scenario
from core.emulator.scenario import SCENARIO_DIR
from core.errors import JobFailed, ServiceError
from core.failback import derive_stage
from core.model import JobState, PointChoice, RcmReprotectToAvs, Stage
from core.preflight import Level
from core.providers import MODERNIZED
from core.providers.modernized_preflight import check_appliance, check_target_datastore
from core.tracker import JobTracker


def _backend(clock: ManualClock, tmp_path: Path, **appliance: Any) -> Any:
    """The modernized scenario, its first appliance changed by `appliance` (health, components, heartbeat_age)."""
    doc = json.loads((SCENARIO_DIR / "modernized.json").read_text(encoding="utf-8"))
    doc["fabrics"][0]["process_servers"][0].update(appliance)
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    emulator = emulate(load_scenario(str(path)), clock)
    return build_backend(Settings(demo=True), clock=clock, emulator=emulator)


def _item(backend: Any, name: str) -> Any:
    return next(i for page in backend.iter_item_pages() for i in page if i.friendly_name == name)


def _wait(backend: Any, clock: ManualClock, job: str) -> Any:
    try:
        JobTracker(backend, clock, interval=30).wait(job, timeout=6 * 3600)
    except JobFailed:
        pass
    return backend.get_job(job)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def test_each_appliance_is_read_once_with_all_its_components(clock: ManualClock, tmp_path: Path) -> None:
    backend = _backend(clock, tmp_path, components={"reprotectAgents": "Warning"})
    fabric = next(f for f in backend.list_fabrics() if f.instance_type == "InMageRcm")
    names = [a.name for a in fabric.appliances]
    assert names == ["rcm-avs-weu-01", "rcm-avs-weu-02"]
    first = fabric.appliances[0]
    roles = [c.role for c in first.components]
    assert len(roles) == 7 and {"process server", "reprotect agent", "DRA"} <= set(roles)
    assert first.accessible_datastores == ("vsanDatastore", "avs-weu-nfs-01")
    # the worst component decides, and the appliance is offered as the process server of a reprotect to Azure
    assert first.health == "Warning" and [c.role for c in first.unwell] == ["reprotect agent"]
    assert [p.friendly_name for p in fabric.process_servers] == names
    assert fabric.process_servers[0].id == first.id and fabric.process_servers[0].ip_address == "10.20.5.30"


def test_the_preflight_judges_the_appliance_and_never_makes_up_a_datastore_size(
    clock: ManualClock, tmp_path: Path
) -> None:
    backend = _backend(clock, tmp_path, components={"reprotectAgents": "Critical"})
    item, fabrics, now = _item(backend, "crm-web-01"), backend.list_fabrics(), backend.now()
    check = check_appliance(item, fabrics, now)
    assert check.level is Level.FAIL and "reprotect agent Critical" in check.detail
    store = check_target_datastore(item, fabrics)
    assert store.level is Level.WARN and "not reported" in store.detail and "vCenter" in store.remedy
    # an appliance no fabric lists fails; no appliance list at all is a hand check, not a failure
    lost = replace(item, process_server_id="0000")
    assert check_appliance(lost, fabrics, now).level is Level.FAIL
    assert check_appliance(lost, [replace(f, appliances=()) for f in fabrics], now).level is Level.WARN
    healthy = _backend(ManualClock(), tmp_path)
    assert check_appliance(_item(healthy, "crm-web-01"), healthy.list_fabrics(), healthy.now()).level is Level.PASS


def test_a_critical_appliance_fails_the_planned_failover_at_its_prerequisite_check(
    clock: ManualClock, tmp_path: Path
) -> None:
    backend = _backend(clock, tmp_path, components={"reprotectAgents": "Critical"})
    item = _item(backend, "crm-web-01")
    handle = backend.start_item_action(item, MODERNIZED.failover_request(item, PointChoice.LATEST))
    job = _wait(backend, clock, handle.job_name)
    assert job.state is JobState.FAILED
    failed = next(t for t in job.tasks if t.state is JobState.FAILED)
    assert failed.friendly_name == "Prerequisites check for planned failover"
    assert any(e.code == "28063" or e.provider_error_code == "28063" for e in (*failed.errors, *job.errors))
    assert derive_stage(backend.get_item(item.id)) is Stage.READY  # the Azure VM keeps running


def test_a_stale_appliance_is_refused_for_the_reprotect_and_a_datastore_out_of_reach_too(
    clock: ManualClock, tmp_path: Path
) -> None:
    backend = _backend(clock, tmp_path, heartbeat_age="45m")
    item = backend.get_item(_item(backend, "crm-queue-01").id)
    fabric = next(f for f in backend.list_fabrics() if f.appliances)
    stale, other = fabric.appliances
    account = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/logs"
    with pytest.raises(ServiceError, match="no heartbeat for 45 minutes"):
        backend.start_item_action(
            item, MODERNIZED.reprotect_request(item, RcmReprotectToAvs(stale.id, "vsanDatastore", account))
        )
    with pytest.raises(ServiceError, match="cannot reach the datastore 'avs-weu-nfs-01'"):
        backend.start_item_action(
            item, MODERNIZED.reprotect_request(item, RcmReprotectToAvs(other.id, "avs-weu-nfs-01", account))
        )


def test_each_reprotect_runs_its_initial_replication_before_the_next_step(clock: ManualClock, tmp_path: Path) -> None:
    backend = _backend(clock, tmp_path)
    item = backend.get_item(_item(backend, "crm-queue-01").id)
    appliance = next(a for f in backend.list_fabrics() for a in f.appliances)
    account = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/logs"
    target = RcmReprotectToAvs(appliance.id, "avs-weu-nfs-01", account)
    handle = backend.start_item_action(item, MODERNIZED.reprotect_request(item, target))
    assert _wait(backend, clock, handle.job_name).state is JobState.SUCCEEDED
    seen = []
    for _ in range(4):
        now = backend.get_item(item.id)
        assert now.rcm is not None
        seen.append((derive_stage(now), now.rcm.ir_percent, now.rcm.target_datastore))
        clock.advance(7 * 60)
    stages = [s for s, _p, _d in seen]
    percents = [p for _s, p, _d in seen]
    assert stages[:3] == [Stage.NOT_READY] * 3 and stages[3] is Stage.READY
    assert percents[0] is not None and percents == sorted(percents) and percents[-1] == 100
    assert {d for _s, _p, d in seen} == {"avs-weu-nfs-01"}
    assert not backend.get_item(item.id).allows("SwitchProtection")
