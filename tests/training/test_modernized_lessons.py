"""The two modernized lessons played through the real AzureBackend on the in-process emulator: a planned failover
from Azure to the end, and one cancelled and run again."""

from __future__ import annotations

from core.failback import can_cancel, can_reprotect, derive_stage
from core.model import JobState, PointChoice, Stage
from core.training import lesson_steps, render_debrief
from tests.training.conftest import Lesson


def test_modernized_failback_walks_the_planned_failover_to_protected_to_azure() -> None:
    lesson = Lesson("train-modernized-failback")
    walk = lesson.walk
    assert lesson.training.provider == "modernized" and lesson.training.agent_window_minutes == 15
    assert [s.title for s in walk.steps][2:4] == [
        "Choose the type of recovery point",
        "Start the planned failover from Azure",
    ]
    lesson.select("pay-api-01")
    report = lesson.preflight("pay-api-01")
    assert report.ok, [c.title for c in report.failures]
    assert any("appliance" in c.title.lower() for c in report.checks)
    assert "crash-consistent" in walk.hint().lower()

    job = lesson.planned_failover("pay-api-01", PointChoice.LATEST)
    assert job.state is JobState.SUCCEEDED and job.scenario_name == "PlannedFailover"
    praise = next(r for r in lesson.reactions if r.kind == "praise" and "Crash-consistent" in r.title)
    assert "keeps no database" in praise.text
    assert walk.current().key == "verify" and walk.loss_seconds is None
    assert derive_stage(lesson.item("pay-api-01")) is Stage.FAILED_OVER

    lesson.verify()
    assert lesson.commit("pay-api-01").state is JobState.SUCCEEDED
    assert walk.current().key == "reprotect"
    assert "registered again" in walk.hint()
    # ASR offers the reprotect back to Azure only once the agent has registered after the boot in AVS.
    if not can_reprotect(lesson.item("pay-api-01")).allowed:
        lesson.think(16)
    assert can_reprotect(lesson.item("pay-api-01")).allowed
    lesson.see("reprotect-started", since_failover_seconds=60.0)
    handle = lesson.backend.reprotect(lesson.item("pay-api-01"), lesson.appliance_target())
    job = lesson.wait(handle.job_name)
    assert job.state is JobState.SUCCEEDED
    lesson.job_finished(job)
    assert walk.current().key == "report"
    # No agent-window reaction: a modernized reprotect is not sent before the agent has registered.
    assert not any("agent-registration" in r.title for r in lesson.reactions)

    lesson.see("report-exported")
    debrief = walk.debrief()
    assert debrief.completed and debrief.mistakes == () and debrief.steps_done == 9
    assert debrief.point == "Crash-consistent" and debrief.data_loss_seconds is None
    loss = render_debrief(debrief).split("## Data loss accepted")[1].split("##")[0]
    assert "Crash-consistent: the loss was not known beforehand" in loss and "(0 s)" not in loss


def test_app_consistent_for_the_lone_api_server_is_explained_without_a_made_up_loss() -> None:
    lesson = Lesson("train-modernized-failback")
    reaction = lesson.see("point-chosen", choice=PointChoice.LATEST_APP_CONSISTENT, loss_seconds=None)
    assert reaction is not None and reaction.mistake == "older-point-alone"
    assert "app-consistent interval" in reaction.text and "about" not in reaction.text


def test_cancel_lesson_cancels_the_planned_failover_then_fails_back_again_and_commits() -> None:
    lesson = Lesson("train-modernized-cancel")
    walk = lesson.walk
    assert lesson.training.cancel_once and lesson.training.ends_after == "commit"
    assert walk.steps == lesson_steps("modernized", cancel=True)
    assert [s.key for s in walk.steps] == [
        "pick",
        "preflight",
        "point",
        "failover",
        "watch",
        "cancel",
        "verify",
        "commit",
        "reprotect",
        "report",
    ]
    lesson.select("billing-01")
    assert lesson.preflight("billing-01").ok
    assert lesson.planned_failover("billing-01").state is JobState.SUCCEEDED
    assert walk.current().key == "cancel" and "press" not in walk.hint()
    assert can_cancel(lesson.item("billing-01")).allowed

    job = lesson.cancel("billing-01")
    assert job.state is JobState.SUCCEEDED and job.scenario_name == "CancelFailover"
    assert lesson.reactions[-1].kind == "praise" and "Azure VM on again" in lesson.reactions[-1].text
    assert walk.status("cancel") == "done" and walk.cancelled == 1
    # What the cancel undid is to do again: the point is chosen afresh and the failover sent again.
    assert walk.current().key == "point"
    item = lesson.item("billing-01")
    assert derive_stage(item) is Stage.READY, derive_stage(item)

    lesson.think(3)  # the network team confirms the route
    assert lesson.planned_failover("billing-01", PointChoice.LATEST).state is JobState.SUCCEEDED
    assert walk.current().key == "verify" and "again" not in walk.hint()
    lesson.verify()
    assert lesson.commit("billing-01").state is JobState.SUCCEEDED
    assert walk.status("reprotect") == "skipped" and walk.current().key == "report"
    lesson.see("report-exported")
    debrief = walk.debrief()
    assert debrief.completed and debrief.mistakes == ()
    whats = [c.what for c in debrief.choices]
    assert whats.count("Started the failover") == 2 and "Cancelled the planned failover" in whats
    assert "| Cancel, then fail back again |" in render_debrief(debrief)


def test_a_cancel_in_a_lesson_that_does_not_ask_for_one_is_explained_and_the_failback_starts_over() -> None:
    lesson = Lesson("train-modernized-failback")
    lesson.select("pay-api-01")
    lesson.preflight("pay-api-01")
    lesson.planned_failover("pay-api-01")
    lesson.verify()
    assert lesson.walk.verified
    lesson.cancel("pay-api-01")
    reaction = lesson.reactions[-1]
    assert reaction.kind == "explain" and "run the planned failover again" in reaction.text
    assert lesson.walk.current().key == "point" and not lesson.walk.verified
    assert lesson.walk.debrief().mistakes == ()


def test_a_cancelled_job_scenario_is_read_as_a_cancel_not_as_a_failover() -> None:
    lesson = Lesson("train-modernized-cancel")
    reaction = lesson.see("job-finished", state="Succeeded", scenario="CancelFailover", name="j-1")
    assert reaction is not None and reaction.title == "Cancelled in time"
