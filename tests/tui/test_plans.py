"""Recovery plans in the dashboard: rp-erp failed back app-consistent, committed, reprotected; a manual action
resumed with a comment; a replication-group member refused alone and offered its plan."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC
from typing import Any

import pytest

from core.bootstrap import EMULATOR_BASE_URL, build_backend
from core.config import Settings
from core.emulator import ArmEmulator, load_scenario
from core.failback import derive_stage
from core.model import JobState, PointChoice, Stage
from core.plans import MemberState, waiting_task
from tests.tui.helpers import screen_text, wait_for, wait_screen
from tests.tui.test_flow import open_dashboard, run_job_to_end, select
from tui.app import FailbackApp
from tui.dialogs.confirm import ConfirmDialog
from tui.dialogs.plan_commit import PlanCommitDialog
from tui.dialogs.plan_point import PlanPointDialog
from tui.dialogs.plan_reprotect import PlanReprotectDialog
from tui.dialogs.resume import ResumeDialog
from tui.screens.job import JobScreen
from tui.screens.plans import PlansScreen
from tui.screens.preflight import PreflightGate
from tui.text import compact_duration

ERP_GROUP = ("sql-01", "erp-app-01", "erp-app-02")


class SpiedVault:
    """A scenario's vault (the demo by default) on the test's clock, keeping every POST's path and body."""

    def __init__(self, clock: Any, scenario: str = "demo") -> None:
        self.emulator = ArmEmulator(load_scenario(scenario), clock, base_url=EMULATOR_BASE_URL)
        self.posts: list[tuple[str, Any]] = []
        answer = self.emulator.handle

        def spy(method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> Any:
            if method == "POST":
                self.posts.append((url.split("?", 1)[0], json.loads(body) if body else None))
            return answer(method, url, headers, body)

        self.emulator.handle = spy  # type: ignore[method-assign]
        self.backend = build_backend(Settings(demo=True, scenario=scenario), clock=clock, emulator=self.emulator)

    def app(self, clock: Any) -> FailbackApp:
        return FailbackApp(
            backend=self.backend, clock=clock, tz=UTC, ascii_glyphs=False, tick_seconds=0.05, items_refresh_seconds=3600
        )


@pytest.fixture
def vault(clock: Any) -> SpiedVault:
    return SpiedVault(clock)


async def activate(pilot: Any, selector: str) -> None:
    """Focus a control of the active screen and press Enter (or space for toggles), as the operator would."""
    widget = pilot.app.screen.query_one(selector)
    widget.focus()
    await pilot.pause()
    await pilot.press("enter" if widget.__class__.__name__ == "Button" else "space")
    await pilot.pause()


async def open_plans(pilot: Any, plan: str) -> PlansScreen:
    await open_dashboard(pilot)
    await pilot.press("p")
    screen: PlansScreen = await wait_screen(pilot, PlansScreen, "plans screen")
    await wait_for(pilot, lambda: screen.views and not screen.loading, "plans read")
    table = screen.query_one("#plans")
    table.move_cursor(row=table.get_row_index(plan))
    await pilot.pause()
    assert screen.selected is not None and screen.selected.plan.name == plan
    return screen


async def back_to_plans(pilot: Any, screen: PlansScreen, stage: Stage) -> None:
    while pilot.app.screen is not screen:
        await pilot.press("escape")
        await pilot.pause()
    await wait_for(
        pilot, lambda: screen.selected is not None and screen.selected.stage is stage and not screen.loading, str(stage)
    )


async def test_erp_plan_app_consistent_failback_commit_and_reprotect(vault: SpiedVault, clock: Any) -> None:
    app = vault.app(clock)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_plans(pilot, "rp-erp")
        text = screen_text(pilot)
        assert "SIMULATION" in text and "Group 1" in text and "Group 2" in text and "erp-core" in text
        before = {m.item.name: app.backend.list_recovery_points(m.item) for m in screen.selected.members}

        # 1. Preflight first: its report is shown; only warnings, so Continue is offered.
        await pilot.press("f")
        gate = await wait_screen(pilot, PreflightGate, "preflight report")
        await wait_for(pilot, lambda: gate.report is not None, "the report")
        assert gate.report.ok and gate.report.kind == "plan"
        assert "Network path" in str(gate.query_one("#gate-report").render())
        await activate(pilot, "#continue")

        # 2. The point: app-consistent names each group's common point and needs the older point acknowledged.
        dialog = await wait_screen(pilot, PlanPointDialog, "plan point dialog")
        await pilot.press("down", "enter")  # the second choice: app-consistent
        await pilot.pause()
        assert dialog.choice is PointChoice.LATEST_APP_CONSISTENT
        assert dialog.query_one("#continue").disabled, "Continue waits for the acknowledgement"
        shown = str(dialog.query_one("#plan-points").render())
        assert "Replication group erp-core: common app-consistent point" in shown
        for name in (*ERP_GROUP, "erp-web-01", "erp-web-02"):
            assert name in shown
        erp_core = next(g for g in dialog.groups if g.group == "erp-core")
        assert erp_core.common_time is not None
        await activate(pilot, "#plan-ack")
        await pilot.pause()
        assert not dialog.query_one("#continue").disabled
        await activate(pilot, "#continue")

        # 3. The confirmation names the direction, the plan, every VM and the shutdown of the Azure VMs.
        confirm = await wait_screen(pilot, ConfirmDialog, "confirmation")
        said = str(confirm.query_one("#confirm-text").render())
        assert "from Azure to the AVS private cloud" in said and "shuts the Azure VMs down" in said
        assert "ERP (SAP ECC front and back end)" in said
        assert all(name in said for name in (*ERP_GROUP, "erp-web-01", "erp-web-02"))
        assert confirm.query_one("#back").has_focus, "focus starts on the safe answer"
        await activate(pilot, "#confirm")

        # 4. Live progress of the plan job; the POST carried the plan's InMage input for the app-consistent point.
        progress = await wait_screen(pilot, JobScreen, "plan job")
        path, body = next((p, b) for p, b in vault.posts if p.lower().endswith("/unplannedfailover"))
        assert path.endswith("/replicationRecoveryPlans/rp-erp/unplannedFailover")
        assert body["properties"]["providerSpecificDetails"] == [
            {"instanceType": "InMage", "recoveryPointType": "LatestTag"}
        ]
        job = await run_job_to_end(pilot, clock, progress.job_name)
        assert job.state is JobState.SUCCEEDED
        await pilot.pause()
        assert "Group 1" in screen_text(pilot)
        await back_to_plans(pilot, screen, Stage.FAILED_OVER)
        for member in screen.selected.members:
            assert member.stage is Stage.FAILED_OVER, member.name
            if member.name in ERP_GROUP:
                used = member.item.failover_recovery_point_id.lower()
                times = {p.id.lower(): p.time for p in before[member.item.name]}
                assert times[used] == erp_core.common_time, member.name
        record = next(a for a in app.session.actions if a.title == "Fail back plan ERP (SAP ECC front and back end)")
        assert not isinstance(record.equivalent, str), record.equivalent  # the REST / az / PowerShell text was built

        # 5. Commit: the plan's name typed.
        await pilot.press("c")
        commit = await wait_screen(pilot, PlanCommitDialog, "plan commit dialog")
        await pilot.press(*"rp-er")
        await pilot.pause()
        assert commit.query_one("#commit").disabled
        await pilot.press("p", "enter", "enter")
        commit_job = await wait_for(
            pilot,
            lambda: isinstance(app.screen, JobScreen) and app.screen.job_name != job.name and app.screen,
            "plan commit job",
        )
        assert (await run_job_to_end(pilot, clock, commit_job.job_name)).state is JobState.SUCCEEDED
        await back_to_plans(pilot, screen, Stage.COMMITTED)

        # 6. Reprotect: one process server for all; the agents register only after the window: countdowns, retries.
        posts_before = len(vault.posts)
        await pilot.press("r")
        await wait_screen(pilot, PlanReprotectDialog, "plan reprotect dialog")
        await activate(pilot, "#reprotect")
        await wait_for(pilot, lambda: screen.reprotect is not None and screen.reprotect_steps > 0, "first step")
        assert screen.reprotect_running
        await pilot.press("escape")  # leaving would end the loop: asked first, and Back keeps it going
        leave = await wait_screen(pilot, ConfirmDialog, "leave the reprotect?")
        assert "Leaving stops it" in str(leave.query_one("#confirm-text").render())
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is screen, "still on the plans screen")
        assert screen.reprotect_running
        # Quitting now would stop the loop that sends and retries: the question names it, and a jump away refuses.
        left = app.leaving()
        assert any("The reprotect of the plan ERP" in line for line in left.stops), left
        assert "still sending from the plans screen" in app.leave_to(app.screen_stack[1])
        countdown_seen = False
        for _ in range(30):
            if screen.reprotect.done():
                break
            steps = screen.reprotect_steps
            clock.advance(240)
            await wait_for(
                pilot,
                lambda steps=steps: screen.reprotect_steps > steps + 1 or not screen.reprotect_running,
                "a reprotect step",
            )
            assert not screen.reprotect_stopped, screen._reprotect_error
            if any(p.state is MemberState.WAITING_FOR_AGENT for p in screen.reprotect_progress):
                countdown_seen = countdown_seen or "next try in" in screen.reprotect_text(clock.now()).plain
        assert screen.reprotect.all_protected, [(p.item_name, p.word, p.last_error) for p in screen.reprotect_progress]
        assert countdown_seen, "the agent-registration retry shows its countdown"
        assert all(p.attempts > 1 for p in screen.reprotect_progress)
        reprotects = vault.posts[posts_before:]
        assert reprotects and all(p.endswith("/reProtect") for p, _ in reprotects)
        assert len({b["properties"]["providerSpecificDetails"]["processServerId"] for _, b in reprotects}) == 1
        await back_to_plans(pilot, screen, Stage.PROTECTED_TO_AZURE)
        assert {derive_stage(m.item) for m in screen.selected.members} == {Stage.PROTECTED_TO_AZURE}


