"""Operations: read-only first, one submission per target, attach instead of resending, journal around every send."""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from core.bootstrap import EMULATOR_BASE_URL, build_backend
from core.clock import ManualClock
from core.config import Settings
from core.emulator import ArmEmulator, Fault, load_scenario
from core.errors import ConnectionLost, NotAllowedNow, OperationInProgress, ReadOnlyError, ServiceError
from core.journal import Journal
from core.model import OperationHandle, PointChoice, ProtectedItem
from core.operations import CRASH_ENV, RESTART_HINT, Operations, Started, crash_point, scenario_operation


@dataclasses.dataclass
class Rig:
    emulator: ArmEmulator
    backend: Any
    journal: Journal
    ops: Operations
    clock: ManualClock

    def item(self, name: str) -> ProtectedItem:
        return self.backend.get_item(self.emulator.item_id(name))

    def posts(self) -> int:
        return sum(n for kind, n in self.emulator.stats.by_kind.items() if kind.startswith("POST"))

    def kinds(self) -> list[str]:
        return [str(r["kind"]) for r in self.journal.entries()]


def make_rig(tmp_path: Path, *, read_only: bool = False) -> Rig:
    clock = ManualClock()
    emulator = ArmEmulator(load_scenario("demo"), clock, base_url=EMULATOR_BASE_URL)
    backend = build_backend(Settings(demo=True, read_only=read_only), emulator=emulator)
    journal = Journal(tmp_path / "journal.jsonl", clock=clock, who="alice", host="jump", terminal="")
    return Rig(emulator, backend, journal, Operations(backend, journal), clock)


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    return make_rig(tmp_path)


def test_failover_journals_intent_then_sent(rig: Rig) -> None:
    item = rig.item("erp-web-01")
    started = rig.ops.failover(item, PointChoice.LATEST, data_loss_seconds=35.0)
    assert isinstance(started, Started) and not started.attached
    assert started.handle.job_name and started.handle.job_name in started.note
    assert rig.kinds() == ["intent", "sent"]
    intent, sent = rig.journal.entries()
    assert intent["operation"] == "failover" and intent["data_loss_seconds"] == 35.0
    assert intent["details"] == {"choice": "latest", "kind": "unplannedFailover"}
    assert sent["intent"] == intent["intent"] and sent["job_name"] == started.handle.job_name
    assert rig.posts() == 1
    assert rig.item("erp-web-01").running_job_name == started.handle.job_name
    [flying] = rig.journal.in_flight()
    assert flying.job_name == started.handle.job_name


def test_read_only_refuses_before_any_request(tmp_path: Path) -> None:
    rig = make_rig(tmp_path, read_only=True)
    stale = ProtectedItem(
        id=rig.emulator.item_id("erp-web-01"), name="x", friendly_name="erp-web-01", fabric_name="f",
        container_name="c", protection_state="Protected", protection_state_description="", active_location="",
        replication_health="", failover_health="", allowed_operations=(), instance_type="InMage",
    )  # fmt: skip
    calls: list[Callable[[], Started]] = [
        lambda: rig.ops.failover(stale, PointChoice.LATEST),
        lambda: rig.ops.commit(stale),
        lambda: rig.ops.cancel_job("any"),
    ]
    for call in calls:
        with pytest.raises(ReadOnlyError) as caught:
            call()
        assert "--read-only" in caught.value.hint
    assert rig.emulator.stats.total == 0
    assert not (tmp_path / "journal.jsonl").exists()


def test_second_call_while_submitting_is_refused_without_sending(rig: Rig) -> None:
    item = rig.item("erp-web-01")
    entered, release = threading.Event(), threading.Event()
    real_get_item = rig.backend.get_item

    def slow_get_item(item_id: str) -> ProtectedItem:
        if threading.current_thread().name == "first":
            entered.set()
            assert release.wait(5)
        return real_get_item(item_id)

    rig.backend.get_item = slow_get_item
    results: list[Started] = []
    first = threading.Thread(target=lambda: results.append(rig.ops.failover(item, PointChoice.LATEST)), name="first")
    first.start()
    assert entered.wait(5)
    try:
        with pytest.raises(NotAllowedNow, match="already being submitted"):
            rig.ops.failover(item, PointChoice.LATEST)
        with pytest.raises(NotAllowedNow, match="already being submitted"):
            rig.ops.commit(item)  # the lock is per target, whatever the operation
        other = rig.ops.failover(rig.item("erp-web-02"), PointChoice.LATEST)  # other targets are not held up
        assert not other.attached
    finally:
        release.set()
        first.join(5)
    assert len(results) == 1 and not results[0].attached
    assert rig.emulator.stats.by_kind["POST unplannedFailover"] == 2
    # Once the first call is over, the target is free again: the next call finds the job and attaches.
    assert rig.ops.failover(item, PointChoice.LATEST).attached


