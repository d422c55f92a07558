"""Choosing the recovery point: Latest, latest app-consistent, or a point from the list, loss spelled out."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import Button, Checkbox, DataTable, RadioSet, Static

from core.model import PointChoice, ProtectedItem, RecoveryPoint
from core.recovery import (
    LATEST_RECOMMENDED,
    PointOption,
    custom_option,
    data_loss_seconds,
    duration,
    format_time,
    point_options,
)
from tui.dialogs.base import Dialog
from tui.text import clean, compact_duration, plain
from tui.widgets.buttons import ButtonRow
from tui.widgets.table import FreshTable
from tui.widgets.toggles import ChoiceSet, MarkedCheckbox, MarkedRadioButton

# Enough to reach back a day at ASR's 5-minute crash-consistent cadence without drowning the dialog.
MAX_LISTED_POINTS = 300


class PointDialog(Dialog[PointOption]):
    """Returns the chosen PointOption; an option that loses more than Latest needs the checkbox ticked."""

    def __init__(
        self,
        item: ProtectedItem,
        points: list[RecoveryPoint],
        now: datetime,
        tz: tzinfo | None = None,
        *,
        chosen: PointOption | None = None,
        note: str = "",
        types: list[PointOption] | None = None,
        title: str = "",
    ) -> None:
        super().__init__()
        self.item = item
        self.title_text = title  # a plan's choice names the plan, not its first VM
        self.points = sorted(points, key=lambda p: p.time, reverse=True)
        self.now = now
        self.tz = tz
        # A stack whose failover takes a type of point (modernized) gives its options; no list, no custom point.
        self.types_only = types is not None
        self.options = types if types is not None else point_options(self.points, now, tz)
        # Asked again (the loss grew while the first dialog was open): the same choice, worded on today's points.
        self.chosen: PointOption | None = chosen or (self.options[0] if self.options else None)
        self.note = note

    def body(self) -> ComposeResult:
        name = self.item.friendly_name or self.item.name
        yield Static(plain(self.title_text or f"Recovery point for {name}"), classes="dialog-title")
        if self.note:
            yield Static(Text(clean(self.note), style="bold"), id="point-note")
        chosen = self.chosen.choice if self.chosen is not None else PointChoice.LATEST
        with ChoiceSet(id="choices"):
            for option in self.options:
                label = option.headline
                if option.choice is PointChoice.LATEST:
                    label += f" · {LATEST_RECOMMENDED}"
                yield MarkedRadioButton(label, value=option.choice is chosen, id=f"choice-{option.choice.value}")
            if not self.types_only:
                yield MarkedRadioButton(
                    "Another point from the list…", value=chosen is PointChoice.CUSTOM, id="choice-custom"
                )
        points: DataTable[Any] = FreshTable(id="point-list", cursor_type="row")
        yield points
        yield Static("", id="tradeoff")
        yield MarkedCheckbox("I accept losing these writes", id="ack")
        with ButtonRow():
            yield Button("Back", id="back")
            yield Button("Continue", id="continue", variant="primary")

    def on_mount(self) -> None:
        table = self.query_one("#point-list", DataTable)
        for key, label in (("time", "Time (local)"), ("kind", "Kind"), ("age", "Age"), ("loss", "Loss vs Latest")):
            table.add_column(label, key=key)
        for point in self.points[:MAX_LISTED_POINTS]:
            loss = data_loss_seconds(point, self.points)
            local = point.time.astimezone(self.tz) if self.tz else point.time.astimezone()
            table.add_row(
                local.strftime("%Y-%m-%d %H:%M:%S"),
                point.kind.value,
                compact_duration((self.now - point.time).total_seconds()),
                compact_duration(loss) if loss else "none",
                key=point.id,
            )
        custom = self.chosen is not None and self.chosen.choice is PointChoice.CUSTOM and self.chosen.point
        table.display = bool(custom)
        if custom and self.chosen is not None and self.chosen.point is not None:
            table.move_cursor(row=table.get_row_index(self.chosen.point.id))
        self.query_one("#choices", RadioSet).focus()
        self._show()

    def _point(self, point_id: str) -> RecoveryPoint | None:
        return next((p for p in self.points if p.id == point_id), None)

    @on(RadioSet.Changed, "#choices")
    def _choice_changed(self, event: RadioSet.Changed) -> None:
        table = self.query_one("#point-list", DataTable)
        if event.pressed.id == "choice-custom":
            table.display = True
            self._custom_from_cursor()
        else:
            table.display = False
            wanted = (event.pressed.id or "").removeprefix("choice-")
            self.chosen = next((o for o in self.options if o.choice.value == wanted), None)
        self.query_one("#ack", Checkbox).value = False
        self._show()

    @on(DataTable.RowHighlighted, "#point-list")
    def _point_moved(self, event: DataTable.RowHighlighted) -> None:
        if self.query_one("#point-list", DataTable).display:
            self._custom_from_cursor()
            self.query_one("#ack", Checkbox).value = False
            self._show()

    def _custom_from_cursor(self) -> None:
        table = self.query_one("#point-list", DataTable)
        if not table.row_count:
            self.chosen = None
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        point = self._point(str(key.value))
        self.chosen = custom_option(point, self.points, self.now, self.tz) if point else None

    @on(Checkbox.Changed, "#ack")
    def _ack_changed(self, event: Checkbox.Changed) -> None:
        self._update_continue()

    def _show(self) -> None:
        option = self.chosen
        tradeoff = self.query_one("#tradeoff", Static)
        ack = self.query_one("#ack", Checkbox)
        if option is not None and self.types_only:
            tradeoff.update(Text(f"{option.headline}\n{option.tradeoff}"))
            ack.display = option.needs_acknowledgement
            ack.label = "I accept losing the writes since the latest app-consistent point"
        elif option is None or option.point is None:
            tradeoff.update("Choose a point.")
            ack.display = False
        else:
            tradeoff.update(
                f"{option.headline}\n{option.tradeoff}\nExact time: {format_time(option.point.time, self.now, self.tz)}"
            )
            ack.display = option.needs_acknowledgement
            # Worded as the tradeoff line above words it, so the two never seem to disagree.
            ack.label = (
                f"I accept losing about {duration(option.loss_seconds)} more writes than Latest"
                if option.loss_seconds is not None
                else "I accept losing the writes since the latest app-consistent point"
            )
        self._update_continue()

    def _update_continue(self) -> None:
        option = self.chosen
        ok = option is not None and (option.point is not None or self.types_only)
        if ok and option is not None and option.needs_acknowledgement:
            ok = self.query_one("#ack", Checkbox).value
        self.query_one("#continue", Button).disabled = not ok

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "back":
            self.dismiss(None)
        elif event.button.id == "continue" and not event.button.disabled:
            self.dismiss(self.chosen)
