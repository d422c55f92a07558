"""Resume a plan job stopped at a manual action: each action ticked as done, and a comment for the job's record."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Checkbox, Input, Static

from core.model import Job, PlanAction
from tui.dialogs.base import Dialog
from tui.widgets.toggles import MarkedCheckbox


class PlanResumeDialog(Dialog[str]):
    """Returns the comment; Resume waits until every manual action is ticked and a comment is written."""

    def __init__(self, plan_name: str, job: Job, actions: list[tuple[str, PlanAction]], waiting: str = "") -> None:
        super().__init__()
        self.plan_name = plan_name
        self.job = job
        self.actions = actions
        self.waiting = waiting

    def body(self) -> ComposeResult:
        yield Static(f"Resume the job of the plan {self.plan_name}", classes="dialog-title")
        head = f"Job {self.job.name} waits for a manual action"
        head += f": {self.waiting}." if self.waiting else "."
        yield Static(head + " Do it first, tick it, then say what was done.", id="resume-text")
        with VerticalScroll(classes="dialog-scroll"):
            for index, (where, action) in enumerate(self.actions):
                label = f"{where}: {action.name}" + (f" — {action.instructions}" if action.instructions else "")
                yield MarkedCheckbox(label, id=f"manual-{index}", classes="manual-action")
        yield Input(placeholder="Comment, e.g. what was done and by whom", id="resume-comment")
        with Horizontal(classes="dialog-buttons"):
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