async def start_plan_failover_latest(pilot: Any, screen: PlansScreen) -> JobScreen:
    """Preflight → Latest → confirm, keys only; returns the plan job's screen."""
    await pilot.press("f")
    gate = await wait_screen(pilot, PreflightGate, "preflight report")
    await wait_for(pilot, lambda: gate.report is not None, "the report")
    await activate(pilot, "#continue")
    dialog = await wait_screen(pilot, PlanPointDialog, "plan point dialog")
    assert dialog.choice is PointChoice.LATEST and not dialog.query_one("#plan-ack").display
    await activate(pilot, "#continue")
    await wait_screen(pilot, ConfirmDialog, "confirmation")
    await activate(pilot, "#confirm")
    return await wait_screen(pilot, JobScreen, "plan job")  # type: ignore[no-any-return]


async def run_to_manual_action(pilot: Any, clock: Any, name: str) -> None:
    """Advance simulated time, polling, until the plan job `name` stops at a manual action."""
    app = pilot.app
    for _ in range(20):
        if waiting_task(app.session.jobs.get(name)):
            return
        clock.advance(180)
        now = clock.now()
        app.schedule_poll(0.0)
        await wait_for(pilot, lambda now=now: app.tracker.stats.last_poll == now and not app._polling, "a poll")
    assert waiting_task(app.session.jobs.get(name)), "the plan job stops at the manual action"


