"""Rows before the backend: the early first page is shown read-only, then replaced in place by the vault's own read."""

from __future__ import annotations

import os
import threading
from datetime import UTC
from typing import Any

import pytest

import core.bootstrap
from core.clock import ManualClock
from core.config import Settings
from core.first_page import FirstPageReader
from tests.tui.helpers import screen_text, wait_for
from tui.app import FailbackApp
from tui.dialogs.error import ErrorDialog
from tui.screens.dashboard import DashboardScreen

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the early read needs os.fork (not on Windows)")

DEMO = Settings(demo=True, scenario="demo", speed=30.0)


def gate(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Holds the dashboard's own backend back until the test opens it. Call it after forking the reader: the child
    must read with the real builder."""
    opened = threading.Event()
    real = core.bootstrap.build_backend

    def gated(settings: Any, *, clock: Any = None, emulator: Any = None) -> Any:
        assert opened.wait(30), "the test never opened the gate"
        return real(settings, clock=ManualClock(), emulator=emulator)

    monkeypatch.setattr(core.bootstrap, "build_backend", gated)
    return opened


async def test_early_rows_come_before_the_backend_and_stay_put_when_it_opens(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reader = FirstPageReader.start(DEMO)
    assert reader is not None
    opened = gate(monkeypatch)
    app = FailbackApp(DEMO, tz=UTC, ascii_glyphs=False, items_refresh_seconds=3600.0, first_page=reader)
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen), "the dashboard")
            screen: DashboardScreen = app.screen  # type: ignore[assignment]
            table = screen.items_table
            await wait_for(pilot, lambda: table.row_count > 0, "the early rows", timeout=30)
            assert app.backend is None
            text = await wait_for(pilot, lambda: "sql-01" in screen_text(pilot) and screen_text(pilot), "rows drawn")
            assert "Loading items…" in text
            assert "Vault " in text and "resource group" in text
            early = len(table.items)

            # Nothing mutating is possible on rows the dashboard has not read itself; moving around is.
            assert screen.check_action("fail_back", ()) is None
            await pilot.press("f")
            await pilot.press("down", "down")
            await pilot.pause()
            assert app.screen is screen
            chosen = table.selected
            assert chosen is not None

            opened.set()
            await wait_for(pilot, lambda: screen.loaded_at is not None and not screen.items_loading, "own read")
            assert app.backend is not None
            assert len(table.items) == early
            assert table.selected is not None and table.selected.id == chosen.id  # the cursor stayed put
            await wait_for(pilot, lambda: chosen.id in screen.points, "the chosen item's points")
            assert not any(isinstance(s, ErrorDialog) for s in app.screen_stack)
            assert "data read" in screen_text(pilot)
    finally:
        opened.set()
        reader.close()


async def test_without_an_early_page_the_dashboard_reads_the_vault_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    reader = FirstPageReader.start(Settings(demo=True, scenario="no-such-scenario"))  # the child fails at once
    assert reader is not None
    opened = gate(monkeypatch)
    app = FailbackApp(DEMO, tz=UTC, ascii_glyphs=False, items_refresh_seconds=3600.0, first_page=reader)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen), "the dashboard")
        screen: DashboardScreen = app.screen  # type: ignore[assignment]
        await wait_for(pilot, lambda: reader.done, "the failed child")
        assert screen.items_table.row_count == 0
        opened.set()
        await wait_for(pilot, lambda: screen.loaded_at is not None, "own read")
        assert screen.items_table.row_count >= 30
