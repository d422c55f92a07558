"""Pictures of a lesson at 80x24: F1 with the lesson's keys first, and the plans screen with its lesson line.

Regenerate after an intended change with `uv run pytest tests/training --snapshot-update`, and look at the SVGs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.tui.helpers import wait_for, wait_screen
from tests.tui.test_training_snapshots import fresh_frame, lesson_app, settled
from tui.screens.help import HelpScreen
from tui.screens.training_plans import TrainingPlansScreen

SMALL = (80, 24)


def test_help_during_a_lesson_80x24(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = lesson_app("train-single-vm", tmp_path)

    async def run_before(pilot: Any) -> None:
        await settled(pilot)
        await pilot.press("f1")
        await wait_screen(pilot, HelpScreen, "help")
        await fresh_frame(pilot)

    assert snap_compare(app, terminal_size=SMALL, run_before=run_before)


def test_plans_screen_during_a_plan_lesson_80x24(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = lesson_app("train-consistency-group", tmp_path)

    async def run_before(pilot: Any) -> None:
        await settled(pilot)
        await pilot.press("p")
        plans = await wait_screen(pilot, TrainingPlansScreen, "the plans screen")
        await wait_for(pilot, lambda: plans.selected is not None and not plans.loading, "the lesson's plan")
        await fresh_frame(pilot)

    assert snap_compare(app, terminal_size=SMALL, run_before=run_before)
