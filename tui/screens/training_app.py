"""Training mode: the dashboard App opened on a lesson, with simulated time, the walkthrough and the debrief."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from textual import events
from textual.app import SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from core.clock import AcceleratedClock
from core.failback import is_agent_registration_failure
from core.model import Job, ProtectedItem
from core.training import SPEEDS, Reaction, TrainingScenario, Walkthrough, describe_speed
from tui.app import FailbackApp
from tui.messages import (
    BackendReady,
    CancelStarted,
    CommitStarted,
    FailoverStarted,
    JobActionAccepted,
    JobsPolled,
    OperationStarted,
    ReprotectStarted,
)
from tui.text import clean
from tui.widgets.speed import SimulatedTime

# The keys the walkthrough names in its hints (the dashboard's bindings, and the ones added here).
TRAINING_KEYS: dict[str, str] = {
    "select": "↑↓",
    "preflight": "F",
    "point": "f",
    "failover": "f",
    "jobs": "t",
    "restart": "R on the job screen",
    "verify": "v",
    "commit": "c",
    "reprotect": "r",
    "cancel": "B",
    "report": "E",
    "speed": "n",
    "skip": "5",
    "debrief": "d",
}
# Shown in the footer of the screens a lesson passes through (job detail, history); the training screens name
# them on their lesson line instead, where they do not crowd out the dashboard's verbs.
TIME_BINDINGS: list[BindingType] = [
    Binding("n", "cycle_speed", "Speed", id="training-speed", tooltip="Simulated time: paused, 1×, 10×, 60×"),
    Binding("5", "skip_ahead", "+5 min", id="training-skip", tooltip="Skip 5 minutes of simulated time"),
    Binding("d", "debrief", "Debrief", id="training-debrief", tooltip="The debrief so far, exportable"),
]


def out_of_footer(bindings: list[BindingType]) -> list[BindingType]:
    """The app's lesson keys bound again on a screen, same ids and actions, without a footer entry."""
    return [
        replace(b, action=b.action if "." in b.action else f"app.{b.action}", show=False)
        for b in bindings
        if isinstance(b, Binding)
    ]


_SEVERITY = {"praise": "information", "explain": "information", "warn": "warning"}


def training_dir() -> Path:
    """Where a training session keeps its journal and exports: the user's private state directory."""
    from core.config import state_dir

    return state_dir() / "training"