def test_running_job_on_the_item_is_attached_not_resent(rig: Rig) -> None:
    item = rig.item("crm-app-01")  # a failover started elsewhere is running on it
    job = item.running_job_name
    started = rig.ops.commit(item)
    assert started.attached and started.handle.job_name == job
    assert started.handle.operation == "failover"
    assert "not started from this journal" in started.note and job in started.note
    assert rig.posts() == 0
    [attached] = rig.journal.entries()
    assert attached["kind"] == "attached" and attached["job_name"] == job
    assert "outside this journal" in attached["reason"]


def test_attach_names_who_started_the_job_when_the_journal_knows(rig: Rig, tmp_path: Path) -> None:
    item = rig.item("erp-web-01")
    first = rig.ops.failover(item, PointChoice.LATEST)
    # A second operator, with their own app instance, sharing the journal file.
    bob_journal = Journal(tmp_path / "journal.jsonl", clock=rig.clock, who="bob", host="laptop", terminal="")
    bob = Operations(rig.backend, bob_journal)
    again = bob.failover(item, PointChoice.LATEST)
    assert again.attached and again.handle.job_name == first.handle.job_name
    assert "started by alice@jump" in again.note
    assert rig.emulator.stats.by_kind["POST unplannedFailover"] == 1


def test_verdict_is_taken_on_the_fresh_item(rig: Rig) -> None:
    fresh = rig.item("hr-app-01")  # failed over: commit pending
    stale = dataclasses.replace(
        fresh, protection_state="Protected", allowed_operations=("UnplannedFailover",), active_location="Primary"
    )
    with pytest.raises(NotAllowedNow) as caught:
        rig.ops.failover(stale, PointChoice.LATEST)
    assert "Nothing was sent" in caught.value.hint
    assert rig.posts() == 0 and rig.kinds() == []


def test_refusal_by_azure_is_journaled(rig: Rig) -> None:
    rig.emulator.faults.add(Fault("busy", method="POST", path="*/failovercommit"))
    with pytest.raises(OperationInProgress):
        rig.ops.commit(rig.item("hr-app-01"))
    assert rig.kinds() == ["intent", "refused"]
    refused = rig.journal.entries()[1]
    assert refused["error"]["type"] == "OperationInProgress" and refused["error"]["status"] == 409
    assert rig.journal.in_flight() == []


class _LosesAnswers:
    """Sends through the real backend, then loses the answer (the request did reach the emulator)."""

    def __init__(self, backend: Any, *, reach: bool) -> None:
        self._backend = backend
        self._reach = reach

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)

    def commit(self, item: ProtectedItem) -> OperationHandle:
        if self._reach:
            self._backend.commit(item)
        raise ConnectionLost("The request to Azure Resource Manager did not complete: read timed out")


def test_lost_answer_with_the_job_running_attaches(rig: Rig) -> None:
    ops = Operations(_LosesAnswers(rig.backend, reach=True), rig.journal)  # type: ignore[arg-type]
    started = ops.commit(rig.item("hr-app-01"))
    assert started.attached and "got through" in started.note
    job = rig.item("hr-app-01").running_job_name
    assert started.handle.job_name == job and started.handle.operation == "commit"
    assert rig.kinds() == ["intent", "attached"]
    [flying] = rig.journal.in_flight()
    assert flying.job_name == job and flying.operation == "commit"
    assert rig.emulator.stats.by_kind["POST failoverCommit"] == 1


def test_lost_request_leaves_the_intent_in_flight(rig: Rig) -> None:
    ops = Operations(_LosesAnswers(rig.backend, reach=False), rig.journal)  # type: ignore[arg-type]
    with pytest.raises(ConnectionLost) as caught:
        ops.commit(rig.item("hr-app-01"))
    assert caught.value.hint == RESTART_HINT and "may or may not" in caught.value.message
    assert rig.kinds() == ["intent"]
    [flying] = rig.journal.in_flight()
    assert flying.job_name is None and flying.operation == "commit"
    assert rig.posts() == 0


