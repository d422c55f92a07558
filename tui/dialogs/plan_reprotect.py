"""Reprotect a whole plan AVS → Azure: one process server and master target for every VM, chosen with health."""

from __future__ import annotations

from datetime import datetime

from textual.app import ComposeResult
from textual.widgets import Static

from core.failback import agent_window_words
from core.model import Fabric, ProtectedItem
from core.plans import PlanView
from tui.dialogs.reprotect import ReprotectDialog
from tui.text import plain


class PlanReprotectDialog(ReprotectDialog):
    """The single-item dialog's tables and checks, for the committed VMs of a plan (ASR_API §0.3)."""

    SEND_LABEL = "Reprotect plan"
    SENDS_FOR = "the VMs'"

    def __init__(self, view: PlanView, members: list[ProtectedItem], fabrics: list[Fabric], now: datetime) -> None:
        # The first member's fabric and master target lead: a replication group must stay on one pair.
        super().__init__(members[0], fabrics, now)
        self.view = view
        self.members = members

    def window_notes(self) -> list[str]:
        return [agent_window_words(m, self.now) for m in self.members]

    def heading(self) -> ComposeResult:
        names = ", ".join(m.friendly_name or m.name for m in self.members)
        yield Static(plain(f"Reprotect the plan {self.view.name} from AVS to Azure"), classes="dialog-title")
        shown = plain(f"{len(self.members)} VMs, each through the same servers: {names}.")
        yield Static(shown, id="plan-reprotect-members")
