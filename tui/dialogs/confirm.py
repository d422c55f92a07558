"""A plain yes/no question for job actions (cancel, restart, resume); focus starts on the safe answer."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Static

from tui.dialogs.base import Dialog


class ConfirmDialog(Dialog[bool]):
    def __init__(self, title: str, text: str, confirm_label: str) -> None:
        super().__init__()
        self.title_text = title
        self.text = text
        self.confirm_label = confirm_label

    def body(self) -> ComposeResult:
        yield Static(self.title_text, classes="dialog-title")
        yield Static(self.text, id="confirm-text")
        with Horizontal(classes="dialog-buttons"):
            yield Button("Back", id="back")
            yield Button(self.confirm_label, id="confirm", variant="warning")

    def on_mount(self) -> None:
        self.query_one("#back", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm")
