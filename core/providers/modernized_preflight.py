"""The preflight of a modernized VM before its planned failover from Azure (MODERNIZED.md §4 "What the operator
needs first"): what ASR offers, initial replication, health, running jobs, the group, and the hand checks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from core.model import Appliance, Fabric, Job, ProtectedItem, RecoveryPlan, Stage
from core.preflight import (
    HEARTBEAT_WARN_AFTER,
    Check,
    Level,
    check_group,
    check_health,
    check_running_jobs,
    heartbeat_level,
    with_advice,
)
from core.providers.modernized import MODERNIZED_FORWARD, ModernizedProvider, appliance_of
from core.recovery import duration

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


_HEALTH_LEVEL = {"normal": Level.PASS, "none": Level.PASS, "warning": Level.WARN, "critical": Level.FAIL}


def check_appliance(item: ProtectedItem, fabrics: Sequence[Fabric], now: datetime) -> Check:
    """The VM's replication appliance in AVS (InMageRcmFabricSpecificDetails, MODERNIZED.md §8): each component's
    health and the stalest heartbeat. ASR names the appliance on the item (reprotectAgentId / processServerId)."""
    title = "Replication appliance in AVS"
    name = item.friendly_name
    if not item.process_server_id:
        return Check(
            "appliance",
            title,
            Level.WARN,
            f"ASR names no replication appliance for {name}.",
            "Check the VM's replication settings: the appliance it replicates through is named there.",
        )
    appliance = appliance_of(fabrics, item.process_server_id)
    if appliance is None:
        if not any(f.appliances for f in fabrics):
            return Check(
                "appliance",
                title,
                Level.WARN,
                "The vault's fabrics list no replication appliance, so its health is not known here.",
                "Check the appliance's health by hand (Site Recovery infrastructure → ASR replication appliances).",
            )
        named = item.rcm.appliance_name if item.rcm is not None and item.rcm.appliance_name else item.process_server_id
        return Check(
            "appliance",
            title,
            Level.FAIL,
            f"The appliance {named} that ASR names for the VM is not listed by any fabric of the vault.",
            "Check that the appliance is registered with the vault and that its services run.",
        )
    beat_level, beat_text = heartbeat_level(now, appliance.last_heartbeat)
    parts = [f"{c.role} {c.health}" for c in appliance.unwell]
    health_level = Level.worst_of(
        tuple(_HEALTH_LEVEL.get(c.health.lower(), Level.WARN) for c in appliance.components) or (Level.WARN,)
    )
    level = Level.worst_of((beat_level, health_level))
    health = appliance.health or "not reported"
    detail = f"{appliance.name} ({appliance.ip_address or 'no IP'}): health {health}, {beat_text}."
    if parts:
        detail += f" Not healthy: {', '.join(parts)}."
    if appliance.free_space_percent is not None and appliance.free_space_percent < 10:
        detail += f" Free space on it: {appliance.free_space_percent} %."
        level = Level.worst_of((level, Level.WARN))
    if level is Level.PASS:
        return Check("appliance", title, level, detail)
    remedy = (
        f"Sign in to the appliance {appliance.name} and check its services and its connection to Azure (443/TCP); "
        "or reprotect the VM through another appliance of the vault."
    )
    errors = [e for c in appliance.components for e in c.health_errors]
    return Check("appliance", title, level, detail, with_advice(remedy, errors))


def check_target_datastore(item: ProtectedItem, fabrics: Sequence[Fabric]) -> Check:
    """The AVS datastore the VM fails back onto: reachable by its appliance's reprotect agent. No modernized object
    reports a datastore's size (MODERNIZED.md §8): its space is a check by hand, never a figure made up."""
    title = "Target datastore in AVS"
    rcm = item.rcm
    store = rcm.target_datastore if rcm is not None else ""
    appliance = appliance_of(fabrics, item.process_server_id) if item.process_server_id else None
    reach = appliance.accessible_datastores if appliance is not None else None
    space = "ASR reports no free space for modernized datastores: check in vCenter that it has room for the VM."
    if not store:
        return Check("datastore", title, Level.WARN, "ASR names no target datastore for the VM.", space)
    if reach is not None and store not in reach:
        listed = ", ".join(reach) or "none"
        return Check(
            "datastore",
            title,
            Level.FAIL,
            f"The appliance {appliance.name if appliance else ''} no longer reaches {store} (it reaches: {listed}).",
            "Check the datastore's mount and the appliance's access to it in vCenter; the planned failover writes "
            "the VM's disks there.",
        )
    reached = f", reached by {appliance.name}" if appliance is not None and reach is not None else ""
    return Check("datastore", title, Level.WARN, f"{store}{reached}; its free space is not reported.", space)


def appliance_warnings(appliance: Appliance, now: datetime) -> list[str]:
    """What the operator should hear about an appliance before sending through it: its components that are not
    healthy, and a heartbeat older than the preflight's warning age, or not reported."""
    notes = []
    if appliance.unwell:
        parts = ", ".join(f"{c.role} {c.health}" for c in appliance.unwell)
        notes.append(f"Warning: the appliance {appliance.name} reports {parts}.")
    beat = appliance.last_heartbeat
    if beat is None:
        notes.append(f"Warning: ASR reports no heartbeat for {appliance.name}.")
    elif now - beat > HEARTBEAT_WARN_AFTER:
        notes.append(
            f"Warning: {appliance.name} has not sent a heartbeat for {duration((now - beat).total_seconds())}."
        )
    return notes


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
    """The checks that need only the item (the dashboard's "Ready, blocked" adds the appliance's, shared)."""
    return (
        check_direction(item),
        check_allowed(item),
        check_initial_replication(item),
        check_replication_health(item),
    )


def evaluate(
    item: ProtectedItem,
    running_jobs: Sequence[Job],
    fabrics: Sequence[Fabric],
    now: datetime,
    *,
    plans: Sequence[RecoveryPlan] = (),
) -> tuple[Check, ...]:
    """The checks in the order an operator reads them."""
    return (
        check_direction(item),
        check_allowed(item),
        check_initial_replication(item),
        check_appliance(item, fabrics, now),
        check_target_datastore(item, fabrics),
        check_replication_health(item),
        check_running_jobs(item, running_jobs),
        check_group(item, plans),
        check_network_path(),
    )
