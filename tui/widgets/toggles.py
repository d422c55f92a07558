"""Checkbox and radio button whose state shows without colour (NO_COLOR, monochrome consoles)."""

from __future__ import annotations

from textual.widgets import Checkbox, RadioButton

# Textual draws the same inner glyph on and off and tells them apart by colour alone: blank it when off.


class MarkedCheckbox(Checkbox):
    @property
    def BUTTON_INNER(self) -> str:  # type: ignore[override]  # noqa: N802 - the name Textual reads
        return "X" if self.value else " "


class MarkedRadioButton(RadioButton):
    @property
    def BUTTON_INNER(self) -> str:  # type: ignore[override]  # noqa: N802
        return "●" if self.value else " "
