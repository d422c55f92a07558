"""The last word before a failover: direction, item, point, and what ASR will do to the Azure VM."""

from __future__ import annotations

from datetime import datetime, tzinfo

from textual.app import ComposeResult
from textual.widgets import Button, Static

from core.model import ProtectedItem
from core.providers import provider_for
from core.recovery import PointOption, format_time, point_label, reworded
from tui.dialogs.base import Dialog
from tui.text import clean, lines
from tui.widgets.buttons import ButtonRow


def failover_summary(item: ProtectedItem, option: PointOption, now: datetime, tz: tzinfo | None) -> str:
    shown = clean(item.friendly_name or item.name)
    cloud = clean(item.recovery_fabric_friendly_name or "(its recovery site)")
    if provider_for(item).cancellable:
        return (
            f"Fail {shown} back from Azure to the AVS private cloud {cloud}: a planned failover from Azure.\n\n"
            f"Recovery point: {option.headline}\n"
            f"  {option.tradeoff}\n\n"
            "What happens:\n"
            "  1. ASR copies the last changes and makes the point.\n"
            "  2. ASR shuts the Azure VM down and starts the VM in AVS.\n"
            "  3. You verify it, then commit — or cancel (B) to return to the Azure VM."
        )
    # Every age below is told as of one `now`: the option was worded when the point dialog opened.
    option = reworded(option, now, tz)
    point = option.point
    when = format_time(point.time, now, tz) if point is not None else "the latest point"
    label = point_label(option.choice, point) if point is not None else option.headline
    return (
        f"Fail {shown} back from Azure to the AVS private cloud {cloud}.\n\n"
        f"Recovery point: {label}\n"
        f"  {when}\n"
        f"  {option.tradeoff}\n\n"
        # One line a step: at 80x24 the heading, the point and both buttons fit without scrolling.
        "What happens:\n"
        "  1. ASR shuts the Azure VM down (its writes stop here).\n"
        "  2. ASR syncs the last changes, starts the VM in AVS.\n"
        "  3. You verify it in AVS, then commit (a typed step).\n"
        "A classic failback cannot be cancelled once sent."
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
        yield Static(lines(failover_summary(self.item, self.option, self.now, self.tz)), id="summary")
        with ButtonRow():
            yield Button("Back", id="back")
            yield Button("Start failover", id="start", variant="error")

    def on_mount(self) -> None:
        # Back has focus (safe), but the dialog opens at its heading: at 24 lines, scrolling to the
        # focused button would hide what is being confirmed.
        self.query_one("#back", Button).focus(scroll_visible=False)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "start":
            event.button.disabled = True  # a second press while the dialog closes does nothing
        self.dismiss(event.button.id == "start")
