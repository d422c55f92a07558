"""The vault at a glance: rows arrive, filter by text and by stage, sort, and the detail follows the cursor."""

from __future__ import annotations

from core.failback import derive_stage
from core.model import Stage
from tests.tui.helpers import screen_text, wait_for
from tui.screens.dashboard import DashboardScreen
from tui.text import age
from tui.widgets.items_table import ItemsTable


async def loaded(pilot) -> ItemsTable:  # type: ignore[no-untyped-def]
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, DashboardScreen), "the dashboard")
    screen = pilot.app.screen
    await wait_for(pilot, lambda: not screen.items_loading and screen.loaded_at is not None, "items loaded")
    return screen.items_table


async def test_items_load_and_show_stage_as_word_and_glyph(app) -> None:  # type: ignore[no-untyped-def]
    async with app.run_test(size=(120, 36)) as pilot:
        table = await loaded(pilot)
        assert table.row_count == len(table.items) >= 30
        await pilot.pause()
        text = await wait_for(pilot, lambda: "● Ready" in screen_text(pilot) and screen_text(pilot), "rows drawn")
        assert "SIMULATION" in text
        assert "● Ready" in text
        assert "items" in text and "data read" in text


async def test_filter_by_typing_then_clear(app) -> None:  # type: ignore[no-untyped-def]
    async with app.run_test(size=(120, 36)) as pilot:
        table = await loaded(pilot)
        total = table.row_count
        await pilot.press("slash", "s", "q", "l")
        await pilot.pause()
        names = [table.items[str(k.value)].friendly_name for k in table.rows]
        assert names and all("sql" in n.lower() for n in names)
        assert table.row_count < total
        await pilot.press("enter")
        assert table.has_focus
        await pilot.press("escape")
        await pilot.pause()
        assert table.row_count == total


async def test_stage_filter_cycles_through_stages(app) -> None:  # type: ignore[no-untyped-def]
    async with app.run_test(size=(120, 36)) as pilot:
        table = await loaded(pilot)
        await pilot.press("s")
        await pilot.pause()
        assert table.stage_filter is Stage.READY
        shown = [table.items[str(k.value)] for k in table.rows]
        assert shown and all(derive_stage(i) is Stage.READY for i in shown)
        await pilot.press("s")
        await pilot.pause()
        assert table.stage_filter is Stage.FAILOVER_RUNNING
        assert all(derive_stage(table.items[str(k.value)]) is Stage.FAILOVER_RUNNING for k in table.rows)


async def test_sort_by_name_keeps_cursor_on_the_same_item(app) -> None:  # type: ignore[no-untyped-def]
    async with app.run_test(size=(120, 36)) as pilot:
        table = await loaded(pilot)
        await pilot.press("down", "down", "down")
        before = table.selected
        await pilot.press("o")
        await pilot.pause()
        names = [table.items[str(k.value)].friendly_name.lower() for k in (r.key for r in table.ordered_rows)]
        assert names == sorted(names)
        assert table.selected == before


async def test_refresh_updates_in_place_without_moving_the_cursor(app, clock) -> None:  # type: ignore[no-untyped-def]
    async with app.run_test(size=(120, 36)) as pilot:
        table = await loaded(pilot)
        screen = pilot.app.screen
        await pilot.press("down", "down", "down", "down")
        before = table.selected
        row = table.cursor_row
        first_read = screen.loaded_at
        clock.advance(300)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: screen.loaded_at is not None and screen.loaded_at > first_read, "a second read")
        assert table.selected == table.items[before.id]
        assert table.cursor_row == row
        # the age shown is measured against backend time, from the point ASR holds now
        fresh = table.items[before.id]
        assert str(table.get_cell(before.id, "point")) == age(fresh.last_recovery_point_time, clock.now())


def test_the_modernized_failback_leg_runs_in_azure_until_failed_back(demo_backend) -> None:  # type: ignore[no-untyped-def]
    """InMageRcmFailback has no activeSiteType (SDK): its primary side is Azure, as on the classic failback leg."""
    from tui.widgets.items_table import location_text

    item = next(i for i in demo_backend.list_items() if i.instance_type == "InMageRcmFailback")
    assert item.active_location == "Primary" and not item.active_site_type
    assert location_text(item) == "Azure"
