"""Snapshots of the rest of the screens and dialogs: confirmation, job progress and failure, verify, the retry
countdown, job history, the shown command, errors, read-only, the stage filter and the 16-colour ASCII dashboard.

Everything runs on the emulator with a frozen clock, whose ids are seeded from the vault, so two runs draw the
same pictures. Regenerate after an intended change with
`uv run pytest tests/tui/test_snapshots_more.py --snapshot-update` and look at the SVGs before committing them.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from core.bootstrap import EMULATOR_BASE_URL, build_backend
from core.clock import ManualClock
from core.config import Settings
from core.emulator import ArmEmulator, load_scenario
from core.emulator.faults import Fault
from core.model import JobState
from tests.tui.helpers import screen_text, wait_for, wait_screen
from tests.tui.test_flow import open_dashboard, select
from tui.app import FailbackApp
from tui.dialogs.confirm_failover import ConfirmFailoverDialog
from tui.dialogs.error import ErrorDialog
from tui.dialogs.point import PointDialog
from tui.dialogs.reprotect import ReprotectDialog
from tui.screens.commands import CommandsScreen
from tui.screens.dashboard import DashboardScreen
from tui.screens.job import JobScreen
from tui.screens.jobs import JobsScreen
from tui.screens.verify import VerifyScreen

SIZE = (120, 36)
SMALL = (80, 24)


def _app(clock: ManualClock, emulator: ArmEmulator, **kwargs: Any) -> FailbackApp:
    """The app as conftest builds it, on an emulator the test prepared (faults) or with other display options."""
    backend = build_backend(Settings(demo=True), clock=clock, emulator=emulator)
    kwargs.setdefault("ascii_glyphs", False)
    return FailbackApp(backend=backend, clock=clock, tz=UTC, tick_seconds=0.05, items_refresh_seconds=3600, **kwargs)


def _emulator(clock: ManualClock, scenario: str) -> ArmEmulator:
    return ArmEmulator(load_scenario(scenario), clock, base_url=EMULATOR_BASE_URL)


async def quiet(pilot: Any) -> None:
    """No read in flight (polls included), then one full redraw so DataTable headers are drawn from fresh."""
    app = pilot.app

    def idle() -> bool:
        busy = [w for w in app.workers if w.is_running]
        tracked = app.tracker.tracked if app.tracker else []
        return not busy and not app._polling and all(name in app.session.jobs for name in tracked)

    await wait_for(pilot, idle, "background reads to settle")
    # Toasts leave on a real-time timer: whether one is still up at the shot would depend on the machine's speed.
    app.clear_notifications()
    width, height = app.size
    await pilot.resize_terminal(width - 1, height)
    await pilot.resize_terminal(width, height)
    await pilot.pause()
    await wait_for(pilot, idle, "background reads to settle after the redraw")
    await pilot.pause()


async def dashboard_ready(pilot: Any) -> DashboardScreen:
    screen = await open_dashboard(pilot)
    await wait_for(pilot, lambda: screen.fabrics is not None, "fabrics")
    item = screen.items_table.selected
    if item is not None:
        await wait_for(pilot, lambda: item.id in screen.points, "the focused item's points")
    await quiet(pilot)
    return screen


async def poll_at(pilot: Any, clock: ManualClock, seconds: float) -> None:
    """Move the simulated clock and wait for the poll that reads the jobs at the new time."""
    app = pilot.app
    clock.advance(seconds)
    now = clock.now()
    app.schedule_poll(0.0)
    await wait_for(pilot, lambda: app.tracker.stats.last_poll == now and not app._polling, "a poll at the new time")
    await pilot.pause()


async def focused_points(pilot: Any, dashboard: DashboardScreen) -> None:
    item = dashboard.items_table.selected
    assert item is not None
    await wait_for(pilot, lambda: item.id in dashboard.points, "the focused item's points")


async def fail_back(pilot: Any, dashboard: DashboardScreen, name: str) -> JobScreen:
    """Select `name`, open the point dialog, keep the default point and confirm: the job screen opens."""
    await select(pilot, dashboard, name)
    await focused_points(pilot, dashboard)
    await pilot.press("f")
    dialog = await wait_screen(pilot, PointDialog, "point dialog")
    dialog.query_one("#continue").press()
    confirm = await wait_screen(pilot, ConfirmFailoverDialog, "failover confirmation")
    confirm.query_one("#start").press()
    return await wait_screen(pilot, JobScreen, "job screen")  # type: ignore[no-any-return]


async def run_until(pilot: Any, clock: ManualClock, job_name: str, step: float, limit: int = 40) -> Any:
    app = pilot.app
    for _ in range(limit):
        job = app.session.jobs.get(job_name)
        if job is not None and job.state.is_terminal:
            return job
        await poll_at(pilot, clock, step)
    raise AssertionError(f"job {job_name} did not end")


# -- the emulator's ids ---------------------------------------------------------------------------------------


def test_the_same_steps_give_the_same_job_names_and_request_ids() -> None:
    def run(scenario: str) -> tuple[str, str, str]:
        clock = ManualClock()
        emulator = _emulator(clock, scenario)
        first = emulator.act_as_other_operator("hr-app-01", "commit")
        second = emulator.act_as_other_operator("dc-01", "failover")
        answer = emulator.handle("GET", f"{EMULATOR_BASE_URL}{emulator.vault_path}?api-version=2025-01-01", {}, None)
        return first, second, answer.headers["x-ms-request-id"]

    once, again = run("demo"), run("demo")
    assert once == again
    assert len(set(once)) == 3, "every id is drawn afresh"
    assert all(len(value) == 36 and value[14] == "4" for value in once), "GUIDs of version 4"


def test_another_vault_draws_other_ids() -> None:
    clock = ManualClock()
    demo = _emulator(clock, "demo")
    other = _emulator(clock, "train-single-vm")
    name = next(i.friendly for i in other.simulation.items.values() if i.stage == "ready")
    assert demo.act_as_other_operator("dc-01", "failover") != other.act_as_other_operator(name, "failover")


# -- failover: confirmation and progress ------------------------------------------------------------------------


def test_failover_confirmation(snap_compare, app) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Any) -> None:
        dashboard = await dashboard_ready(pilot)
        await select(pilot, dashboard, "dc-01")
        await quiet(pilot)
        await pilot.press("f")
        dialog = await wait_screen(pilot, PointDialog, "point dialog")
        dialog.query_one("#continue").press()
        await wait_screen(pilot, ConfirmFailoverDialog, "failover confirmation")
        await quiet(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_failover_confirmation_80x24(snap_compare, app) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Any) -> None:
        dashboard = await dashboard_ready(pilot)
        await select(pilot, dashboard, "dc-01")
        await quiet(pilot)
        await pilot.press("f")
        dialog = await wait_screen(pilot, PointDialog, "point dialog")
        dialog.query_one("#continue").press()
        await wait_screen(pilot, ConfirmFailoverDialog, "failover confirmation")
        await quiet(pilot)

    assert snap_compare(app, terminal_size=SMALL, run_before=run_before)


def _running_failover(clock: ManualClock) -> Any:
    async def run_before(pilot: Any) -> None:
        dashboard = await dashboard_ready(pilot)
        screen = await fail_back(pilot, dashboard, "dc-01")
        # Past the prerequisites check and into the shutdown: some tasks done, one running, the rest waiting.
        await poll_at(pilot, clock, 90)
        job = pilot.app.session.jobs[screen.job_name]
        assert job.state is JobState.IN_PROGRESS
        await quiet(pilot)
        text = screen_text(pilot)
        assert "dc-01" in text

    return run_before


def test_job_running_failover(snap_compare, app, clock) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(app, terminal_size=SIZE, run_before=_running_failover(clock))


def test_job_running_failover_80x24(snap_compare, app, clock) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(app, terminal_size=SMALL, run_before=_running_failover(clock))


def test_job_failed_with_causes_and_action(snap_compare, make_app, clock) -> None:  # type: ignore[no-untyped-def]
    app = make_app("train-failed-task")

    async def run_before(pilot: Any) -> None:
        dashboard = await dashboard_ready(pilot)
        screen = await fail_back(pilot, dashboard, "erp-app-03")
        job = await run_until(pilot, clock, screen.job_name, 120)
        assert job.state is JobState.FAILED
        await quiet(pilot)
        text = screen_text(pilot)
        assert "Possible causes" in text or "possible causes" in text.lower()
        assert "Recommended action" in text

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


# -- verify, reprotect and its retry countdown ----------------------------------------------------------------


def test_verify_checklist(snap_compare, app) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Any) -> None:
        dashboard = await dashboard_ready(pilot)
        await select(pilot, dashboard, "hr-app-01")
        await quiet(pilot)
        await pilot.press("v")
        verify = await wait_screen(pilot, VerifyScreen, "verify screen")
        await wait_for(
            pilot, lambda: "Looking for" not in str(verify.query_one("#azure-off").render()), "the shutdown check"
        )
        await pilot.press("space", "tab", "space")  # two of the hand-ticked checks
        await quiet(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


async def _reprotect_inside_agent_window(pilot: Any, clock: ManualClock) -> JobScreen:
    """train-agent-window: commit crm-app-01, reprotect at once, let the agent-window failure plan a retry."""
    app = pilot.app
    dashboard = await dashboard_ready(pilot)
    await select(pilot, dashboard, "crm-app-01")
    item = dashboard.items_table.selected
    assert app.start_commit(item)
    commit = await wait_screen(pilot, JobScreen, "commit job")
    await run_until(pilot, clock, commit.job_name, 120)
    await pilot.press("escape")
    await wait_for(pilot, lambda: app.screen is dashboard, "the dashboard")
    await quiet(pilot)
    await pilot.press("r")
    await wait_screen(pilot, ReprotectDialog, "reprotect dialog")
    await quiet(pilot)
    return commit  # type: ignore[no-any-return]


def test_reprotect_dialog_inside_agent_window(snap_compare, make_app, clock) -> None:  # type: ignore[no-untyped-def]
    app = make_app("train-agent-window")

    async def run_before(pilot: Any) -> None:
        await _reprotect_inside_agent_window(pilot, clock)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_reprotect_failed_with_retry_countdown(snap_compare, make_app, clock) -> None:  # type: ignore[no-untyped-def]
    app = make_app("train-agent-window")

    async def run_before(pilot: Any) -> None:
        commit = await _reprotect_inside_agent_window(pilot, clock)
        await pilot.press("tab", "tab", "tab", "enter")  # process servers, master targets, Back, Reprotect
        screen = await wait_for(
            pilot,
            lambda: isinstance(app.screen, JobScreen) and app.screen.job_name != commit.job_name and app.screen,
            "reprotect job screen",
        )
        failed = await run_until(pilot, clock, screen.job_name, 20)
        assert failed.state is JobState.FAILED
        await wait_for(pilot, lambda: app.session.retries, "a planned retry")
        await quiet(pilot)
        text = screen_text(pilot)
        assert "has not registered yet" in text and "Press x to stop" in text, text

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


# -- history, the shown command, errors -----------------------------------------------------------------------


async def open_job_history(pilot: Any) -> None:
    await dashboard_ready(pilot)
    await pilot.press("J")
    jobs = await wait_screen(pilot, JobsScreen, "jobs screen")
    await wait_for(pilot, lambda: jobs.jobs, "job history")
    await quiet(pilot)


def test_jobs_history(snap_compare, app) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(app, terminal_size=SIZE, run_before=open_job_history)


def test_jobs_history_80x24(snap_compare, app) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(app, terminal_size=SMALL, run_before=open_job_history)


def test_commands_after_a_failover(snap_compare, app) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Any) -> None:
        dashboard = await dashboard_ready(pilot)
        await fail_back(pilot, dashboard, "dc-01")
        await quiet(pilot)
        await pilot.press("escape")
        await wait_for(pilot, lambda: pilot.app.screen is dashboard, "the dashboard")
        await pilot.press("e")
        await wait_screen(pilot, CommandsScreen, "commands screen")
        await quiet(pilot)
        assert "unplannedFailover" in screen_text(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_error_dialog_permission_denied(snap_compare, clock) -> None:  # type: ignore[no-untyped-def]
    emulator = _emulator(clock, "demo")
    emulator.faults.add(Fault("forbidden", method="POST", path="*/unplannedfailover", count=None))
    app = _app(clock, emulator)

    async def run_before(pilot: Any) -> None:
        dashboard = await dashboard_ready(pilot)
        await select(pilot, dashboard, "dc-01")
        await focused_points(pilot, dashboard)
        await pilot.press("f")
        dialog = await wait_screen(pilot, PointDialog, "point dialog")
        dialog.query_one("#continue").press()
        confirm = await wait_screen(pilot, ConfirmFailoverDialog, "failover confirmation")
        confirm.query_one("#start").press()
        error = await wait_screen(pilot, ErrorDialog, "error dialog")
        await quiet(pilot)
        text = str(error.query_one("#error-text").render())
        assert "403" in text and "What to do:" in text

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


# -- dashboard modes ------------------------------------------------------------------------------------------


def test_dashboard_read_only(snap_compare, make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(read_only=True)

    async def run_before(pilot: Any) -> None:
        await dashboard_ready(pilot)
        assert "READ-ONLY" in screen_text(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_dashboard_stage_filter(snap_compare, app) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Any) -> None:
        dashboard = await dashboard_ready(pilot)
        everything = len(dashboard.items_table.items)
        await pilot.press("s")
        await wait_for(pilot, lambda: len(dashboard.items_table.rows) < everything, "the stage filter")
        await quiet(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def _ascii_16(clock: ManualClock) -> FailbackApp:
    app = _app(clock, _emulator(clock, "demo"), ascii_glyphs=True)
    # What the app picks by itself on TERM=linux or COLORTERM=16 (tui/glyphs.wants_ansi_theme).
    app.theme = "ansi-dark"
    return app


def test_dashboard_ascii_16_colours(snap_compare, clock) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Any) -> None:
        await dashboard_ready(pilot)
        assert pilot.app.glyphs.ascii_only and pilot.app.theme == "ansi-dark"

    assert snap_compare(_ascii_16(clock), terminal_size=SIZE, run_before=run_before)
