"""Commit a whole plan, typed: the plan's name must be typed, because commit deletes every failed-over Azure VM."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.widgets import Button, Input, Static

from core.plans import PlanView
from tui.dialogs.base import Dialog
from tui.session import MANUAL_CHECKS
from tui.text import clean, lines, plain
from tui.widgets.buttons import ButtonRow


class PlanCommitDialog(Dialog[bool]):
    def __init__(self, view: PlanView, verified: list[tuple[str, int]] | None = None) -> None:
        super().__init__()
        self.view = view
        self.verified = verified or []  # (VM, checks ticked) for each VM

    @property
    def accepted(self) -> set[str]:
        """The plan's name or its friendly name, as shown in the plans list."""
        names = {n for n in (self.view.plan.name, self.view.plan.friendly_name) if n}
        return names | {clean(n) for n in names}  # as shown, for a name with a character that cannot be typed

    def typed_ok(self, value: str) -> bool:
        return value.strip() in self.accepted

    def body(self) -> ComposeResult:
        plan = self.view.plan
        yield Static(plain(f"Commit the failover of the plan {self.view.name}"), classes="dialog-title")
        vms = ", ".join(clean(m.name) for m in self.view.members)
        text = (
            f"Commit deletes the failed-over Azure VMs of all {len(self.view.members)} VMs of the plan: {vms}.\n"
            "It cannot be undone: after it, the only way back to Azure is to reprotect and fail over again.\n\n"
        )
        unchecked = [clean(name) for name, ticked in self.verified if ticked < len(MANUAL_CHECKS)]
        if unchecked:
            text += (
                f"Not every check is ticked for {', '.join(unchecked)} (v on the plans screen). Commit only once "
                "every VM works in AVS.\n\n"
            )
        text += f"Type {clean(plan.name)} to commit."
        yield Static(lines(text), id="plan-commit-text")
        yield Input(placeholder=clean(plan.name), id="plan-typed-name")
        with ButtonRow():
            yield Button("Back", id="back")
            yield Button("Commit plan", id="commit", variant="error", disabled=True)

    def on_mount(self) -> None:
        self.query_one("#plan-typed-name", Input).focus()

    @on(Input.Changed, "#plan-typed-name")
    def _typed(self, event: Input.Changed) -> None:
        self.query_one("#commit", Button).disabled = not self.typed_ok(event.value)

    @on(Input.Submitted, "#plan-typed-name")
    def _submitted(self, event: Input.Submitted) -> None:
        # Enter in the box moves to the buttons; it never commits by itself.
        if self.typed_ok(event.value):
            self.query_one("#commit", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "commit":
            if not self.typed_ok(self.query_one("#plan-typed-name", Input).value):
                return
            event.button.disabled = True
            self.dismiss(True)
        else:
            self.dismiss(False)
