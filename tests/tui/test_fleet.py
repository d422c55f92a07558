"""The fleet screen on the emulated fleet: the vaults, the items tab, opening a vault over ARM and coming back."""

from __future__ import annotations

from collections import Counter
from datetime import UTC
from typing import Any

import pytest

from core.bootstrap import build_fleet
from core.clock import ManualClock
from core.config import Settings
from core.failback import derive_stage
from core.model import Stage
from tests.tui.helpers import screen_text, wait_for, wait_screen
from tui.app import FailbackApp
from tui.screens.dashboard import DashboardScreen
from tui.screens.fleet import FleetScreen


def fleet_app(clock: ManualClock | None = None) -> FailbackApp:
    clock = clock or ManualClock()
    fleet = build_fleet(Settings(demo=True, fleet="demo"), clock=clock)
    return FailbackApp(clock=clock, tz=UTC, ascii_glyphs=False, tick_seconds=0.05, items_refresh_seconds=3600.0,
                       fleet=fleet)  # fmt: skip


async def fleet_read(pilot: Any) -> FleetScreen:
    screen: FleetScreen = await wait_screen(pilot, FleetScreen)
    await wait_for(pilot, lambda: screen.read_at is not None and not screen.loading, "the fleet to be read")
    await pilot.pause()
    return screen


async def vault_open(pilot: Any, name: str) -> DashboardScreen:
    screen: DashboardScreen = await wait_screen(pilot, DashboardScreen)
    await wait_for(pilot, lambda: pilot.app.backend is not None and pilot.app.backend.vault.name == name, name)
    await wait_for(pilot, lambda: screen.loaded_at is not None and not screen.items_loading, "the vault's items")
    await pilot.pause()
    return screen


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_open_a_vault_and_come_back(size: tuple[int, int]) -> None:
    app = fleet_app()
    async with app.run_test(size=size) as pilot:
        fleet = await fleet_read(pilot)
        table = fleet.vault_table
        assert table.row_count == 14
        text = screen_text(pilot)
        assert "SIMULATION" in text and "14 vaults" in text and "Resource Graph" in text
        target = next(n for n, key in enumerate(table._order) if "rsv-avs-weu-sap" in key)
        table.move_cursor(row=target)
        summary = table.selected
        await pilot.press("enter")
        dashboard = await vault_open(pilot, "rsv-avs-weu-sap")
        over_arm = Counter(derive_stage(i) for i in dashboard.items_table.items.values())
        assert over_arm == +summary.stages  # what the fleet counted is what the vault lists over ARM
        await wait_for(pilot, lambda: "Esc: fleet" in screen_text(pilot), "the way back named")
        await pilot.press("escape")
        back = await wait_screen(pilot, FleetScreen)
        assert back is fleet and app.backend is None
        assert fleet.vault_table.selected.ref.name == "rsv-avs-weu-sap"  # the cursor is where it was
        await wait_for(pilot, lambda: "rsv-avs-weu-sap" in screen_text(pilot), "the vault's row on screen again")


async def test_the_items_tab_filters_by_stage_and_region_and_opens_the_items_vault() -> None:
    app = fleet_app()
    async with app.run_test(size=(120, 36)) as pilot:
        fleet = await fleet_read(pilot)
        await pilot.press("2")
        table = fleet.item_table
        assert table.row_count == 233
        for _ in Stage:  # s walks the stages the fleet holds, in the lifecycle's order: on to Ready
            await pilot.press("s")
            if table.stage_filter is Stage.READY:
                break
        assert table.stage_filter is Stage.READY
        assert all(table.items[i].stage is Stage.READY for i in table._order)
        regions = sorted({v.location for v in fleet.vaults.values()})
        while table.region_filter != "westeurope":
            await pilot.press("L")
            assert table.region_filter in ("", *regions)
        shown = [table.items[i] for i in table._order]
        assert shown and all(e.location == "westeurope" and e.stage is Stage.READY for e in shown)
        assert f"showing {len(shown)}" in fleet._status_text
        await pilot.press("slash")
        await pilot.press(*"sap-db")
        assert {table.items[i].item.friendly_name[:6] for i in table._order} == {"sap-db"}
        await pilot.press("enter")  # leaves the filter box
        chosen = table.selected
        await pilot.press("enter")
        dashboard = await vault_open(pilot, "rsv-avs-weu-sap")
        assert dashboard.items_table.selected.id == chosen.item.id
        await pilot.press("escape")
        await wait_screen(pilot, FleetScreen)
        assert app.screen.query_one("TabbedContent").active == "items-tab"


async def test_a_vault_keeps_its_session_across_visits() -> None:
    clock = ManualClock()
    app = fleet_app(clock)
    async with app.run_test(size=(120, 36)) as pilot:
        fleet = await fleet_read(pilot)
        name = fleet.vault_table.selected.ref.name
        await pilot.press("enter")
        first = await vault_open(pilot, name)
        session = app.session
        session.ticked["x"] = {"boots"}
        await pilot.press("escape")
        await wait_screen(pilot, FleetScreen)
        assert app.session is not session
        await pilot.press("enter")
        again = await vault_open(pilot, name)
        assert app.session is session and again is not first


def test_fleet_80x24(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Any) -> None:
        await fleet_read(pilot)

    assert snap_compare(fleet_app(), terminal_size=(80, 24), run_before=run_before)


def test_fleet_200x50(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Any) -> None:
        await fleet_read(pilot)

    assert snap_compare(fleet_app(), terminal_size=(200, 50), run_before=run_before)


def test_fleet_items_tab(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Any) -> None:
        await fleet_read(pilot)
        await pilot.press("2", "s", "L")
        await pilot.pause()

    assert snap_compare(fleet_app(), terminal_size=(120, 36), run_before=run_before)


def test_vault_opened_from_the_fleet_80x24(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Any) -> None:
        await fleet_read(pilot)
        fleet = pilot.app.screen
        await pilot.press("down")
        name = fleet.vault_table.selected.ref.name
        await pilot.press("enter")
        await vault_open(pilot, name)

    assert snap_compare(fleet_app(), terminal_size=(80, 24), run_before=run_before)
