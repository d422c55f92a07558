"""Every training scenario played to its end through the real AzureBackend on the in-process emulator."""

from __future__ import annotations

import pytest

from core.errors import OperationInProgress
from core.failback import can_failover, derive_stage
from core.model import JobState, PointChoice, ReprotectTarget, Stage
from core.plans import MemberProgress, MemberState, PlanReprotect, plan_point_summary, plan_view, resolve_plan
from core.preflight import check_plan
from core.training import render_debrief
from tests.training.conftest import Lesson


def test_single_vm_happy_path_ends_with_no_mistakes() -> None:
    lesson = Lesson("train-single-vm")
    walk = lesson.walk
    assert walk.current().key == "pick"
    assert lesson.select("web-shop-01") is None
    assert walk.current().key == "preflight"
    report = lesson.preflight("web-shop-01")
    assert report.ok
    # The network path cannot be probed from here: always a WARN, which the walkthrough asks the trainee to weigh.
    assert lesson.reactions[-1].kind == "explain" and "Network path" in lesson.reactions[-1].text
    praise = lesson.choose("web-shop-01", PointChoice.LATEST)
    assert praise is not None and praise.kind == "praise" and "stands alone" in praise.text
    assert walk.current().key == "failover"

    job = lesson.fail_over("web-shop-01")
    assert job.state is JobState.SUCCEEDED
    assert walk.current().key == "verify"
    assert derive_stage(lesson.item("web-shop-01")) is Stage.FAILED_OVER

    lesson.verify()
    lesson.think(16)  # verification takes its time: the agent registers meanwhile
    assert walk.current().key == "commit"
    assert lesson.commit("web-shop-01").state is JobState.SUCCEEDED
    assert walk.current().key == "reprotect"
    jobs = lesson.reprotect("web-shop-01")
    assert [j.state for j in jobs] == [JobState.SUCCEEDED]
    assert derive_stage(lesson.item("web-shop-01")) is Stage.PROTECTED_TO_AZURE
    assert walk.current().key == "report"

    lesson.see("report-exported")
    assert walk.finished
    debrief = walk.debrief()
    assert debrief.completed and debrief.mistakes == ()
    assert debrief.steps_done == 9 == debrief.steps_expected
    assert debrief.point == "Latest"
    assert debrief.data_loss_seconds is not None and 0 < debrief.data_loss_seconds < 300
    assert debrief.simulated_seconds > 16 * 60


def test_consistency_group_plan_app_consistent_through_commit_and_reprotect() -> None:
    lesson = Lesson("train-consistency-group")
    backend, walk = lesson.backend, lesson.walk
    assert lesson.training.plan == "rp-orders" and lesson.training.expected_point == "app-consistent"
    plan = resolve_plan(backend.list_plans(), "rp-orders")
    assert lesson.see("plan-selected", item="rp-orders") is None
    view = plan_view(plan, backend.list_items())
    points = {m.item.name: backend.list_recovery_points(m.item) for m in view.members}
    report = check_plan(backend, plan, backend.list_items(), points_by_item=points)
    lesson.see("preflight-run", ok=report.ok, failures=[c.title for c in report.failures])
    assert report.ok

    group = next(g for g in plan_point_summary(view, points, backend.now()) if g.group == "orders")
    assert group.common_time is not None
    loss = max(m.common_loss_seconds or 0.0 for m in group.members)
    right = lesson.see("point-chosen", choice=PointChoice.LATEST_APP_CONSISTENT, loss_seconds=loss, acknowledged=True)
    assert right is not None and right.kind == "praise" and "same instant" in right.text

    handle = backend.plan_unplanned_failover(plan, PointChoice.LATEST_APP_CONSISTENT)
    lesson.see("failover-started")
    job = lesson.wait(handle.job_name)
    assert job.state is JobState.SUCCEEDED
    lesson.job_finished(job)
    assert walk.current().key == "verify"
    lesson.verify()

    lesson.see("commit-attempted", verified=True)
    commit = lesson.wait(backend.plan_commit(plan).job_name)
    lesson.see("commit-started")
    lesson.job_finished(commit)
    assert walk.current().key == "reprotect"

    view = plan_view(backend.get_plan("rp-orders"), backend.list_items())
    assert view.stage is Stage.COMMITTED
    target = lesson.target()
    lesson.see("reprotect-started", since_failover_seconds=(backend.now() - job.end_time).total_seconds())
    reprotect = PlanReprotect(backend, view, target, retry_delay=60.0)

    def on_update(progress: list[MemberProgress]) -> None:
        if any(p.state is MemberState.WAITING_FOR_AGENT for p in progress):
            lesson.see("reprotect-failed-agent")

    reprotect.run(on_update=on_update, timeout=3 * 3600)
    assert reprotect.all_protected
    lesson.see("reprotect-succeeded")
    lesson.see("report-exported")

    debrief = walk.debrief()
    assert walk.finished
    # Reprotecting straight after the commit ran into the agent window: explained, and no mistake of the trainee's.
    assert debrief.mistakes == ()
    assert any(r.title == "The agent-registration window" for r in lesson.reactions)
    assert debrief.point == "Latest app-consistent" and debrief.data_loss_seconds == loss


