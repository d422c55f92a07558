"""The whole failback of one VM, keys only: point (app-consistent, acknowledged), failover, verify, commit, reprotect
through the mobility agent's registration window and its automatic retry."""

from __future__ import annotations

from typing import Any

from core.failback import can_failover, derive_stage
from core.model import JobState, PointChoice, Stage
from tests.tui.helpers import screen_text, wait_for, wait_screen
from tui.dialogs.commit import CommitDialog
from tui.dialogs.confirm_failover import ConfirmFailoverDialog
from tui.dialogs.point import PointDialog
from tui.dialogs.reprotect import ReprotectDialog
from tui.screens.dashboard import DashboardScreen
from tui.screens.job import JobScreen
from tui.screens.verify import VerifyScreen


async def open_dashboard(pilot: Any) -> DashboardScreen:
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, DashboardScreen), "the dashboard")
    screen = pilot.app.screen
    await wait_for(pilot, lambda: screen.loaded_at is not None and not screen.items_loading, "items loaded")
    return screen  # type: ignore[no-any-return]


async def select(pilot: Any, screen: DashboardScreen, name: str) -> None:
    table = screen.items_table
    item = next(i for i in table.items.values() if i.friendly_name == name)
    table.move_cursor(row=table.get_row_index(item.id))
    await pilot.pause()
    assert table.selected is not None and table.selected.friendly_name == name


async def run_job_to_end(pilot: Any, clock: Any, job_name: str, *, step: float = 120.0, limit: int = 40) -> Any:
    """Advance the simulated clock step by step, polling after each step, until the tracked job ends."""
    app = pilot.app
    for _ in range(limit):
        job = app.session.jobs.get(job_name)
        if job is not None and job.state.is_terminal:
            return job
        clock.advance(step)
        now = clock.now()
        app.schedule_poll(0.0)
        await wait_for(
            pilot,
            lambda now=now: app.tracker.stats.last_poll == now and not app._polling,
            "a poll after the clock moved",
        )
        await pilot.pause()
    raise AssertionError(f"job {job_name} did not end")


async def test_fail_back_verify_commit_reprotect(make_app, clock) -> None:  # type: ignore[no-untyped-def]
    app = make_app("train-single-vm")
    async with app.run_test(size=(120, 36)) as pilot:
        dashboard = await open_dashboard(pilot)
        table = dashboard.items_table
        ready = next(i for i in table.items.values() if can_failover(i).allowed)
        name = ready.friendly_name
        await select(pilot, dashboard, name)

        # 1. Recovery point: latest app-consistent, which needs the loss acknowledged.
        await pilot.press("f")
        dialog = await wait_screen(pilot, PointDialog, "point dialog")
        await pilot.press("down", "enter")  # the second radio button: latest app-consistent
        await pilot.pause()
        assert dialog.chosen is not None and dialog.chosen.choice is PointChoice.LATEST_APP_CONSISTENT
        assert dialog.chosen.needs_acknowledgement
        assert dialog.query_one("#continue").disabled, "Continue must wait for the acknowledgement"
        await pilot.press("tab", "space")  # tick "I accept losing…"
        await pilot.pause()
        assert not dialog.query_one("#continue").disabled
        await pilot.press("tab", "tab", "enter")  # Back, Continue

        # 2. Confirmation names the direction and the private cloud; focus starts on Back.
        confirm = await wait_screen(pilot, ConfirmFailoverDialog, "failover confirmation")
        summary = str(confirm.query_one("#summary").render())
        assert f"Fail {name} back from Azure to the AVS private cloud" in summary
        assert "shuts the Azure VM down" in summary
        await pilot.press("tab", "enter")  # Start failover

        # 3. Live progress of the failover job.
        progress = await wait_screen(pilot, JobScreen, "job screen")
        job = await run_job_to_end(pilot, clock, progress.job_name)
        assert job.state is JobState.SUCCEEDED
        assert any("shut" in t.friendly_name.lower() for t in job.tasks)
        await pilot.pause()
        assert "Succeeded" in screen_text(pilot)
        await pilot.press("escape")
        await wait_for(
            pilot, lambda: derive_stage(table.items[ready.id]) is Stage.FAILED_OVER, "the item to show failed over"
        )
        await select(pilot, dashboard, name)

        # 4. Verify: the Azure VM is off (read from ASR), the app checks ticked by hand.
        await pilot.press("v")
        verify = await wait_screen(pilot, VerifyScreen, "verify screen")
        await wait_for(pilot, lambda: "Azure VM is off" in str(verify.query_one("#azure-off").render()), "shutdown")
        await pilot.press("space", "tab", "space", "tab", "space", "tab", "space")
        await pilot.pause()
        assert app.session.ticked[ready.id] == {"boots", "apps", "tools", "data"}

        # 5. Commit needs the item's name typed.
        await pilot.press("c")
        commit = await wait_screen(pilot, CommitDialog, "commit dialog")
        assert "deletes the failed-over Azure VM" in str(commit.query_one("#commit-text").render())
        await pilot.press(*name[:-1])
        await pilot.pause()
        assert commit.query_one("#commit").disabled
        await pilot.press(name[-1], "enter", "enter")
        progress = await wait_for(
            pilot,
            lambda: isinstance(app.screen, JobScreen) and app.screen.job_name != job.name and app.screen,
            "commit job screen",
        )
        commit_job = await run_job_to_end(pilot, clock, progress.job_name)
        assert commit_job.state is JobState.SUCCEEDED
        await pilot.press("escape")
        await wait_for(pilot, lambda: derive_stage(table.items[ready.id]) is Stage.COMMITTED, "committed")
        await select(pilot, dashboard, name)

        # 6. Reprotect right away: the agent has not registered yet; the tool says so and retries on a countdown.
        await pilot.press("r")
        await wait_screen(pilot, ReprotectDialog, "reprotect dialog")
        await pilot.press("tab", "tab", "tab", "enter")  # servers, master targets, Back, Reprotect
        first = await wait_for(
            pilot,
            lambda: isinstance(app.screen, JobScreen) and app.screen.job_name != progress.job_name and app.screen,
            "reprotect job screen",
        )
        failed = await run_job_to_end(pilot, clock, first.job_name, step=20.0)
        assert failed.state is JobState.FAILED
        retry = await wait_for(pilot, lambda: app.session.retries.get(ready.id), "a retry to be planned")
        assert retry.attempt == 2
        await pilot.pause()
        assert "has not registered yet" in " ".join(screen_text(pilot).split())

        # Past the registration window, the retry goes through on its own.
        clock.advance(16 * 60)
        await wait_for(pilot, lambda: ready.id not in app.session.retries, "the retry to be sent")
        second = next(
            s.handle.job_name for s in app.session.started.values() if s.kind == "reprotect" and s.attempt == 2
        )
        done = await run_job_to_end(pilot, clock, second)
        assert done.state is JobState.SUCCEEDED
        await pilot.press("escape")
        await wait_for(
            pilot, lambda: derive_stage(table.items[ready.id]) is Stage.PROTECTED_TO_AZURE, "protected to Azure"
        )


