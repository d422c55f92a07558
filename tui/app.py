"""The Textual application: builds the backend off the UI thread and hosts the screens."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo
from typing import Any

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen, Screen
from textual.worker import Worker, WorkerState

from core.errors import FailbackError
from core.model import AnyReprotectTarget
from core.recovery import PointOption
from core.sanitize import block, one_line
from tui.controller import Controller
from tui.glyphs import Glyphs, wants_ansi_theme, wants_ascii
from tui.messages import BackendFailed, BackendNotice, BackendReady, FleetReady, RequestRehearsed, SessionResumed
from tui.session import Session


def _go_to_provider() -> Any:
    from tui.palette import GoToProvider

    return GoToProvider


def now_utc() -> datetime:
    return datetime.now(UTC)


@dataclass
class VaultContext:
    """A vault opened from the fleet, kept while the operator is back on the fleet: what it follows survives."""

    backend: Any
    tracker: Any
    operations: Any
    journal: Any
    session: Session


class FailbackApp(Controller, App[None]):
    """One vault, one operator. `backend` given: used as is (tests); else built from `settings` in a worker."""

    CSS_PATH = "app.tcss"
    TITLE = "avs-failback"
    ENABLE_COMMAND_PALETTE = True
    COMMANDS = App.COMMANDS | {lambda: _go_to_provider()}
    BINDINGS = [
        Binding("f1", "help", "Help", id="help", tooltip="List every key"),
        Binding("question_mark", "help", "Help", id="help-question", show=False, key_display="?"),
        Binding(
            "colon",
            "command_mode",
            "Go to",
            id="command-mode",
            show=False,
            key_display=":",
            tooltip=":jobs, :plans, :vm NAME, :plan NAME…",
        ),
        Binding("J", "jobs", "Jobs", id="jobs", show=False, tooltip="Job history"),
        Binding("ctrl+q", "quit", "Quit", id="quit", tooltip="Leave the dashboard (asks first while work runs)"),
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
        fleet: Any = None,
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
        # The fleet: True to start on it (built from settings), or a core.fleet.FleetReader to use as is (tests).
        self.fleet_mode = fleet is not None and fleet is not False
        self.fleet: Any = None if isinstance(fleet, bool) else fleet
        self._vaults: dict[str, VaultContext] = {}  # the vaults opened from the fleet, by lower-case id
        self._pending_options: dict[str, PointOption] = {}
        self._reprotect_targets: dict[str, AnyReprotectTarget] = {}
        self.exit_note = ""  # printed by the console script once the terminal is back: what still runs
        # Bell, desktop escape and notify command (core.notify); built from the settings on first use, or handed in.
        self.notifier: Any = None
        self._windows_checked_at: datetime | None = None
        if wants_ansi_theme():
            self.theme = "ansi-dark"

    # -- modes shown on every screen ------------------------------------------------------------------------

    @property
    def simulated(self) -> bool:
        if self.backend is not None:
            return bool(getattr(self.backend, "simulated", False))
        if self.fleet is not None:
            return bool(self.fleet.simulated)
        return bool(getattr(self.settings, "demo", False))

    @property
    def read_only(self) -> bool:
        if self.backend is not None:
            return bool(getattr(self.backend, "read_only", False))
        return bool(getattr(self.settings, "read_only", False))

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every toast (screens and widgets notify through here): its words as content, never markup. A toast
        names items, jobs and ARM's reasons, and none of the app's toasts uses markup."""
        super().notify(block(message), title=one_line(title), severity=severity, timeout=timeout, markup=False)

    def backend_now(self) -> datetime | None:
        return self.backend.now() if self.backend is not None else None

    # -- start-up ---------------------------------------------------------------------------------------------

    def on_mount(self) -> None:
        from tui.screens.dashboard import DashboardScreen

        self.set_interval(self.tick_seconds, self._tick)
        if self.fleet_mode:
            from tui.screens.fleet import FleetScreen

            self.push_screen(FleetScreen())
            if self.fleet is not None:
                self.post_message(FleetReady(self.fleet))
            else:
                self.call_after_refresh(self.build_fleet)
            return
        self.push_screen(DashboardScreen())
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
        who = getattr(backend, "signed_in_as", None)
        if callable(who) and not backend.simulated:
            who()  # the journal's `who` needs a token: asked for here, off the UI thread (it is kept)
        self.post_message(BackendReady(backend))

    @work(thread=True, exclusive=True, group="backend", exit_on_error=False, description="Connecting")
    def build_fleet(self) -> None:
        from core.bootstrap import build_fleet

        try:
            fleet = build_fleet(self.settings, clock=self.clock)
        except FailbackError as exc:
            self.post_message(BackendFailed(exc))
            return
        self.post_message(FleetReady(fleet))

    def on_fleet_ready(self, message: FleetReady) -> None:
        self.fleet = message.fleet
        self.broadcast(lambda: FleetReady(message.fleet))

    def open_vault(self, ref: Any, select: str = "") -> None:
        """From the fleet: the vault's own dashboard, live over ARM, on the fleet's credential. Esc comes back."""
        from tui.screens.dashboard import DashboardScreen

        if self.fleet is None or self.backend is not None:
            return  # a vault is already open (a key pressed twice)
        context = self._vaults.get(ref.arm_id.lower())
        if context is None:
            try:
                backend = self.fleet.open_vault(ref)
            except FailbackError as exc:
                self.show_error(exc, heading=f"Could not open the vault {ref.name}")
                return
            self._adopt(backend)
        else:
            self.backend, self.tracker, self.operations = context.backend, context.tracker, context.operations
            self.journal, self.session = context.journal, context.session
        self.push_screen(DashboardScreen(from_fleet=True, select=select))
        if context is None and self.journal is not None:
            self.resume_session()
        else:
            self.schedule_poll(0.0)

    def close_vault(self) -> None:
        """Back to the fleet. What this session started keeps running in Azure and is followed again on return."""
        from tui.screens.fleet import FleetScreen

        if self.backend is None or self.fleet is None:
            return
        self._vaults[self.backend.vault.arm_id.lower()] = VaultContext(
            self.backend, self.tracker, self.operations, self.journal, self.session
        )
        if self._poll_timer is not None:
            self._poll_timer.stop()
            self._poll_timer = None
        self.workers.cancel_group(self, "poll")
        self._polling = False
        self.backend = self.tracker = self.operations = self.journal = None
        self.session = Session()
        stack = self.screen_stack
        fleet_at = max((n for n, screen in enumerate(stack) if isinstance(screen, FleetScreen)), default=len(stack) - 1)
        # Counted first: a pop completes later, and the loop must not pop the fleet itself meanwhile.
        for _ in range(len(stack) - 1 - fleet_at):
            self.pop_screen()

    def on_backend_ready(self, message: BackendReady) -> None:
        self._adopt(message.backend)
        self.broadcast(lambda: BackendReady(message.backend))
        if self.journal is not None:
            self.resume_session()
        else:
            self.schedule_poll()

    def _adopt(self, backend: Any) -> None:
        """Make `backend` the vault every screen works on: its job tracker, journal and operations."""
        from core.operations import Operations
        from core.tracker import JobTracker

        self.backend = backend
        if hasattr(self.backend, "on_notice"):
            # Retries and waits happen in workers: the notice crosses to the UI as a message.
            self.backend.on_notice = lambda text: self.post_message(BackendNotice(text))
        if getattr(self.backend, "rehearsal", False):
            self.backend.on_rehearsed = lambda request: self.post_message(RequestRehearsed(request))
        if self.first_page_reader is not None:
            self.first_page_reader.close()  # the dashboard reads the vault itself from here on
        clock = self.clock or getattr(self.backend, "clock", None)
        self.tracker = JobTracker(self.backend, clock)
        if self.journal is None and not self.simulated:
            from core.journal import Journal

            # Real vaults only: the demo's simulated jobs have no business in the operator's journal.
            who = getattr(self.backend, "signed_in_as", None)
            self.journal = Journal(clock=clock, vault=self.backend.vault, who=who() if callable(who) else "")
        self.operations = Operations(self.backend, self.journal, clock=clock)

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
            if entry.job_name:
                self.session.own.add(entry.job_name)
            self.notify(entry.text, title=f"Resumed: {entry.target_name}", timeout=20)
        if message.error is not None:
            self.show_error(message.error, heading="Could not read the journal of earlier sessions")
        self.schedule_poll(0.0)

    def on_request_rehearsed(self, message: RequestRehearsed) -> None:
        from core.rehearsal import describe_request

        self.notify(describe_request(message.request), title="REHEARSAL: not sent", timeout=20)

    def on_backend_notice(self, message: BackendNotice) -> None:
        self.notify(message.text, title="Waiting for Azure", timeout=10)

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

    def tell(self, event: Any) -> None:
        """Say a core.notify.Event outside the screen: the bell, the terminal's desktop notification, the command."""
        if self.notifier is None:
            from core.config import Settings
            from core.notify import Notifier

            settings = self.settings or Settings()
            driver = self._driver

            def write(text: str) -> None:
                if driver is not None:
                    driver.write(text)
                    driver.flush()

            self.notifier = Notifier.for_terminal(
                write,
                os.environ,
                desktop=settings.notify_desktop,
                command=settings.notify_command,
                bell=settings.bell,
                warn=lambda text: self.call_from_thread(self.notify, text, severity="warning"),
            )
        self.notifier.notify(event)

    def _agent_windows(self, now: datetime) -> None:
        """The VMs this session failed back whose agent window just ended: reprotect can go, say so."""
        from core.notify import window_event, windows_opened
        from tui.screens.dashboard import DashboardScreen

        before, self._windows_checked_at = self._windows_checked_at, now
        ours = {s.item_id for s in self.session.started.values() if s.kind in ("failover", "commit")}
        dashboard = next((s for s in self.screen_stack if isinstance(s, DashboardScreen)), None)
        if before is None or not ours or dashboard is None:
            return
        try:
            items = [i for i in dashboard.items_table.items.values() if i.id in ours]
        except NoMatches:
            return  # the dashboard is being torn down (app exit): nothing left to watch
        for item in windows_opened(items, before, now):
            self.tell(window_event(item, now, vault=self.backend.vault.name, simulated=self.simulated))

    def _tick(self) -> None:
        source = self.backend if self.backend is not None else self.fleet
        if source is None or not self.screen_stack:
            return
        if self.backend is not None:
            self.check_retries()
            self._agent_windows(self.backend.now())
        tick = getattr(self.screen, "on_clock_tick", None)
        if callable(tick):
            try:
                tick(source.now())
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

        if isinstance(self.screen, PlansScreen):
            if select:
                self.screen.select_plan(select)
        else:
            self.push_screen(PlansScreen(select=select))

    def action_preflight(self) -> None:
        if hasattr(self.screen, "action_preflight"):
            self.screen.action_preflight()
        else:
            from tui.screens.preflight import PreflightScreen

            self.push_screen(PreflightScreen())

    # -- leaving: never silently while work runs -------------------------------------------------------------

    def leaving(self) -> Any:
        from tui.session import leaving

        loops = tuple(text for screen in self.screen_stack if (text := getattr(screen, "loop_running", lambda: "")()))
        now = self.backend.now() if self.backend is not None else None
        return leaving(self.session, now, loops) if now is not None else leaving(self.session, now_utc(), loops)

    def action_quit(self) -> None:  # type: ignore[override]
        """Quit at once when nothing of ours runs; else name it all and ask first."""
        from tui.dialogs.confirm import QuitDialog

        if isinstance(self.screen, QuitDialog):
            return  # asked already: the answer is a button, not a second ctrl+q
        left = self.leaving()
        if not left:
            self.exit()
            return

        def answered(ok: bool | None) -> None:
            if ok:
                self.quit_now()

        self.push_screen(QuitDialog(left, simulated=self.simulated), answered)

    def quit_now(self) -> None:
        from tui.session import exit_note

        self.exit_note = exit_note(self.leaving(), simulated=self.simulated)
        self.exit()

    def action_command_mode(self) -> None:
        from tui.dialogs.command_line import CommandLine

        if not isinstance(self.screen, ModalScreen):
            self.push_screen(CommandLine())

    def leave_to(self, target: Screen[Any]) -> str:
        """Close the screens above `target`; "" when done, else why a screen in the way must stay open."""
        if target not in self.screen_stack:
            return "That screen is not open."
        above = self.screen_stack[self.screen_stack.index(target) + 1 :]
        for screen in above:
            why = getattr(screen, "why_stay", lambda: "")()
            if why:
                return why
        for _ in above:
            self.pop_screen()
        return ""

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Every key the screen answers to now, by name with its keys (F1 lists the same), then Textual's own."""
        found: dict[tuple[int, str], tuple[Any, list[str]]] = {}
        for key, active in screen.active_bindings.items():
            binding = active.binding
            if not binding.id or binding.system or not active.enabled:
                continue
            # One entry per action: f1 and ? are one "Help (f1 / ?)".
            entry = found.setdefault((id(active.node), binding.action), (active, []))
            entry[1].append(self.get_key_display(replace(binding, key=key)))
        for active, keys in found.values():
            binding = active.binding
            title = f"{binding.description} ({' / '.join(keys)})"
            yield SystemCommand(title, binding.tooltip or binding.description, self._bound_action(active))
        yield from super().get_system_commands(screen)

    @staticmethod
    def _bound_action(active: Any) -> Callable[[], Any]:
        def run() -> Any:
            return active.node.run_action(active.binding.action)

        return run