def test_agent_window_reprotect_fails_with_the_agent_error_then_succeeds() -> None:
    lesson = Lesson("train-agent-window")
    walk = lesson.walk
    assert lesson.training.start_stage == "failed-over"
    lesson.select("crm-app-01")
    assert walk.current().key == "verify"  # the failover happened before the lesson
    assert [walk.status(k) for k in ("preflight", "point", "failover", "watch")] == ["skipped"] * 4
    lesson.verify()
    assert lesson.commit("crm-app-01").state is JobState.SUCCEEDED

    jobs = lesson.reprotect("crm-app-01", retry_every=120)
    assert jobs[0].state is JobState.FAILED and jobs[-1].state is JobState.SUCCEEDED
    assert len(jobs) > 1
    window = next(r for r in lesson.reactions if r.title == "The agent-registration window")
    assert "15 minutes" in window.text and "Mobility agent" in window.text
    assert walk.current().key == "report"
    lesson.see("report-exported")
    assert walk.finished and walk.debrief().mistakes == ()


def test_failed_task_is_explained_and_the_restarted_job_succeeds() -> None:
    lesson = Lesson("train-failed-task")
    walk = lesson.walk
    lesson.select("erp-app-03")
    lesson.preflight("erp-app-03")
    lesson.choose("erp-app-03", PointChoice.LATEST)
    job = lesson.fail_over("erp-app-03")
    assert job.state is JobState.FAILED
    explained = lesson.reactions[-1]
    assert explained.kind == "explain"
    assert "Start the replica virtual machine" in explained.title
    assert "not enough free memory" in explained.text and "Free memory in the AVS cluster" in explained.text
    assert walk.current().key == "watch"
    assert "restart" in walk.hint({"restart": "R"}) and "press R" in walk.hint()

    lesson.backend.restart_job(job.name)
    assert lesson.see("job-restarted", job=job.name) is not None
    again = lesson.wait(job.name)
    assert again.state is JobState.SUCCEEDED
    lesson.job_finished(again)
    assert walk.current().key == "verify"
    lesson.verify()
    lesson.think(16)
    lesson.commit("erp-app-03")
    lesson.reprotect("erp-app-03")
    lesson.see("report-exported")
    debrief = walk.debrief()
    assert debrief.completed and debrief.mistakes == ()
    assert any(c.what == "Restarted the failed job" for c in debrief.choices)


def test_preflight_fail_stops_the_lesson_at_the_report() -> None:
    lesson = Lesson("train-preflight")
    walk = lesson.walk
    lesson.select("fin-app-01")
    report = lesson.preflight("fin-app-01")
    assert not report.ok
    assert "process-server" in [c.key for c in report.failures]
    stop = lesson.reactions[-1]
    assert stop.kind == "explain" and "ends here" in stop.text and "Process server" in stop.text
    assert walk.current().key == "report"
    assert "do not fail over" in walk.hint()
    done = lesson.see("report-exported")
    assert done is not None and done.title == "Stopped in time"
    debrief = walk.debrief()
    assert walk.finished and debrief.completed and debrief.mistakes == ()
    assert debrief.steps_expected == 3  # pick, preflight, report


def test_ignoring_the_preflight_fail_is_caught_and_the_job_fails_as_explained() -> None:
    lesson = Lesson("train-preflight")
    lesson.select("fin-db-01")
    db = lesson.item("fin-db-01")
    report = lesson.preflight("fin-db-01")
    assert "recovery-points" in [c.key for c in report.failures]
    assert not can_failover(db)  # the product refuses; the trainee forces it here to see what would break
    handle = lesson.backend.unplanned_failover(db, PointChoice.LATEST)
    warned = lesson.see("failover-started")
    assert warned is not None and warned.kind == "warn" and warned.mistake == "ignored-preflight-fail"
    assert "prerequisite check" in warned.text
    job = lesson.wait(handle.job_name)
    assert job.state is JobState.FAILED
    failed = lesson.job_finished(job)
    assert failed is not None and "No recovery point" in failed.text
    assert [m.key for m in lesson.walk.debrief().mistakes] == ["ignored-preflight-fail"]


def test_other_operator_job_is_followed_not_duplicated() -> None:
    lesson = Lesson("train-other-operator")
    lesson.select("pay-app-01")
    lesson.preflight("pay-app-01")
    lesson.choose("pay-app-01", PointChoice.LATEST)
    lesson.think(5)  # meanwhile a colleague starts a failover on the same VM

    item = lesson.item("pay-app-01")
    assert item.current_scenario is not None
    assert not can_failover(item)
    with pytest.raises(OperationInProgress):
        lesson.backend.unplanned_failover(item, PointChoice.LATEST)
    attached = lesson.see("attached-to-other-job", operation=item.current_scenario.name, job=item.running_job_name)
    assert attached is not None and "another operator" in attached.text and item.running_job_name in attached.text
    assert lesson.walk.current().key == "watch"
    job = lesson.wait(item.running_job_name)
    assert job.state is JobState.SUCCEEDED
    lesson.job_finished(job)
    lesson.verify()
    lesson.think(16)
    lesson.commit("pay-app-01")
    lesson.reprotect("pay-app-01")
    lesson.see("report-exported")
    debrief = lesson.walk.debrief()
    assert debrief.completed and debrief.mistakes == ()
    assert "Followed another operator's failover job" in render_debrief(debrief)


def test_reprotect_target_uses_the_scenario_process_server() -> None:
    lesson = Lesson("train-single-vm")
    target: ReprotectTarget = lesson.target()
    assert target.process_server_id and target.policy_id.endswith("avs-to-azure")
