"""An error as the operator needs it: what failed, ASR's causes and recommended action, what to do."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Button, Static

from tui.dialogs.base import Dialog
from tui.text import error_text
from tui.widgets.buttons import ButtonRow


class ErrorDialog(Dialog[None]):
    TITLE_TEXT = "Something went wrong"

    def __init__(self, error: BaseException, *, heading: str = "") -> None:
        super().__init__()
        self.error = error
        self.heading = heading

    def body(self) -> ComposeResult:
        with Vertical(classes="dialog-section"):
            yield Static(error_text(self.error, heading=self.heading), id="error-text")
        with ButtonRow():
            yield Button("Close", id="close", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#close", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)
