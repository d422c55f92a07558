"""Recovery plans: boot groups, members and their stages, the plan's job; plan failback, commit, reprotect, resume."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from core.errors import FailbackError
from core.model import Fabric, Job, JobState, PointChoice, ProtectedItem, RecoveryPlan, RecoveryPoint, Stage
from core.plans import (
    MemberProgress,
    MemberState,
    PlanLoss,
    PlanReprotect,
    PlanView,
    action_done,
    can_cancel_plan,
    can_commit_plan,
    manual_actions,
    members_to_reprotect,
    pending_actions,
    plan_is_modernized,
    plan_loss,
    plan_next_step,
    plan_point_summary,
    plan_type_options,
    plan_view,
    waiting_task,
)
from core.preflight import PreflightReport
from tui.glyphs import Glyphs
from tui.messages import BackendReady, JobUpdated, OperationStarted
from tui.screens.refresh import PeriodicRead, read_interval
from tui.session import ActionRecord
from tui.text import clean, compact_duration
from tui.widgets.banner import ModeBanner
from tui.widgets.pane import Pane
from tui.widgets.table import FreshTable

# Member states of a plan reprotect, drawn with the job-state glyph of the same meaning.
MEMBER_GLYPH_STATE = {
    MemberState.PENDING: JobState.NOT_STARTED,
    MemberState.RUNNING: JobState.IN_PROGRESS,
    MemberState.WAITING_FOR_AGENT: JobState.SUSPENDED,
    MemberState.PROTECTED: JobState.SUCCEEDED,
    MemberState.FAILED: JobState.FAILED,
    MemberState.BLOCKED: JobState.CANCELLED,
}
# Below this width the plan detail goes under the list: beside it, both would be cut.
NARROW_BELOW = 110
PLAN_COLUMNS = (("plan", "Plan"), ("vms", "VMs and stages"), ("job", "Job"))


@dataclass(eq=False)
class PlansRead(Message, bubble=False):
    plans: list[RecoveryPlan]
    items: list[ProtectedItem]
    read_at: datetime
    error: BaseException | None = None


@dataclass(eq=False)
class PlanFailoverPrepared(Message, bubble=False):
    """Fresh plan, members, points and the preflight report: what the failback dialogs rest on."""

    view: PlanView | None
    report: PreflightReport | None
    points: dict[str, list[RecoveryPoint]] = field(default_factory=dict)
    error: BaseException | None = None


@dataclass(eq=False)
class PlanLossGrew(Message, bubble=False):
    """Nothing was sent: the loss accepted grew while the dialogs were open; `loss` is what it is now."""

    view: PlanView
    points: dict[str, list[RecoveryPoint]]
    choice: Any
    loss: PlanLoss


@dataclass(eq=False)
class PlanFabricsRead(Message, bubble=False):
    view: PlanView
    fabrics: list[Fabric]
    error: BaseException | None = None


@dataclass(eq=False)
class PlanOperationSent(Message, bubble=False):
    """A plan operation was accepted, or refused with `error`; `started` is core's Started."""

    kind: str
    name: str
    started: Any = None
    error: BaseException | None = None
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(eq=False)
class PlanReprotectStepped(Message, bubble=False):
    progress: list[MemberProgress]
    done: bool
    error: BaseException | None = None


