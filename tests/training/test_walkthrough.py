"""The walkthrough on its own: step order, hints with the UI's keys, and its reactions to the trainee's mistakes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.clock import AcceleratedClock, ManualClock
from core.model import ErrorDetail, Job, JobState, JobTask, PointChoice
from core.training import (
    SPEEDS,
    STEP_KEYS,
    STEPS,
    TrainingScenario,
    Walkthrough,
    describe_speed,
    load_training,
    next_speed,
)
from tests.training.conftest import RealTime


def lesson(name: str = "train-single-vm") -> tuple[Walkthrough, ManualClock, RealTime]:
    clock, real = ManualClock(), RealTime()
    return Walkthrough(load_training(name), clock, real_time=real), clock, real


def test_steps_follow_the_failback_procedure_in_order() -> None:
    assert STEP_KEYS == ("pick", "preflight", "point", "failover", "watch", "verify", "commit", "reprotect", "report")
    for step in STEPS:
        assert step.title and step.what and step.why and step.check and step.can_go_wrong
    assert "deletes the failed-over Azure VM" in next(s for s in STEPS if s.key == "commit").why
    assert "15 minutes" in next(s for s in STEPS if s.key == "reprotect").can_go_wrong


def test_hint_names_the_next_action_with_the_ui_key() -> None:
    walk, _, _ = lesson()
    assert "web-shop-01" in walk.hint() and "'select the item'" in walk.hint()
    walk.observe("item-selected", item="web-shop-01")
    assert "press F5" in walk.hint({"preflight": "F5"})
    walk.observe("preflight-run", ok=True)
    walk.observe("point-chosen", choice="latest", loss_seconds=40, acknowledged=False)
    assert walk.hint({"failover": "f"}).startswith("Start the failover (press f)")
    walk.observe("failover-started")
    assert "Watch the job" in walk.hint()


def test_commit_before_verify_is_explained_not_just_refused() -> None:
    walk, _, _ = lesson()
    for event, data in (("item-selected", {"item": "web-shop-01"}), ("preflight-run", {"ok": True})):
        walk.observe(event, **data)
    walk.observe("point-chosen", choice=PointChoice.LATEST, loss_seconds=30)
    walk.observe("failover-started")
    walk.observe("job-finished", state="Succeeded", scenario="UnplannedFailover")
    assert walk.current().key == "verify"
    reaction = walk.observe("commit-attempted", verified=False)
    assert reaction is not None and reaction.kind == "explain" and reaction.mistake == "commit-before-verify"
    assert "deletes the failed-over Azure VM" in reaction.text and "no way back" in reaction.text
    # Starting the commit anyway is the same mistake: recorded once, and verify is marked not done.
    walk.observe("commit-started")
    assert [m.key for m in walk.mistakes] == ["commit-before-verify"]
    assert walk.status("verify") == "not done"
    assert walk.observe("commit-attempted", verified=True) is None


def test_latest_where_the_group_needed_app_consistent_explains_the_tradeoff() -> None:
    walk, _, _ = lesson("train-consistency-group")
    walk.observe("item-selected", item="rp-orders")
    walk.observe("preflight-run", ok=True)
    reaction = walk.observe("point-chosen", choice=PointChoice.LATEST, loss_seconds=35)
    assert reaction is not None and reaction.mistake == "latest-for-group" and reaction.kind == "explain"
    assert "own newest point" in reaction.text and "same instant" in reaction.text
    assert walk.debrief().point == "Latest"


def test_an_older_point_for_a_lone_vm_is_explained() -> None:
    walk, _, _ = lesson()
    reaction = walk.observe("point-chosen", choice="app-consistent", loss_seconds=2400, acknowledged=True)
    assert reaction is not None and reaction.mistake == "older-point-alone"
    assert "40 minutes" in reaction.text


def test_an_unacknowledged_loss_is_a_warning() -> None:
    walk, _, _ = lesson("train-consistency-group")
    reaction = walk.observe("point-chosen", choice="app-consistent", loss_seconds=1800, acknowledged=False)
    assert reaction is not None and reaction.kind == "warn" and reaction.mistake == "unacknowledged-loss"


def test_reprotect_inside_the_window_explains_the_agent_and_the_hint_says_wait() -> None:
    walk, _, _ = lesson("train-agent-window")
    walk.observe("item-selected", item="crm-app-01")
    walk.observe("verify-ticked", check="Azure VM is off", all_done=True)
    walk.observe("commit-started")
    walk.observe("job-finished", state=JobState.SUCCEEDED, scenario="CommitFailover")
    assert walk.current().key == "reprotect"
    reaction = walk.observe("reprotect-started", since_failover_seconds=300)
    # Explained, and not a mistake: reprotecting after the commit is the procedure, the window is ASR's.
    assert reaction is not None and reaction.kind == "explain" and reaction.mistake == ""
    assert "5 minutes ago" in reaction.text and "15 minutes" in reaction.text
    walk.observe("reprotect-failed-agent")
    assert "wait for the countdown" in walk.hint()
    assert walk.mistakes == []
    # After the window a reprotect is no mistake at all.
    walk2, _, _ = lesson("train-agent-window")
    assert walk2.observe("reprotect-started", since_failover_seconds=20 * 60) is None


def test_a_failed_reprotect_job_with_the_agent_error_is_the_agent_window() -> None:
    walk, _, _ = lesson("train-agent-window")
    agent = ErrorDetail(code="95467", message="The Mobility service agent isn't installed or hasn't registered yet.")
    task = JobTask("t1", "Prereq", "Prerequisite check", JobState.FAILED, "Failed", errors=(agent,))
    job = Job("", "job-9", "SwitchReplicationGroupProtection", "Reprotect", JobState.FAILED, "Failed", tasks=(task,))
    reaction = walk.observe("job-finished", job=job)
    assert reaction is not None and reaction.title == "The agent-registration window" and walk.waiting_for_agent
    assert reaction.mistake == "" and walk.mistakes == []


def test_ignoring_a_preflight_fail_explains_what_would_break() -> None:
    walk, _, _ = lesson("train-preflight")
    walk.observe("item-selected", item="fin-app-01")
    stop = walk.observe("preflight-run", ok=False, failures=["Process server in Azure"])
    assert stop is not None and "ends here" in stop.text
    assert walk.current().key == "report"
    warned = walk.observe("failover-started")
    assert warned is not None and warned.kind == "warn" and warned.mistake == "ignored-preflight-fail"
    assert "reprotect afterwards has nothing to send data through" in warned.text
    assert walk.observe("report-exported") is None  # no "stopped in time" praise after the mistake
    assert [m.key for m in walk.debrief().mistakes] == ["ignored-preflight-fail"]


def test_failing_over_without_preflight_is_caught() -> None:
    walk, _, _ = lesson()
    walk.observe("item-selected", item="web-shop-01")
    reaction = walk.observe("failover-started")
    assert reaction is not None and reaction.mistake == "skipped-preflight"
    assert walk.status("preflight") == "not done" and walk.current().key == "watch"


def test_selecting_another_vm_is_explained_and_does_not_advance() -> None:
    walk, _, _ = lesson()
    reaction = walk.observe("item-selected", item="build-01")
    assert reaction is not None and reaction.kind == "explain" and "web-shop-01" in reaction.text
    assert walk.current().key == "pick" and walk.mistakes == []


def test_a_failed_job_from_plain_fields_and_its_restart() -> None:
    walk, _, _ = lesson("train-failed-task")
    walk.observe("item-selected", item="erp-app-03")
    walk.observe("preflight-run", ok=True)
    walk.observe("failover-started")
    reaction = walk.observe(
        "job-finished", state="Failed", scenario="UnplannedFailover", name="job-1", task="Start failover", error="Boom"
    )
    assert reaction is not None and reaction.title == "The failover failed at 'Start failover'"
    assert "ASR says: Boom" in reaction.text and walk.failed_job == "job-1"
    restarted = walk.observe("job-restarted", job="job-1")
    assert restarted is not None and restarted.kind == "praise" and walk.failed_job == ""
    assert walk.observe("job-restarted", job="job-1") is None  # nothing failed any more


def test_unknown_events_are_ignored() -> None:
    walk, _, _ = lesson()
    assert walk.observe("window-resized", width=80) is None
    assert walk.current().key == "pick"


def test_time_in_the_debrief_is_simulated_and_real() -> None:
    walk, clock, real = lesson()
    clock.advance(3600)
    real.now += 120
    debrief = walk.debrief()
    assert debrief.simulated_seconds == 3600 and debrief.real_seconds == 120


def test_speeds_and_their_words() -> None:
    assert SPEEDS == (0, 1, 10, 60)
    assert [describe_speed(s) for s in SPEEDS] == ["paused", "1×", "10×", "60×"]
    assert [next_speed(s) for s in SPEEDS] == [1, 10, 60, 0]
    clock = AcceleratedClock(speed=60, start=datetime(2026, 11, 25, 14, tzinfo=UTC))
    clock.set_speed(0)
    frozen = clock.now()
    assert clock.now() == frozen  # paused: simulated time stands still
    assert describe_speed(clock.speed) == "paused"


@pytest.mark.parametrize("stage,first", [("ready", "pick"), ("committed", "pick")])
def test_steps_done_before_the_lesson_are_skipped(stage: str, first: str) -> None:
    base = load_training("train-single-vm")
    scenario = TrainingScenario(**{**base.__dict__, "start_stage": stage})
    walk = Walkthrough(scenario, ManualClock())
    assert walk.current().key == first
    walk.observe("item-selected", item="web-shop-01")
    assert walk.current().key == ("preflight" if stage == "ready" else "reprotect")


def test_a_new_failover_after_a_failed_one_is_explained_not_counted() -> None:
    walk, _, _ = lesson("train-failed-task")
    walk.observe("item-selected", item="erp-app-03")
    walk.observe("preflight-run", ok=True)
    walk.observe("failover-started")
    walk.observe("job-finished", state="Cancelled", scenario="UnplannedFailover", name="job-2")
    assert walk.reactions[-1].title == "The failover was cancelled"
    reaction = walk.observe("failover-started")
    assert reaction is not None and reaction.kind == "explain" and "Restarting job-2" in reaction.text
    assert walk.failed_job == "" and walk.mistakes == []
    assert walk.choices[-1].what == "Started a new failover"


def test_verification_counts_ticks_and_a_child_job_does_not_finish_the_reprotect() -> None:
    walk, _, _ = lesson("train-agent-window")
    walk.observe("item-selected", item="crm-app-01")
    assert walk.observe("verify-ticked", check="VM runs in AVS", done=1, total=2) is None
    assert walk.current().key == "verify"
    assert walk.observe("verify-ticked", check="Azure VM is off", done=2, total=2) is not None
    assert walk.current().key == "commit" and walk.debrief().choices[-1].detail == "Azure VM is off, VM runs in AVS"
    walk.observe("commit-started")
    walk.observe("job-finished", state="Succeeded", scenario="CommitFailover")
    walk.observe("reprotect-started", since_failover_seconds=30 * 60)
    walk.observe("job-finished", state="Succeeded", scenario="EnableDr")  # the reprotect's child job
    assert walk.current().key == "reprotect"
    walk.observe("job-finished", state="Succeeded", scenario="SwitchReplicationGroupProtection")
    assert walk.current().key == "report"


def test_the_preflight_nudge_comes_when_the_failover_is_asked_for_before_anything_is_sent() -> None:
    walk, _, _ = lesson("train-single-vm")
    walk.observe("item-selected", item="web-shop-01")
    nudge = walk.observe("failover-requested")
    assert nudge is not None and nudge.kind == "warn" and nudge.title == "Preflight first?"
    assert "use 'preflight'" in nudge.text and walk.mistakes == []
    walk.observe("preflight-run", ok=True)
    assert walk.observe("failover-requested") is None
