"""Verify before commit: is the Azure VM off (read from ASR), and do the apps work (ticked by hand)?"""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Checkbox, Footer, Static

from core.errors import FailbackError
from core.model import Job, JobFilter, JobState, ProtectedItem
from tui.messages import JobsListed, LoadFailed
from tui.session import MANUAL_CHECKS, job_targets
from tui.text import plain
from tui.widgets.banner import ModeBanner
from tui.widgets.pane import Pane
from tui.widgets.toggles import MarkedCheckbox

_FAILOVER_SCENARIOS = ("unplannedfailover", "plannedfailover", "failover")


def shutdown_evidence(item: ProtectedItem, job: Job | None) -> tuple[bool | None, str]:
    """(True: off, False: not shown off, None: cannot tell) and the sentence that says why."""
    lines = []
    verdict: bool | None = None
    if job is None:
        lines.append(
            "No failover job found for this item: check yourself that the Azure VM is off (its power state in Azure)."
        )
    else:
        task = next((t for t in job.tasks if "shut" in (t.friendly_name + " " + t.name).lower()), None)
        if task is None:
            lines.append(f"The failover job {job.name} lists no shutdown task.")
        elif task.skipped:
            lines.append(
                f"ASR skipped “{task.friendly_name}” (the failover did not require it): make sure the Azure VM "
                "is off yourself."
            )
        elif task.state is JobState.SUCCEEDED:
            verdict = True
            lines.append(f"ASR's task “{task.friendly_name}” succeeded in job {job.name}.")
        else:
            verdict = False
            lines.append(f"ASR's task “{task.friendly_name}” is {task.state.word.lower()}.")
    if item.active_location.lower() == "recovery":
        lines.append("ASR reports the VM active on the AVS side.")
    else:
        verdict = False
        lines.append(f"ASR reports the VM active at {item.active_location or 'an unknown location'}.")
    return verdict, " ".join(lines)


class VerifyScreen(Screen[str]):
    """Dismisses with "commit" when the operator asks to commit from here, else None."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="verify-back"),
        Binding("c", "commit", "Commit…", id="verify-commit", tooltip="Opens the typed confirmation"),
    ]

    def __init__(self, item: ProtectedItem) -> None:
        super().__init__()
        self.item = item
        self.job: Job | None = None

    def compose(self) -> ComposeResult:
        name = self.item.friendly_name or self.item.name
        ticked = self.app.session.ticked.get(self.item.id, set())  # type: ignore[attr-defined]
        yield ModeBanner()
        with Pane(id="verify"):
            yield Static(plain(f"Verify {name} before committing"), classes="dialog-title")
            yield Static("Read from ASR", classes="pane-title")
            yield Static("Looking for the failover job…", id="azure-off")
            yield Static("Checked by you (Space ticks)", classes="pane-title")
            for key, label in MANUAL_CHECKS:
                yield MarkedCheckbox(label, value=key in ticked, id=f"check-{key}")
        yield Footer()

    def on_mount(self) -> None:
        app: Any = self.app
        known = app.session.job_for_item(self.item)
        if known is not None and known.scenario_name.lower() in _FAILOVER_SCENARIOS and known.tasks:
            self._show(known)
        else:
            self.find_job()
        first = self.query(Checkbox).first()
        first.focus()

    @work(thread=True, exclusive=True, group="verify", exit_on_error=False, description="Finding the failover")
    def find_job(self) -> None:
        backend = self.app.backend  # type: ignore[attr-defined]
        try:
            jobs = [j for j in backend.list_jobs(JobFilter()) if job_targets(j, self.item)]
            failovers = [j for j in jobs if j.scenario_name.lower() in _FAILOVER_SCENARIOS]
            failovers.sort(key=lambda j: j.start_time.timestamp() if j.start_time else 0.0)
            detailed = [backend.get_job(failovers[-1].name)] if failovers else []
        except FailbackError as exc:
            self.post_message(LoadFailed("verify", exc))
            return
        self.post_message(JobsListed(detailed))

    def on_jobs_listed(self, message: JobsListed) -> None:
        self._show(message.jobs[0] if message.jobs else None)

    def on_load_failed(self, message: LoadFailed) -> None:
        self.query_one("#azure-off", Static).update(plain(f"Could not read the failover job: {message.error}"))

    def _show(self, job: Job | None) -> None:
        self.job = job
        glyphs = self.app.glyphs  # type: ignore[attr-defined]
        verdict, why = shutdown_evidence(self.item, job)
        mark = {True: glyphs.check, False: "✗" if not glyphs.ascii_only else "[!]", None: "?"}[verdict]
        word = {True: "Azure VM is off", False: "Azure VM may still run", None: "Azure VM state unknown"}[verdict]
        self.query_one("#azure-off", Static).update(plain(f"{mark} {word}: {why}"))

    @on(Checkbox.Changed)
    def _ticked(self, event: Checkbox.Changed) -> None:
        key = (event.checkbox.id or "").removeprefix("check-")
        ticked = self.app.session.ticked.setdefault(self.item.id, set())  # type: ignore[attr-defined]
        if event.value:
            ticked.add(key)
        else:
            ticked.discard(key)

    def action_back(self) -> None:
        self.dismiss(None)

    def action_commit(self) -> None:
        self.dismiss("commit")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return commit_allowed_here(self, action)


def commit_allowed_here(screen: Screen[str], action: str) -> bool:
    """A checklist screen offers "commit" (its caller opens the typed confirmation), never in read-only mode."""
    return not (action == "commit" and screen.app.read_only)  # type: ignore[attr-defined]
