"""The Textual application: builds the backend off the UI thread and hosts the screens."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, tzinfo
from typing import Any

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from core.errors import FailbackError
from core.model import ReprotectTarget
from core.recovery import PointOption
from tui.controller import Controller
from tui.glyphs import Glyphs, wants_ansi_theme, wants_ascii
from tui.messages import BackendFailed, BackendReady, SessionResumed
from tui.session import Session


class FailbackApp(Controller, App[None]):
    """One vault, one operator. `backend` given: used as is (tests); else built from `settings` in a worker."""

    CSS_PATH = "app.tcss"
    TITLE = "avs-failback"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("f1", "help", "Help", id="help", tooltip="List every key"),
        Binding("ctrl+q", "quit", "Quit", id="quit", tooltip="Leave the dashboard (jobs keep running in Azure)"),
    ]

    def __init__(
        self,
        settings: Any = None,
        *,
        backend: Any = None,
        clock: Any = None,
        journal: Any = None,
        tz: tzinfo | None = None,
        ascii_glyphs: bool | None = None,
        tick_seconds: float = 1.0,
        items_refresh_seconds: float = 30.0,
        first_page: Any = None,
    ) -> None:
        super().__init__()
        self._init_controller()
        self.settings = settings
        # A core.first_page.FirstPageReader forked at launch, or None: the dashboard's rows before the backend.
        self.first_page_reader = first_page
        self.backend = backend
        self.clock = clock
        self.tracker: Any = None
        self.operations: Any = None
        self.journal = journal
        self.session = Session()
        self.tz = tz
        self.glyphs = Glyphs(wants_ascii() if ascii_glyphs is None else ascii_glyphs)
        self.tick_seconds = tick_seconds
        self.items_refresh_seconds = items_refresh_seconds
        self._pending_options: dict[str, PointOption] = {}
        self._reprotect_targets: dict[str, ReprotectTarget] = {}
        if wants_ansi_theme():
            self.theme = "ansi-dark"

    # -- modes shown on every screen ------------------------------------------------------------------------

    @property
    def simulated(self) -> bool:
        if self.backend is not None:
            return bool(getattr(self.backend, "simulated", False))
        return bool(getattr(self.settings, "demo", False))

    @property
    def read_only(self) -> bool:
        if self.backend is not None:
            return bool(getattr(self.backend, "read_only", False))
        return bool(getattr(self.settings, "read_only", False))

    def backend_now(self) -> datetime | None:
        return self.backend.now() if self.backend is not None else None

    # -- start-up ---------------------------------------------------------------------------------------------

    def on_mount(self) -> None:
        from tui.screens.dashboard import DashboardScreen

        self.push_screen(DashboardScreen())
        self.set_interval(self.tick_seconds, self._tick)
        if self.backend is not None:
            self.post_message(BackendReady(self.backend))
        else:
            # The SDK and azure-identity load here, after the first frame is on screen.
            self.call_after_refresh(self.build_backend)

    @work(thread=True, exclusive=True, group="backend", exit_on_error=False, description="Connecting")
    def build_backend(self) -> None:
        from core.bootstrap import build_backend

        try:
            backend = build_backend(self.settings, clock=self.clock)
        except FailbackError as exc:
            self.post_message(BackendFailed(exc))
            return
        self.post_message(BackendReady(backend))

    def on_backend_ready(self, message: BackendReady) -> None:
        from core.operations import Operations
        from core.tracker import JobTracker

        self.backend = message.backend
        if self.first_page_reader is not None:
            self.first_page_reader.close()  # the dashboard reads the vault itself from here on
        clock = self.clock or getattr(self.backend, "clock", None)
        self.tracker = JobTracker(self.backend, clock)
        if self.journal is None and not self.simulated:
            from core.journal import Journal

            # Real vaults only: the demo's simulated jobs have no business in the operator's journal.
            self.journal = Journal(clock=clock, vault=self.backend.vault)
        self.operations = Operations(self.backend, self.journal, clock=clock)
        self.broadcast(lambda: BackendReady(message.backend))
        if self.journal is not None:
            self.resume_session()
        else:
            self.schedule_poll()

    @work(thread=True, exclusive=True, group="resume", exit_on_error=False, description="Resuming")
    def resume_session(self) -> None:
        """After a dropped SSH session: re-attach to the jobs the journal left in flight (reads only)."""
        from core.resume import resume

        try:
            results = resume(self.backend, self.journal, self.tracker)
        except FailbackError as exc:
            self.post_message(SessionResumed([], exc))
            return
        self.post_message(SessionResumed(results, None))

    def on_session_resumed(self, message: SessionResumed) -> None:
        for entry in message.results:
            self.notify(entry.text, title=f"Resumed: {entry.target_name}", timeout=20)
        if message.error is not None:
            self.show_error(message.error, heading="Could not read the journal of earlier sessions")
        self.schedule_poll(0.0)

    def on_backend_failed(self, message: BackendFailed) -> None:
        if self.first_page_reader is not None:
            self.first_page_reader.close()  # rows read elsewhere must not cover the failure
        self.broadcast(lambda: BackendFailed(message.error))
        self.show_error(message.error, heading="Could not open the vault")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker that died of an unexpected error: say so instead of failing silently."""
        if event.state is not WorkerState.ERROR:
            return
        error = event.worker.error
        if event.worker.group == "poll":
            self._polling = False
            self.schedule_poll(5.0)
        heading = f"{event.worker.description or 'A task'} failed"
        self.show_error(error or RuntimeError("unknown error"), heading=heading)

    def _tick(self) -> None:
        if self.backend is None or not self.screen_stack:
            return
        self.check_retries()
        tick = getattr(self.screen, "on_clock_tick", None)
        if callable(tick):
            try:
                tick(self.backend.now())
            except NoMatches:
                pass  # the screen is being torn down (app exit): its widgets are already gone

    # -- navigation the controller and the palette use ------------------------------------------------------

    def show_job(self, job_name: str) -> None:
        from tui.screens.job import JobScreen

        self.push_screen(JobScreen(job_name))

    def show_error(self, error: BaseException, heading: str = "") -> None:
        from tui.dialogs.error import ErrorDialog

        self.push_screen(ErrorDialog(error, heading=heading))

    def action_help(self) -> None:
        from tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_jobs(self) -> None:
        from tui.screens.jobs import JobsScreen

        if not isinstance(self.screen, JobsScreen):
            self.push_screen(JobsScreen())

    def action_show_commands(self) -> None:
        from tui.screens.commands import CommandsScreen

        if not isinstance(self.screen, CommandsScreen):
            self.push_screen(CommandsScreen())

    def action_plans(self, select: str = "") -> None:
        from tui.screens.plans import PlansScreen

        if not isinstance(self.screen, PlansScreen):
            self.push_screen(PlansScreen(select=select))

    def action_preflight(self) -> None:
        if hasattr(self.screen, "action_preflight"):
            self.screen.action_preflight()
        else:
            from tui.screens.preflight import PreflightScreen

            self.push_screen(PreflightScreen())

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        dashboard_actions: list[tuple[str, str, str]] = [
            ("Fail back…", "Choose a recovery point and fail the selected item back to AVS", "fail_back"),
            ("Commit…", "Commit the selected item's failover (deletes the Azure VM)", "commit"),
            ("Reprotect…", "Reprotect the selected item from AVS to Azure", "reprotect"),
            ("Verify…", "Tick the checks before committing", "verify"),
            ("Filter items", "Type to filter the items table", "filter"),
            ("Filter by stage", "Show only items in one stage", "cycle_stage"),
            ("Refresh items", "Read every item again", "refresh"),
            ("Fail back plan…", "Preflight, recovery point and confirmation for the selected plan", "fail_back_plan"),
            ("Commit plan…", "Commit the selected plan's failover (deletes its Azure VMs)", "commit_plan"),
            ("Reprotect plan…", "Reprotect every committed VM of the selected plan", "reprotect_plan"),
            ("Resume plan job…", "The manual action is done: resume the plan's job with a comment", "resume_plan"),
        ]
        for title, help_text, action in dashboard_actions:
            if hasattr(screen, f"action_{action}") and screen.check_action(action, ()) is not False:
                yield SystemCommand(title, help_text, self._screen_action(screen, action))
        yield SystemCommand("Jobs", "Job history, detail, cancel / restart / resume", self.action_jobs)
        yield SystemCommand(
            "Show the command", "REST, az and PowerShell for each action taken", self.action_show_commands
        )
        yield SystemCommand("Recovery plans", "Fail back, commit, reprotect a whole plan", self.action_plans)
        yield SystemCommand(
            "Preflight (before you start)", "Check the selected item or plan, and the vault", self.action_preflight
        )
        yield SystemCommand("Help", "Every key of every screen", self.action_help)

    @staticmethod
    def _screen_action(screen: Screen[Any], action: str) -> Callable[[], Any]:
        def run() -> Any:
            return screen.run_action(action)

        return run
