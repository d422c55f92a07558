"""The frame every dialog shares: the mode banner, one titled box that scrolls as a whole, its buttons always in
view, Esc to back out."""

from __future__ import annotations

from typing import Any, TypeVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Static

from tui.widgets.banner import ModeBanner
from tui.widgets.pane import DialogBox

R = TypeVar("R")


class Dialog(ModalScreen[R]):
    """Subclasses implement `body()`, ending with a ButtonRow; Esc dismisses with None (nothing is sent).

    The box is the dialog's only scroll: its ButtonRow is docked at the bottom (app.tcss), so on a short terminal the
    text scrolls under the buttons rather than pushing them off view; PgUp/PgDn scroll it from any control.
    """

    TITLE_TEXT = ""
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="dialog-cancel"),
        Binding("pageup", "scroll_box(-1)", "Scroll up", id="dialog-page-up", show=False),
        Binding("pagedown", "scroll_box(1)", "Scroll down", id="dialog-page-down", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield ModeBanner()
        with DialogBox(classes="dialog"):
            if self.TITLE_TEXT:
                yield Static(self.TITLE_TEXT, classes="dialog-title")
            yield from self.body()

    def body(self) -> ComposeResult:
        yield from ()

    def scroll_to_center(self, widget: Widget, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        # Textual centres a control it focuses; in a dialog that scrolled the heading out of view for a control that
        # was in view already. Scroll only as far as the control needs, and no farther.
        self.scroll_to_widget(widget, animate=False, immediate=True)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_scroll_box(self, direction: int) -> None:
        box = self.query_one(DialogBox)
        if direction < 0:
            box.scroll_page_up(animate=False)
        else:
            box.scroll_page_down(animate=False)


class ChoiceDialog(Dialog[R]):
    """A dialog of choices read from the vault: its send button (id `SEND_ID`) dismisses with what `target()` makes
    of them (nothing while they are incomplete), and is disabled once pressed, so a second press sends nothing;
    any other button backs out."""

    SEND_ID = "reprotect"

    def target(self) -> R | None:
        raise NotImplementedError

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id != self.SEND_ID:
            self.dismiss(None)
            return
        target = self.target()
        if target is None:
            return
        event.button.disabled = True
        self.dismiss(target)
