"""Snapshots of the plans screen and its dialogs, and of the preflight screen, on the frozen demo vault.

Regenerate after an intended change with `uv run pytest tests/tui/test_plans_snapshots.py --snapshot-update` and look
at the SVGs before committing them.
"""

from __future__ import annotations

from typing import Any

from tests.tui.helpers import wait_for, wait_screen
from tests.tui.test_flow import select
from tests.tui.test_plans import open_plans
from tests.tui.test_snapshots import settled
from tui.dialogs.plan_commit import PlanCommitDialog
from tui.dialogs.plan_point import PlanPointDialog
from tui.screens.plans import PlansScreen
from tui.screens.preflight import PreflightGate, PreflightScreen

SIZE = (120, 36)


async def plans_settled(pilot: Any, plan: str) -> PlansScreen:
    await settled(pilot)
    screen = await open_plans(pilot, plan)
    await wait_for(pilot, lambda: not [w for w in screen.workers if w.is_running], "plan reads")
    await pilot.pause()
    return screen


def test_plans_screen(snap_compare, app) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Any) -> None:
        await plans_settled(pilot, "rp-intranet")

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_plan_preflight_gate(snap_compare, app) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Any) -> None:
        await plans_settled(pilot, "rp-erp")
        await pilot.press("f")
        gate = await wait_screen(pilot, PreflightGate)
        await wait_for(pilot, lambda: gate.report is not None, "the report")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_plan_point_dialog_app_consistent(snap_compare, app) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Any) -> None:
        await plans_settled(pilot, "rp-erp")
        await pilot.press("f")
        gate = await wait_screen(pilot, PreflightGate)
        await wait_for(pilot, lambda: gate.report is not None, "the report")
        await pilot.pause()
        await pilot.press("enter")  # Continue has the focus once the report allows it
        await wait_screen(pilot, PlanPointDialog)
        await pilot.press("down", "enter")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_plan_commit_dialog(snap_compare, make_app, clock) -> None:  # type: ignore[no-untyped-def]
    from core.plans import plan_view

    app = make_app()

    async def run_before(pilot: Any) -> None:
        screen = await plans_settled(pilot, "rp-erp")
        pilot.app.push_screen(PlanCommitDialog(plan_view(screen.selected.plan, screen.items)))
        await wait_screen(pilot, PlanCommitDialog)
        await pilot.press(*"rp-e")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_preflight_screen(snap_compare, app) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Any) -> None:
        await settled(pilot)
        await select(pilot, pilot.app.screen, "bi-01")
        await pilot.press("F")
        screen = await wait_screen(pilot, PreflightScreen)
        await wait_for(pilot, lambda: screen.target_report is not None and screen.vault_reports is not None, "checks")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_plans_screen_80x24(snap_compare, app) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Any) -> None:
        await plans_settled(pilot, "rp-erp")

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
