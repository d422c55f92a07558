"""Preflight in the dashboard: the screen for an item and the vault, and the check that runs before a failover."""

from __future__ import annotations

from typing import Any

from core.preflight import Level, check_item
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
        # The whole vault: its summary first; every plan is in it, and the members of replication groups that a
        # plan holds are their own state (not FAILs), named once.
        names = {r.target_name for r in screen.vault_reports}
        assert {"ERP (SAP ECC front and back end)", "Intranet", "Billing"} <= names
        summary = " ".join(str(screen.query_one("#preflight-summary").render()).split())
        assert summary.startswith("The whole vault:") and "fail back with their plan" in summary
        assert screen.query_one("#preflight-summary").region.y < screen.query_one("#preflight-target").region.y
        vault = " ".join(str(screen.query_one("#preflight-vault").render()).split())
        assert "→ PLAN Fail back with their recovery plan" in vault and "erp-app-02" in vault
        members = [r for r in screen.vault_reports if r.target_name in ("sql-01", "erp-app-01", "erp-app-02")]
        assert len(members) == 3 and all(r.ok and r.via_plan for r in members)
        assert "VM sql-01" not in vault, "folded into the one line, not seven FAILs"
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


async def test_a_ready_vm_the_preflight_would_stop_says_so_on_its_row_and_in_its_detail(app: Any) -> None:
    async with app.run_test(size=(150, 40)) as pilot:
        dashboard = await open_dashboard(pilot)
        await wait_for(pilot, lambda: dashboard.fabrics is not None, "the fabrics")
        table = dashboard.items_table
        jump = next(i for i in table.items.values() if i.friendly_name == "jump-01")
        await wait_for(pilot, lambda: "Ready, blocked" in table.get_cell(jump.id, "stage"), "the row's words")
        await select(pilot, dashboard, "jump-01")
        await pilot.pause()
        detail = " ".join(str(dashboard.query_one("#detail-body").render()).split())
        assert "Ready — blocked by preflight" in detail and "Replication health: Critical" in detail
        assert "Next: Fail back" not in detail and "F shows every check" in detail
        # A ready VM that nothing stops keeps its plain word.
        dc = next(i for i in table.items.values() if i.friendly_name == "dc-01")
        assert table.get_cell(dc.id, "stage").endswith("Ready")


async def test_going_on_despite_a_fail_takes_a_typed_reason_and_is_journaled(
    make_app: Any, clock: Any, tmp_path: Any
) -> None:
    from core.journal import Journal
    from tui.dialogs.confirm_failover import ConfirmFailoverDialog
    from tui.screens.job import JobScreen

    journal = Journal(tmp_path / "journal.jsonl", clock=clock)
    app = make_app(journal=journal)
    async with app.run_test(size=(120, 36)) as pilot:
        dashboard = await open_dashboard(pilot)
        await select(pilot, dashboard, "jump-01")
        await pilot.press("f")
        gate = await wait_screen(pilot, PreflightGate, "the preflight gate")
        await wait_for(pilot, lambda: gate.report is not None, "the report")
        await pilot.pause()
        assert not gate.report.ok and gate.query_one("#override").display
        assert not gate.query_one("#continue").display
        gate.query_one("#override").focus()
        await pilot.press("enter")
        await pilot.pause()
        reason = gate.query_one("#skip-reason")
        assert reason.has_focus and gate.query_one("#skip").disabled
        await pilot.press(*"urgent")
        await pilot.pause()
        assert gate.query_one("#skip").disabled, "a word is not a reason"
        await pilot.press(*" - CAB-4711 approved, RPO breach known")
        await pilot.pause()
        assert not gate.query_one("#skip").disabled
        gate.query_one("#skip").focus()
        await pilot.press("enter")
        point = await wait_screen(pilot, PointDialog, "the point dialog")
        point.query_one("#continue").focus()
        await pilot.press("enter")
        await wait_screen(pilot, ConfirmFailoverDialog, "the confirmation")
        await pilot.press("tab", "enter")
        await wait_screen(pilot, JobScreen, "the failover job")
        intent = next(r for r in journal.entries() if r["kind"] == "intent" and r["operation"] == "failover")
        details = intent["details"]
        assert details["preflight"] == "skipped"
        assert details["preflight_reason"] == "urgent - CAB-4711 approved, RPO breach known"
        assert any(f.startswith("Replication health") for f in details["preflight_failures"])


async def test_read_only_offers_no_way_past_a_fail(make_app: Any) -> None:
    app = make_app("train-preflight", read_only=True)
    async with app.run_test(size=(120, 36)) as pilot:
        dashboard = await open_dashboard(pilot)
        await select(pilot, dashboard, "fin-app-01")
        gate = PreflightGate("fin-app-01", lambda: check_item(app.backend, dashboard.items_table.selected))
        app.push_screen(gate)
        await wait_for(pilot, lambda: gate.report is not None, "the report")
        await pilot.pause()
        assert not gate.report.ok and not gate.query_one("#override").display
