"""A rehearsal in the dashboard at 80×24: REHEARSAL on every screen, the failover's request shown instead of sent,
and the job screen following the simulated job to its end, with not one POST reaching the vault."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
from typing import Any

from core.bootstrap import build_backend
from core.config import Settings
from core.emulator import ArmEmulator, load_scenario
from core.journal import Journal
from core.model import JobState
from tests.tui.helpers import screen_text, wait_screen
from tests.tui.test_flow import open_dashboard, run_job_to_end, select
from tui.app import FailbackApp
from tui.dialogs.confirm_failover import ConfirmFailoverDialog
from tui.dialogs.point import PointDialog
from tui.screens.job import JobScreen

NAME = "intranet-web-01"


async def test_a_rehearsed_failover_shows_its_request_and_runs_a_simulated_job(clock: Any, tmp_path: Any) -> None:
    from core.bootstrap import EMULATOR_BASE_URL

    emulator = ArmEmulator(load_scenario("demo"), clock, base_url=EMULATOR_BASE_URL)
    methods: list[str] = []
    answer = emulator.handle

    def spy(method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> Any:
        methods.append(method)
        return answer(method, url, headers, body)

    emulator.handle = spy  # type: ignore[method-assign]
    backend = build_backend(Settings(demo=True, rehearse=True), clock=clock, emulator=emulator)
    journal = Journal(tmp_path / "journal.jsonl", clock=clock)
    app = FailbackApp(
        backend=backend, clock=clock, tz=UTC, tick_seconds=0.05, items_refresh_seconds=3600, journal=journal
    )
    async with app.run_test(size=(80, 24)) as pilot:
        dashboard = await open_dashboard(pilot)
        assert "REHEARSAL" in screen_text(pilot).splitlines()[0]
        await select(pilot, dashboard, NAME)
        await pilot.press("f")
        await wait_screen(pilot, PointDialog, "point dialog")
        await pilot.press("tab", "tab", "enter")
        await wait_screen(pilot, ConfirmFailoverDialog, "failover confirmation")
        assert "REHEARSAL" in screen_text(pilot)
        await pilot.press("tab", "enter")
        job_screen = await wait_screen(pilot, JobScreen, "the simulated job")
        shown = " ".join(n.message for n in app._notifications)
        assert "POST " in shown and "/unplannedFailover" in shown and "begin_unplanned_failover" in shown
        assert "REHEARSAL" in screen_text(pilot).splitlines()[0]
        job = await run_job_to_end(pilot, clock, job_screen.job_name)
        assert job.state is JobState.SUCCEEDED
    assert "POST" not in methods and methods  # reads only, and there were reads
    sent = [r for r in journal.entries() if r["kind"] == "sent"]
    assert [r["rehearsed"]["method"] for r in sent] == ["POST"]
    assert sent[0]["rehearsed"]["url"].split("?")[0].endswith("/unplannedFailover")
    assert sent[0]["job_name"] == job.name
