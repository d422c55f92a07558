"""Commit, typed: the item's name must be typed, because commit deletes the failed-over Azure VM."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.widgets import Button, Input, Static

from core.model import ProtectedItem
from tui.dialogs.base import Dialog
from tui.session import MANUAL_CHECKS
from tui.widgets.buttons import ButtonRow


class CommitDialog(Dialog[bool]):
    def __init__(self, item: ProtectedItem, ticked: int = 0) -> None:
        super().__init__()
        self.item = item
        self.ticked = ticked

    @property
    def expected(self) -> str:
        return self.item.friendly_name or self.item.name

    def body(self) -> ComposeResult:
        name = self.expected
        yield Static(f"Commit the failover of {name}", classes="dialog-title")
        text = (
            f"Commit deletes the failed-over Azure VM of {name}. It cannot be undone: after it, the only "
            "way back to Azure is to reprotect and fail over again.\n"
        )
        if self.ticked < len(MANUAL_CHECKS):
            text += (
                f"\nOnly {self.ticked} of {len(MANUAL_CHECKS)} verification checks are ticked (v on the "
                "dashboard). Commit only once the VM works in AVS.\n"
            )
        text += f"\nType {name} to commit."
        yield Static(text, id="commit-text")
        yield Input(placeholder=name, id="typed-name")
        with ButtonRow():
            yield Button("Back", id="back")
            yield Button("Commit", id="commit", variant="error", disabled=True)

    def on_mount(self) -> None:
        self.query_one("#typed-name", Input).focus()

    @on(Input.Changed, "#typed-name")
    def _typed(self, event: Input.Changed) -> None:
        self.query_one("#commit", Button).disabled = event.value.strip() != self.expected

    @on(Input.Submitted, "#typed-name")
    def _submitted(self, event: Input.Submitted) -> None:
        # Enter in the box moves to the buttons; it never commits by itself.
        if event.value.strip() == self.expected:
            self.query_one("#commit", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "commit":
            if self.query_one("#typed-name", Input).value.strip() != self.expected:
                return
            event.button.disabled = True
            self.dismiss(True)
        else:
            self.dismiss(False)
