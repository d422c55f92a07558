"""Training mode driven by its keys: each lesson played to its end on a ManualClock, the walkthrough's reactions to
mistakes, time control, the debrief and its export, and the lesson picker."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest

from core.bootstrap import build_backend
from core.config import Settings
from core.failback import derive_stage
from core.model import JobState, Stage
from core.training import load_training
from tests.tui.helpers import lesson_app, screen_text, wait_for, wait_screen
from tui.dialogs.commit import CommitDialog
from tui.dialogs.confirm_failover import ConfirmFailoverDialog
from tui.dialogs.debrief import DebriefDialog
from tui.dialogs.point import PointDialog
from tui.dialogs.reprotect import ReprotectDialog
from tui.screens.job import JobScreen
from tui.screens.training_app import TrainingApp
from tui.screens.training_dashboard import TrainingDashboardScreen, TrainingPreflightScreen
from tui.screens.verify import VerifyScreen
from tui.widgets.speed import SimulatedTime, TrainingBanner

SIZE = (112, 32)


@pytest.fixture
def make_training(clock: Any, tmp_path: Path) -> Callable[..., TrainingApp]:
    def make(name: str, *, backend: Any = None, **kwargs: Any) -> TrainingApp:
        app: TrainingApp = lesson_app(name, clock, tmp_path / "exports", backend=backend, **kwargs)
        return app

    return make


# -- driving the dashboard ---------------------------------------------------------------------------------------


async def open_lesson(pilot: Any) -> TrainingDashboardScreen:
    screen = await wait_for(
        pilot, lambda: isinstance(pilot.app.screen, TrainingDashboardScreen) and pilot.app.screen, "the dashboard"
    )
    await wait_for(pilot, lambda: screen.loaded_at is not None and not screen.items_loading, "items loaded")
    return screen  # type: ignore[no-any-return]


async def select(pilot: Any, screen: TrainingDashboardScreen, name: str) -> None:
    table = screen.items_table
    item = next(i for i in table.items.values() if i.friendly_name == name)
    table.focus()
    table.move_cursor(row=table.get_row_index(item.id))
    await pilot.pause()
    assert table.selected is not None and table.selected.friendly_name == name


async def run_job_to_end(pilot: Any, clock: Any, job_name: str, *, step: float = 120.0, limit: int = 60) -> Any:
    """Advance the simulated clock step by step, polling after each, until the job ends."""
    app = pilot.app
    for _ in range(limit):
        job = app.session.jobs.get(job_name)
        if job is not None and job.state.is_terminal:
            await pilot.pause()
            return job
        clock.advance(step)
        now = clock.now()
        app.schedule_poll(0.0)
        await wait_for(
            pilot,
            lambda now=now: app.tracker.stats.last_poll == now and not app._polling,
            "a poll after the clock moved",
        )
        await pilot.pause()
    raise AssertionError(f"job {job_name} did not end")


async def job_screen_other_than(pilot: Any, *seen: str) -> JobScreen:
    app = pilot.app
    return await wait_for(  # type: ignore[no-any-return]
        pilot,
        lambda: isinstance(app.screen, JobScreen) and app.screen.job_name not in seen and app.screen,
        "a new job screen",
    )


async def preflight(pilot: Any) -> None:
    app = pilot.app
    before = len(app.walkthrough.choices)
    await pilot.press("F")
    await wait_screen(pilot, TrainingPreflightScreen, "preflight screen")
    await wait_for(pilot, lambda: len(app.walkthrough.choices) > before, "the preflight to reach the walkthrough")
    await pilot.press("escape")
    await wait_for(pilot, lambda: isinstance(app.screen, TrainingDashboardScreen), "back on the dashboard")


async def fail_back_latest(pilot: Any) -> None:
    await pilot.press("f")
    await wait_screen(pilot, PointDialog, "point dialog")
    await pilot.press("tab", "tab", "enter")  # Latest is chosen: Back, Continue
    await wait_screen(pilot, ConfirmFailoverDialog, "failover confirmation")
    await pilot.press("tab", "enter")  # Start failover


async def verify_all(pilot: Any, screen: TrainingDashboardScreen) -> None:
    await pilot.press("v")
    await wait_screen(pilot, VerifyScreen, "verify screen")
    await pilot.press("space", "tab", "space", "tab", "space", "tab", "space", "escape")
    await wait_for(pilot, lambda: pilot.app.screen is screen, "back on the dashboard")
    await wait_for(pilot, lambda: pilot.app.walkthrough.verified, "the walkthrough to see the checklist")


async def commit(pilot: Any, name: str) -> None:
    await pilot.press("c")
    await wait_screen(pilot, CommitDialog, "commit dialog")
    await pilot.press(*name, "enter", "enter")


async def reprotect(pilot: Any) -> None:
    await pilot.press("r")
    await wait_screen(pilot, ReprotectDialog, "reprotect dialog")
    await pilot.press("tab", "tab", "tab", "enter")  # servers, master targets, Back, Reprotect


async def back_to(pilot: Any, screen: TrainingDashboardScreen, name: str, stage: Stage) -> None:
    await pilot.press("escape")
    table = screen.items_table
    item_id = next(i.id for i in table.items.values() if i.friendly_name == name)
    await wait_for(pilot, lambda: derive_stage(table.items[item_id]) is stage, f"{name} to show {stage.short}")
    await select(pilot, screen, name)


async def export_and_debrief(pilot: Any) -> DebriefDialog:
    await pilot.press("E")
    dialog = await wait_screen(pilot, DebriefDialog, "the debrief at the lesson's end")
    return dialog  # type: ignore[no-any-return]


def step(app: TrainingApp) -> str:
    assert app.walkthrough is not None
    return app.walkthrough.current().key


def pane_text(screen: TrainingDashboardScreen) -> str:
    return " ".join(str(w.render()) for w in screen.pane.query("Static"))


# -- each lesson, to its end ---------------------------------------------------------------------------------------


async def test_single_vm_lesson_end_to_end_with_debrief_export(make_training, clock, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = make_training("train-single-vm")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_lesson(pilot)
        assert screen.pane.display, "docked beside the dashboard on a wide terminal"
        await select(pilot, screen, "web-shop-01")
        assert step(app) == "preflight"
        assert "press F" in pane_text(screen)

        await preflight(pilot)
        assert step(app) == "point"
        await fail_back_latest(pilot)
        praise = app.walkthrough.reactions[-1]
        assert praise.kind == "praise" and "the right call" in praise.title
        failover = await job_screen_other_than(pilot)
        job = await run_job_to_end(pilot, clock, failover.job_name)
        assert job.state is JobState.SUCCEEDED
        assert step(app) == "verify"
        await back_to(pilot, screen, "web-shop-01", Stage.FAILED_OVER)

        await verify_all(pilot, screen)
        assert step(app) == "commit"
        for _ in range(4):  # the trainer skips 20 minutes: the Mobility agent registers meanwhile
            await pilot.press("5")
        await commit(pilot, "web-shop-01")
        committing = await job_screen_other_than(pilot, failover.job_name)
        assert (await run_job_to_end(pilot, clock, committing.job_name)).state is JobState.SUCCEEDED
        await back_to(pilot, screen, "web-shop-01", Stage.COMMITTED)
        assert step(app) == "reprotect"

        await reprotect(pilot)
        protecting = await job_screen_other_than(pilot, failover.job_name, committing.job_name)
        assert (await run_job_to_end(pilot, clock, protecting.job_name)).state is JobState.SUCCEEDED
        await back_to(pilot, screen, "web-shop-01", Stage.PROTECTED_TO_AZURE)
        assert step(app) == "report"

        dialog = await export_and_debrief(pilot)
        report = next(p for p in app.exports if p.name.startswith("report-"))
        assert "web-shop-01" in report.read_text() and oct(report.stat().st_mode & 0o777) == "0o600"
        debrief = dialog.debrief
        assert debrief.completed and debrief.mistakes == () and debrief.point == "Latest"
        assert debrief.steps_done == 9
        await pilot.press("E")
        await pilot.pause()
        assert dialog.exported is not None and dialog.exported.parent == tmp_path / "exports"
        text = dialog.exported.read_text()
        assert text.startswith("# Training debrief: Training: fail back one VM")
        assert "Mistakes caught: 0" in text and "Latest: about" in text
        assert f"Saved to {dialog.exported}" in str(dialog.query_one("#export-path").render())


async def test_agent_window_lesson_explains_the_agent_error_and_ends_after_the_retry(make_training, clock) -> None:  # type: ignore[no-untyped-def]
    app = make_training("train-agent-window")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_lesson(pilot)
        await select(pilot, screen, "crm-app-01")
        assert step(app) == "verify"  # the failover happened before the lesson
        await verify_all(pilot, screen)
        await commit(pilot, "crm-app-01")
        committing = await job_screen_other_than(pilot)
        await run_job_to_end(pilot, clock, committing.job_name, step=60.0)
        await back_to(pilot, screen, "crm-app-01", Stage.COMMITTED)

        # Mistake: reprotect straight after the VM booted in AVS.
        await reprotect(pilot)
        first = await job_screen_other_than(pilot, committing.job_name)
        failed = await run_job_to_end(pilot, clock, first.job_name, step=20.0)
        assert failed.state is JobState.FAILED
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, "the dashboard")
        await wait_for(pilot, lambda: app.walkthrough.waiting_for_agent, "the agent error to reach the walkthrough")
        text = pane_text(screen)
        assert "The agent-registration window" in text and "Mobility agent" in text
        assert "wait for the countdown" in text  # the hint, while the tool retries

        await pilot.press("5")  # the trainer skips ahead; the tool retries on its own until the agent is registered
        for attempt in range(2, 12):
            retry = await wait_for(
                pilot,
                lambda attempt=attempt: next(
                    (s for s in app.session.started.values() if s.kind == "reprotect" and s.attempt == attempt), None
                ),
                f"reprotect attempt {attempt}",
            )
            if (await run_job_to_end(pilot, clock, retry.handle.job_name, step=60.0)).state is JobState.SUCCEEDED:
                break
            clock.advance(60)
        await wait_for(pilot, lambda: step(app) == "report", "the reprotect to end the lesson's work")
        assert app.walkthrough.mistakes == [], "the agent window is explained, never counted as a mistake"

        dialog = await export_and_debrief(pilot)
        assert dialog.debrief.mistakes == ()
        assert dialog.debrief.completed


async def test_failed_task_lesson_explains_the_task_error_and_the_restart(make_training, clock) -> None:  # type: ignore[no-untyped-def]
    app = make_training("train-failed-task")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_lesson(pilot)
        await select(pilot, screen, "erp-app-03")
        await preflight(pilot)
        await fail_back_latest(pilot)
        failover = await job_screen_other_than(pilot)
        job = await run_job_to_end(pilot, clock, failover.job_name)
        assert job.state is JobState.FAILED
        explained = app.walkthrough.reactions[-1]
        assert explained.kind == "explain" and "not enough free memory" in explained.text
        assert "Free memory in the AVS cluster" in explained.text
        assert "restart it (press R on the job screen)" in app.walkthrough.hint()

        await pilot.press("R")
        from tui.dialogs.confirm import ConfirmDialog

        await wait_screen(pilot, ConfirmDialog, "restart confirmation")
        await pilot.press("tab", "enter")
        await wait_for(pilot, lambda: app.walkthrough.failed_job == "", "the restart to reach the walkthrough")
        assert app.walkthrough.reactions[-1].title == "Restarted, not resent"
        again = await run_job_to_end(pilot, clock, job.name)
        assert again.state is JobState.SUCCEEDED
        assert step(app) == "verify"
        await back_to(pilot, screen, "erp-app-03", Stage.FAILED_OVER)

        await verify_all(pilot, screen)
        for _ in range(4):
            await pilot.press("5")
        await commit(pilot, "erp-app-03")
        committing = await job_screen_other_than(pilot, job.name)
        await run_job_to_end(pilot, clock, committing.job_name)
        await back_to(pilot, screen, "erp-app-03", Stage.COMMITTED)
        await reprotect(pilot)
        protecting = await job_screen_other_than(pilot, job.name, committing.job_name)
        assert (await run_job_to_end(pilot, clock, protecting.job_name)).state is JobState.SUCCEEDED
        await back_to(pilot, screen, "erp-app-03", Stage.PROTECTED_TO_AZURE)

        dialog = await export_and_debrief(pilot)
        assert dialog.debrief.completed and dialog.debrief.mistakes == ()
        assert any(c.what == "Restarted the failed job" for c in dialog.debrief.choices)


async def test_other_operator_lesson_follows_the_running_job(make_training, clock) -> None:  # type: ignore[no-untyped-def]
    from core.bootstrap import EMULATOR_BASE_URL
    from core.emulator import ArmEmulator, load_scenario

    lesson = load_training("train-other-operator")
    emulator = ArmEmulator(load_scenario(lesson.scenario), clock, base_url=EMULATOR_BASE_URL)
    app = make_training("train-other-operator", backend=build_backend(Settings(demo=True), emulator=emulator))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_lesson(pilot)
        await select(pilot, screen, "pay-app-01")
        await preflight(pilot)
        await pilot.press("f")
        await wait_screen(pilot, PointDialog, "point dialog")
        await pilot.press("tab", "tab", "enter")
        await wait_screen(pilot, ConfirmFailoverDialog, "failover confirmation")
        clock.advance(300)  # five minutes of hesitation: a colleague starts the failover meanwhile
        await pilot.press("tab", "enter")
        followed = await job_screen_other_than(pilot)
        await wait_for(pilot, lambda: followed.job_name in app._foreign_jobs, "the attach to reach the walkthrough")
        attached = next(r for r in app.walkthrough.reactions if r.title == "Someone else is on this VM")
        assert followed.job_name in attached.text
        sent = [path for method, path in emulator.stats.log if method == "POST" and "unplannedFailover" in path]
        assert sent == [], "nothing sent: the colleague's job was followed"
        assert (await run_job_to_end(pilot, clock, followed.job_name)).state is JobState.SUCCEEDED
        await back_to(pilot, screen, "pay-app-01", Stage.FAILED_OVER)

        await verify_all(pilot, screen)
        for _ in range(4):
            await pilot.press("5")
        await commit(pilot, "pay-app-01")
        committing = await job_screen_other_than(pilot, followed.job_name)
        await run_job_to_end(pilot, clock, committing.job_name)
        await back_to(pilot, screen, "pay-app-01", Stage.COMMITTED)
        await reprotect(pilot)
        protecting = await job_screen_other_than(pilot, followed.job_name, committing.job_name)
        assert (await run_job_to_end(pilot, clock, protecting.job_name)).state is JobState.SUCCEEDED
        await back_to(pilot, screen, "pay-app-01", Stage.PROTECTED_TO_AZURE)

        dialog = await export_and_debrief(pilot)
        assert dialog.debrief.completed and dialog.debrief.mistakes == ()
        assert any(c.what == "Followed another operator's failover job" for c in dialog.debrief.choices)


async def test_preflight_lesson_stops_at_the_fail_and_ends_with_the_report(make_training) -> None:  # type: ignore[no-untyped-def]
    app = make_training("train-preflight")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_lesson(pilot)
        await select(pilot, screen, "fin-app-01")
        await preflight(pilot)
        stop = app.walkthrough.reactions[-1]
        assert stop.title == "Preflight found a FAIL" and "ends here" in stop.text
        assert step(app) == "report"
        assert "do not fail over" in pane_text(screen)

        dialog = await export_and_debrief(pilot)
        assert dialog.debrief.completed and dialog.debrief.mistakes == ()
        assert "Stopped in time" in dialog.debrief.praise

        # Exporting again never overwrites: each export is its own file, readable by its owner only.
        await pilot.press("E")
        await pilot.pause()
        first = dialog.exported
        await pilot.press("E")
        await pilot.pause()
        assert first is not None and dialog.exported is not None and dialog.exported != first
        assert first.read_text() == dialog.exported.read_text()
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, "back on the dashboard")
        await pilot.press("E")
        await pilot.pause()
        reports = [p for p in app.exports if p.name.startswith("report-")]
        assert len(reports) == 2 and reports[0] != reports[1]
        assert all(oct(p.stat().st_mode & 0o777) == "0o600" for p in (*reports, first, dialog.exported))


# -- the walkthrough's reactions to mistakes -------------------------------------------------------------------------


async def test_mistakes_are_explained_in_the_pane_as_they_happen(make_training, clock) -> None:  # type: ignore[no-untyped-def]
    app = make_training("train-single-vm")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_lesson(pilot)
        await select(pilot, screen, "web-shop-01")

        # 1. No preflight, and 2. an older point than the lesson needs (acknowledged in the dialog).
        await pilot.press("f")
        await wait_screen(pilot, PointDialog, "point dialog")
        await pilot.press("down", "enter", "tab", "space", "tab", "tab", "enter")
        await wait_screen(pilot, ConfirmFailoverDialog, "failover confirmation")
        assert "An older point than needed" in pane_text(screen)
        await pilot.press("tab", "enter")
        failover = await job_screen_other_than(pilot)
        assert "Failover without a preflight" in pane_text(screen)
        assert (await run_job_to_end(pilot, clock, failover.job_name)).state is JobState.SUCCEEDED
        await back_to(pilot, screen, "web-shop-01", Stage.FAILED_OVER)

        # 3. Commit before the checklist: the why is shown, not only the dialog's refusal to hurry.
        await pilot.press("c")
        await wait_screen(pilot, CommitDialog, "commit dialog")
        assert "Verify before you commit" in pane_text(screen)
        assert "no way back to the copy that was running in Azure" in pane_text(screen)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, "back on the dashboard")

        # The newest reaction comes first, each with its glyph and word.
        text = pane_text(screen)
        assert text.index("ℹ Why: Verify before you commit") < text.index("⚠ Careful: Failover without a preflight")
        assert "ℹ Why: An older point than needed" in text
        keys = [m.key for m in app.walkthrough.mistakes]
        assert keys == ["older-point-alone", "skipped-preflight", "commit-before-verify"]

        await pilot.press("d")  # the debrief on demand, before the lesson is over
        dialog = await wait_screen(pilot, DebriefDialog, "debrief")
        assert not dialog.debrief.completed and len(dialog.debrief.mistakes) == 3
        assert dialog.debrief.point == "Latest app-consistent"


# -- time, layout, the picker -----------------------------------------------------------------------------------------


async def test_speed_key_cycles_and_skip_moves_simulated_time(make_training, clock) -> None:  # type: ignore[no-untyped-def]
    app = make_training("train-single-vm")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_lesson(pilot)
        banner = str(screen.query_one(TrainingBanner).render())
        assert "SIMULATION" in banner and "TRAINING, time 1×" in banner
        seen = []
        for _ in range(4):
            await pilot.press("n")
            await pilot.pause()
            seen.append(str(screen.query_one(TrainingBanner).render()).rsplit("TRAINING, ", 1)[1].strip())
        assert seen == ["time 10×", "time 60×", "time paused", "time 1×"]

        before = clock.now()
        await pilot.press("5")
        await pilot.pause()
        assert (clock.now() - before).total_seconds() == 300
        assert clock.now().strftime("%H:%M:%S UTC") in pane_text(screen)

        # Every screen says so, not only the dashboard: the job history here.
        from tui.screens.jobs import JobsScreen
        from tui.widgets.banner import ModeBanner

        await pilot.press("J")
        jobs = await wait_screen(pilot, JobsScreen, "job history")
        await wait_for(
            pilot, lambda: "TRAINING, time 1×" in str(jobs.query_one(ModeBanner).render()), "the speed on its banner"
        )
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, "back on the dashboard")

        titles = {c.title for c in app.get_system_commands(screen)}
        assert {"Time: pause", "Time: 1×", "Time: 10×", "Time: 60×", "Time: skip ahead 5 minutes"} <= titles
        assert {"Debrief", "Export session report", "Walkthrough"} <= titles


def test_simulated_time_drives_an_accelerated_clock() -> None:
    from core.clock import AcceleratedClock

    clock = AcceleratedClock(speed=1.0)
    sim = SimulatedTime(clock)
    sim.set(0)
    frozen = clock.now()
    assert clock.now() == frozen and clock.speed == 0 and sim.label == "paused"
    sim.skip()
    assert (clock.now() - frozen).total_seconds() == 300
    assert sim.cycle() == 1 and clock.speed == 1
    assert sim.cycle() == 10 and clock.speed == 10
    with pytest.raises(ValueError, match="not one of"):
        sim.set(7)


async def test_walkthrough_is_hidden_at_80x24_and_toggled_with_w(make_training) -> None:  # type: ignore[no-untyped-def]
    app = make_training("train-single-vm")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_lesson(pilot)
        assert not screen.pane.display
        await pilot.press("w")
        await pilot.pause()
        assert screen.pane.display and "Walkthrough" in screen_text(pilot)
        await pilot.press("w")
        await pilot.pause()
        assert not screen.pane.display


async def test_picker_shows_each_lesson_and_starts_the_chosen_one(clock, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from core.training import list_training
    from tui.screens.training import TrainingPickerScreen

    lessons = list_training()
    app = TrainingApp(clock=clock, tz=UTC, ascii_glyphs=False, tick_seconds=0.05, export_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        picker = await wait_screen(pilot, TrainingPickerScreen, "the lesson picker")
        text = screen_text(pilot)
        assert "SIMULATION" in text and lessons[0].title.removeprefix("Training: ") in text
        assert lessons[0].length in text  # level and length in the list, not only the title
        shown = " ".join(str(picker.query_one("#lesson-text").render()).split())
        assert lessons[0].goals[0] in shown
        await pilot.press("down")
        await pilot.pause()
        detail = str(picker.query_one("#lesson-text").render())
        assert lessons[1].brief[:40] in detail and "You will learn to" in detail
        await pilot.press("enter")
        screen = await open_lesson(pilot)
        assert app.lesson is not None and app.lesson.name == lessons[1].name
        names = {i.friendly_name for i in screen.items_table.items.values()}
        assert set(lessons[1].focus_items) <= names


async def activate(pilot: Any, selector: str) -> None:
    """Focus a control of the active screen and press it, as the trainee would with Tab and Enter / Space."""
    widget = pilot.app.screen.query_one(selector)
    widget.focus()
    await pilot.pause()
    await pilot.press("enter" if widget.__class__.__name__ == "Button" else "space")
    await pilot.pause()


async def test_consistency_group_lesson_fails_back_the_plan_on_its_common_point(make_training, clock) -> None:  # type: ignore[no-untyped-def]
    from tui.dialogs.confirm import ConfirmDialog
    from tui.dialogs.plan_commit import PlanCommitDialog
    from tui.dialogs.plan_point import PlanPointDialog
    from tui.dialogs.plan_reprotect import PlanReprotectDialog
    from tui.screens.preflight import PreflightGate
    from tui.screens.training_plans import TrainingPlansScreen

    app = make_training("train-consistency-group")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_lesson(pilot)
        assert "the recovery plan rp-orders" in pane_text(screen)
        await pilot.press("p")
        plans = await wait_screen(pilot, TrainingPlansScreen, "plans screen")
        await wait_for(pilot, lambda: plans.selected is not None and not plans.loading, "plans read")
        assert plans.selected.plan.name == "rp-orders"
        await wait_for(pilot, lambda: step(app) == "preflight", "the plan to count as picked")

        await pilot.press("f")
        gate = await wait_screen(pilot, PreflightGate, "the plan's preflight")
        await wait_for(pilot, lambda: gate.report is not None, "the report")
        assert step(app) == "point", "the plan's preflight was read"
        await activate(pilot, "#continue")
        await wait_screen(pilot, PlanPointDialog, "plan point dialog")
        await pilot.press("down", "enter")  # app-consistent: the group's common point
        await activate(pilot, "#plan-ack")
        await activate(pilot, "#continue")
        right = app.walkthrough.reactions[-1]
        assert right.kind == "praise" and "same instant" in right.text
        await wait_screen(pilot, ConfirmDialog, "confirmation")
        await activate(pilot, "#confirm")
        failover = await job_screen_other_than(pilot)
        assert (await run_job_to_end(pilot, clock, failover.job_name)).state is JobState.SUCCEEDED
        await wait_for(pilot, lambda: step(app) == "verify", "the plan job to end the watch")

        while app.screen is not screen:
            await pilot.press("escape")
            await pilot.pause()
        for name in app.lesson.focus_items:
            await wait_for(
                pilot,
                lambda name=name: any(
                    i.friendly_name == name and derive_stage(i) is Stage.FAILED_OVER
                    for i in screen.items_table.items.values()
                ),
                f"{name} failed over",
            )
            await select(pilot, screen, name)
            await pilot.press("v")
            await wait_screen(pilot, VerifyScreen, "verify screen")
            await pilot.press("space", "tab", "space", "tab", "space", "tab", "space", "escape")
            await wait_for(pilot, lambda: app.screen is screen, "back on the dashboard")
        await wait_for(pilot, lambda: app.walkthrough.verified, "every VM of the plan verified")

        await pilot.press("p")
        plans = await wait_screen(pilot, TrainingPlansScreen, "plans screen")
        await wait_for(pilot, lambda: plans.selected is not None and plans.selected.stage is Stage.FAILED_OVER, "plan")
        await pilot.press("c")
        await wait_screen(pilot, PlanCommitDialog, "plan commit dialog")
        await pilot.press(*"rp-orders", "enter", "enter")
        committing = await job_screen_other_than(pilot, failover.job_name)
        assert (await run_job_to_end(pilot, clock, committing.job_name)).state is JobState.SUCCEEDED
        await wait_for(pilot, lambda: step(app) == "reprotect", "the commit to end")
        while app.screen is not plans:
            await pilot.press("escape")
            await pilot.pause()
        await wait_for(pilot, lambda: plans.selected.stage is Stage.COMMITTED and not plans.loading, "committed")

        # Straight after the commit the agents have not registered: explained, and the screen retries by itself.
        await pilot.press("r")
        await wait_screen(pilot, PlanReprotectDialog, "plan reprotect dialog")
        await activate(pilot, "#reprotect")
        await wait_for(pilot, lambda: plans.reprotect is not None, "the plan reprotect")
        for _ in range(40):
            if plans.reprotect.done():
                break
            steps = plans.reprotect_steps
            clock.advance(240)
            await wait_for(
                pilot, lambda steps=steps: plans.reprotect_steps > steps or not plans.reprotect_running, "a step"
            )
        await wait_for(pilot, lambda: step(app) == "report", "every VM protected")
        assert "The agent-registration window" in pane_text(screen)
        await wait_for(pilot, lambda: not plans.reprotect_running, "the reprotect loop to end")
        while app.screen is not screen:
            await pilot.press("escape")
            await pilot.pause()

        dialog = await export_and_debrief(pilot)
        assert dialog.debrief.completed
        assert dialog.debrief.mistakes == ()
        assert dialog.debrief.point == "Latest app-consistent"


async def test_a_fail_shown_by_the_gate_before_the_point_dialog_counts_as_read(make_training) -> None:  # type: ignore[no-untyped-def]
    from tui.screens.training_dashboard import TrainingPreflightGate

    app = make_training("train-preflight")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_lesson(pilot)
        await select(pilot, screen, "fin-app-01")
        await pilot.press("f")  # straight to fail back: the product checks first and stops at the FAIL
        gate = await wait_screen(pilot, TrainingPreflightGate, "the preflight gate")
        await wait_for(pilot, lambda: gate.report is not None, "the gate's report")
        assert not gate.report.ok
        await wait_for(pilot, lambda: step(app) == "report", "the FAIL to reach the walkthrough")
        assert app.walkthrough.reactions[-1].title == "Preflight found a FAIL"
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, "back on the dashboard")
        assert "do not fail over" in pane_text(screen)


async def test_reactions_go_to_the_pane_when_it_shows_and_to_a_notice_when_it_does_not(make_training) -> None:  # type: ignore[no-untyped-def]
    app = make_training("train-single-vm")
    async with app.run_test(size=(130, 36), notifications=True) as pilot:
        screen = await open_lesson(pilot)
        assert screen.pane.display
        await select(pilot, screen, "web-shop-01")
        await pilot.press("f")  # no preflight read yet: the nudge comes now, before the point dialog
        await wait_for(pilot, lambda: app.walkthrough.reactions, "the nudge")
        assert app.walkthrough.reactions[-1].title == "Preflight first?"
        await pilot.pause()
        await pilot.pause()
        assert not app._notifications, "the pane shows it: no notice over the dashboard as well"
        assert "Preflight first?" in " ".join(str(screen.query_one("#wt-reactions").render()).split())
        from tui.dialogs.point import PointDialog

        await wait_screen(pilot, PointDialog, "the point dialog, after the check found nothing blocking")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, "back on the dashboard")
        await pilot.press("w")  # the pane hidden, as at 80 columns
        await pilot.pause()
        app.observe("item_selected", item="db-01")  # an item outside the lesson: explained
        await pilot.pause()
        notes = [n for n in app._notifications if "w shows the walkthrough" in n.title]
        assert notes and notes[-1].title.startswith("Not this lesson's VM")
