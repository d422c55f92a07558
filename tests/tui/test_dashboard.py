"""The vault at a glance: rows arrive, filter by text and by stage, sort, and the detail follows the cursor."""

from __future__ import annotations

from typing import Any

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


async def cycle_stages(pilot: Any, table: ItemsTable) -> list[Stage]:
    """Press s until the filter is off again; the stages shown on the way (each with rows)."""
    seen = []
    for _ in range(len(Stage) + 1):
        await pilot.press("s")
        await pilot.pause()
        if table.stage_filter is None:
            break
        seen.append(table.stage_filter)
        assert table.row_count > 0, table.stage_filter
    return seen


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
        # the journey's order: a modernized VM in Azure comes before the reprotect that makes it ready
        assert table.stage_filter is Stage.IN_AZURE
        await pilot.press("s")
        await pilot.pause()
        assert table.stage_filter is Stage.READY
        shown = [table.items[str(k.value)] for k in table.rows]
        assert shown and all(derive_stage(i) is Stage.READY for i in shown)
        await pilot.press("s")
        await pilot.pause()
        assert table.stage_filter is Stage.FAILOVER_RUNNING
        assert all(derive_stage(table.items[str(k.value)]) is Stage.FAILOVER_RUNNING for k in table.rows)
        # Round the whole cycle: every stage shown has rows, and the cycle ends on every item again.
        seen = await cycle_stages(pilot, table)
        assert table.stage_filter is None and table.row_count == len(table.items)
        present = {derive_stage(i) for i in table.items.values()}
        assert set(seen) | {Stage.IN_AZURE, Stage.READY, Stage.FAILOVER_RUNNING} == present


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


def _pane_newest(screen: Any) -> str:
    body = str(screen.query_one("#detail-body").render())
    line = next(ln for ln in body.splitlines() if ln.strip().startswith("Newest"))
    return line.split(", ", 1)[1].split(" ago", 1)[0]


async def test_the_pane_and_the_row_give_one_age_for_the_newest_point(app, clock) -> None:  # type: ignore[no-untyped-def]
    async with app.run_test(size=(120, 36)) as pilot:
        table = await loaded(pilot)
        screen = pilot.app.screen
        item = next(i for i in table.items.values() if i.friendly_name == "dc-01")
        table.move_cursor(row=table.get_row_index(item.id))
        await wait_for(pilot, lambda: item.id in screen.points, "the focused item's points")
        await pilot.pause()
        assert _pane_newest(screen) == table.get_cell(item.id, "point")
        points_before = screen.points[item.id]

        # Time passes and ASR takes newer points: one read later, the pane's list is read again too.
        clock.advance(1800)
        first_read = screen.loaded_at
        screen.reload_items()  # the periodic read, not only ctrl+r
        await wait_for(pilot, lambda: screen.loaded_at > first_read, "the second read")
        await wait_for(pilot, lambda: screen.points.get(item.id) not in (None, points_before), "fresh points")
        await pilot.pause()
        fresh = table.items[item.id]
        assert fresh.last_recovery_point_time > item.last_recovery_point_time
        assert (
            _pane_newest(screen) == table.get_cell(item.id, "point") == age(fresh.last_recovery_point_time, clock.now())
        )


async def test_clearing_a_filter_keeps_the_cursor_on_a_row_in_view(app) -> None:  # type: ignore[no-untyped-def]
    async with app.run_test(size=(80, 24)) as pilot:
        table = await loaded(pilot)
        # The last VM in the list, filtered down to it, then the filter cleared: its row is far below the fold.
        last = table.items[list(table.rows)[-1].value]
        await pilot.press("slash", *last.friendly_name, "enter")
        await wait_for(pilot, lambda: table.row_count == 1, "the filter")
        await pilot.press("escape")
        await wait_for(pilot, lambda: table.row_count == len(table.items), "every row back")
        await pilot.pause()
        await pilot.pause()
        top = int(table.scroll_offset.y)
        shown = table.scrollable_content_region.height - 1  # the header line
        assert table.selected is not None and table.selected.id == last.id
        assert top <= table.cursor_row < top + shown, (top, table.cursor_row, shown)
        # What the next key acts on is the row on screen.
        rows = [ln.split() for ln in screen_text(pilot).splitlines()]
        assert any(r[:1] == [last.friendly_name] and len(r) > 3 for r in rows), "its row is on screen"


async def test_the_stage_filter_skips_stages_no_item_is_in(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app("train-single-vm")
    async with app.run_test(size=(120, 36)) as pilot:
        table = await loaded(pilot)
        present = {derive_stage(i) for i in table.items.values()}
        assert len(present) < len(Stage), "the lesson's vault leaves some stages empty"
        assert await cycle_stages(pilot, table) == [s for s in Stage if s in present]
