"""The preflight of a modernized VM before its planned failover from Azure (MODERNIZED.md §4 "What the operator
needs first"): what ASR offers, initial replication, health, running jobs, the group, and the hand checks."""

from __future__ import annotations

from collections.abc import Sequence

from core.model import Job, ProtectedItem, RecoveryPlan, Stage
from core.preflight import Check, Level, check_group, check_health, check_running_jobs
from core.providers.modernized import MODERNIZED_FORWARD, ModernizedProvider

_PROVIDER = ModernizedProvider()


def check_direction(item: ProtectedItem) -> Check:
    title = "Replicates from Azure to AVS"
    stage = _PROVIDER.stage(item)
    name = item.friendly_name
    if stage is Stage.IN_AZURE:
        return Check(
            "direction",
            title,
            Level.FAIL,
            f"{name} runs in Azure and is not protected towards AVS yet (InMageRcm, failed over).",
            f"Reprotect it to AVS first (r on the dashboard, or `avs-failback reprotect {name} --appliance NAME`).",
        )
    if item.instance_type == MODERNIZED_FORWARD:
        return Check(
            "direction",
            title,
            Level.FAIL,
            f"{name} replicates from AVS to Azure (InMageRcm), not back to AVS.",
            "Fail it over to Azure and reprotect it from Azure to AVS first; failback starts from that state.",
        )
    if stage in (Stage.FAILED_OVER, Stage.COMMIT_RUNNING, Stage.COMMITTED, Stage.REPROTECT_RUNNING):
        return Check(
            "direction",
            title,
            Level.FAIL,
            f"{name} has already been failed back ({stage.label}).",
            "Nothing to start here: continue with its next step (verify, then commit or cancel; or reprotect).",
        )
    return Check("direction", title, Level.PASS, "The modernized failback leg (InMageRcmFailback).")


def check_allowed(item: ProtectedItem) -> Check:
    title = "ASR offers the planned failover"
    if item.allows("PlannedFailover"):
        return Check(
            "allowed-operation",
            title,
            Level.PASS,
            "PlannedFailover is among the allowed operations. ASR reports no recovery-point times on this leg; "
            "offering the planned failover is its sign that it can make one.",
        )
    allowed = ", ".join(item.allowed_operations) or "none"
    return Check(
        "allowed-operation",
        title,
        Level.FAIL,
        f"ASR does not offer PlannedFailover for {item.friendly_name} now (allowed: {allowed}). "
        f"{_PROVIDER.stage_reason(item)}",
        "Refresh in a minute; if it stays so, resolve the item's health errors (`avs-failback item NAME`).",
    )


def check_initial_replication(item: ProtectedItem) -> Check:
    title = "Initial replication to AVS"
    rcm = item.rcm
    percent = rcm.ir_percent if rcm is not None else None
    if "initial" in item.protection_state.lower():
        shown = f"{percent} %" if percent is not None else "progress not reported"
        return Check(
            "initial-replication",
            title,
            Level.FAIL,
            f"Initial replication from Azure to AVS is still running ({shown}).",
            "Wait for it to finish: the planned failover needs the whole VM in AVS.",
        )
    return Check("initial-replication", title, Level.PASS, f"Finished (state {item.protection_state or 'unknown'}).")


def check_replication_health(item: ProtectedItem) -> Check:
    """The shared health check; without ASR's own advice, the remedy points at the tool's own item view."""
    check = check_health(item)
    if check.remedy and "portal" in check.remedy:
        remedy = f"Read the item's health errors (`avs-failback item {item.friendly_name}`) and resolve what they list."
        return Check(check.key, check.title, check.level, check.detail, remedy)
    return check


def check_network_path() -> Check:
    return Check(
        "network-path",
        "Network path Azure → AVS",
        Level.WARN,
        "The path between the Azure VM, the replication appliance and AVS cannot be probed from here.",
        "Check by hand: the Azure VM keeps running with its Mobility services and reaches the modernized "
        "outbound URLs; the appliance in AVS reaches the target datastore; the VPN or ExpressRoute path between "
        "Azure and the private cloud is connected.",
    )


def quick(item: ProtectedItem) -> tuple[Check, ...]:
    """The checks that need only the item (the dashboard's "Ready, blocked")."""
    return (
        check_direction(item),
        check_allowed(item),
        check_initial_replication(item),
        check_replication_health(item),
    )


def evaluate(
    item: ProtectedItem, running_jobs: Sequence[Job], *, plans: Sequence[RecoveryPlan] = ()
) -> tuple[Check, ...]:
    """The checks in the order an operator reads them. The appliance's health and the datastore's space are not
    checked here yet: the fabric's appliance lists are not read (see MODERNIZED.md §8)."""
    return (
        check_direction(item),
        check_allowed(item),
        check_initial_replication(item),
        check_replication_health(item),
        check_running_jobs(item, running_jobs),
        check_group(item, plans),
        check_network_path(),
    )
