"""The trainee's keys on a small terminal: the lesson line and footer at 80x24 and 120x36, and F1 in a lesson."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest

from core.bootstrap import build_backend
from core.clock import ManualClock
from core.config import Settings
from tests.tui.helpers import lesson_app, screen_text, wait_for, wait_screen
from tui.app import FailbackApp
from tui.screens.dashboard import DashboardScreen
from tui.screens.help import HelpScreen, help_text
from tui.screens.jobs import JobsScreen
from tui.screens.training_app import TrainingApp
from tui.screens.training_dashboard import TrainingDashboardScreen
from tui.screens.training_plans import TrainingPlansScreen
from tui.widgets.lesson_keys import LessonKeys

# What a trainee presses on the dashboard during a lesson, as the lesson line and the footer name them.
LESSON_KEYS = ("w Walkthrough", "n Speed", "5 +5 min", "d Debrief", "E Report")
DASHBOARD_KEYS = ("f Fail back…", "v Verify", "c Commit…", "r Reprotect…", "f1 Help", "^p palette")
# The same keys as F1 lists them: the key, then its description and tooltip.
HELP_LINES = (
    r"w +Walkthrough — Show or hide the lesson",
    r"E +Report — Export the session report",
    r"n +Speed — Simulated time",
    r"5 +\+5 min — Skip 5 minutes",
    r"d +Debrief — The debrief so far",
)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def make_lesson(clock: ManualClock, tmp_path: Path) -> Callable[[str], TrainingApp]:
    def make(name: str) -> TrainingApp:
        app: TrainingApp = lesson_app(name, clock, tmp_path)
        return app

    return make


async def lesson_dashboard(pilot: Any) -> TrainingDashboardScreen:
    app = pilot.app
    screen: TrainingDashboardScreen = await wait_for(
        pilot, lambda: isinstance(app.screen, TrainingDashboardScreen) and app.screen, "the lesson's dashboard"
    )
    await wait_for(pilot, lambda: screen.loaded_at is not None and not screen.items_loading, "items loaded")
    await pilot.pause()
    return screen


def bottom_lines(pilot: Any, count: int = 2) -> str:
    """The last rows of the terminal as the trainee reads them: the lesson line and the footer."""
    return "\n".join(screen_text(pilot).rstrip("\n").splitlines()[-count:])


def assert_all_shown(shown: str, wanted: tuple[str, ...]) -> None:
    missing = [key for key in wanted if key not in shown]
    assert not missing, f"{missing} not on screen:\n{shown}"


@pytest.mark.parametrize(("size", "pane"), [((80, 24), False), ((80, 24), True), ((120, 36), True)])
async def test_every_lesson_key_is_on_screen(make_lesson, size, pane) -> None:  # type: ignore[no-untyped-def]
    app = make_lesson("train-single-vm")
    async with app.run_test(size=size) as pilot:
        screen = await lesson_dashboard(pilot)
        if screen.pane.display != pane:
            await pilot.press("w")
            await wait_for(pilot, lambda: screen.pane.display == pane, "the walkthrough to be toggled")
            await pilot.pause()
        bottom = bottom_lines(pilot)
        assert_all_shown(bottom, LESSON_KEYS + DASHBOARD_KEYS)
        # Every row fits: nothing named above is pushed past the right edge or covered by the walkthrough.
        assert all(len(line.rstrip()) <= size[0] for line in bottom.splitlines())
        if pane:
            # Beside the dashboard, the walkthrough stops above the lesson line and under the banner.
            assert "TRAINING, time 1×" in screen_text(pilot).splitlines()[0]


async def test_plan_lesson_keys_on_the_plans_screen_at_80x24(make_lesson) -> None:  # type: ignore[no-untyped-def]
    app = make_lesson("train-consistency-group")
    async with app.run_test(size=(80, 24)) as pilot:
        await lesson_dashboard(pilot)
        await pilot.press("p")
        plans = await wait_screen(pilot, TrainingPlansScreen, "the plans screen")
        await wait_for(pilot, lambda: plans.selected is not None, "the lesson's plan to be read")
        await pilot.pause()
        bottom = bottom_lines(pilot)
        assert_all_shown(
            bottom,
            ("f Fail back…", "c Commit…", "r Reprotect…", "t Job", "F Preflight")
            + ("n Speed", "5 +5 min", "d Debrief", "f1 Help", "^p palette"),
        )
        # Out of the footer, not unbound: F still answers on this screen.
        assert "F" in {key for key, a in plans.active_bindings.items() if a.binding.id == "plan-preflight"}


async def test_f1_during_a_lesson_lists_the_lesson_keys_first(make_lesson) -> None:  # type: ignore[no-untyped-def]
    app = make_lesson("train-single-vm")
    async with app.run_test(size=(80, 24)) as pilot:
        dashboard = await lesson_dashboard(pilot)
        await pilot.press("f1")
        help_screen = await wait_screen(pilot, HelpScreen, "help")
        assert help_screen.origin is dashboard
        # On the first page, without scrolling: what the trainee opened help for.
        shown = screen_text(pilot)
        assert "Training lesson" in shown
        for line in HELP_LINES:
            assert re.search(line, shown), f"{line!r} not in help:\n{shown}"
        # Each key once: the dashboard's keys stay in their own section, not repeated as the lesson's.
        full = help_text(dashboard).plain
        lesson_part = full.split("Training lesson\n", 1)[1].split("\n\n", 1)[0]
        assert [line.split()[0] for line in lesson_part.splitlines()] == ["w", "E", "n", "5", "d"]
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is dashboard, "back on the dashboard")


async def test_f1_on_another_screen_of_a_lesson_names_the_time_keys(make_lesson) -> None:  # type: ignore[no-untyped-def]
    app = make_lesson("train-single-vm")
    async with app.run_test(size=(100, 30)) as pilot:
        await lesson_dashboard(pilot)
        await pilot.press("J")
        jobs = await wait_screen(pilot, JobsScreen, "job history")
        await pilot.press("f1")
        await wait_screen(pilot, HelpScreen, "help")
        text = help_text(jobs).plain
        # Bound by the App, so under its own heading; the dashboard's w and E do not answer here.
        section = text.split("Training, on every screen\n", 1)[1].split("\n\n", 1)[0]
        assert [line.split()[0] for line in section.splitlines()] == ["n", "5", "d"]
        assert "Walkthrough —" not in text


async def test_help_outside_training_adds_nothing(clock) -> None:  # type: ignore[no-untyped-def]
    backend = build_backend(Settings(demo=True, scenario="demo"), clock=clock)
    app = FailbackApp(backend=backend, clock=clock, tz=UTC, ascii_glyphs=False, tick_seconds=0.05)
    async with app.run_test(size=(100, 30)) as pilot:
        dashboard = await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen) and app.screen, "dashboard")
        await pilot.pause()
        # Every key of the plain dashboard is already in the per-screen lists.
        assert help_text(dashboard).plain == help_text().plain


async def test_a_remapped_lesson_key_is_shown_and_listed_as_remapped(make_lesson) -> None:  # type: ignore[no-untyped-def]
    app = make_lesson("train-single-vm")
    async with app.run_test(size=(80, 24)) as pilot:
        dashboard = await lesson_dashboard(pilot)
        app.set_keymap({"training-speed": "m"})
        await pilot.pause()
        line = str(dashboard.query_one(LessonKeys).render())
        assert "m Speed" in line and "n Speed" not in line
        assert re.search(r"^ +m +Speed — ", help_text(dashboard).plain, re.MULTILINE)
        await pilot.press("m")
        await wait_for(pilot, lambda: app.sim_time.speed == 10, "the remapped key to change the speed")


async def test_clicking_a_key_on_the_lesson_line_runs_it(make_lesson) -> None:  # type: ignore[no-untyped-def]
    app = make_lesson("train-single-vm")
    async with app.run_test(size=(80, 24)) as pilot:
        dashboard = await lesson_dashboard(pilot)
        keys = dashboard.query_one(LessonKeys)
        line = str(keys.render())
        assert app.sim_time.speed == 1 and not dashboard.pane.display
        await pilot.click(LessonKeys, offset=(keys.styles.padding.left + line.index("n Speed"), 0))
        await wait_for(pilot, lambda: app.sim_time.speed == 10, "the click to change the speed")
        await pilot.click(LessonKeys, offset=(keys.styles.padding.left + line.index("w Walkthrough"), 0))
        await wait_for(pilot, lambda: dashboard.pane.display, "the click to show the walkthrough")
