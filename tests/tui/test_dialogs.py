"""Dialogs: Tab stops only where a control is, arrows move between buttons, the highlighted option is the chosen one,
the buttons stay in view at 80x24, and notifications do not cover them."""

from __future__ import annotations

from typing import Any

from textual.widgets import Button, Checkbox, DataTable, Input, RadioSet

from core.model import PointChoice
from tests.tui.helpers import wait_for, wait_screen
from tests.tui.test_flow import open_dashboard, select
from tui.dialogs.base import Dialog
from tui.dialogs.confirm import ConfirmDialog
from tui.dialogs.point import PointDialog
from tui.screens.preflight import PreflightGate

CONTROLS = (Button, Input, Checkbox, RadioSet, DataTable)


def assert_only_controls_take_focus(dialog: Dialog[Any]) -> None:
    chain = dialog.focus_chain
    assert chain, "a dialog has at least one control"
    for widget in chain:
        assert isinstance(widget, CONTROLS), f"{widget!r} is a focus stop that shows nothing"
        assert widget.display and widget.visible, f"{widget!r} is a focus stop that is not shown"


def assert_buttons_in_view(dialog: Dialog[Any]) -> None:
    height = dialog.app.size.height
    for button in dialog.query(Button):
        if button.display:
            region = button.region
            assert region.height and 0 <= region.y and region.bottom <= height, f"{button.label} is off view: {region}"


async def test_point_dialog_arrows_choose_and_tab_stops_only_on_controls(app: Any) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        dashboard = await open_dashboard(pilot)
        await select(pilot, dashboard, "dc-01")
        await pilot.press("f")
        dialog = await wait_screen(pilot, PointDialog, "point dialog")
        assert_only_controls_take_focus(dialog)
        assert_buttons_in_view(dialog)
        # Down highlights the second option, and that is the one chosen and explained.
        await pilot.press("down")
        await pilot.pause()
        assert dialog.chosen is not None and dialog.chosen.choice is PointChoice.LATEST_APP_CONSISTENT
        pressed = dialog.query_one("#choices", RadioSet).pressed_button
        assert pressed is not None and pressed.id == f"choice-{PointChoice.LATEST_APP_CONSISTENT.value}"
        shown = str(dialog.query_one("#tradeoff").render())
        assert shown.startswith("Latest app-consistent"), shown
        assert_only_controls_take_focus(dialog)  # the acknowledgement box is shown now, and is a stop
        await pilot.press("up")
        await pilot.pause()
        assert dialog.chosen.choice is PointChoice.LATEST
        assert str(dialog.query_one("#tradeoff").render()).startswith("Latest —")
        # Tab goes through the controls and nothing else, then round again.
        seen = []
        for _ in range(len(dialog.focus_chain)):
            await pilot.press("tab")
            seen.append(dialog.focused)
        assert set(seen) == set(dialog.focus_chain)


async def test_arrows_move_between_the_buttons(app: Any) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await open_dashboard(pilot)
        app.push_screen(ConfirmDialog("A question", "Some text", "Go"))
        dialog = await wait_screen(pilot, ConfirmDialog, "confirm dialog")
        assert dialog.focused is dialog.query_one("#back")
        await pilot.press("right")
        assert dialog.focused is dialog.query_one("#confirm")
        await pilot.press("right")  # the last button stays focused
        assert dialog.focused is dialog.query_one("#confirm")
        await pilot.press("left")
        assert dialog.focused is dialog.query_one("#back")


async def test_a_long_preflight_keeps_its_buttons_in_view_and_scrolls_as_one(make_app: Any) -> None:
    app = make_app("train-preflight")
    async with app.run_test(size=(80, 24)) as pilot:
        dashboard = await open_dashboard(pilot)
        await select(pilot, dashboard, "fin-app-01")
        await pilot.press("f")
        gate = await wait_screen(pilot, PreflightGate, "the preflight gate")
        await wait_for(pilot, lambda: gate.report is not None, "the report")
        await pilot.pause()
        box = gate.query_one(".dialog")
        assert box.max_scroll_y > 0, "the report is longer than 24 lines: the test needs it so"
        assert_buttons_in_view(gate)
        assert_only_controls_take_focus(gate)
        await pilot.press("pagedown")
        await pilot.pause()
        assert box.scroll_y > 0
        assert_buttons_in_view(gate)


async def test_notifications_over_a_dialog_leave_its_buttons_uncovered(app: Any) -> None:
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        dashboard = await open_dashboard(pilot)
        await select(pilot, dashboard, "dc-01")
        await pilot.press("f")
        dialog = await wait_screen(pilot, PointDialog, "point dialog")
        app.notify("Something happened elsewhere, worth a few words of explanation.", timeout=15)
        toasts = await wait_for(pilot, lambda: list(app.screen.query("Toast")), "the notification")
        buttons = [b.region for b in dialog.query(Button)]
        for toast in toasts:
            assert all(not toast.region.overlaps(b) for b in buttons), (toast.region, buttons)
