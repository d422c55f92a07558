"""The classic stack (configuration server): InMage back to AVS by unplanned failover, InMageAzureV2 forward."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from core.errors import NotAllowedNow, UsageError
from core.model import AnyReprotectTarget, PointChoice, ProtectedItem, ReprotectTarget, Stage
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

# protectionState values (ASR exposes its internal state-machine names) that mean "failover done, commit pending".
_COMMIT_PENDING_STATES = {"unplannedfailovercommitpendingstatesbegin", "plannedfailovercommitpendingstatesbegin"}
_PROTECTED_STATES = {"protected", "protectedstatesbegin"}
_REPROTECT_OPS = ("ReverseReplicate", "SwitchProtection")

NO_CANCEL = (
    "A classic failback (unplanned failover) cannot be cancelled: once it has run, the way forward is verify and "
    "commit; to undo it, fail the VM over to Azure again."
)


def failover_body(
    choice: PointChoice, recovery_point_id: str = "", *, shut_down_azure_vm: bool = True
) -> dict[str, Any]:
    """Unplanned failover of a failback-leg (InMage) item, Azure → AVS; the shape of a recorded real request.

    sourceSiteOperations "Required" has ASR shut the Azure VM down first (PowerShell's -PerformSourceSideAction;
    the portal's "shut down machines" box): the product promises the Azure VM is off after a failback. The
    recorded request sent "NotRequired", which skips that task.
    """
    details: dict[str, Any] = {"instanceType": "InMage", "recoveryPointType": choice.asr_type}
    if choice is PointChoice.CUSTOM:
        if not recovery_point_id:
            raise UsageError("A custom recovery point needs its id.", hint="Pick a point from `points ITEM`.")
        details["recoveryPointId"] = recovery_point_id
    return {
        "properties": {
            "failoverDirection": "PrimaryToRecovery",
            "sourceSiteOperations": "Required" if shut_down_azure_vm else "NotRequired",
            "providerSpecificDetails": details,
        }
    }


def plan_failover_body(choice: PointChoice) -> dict[str, Any]:
    """Failback of a whole plan: one InMage entry in the provider list; direction RecoveryToPrimary because the
    plan's fabrics stay as they were (what PowerShell sends for a plan; ASR_API.md §0.1, not seen on the wire)."""
    if choice is PointChoice.CUSTOM:
        raise UsageError("A recovery plan fails back to the latest or the latest app-consistent point only.")
    return {
        "properties": {
            "failoverDirection": "RecoveryToPrimary",
            "sourceSiteOperations": "Required",
            "providerSpecificDetails": [{"instanceType": "InMage", "recoveryPointType": choice.asr_type}],
        }
    }


def reprotect_body(target: ReprotectTarget) -> dict[str, Any]:
    """Reprotect AVS → Azure after the failback (InMageAzureV2), as in a recorded real request."""
    details: dict[str, Any] = {
        "instanceType": "InMageAzureV2",
        "masterTargetId": target.master_target_id,
        "processServerId": target.process_server_id,
    }
    optional = {
        "runAsAccountId": target.run_as_account_id,
        "policyId": target.policy_id,
        "storageAccountId": target.storage_account_id,
        "logStorageAccountId": target.log_storage_account_id,
    }
    details.update({key: value for key, value in optional.items() if value})
    if target.disks_to_include:
        details["disksToInclude"] = list(target.disks_to_include)
    return {"properties": {"failoverDirection": "RecoveryToPrimary", "providerSpecificDetails": details}}


def _is_commit_pending(item: ProtectedItem) -> bool:
    state = norm(item.protection_state)
    if state in _COMMIT_PENDING_STATES:
        return True
    return item.allows("Commit") and item.active_location.lower() == "recovery"


def _is_committed(item: ProtectedItem) -> bool:
    if any(item.allows(op) for op in _REPROTECT_OPS):
        return True
    state = norm(item.protection_state)
    return "committed" in state and "pending" not in state


def not_ready_reason(item: ProtectedItem) -> str | None:
    """Why an item that is neither running nor past failover cannot be failed back; None when it can."""
    state = norm(item.protection_state)
    described = item.protection_state_description or item.protection_state or "unknown"
    if state == "enablingfailed":
        return "Enabling replication failed. Fix the health errors, then enable replication again."
    if "enabling" in state or state.startswith("unprotected"):
        return "Replication is being enabled; wait for the initial replication to finish."
    if "initial" in state:
        return "Initial replication is still running; failback needs it to finish and a recovery point."
    if "resync" in state:
        return "Resynchronisation is running; wait for it to finish before failing back."
    if not state:
        return "ASR reports no protection state for this item yet; refresh in a minute."
    if state not in _PROTECTED_STATES:
        return f"ASR reports the state {described!r}, which is not a failback step this tool knows."
    return None


def _is_failback_leg(item: ProtectedItem) -> bool:
    return item.instance_type == "InMage" and item.active_site_type.lower() == "azure"


class ClassicProvider:
    """InMage (Azure → AVS through a process server in Azure and a master target in AVS) and InMageAzureV2."""

    key = "classic"
    kind_label = "classic (configuration server)"
    failover_name = "unplanned failover"
    needs_points = True  # the operator picks from the listed points (core.recovery.point_options)
    cancellable = False

    def type_options(self, item: ProtectedItem) -> list[PointOption]:
        return []

    def stage(self, item: ProtectedItem) -> Stage:
        return remembered_stage(item, self._work_out_stage)

    def _work_out_stage(self, item: ProtectedItem) -> Stage:
        running = running_stage(item)
        if running is not None:
            return running
        if _is_commit_pending(item):
            return Stage.FAILED_OVER
        if _is_committed(item):
            return Stage.COMMITTED
        if not_ready_reason(item) is not None:
            return Stage.NOT_READY
        if item.instance_type == "InMageAzureV2":
            return Stage.PROTECTED_TO_AZURE
        if _is_failback_leg(item) and item.last_recovery_point_time is not None:
            return Stage.READY
        return Stage.NOT_READY

    def stage_reason(self, item: ProtectedItem) -> str:
        stage = self.stage(item)
        if stage is Stage.NOT_READY:
            reason = not_ready_reason(item)
            if reason is not None:
                return reason
            if _is_failback_leg(item):
                return "No recovery point has reached the AVS side yet; wait for replication from Azure to produce one."
            return "This item replicates towards Azure, not back to AVS: there is nothing to fail back."
        texts = {
            Stage.READY: "Replicating from Azure to AVS with a recovery point: ready to fail back.",
            Stage.FAILOVER_RUNNING: "The failover job is running; the VM starts in AVS when it ends.",
            Stage.CANCEL_RUNNING: "A cancel job is running on this item.",
            Stage.FAILED_OVER: "The VM runs in AVS. Verify the applications and that the Azure VM is off, then commit.",
            Stage.COMMIT_RUNNING: "The commit job is running; it deletes the failed-over Azure VM.",
            Stage.COMMITTED: (
                "Committed. The AVS VM is not protected: reprotect it to Azure (choose the process server)."
            ),
            Stage.REPROTECT_RUNNING: "The reprotect job is running; initial replication to Azure follows.",
            Stage.PROTECTED_TO_AZURE: "Replicating from AVS to Azure again: failback is complete.",
            Stage.IN_AZURE: "The VM runs in Azure: reprotect it to AVS first.",
        }
        text = texts[stage]
        running = item.current_scenario
        if running is not None and stage in RUNNING_STAGES:
            text += f" Job {running.job_name}."
        return text

    def next_step(self, item: ProtectedItem) -> str:
        stage = self.stage(item)
        if stage is Stage.READY:
            if item.consistency_group and item.allows("UnplannedFailover") and item.current_scenario is None:
                return "Fail back its recovery plan"
            return "Fail back" if self.verdict(item, Verb.FAILOVER).allowed else ""
        if stage is Stage.FAILED_OVER:
            return "Verify, then commit"
        if stage is Stage.COMMITTED:
            return "Reprotect"
        if stage in RUNNING_STAGES:
            return "Wait for the job"
        return ""

    def verdict(self, item: ProtectedItem, verb: Verb) -> Verdict:
        if verb is Verb.CANCEL:
            return Verdict(False, NO_CANCEL)
        running = running_job_verdict(item)
        if running is not None:
            return running
        if verb is Verb.FAILOVER:
            return self._can_failover(item)
        if verb is Verb.COMMIT:
            return self._can_commit(item)
        return self._can_reprotect(item)

    def _can_failover(self, item: ProtectedItem) -> Verdict:
        stage = self.stage(item)
        if stage is not Stage.READY:
            return Verdict(False, f"{item.friendly_name} is not ready to fail back: {self.stage_reason(item)}")
        if item.last_recovery_point_time is None:
            return Verdict(False, "No recovery point exists yet; wait for replication to produce one.")
        grouped = group_verdict(item)
        if grouped is not None:
            return grouped
        if not item.allows("UnplannedFailover"):
            return Verdict(
                False,
                "ASR does not offer failover for this item right now (UnplannedFailover is not among its allowed "
                "operations). Refresh, and check its health errors.",
            )
        target = item.recovery_fabric_friendly_name or "the AVS private cloud"
        return Verdict(
            True,
            f"Fails {item.friendly_name} over from Azure to {target}: ASR shuts the Azure VM down and starts "
            "the VM in AVS." + health_note(item),
        )

    def _can_commit(self, item: ProtectedItem) -> Verdict:
        stage = self.stage(item)
        if stage is not Stage.FAILED_OVER:
            return Verdict(False, f"Commit follows a completed failover; {item.friendly_name} is at: {stage.label}.")
        if not item.allows("Commit"):
            return Verdict(
                False,
                "ASR does not offer commit for this item right now (Commit is not among its allowed operations). "
                "Refresh in a minute.",
            )
        return Verdict(
            True,
            f"Commits the failover of {item.friendly_name}: ASR deletes the failed-over Azure VM. This cannot be "
            "undone.",
        )

    def _can_reprotect(self, item: ProtectedItem) -> Verdict:
        stage = self.stage(item)
        if stage is not Stage.COMMITTED:
            return Verdict(False, f"Reprotect follows the commit; {item.friendly_name} is at: {stage.label}.")
        if not any(item.allows(op) for op in _REPROTECT_OPS):
            return Verdict(
                False,
                "ASR does not offer reprotect for this item right now (neither ReverseReplicate nor "
                "SwitchProtection is allowed). Refresh in a minute.",
            )
        return Verdict(
            True,
            f"Reprotects {item.friendly_name} from AVS to Azure through the chosen process server; initial "
            "replication to Azure follows.",
        )

    def failover_request(self, item: ProtectedItem, choice: PointChoice, recovery_point_id: str = "") -> ActionRequest:
        body = failover_body(choice, recovery_point_id)
        journal = {"choice": choice.value, "kind": "unplannedFailover"}
        return ActionRequest(
            Verb.FAILOVER, "unplannedFailover", body, "UnplannedFailoverInput", journal, choice, recovery_point_id
        )

    def cancel_request(self, item: ProtectedItem) -> ActionRequest:
        raise NotAllowedNow(NO_CANCEL)

    def commit_request(self, item: ProtectedItem) -> ActionRequest:
        return ActionRequest(Verb.COMMIT, "failoverCommit", None)

    def complete_target(
        self, item: ProtectedItem, target: ReprotectTarget, policies: Sequence[tuple[str, str, str]]
    ) -> AnyReprotectTarget:
        if target.policy_id:
            return target
        return dataclasses.replace(target, policy_id=forward_policy("InMageAzureV2", policies))

    def reprotect_request(self, item: ProtectedItem, target: AnyReprotectTarget) -> ActionRequest:
        if not isinstance(target, ReprotectTarget):
            raise UsageError(
                f"{item.friendly_name} is a classic VM: its reprotect goes through a process server and a master "
                "target, not a replication appliance.",
                hint="Name them with --process-server and --master-target.",
            )
        return ActionRequest(
            Verb.REPROTECT, "reProtect", reprotect_body(target), "ReverseReplicationInput", target=target
        )
