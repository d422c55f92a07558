"""Screens and guards around the flow: read-only, errors, job history and detail, help, palette, commands."""

from __future__ import annotations

from typing import Any

from core.bootstrap import EMULATOR_BASE_URL, build_backend
from core.config import Settings
from core.emulator import ArmEmulator, load_scenario
from core.emulator.faults import Fault
from core.failback import can_failover
from core.model import JobState, PointChoice
from core.recovery import point_options
from tests.tui.helpers import screen_text, wait_for, wait_screen
from tests.tui.test_flow import open_dashboard, run_job_to_end, select
from tui.app import FailbackApp
from tui.dialogs.error import ErrorDialog
from tui.screens.commands import CommandsScreen
from tui.screens.help import HelpScreen
from tui.screens.job import JobScreen
from tui.screens.jobs import JobsScreen


def first_ready(screen: Any) -> Any:
    return next(i for i in screen.items_table.items.values() if can_failover(i).allowed)


async def start_failover_directly(pilot: Any, app: FailbackApp, item: Any) -> None:
    points = app.backend.list_recovery_points(item)
    option = point_options(points, app.backend.now())[0]
    assert option.choice is PointChoice.LATEST
    assert app.start_failover(item, option)


async def test_read_only_hides_mutating_actions_and_says_so(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(read_only=True)
    async with app.run_test(size=(120, 36)) as pilot:
        dashboard = await open_dashboard(pilot)
        await select(pilot, dashboard, first_ready(dashboard).friendly_name)
        for action in ("fail_back", "commit", "reprotect"):
            assert dashboard.check_action(action, ()) is False
        assert dashboard.check_action("filter", ()) is True
        await pilot.pause()
        text = screen_text(pilot)
        assert "READ-ONLY" in text and "SIMULATION" in text
        assert "Fail back…" not in text
        await pilot.press("f")
        await pilot.pause()
        assert app.screen is dashboard


async def test_fail_back_is_dimmed_on_an_item_that_cannot_fail_over(app) -> None:  # type: ignore[no-untyped-def]
    async with app.run_test(size=(120, 36)) as pilot:
        dashboard = await open_dashboard(pilot)
        blocked = next(
            i for i in dashboard.items_table.items.values() if not can_failover(i).allowed and not i.consistency_group
        )
        await select(pilot, dashboard, blocked.friendly_name)
        assert dashboard.check_action("fail_back", ()) is None
        await pilot.press("f")
        await pilot.pause()
        assert app.screen is dashboard


async def test_a_second_press_while_submitting_sends_nothing(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app("train-single-vm")
    async with app.run_test(size=(120, 36)) as pilot:
        dashboard = await open_dashboard(pilot)
        item = first_ready(dashboard)
        points = app.backend.list_recovery_points(item)
        option = point_options(points, app.backend.now())[0]
        assert app.start_failover(item, option) is True
        assert app.start_failover(item, option) is False  # still being submitted
        await wait_screen(pilot, JobScreen, "the job screen")
        started = [s for s in app.session.started.values() if s.item_id == item.id]
        assert len(started) == 1


async def test_refused_failover_shows_message_hint_and_details(clock) -> None:  # type: ignore[no-untyped-def]
    emulator = ArmEmulator(load_scenario("train-single-vm"), clock, base_url=EMULATOR_BASE_URL)
    emulator.faults.add(Fault("forbidden", method="POST", path="*/unplannedfailover", count=None))
    backend = build_backend(Settings(demo=True), clock=clock, emulator=emulator)
    app = FailbackApp(backend=backend, clock=clock, tick_seconds=0.05, items_refresh_seconds=3600)
    async with app.run_test(size=(120, 36)) as pilot:
        dashboard = await open_dashboard(pilot)
        await start_failover_directly(pilot, app, first_ready(dashboard))
        dialog = await wait_screen(pilot, ErrorDialog, "error dialog")
        text = str(dialog.query_one("#error-text").render())
        assert "Failover was not started" in text
        assert "What to do:" in text and "Site Recovery Operator" in text
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is dashboard, "back on the dashboard")
        assert not app.session.submitting


async def test_failed_job_shows_task_errors_and_offers_restart(make_app, clock) -> None:  # type: ignore[no-untyped-def]
    app = make_app("train-failed-task")
    async with app.run_test(size=(120, 36)) as pilot:
        dashboard = await open_dashboard(pilot)
        item = next(i for i in dashboard.items_table.items.values() if i.friendly_name == "erp-app-03")
        await start_failover_directly(pilot, app, item)
        screen = await wait_screen(pilot, JobScreen, "job screen")
        job = await run_job_to_end(pilot, clock, screen.job_name)
        assert job.state is JobState.FAILED
        await pilot.pause()
        text = screen_text(pilot)
        assert "not enough free memory" in text
        assert "Recommended action" in text
        assert screen.check_action("job_action", ("restart",)) is True
        assert screen.check_action("job_action", ("cancel",)) is False


async def test_jobs_screen_filters_by_state_and_opens_detail(app) -> None:  # type: ignore[no-untyped-def]
    async with app.run_test(size=(120, 36)) as pilot:
        await open_dashboard(pilot)
        await pilot.press("J")
        jobs = await wait_screen(pilot, JobsScreen, "jobs screen")
        await wait_for(pilot, lambda: jobs.jobs, "job history")
        everything = len(jobs.jobs)
        states = {j.state for j in jobs.jobs}
        assert len(states) > 1
        await pilot.press("s")  # In progress only
        await wait_for(pilot, lambda: jobs.jobs and all(j.state is JobState.IN_PROGRESS for j in jobs.jobs), "filter")
        assert len(jobs.jobs) < everything
        await pilot.press("enter")
        detail = await wait_screen(pilot, JobScreen, "job detail")
        assert detail.job_name == jobs.jobs[0].name


async def test_help_lists_keys_and_palette_has_the_plain_names(app) -> None:  # type: ignore[no-untyped-def]
    async with app.run_test(size=(120, 36)) as pilot:
        dashboard = await open_dashboard(pilot)
        await select(pilot, dashboard, first_ready(dashboard).friendly_name)
        titles = {c.title for c in app.get_system_commands(dashboard)}
        assert {"Fail back… (f)", "Jobs (J)", "Filter (/)", "Commands (e)", "Refresh (^r)"} <= titles
        await pilot.press("f1")
        await wait_screen(pilot, HelpScreen, "help")
        await pilot.pause()
        text = screen_text(pilot)
        assert "Fail back…" in text and "Commit…" in text and "ctrl+p" in text
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is dashboard, "back")


