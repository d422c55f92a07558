"""Before you start: the read-only check of an item, a plan and the whole vault, and the gate before a failover."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Static

from core.errors import FailbackError
from core.model import ProtectedItem, RecoveryPlan
from core.preflight import SKIP_REASON_MIN, Level, PreflightReport, decision
from tui.dialogs.base import Dialog
from tui.glyphs import Glyphs
from tui.messages import BackendReady
from tui.text import clean, lines, plain
from tui.widgets.banner import ModeBanner
from tui.widgets.buttons import ButtonRow
from tui.widgets.pane import Pane


@dataclass(eq=False)
class PreflightRead(Message, bubble=False):
    """A check finished; `scope` says which part of the screen it fills ("target", "vault" or "gate")."""

    scope: str
    reports: list[PreflightReport]
    error: BaseException | None = None


def level_text(level: Level, glyphs: Glyphs) -> str:
    return f"{level.ascii_glyph if glyphs.ascii_only else level.glyph} {level.word}"


def report_text(
    report: PreflightReport, glyphs: Glyphs, *, only_problems: bool = False, skip: tuple[str, ...] = ()
) -> Text:
    """Every check as glyph + word, its detail, and what to do when it is not a pass; the worst come first."""
    text = Text()
    text.append(f"{level_text(report.worst, glyphs)}  {clean(report.summary)}\n", style="bold")
    for check in sorted(report.checks, key=lambda c: -c.level.rank):
        if (only_problems and check.level is Level.PASS) or check.key in skip:
            continue
        style = "bold" if check.level is Level.FAIL else ""
        text.append(f"  {level_text(check.level, glyphs):<7}", style=style)
        text.append(f"{clean(check.title)}: ", style="bold")
        text.append(f"{clean(check.detail)}\n")
        if check.remedy and check.level is not Level.PASS:
            text.append(f"          What to do {glyphs.arrow} {clean(check.remedy)}\n", style="italic")
    text.rstrip()
    return text


class PreflightGate(Dialog[dict[str, Any]]):
    """Runs a check before a failover dialog opens. A FAIL blocks: remedies shown, Back, and going on only with a
    reason typed for the journal (the CLI's --skip-preflight, never in read-only mode).

    Dismisses with what the journal records about the check (core.preflight.decision), or None: nothing goes on.
    `show_warnings`: when False (a single item), a report without a FAIL lets the flow go on at once; when True (a
    plan), the report is always shown and warnings wait for the operator's Continue.
    """

    def __init__(
        self,
        what: str,
        compute: Callable[[], PreflightReport] | None = None,
        *,
        report: PreflightReport | None = None,
        show_warnings: bool = True,
    ) -> None:
        super().__init__()
        self.what = what
        self.compute = compute
        self.report = report
        self.show_warnings = show_warnings

    def body(self) -> ComposeResult:
        yield Static(plain(f"Before you start: {self.what}"), classes="dialog-title")
        with Vertical(classes="dialog-section"):
            yield Static("Checking (reads only)…", id="gate-report")
            yield Input(placeholder="Why go on despite the FAIL? (written to the journal)", id="skip-reason")
        with ButtonRow():
            yield Button("Back", id="back")
            yield Button("Go on anyway…", id="override", variant="error")
            yield Button("Skip the preflight", id="skip", variant="error", disabled=True)
            yield Button("Continue", id="continue", variant="primary", disabled=True)

    def on_mount(self) -> None:
        for hidden in ("#skip-reason", "#override", "#skip"):
            self.query_one(hidden).display = False
        self.query_one("#back", Button).focus()
        if self.report is not None:
            self._show(self.report)
        elif self.compute is not None:
            self._run(self.compute)

    @work(thread=True, exclusive=True, group="preflight", exit_on_error=False, description="Checking")
    def _run(self, compute: Callable[[], PreflightReport]) -> None:
        try:
            report = compute()
        except FailbackError as exc:
            self.post_message(PreflightRead("gate", [], exc))
            return
        self.post_message(PreflightRead("gate", [report]))

    def on_preflight_read(self, message: PreflightRead) -> None:
        if message.error is not None:
            self.query_one("#gate-report", Static).update(
                lines(f"The check could not read the vault: {clean(message.error)}\nNothing was sent. Try again.")
            )
            return
        self._show(message.reports[0])

    def _show(self, report: PreflightReport) -> None:
        self.report = report
        if report.ok and not self.show_warnings:
            self.dismiss(decision(report))
            return
        glyphs: Glyphs = self.app.glyphs  # type: ignore[attr-defined]
        text = report_text(report, glyphs)
        if report.ok:
            text.append("\n\nNo blocking problem. Read the warnings, then Continue.")
        else:
            text.append("\n\nBlocked: fix what is marked FAIL, then try again. Nothing was sent.", style="bold")
        self.query_one("#gate-report", Static).update(text)
        button = self.query_one("#continue", Button)
        button.disabled = not report.ok
        button.display = report.ok
        self.query_one("#override").display = not report.ok and not self.app.read_only  # type: ignore[attr-defined]
        if report.ok:
            button.focus()

    @on(Input.Changed, "#skip-reason")
    def _reason_typed(self, event: Input.Changed) -> None:
        self.query_one("#skip", Button).disabled = len(" ".join(event.value.split())) < SKIP_REASON_MIN

    def on_button_pressed(self, event: Button.Pressed) -> None:
        report = self.report
        if event.button.id == "continue" and report is not None and report.ok:
            self.dismiss(decision(report))
        elif event.button.id == "override" and report is not None:
            # Going on despite a FAIL is a decision to be owned: typed, and journaled with the send.
            event.button.display = False
            self.query_one("#skip").display = True
            box = self.query_one("#skip-reason", Input)
            box.display = True
            box.focus()
        elif event.button.id == "skip" and report is not None and not event.button.disabled:
            reason = self.query_one("#skip-reason", Input).value
            if len(" ".join(reason.split())) >= SKIP_REASON_MIN:
                self.dismiss(decision(report, reason))
        elif event.button.id == "back":
            self.dismiss(None)


def preflight_item_then(screen: Any, item: ProtectedItem, proceed: Callable[[dict[str, Any]], None]) -> None:
    """Check `item` (check_item) before its failover dialog: FAILs are shown and stop (unless a reason is typed to go
    on); otherwise `proceed(decision)`, with what the journal records about the check."""
    from core.preflight import check_item

    app: Any = screen.app
    backend = app.backend

    def done(outcome: dict[str, Any] | None) -> None:
        if outcome is not None:
            proceed(outcome)

    gate = PreflightGate(item.friendly_name or item.name, lambda: check_item(backend, item), show_warnings=False)
    app.push_screen(gate, done)


def vault_summary(reports: list[PreflightReport], only_problems: bool) -> Text:
    """The whole vault in one line, first on the screen: how many are ready, blocked, or go with their plan."""
    blocked = sum(1 for r in reports if not r.ok)
    with_plan = sum(1 for r in reports if r.via_plan)
    warned = sum(
        1
        for r in reports
        if r.ok and not r.via_plan and any(c.level is Level.WARN and c.key != "network-path" for c in r.checks)
    )
    ready = len(reports) - blocked - with_plan
    text = Text()
    text.append("The whole vault: ", style="bold")
    text.append(
        f"{len(reports)} checked (items ready to fail back, and plans): {blocked} blocked, {ready} ready"
        f" ({warned} with warnings), {with_plan} fail back with their plan. "
        f"{'Passes hidden; a shows them.' if only_problems else 'a hides the passes.'}"
    )
    return text


class PreflightScreen(Screen[None]):
    """The check for the selected item or plan (if any), then every ready item and plan of the vault."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="preflight-back"),
        Binding(
            "ctrl+r", "recheck", "Check again", id="preflight-recheck", tooltip="Read the vault again and re-check"
        ),
        Binding("a", "toggle_passes", "All / problems", id="preflight-passes", tooltip="Show or hide the passes"),
    ]

    def __init__(self, item: ProtectedItem | None = None, plan: RecoveryPlan | None = None) -> None:
        super().__init__()
        self.item = item
        self.plan = plan
        self.target_report: PreflightReport | None = None
        self.vault_reports: list[PreflightReport] | None = None
        self.errors: dict[str, BaseException] = {}
        self.only_problems = True

    @property
    def target_name(self) -> str:
        if self.plan is not None:
            return self.plan.friendly_name or self.plan.name
        if self.item is not None:
            return self.item.friendly_name or self.item.name
        return ""

    def compose(self) -> ComposeResult:
        yield ModeBanner()
        yield Static("Preflight: before you start (reads only, sends nothing)", classes="pane-title")
        with Pane(id="preflight"):
            yield Static("", id="preflight-summary")
            yield Static("", id="preflight-target")
            yield Static("Checking the whole vault…", id="preflight-vault")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#preflight-target", Static).display = bool(self.target_name)
        self.action_recheck()

    def on_backend_ready(self, message: BackendReady) -> None:
        self.action_recheck()  # opened while the vault was still opening: check it now

    def action_recheck(self) -> None:
        if getattr(self.app, "backend", None) is None:
            return
        self.errors.clear()
        if self.target_name:
            self.query_one("#preflight-target", Static).update(plain(f"Checking {self.target_name}…"))
            self._check_target()
        self.query_one("#preflight-vault", Static).update("Checking the whole vault…")
        self._check_vault()

    def action_toggle_passes(self) -> None:
        self.only_problems = not self.only_problems
        self._show()

    @work(thread=True, exclusive=True, group="preflight-target", exit_on_error=False, description="Checking")
    def _check_target(self) -> None:
        from core.preflight import check_item, check_plan

        backend = self.app.backend  # type: ignore[attr-defined]
        try:
            if self.plan is not None:
                plan = backend.get_plan(self.plan.name)
                items = [i for page in backend.iter_item_pages() for i in page]
                report = check_plan(backend, plan, items)
            else:
                assert self.item is not None
                report = check_item(backend, backend.get_item(self.item.id))
        except FailbackError as exc:
            self.post_message(PreflightRead("target", [], exc))
            return
        self.post_message(PreflightRead("target", [report]))

    @work(thread=True, exclusive=True, group="preflight-vault", exit_on_error=False, description="Checking the vault")
    def _check_vault(self) -> None:
        from core.preflight import check_vault

        try:
            reports = check_vault(self.app.backend)  # type: ignore[attr-defined]
        except FailbackError as exc:
            self.post_message(PreflightRead("vault", [], exc))
            return
        self.post_message(PreflightRead("vault", reports))

    def on_preflight_read(self, message: PreflightRead) -> None:
        if message.error is not None:
            self.errors[message.scope] = message.error
        elif message.scope == "target":
            self.target_report = message.reports[0]
        else:
            self.vault_reports = message.reports
        self._show()

    def _show(self) -> None:
        glyphs: Glyphs = self.app.glyphs  # type: ignore[attr-defined]
        target = self.query_one("#preflight-target", Static)
        if "target" in self.errors:
            target.update(plain(f"Could not check {self.target_name}: {self.errors['target']} (ctrl+r to try again)"))
        elif self.target_report is not None:
            target.update(report_text(self.target_report, glyphs))
        vault = self.query_one("#preflight-vault", Static)
        if "vault" in self.errors:
            vault.update(plain(f"Could not check the vault: {self.errors['vault']} (ctrl+r to try again)"))
            return
        if self.vault_reports is None:
            return
        self.query_one("#preflight-summary", Static).update(vault_summary(self.vault_reports, self.only_problems))
        text = Text()
        # The network path cannot be probed: every report warns about it; say it once rather than 20 times.
        skip = ("network-path",) if self.only_problems else ()
        if skip:
            text.append(
                f"\nEvery report also warns that the network path Azure {glyphs.arrow} AVS cannot be probed from here: "
                "check it by hand (the item or plan above shows how).\n",
                style="italic",
            )
        with_plan = [r for r in self.vault_reports if r.via_plan]
        if with_plan and self.only_problems:
            names = ", ".join(r.target_name for r in with_plan)
            text.append(f"\n{level_text(Level.PLAN, glyphs)}  ", style="bold")
            text.append(f"Fail back with their recovery plan (checked as part of it, below): {names}\n")
        shown = [r for r in self.vault_reports if not (self.only_problems and r.via_plan)]
        for report in sorted(shown, key=lambda r: (-r.worst.rank, r.kind, r.target_name.lower())):
            text.append("\n")
            label = "Plan" if report.kind == "plan" else "VM"
            text.append(f"{label} ", style="bold")
            text.append(report_text(report, glyphs, only_problems=self.only_problems, skip=skip))
            text.append("\n")
        vault.update(text)