async def test_a_manual_action_stops_the_plan_job_until_resumed_with_a_comment(vault: SpiedVault, clock: Any) -> None:
    app = vault.app(clock)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_plans(pilot, "rp-intranet")
        text = screen_text(pilot)
        assert "manual, before boot: Repoint intranet DNS" in text and app.glyphs.uncheck in text
        assert "u Resume…" not in text  # the key appears only while a manual action waits
        job_screen = await start_plan_failover_latest(pilot, screen)
        name = job_screen.job_name
        await run_to_manual_action(pilot, clock, name)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, "back on the plans screen")
        await wait_for(pilot, lambda: screen.check_action("resume_plan", ()) is True, "resume offered")
        assert "Waiting for the operator" in screen_text(pilot)
        assert "u Resume…" in screen_text(pilot).splitlines()[-1]
        await pilot.resize_terminal(80, 24)  # the footer's fullest state, at the narrowest terminal
        await pilot.pause()
        footer = screen_text(pilot).splitlines()[-1]
        assert "u Resume…" in footer and "f1 Help" in footer and "^p palette" in footer, footer
        await pilot.resize_terminal(120, 36)
        await pilot.pause()

        await pilot.press("u")
        dialog = await wait_screen(pilot, ResumeDialog, "resume dialog")
        assert dialog.query_one("#resume").disabled
        await activate(pilot, "#manual-0")
        assert dialog.query_one("#resume").disabled, "a comment is needed too"
        dialog.query_one("#resume-comment").focus()
        await pilot.press(*"DNS repointed by jd")
        await pilot.pause()
        await activate(pilot, "#resume")
        await wait_for(pilot, lambda: any(p.endswith(f"/{name}/resume") for p, _ in vault.posts), "the resume POST")
        body = next(b for p, b in vault.posts if p.endswith(f"/{name}/resume"))
        assert body["properties"]["comments"] == "DNS repointed by jd"

        job = await run_job_to_end(pilot, clock, name)
        assert job.state is JobState.SUCCEEDED
        await back_to_plans(pilot, screen, Stage.FAILED_OVER)
        assert app.glyphs.check in screen_text(pilot), "the manual action is ticked once its task is done"


