"""Training mode driven by its keys: each lesson played to its end on a ManualClock, the walkthrough's reactions to
mistakes, time control, the debrief and its export, and the lesson picker."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest

from core.bootstrap import build_backend
from core.config import Settings
from core.failback import derive_stage
from core.model import JobState, Stage
from core.training import load_training
from tests.tui.helpers import wait_for, wait_screen
from tui.dialogs.commit import CommitDialog
from tui.dialogs.confirm_failover import ConfirmFailoverDialog
from tui.dialogs.debrief import DebriefDialog
from tui.dialogs.point import PointDialog
from tui.dialogs.reprotect import ReprotectDialog
from tui.screens.job import JobScreen
from tui.screens.training_app import TrainingApp
from tui.screens.training_dashboard import TrainingDashboardScreen, TrainingPreflightScreen
from tui.screens.verify import VerifyScreen

SIZE = (112, 32)


class FakeRealTime:
    """Stands in for time.monotonic: the debrief's real duration moves only when the test says."""

    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def make_training(clock: Any, tmp_path: Path) -> Callable[..., TrainingApp]:
    def make(name: str, **kwargs: Any) -> TrainingApp:
        lesson = load_training(name)
        backend = build_backend(Settings(demo=True, scenario=lesson.scenario), clock=clock)
        kwargs.setdefault("tick_seconds", 0.05)
        kwargs.setdefault("items_refresh_seconds", 3600.0)
        return TrainingApp(
            lesson,
            clock=clock,
            backend=backend,
            tz=UTC,
            ascii_glyphs=False,
            export_dir=tmp_path / "exports",
            real_time=FakeRealTime(),
            **kwargs,
        )

    return make


# -- driving the dashboard ---------------------------------------------------------------------------------------


async def open_lesson(pilot: Any) -> TrainingDashboardScreen:
    screen = await wait_for(
        pilot, lambda: isinstance(pilot.app.screen, TrainingDashboardScreen) and pilot.app.screen, "the dashboard"
    )
    await wait_for(pilot, lambda: screen.loaded_at is not None and not screen.items_loading, "items loaded")
    return screen  # type: ignore[no-any-return]


async def select(pilot: Any, screen: TrainingDashboardScreen, name: str) -> None:
    table = screen.items_table
    item = next(i for i in table.items.values() if i.friendly_name == name)
    table.focus()
    table.move_cursor(row=table.get_row_index(item.id))
    await pilot.pause()
    assert table.selected is not None and table.selected.friendly_name == name


async def run_job_to_end(pilot: Any, clock: Any, job_name: str, *, step: float = 120.0, limit: int = 60) -> Any:
    """Advance the simulated clock step by step, polling after each, until the job ends."""
    app = pilot.app
    for _ in range(limit):
        job = app.session.jobs.get(job_name)
        if job is not None and job.state.is_terminal:
            await pilot.pause()
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


async def job_screen_other_than(pilot: Any, *seen: str) -> JobScreen:
    app = pilot.app
    return await wait_for(  # type: ignore[no-any-return]
        pilot,
        lambda: isinstance(app.screen, JobScreen) and app.screen.job_name not in seen and app.screen,
        "a new job screen",
    )


async def preflight(pilot: Any) -> None:
    app = pilot.app
    before = len(app.walkthrough.choices)
    await pilot.press("F")
    await wait_screen(pilot, TrainingPreflightScreen, "preflight screen")
    await wait_for(pilot, lambda: len(app.walkthrough.choices) > before, "the preflight to reach the walkthrough")
    await pilot.press("escape")
    await wait_for(pilot, lambda: isinstance(app.screen, TrainingDashboardScreen), "back on the dashboard")


async def fail_back_latest(pilot: Any) -> None:
    await pilot.press("f")
    await wait_screen(pilot, PointDialog, "point dialog")
    await pilot.press("tab", "tab", "enter")  # Latest is chosen: Back, Continue
    await wait_screen(pilot, ConfirmFailoverDialog, "failover confirmation")
    await pilot.press("tab", "enter")  # Start failover


