"""The modernized lessons driven by their keys at 80×24: a planned failover from Azure to protected-to-Azure, and one
cancelled with B and run again, each with the walkthrough following and the debrief at the end."""

from __future__ import annotations

from typing import Any

from core.model import JobState, Stage
from tests.tui.helpers import screen_text, wait_for, wait_screen
from tests.tui.test_training import (
    back_to,
    commit,
    export_and_debrief,
    fail_back_latest,
    job_screen_other_than,
    make_training,
    open_lesson,
    preflight,
    run_job_to_end,
    select,
    step,
    verify_all,
)
from tui.dialogs.appliance_reprotect import ApplianceReprotectDialog
from tui.dialogs.confirm import ConfirmDialog

SIZE = (80, 24)
__all__ = ["make_training"]  # the fixture, imported for pytest


def _no_portal(pilot: Any) -> None:
    assert "portal" not in screen_text(pilot).lower()


async def test_modernized_lesson_fails_back_by_planned_failover_to_protected_to_azure(make_training, clock) -> None:  # type: ignore[no-untyped-def]
    app = make_training("train-modernized-failback")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_lesson(pilot)
        await select(pilot, screen, "pay-api-01")
        await preflight(pilot)
        assert step(app) == "point"
        await fail_back_latest(pilot)  # the type dialog: crash-consistent is chosen first
        assert app.walkthrough.point == "Crash-consistent" and app.walkthrough.loss_seconds is None
        failover = await job_screen_other_than(pilot)
        job = await run_job_to_end(pilot, clock, failover.job_name)
        assert job.state is JobState.SUCCEEDED and job.scenario_name == "PlannedFailover"
        _no_portal(pilot)
        await back_to(pilot, screen, "pay-api-01", Stage.FAILED_OVER)
        assert step(app) == "verify"

        await verify_all(pilot, screen)
        await commit(pilot, "pay-api-01")
        committing = await job_screen_other_than(pilot, failover.job_name)
        assert (await run_job_to_end(pilot, clock, committing.job_name)).state is JobState.SUCCEEDED
        await back_to(pilot, screen, "pay-api-01", Stage.COMMITTED)
        assert step(app) == "reprotect"

        for _ in range(4):  # the trainer skips 20 minutes: the Mobility agent registers meanwhile
            await pilot.press("5")
        await pilot.press("ctrl+r")
        item_id = next(i.id for i in screen.items_table.items.values() if i.friendly_name == "pay-api-01")
        await wait_for(
            pilot,
            lambda: (
                (i := screen.items_table.items.get(item_id)) is not None
                and i.rcm is not None
                and i.rcm.agent_registered_after_failover is True
            ),
            "the agent to register",
        )
        await select(pilot, screen, "pay-api-01")
        await pilot.press("r")
        dialog = await wait_screen(pilot, ApplianceReprotectDialog, "the appliance form")
        assert dialog.appliance is not None and dialog.appliance.name == "rcm-avs-train-01"  # the healthy one first
        await pilot.press("tab", "tab", "enter")  # appliances, Back, Reprotect
        protecting = await job_screen_other_than(pilot, failover.job_name, committing.job_name)
        assert (await run_job_to_end(pilot, clock, protecting.job_name)).state is JobState.SUCCEEDED
        await back_to(pilot, screen, "pay-api-01", Stage.PROTECTED_TO_AZURE)
        assert step(app) == "report"

        debrief = (await export_and_debrief(pilot)).debrief
        assert debrief.completed and debrief.mistakes == () and debrief.steps_done == 9
        assert debrief.point == "Crash-consistent" and debrief.data_loss_seconds is None


async def test_cancel_lesson_cancels_with_b_then_fails_back_again_and_commits(make_training, clock) -> None:  # type: ignore[no-untyped-def]
    app = make_training("train-modernized-cancel")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_lesson(pilot)
        await select(pilot, screen, "billing-01")
        await preflight(pilot)
        await fail_back_latest(pilot)
        first = await job_screen_other_than(pilot)
        assert (await run_job_to_end(pilot, clock, first.job_name)).state is JobState.SUCCEEDED
        await back_to(pilot, screen, "billing-01", Stage.FAILED_OVER)
        assert step(app) == "cancel"
        await verify_all(pilot, screen)  # the trainee checks the VM in AVS first, and finds the route missing
        item_id = screen.items_table.selected.id
        assert len(app.session.ticked[item_id]) == 4

        await pilot.press("B")
        confirm = await wait_screen(pilot, ConfirmDialog, "the cancel confirmation")
        assert "turns the Azure VM on again" in str(confirm.query_one("#confirm-text").render())
        await pilot.press("tab", "enter")
        cancel = await job_screen_other_than(pilot, first.job_name)
        done = await run_job_to_end(pilot, clock, cancel.job_name)
        assert done.state is JobState.SUCCEEDED and done.scenario_name == "CancelFailover"
        await wait_for(pilot, lambda: app.walkthrough.cancelled == 1, "the cancel to reach the walkthrough")
        assert app.walkthrough.status("cancel") == "done" and step(app) == "point"
        assert not app.walkthrough.verified
        await back_to(pilot, screen, "billing-01", Stage.READY)

        await fail_back_latest(pilot)
        second = await job_screen_other_than(pilot, first.job_name, cancel.job_name)
        assert (await run_job_to_end(pilot, clock, second.job_name)).state is JobState.SUCCEEDED
        await back_to(pilot, screen, "billing-01", Stage.FAILED_OVER)
        assert step(app) == "verify"
        # The checks ticked before the cancel were of a VM since shut down: a second failback is verified afresh.
        assert not app.session.ticked.get(item_id)
        await verify_all(pilot, screen)
        await commit(pilot, "billing-01")
        committing = await job_screen_other_than(pilot, first.job_name, cancel.job_name, second.job_name)
        assert (await run_job_to_end(pilot, clock, committing.job_name)).state is JobState.SUCCEEDED
        await back_to(pilot, screen, "billing-01", Stage.COMMITTED)
        assert step(app) == "report"

        debrief = (await export_and_debrief(pilot)).debrief
        assert debrief.completed and debrief.mistakes == ()
        assert [s.status for s in debrief.steps if s.key == "cancel"] == ["done"]
        assert sum(c.what == "Started the failover" for c in debrief.choices) == 2
        _no_portal(pilot)