async def test_the_job_screen_shows_the_manual_action_and_resumes_with_the_same_dialog(
    vault: SpiedVault, clock: Any
) -> None:
    app = vault.app(clock)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_plans(pilot, "rp-intranet")
        job_screen = await start_plan_failover_latest(pilot, screen)
        name = job_screen.job_name
        await run_to_manual_action(pilot, clock, name)
        # On the job screen itself: what it waits for, with the plan's instructions, and how to go on.
        await wait_for(pilot, lambda: job_screen.plan is not None, "the job's plan")
        await pilot.pause()
        flat = " ".join(screen_text(pilot).split())
        assert "Waiting for you:" in flat and "Repoint intranet DNS" in flat
        action = next(a for g in job_screen.plan.groups for a in g.start_actions if a.name == "Repoint intranet DNS")
        assert action.instructions and " ".join(action.instructions.split()) in flat
        await pilot.press("u")
        dialog = await wait_screen(pilot, ResumeDialog, "the resume dialog, not a bare confirmation")
        assert "the plan Intranet" in str(dialog.query_one(".dialog-title").render())
        assert dialog.query_one("#resume").disabled
        await activate(pilot, "#manual-0")
        dialog.query_one("#resume-comment").focus()
        await pilot.press(*"done by jd")
        await pilot.pause()
        await activate(pilot, "#resume")
        await wait_for(pilot, lambda: any(p.endswith(f"/{name}/resume") for p, _ in vault.posts), "the resume POST")
        body = next(b for p, b in vault.posts if p.endswith(f"/{name}/resume"))
        assert body["properties"]["comments"] == "done by jd"


async def test_the_plans_footer_fits_80_columns(app: FailbackApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await open_plans(pilot, "rp-erp")
        footer = screen_text(pilot).splitlines()[-1]
        for key in ("esc Back", "f Fail back…", "c Commit…", "r Reprotect…", "f1 Help", "^p palette"):
            assert key in footer, f"{key!r} cut from the footer: {footer!r}"


async def test_a_group_member_is_refused_alone_and_offered_its_plan(app: FailbackApp) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        dashboard = await open_dashboard(pilot)
        await select(pilot, dashboard, "erp-app-02")
        assert dashboard.check_action("fail_back", ()) is True
        await pilot.press("f")
        offer = await wait_screen(pilot, ConfirmDialog, "the offer of the plan")
        said = str(offer.query_one("#confirm-text").render())
        assert "erp-app-02 belongs to the replication group 'erp-core'" in said and "cannot fail back alone" in said
        assert "rp-erp" in said
        await activate(pilot, "#confirm")
        screen = await wait_screen(pilot, PlansScreen, "the plans screen")
        await wait_for(pilot, lambda: screen.views and not screen.loading, "plans read")
        assert screen.selected is not None and screen.selected.plan.name == "rp-erp"
        assert not any(s.kind == "failover" for s in app.session.started.values()), "nothing was sent"


async def test_leaving_while_the_plan_reprotect_sends_asks_first(vault: SpiedVault, clock: Any) -> None:
    from core.model import ReprotectTarget

    app = vault.app(clock)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_plans(pilot, "rp-erp")
        fabric = next(f for f in app.backend.list_fabrics() if f.process_servers)
        target = ReprotectTarget(fabric.process_servers[0].id, fabric.master_targets[0].id)
        # Nothing is committed: every member is blocked at once, so the loop ends by itself and Esc just leaves.
        screen.start_reprotect(screen.selected, target)
        await wait_for(pilot, lambda: screen.reprotect_steps > 0, "a step")
        assert not screen.reprotect_running
        assert all(p.state is MemberState.BLOCKED for p in screen.reprotect_progress)
        assert "reprotect follows the commit" in screen.reprotect_text(clock.now()).plain
        assert not any(p.endswith("/reProtect") for p, _ in vault.posts)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, PlansScreen), "left the plans screen")


