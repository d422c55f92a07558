"""A modernized VM failed back by the screens alone at 80×24: the planned failover with its point type, the cancel
back to the Azure VM, the planned failover again, commit, and the reprotect to Azure once the agent has registered."""

from __future__ import annotations

from typing import Any

from core.failback import derive_stage
from core.model import JobState, PointChoice, Stage
from tests.tui.helpers import screen_text, wait_for, wait_screen
from tests.tui.test_flow import open_dashboard, run_job_to_end, select
from tui.dialogs.commit import CommitDialog
from tui.dialogs.confirm import ConfirmDialog
from tui.dialogs.confirm_failover import ConfirmFailoverDialog
from tui.dialogs.point import PointDialog
from tui.dialogs.reprotect import ReprotectDialog
from tui.screens.job import JobScreen

NAME = "crm-web-01"


def _no_portal(pilot: Any) -> None:
    assert "portal" not in screen_text(pilot).lower()


async def _planned_failover(pilot: Any, clock: Any, dashboard: Any, item_id: str, choice: PointChoice) -> Any:
    await select(pilot, dashboard, NAME)
    await pilot.press("f")
    dialog = await wait_screen(pilot, PointDialog, "point dialog")
    # a type of point, no list: the modernized failback has no chosen point (MODERNIZED.md §4)
    assert [o.choice for o in dialog.options] == [PointChoice.LATEST, PointChoice.LATEST_APP_CONSISTENT]
    assert not dialog.query("#choice-custom")
    _no_portal(pilot)
    if choice is PointChoice.LATEST_APP_CONSISTENT:
        await pilot.click("#choice-app-consistent")
        await pilot.click("#ack")
    await pilot.pause()
    assert dialog.chosen is not None and dialog.chosen.choice is choice
    await pilot.click("#continue")
    confirm = await wait_screen(pilot, ConfirmFailoverDialog, "failover confirmation")
    summary = str(confirm.query_one("#summary").render())
    assert "planned failover from Azure" in summary and "cancel (B)" in summary
    await pilot.press("tab", "enter")  # Start failover (focus starts on Back)
    progress = await wait_screen(pilot, JobScreen, "planned failover job")
    job = await run_job_to_end(pilot, clock, progress.job_name)
    assert job.state is JobState.SUCCEEDED and job.scenario_name == "PlannedFailover"
    assert "Shut down the Azure virtual machine" in [t.friendly_name for t in job.tasks]
    _no_portal(pilot)
    await pilot.press("escape")
    table = dashboard.items_table
    await wait_for(pilot, lambda: derive_stage(table.items[item_id]) is Stage.FAILED_OVER, "failed over")
    return job


async def test_modernized_failback_cancel_and_again_to_protected_at_80x24(make_app, clock) -> None:  # type: ignore[no-untyped-def]
    app = make_app("modernized")
    async with app.run_test(size=(80, 24)) as pilot:
        dashboard = await open_dashboard(pilot)
        table = dashboard.items_table
        item = next(i for i in table.items.values() if i.friendly_name == NAME)
        assert derive_stage(item) is Stage.READY
        first = await _planned_failover(pilot, clock, dashboard, item.id, PointChoice.LATEST)

        # B: back to the Azure VM
        await select(pilot, dashboard, NAME)
        await pilot.press("B")
        confirm = await wait_screen(pilot, ConfirmDialog, "cancel confirmation")
        assert "turns the Azure VM on again" in str(confirm.query_one("#confirm-text").render())
        await pilot.press("tab", "enter")
        cancel = await wait_for(
            pilot,
            lambda: isinstance(app.screen, JobScreen) and app.screen.job_name != first.name and app.screen,
            "cancel job screen",
        )
        done = await run_job_to_end(pilot, clock, cancel.job_name)
        assert done.state is JobState.SUCCEEDED and done.scenario_name == "CancelFailover"
        await pilot.press("escape")
        await wait_for(pilot, lambda: derive_stage(table.items[item.id]) is Stage.READY, "ready again")

        # the planned failover again, app-consistent this time, then commit
        second = await _planned_failover(pilot, clock, dashboard, item.id, PointChoice.LATEST_APP_CONSISTENT)
        await select(pilot, dashboard, NAME)
        await pilot.press("c")
        await wait_screen(pilot, CommitDialog, "commit dialog")
        await pilot.press(*NAME, "enter", "enter")
        commit = await wait_for(
            pilot,
            lambda: isinstance(app.screen, JobScreen) and app.screen.job_name != second.name and app.screen,
            "commit job screen",
        )
        assert (await run_job_to_end(pilot, clock, commit.job_name)).state is JobState.SUCCEEDED
        await pilot.press("escape")
        await wait_for(pilot, lambda: derive_stage(table.items[item.id]) is Stage.COMMITTED, "committed")

        # the reprotect waits for the Mobility agent: refused with the reason, then offered once it registered
        await select(pilot, dashboard, NAME)
        await pilot.press("r")
        await pilot.pause()
        assert not isinstance(app.screen, ReprotectDialog)
        clock.advance(16 * 60)
        await pilot.press("ctrl+r")
        await wait_for(
            pilot,
            lambda: (
                (i := table.items.get(item.id)) is not None
                and i.rcm is not None
                and i.rcm.agent_registered_after_failover is True
            ),
            "the agent to register",
        )
        await select(pilot, dashboard, NAME)
        await pilot.press("r")
        await wait_screen(pilot, ReprotectDialog, "reprotect dialog")
        await pilot.press("tab", "tab", "tab", "enter")  # servers, master targets, Back, Reprotect
        reprotect = await wait_for(
            pilot,
            lambda: isinstance(app.screen, JobScreen) and app.screen.job_name != commit.job_name and app.screen,
            "reprotect job screen",
        )
        assert (await run_job_to_end(pilot, clock, reprotect.job_name)).state is JobState.SUCCEEDED
        await pilot.press("escape")
        await wait_for(
            pilot, lambda: derive_stage(table.items[item.id]) is Stage.PROTECTED_TO_AZURE, "protected to Azure"
        )
        _no_portal(pilot)
