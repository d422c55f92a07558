"""Snapshots of the main screens and dialogs at a fixed size on the frozen demo vault.

Regenerate after an intended change with `uv run pytest tests/tui/test_snapshots.py --snapshot-update` and look at
the SVGs before committing them.
"""

from __future__ import annotations

from typing import Any

from tests.tui.helpers import wait_for, wait_screen
from tests.tui.test_flow import open_dashboard, select
from tui.dialogs.commit import CommitDialog
from tui.dialogs.point import PointDialog
from tui.dialogs.reprotect import ReprotectDialog
from tui.screens.help import HelpScreen

SIZE = (120, 36)


async def settled(pilot: Any) -> None:
    """Every background read done: items, the focused item's points, fabrics, and a first read of each job."""
    app = pilot.app
    screen = await open_dashboard(pilot)

    def quiet() -> bool:
        item = screen.items_table.selected
        busy = [w for w in app.workers if w.is_running and w.group != "poll"]
        tracked = app.tracker.tracked if app.tracker else []
        return (
            not busy
            and screen.fabrics is not None
            and (item is None or item.id in screen.points)
            and bool(app.session.jobs)
            and all(name in app.session.jobs for name in tracked)
            and not app._polling
        )

    await wait_for(pilot, quiet, "background reads to settle")
    # DataTable keeps header lines rendered before the columns widened: same picture, different SVG runs.
    # Redraw everything once so that every shot is taken from a fresh render.
    width, height = app.size
    await pilot.resize_terminal(width - 1, height)
    await pilot.resize_terminal(width, height)
    await pilot.pause()


async def _dashboard(pilot: Any) -> Any:
    await settled(pilot)
    return pilot.app.screen


def test_dashboard(snap_compare, app) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Any) -> None:
        await _dashboard(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_dashboard_80x24(snap_compare, app) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Any) -> None:
        await _dashboard(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_point_dialog_app_consistent_acknowledged(snap_compare, app) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Any) -> None:
        screen = await _dashboard(pilot)
        await select(pilot, screen, "dc-01")
        await settled(pilot)
        await pilot.press("f")
        await wait_screen(pilot, PointDialog)
        await pilot.press("down", "enter", "tab", "space")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_commit_dialog(snap_compare, app) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Any) -> None:
        screen = await _dashboard(pilot)
        await select(pilot, screen, "hr-app-01")
        await settled(pilot)
        await pilot.press("c")
        await wait_screen(pilot, CommitDialog)
        await pilot.press("h", "r")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_reprotect_dialog(snap_compare, app) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Any) -> None:
        screen = await _dashboard(pilot)
        await select(pilot, screen, "wiki-01")
        await settled(pilot)
        await pilot.press("r")
        await wait_screen(pilot, ReprotectDialog)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_reprotect_to_avs_dialog_of_a_modernized_vm(snap_compare, make_app) -> None:  # type: ignore[no-untyped-def]
    from tui.dialogs.appliance_reprotect import ApplianceReprotectDialog

    async def run_before(pilot: Any) -> None:
        screen = await _dashboard(pilot)
        await select(pilot, screen, "crm-queue-01")
        await settled(pilot)
        await pilot.press("r")
        await wait_screen(pilot, ApplianceReprotectDialog)

    assert snap_compare(make_app("modernized"), terminal_size=SIZE, run_before=run_before)


def test_help(snap_compare, app) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Any) -> None:
        await _dashboard(pilot)
        await pilot.press("f1")
        await wait_screen(pilot, HelpScreen)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
