"""Scrolling panes that take focus only when there is something to scroll, and show it when they have it."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll

# The list keys (tui.widgets.table.LIST_BINDINGS), scrolling a pane of text instead of moving a cursor.
PANE_BINDINGS: list[BindingType] = [
    Binding("j", "scroll_down", "Down", id="list-down", show=False, tooltip="Next row"),
    Binding("k", "scroll_up", "Up", id="list-up", show=False, tooltip="Previous row"),
    Binding("g", "scroll_home", "Top", id="list-top", show=False, tooltip="First row"),
    Binding("G", "scroll_end", "Bottom", id="list-bottom", show=False, tooltip="Last row"),
]


class Pane(VerticalScroll):
    """A pane of text. Tab stops on it only while its text overflows (then j/k/arrows scroll it); a pane that
    shows everything is not a stop, which would leave the operator on a focus they cannot see."""

    BINDINGS: ClassVar[list[BindingType]] = PANE_BINDINGS
    DEFAULT_CSS = """
    Pane:focus {
        background-tint: $foreground 6%;
    }
    """

    def allow_focus(self) -> bool:
        return self.can_focus and self.max_scroll_y > 0

    def on_resize(self) -> None:
        # Text that arrives after the screen opened (a check, the help) may come to overflow: with nothing else
        # focused, the pane takes the focus then, so that j/k and the arrows scroll it at once.
        self.call_after_refresh(self._focus_if_alone)

    def _focus_if_alone(self) -> None:
        if self.is_mounted and self.screen.focused is None and self.allow_focus():
            self.focus(scroll_visible=False)


class DialogBox(VerticalScroll, can_focus=False):
    """A dialog's frame: its one scroll. Never a focus stop; the dialog's PgUp/PgDn scroll it from any control."""
