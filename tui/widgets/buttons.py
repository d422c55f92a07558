"""A dialog's row of buttons: docked under its text, moved along with the arrow keys."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Button


class ButtonRow(Horizontal):
    """Left and right move between the row's buttons (enabled ones), as Tab does."""

    DEFAULT_CLASSES = "dialog-buttons"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "step(-1)", "Previous button", id="buttons-left", show=False),
        Binding("right", "step(1)", "Next button", id="buttons-right", show=False),
    ]

    def action_step(self, direction: int) -> None:
        buttons = [b for b in self.query(Button) if b.focusable]
        focused = self.screen.focused
        if not buttons or focused not in buttons:
            return
        index = buttons.index(focused)  # type: ignore[arg-type]
        target = index + direction
        if 0 <= target < len(buttons):
            buttons[target].focus()
