"""The recovery point of a whole plan: Latest (each VM its own newest) or each replication group's common point."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Button, Checkbox, RadioSet, Static

from core.model import PointChoice, RecoveryPoint
from core.plans import GROUP_RULE, PlanLoss, PlanView, plan_loss, plan_point_summary
from core.recovery import LATEST_RECOMMENDED, GroupPoints, duration, format_time
from tui.dialogs.base import Dialog
from tui.text import clean, compact_duration, plain
from tui.widgets.buttons import ButtonRow
from tui.widgets.toggles import ChoiceSet, MarkedCheckbox, MarkedRadioButton


@dataclass(frozen=True)
class PlanPointChoice:
    choice: PointChoice
    loss_seconds: float  # the largest loss of any VM of the plan with this choice
    acknowledged: bool  # the operator accepted losing more than Latest
    loss: PlanLoss | None = None  # VM by VM, for the confirmation and the re-check before sending

    @property
    def extra_seconds(self) -> float:
        """What was accepted beyond Latest: the most any one VM gives up more than with its own Latest."""
        return self.loss.extra_seconds if self.loss is not None else 0.0


def _loss(row_loss: float | None) -> str:
    return compact_duration(row_loss) if row_loss else "none"


class PlanPointDialog(Dialog[PlanPointChoice]):
    """Shows each group's members with their latest and common points and the loss per VM for both choices."""

    def __init__(
        self,
        view: PlanView,
        points_by_item: Mapping[str, Sequence[RecoveryPoint]],
        now: datetime,
        tz: tzinfo | None = None,
        *,
        choice: PointChoice = PointChoice.LATEST,
        note: str = "",
    ) -> None:
        super().__init__()
        self.view = view
        self.now = now
        self.tz = tz
        self.groups: list[GroupPoints] = plan_point_summary(view, points_by_item, now, tz)
        self.choice = choice
        self.note = note  # why the dialog asks again (the loss grew while the first one was open)

    # -- what each choice loses ---------------------------------------------------------------------------------

    def loss(self, choice: PointChoice) -> PlanLoss:
        return plan_loss(self.groups, choice)

    def loss_for(self, choice: PointChoice) -> float:
        return self.loss(choice).worst_seconds

    @property
    def app_consistent_possible(self) -> bool:
        """Every named group has a common point (the plan failover is refused otherwise)."""
        return all(g.common_time is not None for g in self.groups if g.group in self.view.consistency_groups)

    @property
    def needs_acknowledgement(self) -> bool:
        return self.choice is PointChoice.LATEST_APP_CONSISTENT

    def body(self) -> ComposeResult:
        yield Static(plain(f"Recovery point for the plan {self.view.name}"), classes="dialog-title")
        if self.note:
            yield Static(Text(clean(self.note), style="bold"), id="plan-point-note")
        app = self.choice is PointChoice.LATEST_APP_CONSISTENT
        with ChoiceSet(id="plan-choices"):
            yield MarkedRadioButton(
                f"Latest ({LATEST_RECOMMENDED}): each VM to its own newest point, least loss, crash-consistent",
                value=not app,
                id="plan-choice-latest",
            )
            yield MarkedRadioButton(
                "App-consistent: each replication group to the point all its VMs share",
                value=app,
                id="plan-choice-app",
            )
        yield Static("", id="plan-rule")
        with Vertical(classes="dialog-section"):
            yield Static("", id="plan-points")
        yield MarkedCheckbox("I accept the older point", id="plan-ack")
        with ButtonRow():
            yield Button("Back", id="back")
            yield Button("Continue", id="continue", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#plan-choices", RadioSet).focus()
        self._show()

    def points_text(self) -> Text:
        text = Text()
        app_chosen = self.choice is PointChoice.LATEST_APP_CONSISTENT
        for group in self.groups:
            named = group.group in self.view.consistency_groups
            if named:
                text.append(f"Replication group {clean(group.group)}", style="bold")
                if group.common_time is not None:
                    text.append(f": common app-consistent point {format_time(group.common_time, self.now, self.tz)}")
                else:
                    text.append(": no app-consistent point common to all its VMs")
            else:
                text.append(clean(group.group), style="bold")
                text.append(" (in no replication group)")
            text.append("\n")
            for row in group.members:
                latest = format_time(row.latest.time, self.now, self.tz) if row.latest else "no point"
                common = (
                    format_time(row.common_point.time, self.now, self.tz) if row.common_point else "no app-consistent"
                )
                arrow = getattr(self.app, "glyphs", None)
                pointer = f"{arrow.arrow} " if arrow is not None else "> "
                mark = pointer if app_chosen and row.common_point else "  "
                loss = "" if row.latest_loss_seconds is None else f" (loss {_loss(row.latest_loss_seconds)})"
                text.append(f"  {clean(row.item_name):<16} latest {latest}{loss}\n")
                text.append(
                    f"  {mark}{'':<14} app-consistent {common} (loss {_loss(row.common_loss_seconds)})\n",
                    style="bold" if app_chosen else "",
                )
            if group.explanation:
                text.append(f"  {clean(group.explanation)}\n", style="italic")
        text.rstrip()
        return text

    @on(RadioSet.Changed, "#plan-choices")
    def _changed(self, event: RadioSet.Changed) -> None:
        app = event.pressed.id == "plan-choice-app"
        self.choice = PointChoice.LATEST_APP_CONSISTENT if app else PointChoice.LATEST
        self.query_one("#plan-ack", Checkbox).value = False
        self._show()

    @on(Checkbox.Changed, "#plan-ack")
    def _ack(self, event: Checkbox.Changed) -> None:
        self._update_continue()

    def rule_text(self) -> Text:
        """What the chosen option does to a group, and the worst case of each option VM by VM."""
        text = Text()
        text.append(GROUP_RULE[self.choice] + "\n")
        for choice, label in ((PointChoice.LATEST, "Latest"), (PointChoice.LATEST_APP_CONSISTENT, "App-consistent")):
            loss = self.loss(choice)
            text.append(f"{label}: ", style="bold" if choice is self.choice else "")
            text.append(f"{loss.words()}.\n", style="bold" if choice is self.choice else "")
        text.rstrip()
        return text

    def _show(self) -> None:
        self.query_one("#plan-rule", Static).update(self.rule_text())
        self.query_one("#plan-points", Static).update(self.points_text())
        ack = self.query_one("#plan-ack", Checkbox)
        ack.display = self.needs_acknowledgement
        if self.needs_acknowledgement:
            extra = self.loss(PointChoice.LATEST_APP_CONSISTENT).most_extra
            if extra is not None:
                ack.label = (
                    f"I accept the older app-consistent points: {extra.name} loses up to "
                    f"{compact_duration(extra.extra_seconds)} ({duration(extra.extra_seconds)}) more writes than with "
                    "Latest"
                )
        self._update_continue()

    def _update_continue(self) -> None:
        ok = True
        if self.needs_acknowledgement:
            ok = self.app_consistent_possible and self.query_one("#plan-ack", Checkbox).value
        self.query_one("#continue", Button).disabled = not ok

    def result(self) -> PlanPointChoice:
        loss = self.loss(self.choice)
        return PlanPointChoice(self.choice, loss.worst_seconds, self.needs_acknowledgement, loss)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "back":
            self.dismiss(None)
        elif event.button.id == "continue" and not event.button.disabled:
            self.dismiss(self.result())
