"""The recovery plans screen in training mode: the plan lesson's moves reported to the walkthrough."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer

from core.plans import MemberState, PlanView, can_commit_plan
from tui.screens.plans import PlanFailoverPrepared, PlanOperationSent, PlanReprotectStepped, PlansScreen
from tui.screens.training_app import TIME_BINDINGS, out_of_footer
from tui.widgets.lesson_keys import PLAN_LESSON_KEY_IDS, LessonKeys

# Kept on their keys, out of the footer, which at 80 columns has room for the plan verbs only. The lesson line names
# the first two, and F1.
_QUIETER = ("plan-open-job", "plan-preflight", "plan-resume", "plans-refresh")


class TrainingPlansScreen(PlansScreen):
    """Same keys and dialogs as the plans screen; the App's walkthrough hears what the trainee does here."""

    BINDING_GROUP_TITLE = "Training lesson"
    BINDINGS = [
        *(replace(b, show=False) for b in PlansScreen.BINDINGS if isinstance(b, Binding) and b.id in _QUIETER),
        Binding("ctrl+q", "app.quit", "Quit", id="quit-plans-ctrl", show=False),
        Binding("f1", "app.help", "Help", id="help", show=False, tooltip="List every key"),
        *out_of_footer(TIME_BINDINGS),
    ]

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if isinstance(widget, Footer):
                yield LessonKeys(PLAN_LESSON_KEY_IDS, id="lesson-keys")
            yield widget

    def __init__(self, select: str = "") -> None:
        super().__init__(select=select)
        self._observed_plan = ""
        self._agent_said = False

    @property
    def _training(self) -> Any:
        return self.app

    def _is_lesson_plan(self, view: PlanView | None) -> bool:
        lesson = getattr(self.app, "lesson", None)
        return bool(view and lesson and lesson.plan and view.plan.name.lower() == lesson.plan.lower())

    @on(DataTable.RowHighlighted, "#plans")
    def _training_plan(self, event: DataTable.RowHighlighted) -> None:
        view = self.selected
        if view is None or view.plan.name == self._observed_plan:
            return
        self._observed_plan = view.plan.name
        self._training.observe("plan_selected", item=view.plan.name)

    def on_plan_failover_prepared(self, message: PlanFailoverPrepared) -> None:
        if message.report is not None and self._is_lesson_plan(message.view):
            # The plan's preflight report is always shown before its point choice: the trainee reads it there.
            self._training.preflight_done(message.report)

    def _confirm_failover(self, view: PlanView, choice: Any) -> None:
        if self._is_lesson_plan(view):
            self._training.observe(
                "point_chosen", choice=choice.choice, loss_seconds=choice.loss_seconds, acknowledged=choice.acknowledged
            )
        super()._confirm_failover(view, choice)

    def on_plan_operation_sent(self, message: PlanOperationSent) -> None:
        started = message.started
        if message.error is not None or started is None or message.kind not in ("plan-failover", "plan-commit"):
            return
        operation = "failover" if message.kind == "plan-failover" else "commit"
        self._training.lesson_job(started.handle.job_name)
        if started.attached:
            self._training.observe("attached_to_other_job", operation=operation, job=started.handle.job_name)
        else:
            self._training.observe(f"{operation}_started")

    def action_commit_plan(self) -> None:
        view = self.selected
        if view is not None and self._is_lesson_plan(view) and can_commit_plan(view).allowed:
            self._training.observe("commit_attempted", verified=self._training.plan_verified())
        super().action_commit_plan()

    def on_screen_resume(self) -> None:
        # Back from the plan's checklist: the walkthrough hears of the VMs verified there.
        self._training.plan_verified()

    def start_reprotect(self, view: PlanView, target: Any) -> None:
        if self._is_lesson_plan(view):
            self._training.observe("reprotect_started", since_failover_seconds=self._since_boot(view))
        super().start_reprotect(view, target)

    def _since_boot(self, view: PlanView) -> float | None:
        now: datetime | None = self.app.backend_now()  # type: ignore[attr-defined]
        booted = [m.item.last_successful_failover_time for m in view.members if m.item.last_successful_failover_time]
        if now is None or not booted:
            return None
        return max(0.0, (now - max(booted)).total_seconds())

    def on_plan_reprotect_stepped(self, message: PlanReprotectStepped) -> None:
        if not self._is_lesson_plan(self.selected):
            return
        if not self._agent_said and any(p.state is MemberState.WAITING_FOR_AGENT for p in message.progress):
            self._agent_said = True
            self._training.observe("reprotect_failed_agent")
        if message.done and message.progress and all(p.state is MemberState.PROTECTED for p in message.progress):
            self._training.observe("reprotect_succeeded")
