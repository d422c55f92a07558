"""Snapshots of training mode at fixed sizes on frozen lessons: the picker, the dashboard with its walkthrough (wide
and 80x24), and the debrief.

Regenerate after an intended change with `uv run pytest tests/tui/test_training_snapshots.py --snapshot-update` and
look at the SVGs before committing them.
"""

from __future__ import annotations

from datetime import UTC
from pathlib import Path
from typing import Any

from core.clock import ManualClock
from core.training import list_training
from tests.tui.helpers import lesson_app as make_lesson_app
from tests.tui.helpers import wait_for, wait_screen
from tui.dialogs.debrief import DebriefDialog
from tui.screens.training import TrainingPickerScreen
from tui.screens.training_app import TrainingApp
from tui.screens.training_dashboard import TrainingDashboardScreen, TrainingPreflightScreen


def lesson_app(name: str, tmp_path: Path) -> TrainingApp:
    app: TrainingApp = make_lesson_app(name, ManualClock(), tmp_path)
    # Toasts leave on a real-time timer: a picture taken a moment later would differ. The walkthrough pane
    # says the same things, and it is what these pictures are about.
    app.notify = lambda *args, **kwargs: None  # type: ignore[method-assign]
    return app


async def settled(pilot: Any) -> TrainingDashboardScreen:
    app = pilot.app
    screen: TrainingDashboardScreen = await wait_for(
        pilot, lambda: isinstance(app.screen, TrainingDashboardScreen) and app.screen, "the dashboard"
    )

    def quiet() -> bool:
        item = screen.items_table.selected
        busy = [w for w in app.workers if w.is_running and w.group != "poll"]
        return (
            screen.loaded_at is not None
            and not busy
            and screen.fabrics is not None
            and (item is None or item.id in screen.points)
            and not app._polling
        )

    await wait_for(pilot, quiet, "background reads to settle")
    return screen


async def fresh_frame(pilot: Any) -> None:
    """One full redraw, so that every shot is taken the same way."""
    app = pilot.app
    width, height = app.size
    await pilot.resize_terminal(width - 1, height)
    await pilot.resize_terminal(width, height)
    await pilot.pause()


async def preflight_read(pilot: Any) -> TrainingDashboardScreen:
    screen = await settled(pilot)
    await pilot.press("F")
    await wait_screen(pilot, TrainingPreflightScreen, "preflight")
    await wait_for(pilot, lambda: pilot.app.walkthrough.status("preflight") == "done", "the preflight read")
    await pilot.press("escape")
    await wait_for(pilot, lambda: pilot.app.screen is screen, "back on the dashboard")
    return screen


def test_picker(snap_compare, clock, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = TrainingApp(lessons=list_training(), clock=clock, tz=UTC, ascii_glyphs=False, export_dir=tmp_path)

    async def run_before(pilot: Any) -> None:
        await wait_screen(pilot, TrainingPickerScreen, "picker")
        await fresh_frame(pilot)

    assert snap_compare(app, terminal_size=(110, 30), run_before=run_before)


def test_lesson_dashboard_with_walkthrough(snap_compare, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = lesson_app("train-single-vm", tmp_path)

    async def run_before(pilot: Any) -> None:
        await preflight_read(pilot)
        await fresh_frame(pilot)

    assert snap_compare(app, terminal_size=(130, 40), run_before=run_before)


def test_lesson_dashboard_80x24_walkthrough_shown(snap_compare, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = lesson_app("train-single-vm", tmp_path)

    async def run_before(pilot: Any) -> None:
        await settled(pilot)
        await pilot.press("w")
        await fresh_frame(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_debrief(snap_compare, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = lesson_app("train-preflight", tmp_path)

    async def run_before(pilot: Any) -> None:
        await preflight_read(pilot)
        await pilot.press("E")
        await wait_screen(pilot, DebriefDialog, "debrief")
        await fresh_frame(pilot)

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)
