"""A modernized recovery plan in the dashboard: fail back with a type of point, cancel (B), fail back again and
commit, each step through its dialog — and the requests are the planned failover and its cancel."""

from __future__ import annotations

from typing import Any

import pytest

from core.model import JobState, PointChoice, Stage
from tests.tui.helpers import screen_text, wait_for, wait_screen
from tests.tui.test_flow import run_job_to_end
from tests.tui.test_plans import SpiedVault, activate, back_to_plans, open_plans
from tui.dialogs.confirm import ConfirmDialog
from tui.dialogs.plan_commit import PlanCommitDialog
from tui.dialogs.point import PointDialog
from tui.screens.job import JobScreen
from tui.screens.preflight import PreflightGate


@pytest.fixture
def vault(clock: Any) -> SpiedVault:
    return SpiedVault(clock, "modernized")


async def fail_back(pilot: Any, clock: Any, vault: SpiedVault, choice: PointChoice) -> None:
    await pilot.press("f")
    gate = await wait_screen(pilot, PreflightGate, "preflight report")
    await wait_for(pilot, lambda: gate.report is not None, "the report")
    assert gate.report.ok, gate.report.failures
    await activate(pilot, "#continue")
    dialog = await wait_screen(pilot, PointDialog, "the type of point")
    assert [o.choice for o in dialog.options] == [PointChoice.LATEST, PointChoice.LATEST_APP_CONSISTENT]
    assert "the plan CRM" in screen_text(pilot) and "planned failover" in screen_text(pilot)
    if choice is PointChoice.LATEST_APP_CONSISTENT:
        await pilot.click("#choice-app-consistent")
        await pilot.click("#ack")
        await pilot.pause()
    await pilot.click("#continue")
    confirm = await wait_screen(pilot, ConfirmDialog, "confirmation")
    said = str(confirm.query_one("#confirm-text").render())
    assert "planned failover" in said and "crm-db-01" in said and "can be cancelled (B" in said
    assert "portal" not in said.lower()
    await activate(pilot, "#confirm")
    progress = await wait_screen(pilot, JobScreen, "plan job")
    job = await run_job_to_end(pilot, clock, progress.job_name)
    assert job.state is JobState.SUCCEEDED


async def test_a_modernized_plan_fails_back_is_cancelled_then_fails_back_and_is_committed(
    vault: SpiedVault, clock: Any
) -> None:
    app = vault.app(clock)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_plans(pilot, "rp-crm")
        assert screen.selected.stage is Stage.READY
        await fail_back(pilot, clock, vault, PointChoice.LATEST_APP_CONSISTENT)
        path, body = vault.posts[-1]
        assert path.endswith("/replicationRecoveryPlans/rp-crm/plannedFailover")
        assert body["properties"]["providerSpecificDetails"][0]["recoveryPointType"] == "ApplicationConsistent"
        await back_to_plans(pilot, screen, Stage.FAILED_OVER)

        # B: back to Azure, confirmed by a button; the cancel has no body.
        assert screen.check_action("cancel_failover", ()) is True
        await pilot.press("B")
        confirm = await wait_screen(pilot, ConfirmDialog, "cancel confirmation")
        assert "Cancels the planned failover" in str(confirm.query_one("#confirm-text").render())
        assert confirm.query_one("#back").has_focus, "focus starts on the safe answer"
        await activate(pilot, "#confirm")
        progress = await wait_screen(pilot, JobScreen, "cancel job")
        assert (await run_job_to_end(pilot, clock, progress.job_name)).state is JobState.SUCCEEDED
        path, body = vault.posts[-1]
        assert path.endswith("/replicationRecoveryPlans/rp-crm/failoverCancel") and body is None
        await back_to_plans(pilot, screen, Stage.READY)
        assert screen.check_action("cancel_failover", ()) is False  # nothing to cancel: not offered

        # Again, then the commit with the plan's name typed.
        await fail_back(pilot, clock, vault, PointChoice.LATEST)
        assert vault.posts[-1][1]["properties"]["providerSpecificDetails"][0]["recoveryPointType"] == "CrashConsistent"
        await back_to_plans(pilot, screen, Stage.FAILED_OVER)
        await pilot.press("c")
        await wait_screen(pilot, PlanCommitDialog, "plan commit dialog")
        await pilot.press(*"rp-crm")
        await pilot.pause()
        await activate(pilot, "#commit")
        progress = await wait_screen(pilot, JobScreen, "commit job")
        assert (await run_job_to_end(pilot, clock, progress.job_name)).state is JobState.SUCCEEDED
        await back_to_plans(pilot, screen, Stage.COMMITTED)
        assert [p.rsplit("/", 1)[-1] for p, _ in vault.posts] == [
            "plannedFailover",
            "failoverCancel",
            "plannedFailover",
            "failoverCommit",
        ]


async def test_a_classic_plan_offers_no_cancel(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_plans(pilot, "rp-erp")
        assert screen.check_action("cancel_failover", ()) is False


async def test_at_80_columns_a_failed_over_modernized_plan_shows_its_cancel_key_whole(
    vault: SpiedVault, clock: Any
) -> None:
    """Failed over, a modernized plan can be verified, committed or sent back to Azure: each of those keys is on the
    footer whole at 80 columns, beside f1 Help."""
    app = vault.app(clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_plans(pilot, "rp-crm")
        await fail_back(pilot, clock, vault, PointChoice.LATEST)
        await back_to_plans(pilot, screen, Stage.FAILED_OVER)
        await pilot.pause()
        footer = screen_text(pilot).splitlines()[-1]
        for words in ("c Commit…", "v Verify", "B Back to Azure…", "f1 Help"):
            assert words in footer, footer