async def verify_all(pilot: Any, screen: TrainingDashboardScreen) -> None:
    await pilot.press("v")
    await wait_screen(pilot, VerifyScreen, "verify screen")
    await pilot.press("space", "tab", "space", "tab", "space", "tab", "space", "escape")
    await wait_for(pilot, lambda: pilot.app.screen is screen, "back on the dashboard")
    await wait_for(pilot, lambda: pilot.app.walkthrough.verified, "the walkthrough to see the checklist")


async def commit(pilot: Any, name: str) -> None:
    await pilot.press("c")
    await wait_screen(pilot, CommitDialog, "commit dialog")
    await pilot.press(*name, "enter", "enter")


async def reprotect(pilot: Any) -> None:
    await pilot.press("r")
    await wait_screen(pilot, ReprotectDialog, "reprotect dialog")
    await pilot.press("tab", "tab", "tab", "enter")  # servers, master targets, Back, Reprotect


async def back_to(pilot: Any, screen: TrainingDashboardScreen, name: str, stage: Stage) -> None:
    await pilot.press("escape")
    table = screen.items_table
    item_id = next(i.id for i in table.items.values() if i.friendly_name == name)
    await wait_for(pilot, lambda: derive_stage(table.items[item_id]) is stage, f"{name} to show {stage.short}")
    await select(pilot, screen, name)


async def export_and_debrief(pilot: Any) -> DebriefDialog:
    await pilot.press("E")
    dialog = await wait_screen(pilot, DebriefDialog, "the debrief at the lesson's end")
    return dialog  # type: ignore[no-any-return]


def step(app: TrainingApp) -> str:
    assert app.walkthrough is not None
    return app.walkthrough.current().key


def pane_text(screen: TrainingDashboardScreen) -> str:
    return " ".join(str(w.render()) for w in screen.pane.query("Static"))


# -- each lesson, to its end ---------------------------------------------------------------------------------------


async def test_single_vm_lesson_end_to_end_with_debrief_export(make_training, clock, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = make_training("train-single-vm")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_lesson(pilot)
        assert screen.pane.display, "docked beside the dashboard on a wide terminal"
        await select(pilot, screen, "web-shop-01")
        assert step(app) == "preflight"
        assert "press F" in pane_text(screen)

        await preflight(pilot)
        assert step(app) == "point"
        await fail_back_latest(pilot)
        praise = app.walkthrough.reactions[-1]
        assert praise.kind == "praise" and "the right call" in praise.title
        failover = await job_screen_other_than(pilot)
        job = await run_job_to_end(pilot, clock, failover.job_name)
        assert job.state is JobState.SUCCEEDED
        assert step(app) == "verify"
        await back_to(pilot, screen, "web-shop-01", Stage.FAILED_OVER)

        await verify_all(pilot, screen)
        assert step(app) == "commit"
        for _ in range(4):  # the trainer skips 20 minutes: the Mobility agent registers meanwhile
            await pilot.press("5")
        await commit(pilot, "web-shop-01")
        committing = await job_screen_other_than(pilot, failover.job_name)
        assert (await run_job_to_end(pilot, clock, committing.job_name)).state is JobState.SUCCEEDED
        await back_to(pilot, screen, "web-shop-01", Stage.COMMITTED)
        assert step(app) == "reprotect"

        await reprotect(pilot)
        protecting = await job_screen_other_than(pilot, failover.job_name, committing.job_name)
        assert (await run_job_to_end(pilot, clock, protecting.job_name)).state is JobState.SUCCEEDED
        await back_to(pilot, screen, "web-shop-01", Stage.PROTECTED_TO_AZURE)
        assert step(app) == "report"

        dialog = await export_and_debrief(pilot)
        report = next(p for p in app.exports if p.name.startswith("report-"))
        assert "web-shop-01" in report.read_text() and oct(report.stat().st_mode & 0o777) == "0o600"
        debrief = dialog.debrief
        assert debrief.completed and debrief.mistakes == () and debrief.point == "Latest"
        assert debrief.steps_done == 9
        await pilot.press("x")
        await pilot.pause()
        assert dialog.exported is not None and dialog.exported.parent == tmp_path / "exports"
        text = dialog.exported.read_text()
        assert text.startswith("# Training debrief: Training: fail back one VM")
        assert "Mistakes caught: 0" in text and "Latest: about" in text
        assert f"Saved to {dialog.exported}" in str(dialog.query_one("#export-path").render())
