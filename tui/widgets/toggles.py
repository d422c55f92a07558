"""Checkbox and radio button whose state shows without colour (NO_COLOR, monochrome consoles)."""

from __future__ import annotations

from textual.geometry import Size
from textual.widget import Widget
from textual.widgets import Checkbox, RadioButton


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
