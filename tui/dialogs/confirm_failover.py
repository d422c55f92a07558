"""The last word before a failover: direction, item, point, and what ASR will do to the Azure VM."""

from __future__ import annotations

from datetime import datetime, tzinfo

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Static

from core.model import ProtectedItem
from core.recovery import PointOption, format_time
from tui.dialogs.base import Dialog


def failover_summary(item: ProtectedItem, option: PointOption, now: datetime, tz: tzinfo | None) -> str:
    name = item.friendly_name or item.name
    cloud = item.recovery_fabric_friendly_name or "(its recovery site)"
    point = option.point
    when = format_time(point.time, now, tz) if point is not None else "the latest point"
    return (
        f"Fail {name} back from Azure to the AVS private cloud {cloud}.\n\n"
        f"Recovery point: {option.headline}\n"
        f"  {when}\n"
        f"  {option.tradeoff}\n\n"
        "What happens:\n"
        "  1. ASR shuts the Azure VM down (its writes stop here).\n"
        "  2. ASR synchronises the last changes and starts the VM in AVS from the chosen point.\n"
        "  3. You verify the VM in AVS, then commit (a separate, typed step).\n"
    )


class ConfirmFailoverDialog(Dialog[bool]):
    """Focus starts on Back: Enter alone never fails a VM over."""

    def __init__(self, item: ProtectedItem, option: PointOption, tz: tzinfo | None, now: datetime) -> None:
        super().__init__()
        self.item = item
        self.option = option
        self.tz = tz
        self.now = now

    def body(self) -> ComposeResult:
        yield Static("Confirm the failback", classes="dialog-title")
        yield Static(failover_summary(self.item, self.option, self.now, self.tz), id="summary")
        with Horizontal(classes="dialog-buttons"):
            yield Button("Back", id="back")
            yield Button("Start failover", id="start", variant="error")

    def on_mount(self) -> None:
        self.query_one("#back", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "start":
            event.button.disabled = True  # a second press while the dialog closes does nothing
        self.dismiss(event.button.id == "start")