async def test_the_reprotect_retry_countdown_can_be_stopped(make_app, clock) -> None:  # type: ignore[no-untyped-def]
    app = make_app("train-agent-window")
    async with app.run_test(size=(100, 30)) as pilot:
        dashboard = await open_dashboard(pilot)
        await select(pilot, dashboard, "crm-app-01")
        item = dashboard.items_table.selected
        assert derive_stage(item) is Stage.FAILED_OVER
        assert app.start_commit(item)
        screen = await wait_screen(pilot, JobScreen, "commit job")
        await run_job_to_end(pilot, clock, screen.job_name)
        await pilot.press("escape")
        await wait_for(pilot, lambda: derive_stage(dashboard.items_table.items[item.id]) is Stage.COMMITTED, "commit")

        await pilot.press("r")
        await wait_screen(pilot, ReprotectDialog, "reprotect dialog")
        await pilot.press("tab", "tab", "tab", "enter")
        screen = await wait_for(
            pilot,
            lambda: isinstance(app.screen, JobScreen) and app.screen.job_name != screen.job_name and app.screen,
            "reprotect job",
        )
        await run_job_to_end(pilot, clock, screen.job_name, step=20.0)
        first = await wait_for(pilot, lambda: app.session.retries.get(item.id), "a planned retry")
        deadline = first.deadline

        # Still inside the window: the second attempt fails the same way and a third is planned, same deadline.
        clock.advance(60)
        await wait_for(pilot, lambda: any(s.attempt == 2 for s in app.session.started.values()), "attempt 2")
        second = next(s.handle.job_name for s in app.session.started.values() if s.attempt == 2)
        await run_job_to_end(pilot, clock, second, step=20.0)
        third = await wait_for(
            pilot, lambda: (r := app.session.retries.get(item.id)) is not None and r.attempt == 3 and r, "attempt 3"
        )
        assert third.deadline == deadline
        assert screen.check_action("stop_retry", ()) is True
        await pilot.pause()
        text = " ".join(screen_text(pilot).split())  # the countdown line may wrap
        assert "has not registered yet" in text and "Press x to stop" in text

        await pilot.press("x")
        await pilot.pause()
        assert item.id not in app.session.retries
        clock.advance(120)
        await pilot.pause(0.3)
        reprotects = [s for s in app.session.started.values() if s.kind == "reprotect"]
        assert len(reprotects) == 2, "nothing was sent after the countdown was stopped"
