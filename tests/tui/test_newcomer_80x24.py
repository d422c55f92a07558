"""What a first-time operator sees at 80x24: footer, confirmation, wrapped labels, job next steps, retry wording."""

from __future__ import annotations

from typing import Any

from textual.widgets import Button

from core.failback import derive_stage
from core.model import JobState, Stage
from tests.tui.helpers import screen_text, wait_for, wait_screen
from tests.tui.test_flow import open_dashboard, run_job_to_end, select
from tui.dialogs.confirm_failover import ConfirmFailoverDialog
from tui.dialogs.point import PointDialog
from tui.dialogs.reprotect import ReprotectDialog
from tui.screens.help import HelpScreen
from tui.screens.job import JobScreen
from tui.screens.verify import VerifyScreen

SMALL = (80, 24)


def _footer_line(pilot: Any) -> str:
    return screen_text(pilot).rstrip("\n").splitlines()[-1]


async def test_footer_fits_80_columns_with_help_and_palette(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await open_dashboard(pilot)
        await pilot.pause()
        footer = _footer_line(pilot)
        assert "f1 Help" in footer
        assert "^p palette" in footer
        for verb in ("Fail back", "Verify", "Commit", "Reprotect"):
            assert verb in footer
        # The rest is in F1 and the palette, not in a footer that would cut them.
        assert "Jobs" not in footer and "Plans" not in footer


async def test_help_has_a_title_and_spaced_separators(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await open_dashboard(pilot)
        await pilot.press("f1")
        await wait_screen(pilot, HelpScreen)
        text = screen_text(pilot)
        assert "Help — every key of every screen" in text
        assert "Help — List every key" in text
        assert "Quit — Leave the dashboard" in text


async def test_failover_confirmation_opens_at_its_heading_with_back_focused(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        dashboard = await open_dashboard(pilot)
        await select(pilot, dashboard, "dc-01")
        await pilot.press("f")
        point_dialog = await wait_screen(pilot, PointDialog, "point dialog")
        point_dialog.query_one("#continue", Button).press()  # Latest: no acknowledgement needed
        dialog = await wait_screen(pilot, ConfirmFailoverDialog, "confirmation")
        await pilot.pause()
        text = screen_text(pilot)
        assert "Fail dc-01 back from Azure to the AVS private cloud" in text
        assert app.focused is dialog.query_one("#back")


async def test_point_dialog_wraps_and_says_the_kind_once(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        dashboard = await open_dashboard(pilot)
        await select(pilot, dashboard, "dc-01")
        await pilot.press("f")
        dialog = await wait_screen(pilot, PointDialog, "point dialog")
        await pilot.press("down", "space")
        await pilot.pause()
        text = screen_text(pilot)
        assert "app-consistent — app-consistent" not in text
        option = dialog.chosen
        assert option is not None and option.needs_acknowledgement
        # The headline is whole twice: on its radio button and over the tradeoff (a cut button shows it once).
        assert text.count(option.headline) == 2
        assert str(dialog.query_one("#ack").label).startswith("I accept losing about ")
        assert "m " not in str(dialog.query_one("#ack").label)  # worded like the tradeoff, not "59m 45s"


async def test_verify_checkbox_labels_wrap_at_80_columns(make_app, clock) -> None:  # type: ignore[no-untyped-def]
    app = make_app("train-agent-window")
    async with app.run_test(size=SMALL) as pilot:
        dashboard = await open_dashboard(pilot)
        await select(pilot, dashboard, "crm-app-01")
        assert derive_stage(dashboard.items_table.selected) is Stage.FAILED_OVER
        await pilot.press("v")
        screen = await wait_screen(pilot, VerifyScreen, "verify")
        tools = screen.query_one("#check-tools")
        assert tools.content_size.height >= 2
        text = screen_text(pilot)
        # The label goes on to a second line inside its box instead of stopping at the right edge.
        assert "(ASR re-enables them at failback on" in text and "Windows)" in text


async def test_finished_job_says_ran_for_and_the_next_step(make_app, clock) -> None:  # type: ignore[no-untyped-def]
    app = make_app("train-agent-window")
    async with app.run_test(size=(100, 30)) as pilot:
        dashboard = await open_dashboard(pilot)
        await select(pilot, dashboard, "crm-app-01")
        assert app.start_commit(dashboard.items_table.selected)
        screen = await wait_screen(pilot, JobScreen, "commit job")
        clock.advance(5)
        app.schedule_poll(0.0)
        await wait_for(pilot, lambda: screen.job is not None and screen.job.is_running, "the job to run")
        await pilot.pause()
        assert "running for" in screen_text(pilot)
        job = await run_job_to_end(pilot, clock, screen.job_name)
        assert job.state is JobState.SUCCEEDED
        await pilot.pause()
        text = screen_text(pilot)
        assert "ran for" in text and "running for" not in text
        assert "Next: press Escape, then r on the dashboard to reprotect" in text


async def test_a_retried_reprotect_leads_with_its_newest_attempt(make_app, clock) -> None:  # type: ignore[no-untyped-def]
    app = make_app("train-agent-window")
    async with app.run_test(size=SMALL) as pilot:
        dashboard = await open_dashboard(pilot)
        await select(pilot, dashboard, "crm-app-01")
        item = dashboard.items_table.selected
        assert app.start_commit(item)
        screen = await wait_screen(pilot, JobScreen, "commit job")
        await run_job_to_end(pilot, clock, screen.job_name)
        await pilot.press("escape")
        await wait_for(pilot, lambda: derive_stage(dashboard.items_table.items[item.id]) is Stage.COMMITTED, "commit")

        await pilot.press("r")
        await wait_screen(pilot, ReprotectDialog, "reprotect dialog")
        await pilot.press("tab", "tab", "tab", "enter")
        first = await wait_for(
            pilot,
            lambda: isinstance(app.screen, JobScreen) and app.screen.job_name != screen.job_name and app.screen,
            "reprotect job",
        )
        first_name = first.job_name
        failed = await run_job_to_end(pilot, clock, first_name, step=20.0)
        assert failed.state is JobState.FAILED and "Restart" in failed.allowed_actions
        await wait_for(pilot, lambda: app.session.retries.get(item.id), "a planned retry")
        await pilot.pause()
        # A retry is on its way: restarting the failed job by hand would race it. The failure was expected, and
        # the screen says what it waits for.
        assert first.check_action("job_action", ("restart",)) is False
        flat = " ".join(screen_text(pilot).split())
        assert "): waiting for the agent" in flat and "Retry in" in flat
        assert "↻ Failed, as expected: the mobility agent had not registered yet" in flat

        # The second attempt fails too (still inside the window): one notification, not one per attempt.
        clock.advance(60)
        await wait_for(pilot, lambda: any(s.attempt == 2 for s in app.session.started.values()), "attempt 2")
        second = next(s.handle.job_name for s in app.session.started.values() if s.attempt == 2)
        # The same screen now shows the newest attempt, and names the earlier one under it.
        await wait_for(pilot, lambda: first.job_name == second, "the screen to lead with attempt 2")
        assert first.earlier == [first_name]
        await run_job_to_end(pilot, clock, second, step=20.0)
        await wait_for(
            pilot, lambda: (r := app.session.retries.get(item.id)) is not None and r.attempt == 3, "attempt 3"
        )
        retrying = [n for n in app._notifications if n.title == "Retrying reprotect"]
        assert len(retrying) == 1

        await pilot.press("x")
        await pilot.pause()
        assert item.id not in app.session.retries
        flat = " ".join(screen_text(pilot).split())
        assert f"Earlier attempt: {first_name}" in flat and second in flat

        # Opened again on the first attempt (as from the history), the screen still leads with the newest.
        app.show_job(first_name)
        again = await wait_for(
            pilot, lambda: isinstance(app.screen, JobScreen) and app.screen is not first and app.screen, "job screen"
        )
        await pilot.pause()
        assert again.job_name == second and again.earlier == [first_name]


async def test_table_ages_follow_backend_time_between_reads(make_app, clock) -> None:  # type: ignore[no-untyped-def]
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        dashboard = await open_dashboard(pilot)
        await select(pilot, dashboard, "dc-01")
        await pilot.pause()

        def age_cell() -> str:
            line = next(line for line in screen_text(pilot).splitlines() if "dc-01" in line)
            return line

        before = age_cell()
        clock.advance(10 * 60)
        # One tick at the new time is enough: no re-read, no waiting for a number of ticks.
        await wait_for(pilot, lambda: age_cell() != before, "the age cell to follow the clock", timeout=3.0)
        assert dashboard.loaded_at is not None and dashboard.loaded_at < clock.now()
