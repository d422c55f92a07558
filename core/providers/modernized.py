"""The modernized stack (replication appliance): InMageRcm to Azure, InMageRcmFailback back to AVS by a planned
failover from Azure, which can be cancelled until commit. Facts and sources: core/providers/MODERNIZED.md."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.errors import NotFound, UsageError
from core.model import (
    AnyReprotectTarget,
    Appliance,
    Fabric,
    PointChoice,
    ProtectedItem,
    RcmReprotectToAvs,
    RcmReprotectToAzure,
    ReprotectTarget,
    Stage,
)
from core.providers.base import (
    RUNNING_STAGES,
    ActionRequest,
    Verb,
    Verdict,
    forward_policy,
    group_verdict,
    health_note,
    norm,
    remembered_stage,
    running_job_verdict,
    running_stage,
)
from core.recovery import PointOption

FORWARD = MODERNIZED_FORWARD = "InMageRcm"
FAILBACK = "InMageRcmFailback"

# InMageRcmFailbackRecoveryPointType (SDK _enums.py): the only two values; no point id exists for this provider.
POINT_TYPES = {PointChoice.LATEST: "CrashConsistent", PointChoice.LATEST_APP_CONSISTENT: "ApplicationConsistent"}

TRADEOFF = {
    PointChoice.LATEST: (
        "ASR copies the pending changes, makes the point, then shuts the Azure VM down; databases replay their "
        "logs on boot. Whether writes between the point and the shutdown survive is not documented: stop the "
        "applications first if none may be lost."
    ),
    PointChoice.LATEST_APP_CONSISTENT: (
        "The latest app-consistent point ASR holds: applications start clean, and everything written since that "
        "point is lost — up to the failback policy's app-consistent interval, more if ASR reports missing points."
    ),
}

CANCEL_WORDS = (
    "ASR rolls the AVS disks back to their state before the planned failover, turns the Azure VM on again and "
    "resumes replication to AVS; you can fail back again later."
)


def planned_failover_body(choice: PointChoice) -> dict[str, Any]:
    """POST {item}/plannedFailover (PlannedFailoverInput → InMageRcmFailbackPlannedFailoverProviderInput), as
    recorded: the type is always sent (PowerShell sends ApplicationConsistent when none is given), and no
    failoverDirection (MODERNIZED.md §4)."""
    if choice not in POINT_TYPES:
        raise UsageError(
            "A modernized failback takes a type of point, not a chosen one.",
            hint="Use --point latest (crash-consistent, made when the job starts) or --point app-consistent.",
        )
    details = {"instanceType": FAILBACK, "recoveryPointType": POINT_TYPES[choice]}
    return {"properties": {"providerSpecificDetails": details}}


def plan_planned_failover_body(choice: PointChoice, *, multi_vm_sync: bool = True) -> dict[str, Any]:
    """POST {plan}/plannedFailover (RecoveryPlanPlannedFailoverInput, failoverDirection required by the SDK, one
    RecoveryPlanInMageRcmFailbackFailoverInput entry); useMultiVmSyncPoint as PowerShell writes it, "True" by default
    (MODERNIZED.md §9; the service's parsing is UNCONFIRMED, U14)."""
    body = planned_failover_body(choice)
    entry = dict(body["properties"]["providerSpecificDetails"])
    entry["useMultiVmSyncPoint"] = "True" if multi_vm_sync else "False"
    return {"properties": {"failoverDirection": "RecoveryToPrimary", "providerSpecificDetails": [entry]}}


def reprotect_to_avs_body(target: RcmReprotectToAvs) -> dict[str, Any]:
    """POST {item}/reProtect with InMageRcmReprotectInput, as recorded (MODERNIZED.md §3)."""
    details: dict[str, Any] = {
        "instanceType": FORWARD,
        "reprotectAgentId": target.reprotect_agent_id,
        "datastoreName": target.datastore_name,
        "logStorageAccountId": target.log_storage_account_id,
    }
    if target.policy_id:
        details["policyId"] = target.policy_id
    return {"properties": {"failoverDirection": "RecoveryToPrimary", "providerSpecificDetails": details}}


def reprotect_to_azure_body(target: RcmReprotectToAzure) -> dict[str, Any]:
    """POST {item}/reProtect with InMageRcmFailbackReprotectInput, as recorded: no failoverDirection
    (MODERNIZED.md §7; U19, U20)."""
    details: dict[str, Any] = {
        "instanceType": FAILBACK,
        "processServerId": target.process_server_id,
        "policyId": target.policy_id,
    }
    if target.run_as_account_id:
        details["runAsAccountId"] = target.run_as_account_id
    return {"properties": {"providerSpecificDetails": details}}


def _where(item: ProtectedItem) -> str:
    return item.recovery_fabric_friendly_name or "the AVS private cloud"


def type_options() -> list[PointOption]:
    """The two choices of a modernized failback: a type of point, not a listed one (MODERNIZED.md §12). Neither has
    a loss ASR reports: both figures stay unknown, never zero."""
    return [
        PointOption(
            PointChoice.LATEST,
            None,
            None,
            None,
            "Crash-consistent, made when the job starts",
            TRADEOFF[PointChoice.LATEST],
            False,
        ),
        PointOption(
            PointChoice.LATEST_APP_CONSISTENT,
            None,
            None,
            None,
            "Latest app-consistent point",
            TRADEOFF[PointChoice.LATEST_APP_CONSISTENT],
            True,
        ),
    ]


def appliances_of(fabrics: Sequence[Fabric]) -> list[Appliance]:
    return [a for f in fabrics for a in f.appliances]


def appliance_of(fabrics: Sequence[Fabric], appliance_id: str) -> Appliance | None:
    """The appliance with this id (as an item names it: reprotectAgentId / processServerId), or None."""
    wanted = appliance_id.lower()
    return next((a for a in appliances_of(fabrics) if a.id.lower() == wanted), None)


def find_appliance(fabrics: Sequence[Fabric], wanted: str) -> Appliance:
    """The replication appliance named `wanted` (its name, id or IP address), from the fabrics' appliance lists
    (MODERNIZED.md §8); NotFound lists the vault's appliances with their health."""
    key = wanted.strip().lower()
    found = appliances_of(fabrics)
    for appliance in found:
        if key in (appliance.name.lower(), appliance.id.lower(), appliance.ip_address.lower()):
            return appliance
    known = ", ".join(sorted(f"{a.name} ({a.health or 'health not reported'})" for a in found)) or "none"
    raise NotFound(
        f"No replication appliance named {wanted!r}. Known: {known}.",
        hint="Pass --appliance with one of the names listed.",
    )


def default_datastore(item: ProtectedItem, appliance: Appliance | None) -> str:
    """The datastore a reprotect to AVS proposes: the VM's own (original location) when the appliance reaches it,
    or when the appliance's reach is not reported; "" when there is no such default."""
    rcm = item.rcm
    own = rcm.discovered_datastores[0] if rcm is not None and rcm.discovered_datastores else ""
    reach = appliance.accessible_datastores if appliance is not None else None
    if own and (reach is None or own in reach):
        return own
    return ""


def default_log_account(item: ProtectedItem) -> str:
    """The storage account the VM's disks used for their logs on the way to Azure (read only on a GET)."""
    rcm = item.rcm
    return rcm.log_storage_accounts[0] if rcm is not None and rcm.log_storage_accounts else ""


def to_avs_target(
    item: ProtectedItem,
    appliance: Appliance | str,
    datastore: str = "",
    log_storage_account: str = "",
    policy_id: str = "",
) -> RcmReprotectToAvs:
    """The reprotect of a VM in Azure back to AVS (MODERNIZED.md §3): the datastore defaults to the VM's own
    (original location), the log storage account to the one its disks used on the way to Azure (both read only on
    a GET of the item); the SDK requires both, so without them the operator is asked. A datastore the appliance's
    reprotect agent does not reach is refused before anything is sent (when ASR lists what it reaches)."""
    chosen = appliance if isinstance(appliance, Appliance) else None
    agent_id = chosen.id if chosen is not None else str(appliance)
    datastore = datastore or default_datastore(item, chosen)
    account = log_storage_account or default_log_account(item)
    reach = chosen.accessible_datastores if chosen is not None else None
    missing = [flag for flag, value in (("--datastore", datastore), ("--log-storage-account", account)) if not value]
    if missing:
        listed = f" {chosen.name} reaches: {', '.join(reach) or 'none'}." if chosen is not None and reach else ""
        raise UsageError(
            f"The reprotect of {item.friendly_name} to AVS needs {' and '.join(missing)}: ASR reports no default.",
            hint="Name the AVS datastore the appliance reaches and the storage account for the replication logs."
            + listed,
        )
    if chosen is not None and reach is not None and datastore not in reach:
        raise UsageError(
            f"The appliance {chosen.name} does not reach the datastore {datastore!r}: ASR lists "
            f"{', '.join(reach) or 'none'} for its reprotect agent.",
            hint="Choose a datastore it reaches, or another appliance.",
        )
    return RcmReprotectToAvs(agent_id, datastore, account, policy_id)


def failback_policy(policies: Sequence[tuple[str, str, str]], named: str = "") -> str:
    """The Azure → AVS (InMageRcmFailback) policy a reprotect to AVS names: the one given, else the vault's only one
    (the recorded body names it, MODERNIZED.md §3), else "" when the vault lists none (the SDK's field is
    optional); several ask the operator to choose."""
    if named:
        return named
    found = [(pid, name) for pid, name, kind in policies if kind == FAILBACK]
    if len(found) > 1:
        raise UsageError(
            f"The vault has {len(found)} Azure → AVS (InMageRcmFailback) policies: "
            f"{', '.join(name for _pid, name in found)}.",
            hint="Name the one to use with --failback-policy /subscriptions/…/replicationPolicies/NAME.",
        )
    return found[0][0] if found else ""


class ModernizedProvider:
    """Stages come from allowedOperations first (ASR's own word on what it offers), state names second: a real
    state name that differs from the recorded one changes wording, not what the tool allows."""

    key = "modernized"
    kind_label = "modernized (replication appliance)"
    failover_name = "planned failover from Azure"
    needs_points = False
    cancellable = True

    def type_options(self, item: ProtectedItem) -> list[PointOption]:
        return type_options()

    def stage(self, item: ProtectedItem) -> Stage:
        return remembered_stage(item, self._work_out_stage)

    def _work_out_stage(self, item: ProtectedItem) -> Stage:
        running = running_stage(item)
        if running is not None:
            return running
        recovery = item.active_location.lower() == "recovery"
        if item.instance_type == FORWARD:
            # activeLocation Recovery with SwitchProtection: failed over to Azure (committed or not), MODERNIZED.md §3
            if recovery and item.allows("SwitchProtection"):
                return Stage.IN_AZURE
            return Stage.PROTECTED_TO_AZURE
        if item.allows("CancelFailover"):
            return Stage.FAILED_OVER if item.allows("Commit") else Stage.NOT_READY
        if recovery and item.allows("SwitchProtection"):
            return Stage.COMMITTED
        if item.allows("PlannedFailover"):
            # the failback leg reports no recovery-point time: ASR offering the planned failover is the sign (§10)
            return Stage.READY
        return Stage.NOT_READY

    def stage_reason(self, item: ProtectedItem) -> str:
        stage = self.stage(item)
        name = item.friendly_name
        rcm = item.rcm
        if stage is Stage.IN_AZURE:
            text = "Failed over to Azure: reprotect it to AVS (choose the appliance and the datastore)."
            if item.allows("Commit"):
                text += " The reprotect also commits the failover to Azure."
            return text
        if stage is Stage.PROTECTED_TO_AZURE:
            if "initial" in norm(item.protection_state):
                return "Reprotected to Azure: initial replication to Azure is running" + self._percent(item) + "."
            return "Replicating from AVS to Azure again: failback is complete."
        if stage is Stage.READY:
            return "Replicating from Azure to AVS: ready to fail back (planned failover from Azure)." + health_note(
                item
            )
        if stage is Stage.FAILED_OVER:
            return (
                "The planned failover finished: the VM runs in AVS. Verify it, then commit — or cancel the planned "
                "failover to return to the Azure VM."
            )
        if stage is Stage.COMMITTED:
            flag = rcm.agent_registered_after_failover if rcm is not None else None
            if flag is False:
                return (
                    f"Committed. ASR reports that the Mobility agent of {name} has not registered since the planned "
                    "failover: reprotect to Azure waits for it."
                )
            return "Committed: the AVS VM is not protected; reprotect it to Azure through the replication appliance."
        if stage in RUNNING_STAGES:
            texts = {
                Stage.FAILOVER_RUNNING: "The planned failover is running: ASR shuts the Azure VM down and starts the "
                "VM in AVS.",
                Stage.CANCEL_RUNNING: "The cancel is running: ASR turns the Azure VM on again and resumes replication "
                "to AVS.",
                Stage.COMMIT_RUNNING: "The commit job is running; ASR removes the Azure VM.",
                Stage.REPROTECT_RUNNING: "The reprotect job is running; initial replication follows.",
            }
            scenario = item.current_scenario
            return texts[stage] + (f" Job {scenario.job_name}." if scenario is not None else "")
        if item.allows("CancelFailover"):
            return (
                "The planned failover failed and ASR could not cancel it: cancel it by hand; do not disable "
                "replication."
            )
        if "initial" in norm(item.protection_state):
            return "Initial replication to AVS is running" + self._percent(item) + "; failback follows it."
        allowed = ", ".join(item.allowed_operations) or "none"
        return f"ASR does not offer the planned failover now (allowed: {allowed})."

    @staticmethod
    def _percent(item: ProtectedItem) -> str:
        rcm = item.rcm
        if rcm is None or rcm.ir_percent is None:
            return " (progress not reported)"
        return f" ({rcm.ir_percent} %)"

    def next_step(self, item: ProtectedItem) -> str:
        stage = self.stage(item)
        if stage is Stage.IN_AZURE:
            return "Reprotect to AVS"
        if stage is Stage.READY:
            if item.consistency_group and item.allows("PlannedFailover") and item.current_scenario is None:
                return "Fail back its recovery plan"
            return "Fail back" if self.verdict(item, Verb.FAILOVER).allowed else ""
        if stage is Stage.FAILED_OVER:
            return "Verify, then commit or cancel"
        if stage is Stage.COMMITTED:
            return "Reprotect" if self.verdict(item, Verb.REPROTECT).allowed else "Wait for the agent"
        if stage in RUNNING_STAGES:
            return "Wait for the job"
        if item.allows("CancelFailover"):
            return "Cancel the failover"
        return ""

    def verdict(self, item: ProtectedItem, verb: Verb) -> Verdict:
        running = running_job_verdict(item)
        if running is not None:
            return running
        name = item.friendly_name
        stage = self.stage(item)
        if verb is Verb.FAILOVER:
            if stage is not Stage.READY:
                return Verdict(False, f"{name} is not ready to fail back: {self.stage_reason(item)}")
            grouped = group_verdict(item)
            if grouped is not None:
                return grouped
            return Verdict(
                True,
                f"Fails {name} back from Azure to {_where(item)} with a planned failover: ASR copies the last "
                "changes, shuts the Azure VM down and starts the VM in AVS. You can cancel it until you commit."
                + health_note(item),
            )
        if verb is Verb.CANCEL:
            if not item.allows("CancelFailover"):
                return Verdict(
                    False,
                    f"ASR does not offer a cancel for {name} now: a planned failover can be cancelled once it has "
                    "finished and until it is committed.",
                )
            return Verdict(True, f"Cancels the planned failover of {name}: {CANCEL_WORDS}")
        if verb is Verb.COMMIT:
            if stage is not Stage.FAILED_OVER or not item.allows("Commit"):
                return Verdict(False, f"Commit follows a finished planned failover; {name} is at: {stage.label}.")
            return Verdict(
                True,
                f"Commits the failback of {name}: ASR removes the Azure VM. This cannot be undone, and the planned "
                "failover can no longer be cancelled.",
            )
        return self._can_reprotect(item, stage)

    def _can_reprotect(self, item: ProtectedItem, stage: Stage) -> Verdict:
        name = item.friendly_name
        if not item.allows("SwitchProtection"):
            return Verdict(False, f"ASR does not offer reprotect for {name} now ({stage.label}). Refresh in a minute.")
        if stage is Stage.IN_AZURE:
            extra = " It also commits the failover to Azure." if item.allows("Commit") else ""
            return Verdict(
                True,
                f"Reprotects {name} from Azure to AVS through the chosen appliance and datastore; initial "
                f"replication to AVS follows.{extra}",
            )
        if stage is Stage.FAILED_OVER:
            return Verdict(
                False,
                f"Commit {name} first: ASR's reprotect would commit the failover itself (its 'Committing failover' "
                "task), and this tool only commits on a typed confirmation.",
            )
        if stage is not Stage.COMMITTED:
            return Verdict(False, f"Reprotect follows the commit; {name} is at: {stage.label}.")
        flag = item.rcm.agent_registered_after_failover if item.rcm is not None else None
        if flag is False:
            return Verdict(
                False,
                f"ASR reports that the Mobility agent of {name} has not registered since the planned failover. ASR "
                "retries by itself; check that the VM's Mobility services run and that it reaches the appliance, "
                "then refresh.",
            )
        note = "" if flag else " ASR does not report whether the Mobility agent has registered again."
        return Verdict(
            True,
            f"Reprotects {name} from AVS to Azure through the chosen appliance; initial replication to Azure "
            f"follows.{note}",
        )

    def failover_request(self, item: ProtectedItem, choice: PointChoice, recovery_point_id: str = "") -> ActionRequest:
        if recovery_point_id or choice is PointChoice.CUSTOM:
            raise UsageError(
                f"{item.friendly_name} is a modernized VM: its failback takes a type of point, not a chosen one.",
                hint="Use --point latest (crash-consistent, made when the job starts) or --point app-consistent.",
            )
        body = planned_failover_body(choice)
        point_type = POINT_TYPES[choice]
        journal = {"choice": choice.value, "kind": "plannedFailover", "recovery_point_type": point_type}
        return ActionRequest(Verb.FAILOVER, "plannedFailover", body, "PlannedFailoverInput", journal, choice)

    def cancel_request(self, item: ProtectedItem) -> ActionRequest:
        return ActionRequest(Verb.CANCEL, "failoverCancel", None, journal={"kind": "failoverCancel"})

    def commit_request(self, item: ProtectedItem) -> ActionRequest:
        return ActionRequest(Verb.COMMIT, "failoverCommit", None)

    def complete_target(
        self, item: ProtectedItem, target: ReprotectTarget, policies: Sequence[tuple[str, str, str]]
    ) -> AnyReprotectTarget:
        """The process server chosen in the reprotect dialog is the appliance (its components share one id,
        MODERNIZED.md §8); the policy is the vault's one InMageRcm policy unless one was named. The master target
        has no part in a modernized reprotect. Only the reprotect back to Azure is made this way: the one to AVS
        needs a datastore and a log storage account the classic choice does not carry."""
        if item.instance_type != FAILBACK:
            return target
        policy = target.policy_id or forward_policy(FORWARD, policies)
        return RcmReprotectToAzure(target.process_server_id, policy, target.run_as_account_id)

    def reprotect_request(self, item: ProtectedItem, target: AnyReprotectTarget) -> ActionRequest:
        if isinstance(target, RcmReprotectToAvs) and item.instance_type == FORWARD:
            body = reprotect_to_avs_body(target)
        elif isinstance(target, RcmReprotectToAzure) and item.instance_type == FAILBACK:
            body = reprotect_to_azure_body(target)
        else:
            towards = "AVS" if item.instance_type == FORWARD else "Azure"
            raise UsageError(
                f"{item.friendly_name} is a modernized VM: its reprotect to {towards} goes through a replication "
                "appliance.",
                hint="Name it with --appliance NAME.",
            )
        return ActionRequest(Verb.REPROTECT, "reProtect", body, "ReverseReplicationInput", target=target)
