"""Reprotect AVS → Azure: choose the process server (and master target), seeing health and heartbeat."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.widgets import Button, DataTable, Static

from core.failback import agent_window_words
from core.model import Fabric, MasterTarget, ProcessServer, ProtectedItem, ReprotectTarget
from core.preflight import HEARTBEAT_WARN_AFTER, master_target_health
from core.providers import same_stack
from tui.dialogs.base import ChoiceDialog
from tui.text import age, clean, lines, plain
from tui.widgets.buttons import ButtonRow
from tui.widgets.table import FreshTable, cursor_key


def _fabrics_for(item: ProtectedItem, fabrics: list[Fabric]) -> list[Fabric]:
    """The item's own fabric first; any other fabric of its stack with servers after it (a classic VM is not
    offered the replication appliances of a modernized fabric, nor a modernized VM the configuration server's)."""
    own = [f for f in fabrics if f.name == item.fabric_name]
    stack = same_stack(item, fabrics)
    rest = [f for f in stack if f.name != item.fabric_name and (f.process_servers or f.master_targets)]
    return [f for f in own if f in stack] + rest


class ReprotectDialog(ChoiceDialog[ReprotectTarget]):
    SEND_LABEL = "Reprotect"
    SENDS_FOR = "the VM's"

    def __init__(self, item: ProtectedItem, fabrics: list[Fabric], now: datetime) -> None:
        super().__init__()
        self.item = item
        self.fabrics = _fabrics_for(item, fabrics)
        self.now = now
        self.servers: dict[str, tuple[Fabric, ProcessServer]] = {
            ps.id: (f, ps) for f in self.fabrics for ps in f.process_servers
        }
        self.targets: dict[str, tuple[Fabric, MasterTarget]] = {
            mt.id: (f, mt) for f in self.fabrics for mt in f.master_targets
        }

    def heading(self) -> ComposeResult:
        """What is reprotected, above the tables."""
        what = self.item.friendly_name or self.item.name
        yield Static(plain(f"Reprotect {what} from AVS to Azure"), classes="dialog-title")

    def body(self) -> ComposeResult:
        yield from self.heading()
        yield Static(f"Process server (sends {self.SENDS_FOR} changes to Azure):", classes="dialog-label")
        yield FreshTable(id="process-servers", cursor_type="row")
        yield Static("Master target:", classes="dialog-label")
        yield FreshTable(id="master-targets", cursor_type="row")
        yield Static("", id="reprotect-note")
        with ButtonRow():
            yield Button("Back", id="back")
            yield Button(self.SEND_LABEL, id="reprotect", variant="warning")

    def on_mount(self) -> None:
        ps_table: DataTable[Any] = self.query_one("#process-servers", DataTable)
        for key, label in (
            ("name", "Name"),
            ("ip", "IP"),
            ("health", "Health"),
            ("beat", "Heartbeat"),
            ("fabric", "Fabric"),
        ):
            ps_table.add_column(label, key=key)
        healthy_first = sorted(self.servers.values(), key=lambda fp: (not fp[1].is_healthy, fp[1].friendly_name))
        for fabric, ps in healthy_first:
            beat = f"{age(ps.last_heartbeat, self.now)} ago" if ps.last_heartbeat else "never"
            ps_table.add_row(
                ps.friendly_name,
                ps.ip_address or "—",
                ps.health or "unknown",
                beat,
                fabric.friendly_name or fabric.name,
                key=ps.id,
            )
        mt_table: DataTable[Any] = self.query_one("#master-targets", DataTable)
        for key, label in (("name", "Name"), ("ip", "IP"), ("health", "Health"), ("beat", "Heartbeat")):
            mt_table.add_column(label, key=key)
        for _, mt in self.targets.values():
            beat = f"{age(mt.last_heartbeat, self.now)} ago" if mt.last_heartbeat else "never"
            mt_table.add_row(mt.name, mt.ip_address or "—", master_target_health(mt), beat, key=mt.id)
        if self.item.master_target_id in mt_table.rows:
            # One master target per replication group: keep the one the VM uses now.
            mt_table.move_cursor(row=mt_table.get_row_index(self.item.master_target_id))
        ps_table.focus()
        self._show()

    @property
    def process_server(self) -> ProcessServer | None:
        entry = self.servers.get(cursor_key(self.query_one("#process-servers", DataTable)))
        return entry[1] if entry else None

    @property
    def master_target(self) -> MasterTarget | None:
        entry = self.targets.get(cursor_key(self.query_one("#master-targets", DataTable)))
        return entry[1] if entry else None

    @on(DataTable.RowHighlighted)
    def _moved(self, event: DataTable.RowHighlighted) -> None:
        self._show()

    def _show(self) -> None:
        ps, mt = self.process_server, self.master_target
        notes = []
        if ps is None:
            notes.append("No process server is registered in this vault: reprotect is not possible.")
        else:
            if not ps.is_healthy:
                notes.append(f"Warning: {ps.friendly_name} reports health {ps.health or 'unknown'}.")
            if ps.last_heartbeat is None or self.now - ps.last_heartbeat > HEARTBEAT_WARN_AFTER:
                notes.append(f"Warning: {ps.friendly_name}'s heartbeat is stale; it may not move data.")
        if mt is None and self._needs_master_target(ps):
            notes.append("No master target server found.")
        notes.extend(self.window_notes())
        self.query_one("#reprotect-note", Static).update(lines("\n".join(clean(n) for n in notes)))
        self.query_one("#reprotect", Button).disabled = ps is None or (mt is None and self._needs_master_target(ps))

    def _needs_master_target(self, ps: ProcessServer | None) -> bool:
        """A replication appliance (a modernized fabric's) works without a master target."""
        return ps is None or not self.servers[ps.id][0].appliances

    def window_notes(self) -> list[str]:
        """When the VM booted in AVS and when its agent's registration window ends (a plan: each of its VMs)."""
        return [agent_window_words(self.item, self.now)]

    def target(self) -> ReprotectTarget | None:
        ps, mt = self.process_server, self.master_target
        if ps is None or (mt is None and self._needs_master_target(ps)):
            return None
        fabric = self.servers[ps.id][0]
        run_as = fabric.run_as_accounts[0].id if fabric.run_as_accounts else ""
        # The policy stays empty: the backend picks the vault's AVS → Azure policy (the item's own policy is
        # the Azure → AVS one and would be wrong here).
        return ReprotectTarget(
            process_server_id=ps.id, master_target_id=mt.id if mt is not None else "", run_as_account_id=run_as
        )
