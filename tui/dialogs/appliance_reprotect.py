"""Reprotect a modernized VM through a replication appliance: from Azure to AVS (appliance, datastore, log storage
account, failback policy) or from AVS back to Azure (appliance); every choice read from the vault."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.widgets import Button, DataTable, Input, Static

from core.errors import UsageError
from core.failback import agent_window_words
from core.model import AnyReprotectTarget, Appliance, Fabric, ProtectedItem, ReprotectTarget
from core.providers.modernized import (
    FAILBACK,
    appliance_of,
    appliances_of,
    default_datastore,
    default_log_account,
    to_avs_target,
)
from core.providers.modernized_preflight import appliance_warnings
from tui.dialogs.base import ChoiceDialog
from tui.text import age, clean, lines, plain
from tui.widgets.buttons import ButtonRow
from tui.widgets.table import FreshTable, cursor_key

SPACE_NOTE = "ASR reports no free space for modernized datastores: check in vCenter that it has room for the VM."


class ApplianceReprotectDialog(ChoiceDialog[AnyReprotectTarget]):
    """`to_avs`: the VM runs in Azure (InMageRcm, failed over) and replicates back to AVS after this; otherwise it
    was failed back and committed (InMageRcmFailback) and replicates to Azure again."""

    def __init__(
        self,
        item: ProtectedItem,
        fabrics: Sequence[Fabric],
        now: datetime,
        *,
        to_avs: bool,
        policies: Sequence[tuple[str, str, str]] = (),
    ) -> None:
        super().__init__()
        self.item = item
        self.now = now
        self.to_avs = to_avs
        self.fabrics = fabrics
        self.appliances = {a.id: a for a in appliances_of(fabrics)}
        # the Azure → AVS policies (InMageRcmFailback) a reprotect to AVS may name; ASR uses the vault's when none is
        self.policies = [(pid, name) for pid, name, kind in policies if kind == FAILBACK]

    def body(self) -> ComposeResult:
        what = self.item.friendly_name or self.item.name
        towards = "from Azure to AVS" if self.to_avs else "from AVS back to Azure"
        yield Static(plain(f"Reprotect {what} {towards}"), classes="dialog-title")
        role = "receives the VM's changes in AVS" if self.to_avs else "sends the VM's changes to Azure"
        yield Static(f"Replication appliance ({role}):", classes="dialog-label")
        yield FreshTable(id="appliances", cursor_type="row")
        if self.to_avs:
            yield Static("Datastore in AVS (those the appliance reaches):", classes="dialog-label")
            yield FreshTable(id="datastores", cursor_type="row")
            yield Static("Storage account for the replication logs (ARM id):", classes="dialog-label")
            yield Input(
                default_log_account(self.item), id="log-account", placeholder="/subscriptions/…/storageAccounts/…"
            )
            if len(self.policies) > 1:
                yield Static("Failback policy:", classes="dialog-label")
                yield FreshTable(id="policies", cursor_type="row")
        yield Static("", id="reprotect-note")
        with ButtonRow():
            yield Button("Back", id="back")
            yield Button("Reprotect", id="reprotect", variant="warning")

    def on_mount(self) -> None:
        table: DataTable[Any] = self.query_one("#appliances", DataTable)
        for key, label in (("name", "Name"), ("ip", "IP"), ("health", "Health"), ("beat", "Heartbeat")):
            table.add_column(label, key=key)
        healthy_first = sorted(
            self.appliances.values(), key=lambda a: (a.health.lower() not in ("normal", "none"), a.name)
        )
        for a in healthy_first:
            beat = f"{age(a.last_heartbeat, self.now)} ago" if a.last_heartbeat else "not reported"
            table.add_row(a.name, a.ip_address or "—", a.health or "not reported", beat, key=a.id)
        current = appliance_of(list(self.fabrics), self.item.process_server_id)
        if current is not None:  # the appliance the VM replicates through now comes first to hand
            table.move_cursor(row=table.get_row_index(current.id))
        if self.to_avs and len(self.policies) > 1:
            policies: DataTable[Any] = self.query_one("#policies", DataTable)
            policies.add_column("Policy", key="name")
            for pid, name in self.policies:
                policies.add_row(name, key=pid)
        table.focus()
        self._fill_datastores()
        self._show()

    @property
    def appliance(self) -> Appliance | None:
        return self.appliances.get(cursor_key(self.query_one("#appliances", DataTable)))

    @property
    def datastore(self) -> str:
        return cursor_key(self.query_one("#datastores", DataTable)) if self.to_avs else ""

    @property
    def policy_id(self) -> str:
        if len(self.policies) > 1:
            return cursor_key(self.query_one("#policies", DataTable))
        # the vault's only failback policy, named as the recorded request does; none listed: the field is optional
        return self.policies[0][0] if self.policies else ""

    def _fill_datastores(self) -> None:
        if not self.to_avs:
            return
        stores: DataTable[Any] = self.query_one("#datastores", DataTable)
        keep = self.datastore
        stores.clear(columns=not stores.columns)
        if not stores.columns:
            stores.add_column("Datastore", key="name")
            stores.add_column("", key="note")
        appliance = self.appliance
        own = default_datastore(self.item, appliance)
        for name in (appliance.accessible_datastores or ()) if appliance is not None else ():
            stores.add_row(name, "the VM's own (original location)" if name == own else "", key=name)
        wanted = keep or own
        if wanted and wanted in stores.rows:
            stores.move_cursor(row=stores.get_row_index(wanted))

    @on(DataTable.RowHighlighted)
    def _moved(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "appliances":
            self._fill_datastores()
        self._show()

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        self._show()

    def _problem(self) -> str:
        """Why Reprotect cannot be pressed yet, or ""."""
        appliance = self.appliance
        if appliance is None:
            return "The vault lists no replication appliance: reprotect is not possible from here."
        if not self.to_avs:
            return ""
        if appliance.accessible_datastores is None:
            return f"ASR does not report which datastores {appliance.name} reaches: reprotect with the command line."
        if not self.datastore:
            return f"{appliance.name} reaches no datastore: choose another appliance."
        if not self.query_one("#log-account", Input).value.strip():
            return "Give the storage account for the replication logs (ASR reports none for this VM)."
        return ""

    def _show(self) -> None:
        notes = []
        appliance = self.appliance
        if appliance is not None:
            notes.extend(appliance_warnings(appliance, self.now))
        problem = self._problem()
        if problem:
            notes.append(problem)
        if self.to_avs:
            if len(self.policies) == 1:
                notes.append(f"Failback policy: {self.policies[0][1]} (the vault's only Azure → AVS policy).")
            notes.append(SPACE_NOTE)
            if self.item.allows("Commit"):
                notes.append("The reprotect also commits the failover to Azure.")
            notes.append("Initial replication to AVS follows (ASR reports its progress); failback is offered after it.")
        else:
            notes.append(agent_window_words(self.item, self.now))
            notes.append("Initial replication to Azure follows; the VM is protected again when it ends.")
        self.query_one("#reprotect-note", Static).update(lines("\n".join(clean(n) for n in notes)))
        self.query_one("#reprotect", Button).disabled = bool(problem)

    def target(self) -> AnyReprotectTarget | None:
        appliance = self.appliance
        if appliance is None or self._problem():
            return None
        if not self.to_avs:
            # the backend adds the vault's AVS → Azure (InMageRcm) policy, as it does for the command line
            return ReprotectTarget(process_server_id=appliance.id, master_target_id="")
        account = self.query_one("#log-account", Input).value.strip()
        try:
            return to_avs_target(self.item, appliance, self.datastore, account, self.policy_id)
        except UsageError as exc:
            self.query_one("#reprotect-note", Static).update(lines(clean(str(exc))))
            return None
