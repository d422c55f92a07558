"""A modernized VM failed back by the screens alone at 80×24: the planned failover with its point type, the cancel
back to the Azure VM, the planned failover again, commit, and the reprotect to Azure once the agent has registered."""

from __future__ import annotations

from typing import Any

from core.failback import derive_stage
from core.model import JobState, PointChoice, Stage
from tests.tui.helpers import screen_text, wait_for, wait_screen
from tests.tui.test_flow import open_dashboard, run_job_to_end, select
from tests.tui.test_plans import SpiedVault
from tui.dialogs.appliance_reprotect import ApplianceReprotectDialog
from tui.dialogs.commit import CommitDialog
from tui.dialogs.confirm import ConfirmDialog
from tui.dialogs.confirm_failover import ConfirmFailoverDialog
from tui.dialogs.point import PointDialog
from tui.screens.job import JobScreen

NAME = "crm-web-01"


def _no_portal(pilot: Any) -> None:
    assert "portal" not in screen_text(pilot).lower()


async def _planned_failover(pilot: Any, clock: Any, dashboard: Any, item_id: str, choice: PointChoice) -> Any:
    await select(pilot, dashboard, NAME)
    await pilot.press("f")
    dialog = await wait_screen(pilot, PointDialog, "point dialog")
    # a type of point, no list: the modernized failback has no chosen point (MODERNIZED.md §4)
    assert [o.choice for o in dialog.options] == [PointChoice.LATEST, PointChoice.LATEST_APP_CONSISTENT]
    assert not dialog.query("#choice-custom")
    _no_portal(pilot)
    if choice is PointChoice.LATEST_APP_CONSISTENT:
        await pilot.click("#choice-app-consistent")
        await pilot.click("#ack")
    await pilot.pause()
    assert dialog.chosen is not None and dialog.chosen.choice is choice
    await pilot.click("#continue")
    confirm = await wait_screen(pilot, ConfirmFailoverDialog, "failover confirmation")
    summary = str(confirm.query_one("#summary").render())
    assert "planned failover from Azure" in summary and "cancel (B)" in summary
    await pilot.press("tab", "enter")  # Start failover (focus starts on Back)
    progress = await wait_screen(pilot, JobScreen, "planned failover job")
    job = await run_job_to_end(pilot, clock, progress.job_name)
    assert job.state is JobState.SUCCEEDED and job.scenario_name == "PlannedFailover"
    assert "Shut down the Azure virtual machine" in [t.friendly_name for t in job.tasks]
    _no_portal(pilot)
    await pilot.press("escape")
    table = dashboard.items_table
    await wait_for(pilot, lambda: derive_stage(table.items[item_id]) is Stage.FAILED_OVER, "failed over")
    return job


async def test_modernized_failback_cancel_and_again_to_protected_at_80x24(make_app, clock) -> None:  # type: ignore[no-untyped-def]
    app = make_app("modernized")
    async with app.run_test(size=(80, 24)) as pilot:
        dashboard = await open_dashboard(pilot)
        table = dashboard.items_table
        item = next(i for i in table.items.values() if i.friendly_name == NAME)
        assert derive_stage(item) is Stage.READY
        first = await _planned_failover(pilot, clock, dashboard, item.id, PointChoice.LATEST)

        # B: back to the Azure VM
        await select(pilot, dashboard, NAME)
        await pilot.press("B")
        confirm = await wait_screen(pilot, ConfirmDialog, "cancel confirmation")
        assert "turns the Azure VM on again" in str(confirm.query_one("#confirm-text").render())
        await pilot.press("tab", "enter")
        cancel = await wait_for(
            pilot,
            lambda: isinstance(app.screen, JobScreen) and app.screen.job_name != first.name and app.screen,
            "cancel job screen",
        )
        done = await run_job_to_end(pilot, clock, cancel.job_name)
        assert done.state is JobState.SUCCEEDED and done.scenario_name == "CancelFailover"
        await pilot.press("escape")
        await wait_for(pilot, lambda: derive_stage(table.items[item.id]) is Stage.READY, "ready again")

        # the planned failover again, app-consistent this time, then commit
        second = await _planned_failover(pilot, clock, dashboard, item.id, PointChoice.LATEST_APP_CONSISTENT)
        await select(pilot, dashboard, NAME)
        await pilot.press("c")
        await wait_screen(pilot, CommitDialog, "commit dialog")
        await pilot.press(*NAME, "enter", "enter")
        commit = await wait_for(
            pilot,
            lambda: isinstance(app.screen, JobScreen) and app.screen.job_name != second.name and app.screen,
            "commit job screen",
        )
        assert (await run_job_to_end(pilot, clock, commit.job_name)).state is JobState.SUCCEEDED
        await pilot.press("escape")
        await wait_for(pilot, lambda: derive_stage(table.items[item.id]) is Stage.COMMITTED, "committed")

        # the reprotect waits for the Mobility agent: refused with the reason, then offered once it registered
        await select(pilot, dashboard, NAME)
        await pilot.press("r")
        await pilot.pause()
        assert not isinstance(app.screen, ApplianceReprotectDialog)
        clock.advance(16 * 60)
        await pilot.press("ctrl+r")
        await wait_for(
            pilot,
            lambda: (
                (i := table.items.get(item.id)) is not None
                and i.rcm is not None
                and i.rcm.agent_registered_after_failover is True
            ),
            "the agent to register",
        )
        await select(pilot, dashboard, NAME)
        await pilot.press("r")
        dialog = await wait_screen(pilot, ApplianceReprotectDialog, "reprotect dialog")
        # the appliances come from the fabric (InMageRcmFabricSpecificDetails), the healthy one first
        assert dialog.appliance is not None and dialog.appliance.name == "rcm-avs-weu-01"
        assert not dialog.query("#datastores")  # to Azure: no datastore to choose
        _no_portal(pilot)
        await pilot.press("tab", "tab", "enter")  # appliances, Back, Reprotect
        reprotect = await wait_for(
            pilot,
            lambda: isinstance(app.screen, JobScreen) and app.screen.job_name != commit.job_name and app.screen,
            "reprotect job screen",
        )
        assert (await run_job_to_end(pilot, clock, reprotect.job_name)).state is JobState.SUCCEEDED
        await pilot.press("escape")
        await wait_for(
            pilot, lambda: derive_stage(table.items[item.id]) is Stage.PROTECTED_TO_AZURE, "protected to Azure"
        )
        _no_portal(pilot)


