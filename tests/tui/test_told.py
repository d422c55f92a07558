"""The dashboard tells the operator when a job it started ends, whatever screen is in front: the bell and the
desktop escape reach the terminal, and the notify command gets the event."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core.failback import can_failover
from core.notify import Notifier
from tests.core.test_notify import wait_for_file
from tests.tui.helpers import wait_for, wait_screen
from tests.tui.test_flow import open_dashboard, run_job_to_end, select
from tui.dialogs.confirm_failover import ConfirmFailoverDialog
from tui.dialogs.point import PointDialog
from tui.screens.job import JobScreen
from tui.screens.jobs import JobsScreen


async def test_a_failover_that_ends_behind_another_screen_rings_and_runs_the_notify_command(
    make_app: Any, clock: Any, tmp_path: Path
) -> None:
    out = tmp_path / "events.jsonl"
    written: list[str] = []
    app = make_app("train-single-vm")
    app.notifier = Notifier(written.append, "osc9", command=f"sh -c 'cat >> {out}'")
    async with app.run_test(size=(120, 36)) as pilot:
        dashboard = await open_dashboard(pilot)
        name = next(i for i in dashboard.items_table.items.values() if can_failover(i).allowed).friendly_name
        await select(pilot, dashboard, name)
        await pilot.press("f")
        await wait_screen(pilot, PointDialog, "point dialog")
        await pilot.press("enter")  # Latest, the default
        await pilot.press("tab", "tab", "enter")  # Back, Continue
        await wait_screen(pilot, ConfirmFailoverDialog, "failover confirmation")
        await pilot.press("tab", "enter")  # Start failover
        progress = await wait_screen(pilot, JobScreen, "job screen")
        job_name = progress.job_name
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is dashboard, "back on the dashboard")
        await pilot.press("J")  # the job history in front: the failover's own screen is gone
        await wait_screen(pilot, JobsScreen, "job history")
        assert not written, "nothing is said while the job runs"
        await run_job_to_end(pilot, clock, job_name)
        await wait_for(pilot, lambda: bool(written), "the bell")
        assert written[0].startswith("\a\x1b]9;avs-failback: ") and "succeeded" in written[0]
        event = json.loads(wait_for_file(out)[0])
        assert event["event"] == "job-succeeded" and event["item"] == name and event["job"] == job_name
        assert isinstance(app.screen, JobsScreen)