class TrainingApp(FailbackApp):
    """`lesson` given: straight to its dashboard; else the picker first. Always on the in-process emulator."""

    TITLE = "avs-failback training"
    # Resolved from this file otherwise: the stylesheet is the dashboard's own.
    CSS_PATH = str(Path(__file__).resolve().parent.parent / "app.tcss")
    BINDING_GROUP_TITLE = "Training, on every screen"
    BINDINGS = TIME_BINDINGS

    def __init__(
        self,
        lesson: TrainingScenario | None = None,
        *,
        lessons: list[TrainingScenario] | None = None,
        clock: Any = None,
        backend: Any = None,
        speed: float = 1.0,
        export_dir: Path | None = None,
        real_time: Callable[[], float] = time.monotonic,
        **kwargs: Any,
    ) -> None:
        clock = clock if clock is not None else AcceleratedClock(speed=speed)
        super().__init__(None, clock=clock, **kwargs)
        self.lesson = lesson
        self._lessons = lessons
        self._given_backend = backend
        self._real_time = real_time
        self._export_dir = export_dir
        self.sim_time = SimulatedTime(clock, speed)
        self.training_keys = dict(TRAINING_KEYS)
        self.walkthrough: Walkthrough | None = None
        self.debrief_shown = False
        self._finished_jobs: set[tuple[str, str, str]] = set()
        self._foreign_jobs: set[str] = set()
        self._lesson_jobs: set[str] = set()  # jobs sent from screens that do not record them in the session
        self.exports: list[Path] = []

    @property
    def simulated(self) -> bool:
        return True

    @property
    def export_dir(self) -> Path:
        return self._export_dir if self._export_dir is not None else training_dir()

    # -- start-up: the picker, then the lesson -------------------------------------------------------------

    def on_mount(self, event: events.Mount) -> None:  # type: ignore[override]
        # Replaces the dashboard's start-up: no vault exists until a lesson is chosen.
        event.prevent_default()
        self.set_interval(self.tick_seconds, self._tick)
        if self.lesson is not None:
            self.start_lesson(self.lesson)
            return
        from core.training import list_training
        from tui.screens.training import TrainingPickerScreen

        lessons = self._lessons if self._lessons is not None else list_training()

        def chosen(lesson: TrainingScenario | None) -> None:
            if lesson is not None:
                self.start_lesson(lesson)

        self.push_screen(TrainingPickerScreen(lessons), chosen)

    def start_lesson(self, lesson: TrainingScenario) -> None:
        from core.config import Settings
        from core.journal import Journal
        from tui.screens.training_dashboard import TrainingDashboardScreen

        self.lesson = lesson
        if lesson.plan:
            # A plan is failed back, committed and reprotected from the plans screen; each VM is verified from here.
            self.training_keys.update(
                select="p for the plans, then ↑↓",
                preflight="f on the plans screen",
                point="f on the plans screen",
                failover="f on the plans screen",
                verify="v on the plans screen, for each of the plan's VMs",
                commit="c on the plans screen",
                reprotect="r on the plans screen",
            )
        self.settings = Settings(demo=True, scenario=lesson.scenario, speed=max(self.sim_time.speed, 1.0))
        self.walkthrough = Walkthrough(lesson, self.clock, keys=self.training_keys, real_time=self._real_time)
        stamp = self.clock.now().strftime("%Y%m%d-%H%M%S")
        # The session's own journal: what the report is made of, never the operator's real journal. Several
        # trainees may start the same lesson in the same second (one process per browser tab): a random suffix.
        name = f"journal-{lesson.name}-{stamp}-{uuid.uuid4().hex[:8]}.jsonl"
        self.journal = Journal(self.export_dir / name, clock=self.clock)
        self.sub_title = clean(lesson.title)
        self.push_screen(TrainingDashboardScreen())
        if self._given_backend is not None:
            self.post_message(BackendReady(self._given_backend))
        else:
            self.call_after_refresh(self.build_backend)

    def on_backend_ready(self, message: BackendReady) -> None:
        if self.journal is not None:
            self.journal.vault = message.backend.vault.arm_id

    # -- the walkthrough ----------------------------------------------------------------------------------

    def is_focus_item(self, item: ProtectedItem) -> bool:
        if self.lesson is None:
            return False
        names = {n.lower() for n in self.lesson.focus_items}
        return item.name.lower() in names or (item.friendly_name or "").lower() in names

    def lesson_job(self, job_name: str) -> None:
        """A job the trainee started from a screen that keeps its own record (the plans screen)."""
        self._lesson_jobs.add(job_name)

    def _reload_dashboard(self) -> None:
        from tui.screens.training_dashboard import TrainingDashboardScreen

        for screen in self.screen_stack:
            if isinstance(screen, TrainingDashboardScreen) and screen.is_mounted:
                screen.action_refresh()

    def plan_verified(self) -> bool:
        from tui.screens.training_dashboard import TrainingDashboardScreen

        dashboard = next((s for s in self.screen_stack if isinstance(s, TrainingDashboardScreen)), None)
        return dashboard is not None and dashboard.sync_plan_verification()

    def action_plans(self, select: str = "") -> None:
        from tui.screens.training_plans import TrainingPlansScreen

        if not isinstance(self.screen, TrainingPlansScreen):
            self.push_screen(TrainingPlansScreen(select=select or (self.lesson.plan if self.lesson else "") or ""))

    def _is_lesson_job(self, job: Job) -> bool:
        if job.name in self.session.started or job.name in self._foreign_jobs or job.name in self._lesson_jobs:
            return True
        if self.lesson is None:
            return False
        targets = {n.lower() for n in self.lesson.focus_items}
        if self.lesson.plan:
            targets.add(self.lesson.plan.lower())
        return bool({job.target_object_name.lower(), job.target_object_id.rsplit("/", 1)[-1].lower()} & targets)

    def observe(self, event: str, **data: Any) -> Reaction | None:
        """Tell the walkthrough what happened; show its reaction in the pane and as a notification."""
        walk = self.walkthrough
        if walk is None:
            return None
        reaction = walk.observe(event, **data)
        if reaction is not None and not self._walkthrough_in_view():
            # The pane says it when it is on screen; a notification is for when it is not (a small terminal, the
            # job screen), and it says where the rest is.
            hint = " (w shows the walkthrough)" if self._dashboard_in_front() else ""
            self.notify(
                reaction.text,
                title=reaction.title + hint,
                severity=_SEVERITY.get(reaction.kind),  # type: ignore[arg-type]
                timeout=12,
            )
        self.refresh_walkthrough()
        if walk.finished and not self.debrief_shown:
            self.debrief_shown = True
            self.call_later(self.action_debrief)
        return reaction

    def _dashboard_in_front(self) -> bool:
        from tui.screens.training_dashboard import TrainingDashboardScreen

        return isinstance(self.screen, TrainingDashboardScreen)

    def _walkthrough_in_view(self) -> bool:
        return self._dashboard_in_front() and bool(self.screen.pane.display)  # type: ignore[attr-defined]

    def refresh_walkthrough(self) -> None:
        from tui.screens.training_dashboard import TrainingDashboardScreen

        for screen in self.screen_stack:
            if isinstance(screen, TrainingDashboardScreen) and screen.is_mounted:
                screen.refresh_walkthrough()

    def note_foreign_job(self, operation: str, job_name: str) -> None:
        """A job on a lesson's VM that this session did not start: another operator's, followed, not resent."""
        if job_name in self._foreign_jobs:
            return
        self._foreign_jobs.add(job_name)
        self.follow(job_name)
        self.observe("attached_to_other_job", operation=operation, job=job_name)

    def preflight_done(self, report: Any) -> None:
        """A preflight report the trainee read on the preflight screen."""
        self.observe(
            "preflight_run",
            ok=report.ok,
            failures=[c.title for c in report.failures],
            warnings=[c.title for c in report.warnings],
        )

    # -- operations and jobs, as the App hears of them (the dashboard's own handling runs as well) ----------

    def _operation_started(self, message: OperationStarted, operation: str, **data: Any) -> None:
        """Sent by this session (`{operation}_started`), or a job already on the target, followed instead."""
        if message.note:
            self._foreign_jobs.add(message.handle.job_name)
            self.observe("attached_to_other_job", operation=operation, job=message.handle.job_name)
        else:
            self.observe(f"{operation}_started", **data)

    def on_failover_started(self, message: FailoverStarted) -> None:
        self._operation_started(message, "failover")

    def on_commit_started(self, message: CommitStarted) -> None:
        self._operation_started(message, "commit")

    def on_cancel_started(self, message: CancelStarted) -> None:
        self._operation_started(message, "cancel")

    def on_reprotect_started(self, message: ReprotectStarted) -> None:
        if message.attempt != 1:
            return  # the automatic retry: the walkthrough already said why it happens
        self._operation_started(message, "reprotect", since_failover_seconds=self._since_failover(message.item))

    def _since_failover(self, item: ProtectedItem | None) -> float | None:
        booted = item.last_successful_failover_time if item is not None else None
        if booted is None or self.backend is None:
            return None
        now: datetime = self.backend.now()
        return max(0.0, (now - booted).total_seconds())

    def on_job_action_accepted(self, message: JobActionAccepted) -> None:
        if message.kind == "restart":
            self.observe("job_restarted", job=message.job_name or message.handle.job_name)

    def on_jobs_polled(self, message: JobsPolled) -> None:
        for job in message.changed:
            if not job.state.is_terminal or not self._is_lesson_job(job):
                continue
            if self.lesson is not None and self.lesson.plan and "protect" in job.scenario_name.lower():
                continue  # a plan's reprotect is one per VM: the plans screen reports the whole of it
            key = (job.name, job.state.value, job.end_time.isoformat() if job.end_time else "")
            if key in self._finished_jobs:
                continue
            self._finished_jobs.add(key)
            if self.journal is not None:
                self.journal.job_update(job)
            started = self.session.started.get(job.name)
            if started is not None and started.kind == "reprotect" and is_agent_registration_failure(job):
                item = self._item(started.item_id)
                self.observe("reprotect_failed_agent", since_failover_seconds=self._since_failover(item))
            else:
                self.observe("job_finished", job=job, name=job.name)
            if job.name in self._lesson_jobs:
                # A plan's job changes its VMs, which the dashboard does not follow by itself.
                self._reload_dashboard()

    # -- time control ----------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("cycle_speed", "skip_ahead", "debrief", "set_speed"):
            return self.walkthrough is not None
        return True

    def _tick(self) -> None:
        super()._tick()
        self._label_banners()

    def _label_banners(self) -> None:
        from tui.widgets.banner import ModeBanner
        from tui.widgets.speed import label_banner

        if self.screen_stack:
            for banner in self.screen.query(ModeBanner):
                label_banner(banner)

    def _time_changed(self) -> None:
        self._label_banners()
        for screen in self.screen_stack:
            tick = getattr(screen, "on_clock_tick", None)
            if callable(tick) and screen.is_mounted and self.backend is not None:
                tick(self.backend.now())
        self.refresh_walkthrough()

    def action_cycle_speed(self) -> None:
        self.sim_time.cycle()
        self.notify(f"Simulated time: {self.sim_time.label}", timeout=3)
        self._time_changed()

    def action_set_speed(self, speed: float) -> None:
        self.sim_time.set(speed)
        self.notify(f"Simulated time: {self.sim_time.label}", timeout=3)
        self._time_changed()

    def action_skip_ahead(self) -> None:
        self.sim_time.skip()
        self.notify("Skipped 5 minutes of simulated time.", timeout=3)
        self._time_changed()
        self.schedule_poll(0.0)

    # -- the debrief and the report ----------------------------------------------------------------------------

    def action_debrief(self) -> None:
        from tui.dialogs.debrief import DebriefDialog

        if self.walkthrough is None or isinstance(self.screen, DebriefDialog):
            return

        def closed(path: Path | None) -> None:
            if path is not None:
                self.exports.append(path)

        self.push_screen(DebriefDialog(self.walkthrough.debrief(), self.export_dir), closed)

    def export_report(self) -> Path | None:
        """The session report (core.report over this session's journal), written as Markdown; its path."""
        from core.report import render_report
        from tui.dialogs.debrief import unique_path, write_private

        if self.journal is None or self.lesson is None:
            return None
        now: datetime = self.clock.now()
        path = unique_path(self.export_dir, f"report-{self.lesson.name}-{now.strftime('%Y%m%d-%H%M%S')}")
        text = render_report(self.journal.entries(), title=f"Training session report: {self.lesson.title}")
        try:
            write_private(path, text)
        except OSError as exc:
            self.notify(f"Could not write {path}: {exc.strerror or exc}", severity="error")
            return None
        self.exports.append(path)
        self.observe("report_exported", path=str(path))
        return path

    # -- the palette ----------------------------------------------------------------------------------------------

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if self.walkthrough is None:
            return
        for speed in SPEEDS:
            title = "Time: pause" if speed <= 0 else f"Time: {describe_speed(speed)}"
            yield SystemCommand(title, "Speed of simulated time", self._speed_command(speed))
        yield SystemCommand("Time: skip ahead 5 minutes", "Jump simulated time forward", self.action_skip_ahead)
        yield SystemCommand("Debrief", "Choices, data loss, time taken, mistakes; export", self.action_debrief)
        dashboard: Any = next((s for s in self.screen_stack if hasattr(s, "action_export_report")), None)
        if dashboard is not None:
            yield SystemCommand("Export session report", "Markdown, path shown", dashboard.action_export_report)
            yield SystemCommand("Walkthrough", "Show or hide the lesson pane", dashboard.action_toggle_walkthrough)

    def _speed_command(self, speed: float) -> Callable[[], None]:
        def run() -> None:
            self.action_set_speed(speed)

        return run