async def test_read_only_offers_no_plan_action_and_the_palette_lists_them_otherwise(make_app: Any) -> None:
    read_only = make_app(read_only=True)
    async with read_only.run_test(size=(120, 36)) as pilot:
        screen = await open_plans(pilot, "rp-erp")
        for action in ("fail_back_plan", "commit_plan", "reprotect_plan", "resume_plan"):
            assert screen.check_action(action, ()) is False, action
        titles = {c.title for c in read_only.get_system_commands(screen)}
        assert "Fail back… (f)" not in titles and "Preflight (F)" in titles
        await pilot.press("f")
        await pilot.pause()
        assert read_only.screen is screen

    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_plans(pilot, "rp-erp")
        titles = {c.title for c in app.get_system_commands(screen)}
        assert {"Fail back… (f)", "Preflight (F)", "Jobs (J)", "Help (f1 / ?)"} <= titles
        assert screen.check_action("commit_plan", ()) is None


async def choose_app_consistent_and_confirm(pilot: Any) -> tuple[PlanPointDialog, ConfirmDialog]:
    """From the plans screen: preflight, app-consistent acknowledged, to the confirmation."""
    await pilot.press("f")
    gate = await wait_screen(pilot, PreflightGate, "preflight report")
    await wait_for(pilot, lambda: gate.report is not None, "the report")
    await activate(pilot, "#continue")
    dialog = await wait_screen(pilot, PlanPointDialog, "plan point dialog")
    await pilot.press("down")
    await pilot.pause()
    await activate(pilot, "#plan-ack")
    await activate(pilot, "#continue")
    confirm = await wait_screen(pilot, ConfirmDialog, "confirmation")
    return dialog, confirm