async def test_a_vm_in_azure_reprotected_to_avs_through_the_form_at_80x24(clock) -> None:  # type: ignore[no-untyped-def]
    """r on a modernized VM running in Azure: the appliance, a datastore it reaches and the log storage account,
    each from the vault; a stale appliance is said; the initial replication to AVS runs before failback is offered."""
    vault = SpiedVault(clock, "modernized")
    app = vault.app(clock)
    name = "crm-queue-01"
    async with app.run_test(size=(80, 24)) as pilot:
        dashboard = await open_dashboard(pilot)
        table = dashboard.items_table
        item = next(i for i in table.items.values() if i.friendly_name == name)
        assert derive_stage(item) is Stage.IN_AZURE
        await select(pilot, dashboard, name)
        await pilot.press("r")
        dialog = await wait_screen(pilot, ApplianceReprotectDialog, "reprotect to AVS dialog")
        assert dialog.to_avs and dialog.appliance is not None and dialog.appliance.name == "rcm-avs-weu-01"
        assert [str(k.value) for k in dialog.query_one("#datastores").rows] == ["vsanDatastore", "avs-weu-nfs-01"]
        note = str(dialog.query_one("#reprotect-note").render())
        assert "no free space" in note and "Give the storage account" in note
        assert dialog.query_one("#reprotect").disabled  # no log storage account yet: nothing can be sent
        # the other appliance: its stale heartbeat is said, and it reaches only the vSAN datastore
        await pilot.press("j")
        await pilot.pause()
        assert dialog.appliance is not None and dialog.appliance.name == "rcm-avs-weu-02"
        assert "not sent a heartbeat for 40" in str(dialog.query_one("#reprotect-note").render())
        assert [str(k.value) for k in dialog.query_one("#datastores").rows] == ["vsanDatastore"]
        await pilot.press("k")
        await pilot.pause()
        # the NFS datastore, and a log storage account typed in
        dialog.query_one("#datastores").focus()
        await pilot.press("j")
        dialog.query_one("#log-account").value = LOG_ACCOUNT
        await pilot.pause()
        assert dialog.datastore == "avs-weu-nfs-01" and not dialog.query_one("#reprotect").disabled
        _no_portal(pilot)
        await pilot.click("#reprotect")
        job_screen = await wait_screen(pilot, JobScreen, "reprotect job")
        path, body = vault.posts[-1]
        assert path.endswith("/reProtect")
        details = body["properties"]["providerSpecificDetails"]
        appliance_id = next(
            a.id for f in app.backend.list_fabrics() for a in f.appliances if a.name == "rcm-avs-weu-01"
        )
        assert details == {
            "instanceType": "InMageRcm",
            "reprotectAgentId": appliance_id,
            "datastoreName": "avs-weu-nfs-01",
            "logStorageAccountId": LOG_ACCOUNT,
            "policyId": next(p for p, _n, kind in app.backend.list_policies() if kind == "InMageRcmFailback"),
        }
        job = await run_job_to_end(pilot, clock, job_screen.job_name)
        assert job.state is JobState.SUCCEEDED and job.scenario_name == "SwitchReplicationGroupProtection"
        await pilot.press("escape")
        # the initial replication to AVS: not ready yet; ready once it ends
        await wait_for(pilot, lambda: derive_stage(table.items[item.id]) is Stage.NOT_READY, "initial replication")
        clock.advance(21 * 60)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: derive_stage(table.items[item.id]) is Stage.READY, "ready to fail back")


LOG_ACCOUNT = (
    "/subscriptions/3f2a9c1e-7b4d-4e8a-9c2f-5d6e7f8a9b0c/resourceGroups/rg-dr-weu/providers/Microsoft.Storage"
    "/storageAccounts/asrlogsweu"
)
