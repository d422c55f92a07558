"""Verify a plan before its commit: each VM's checklist (the dashboard's own), opened from a list of its VMs."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from core.failback import derive_stage
from core.plans import PlanView
from tui.session import MANUAL_CHECKS
from tui.text import plain
from tui.widgets.banner import ModeBanner
from tui.widgets.table import FreshTable

COLUMNS = (("vm", "VM"), ("stage", "Stage"), ("checks", "Checks ticked"))


def verified_counts(app: Any, view: PlanView) -> list[tuple[str, int]]:
    """(VM name, checks ticked) for each VM of the plan, in boot order."""
    return [(m.name, len(app.session.ticked.get(m.item.id, ()))) for m in view.members]


class PlanVerifyScreen(Screen[str]):
    """Dismisses with "commit" when the operator asks to commit the plan from here, else None."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="plan-verify-back"),
        Binding("v", "verify", "Verify VM", id="plan-verify-vm", tooltip="The selected VM's checklist"),
        Binding("c", "commit", "Commit plan…", id="plan-verify-commit", tooltip="Opens the typed confirmation"),
    ]

    def __init__(self, view: PlanView) -> None:
        super().__init__()
        self.view = view

    def compose(self) -> ComposeResult:
        yield ModeBanner()
        yield Static(plain(f"Verify the plan {self.view.name} before committing it"), classes="pane-title")
        yield Static(
            "Commit deletes every failed-over Azure VM of the plan: check each VM in AVS first. Enter or v opens a "
            "VM's checklist.",
            id="plan-verify-text",
        )
        yield FreshTable(id="plan-verify-vms", cursor_type="row")
        yield Static("", id="plan-verify-status")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#plan-verify-vms", DataTable)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        self._fill()
        table.focus()

    def _fill(self) -> None:
        app: Any = self.app
        table = self.query_one("#plan-verify-vms", DataTable)
        keep = table.cursor_row
        table.clear()
        total = len(MANUAL_CHECKS)
        for member in self.view.members:
            ticked = len(app.session.ticked.get(member.item.id, ()))
            mark = app.glyphs.check if ticked >= total else app.glyphs.uncheck
            table.add_row(
                member.name,
                app.glyphs.stage_text(derive_stage(member.item)),
                f"{mark} {ticked} of {total}",
                key=member.item.id,
            )
        if table.row_count:
            table.move_cursor(row=min(keep, table.row_count - 1))
        done = sum(1 for _, n in verified_counts(app, self.view) if n >= total)
        self.query_one("#plan-verify-status", Static).update(
            f"{done} of {len(self.view.members)} VMs fully checked" + (" · c commits the plan" if done else "")
        )

    def on_screen_resume(self) -> None:
        self._fill()

    @on(DataTable.RowSelected, "#plan-verify-vms")
    def _chosen(self, event: DataTable.RowSelected) -> None:
        self.action_verify()

    def action_verify(self) -> None:
        from tui.screens.verify import VerifyScreen

        table = self.query_one("#plan-verify-vms", DataTable)
        if not table.row_count:
            return
        item_id = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        member = next((m for m in self.view.members if m.item.id == item_id), None)
        if member is None:
            return

        def done(result: str | None) -> None:
            if result == "commit":
                self.action_commit()

        self.app.push_screen(VerifyScreen(member.item), done)

    def action_back(self) -> None:
        self.dismiss(None)

    def action_commit(self) -> None:
        self.dismiss("commit")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        from tui.screens.verify import commit_allowed_here

        return commit_allowed_here(self, action)
