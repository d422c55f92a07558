"""Commit, typed: the item's name must be typed, because commit deletes the failed-over Azure VM."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.widgets import Button, Input, Static

from core.model import ProtectedItem
from tui.dialogs.base import Dialog
from tui.session import MANUAL_CHECKS
from tui.text import clean, lines, plain
from tui.widgets.buttons import ButtonRow


class CommitDialog(Dialog[bool]):
    def __init__(self, item: ProtectedItem, ticked: int = 0) -> None:
        super().__init__()
        self.item = item
        self.ticked = ticked

    @property
    def expected(self) -> str:
        return self.item.friendly_name or self.item.name

    def typed_ok(self, value: str) -> bool:
        """The name as ASR has it, or as this dialog shows it (a name with a control character cannot be typed)."""
        return value.strip() in (self.expected, clean(self.expected))

    def body(self) -> ComposeResult:
        name_shown = clean(self.expected)
        yield Static(plain(f"Commit the failover of {name_shown}"), classes="dialog-title")
        text = (
            f"Commit deletes the failed-over Azure VM of {name_shown}. It cannot be undone: after it, the only "
            "way back to Azure is to reprotect and fail over again.\n"
        )
        if self.ticked < len(MANUAL_CHECKS):
            text += (
                f"\nOnly {self.ticked} of {len(MANUAL_CHECKS)} verification checks are ticked (v on the "
                "dashboard). Commit only once the VM works in AVS.\n"
            )
        text += f"\nType {name_shown} to commit."
        yield Static(lines(text), id="commit-text")
        yield Input(placeholder=name_shown, id="typed-name")
        with ButtonRow():
            yield Button("Back", id="back")
            yield Button("Commit", id="commit", variant="error", disabled=True)

    def on_mount(self) -> None:
        self.query_one("#typed-name", Input).focus()

    @on(Input.Changed, "#typed-name")
    def _typed(self, event: Input.Changed) -> None:
        self.query_one("#commit", Button).disabled = not self.typed_ok(event.value)

    @on(Input.Submitted, "#typed-name")
    def _submitted(self, event: Input.Submitted) -> None:
        # Enter in the box moves to the buttons; it never commits by itself.
        if self.typed_ok(event.value):
            self.query_one("#commit", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "commit":
            if not self.typed_ok(self.query_one("#typed-name", Input).value):
                return
            event.button.disabled = True
            self.dismiss(True)
        else:
            self.dismiss(False)
