"""Rows before the backend: the early first page is shown read-only, then replaced in place by the vault's own read."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC
from typing import Any

import pytest

import core.bootstrap
import core.first_page as first_page
from core.clock import ManualClock
from core.config import Settings
from core.errors import UsageError
from core.first_page import FirstPageReader
from tests.tui.helpers import screen_text, wait_for, wait_screen
from tui.app import FailbackApp
from tui.dialogs.error import ErrorDialog
from tui.screens.dashboard import DashboardScreen
from tui.screens.jobs import JobsScreen
from tui.screens.plans import PlansScreen

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


def demo_app(reader: FirstPageReader) -> FailbackApp:
    """The console script's app on the demo vault, handed the early reader (its backend built by the app)."""
    return FailbackApp(DEMO, tz=UTC, ascii_glyphs=False, items_refresh_seconds=3600.0, first_page=reader)


async def test_early_rows_come_before_the_backend_and_stay_put_when_it_opens(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reader = FirstPageReader.start(DEMO)
    assert reader is not None
    opened = gate(monkeypatch)
    app = demo_app(reader)
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
            assert "Opening the vault: the detail follows" in text
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
    app = demo_app(reader)
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen), "the dashboard")
            screen: DashboardScreen = app.screen  # type: ignore[assignment]
            await wait_for(pilot, lambda: reader.done, "the failed child")
            assert screen.items_table.row_count == 0
            opened.set()
            await wait_for(pilot, lambda: screen.loaded_at is not None, "own read")
            assert screen.items_table.row_count >= 30
    finally:
        opened.set()
        reader.close()


async def test_a_vault_that_fails_to_open_is_not_covered_by_early_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    real_read = first_page._read_first_page

    def late(settings: Any) -> Any:
        time.sleep(1.0)  # the dashboard's own attempt fails before this page is ready
        return real_read(settings)

    monkeypatch.setattr(first_page, "_read_first_page", late)
    reader = FirstPageReader.start(DEMO)
    assert reader is not None

    def refuse(settings: Any, *, clock: Any = None, emulator: Any = None) -> Any:
        raise UsageError("No vault given.", hint="test")

    monkeypatch.setattr(core.bootstrap, "build_backend", refuse)
    app = demo_app(reader)
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, ErrorDialog), "the error")
            await wait_for(pilot, lambda: reader.done, "the early read given up")
            await pilot.press("escape")
            screen = await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen) and app.screen, "dashboard")
            await pilot.pause(0.3)
            assert screen.items_table.row_count == 0
            assert not screen.items_loading
            assert "Could not open the vault" in screen_text(pilot)
    finally:
        reader.close()


async def test_screens_opened_before_the_vault_read_it_once_it_opens(monkeypatch: pytest.MonkeyPatch) -> None:
    reader = FirstPageReader.start(DEMO)
    assert reader is not None
    opened = gate(monkeypatch)
    app = demo_app(reader)
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen), "the dashboard")
            await wait_for(pilot, lambda: app.screen.items_table.row_count > 0, "the early rows", timeout=30)
            await pilot.press("p")
            plans = await wait_screen(pilot, PlansScreen, "the plans screen")
            text = screen_text(pilot)
            assert "Opening the vault…" in text and "No recovery plan" not in text
            opened.set()
            await wait_for(pilot, lambda: plans.views and not plans.loading, "the plans read once the vault opened")
            assert "rp-erp" in plans.views
            await pilot.press("escape", "J")
            jobs = await wait_screen(pilot, JobsScreen, "the jobs screen")
            await wait_for(pilot, lambda: not jobs.history_loading and "Opening" not in screen_text(pilot), "jobs")
    finally:
        opened.set()
        reader.close()