class PlansScreen(PeriodicRead, Screen[None]):
    BINDINGS = [
        Binding("escape", "back", "Back", id="plans-back"),
        Binding(
            "f",
            "fail_back_plan",
            "Fail back…",
            id="plan-fail-back",
            tooltip="Fail back the plan: preflight, point, confirm",
        ),
        Binding(
            "c",
            "commit_plan",
            "Commit…",
            id="plan-commit",
            tooltip="Commit the plan (deletes its Azure VMs; typed name)",
        ),
        Binding(
            "r",
            "reprotect_plan",
            "Reprotect…",
            id="plan-reprotect",
            tooltip="Reprotect every VM of the plan AVS → Azure",
        ),
        Binding("v", "verify_plan", "Verify", id="plan-verify", tooltip="Each VM's checklist before the commit"),
        Binding(
            "B",
            "cancel_failover",
            "Back to Azure…",
            id="plan-cancel",
            tooltip="Cancel a modernized plan's planned failover: its VMs run in Azure again",
        ),
        Binding("u", "resume_plan", "Resume…", id="plan-resume", tooltip="Manual action done: resume with a comment"),
        Binding("x", "stop_reprotect", "Stop reprotect", id="plan-stop-reprotect", tooltip="Send no more reprotects"),
        Binding(
            "t", "open_job", "Job", id="plan-open-job", show=False, tooltip="Progress of the plan's job, task by task"
        ),
        Binding("F", "preflight", "Preflight", id="plan-preflight", show=False, tooltip="Check the plan and the vault"),
        Binding(
            "ctrl+r", "refresh", "Refresh", id="plans-refresh", show=False, tooltip="Read the plans and their VMs again"
        ),
        # ctrl+q still quits; at 80 columns its footer entry would push f1 Help off the line.
        Binding("ctrl+q", "app.quit", "Quit", id="quit-plans", show=False),
    ]

    def __init__(self, select: str = "") -> None:
        super().__init__()
        self.select = select  # a plan's name to put the cursor on once read
        self.plans: list[RecoveryPlan] = []
        self.items: list[ProtectedItem] = []
        self.views: dict[str, PlanView] = {}
        self.read_at: datetime | None = None
        self.loading = False
        self.plan_jobs: dict[str, str] = {}  # plan name → last job this screen started or saw on it
        self.reprotect: PlanReprotect | None = None
        self.reprotect_plan = ""
        self.reprotect_progress: list[MemberProgress] = []
        self.reprotect_stopped = False
        self.reprotect_steps = 0
        self._reprotect_error: BaseException | None = None
        self._mounted = False
        self._ticked_at: datetime | None = None

    # -- layout and reads -----------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield ModeBanner()
        yield Static("Recovery plans", classes="pane-title")
        with Horizontal(id="plans-main"):
            yield FreshTable(id="plans", cursor_type="row")
            with Pane(id="plan-detail"):
                yield Static("Reading the plans…", id="plan-body")
        yield Static("", id="plan-reprotect-progress")
        yield Static("", id="plans-status")
        yield Footer()

    def on_mount(self) -> None:
        table: DataTable[Any] = self.query_one("#plans", DataTable)
        for key, label in PLAN_COLUMNS:
            table.add_column(label, key=key)
        self.query_one("#plan-reprotect-progress", Static).display = False
        table.focus()
        self._mounted = True
        self.action_refresh()

    def on_resize(self) -> None:
        self.set_class(self.size.width < NARROW_BELOW, "-narrow")

    @property
    def selected(self) -> PlanView | None:
        table: DataTable[Any] = self.query_one("#plans", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.views.get(str(key))

    def view_named(self, name: str) -> PlanView | None:
        return self.views.get(name)

    def on_backend_ready(self, message: BackendReady) -> None:
        self.action_refresh()  # opened while the vault was still opening: read it now

    def action_refresh(self) -> None:
        if getattr(self.app, "backend", None) is None or self.loading:
            return
        self.loading = True
        self._update_status()
        self.load_plans()

    @work(thread=True, exclusive=True, group="plans", exit_on_error=False, description="Reading plans")
    def load_plans(self) -> None:
        backend = self.app.backend  # type: ignore[attr-defined]
        try:
            plans = backend.list_plans()
            items = [i for page in backend.iter_item_pages() for i in page]
        except FailbackError as exc:
            self.post_message(PlansRead([], [], backend.now(), exc))
            return
        self.post_message(PlansRead(plans, items, backend.now()))

    def on_plans_read(self, message: PlansRead) -> None:
        self.loading = False
        if message.error is not None:
            self._update_status()
            self.schedule_read()
            self.app.show_error(message.error, heading="Could not read the recovery plans")  # type: ignore[attr-defined]
            return
        self.schedule_read()
        self.plans, self.items, self.read_at = message.plans, message.items, message.read_at
        self.views = {p.name: plan_view(p, self.items) for p in self.plans}
        app: Any = self.app
        for view in self.views.values():
            if view.running_job_name:
                self.plan_jobs[view.plan.name] = view.running_job_name
                app.follow(view.running_job_name)
        self._fill_table()
        self._show()

    def _named(self, name: str) -> str:
        """The key of the plan called `name` (its name or friendly name, any case), or ""."""
        wanted = name.strip().lower()
        return next((key for key, v in self.views.items() if wanted in (key.lower(), v.name.lower())), "")

    def select_plan(self, name: str) -> None:
        """Put the cursor on the plan called `name` now, or once the plans are read."""
        self.select = name
        if self.views:
            self._fill_table()
            self._show()

    def _fill_table(self) -> None:
        table: DataTable[Any] = self.query_one("#plans", DataTable)
        keep = self._named(self.select) if self.select else (self.selected.plan.name if self.selected else "")
        if self.select and not keep:
            self.notify(f"No recovery plan named {self.select!r} in this vault.", severity="warning")
        self.select = ""
        table.clear()
        for name, view in self.views.items():
            job = self.plan_job(view)
            table.add_row(view.name, self._stages_cell(view), self._job_cell(job), key=name)
        if keep in self.views:
            table.move_cursor(row=table.get_row_index(keep))

    def _stages_cell(self, view: PlanView) -> str:
        glyphs: Glyphs = self.app.glyphs  # type: ignore[attr-defined]
        parts = [f"{n} {glyphs.stage_text(stage)}" for stage, n in view.stage_counts]
        return f"{len(view.members)} VMs: " + ", ".join(parts) if parts else "no VM"

    def _job_cell(self, job: Job | None) -> str:
        glyphs: Glyphs = self.app.glyphs  # type: ignore[attr-defined]
        if job is None:
            return "—"
        waiting = waiting_task(job)
        return glyphs.job_state(job) + (" (manual action)" if waiting else "")

    def plan_job(self, view: PlanView) -> Job | None:
        name = view.running_job_name or self.plan_jobs.get(view.plan.name, "")
        return self.app.session.jobs.get(name) if name else None  # type: ignore[attr-defined]

    # -- the selected plan ----------------------------------------------------------------------------------

    @on(DataTable.RowHighlighted, "#plans")
    def _moved(self, event: DataTable.RowHighlighted) -> None:
        self.refresh_bindings()
        self._show()

    def detail_text(self, view: PlanView) -> Text:
        app: Any = self.app
        glyphs: Glyphs = app.glyphs
        job = self.plan_job(view)
        text = Text()
        text.append(clean(view.name), style="bold")
        text.append(f"  ({clean(view.plan.name)})\n{clean(view.stage_summary)}\n")
        action, step = plan_next_step(view)
        key = {"fail_back": "f", "verify": "v", "reprotect": "r"}.get(action, "")
        text.append("Next: ", style="bold")
        text.append(f"{clean(step)}" + (f" ({key})" if key else "") + "\n")
        if job is not None:
            text.append(f"Job: {glyphs.job_state(job)} · {clean(job.title)} · {clean(job.name)}\n")
            waiting = waiting_task(job)
            if waiting:
                text.append(f"Waiting for the operator: {clean(waiting)}. Do it, then u to resume.\n", style="bold")
        else:
            text.append("No job on this plan in this session.\n")
        done_actions = {a.name for _, a in manual_actions(view.plan) if action_done(job, a.name)}
        for group in view.groups:
            text.append(f"\n{clean(group.label)}", style="bold")
            text.append(f" (boots {'first' if group.index == 0 else f'after group {group.index}'})\n")
            for action in group.start_actions:
                self._action_line(text, "before boot", action, action.name in done_actions, glyphs)
            for member in group.members:
                group_name = member.item.consistency_group
                consistency = f"  [group {clean(group_name)}]" if group_name else ""
                text.append(f"  {glyphs.stage_text(member.stage):<18} {clean(member.name)}{consistency}\n")
            for action in group.end_actions:
                self._action_line(text, "after boot", action, action.name in done_actions, glyphs)
        if view.consistency_groups:
            text.append("\nReplication groups (recover together, on one common point)\n", style="bold")
            for group_name, members in view.consistency_groups.items():
                text.append(f"  {clean(group_name)}: {clean(', '.join(members))}\n")
        if view.missing_item_ids:
            text.append(f"\nListed by the plan but not in the vault: {len(view.missing_item_ids)} item(s)\n")
        text.rstrip()
        return text

    @staticmethod
    def _action_line(text: Text, where: str, action: Any, done: bool, glyphs: Glyphs) -> None:
        box = glyphs.check if done else glyphs.uncheck
        kind = (
            "manual" if "manual" in action.kind.lower() else "script" if "script" in action.kind.lower() else "action"
        )
        text.append(f"  {box} {kind}, {where}: {clean(action.name)}\n")
        if action.instructions:
            text.append(f"      {clean(action.instructions)}\n", style="italic")

    def _show(self) -> None:
        if not self._mounted:
            return
        view = self.selected
        body = self.query_one("#plan-body", Static)
        if view is None:
            if getattr(self.app, "backend", None) is None:
                body.update("Opening the vault…")
            else:
                body.update("No recovery plan in this vault." if not self.loading else "Reading the plans…")
        else:
            body.update(self.detail_text(view))
        self._show_reprotect()
        self._update_status()

    def _update_status(self) -> None:
        if not self._mounted:
            return
        app: Any = self.app
        opening = app.backend is None
        count = len(self.plans)
        parts = [
            "Opening the vault…"
            if opening
            else "Reading…"
            if self.loading
            else f"{count} plan{'s' if count != 1 else ''}"
        ]
        if self.read_at is not None and app.backend is not None:
            from tui.screens.dashboard import _minutes_ago

            parts.append(f"data read {_minutes_ago((app.backend.now() - self.read_at).total_seconds())}")
            parts.append(f"read again every {compact_duration(read_interval(app))}")
        self.query_one("#plans-status", Static).update(" · ".join(parts), layout=False)

    # -- jobs -----------------------------------------------------------------------------------------------

    def _is_plan_job(self, job: Job) -> str:
        for name, view in self.views.items():
            if job.name in (view.running_job_name, self.plan_jobs.get(name)):
                return name
            if job.target_object_id.lower() in (view.plan.id.lower(), view.plan.name.lower()):
                return name
        return ""

    def on_job_updated(self, message: JobUpdated) -> None:
        plan = self._is_plan_job(message.job)
        if not plan:
            return
        self.plan_jobs[plan] = message.job.name
        if message.job.state.is_terminal:
            self.action_refresh()  # the members' stages moved with the job
        table: DataTable[Any] = self.query_one("#plans", DataTable)
        if plan in table.rows:
            table.update_cell(plan, "job", self._job_cell(message.job), update_width=True)
        self.refresh_bindings()
        self._show()

    def on_operation_started(self, message: OperationStarted) -> None:
        self.refresh_bindings()

    def on_screen_resume(self) -> None:
        self.refresh_bindings()
        self._show()
        self.resume_reads()

    def read_again(self) -> None:
        self.action_refresh()

    def on_clock_tick(self, now: datetime) -> None:
        if not self._mounted or now == self._ticked_at:
            return
        self._ticked_at = now
        self._update_status()
        if self.reprotect is not None:
            self._show_reprotect()

    # -- what is possible now -------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        app: Any = self.app
        mutating = ("fail_back_plan", "commit_plan", "reprotect_plan", "resume_plan", "cancel_failover")
        if action == "cancel_failover":
            view = self.selected if self._mounted else None
            # Shown only for a failed-over modernized plan: a classic one has no cancel, and the footer no room.
            if app.read_only or view is None or not plan_is_modernized(view) or view.stage is not Stage.FAILED_OVER:
                return False
            return True if not app.session.is_submitting("plan-cancel", view.plan.id) else None
        if action == "verify_plan":
            view = self.selected if self._mounted else None
            # Shown only once the plan is failed over: at 80 columns the footer has no room for a dimmed one.
            return view is not None and view.stage is Stage.FAILED_OVER
        if action in mutating and app.read_only:
            return False
        if action == "stop_reprotect":
            return self.reprotect_running
        if action not in (*mutating, "open_job"):
            return True
        view = self.selected if self._mounted else None
        if view is None or app.backend is None:
            return None
        job = self.plan_job(view)
        if action == "open_job":
            return True if job is not None else None
        if action == "resume_plan":
            if job is None or not waiting_task(job):
                return False  # shown only while a manual action waits: at 80 columns the footer has no room to spare
            return True if not app.session.is_submitting("resume", job.name) else None
        if action in ("fail_back_plan", "reprotect_plan") and view.stage is Stage.FAILED_OVER:
            # Failed over, a plan is verified, then committed (or, modernized, sent back to Azure): neither key
            # applies until then, and at 80 columns the footer has no room for them beside those that do.
            return False
        if action == "fail_back_plan":
            busy = app.session.is_submitting("plan-failover", view.plan.id)
            return True if view.stage is Stage.READY and not view.running_job_name and not busy else None
        if action == "commit_plan":
            busy = app.session.is_submitting("plan-commit", view.plan.id)
            return True if can_commit_plan(view).allowed and not busy else None
        if action == "reprotect_plan":
            return True if members_to_reprotect(view) and not self.reprotect_running else None
        return True

    def loop_running(self) -> str:
        """The plan reprotect this screen still drives, said for the quit question ("" when there is none)."""
        if not self.reprotect_running:
            return ""
        left = [p.item_name for p in self.reprotect_progress if not p.state.final]
        return (
            f"The reprotect of the plan {self.reprotect_plan}: {', '.join(left) or 'its VMs'} not yet sent or still "
            "retried from this screen"
        )

    def why_stay(self) -> str:
        """Why a jump elsewhere must not close this screen now ("" when it may)."""
        if not self.reprotect_running:
            return ""
        return (
            f"The reprotect of {self.reprotect_plan} is still sending from the plans screen: stop it (x) or let it "
            "finish before leaving."
        )

    @property
    def reprotect_running(self) -> bool:
        return self.reprotect is not None and not self.reprotect_stopped and not self.reprotect.done()

    # -- fail back: preflight → point → confirmation → send --------------------------------------------------

    def action_fail_back_plan(self) -> None:
        view = self.selected
        if view is None:
            return
        self.prepare_failover(view.plan)

    @work(thread=True, exclusive=True, group="plan-prepare", exit_on_error=False, description="Checking the plan")
    def prepare_failover(self, plan: RecoveryPlan) -> None:
        from core.preflight import check_plan

        backend = self.app.backend  # type: ignore[attr-defined]
        try:
            fresh = backend.get_plan(plan.name)
            items = [i for page in backend.iter_item_pages() for i in page]
            view = plan_view(fresh, items)
            points = {m.item.name: list(backend.list_recovery_points(m.item)) for m in view.members}
            report = check_plan(backend, fresh, items, points_by_item=points)
        except FailbackError as exc:
            self.post_message(PlanFailoverPrepared(None, None, error=exc))
            return
        self.post_message(PlanFailoverPrepared(view, report, points))

    def on_plan_failover_prepared(self, message: PlanFailoverPrepared) -> None:
        from tui.screens.preflight import PreflightGate

        if message.error is not None or message.view is None or message.report is None:
            self.app.show_error(  # type: ignore[attr-defined]
                message.error or RuntimeError("nothing read"), heading="Could not prepare the plan failback"
            )
            return
        view, points = message.view, message.points

        def checked(outcome: dict[str, Any] | None) -> None:
            if outcome is not None:
                self.app.session.preflight[view.plan.id] = outcome  # type: ignore[attr-defined]
                self._choose_point(view, points)

        self.app.push_screen(PreflightGate(f"the plan {view.name}", report=message.report), checked)

    def _choose_point(self, view: PlanView, points: dict[str, list[RecoveryPoint]]) -> None:
        from tui.dialogs.plan_point import PlanPointChoice, PlanPointDialog

        app: Any = self.app
        if plan_is_modernized(view):
            self._choose_type(view)
            return

        def chosen(choice: PlanPointChoice | None) -> None:
            if choice is not None:
                self._confirm_failover(view, choice)

        self.app.push_screen(PlanPointDialog(view, points, app.backend.now(), app.tz), chosen)

    def _choose_type(self, view: PlanView) -> None:
        """A modernized plan: a type of point for all its VMs (ASR makes the point when the job starts)."""
        from tui.dialogs.plan_point import PlanPointChoice
        from tui.dialogs.point import PointDialog

        app: Any = self.app

        def chosen(option: Any) -> None:
            if option is not None:
                self._confirm_failover(view, PlanPointChoice(option.choice, 0.0, False, None))

        dialog = PointDialog(
            view.members[0].item,
            [],
            app.backend.now(),
            app.tz,
            types=plan_type_options(view),
            title=f"Recovery point for the plan {view.name} (planned failover)",
        )
        self.app.push_screen(dialog, chosen)

    def _modernized_confirmation(self, view: PlanView, choice: Any) -> str:
        option = next((o for o in plan_type_options(view) if o.choice is choice.choice), None)
        lines = [
            f"Fail the plan {clean(view.name)} back from Azure to the AVS private cloud with a planned failover "
            f"(modernized replication appliance): {option.headline if option else choice.choice.value}.",
        ]
        if option is not None:
            lines.append(option.tradeoff)
        lines.append("Then ASR starts the VMs in AVS, boot group by boot group:")
        for group in view.groups:
            lines.append(f"  {clean(group.label)}: {clean(', '.join(m.name for m in group.members))}")
        lines.append("Until the commit it can be cancelled (B on this screen): the VMs then run in Azure again.")
        return "\n".join(lines)

    def confirmation_text(self, view: PlanView, choice: Any) -> str:
        from tui.text import compact_duration

        if plan_is_modernized(view):
            return self._modernized_confirmation(view, choice)

        point = (
            "each VM to its own latest point"
            if choice.choice is PointChoice.LATEST
            else "each replication group to its common app-consistent point (accepted)"
        )
        lines = [f"Fail the plan {clean(view.name)} back from Azure to the AVS private cloud, {point}."]
        if choice.loss is not None:
            lines.append(f"Writes given up: {choice.loss.words()}.")
            each = ", ".join(f"{clean(v.name)} {compact_duration(v.seconds)}" for v in choice.loss.per_vm)
            lines.append(f"  Each VM: {each}.")
        lines.append("ASR shuts the Azure VMs down first, then starts the VMs in AVS, boot group by boot group:")
        for group in view.groups:
            lines.append(f"  {clean(group.label)}: {clean(', '.join(m.name for m in group.members))}")
        if any(g.manual_actions for g in view.groups):
            lines.append("The job stops at each manual action until you resume it (u on this screen).")
        return "\n".join(lines)

    def _confirm_failover(self, view: PlanView, choice: Any) -> None:
        from tui.dialogs.confirm import ConfirmDialog

        app: Any = self.app

        def confirmed(ok: bool | None) -> None:
            if ok and app._claim("plan-failover", view.plan.id):
                self.send_plan_failover(view, choice)
                self.refresh_bindings()

        dialog = ConfirmDialog(f"Fail back the plan {view.name}?", self.confirmation_text(view, choice), "Start")
        self.app.push_screen(dialog, confirmed)

    @work(thread=True, group="plan-submit", exit_on_error=False, description="Sending the plan failover")
    def send_plan_failover(self, view: PlanView, choice: Any) -> None:
        from core.recovery import loss_grew

        app: Any = self.app
        plan = view.plan
        ops = app.operations
        modernized = plan_is_modernized(view)
        params = {"plan": plan, "choice": choice.choice, "modernized": modernized}
        try:
            if modernized:  # a planned failover: no point to re-check, ASR makes it when the job starts
                started = ops.plan_failover(plan, choice.choice, preflight=app.session.preflight.pop(plan.id, None))
                self.post_message(
                    PlanOperationSent("plan-failover", plan.name, started, params={**params, "key": plan.id})
                )
                return
            # The loss accepted in the dialog is checked against the points ASR holds now: new points may have come
            # while the dialogs were open, and what is sent must be what was accepted.
            backend = app.backend
            points = {m.item.name: list(backend.list_recovery_points(m.item)) for m in view.members}
            now = backend.now()
            loss = plan_loss(plan_point_summary(view, points, now, app.tz), choice.choice)
            if choice.acknowledged and loss_grew(choice.extra_seconds, loss.extra_seconds):
                self.post_message(PlanLossGrew(view, points, choice, loss))
                return
            started = ops.plan_failover(
                plan,
                choice.choice,
                data_loss_seconds=loss.worst_seconds,
                acknowledged_loss=choice.acknowledged,
                preflight=app.session.preflight.pop(plan.id, None),
            )
        except FailbackError as exc:
            self.post_message(PlanOperationSent("plan-failover", plan.name, error=exc, params={"key": plan.id}))
            return
        self.post_message(PlanOperationSent("plan-failover", plan.name, started, params={**params, "key": plan.id}))

    def on_plan_loss_grew(self, message: PlanLossGrew) -> None:
        from core.recovery import duration
        from tui.dialogs.plan_point import PlanPointChoice, PlanPointDialog

        app: Any = self.app
        view = message.view
        app.session.submitting.discard(("plan-failover", view.plan.id))
        self.refresh_bindings()
        was, now = message.choice.extra_seconds, message.loss.extra_seconds
        extra = message.loss.most_extra
        note = (
            f"Nothing was sent: ASR took newer points while the dialogs were open. You accepted up to about "
            f"{duration(was)} more than Latest; it is now about {duration(now)}"
            + (f" ({extra.name})" if extra else "")
            + ". Choose again."
        )

        def chosen(choice: PlanPointChoice | None) -> None:
            if choice is not None:
                self._confirm_failover(view, choice)

        dialog = PlanPointDialog(
            view, message.points, app.backend.now(), app.tz, choice=message.choice.choice, note=note
        )
        self.app.push_screen(dialog, chosen)

    # -- verify and commit -------------------------------------------------------------------------------------

    def action_verify_plan(self) -> None:
        from tui.screens.plan_verify import PlanVerifyScreen

        view = self.selected
        if view is None:
            return

        def done(result: str | None) -> None:
            if result == "commit":
                self.action_commit_plan()

        self.app.push_screen(PlanVerifyScreen(view), done)

    def action_commit_plan(self) -> None:
        from tui.dialogs.plan_commit import PlanCommitDialog

        view = self.selected
        if view is None:
            return
        verdict = can_commit_plan(view)
        if not verdict.allowed:
            self.notify(verdict.reason, title="Commit is not possible now", severity="warning")
            return
        app: Any = self.app

        def confirmed(ok: bool | None) -> None:
            if ok and app._claim("plan-commit", view.plan.id):
                self.send_plan_commit(view.plan)
                self.refresh_bindings()

        from tui.screens.plan_verify import verified_counts

        self.app.push_screen(PlanCommitDialog(view, verified_counts(app, view)), confirmed)

    @work(thread=True, group="plan-submit", exit_on_error=False, description="Sending the plan commit")
    def send_plan_commit(self, plan: RecoveryPlan) -> None:
        try:
            started = self.app.operations.plan_commit(plan)  # type: ignore[attr-defined]
        except FailbackError as exc:
            self.post_message(PlanOperationSent("plan-commit", plan.name, error=exc, params={"key": plan.id}))
            return
        self.post_message(PlanOperationSent("plan-commit", plan.name, started, params={"plan": plan, "key": plan.id}))

    # -- cancel a modernized plan's planned failover ------------------------------------------------------------

    def action_cancel_failover(self) -> None:
        from tui.dialogs.confirm import ConfirmDialog

        view = self.selected
        if view is None:
            return
        verdict = can_cancel_plan(view)
        if not verdict.allowed:
            self.notify(verdict.reason, title="Cancel is not possible now", severity="warning")
            return
        app: Any = self.app

        def confirmed(ok: bool | None) -> None:
            if ok and app._claim("plan-cancel", view.plan.id):
                self.send_plan_cancel(view.plan)
                self.refresh_bindings()

        text = (
            f"{verdict.reason}\nWhatever was written in AVS since the failover is lost; nothing of the plan is deleted."
        )
        self.app.push_screen(
            ConfirmDialog(f"Cancel the failover of the plan {view.name}?", text, "Cancel the failover"), confirmed
        )

    @work(thread=True, group="plan-submit", exit_on_error=False, description="Sending the plan cancel")
    def send_plan_cancel(self, plan: RecoveryPlan) -> None:
        try:
            started = self.app.operations.plan_cancel(plan)  # type: ignore[attr-defined]
        except FailbackError as exc:
            self.post_message(PlanOperationSent("plan-cancel", plan.name, error=exc, params={"key": plan.id}))
            return
        self.post_message(PlanOperationSent("plan-cancel", plan.name, started, params={"plan": plan, "key": plan.id}))

    # -- resume after a manual action -------------------------------------------------------------------------

    def action_resume_plan(self) -> None:
        from tui.dialogs.resume import ask_resume

        view = self.selected
        job = self.plan_job(view) if view else None
        if view is None or job is None:
            return
        ask_resume(
            self,
            job,
            target_name=f"the plan {view.name}",
            actions=pending_actions(view.plan, job),
            waiting=waiting_task(job),
            sent=self.refresh_bindings,
        )

    # -- answers to every send --------------------------------------------------------------------------------

    def on_plan_operation_sent(self, message: PlanOperationSent) -> None:
        from tui.controller import describe_equivalent

        app: Any = self.app
        params = dict(message.params)
        key = params.pop("key", message.name)
        shown = self.views[message.name].name if message.name in self.views else message.name
        app.session.submitting.discard((message.kind, key))
        if message.error is not None:
            self.refresh_bindings()
            app.show_error(message.error, heading=f"{message.kind.capitalize()} of {shown} was not started")
            return
        started = message.started
        handle = started.handle
        if started.attached and started.note:
            self.notify(started.note, title="Following the job already running", timeout=15)
        equivalent = describe_equivalent(message.kind, app.backend, None, **params)
        title = {"plan-failover": "Fail back plan", "plan-commit": "Commit plan", "plan-cancel": "Cancel plan failover"}
        app.session.actions.append(
            ActionRecord(
                app.backend.now(),
                f"{title.get(message.kind, message.kind)} {shown}",
                handle.job_name,
                equivalent,
            )
        )
        self.plan_jobs[message.name] = handle.job_name
        app.session.own.add(handle.job_name)
        app.follow(handle.job_name)
        self.refresh_bindings()
        self._show()
        app.show_job(handle.job_name)

    def action_back(self) -> None:
        """Leaving ends the reprotect loop (it lives with this screen): never silently while it still sends."""
        from tui.dialogs.confirm import ConfirmDialog

        if not self.reprotect_running:
            self.app.pop_screen()
            return

        def answered(leave: bool | None) -> None:
            if leave:
                self.reprotect_stopped = True
                self.app.pop_screen()

        text = (
            f"The reprotect of {self.reprotect_plan} is still sending and retrying from this screen. Leaving stops "
            "it: jobs already sent go on in ASR, but no VM is sent or retried any more (reprotect the plan again "
            "later to finish)."
        )
        self.app.push_screen(ConfirmDialog("Leave the plan reprotect?", text, "Leave"), answered)

    def action_open_job(self) -> None:
        view = self.selected
        job_name = (view.running_job_name or self.plan_jobs.get(view.plan.name, "")) if view else ""
        if job_name:
            self.app.show_job(job_name)  # type: ignore[attr-defined]

    def action_preflight(self) -> None:
        from tui.screens.preflight import PreflightScreen

        view = self.selected
        self.app.push_screen(PreflightScreen(plan=view.plan if view else None))

    # -- reprotect: PlanReprotect stepped from a worker, the next step on a timer ----------------------------------

    def action_reprotect_plan(self) -> None:
        view = self.selected
        if view is None or self.reprotect_running:
            return
        if not members_to_reprotect(view):
            self.notify("No VM of this plan is committed: reprotect follows the commit.", severity="warning")
            return
        self.load_fabrics(view)

    @work(thread=True, exclusive=True, group="plan-fabrics", exit_on_error=False, description="Reading fabrics")
    def load_fabrics(self, view: PlanView) -> None:
        try:
            fabrics = self.app.backend.list_fabrics()  # type: ignore[attr-defined]
        except FailbackError as exc:
            self.post_message(PlanFabricsRead(view, [], exc))
            return
        self.post_message(PlanFabricsRead(view, fabrics))

    def on_plan_fabrics_read(self, message: PlanFabricsRead) -> None:
        from tui.dialogs.plan_reprotect import PlanReprotectDialog

        app: Any = self.app
        if message.error is not None:
            app.show_error(message.error, heading="Could not prepare the plan reprotect")
            return
        view = message.view
        members = members_to_reprotect(view)

        def chosen(target: Any) -> None:
            if target is not None:
                self.start_reprotect(view, target)

        self.app.push_screen(PlanReprotectDialog(view, members, message.fabrics, app.backend.now()), chosen)

    def start_reprotect(self, view: PlanView, target: Any) -> None:
        app: Any = self.app
        clock = app.clock or getattr(app.backend, "clock", None)
        try:
            self.reprotect = PlanReprotect(app.backend, view, target, clock=clock, operations=app.operations)
        except FailbackError as exc:
            app.show_error(exc, heading="Reprotect was not started")
            return
        self.reprotect_plan = view.name
        self.reprotect_stopped = False
        self.reprotect_progress = self.reprotect.progress
        self._reprotect_error = None
        self.refresh_bindings()
        self._show_reprotect()
        self.reprotect_step()

    @work(thread=True, exclusive=True, group="plan-reprotect", exit_on_error=False, description="Reprotecting")
    def reprotect_step(self) -> None:
        driver = self.reprotect
        if driver is None:
            return
        try:
            progress = driver.step()
        except FailbackError as exc:
            self.post_message(PlanReprotectStepped(driver.progress, False, exc))
            return
        self.post_message(PlanReprotectStepped(progress, driver.done()))

    def on_plan_reprotect_stepped(self, message: PlanReprotectStepped) -> None:
        app: Any = self.app
        self.reprotect_steps += 1
        self.reprotect_progress = message.progress
        for entry in message.progress:
            if entry.job_name:
                app.session.own.add(entry.job_name)
                app.follow(entry.job_name)
        if message.error is not None:
            self._reprotect_error = message.error
            self.reprotect_stopped = True
            app.show_error(message.error, heading=f"The reprotect of {self.reprotect_plan} stopped")
        elif message.done:
            protected = sum(1 for p in message.progress if p.state is MemberState.PROTECTED)
            self.notify(f"Plan reprotect of {self.reprotect_plan}: {protected} of {len(message.progress)} protected.")
            self.action_refresh()
        elif not self.reprotect_stopped:
            # One step at a time: the next is scheduled once this one has answered, so steps never overlap.
            self.set_timer(float(getattr(app, "tick_seconds", 1.0)), self._next_reprotect_step)
        self.refresh_bindings()
        self._show_reprotect()

    def _next_reprotect_step(self) -> None:
        if self.reprotect is not None and not self.reprotect_stopped:
            self.reprotect_step()

    def action_stop_reprotect(self) -> None:
        if not self.reprotect_running:
            return
        self.reprotect_stopped = True
        self.notify(
            "No further reprotect will be sent. Jobs already running go on in ASR (J shows them).",
            title=f"Plan reprotect of {self.reprotect_plan} stopped",
        )
        self.refresh_bindings()
        self._show_reprotect()

    def reprotect_text(self, now: datetime) -> Text:
        glyphs: Glyphs = self.app.glyphs  # type: ignore[attr-defined]
        text = Text()
        state = (
            "stopped" if self.reprotect_stopped else "done" if self.reprotect and self.reprotect.done() else "running"
        )
        plan = clean(self.reprotect_plan)
        text.append(f"Reprotect of the plan {plan} AVS {glyphs.arrow} Azure: {state}", style="bold")
        if self.reprotect_running:
            text.append(" (x stops sending)")
        text.append("\n")
        for p in self.reprotect_progress:
            glyph = glyphs.job(MEMBER_GLYPH_STATE[p.state])
            line = f"  {glyph} {clean(p.item_name):<18} {p.word}"
            if p.job_name:
                line += f" · job {clean(p.job_name)}"
            if p.attempts > 1:
                line += f" · attempt {p.attempts}"
            if p.state is MemberState.WAITING_FOR_AGENT and p.next_retry_at is not None:
                seconds = max(0, int((p.next_retry_at - now).total_seconds()))
                line += f" · agent not registered yet, next try in {seconds} s"
            elif p.last_error and p.state in (MemberState.FAILED, MemberState.BLOCKED):
                line += f" · {clean(p.last_error)}"
            text.append(line + "\n")
        text.rstrip()
        return text

    def _show_reprotect(self) -> None:
        if not self._mounted:
            return
        box = self.query_one("#plan-reprotect-progress", Static)
        app: Any = self.app
        if self.reprotect is None or app.backend is None:
            box.display = False
            return
        box.display = True
        box.update(self.reprotect_text(app.backend.now()))


def offer_plan(screen: Any, item: ProtectedItem) -> None:
    """A VM of a named replication group cannot fail back alone: say why and offer to open its plan."""
    from tui.dialogs.confirm import ConfirmDialog

    app: Any = screen.app
    group = item.consistency_group
    name = item.friendly_name or item.name
    why = (
        f"{name} belongs to the replication group {group!r}. The VMs of a replication group fail over together, "
        "each on the group's common recovery point, so that their applications stay consistent with each other: "
        f"{name} cannot fail back alone."
    )
    if not item.recovery_plans:
        screen.notify(
            f"{why} No recovery plan holds it yet: create one with every VM of {group!r}, then fail the plan back.",
            title="Fail back is not possible alone",
            severity="warning",
            timeout=15,
        )
        return
    plan = item.recovery_plans[0]

    def answered(ok: bool | None) -> None:
        if ok:
            app.action_plans(select=plan)

    text = f"{why}\n\nFail back its recovery plan {plan} instead: it fails every VM of the group back together."
    app.push_screen(ConfirmDialog(f"{name} cannot fail back alone", text, "Open the plan"), answered)
