"""Checkbox and radio buttons whose state shows without colour (NO_COLOR, monochrome consoles), and a radio set whose
highlight is its choice."""

from __future__ import annotations

from textual.geometry import Size
from textual.widget import Widget
from textual.widgets import Checkbox, RadioButton, RadioSet


def _height(widget: Widget, container: Size, viewport: Size, width: int) -> int:
    # Textual's toggles are one line tall whatever their text; with `text-wrap: wrap` in the stylesheet a long
    # label takes the lines it needs instead of being cut at a narrow terminal's edge.
    if widget.styles.text_wrap != "wrap":
        return 1
    return max(1, Widget.get_content_height(widget, container, viewport, width))


# Textual draws the same inner glyph on and off and tells them apart by colour alone: blank it when off.


class MarkedCheckbox(Checkbox):
    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return _height(self, container, viewport, width)

    @property
    def BUTTON_INNER(self) -> str:  # type: ignore[override]  # noqa: N802 - the name Textual reads
        return "X" if self.value else " "


class MarkedRadioButton(RadioButton):
    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return _height(self, container, viewport, width)

    @property
    def BUTTON_INNER(self) -> str:  # type: ignore[override]  # noqa: N802
        return "●" if self.value else " "


class ChoiceSet(RadioSet):
    """A radio set whose highlighted option is the chosen one: the arrows choose, as in any other dialog.

    Textual's RadioSet moves a highlight with the arrows and chooses only on Enter or Space, so the explanation
    beside it (which follows the choice) described an option other than the one under the cursor.
    """

    def on_mount(self) -> None:
        # RadioSet's own mount handler highlights the first option, whichever is pressed: once every mount handler
        # has run, highlight the pressed one (a dialog asked again opens on the choice made before).
        self.call_later(self._highlight_pressed)

    def _highlight_pressed(self) -> None:
        if self.pressed_index >= 0:
            self._selected = self.pressed_index

    def action_previous_button(self) -> None:
        moving = self._selected is not None  # None: RadioSet's first highlight on mount, which chooses nothing
        super().action_previous_button()
        if moving:
            self._press_selected()

    def action_next_button(self) -> None:
        moving = self._selected is not None
        super().action_next_button()
        if moving:
            self._press_selected()

    def _scroll_to_selected(self) -> None:
        # RadioSet scrolls every ancestor to its highlighted option; in a dialog that scrolled the dialog's heading
        # out of view for an option already on screen. The set is a few lines tall and sits at the dialog's top.
        return

    def _press_selected(self) -> None:
        if self._selected is None:
            return
        button = self._nodes[self._selected]
        if isinstance(button, RadioButton) and not button.value:
            button.value = True