async def test_show_the_command_after_a_failover(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app("train-single-vm")
    async with app.run_test(size=(120, 36)) as pilot:
        dashboard = await open_dashboard(pilot)
        await start_failover_directly(pilot, app, first_ready(dashboard))
        await wait_for(pilot, lambda: app.session.actions, "the action to be recorded")
        await pilot.press("e")
        await wait_screen(pilot, CommandsScreen, "commands screen")
        await pilot.pause()
        text = str(app.screen.query_one("#commands-text").render())
        assert "unplannedFailover" in text
        assert "az " in text and "Start-AzRecoveryServicesAsrUnplannedFailoverJob" in text


async def test_a_small_terminal_is_list_first_with_the_detail_on_demand(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        dashboard = await open_dashboard(pilot)
        await pilot.pause()
        assert dashboard.has_class("-narrow") and not dashboard.detail_shown
        table, detail = dashboard.query_one("#items"), dashboard.query_one("#detail")
        assert table.scrollable_content_region.height - 1 >= 12, "a dozen rows at 80x24, not five"
        assert "i: detail" in str(dashboard.query_one("#status").render())
        # The filter is a one-line prompt, and it keeps the rows in view.
        await pilot.press("slash")
        await pilot.pause()
        assert dashboard.query_one("#filter").region.height == 1
        await pilot.press("escape")
        # i shows the detail under the table (and hides it again); the choice holds when the terminal is resized.
        await pilot.press("i")
        await pilot.pause()
        assert dashboard.detail_shown and detail.region.height > 0 and detail.region.y >= table.region.bottom
        await pilot.resize_terminal(100, 26)  # still small: the operator's i holds
        await pilot.pause()
        assert dashboard.detail_shown
        await pilot.press("i")
        await pilot.pause()
        assert not dashboard.detail_shown
        assert "SIMULATION" in screen_text(pilot)
    # A tall terminal shows the detail from the start.
    async with make_app().run_test(size=(120, 36)) as pilot:
        dashboard = await open_dashboard(pilot)
        assert dashboard.detail_shown


async def test_backend_is_built_in_a_worker_from_settings(clock) -> None:  # type: ignore[no-untyped-def]
    app = FailbackApp(Settings(demo=True, scenario="small"), clock=clock, tick_seconds=0.05)
    async with app.run_test(size=(100, 30)) as pilot:
        dashboard = await open_dashboard(pilot)
        assert app.backend is not None and app.backend.simulated
        assert dashboard.items_table.row_count == len(dashboard.items_table.items) > 0


async def test_no_vault_configured_says_what_to_do(clock) -> None:  # type: ignore[no-untyped-def]
    app = FailbackApp(Settings(), clock=clock, tick_seconds=0.05)
    async with app.run_test(size=(100, 30)) as pilot:
        dialog = await wait_screen(pilot, ErrorDialog)
        text = str(dialog.query_one("#error-text").render())
        assert "Could not open the vault" in text and "avs-failback demo" in text
        assert "SIMULATION" not in screen_text(pilot)


async def test_two_answers_for_one_fail_back_open_one_dialog(make_app) -> None:  # type: ignore[no-untyped-def]
    from tui.dialogs.point import PointDialog
    from tui.messages import PointsLoaded

    app = make_app("train-single-vm")
    async with app.run_test(size=(120, 36)) as pilot:
        dashboard = await open_dashboard(pilot)
        item = first_ready(dashboard)
        points = app.backend.list_recovery_points(item)
        # Two reads in flight for the same key press (a cancelled thread worker still answers): one dialog.
        dashboard.post_message(PointsLoaded(item, points, "failover"))
        dashboard.post_message(PointsLoaded(item, points, "failover"))
        await wait_screen(pilot, PointDialog)
        await pilot.pause(0.2)
        assert sum(isinstance(s, PointDialog) for s in app.screen_stack) == 1


async def test_job_history_says_when_a_state_has_no_jobs_and_dates_older_jobs(app) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, timedelta

    from tui.text import job_time

    async with app.run_test(size=(120, 36)) as pilot:
        await open_dashboard(pilot)
        await pilot.press("J")
        jobs = await wait_screen(pilot, JobsScreen, "jobs screen")
        await wait_for(pilot, lambda: jobs.jobs, "job history")
        for _ in range(5):  # to Suspended ("Waiting"), which no job of the demo is in
            await pilot.press("s")
        await wait_for(pilot, lambda: not jobs.history_loading and not jobs.jobs, "an empty state")
        status = str(jobs.query_one("#jobs-status").render())
        assert status.startswith("No jobs in this state (Waiting, last 24 hours)") and "s and W widen it" in status
    now = app.backend.now()
    assert job_time(now - timedelta(minutes=5), now, UTC).count(":") == 2
    assert job_time(now - timedelta(days=2), now, UTC).startswith((now - timedelta(days=2)).strftime("%b %d "))


async def test_the_reprotect_dialog_says_when_the_vm_booted_and_when_the_window_ends(app) -> None:  # type: ignore[no-untyped-def]
    from tui.dialogs.reprotect import ReprotectDialog

    async with app.run_test(size=(120, 36)) as pilot:
        dashboard = await open_dashboard(pilot)
        item = next(i for i in dashboard.items_table.items.values() if i.friendly_name == "wiki-01")
        dashboard.items_table.move_cursor(row=dashboard.items_table.get_row_index(item.id))
        await pilot.press("r")
        dialog = await wait_screen(pilot, ReprotectDialog, "reprotect dialog")
        note = " ".join(str(dialog.query_one("#reprotect-note").render()).split())
        assert "wiki-01 booted in AVS 6 minutes ago" in note and "window ends in about 9 minutes" in note
        # One truth for the master target's health: its health errors (the SDK's MasterTargetServer has no health
        # field), worded by the one helper the preflight uses too; none listed is Normal.
        from core.preflight import master_target_health

        mt = next(m for f in dialog.fabrics for m in f.master_targets if m.name == "mt-avs-weu-01")
        targets = dialog.query_one("#master-targets")
        assert str(targets.get_row_at(0)[2]) == master_target_health(mt) == "Normal"  # type: ignore[attr-defined]