async def test_the_plan_point_dialog_says_the_group_rule_and_the_loss_of_each_vm(vault: SpiedVault, clock: Any) -> None:
    from core.plans import GROUP_RULE

    app = vault.app(clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_plans(pilot, "rp-erp")
        await pilot.press("f")
        gate = await wait_screen(pilot, PreflightGate, "preflight report")
        await wait_for(pilot, lambda: gate.report is not None, "the report")
        await activate(pilot, "#continue")
        dialog = await wait_screen(pilot, PlanPointDialog, "plan point dialog")
        rule = " ".join(str(dialog.query_one("#plan-rule").render()).split())
        assert " ".join(GROUP_RULE[PointChoice.LATEST].split()) in rule
        latest = dialog.loss(PointChoice.LATEST)
        app_loss = dialog.loss(PointChoice.LATEST_APP_CONSISTENT)
        assert latest.worst is not None and app_loss.most_extra is not None
        assert "at most about" in rule and f"({latest.worst.name})" in rule
        # At 80 columns the options wrap rather than being cut, and Latest carries Microsoft's recommendation.
        flat = " ".join(screen_text(pilot).split())
        assert "Microsoft's recommendation" in flat and "…" not in str(dialog.query_one("#plan-choices").render())

        await pilot.press("down")
        await pilot.pause()
        rule = " ".join(str(dialog.query_one("#plan-rule").render()).split())
        assert " ".join(GROUP_RULE[PointChoice.LATEST_APP_CONSISTENT].split()) in rule
        # The acknowledgement names the VM that gives up the most beyond its own Latest, and how much.
        ack = str(dialog.query_one("#plan-ack").label)
        extra = app_loss.most_extra
        assert extra.name in ack and compact_duration(extra.extra_seconds) in ack
        per_vm_max = max(
            v.seconds - next(w.seconds for w in latest.per_vm if w.name == v.name) for v in app_loss.per_vm
        )
        assert extra.extra_seconds == per_vm_max
        await activate(pilot, "#plan-ack")
        await activate(pilot, "#continue")
        confirm = await wait_screen(pilot, ConfirmDialog, "confirmation")
        said = " ".join(str(confirm.query_one("#confirm-text").render()).split())
        assert f"Writes given up: {app_loss.words()}" in said and "Each VM:" in said


# The demo's app-consistent points come on the hour, and its clock starts on one: five minutes in, the newest is
# five minutes old and stays the newest for the twenty minutes the operator then spends reading.
SETTLED, READING = 5 * 60, 20 * 60


async def test_a_plan_loss_that_grew_while_confirming_is_asked_again(vault: SpiedVault, clock: Any) -> None:
    clock.advance(SETTLED)
    app = vault.app(clock)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_plans(pilot, "rp-erp")
        dialog, confirm = await choose_app_consistent_and_confirm(pilot)
        accepted = dialog.result().extra_seconds
        clock.advance(READING)  # ASR takes newer crash-consistent points meanwhile
        await activate(pilot, "#confirm")
        again = await wait_screen(pilot, PlanPointDialog, "the point dialog again")
        note = " ".join(str(again.query_one("#plan-point-note").render()).split())
        assert note.startswith("Nothing was sent") and "Choose again" in note
        assert again.choice is PointChoice.LATEST_APP_CONSISTENT and again.query_one("#continue").disabled
        assert again.result().extra_seconds > accepted
        assert not any(p.lower().endswith("/unplannedfailover") for p, _ in vault.posts)
        assert not app.session.is_submitting("plan-failover", screen.selected.plan.id)


async def test_an_item_loss_that_grew_while_confirming_is_asked_again(make_app: Any, clock: Any) -> None:
    from tui.dialogs.confirm_failover import ConfirmFailoverDialog
    from tui.dialogs.point import PointDialog

    clock.advance(SETTLED)
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        dashboard = await open_dashboard(pilot)
        await select(pilot, dashboard, "dc-01")
        await pilot.press("f")
        dialog = await wait_screen(pilot, PointDialog, "point dialog")
        await pilot.press("down")
        await pilot.pause()
        accepted = dialog.chosen
        assert accepted is not None and accepted.needs_acknowledgement
        await activate(pilot, "#ack")
        await activate(pilot, "#continue")
        await wait_screen(pilot, ConfirmFailoverDialog, "confirmation")
        clock.advance(READING)
        await activate(pilot, "#start")
        again = await wait_screen(pilot, PointDialog, "the point dialog again")
        note = " ".join(str(again.query_one("#point-note").render()).split())
        assert note.startswith("Nothing was sent") and "Choose again" in note
        assert again.chosen is not None and again.chosen.choice is accepted.choice
        assert again.chosen.loss_seconds > accepted.loss_seconds
        assert again.query_one("#continue").disabled, "the larger loss is acknowledged again"
        assert not app.session.started and not app.session.is_submitting("failover", accepted.point.id)


async def test_the_plans_screen_reads_again_on_its_own_and_says_when(make_app: Any, clock: Any) -> None:
    app = make_app(items_refresh_seconds=0.2)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_plans(pilot, "rp-billing")
        first = screen.read_at
        status = str(screen.query_one("#plans-status").render())
        assert status.startswith("4 plans · data read <1 min ago · read again every")
        clock.advance(600)
        await wait_for(pilot, lambda: screen.read_at is not None and screen.read_at > first, "a read on its own")
        assert screen.selected is not None and screen.selected.plan.name == "rp-billing", "the cursor stays"
        detail = " ".join(str(screen.query_one("#plan-body").render()).split())
        assert "Next: Fail the plan back" in detail and "(f)" in detail


async def test_a_failed_over_plan_is_verified_vm_by_vm_before_its_commit(vault: SpiedVault, clock: Any) -> None:
    from tui.screens.plan_verify import PlanVerifyScreen
    from tui.screens.verify import VerifyScreen

    app = vault.app(clock)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_plans(pilot, "rp-billing")
        assert screen.check_action("verify_plan", ()) is False, "nothing to verify before the failover"
        job_screen = await start_plan_failover_latest(pilot, screen)
        await run_job_to_end(pilot, clock, job_screen.job_name)
        await pilot.pause()
        flat = " ".join(screen_text(pilot).split())
        assert "then v on the plans screen to verify each of the plan's VMs" in flat
        await back_to_plans(pilot, screen, Stage.FAILED_OVER)
        detail = " ".join(str(screen.query_one("#plan-body").render()).split())
        assert "Next: Verify each of its VMs in AVS, then commit the plan" in detail

        await pilot.press("v")
        verify = await wait_screen(pilot, PlanVerifyScreen, "the plan's checklist")
        text = screen_text(pilot)
        assert "billing-db-01" in text and "billing-app-01" in text and "0 of 2 VMs fully checked" in text
        await pilot.press("enter")
        await wait_screen(pilot, VerifyScreen, "the first VM's checklist")
        await pilot.press("space", "tab", "space", "tab", "space", "tab", "space", "escape")
        await wait_for(pilot, lambda: app.screen is verify, "back on the plan's list")
        await pilot.pause()
        assert "1 of 2 VMs fully checked" in screen_text(pilot)
        await pilot.press("c")
        commit = await wait_screen(pilot, PlanCommitDialog, "the plan commit")
        said = " ".join(str(commit.query_one("#plan-commit-text").render()).split())
        first = screen.selected.members[0].name
        other = screen.selected.members[1].name
        assert f"Not every check is ticked for {other}" in said and first not in said.split("ticked for", 1)[1]
