"""Yes/no questions (job actions, leaving a screen, quitting); focus starts on the safe answer."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Button, Static

from tui.dialogs.base import Dialog
from tui.text import clean, lines, plain
from tui.widgets.buttons import ButtonRow


class ConfirmDialog(Dialog[bool]):
    BACK_LABEL = "Back"

    def __init__(self, title: str, text: str | Text, confirm_label: str) -> None:
        super().__init__()
        self.title_text = title
        self.text = text
        self.confirm_label = confirm_label

    def body(self) -> ComposeResult:
        yield Static(plain(self.title_text), classes="dialog-title")
        yield Static(self.text if isinstance(self.text, Text) else lines(self.text), id="confirm-text")
        with ButtonRow():
            yield Button(self.BACK_LABEL, id="back")
            yield Button(self.confirm_label, id="confirm", variant="warning")

    def on_mount(self) -> None:
        self.query_one("#back", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm")


def leaving_text(left: Any, *, simulated: bool) -> Text:
    """What quitting leaves behind (tui.session.Leaving), worded for the question."""
    text = Text()
    if left.jobs:
        if simulated:
            text.append("Still running in the simulated vault (it ends with the dashboard):\n", style="bold")
        else:
            text.append(
                "Still running in Azure (they go on without the dashboard; `avs-failback resume` follows them "
                "again):\n",
                style="bold",
            )
        for line in left.jobs:
            text.append(f"  • {clean(line)}\n")
    if left.stops:
        text.append("Stops when the dashboard closes:\n", style="bold")
        for line in left.stops:
            text.append(f"  • {clean(line)}\n")
    text.rstrip()
    return text


class QuitDialog(ConfirmDialog):
    """Asked before leaving while our jobs run, a retry is pending or a request is on its way."""

    BACK_LABEL = "Stay"

    def __init__(self, left: Any, *, simulated: bool) -> None:
        super().__init__("Quit while work is still running?", leaving_text(left, simulated=simulated), "Quit")
        self.left = left
