"""Preflight in the dashboard: the screen for an item and the vault, and the check that runs before a failover."""

from __future__ import annotations

from typing import Any

from core.preflight import Level
from tests.tui.helpers import screen_text, wait_for, wait_screen
from tests.tui.test_flow import open_dashboard, select
from tui.dialogs.point import PointDialog
from tui.screens.dashboard import DashboardScreen
from tui.screens.preflight import PreflightGate, PreflightScreen


async def test_an_item_without_a_recovery_point_fails_its_preflight_with_the_remedy(app: Any) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        dashboard = await open_dashboard(pilot)
        await select(pilot, dashboard, "bi-01")
        await pilot.press("F")
        screen = await wait_screen(pilot, PreflightScreen, "preflight screen")
        await wait_for(
            pilot, lambda: screen.target_report is not None and screen.vault_reports is not None, "both checks"
        )
        report = screen.target_report
        assert report.target_name == "bi-01" and not report.ok
        points = report.check("recovery-points")
        assert points.level is Level.FAIL and points.remedy
        await pilot.pause()
        text = screen_text(pilot)
        assert "SIMULATION" in text
        assert "✗ FAIL" in text and "bi-01: not ready" in text
        target = str(screen.query_one("#preflight-target").render())
        assert f"What to do → {points.remedy}" in target
        # The whole vault: every plan is in it, and the ERP group member's refusal names its plan.
        names = {r.target_name for r in screen.vault_reports}
        assert {"ERP (SAP ECC front and back end)", "Intranet", "Billing"} <= names
        vault = str(screen.query_one("#preflight-vault").render())
        assert "The whole vault" in vault and "Fail back its recovery plan instead" in vault
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen), "back on the dashboard")


async def test_a_blocking_preflight_stops_the_item_failover_before_the_point_dialog(make_app: Any) -> None:
    app = make_app("train-preflight")
    async with app.run_test(size=(120, 36)) as pilot:
        dashboard = await open_dashboard(pilot)
        await select(pilot, dashboard, "fin-app-01")
        await pilot.press("f")
        gate = await wait_screen(pilot, PreflightGate, "the preflight gate")
        await wait_for(pilot, lambda: gate.report is not None, "the report")
        assert not gate.report.ok
        assert [c.key for c in gate.report.failures] == ["process-server"]
        await pilot.pause()
        shown = str(gate.query_one("#gate-report").render())
        assert "ps-azure-weu-02" in shown and "What to do" in shown and "Blocked" in shown
        assert not gate.query_one("#continue").display, "a FAIL offers no way forward"
        await pilot.press("enter")  # focus is on Back
        await wait_for(pilot, lambda: app.screen is dashboard, "back on the dashboard")
        assert not any(isinstance(s, PointDialog) for s in app.screen_stack)


async def test_an_item_with_warnings_only_goes_on_to_the_point_dialog(make_app: Any) -> None:
    app = make_app("train-preflight")
    async with app.run_test(size=(120, 36)) as pilot:
        dashboard = await open_dashboard(pilot)
        await select(pilot, dashboard, "fin-web-01")
        await pilot.press("f")
        await wait_screen(pilot, PointDialog, "the point dialog")
