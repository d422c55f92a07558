"""Quitting never drops work silently: with our jobs running or a retry pending it asks first and names them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.model import Job, JobState
from tests.tui.helpers import screen_text, wait_for, wait_screen
from tests.tui.test_flow import open_dashboard, run_job_to_end, select
from tests.tui.test_screens import start_failover_directly
from tui.dialogs.confirm import QuitDialog
from tui.dialogs.reprotect import ReprotectDialog
from tui.screens.job import JobScreen
from tui.session import Session, exit_note, leaving


async def test_nothing_of_ours_running_quits_at_once(app: Any) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await open_dashboard(pilot)
        # The demo vault has other operators' jobs running: followed, but not ours to answer for.
        await wait_for(pilot, lambda: app.session.running_jobs(), "the vault's running jobs")
        await pilot.press("q")
        await pilot.pause()
        assert app._exit and app.exit_note == ""


async def test_a_pending_reprotect_retry_is_named_before_quitting(app: Any, clock: Any) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        dashboard = await open_dashboard(pilot)
        await select(pilot, dashboard, "wiki-01")  # committed 6 minutes ago: inside the agent window
        await pilot.press("r")
        await wait_screen(pilot, ReprotectDialog, "reprotect dialog")
        await pilot.press("tab", "tab", "tab", "enter")
        job = await wait_for(pilot, lambda: isinstance(app.screen, JobScreen) and app.screen, "the reprotect job")
        await run_job_to_end(pilot, clock, job.job_name, step=20.0)
        retry = await wait_for(pilot, lambda: app.session.retries.get(dashboard.items_table.selected.id), "a retry")

        await pilot.press("ctrl+q")
        dialog = await wait_screen(pilot, QuitDialog, "the question")
        text = " ".join(screen_text(pilot).split())
        assert "Quit while work is still running?" in text
        assert f"wiki-01: the automatic reprotect retry {retry.attempt} of {retry.max_attempts}, due in" in text
        assert "stays unprotected" in text
        # A second ctrl+q does not quit past the question, and the safe answer has the focus.
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert not app._exit and app.screen is dialog
        assert dialog.focused is dialog.query_one("#back")
        await pilot.press("enter")  # Stay
        await wait_for(pilot, lambda: app.screen is job, "back where it was")
        assert not app._exit and app.session.retries

        await pilot.press("ctrl+q")
        await wait_screen(pilot, QuitDialog, "the question again")
        await pilot.press("right", "enter")  # Quit
        await pilot.pause()
        assert app._exit


async def test_a_running_job_of_ours_is_named_and_said_again_on_exit(make_app: Any) -> None:
    app = make_app("train-single-vm")
    async with app.run_test(size=(80, 24)) as pilot:
        dashboard = await open_dashboard(pilot)
        item = next(i for i in dashboard.items_table.items.values() if i.friendly_name == "web-shop-01")
        await start_failover_directly(pilot, app, item)
        await wait_screen(pilot, JobScreen, "the failover job")
        name = next(iter(app.session.own))
        await pilot.press("ctrl+q")
        await wait_screen(pilot, QuitDialog, "the question")
        text = " ".join(screen_text(pilot).split())
        assert f"(job {name})" in text and "Still running in the simulated vault" in text
        await pilot.press("right", "enter")
        await pilot.pause()
        assert app._exit
        assert (
            app.exit_note == "1 job of the simulated vault was still running; the simulation ends with the dashboard."
        )


def test_on_a_real_vault_the_exit_line_says_resume_follows_them_again() -> None:
    session = Session()
    now = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)
    for name in ("job-a", "job-b"):
        session.own.add(name)
        session.record_job(
            Job(
                id="",
                name=name,
                scenario_name="UnplannedFailover",
                friendly_name="Failover",
                state=JobState.IN_PROGRESS,
                state_description="InProgress",
                start_time=now,
            )
        )
    session.own.add("job-done")
    session.record_job(
        Job(
            id="",
            name="job-done",
            scenario_name="Commit",
            friendly_name="Commit",
            state=JobState.SUCCEEDED,
            state_description="Succeeded",
        )
    )
    left = leaving(session, now)
    assert len(left.jobs) == 2 and not left.stops
    assert exit_note(left, simulated=False) == "2 jobs still run in Azure; `avs-failback resume` follows them again."
    session.own.discard("job-b")
    assert exit_note(leaving(session, now), simulated=False).startswith("1 job still runs in Azure;")
    assert exit_note(leaving(Session(), now), simulated=False) == ""


def test_the_console_script_prints_the_exit_line(capsys: Any) -> None:
    from tui.main import _say_exit

    class Ended:
        exit_note = "1 job still runs in Azure; `avs-failback resume` follows them again."

    _say_exit(Ended())
    assert capsys.readouterr().out == "1 job still runs in Azure; `avs-failback resume` follows them again.\n"
