"""Resume a job stopped at a manual action: each action ticked as done, and a comment for the job's record.

The one resume dialog: the plans screen and the job screen both open it (ask_resume), so a resume always names
what was waited for, asks for every action to be ticked, and sends the comment with it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Button, Checkbox, Input, Static

from core.model import Job, PlanAction
from tui.dialogs.base import Dialog
from tui.text import clean, plain
from tui.widgets.buttons import ButtonRow
from tui.widgets.toggles import MarkedCheckbox


def manual_text(actions: Sequence[tuple[str, PlanAction]], waiting: str) -> Text:
    """What the job waits for and each pending manual action with its instructions (the job screen shows it too)."""
    text = Text()
    text.append("Waiting for you: ", style="bold")
    text.append(f"{clean(waiting) or 'a manual action'}.\n")
    for where, action in actions:
        text.append(f"  {clean(where)}: ", style="bold")
        text.append(clean(action.name) + "\n")
        if action.instructions:
            text.append(f"      {clean(action.instructions)}\n", style="italic")
    text.append("Do it, then u: tick each action and say what was done; the job goes on from there.")
    return text


class ResumeDialog(Dialog[str]):
    """Returns the comment; Resume waits until every manual action is ticked and a comment is written.

    `target_name` is worded for the title: "the plan rp-erp", "job 1f3c…".
    """

    def __init__(
        self, target_name: str, job: Job, actions: Sequence[tuple[str, PlanAction]], waiting: str = ""
    ) -> None:
        super().__init__()
        self.target_name = target_name
        self.job = job
        self.actions = list(actions)
        self.waiting = waiting

    def body(self) -> ComposeResult:
        yield Static(plain(f"Resume the job of {self.target_name}"), classes="dialog-title")
        head = f"Job {self.job.name} waits for a manual action"
        head += f": {self.waiting}." if self.waiting else "."
        if not self.actions:
            head += " ASR's job does not say which one: read the plan's actions in the portal."
        yield Static(plain(head + " Do it first, tick it, then say what was done."), id="resume-text")
        with Vertical(classes="dialog-section"):
            for index, (where, action) in enumerate(self.actions):
                label = f"{where}: {action.name}" + (f" — {action.instructions}" if action.instructions else "")
                yield MarkedCheckbox(plain(label), id=f"manual-{index}", classes="manual-action")
        yield Input(placeholder="Comment, e.g. what was done and by whom", id="resume-comment")
        with ButtonRow():
            yield Button("Back", id="back")
            yield Button("Resume job", id="resume", variant="warning", disabled=True)

    def on_mount(self) -> None:
        boxes = list(self.query(".manual-action").results(Checkbox))
        (boxes[0] if boxes else self.query_one("#resume-comment", Input)).focus()

    @property
    def ready(self) -> bool:
        ticked = all(box.value for box in self.query(".manual-action").results(Checkbox))
        return ticked and bool(self.query_one("#resume-comment", Input).value.strip())

    @on(Checkbox.Changed)
    @on(Input.Changed, "#resume-comment")
    def _changed(self) -> None:
        self.query_one("#resume", Button).disabled = not self.ready

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "resume":
            if not self.ready:
                return
            event.button.disabled = True
            self.dismiss(self.query_one("#resume-comment", Input).value.strip())
        else:
            self.dismiss(None)


def ask_resume(
    screen: Any,
    job: Job,
    *,
    target_name: str,
    actions: Sequence[tuple[str, PlanAction]],
    waiting: str,
    sent: Callable[[], None] | None = None,
) -> None:
    """Open the resume dialog; its comment goes out through the app's one path for job actions."""
    app: Any = screen.app

    def resumed(comment: str | None) -> None:
        if comment and app.start_job_action(job, "resume", comment=comment):
            if sent is not None:
                sent()

    app.push_screen(ResumeDialog(target_name, job, actions, waiting), resumed)
