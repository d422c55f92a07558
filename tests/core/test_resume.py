"""Resume: every in-flight operation is re-attached, found running, or abandoned — and nothing is ever sent."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.bootstrap import EMULATOR_BASE_URL, build_backend
from core.clock import ManualClock
from core.config import Settings
from core.emulator import ArmEmulator, Fault, load_scenario
from core.journal import Journal
from core.model import PointChoice, VaultRef
from core.operations import Operations
from core.resume import ABANDONED, ATTACHED_TO_RUNNING, NEVER_REACHED, RE_ATTACHED, resume
from core.tracker import JobTracker


class Rig:
    def __init__(self, tmp_path: Path) -> None:
        self.clock = ManualClock()
        self.emulator = ArmEmulator(load_scenario("demo"), self.clock, base_url=EMULATOR_BASE_URL)
        self.backend = build_backend(Settings(demo=True), emulator=self.emulator)
        self.path = tmp_path / "journal.jsonl"
        self.journal = self.session("alice")
        self.ops = Operations(self.backend, self.journal)

    def session(self, who: str) -> Journal:
        return Journal(self.path, clock=self.clock, who=who, host="jump", terminal="")

    def item(self, name: str):  # type: ignore[no-untyped-def]
        return self.backend.get_item(self.emulator.item_id(name))

    def intent(self, operation: str, target_id: str, target_name: str, **fields: object) -> str:
        return self.journal.intent(
            operation, vault=self.backend.vault, target_id=target_id, target_name=target_name, **fields
        )  # type: ignore[arg-type]

    def posts(self) -> int:
        return sum(n for kind, n in self.emulator.stats.by_kind.items() if kind.startswith("POST"))

    def resume(self) -> tuple[list, JobTracker]:  # type: ignore[type-arg]
        fresh = self.session("alice")  # a new process after the drop: a new session
        tracker = JobTracker(self.backend, self.clock)
        return resume(self.backend, fresh, tracker), tracker


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    return Rig(tmp_path)


def test_sent_operation_is_re_attached(rig: Rig) -> None:
    started = rig.ops.failover(rig.item("erp-web-01"), PointChoice.LATEST)
    posts = rig.posts()
    [resumed], tracker = rig.resume()
    assert resumed.how == RE_ATTACHED and resumed.job_name == started.handle.job_name
    assert resumed.target_name == "erp-web-01" and started.handle.job_name in resumed.text
    assert tracker.tracked == [started.handle.job_name]
    last = rig.journal.entries()[-1]
    assert last["kind"] == "attached" and last["reason"] == "resumed"
    assert rig.posts() == posts


def test_intent_whose_request_got_through_attaches_to_the_running_job(rig: Rig) -> None:
    item = rig.item("hr-app-01")
    intent = rig.intent("commit", item.id, item.friendly_name)
    handle = rig.backend.commit(item)  # the process died before writing `sent`
    [resumed], tracker = rig.resume()
    assert resumed.how == ATTACHED_TO_RUNNING and resumed.job_name == handle.job_name
    assert resumed.intent_id == intent and "did reach Azure" in resumed.text
    assert tracker.tracked == [handle.job_name]
    [flying] = rig.journal.in_flight()
    assert flying.intent_id == intent and flying.job_name == handle.job_name
    assert rig.posts() == 1


def test_intent_that_never_left_is_abandoned(rig: Rig) -> None:
    item = rig.item("hr-app-01")
    rig.intent("commit", item.id, item.friendly_name)
    [resumed], tracker = rig.resume()
    assert resumed.how == ABANDONED and resumed.job_name is None
    assert "send it again" in resumed.text and tracker.tracked == []
    abandoned = rig.journal.entries()[-1]
    assert abandoned["kind"] == "abandoned" and abandoned["reason"] == NEVER_REACHED
    assert rig.journal.in_flight() == []
    assert rig.posts() == 0


def test_request_that_got_through_and_already_finished_is_found(rig: Rig) -> None:
    item = rig.item("hr-app-01")
    rig.intent("commit", item.id, item.friendly_name)
    handle = rig.backend.commit(item)
    for _ in range(120):  # the session stays away until the commit is over
        rig.clock.advance(60)
        if not rig.backend.get_job(handle.job_name).is_running:
            break
    assert rig.item("hr-app-01").current_scenario is None
    [resumed], tracker = rig.resume()
    assert resumed.how == ATTACHED_TO_RUNNING and resumed.job_name == handle.job_name
    assert "succeeded" in resumed.text
    tracker.poll()
    assert tracker.jobs[handle.job_name].state.value == "Succeeded"


def test_plan_intent_attaches_to_the_plan_job(rig: Rig) -> None:
    plan = rig.backend.get_plan("rp-intranet")
    rig.intent("plan-failover", plan.id, plan.friendly_name)
    handle = rig.backend.plan_unplanned_failover(plan, PointChoice.LATEST)
    [resumed], _ = rig.resume()
    assert resumed.how == ATTACHED_TO_RUNNING and resumed.job_name == handle.job_name


def test_job_cancel_intent_resolved_from_the_job(rig: Rig) -> None:
    job = rig.item("crm-web-01").running_job_name
    other = rig.item("crm-app-01").running_job_name
    vault_job = f"{rig.backend.vault.arm_id}/replicationJobs"
    rig.intent("job-cancel", f"{vault_job}/{job}", job, details={"job_name": job})
    rig.backend.cancel_job(job)  # went through
    rig.intent("job-cancel", f"{vault_job}/{other}", other, details={"job_name": other})  # never left
    results, tracker = rig.resume()
    by_job = {r.target_name: r for r in results}
    assert by_job[job].how == ATTACHED_TO_RUNNING and by_job[job].job_name == job
    assert by_job[other].how == ABANDONED and "in progress" in by_job[other].text
    assert tracker.tracked == [job]


def test_deleted_item_abandons_with_the_reason(rig: Rig) -> None:
    item = rig.item("hr-app-01")
    rig.intent("commit", item.id, item.friendly_name)
    rig.emulator.faults.add(Fault("item-deleted", item="hr-app-01", after=0))
    [resumed], _ = rig.resume()
    assert resumed.how == ABANDONED and "no longer exists" in resumed.text


def test_other_vaults_are_left_alone(rig: Rig) -> None:
    other = VaultRef("sub-2", "rg-other", "vault-other")
    rig.journal.intent("commit", vault=other, target_id=f"{other.arm_id}/replicationFabrics/f/x", target_name="x")
    results, _ = rig.resume()
    assert results == [] and rig.emulator.stats.total == 0
    assert len(rig.journal.in_flight()) == 1


def test_resume_twice_changes_nothing_more(rig: Rig) -> None:
    started = rig.ops.failover(rig.item("erp-web-01"), PointChoice.LATEST)
    item = rig.item("hr-app-01")
    rig.intent("commit", item.id, item.friendly_name)
    first, _ = rig.resume()
    assert sorted(r.how for r in first) == [ABANDONED, RE_ATTACHED]
    second, tracker = rig.resume()
    assert [(r.how, r.job_name) for r in second] == [(RE_ATTACHED, started.handle.job_name)]
    assert tracker.tracked == [started.handle.job_name]
    assert rig.posts() == 1
