"""The frame every dialog shares: the mode banner, a titled box, Esc to back out."""

from __future__ import annotations

from typing import TypeVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.widgets.banner import ModeBanner

R = TypeVar("R")


class Dialog(ModalScreen[R]):
    """Subclasses implement `body()`; Esc dismisses with None (nothing is sent)."""

    TITLE_TEXT = ""
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog-cancel")]

    def compose(self) -> ComposeResult:
        yield ModeBanner()
        with VerticalScroll(classes="dialog"):
            if self.TITLE_TEXT:
                yield Static(self.TITLE_TEXT, classes="dialog-title")
            yield from self.body()

    def body(self) -> ComposeResult:
        yield from ()

    def action_cancel(self) -> None:
        self.dismiss(None)