def test_plan_failover_then_attach_on_the_plan(rig: Rig) -> None:
    plan = rig.backend.get_plan("rp-intranet")
    started = rig.ops.plan_failover(plan, PointChoice.LATEST)
    assert not started.attached and started.handle.operation == "plan-failover"
    again = rig.ops.plan_failover(plan, PointChoice.LATEST)
    assert again.attached and again.handle.job_name == started.handle.job_name
    assert rig.emulator.stats.by_kind["POST recoveryPlan unplannedFailover"] == 1
    assert rig.kinds() == ["intent", "sent", "attached"]
    with pytest.raises(NotAllowedNow):
        rig.ops.plan_failover(plan, PointChoice.CUSTOM)


def test_plan_commit_refused_until_every_vm_failed_over(rig: Rig) -> None:
    with pytest.raises(NotAllowedNow, match="Commit follows"):
        rig.ops.plan_commit(rig.backend.get_plan("rp-billing"))
    assert rig.posts() == 0 and rig.kinds() == []


def test_job_actions_follow_allowed_actions(rig: Rig) -> None:
    job = rig.item("crm-web-01").running_job_name
    with pytest.raises(NotAllowedNow, match="does not allow restart"):
        rig.ops.restart_job(job)
    cancelled = rig.ops.cancel_job(job)
    assert cancelled.handle.job_name == job and not cancelled.attached
    intent = rig.journal.entries()[0]
    assert intent["operation"] == "job-cancel" and intent["details"] == {"job_name": job}
    assert rig.backend.get_job(job).state.value == "Cancelled"
    restarted = rig.ops.restart_job(job)
    assert restarted.handle.job_name == job
    assert rig.kinds() == ["intent", "sent", "intent", "sent"]


def test_without_a_journal_operations_still_guard(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    ops = Operations(rig.backend, None)
    item = rig.item("erp-web-01")
    assert not ops.failover(item, PointChoice.LATEST).attached
    assert ops.failover(item, PointChoice.LATEST).attached
    assert rig.posts() == 1


def test_custom_point_needs_an_id(rig: Rig) -> None:
    item = rig.item("erp-web-01")
    before = rig.emulator.stats.total
    with pytest.raises(NotAllowedNow, match="custom recovery point"):
        rig.ops.failover(item, PointChoice.CUSTOM)
    assert rig.emulator.stats.total == before


def test_crash_point_does_nothing_unless_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CRASH_ENV, raising=False)
    crash_point("after-intent")
    monkeypatch.setenv(CRASH_ENV, "after-send")
    crash_point("after-intent")  # another point: this process must survive
    assert os.getpid() > 0


def test_scenario_names_map_to_operations() -> None:
    assert scenario_operation("UnplannedFailover") == "failover"
    assert scenario_operation("FailoverCommit") == "commit"
    assert scenario_operation("SwitchProtection") == "reprotect"
    assert scenario_operation("TestFailover", "commit") == "commit"


class _ServerErrorAfterActing(_LosesAnswers):
    def commit(self, item: ProtectedItem) -> OperationHandle:
        if self._reach:
            self._backend.commit(item)
        raise ServiceError("Azure answered 500 InternalServerError: boom", code="InternalServerError", status=500)


def test_server_error_after_asr_acted_attaches_to_the_job(rig: Rig) -> None:
    ops = Operations(_ServerErrorAfterActing(rig.backend, reach=True), rig.journal)  # type: ignore[arg-type]
    started = ops.commit(rig.item("hr-app-01"))
    assert started.attached and started.handle.job_name == rig.item("hr-app-01").running_job_name
    assert rig.kinds() == ["intent", "attached"]


def test_lost_answer_and_a_failing_reread_leave_the_intent_in_flight(rig: Rig) -> None:
    item = rig.item("hr-app-01")
    backend = _LosesAnswers(rig.backend, reach=True)
    ops = Operations(backend, rig.journal)  # type: ignore[arg-type]
    reads = {"n": 0}

    def get_item(item_id: str) -> ProtectedItem:
        reads["n"] += 1
        if reads["n"] > 1:  # the network is still down when the item is read again
            raise ConnectionLost("The request to Azure Resource Manager did not complete: reset")
        return rig.backend.get_item(item_id)

    backend.get_item = get_item  # type: ignore[attr-defined]
    with pytest.raises(ConnectionLost) as caught:
        ops.commit(item)
    assert caught.value.hint == RESTART_HINT
    [flying] = rig.journal.in_flight()
    assert flying.job_name is None  # resume decides later, from the item
