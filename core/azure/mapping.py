"""ARM JSON (as ASR sends it) to our domain objects. Tolerant of missing fields and unknown enum values."""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from core.errors import MalformedResponse
from core.model import (
    APPLIANCE_ROLES,
    IDLE_SCENARIO,
    Appliance,
    ApplianceComponent,
    CurrentScenario,
    Datastore,
    ErrorDetail,
    Fabric,
    HealthError,
    Job,
    JobState,
    JobTask,
    MasterTarget,
    PlanAction,
    PlanGroup,
    PointKind,
    ProcessServer,
    ProtectedItem,
    RcmDetails,
    RecoveryPlan,
    RecoveryPoint,
    RetentionVolume,
    RunAsAccount,
)

Json = Mapping[str, Any]

# ASR writes .NET's DateTime.MinValue and its own 1753 sentinel for "never".
_NEVER_YEARS = (1, 1753)
_SEGMENT = re.compile(r"/([^/]+)/([^/]+)", re.IGNORECASE)


def parse_time(value: Any) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    return _parse_text(value)


# A page of items repeats a handful of instants (the service's now, heartbeats, the newest points): each string
# is parsed once. datetimes are immutable, so sharing them is safe.
@functools.lru_cache(maxsize=4096)
def _parse_text(value: str) -> datetime | None:
    try:
        # Python 3.11 reads ASR's own form (7 fractional digits, Z) as it is.
        parsed = datetime.fromisoformat(value)
    except ValueError:
        text = value.strip()
        if text.endswith("Z") or text.endswith("z"):
            text = text[:-1] + "+00:00"
        # .NET writes 7 fractional digits; older readers take at most 6.
        text = re.sub(r"(\.\d{6})\d+", r"\1", text)
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if parsed.year in _NEVER_YEARS:
        return None
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # an offset that takes year 9999 (or 1) past what a datetime holds
        return None


def _str(value: Any) -> str:
    if type(value) is str:
        return value
    if value is None:
        return ""
    return str(value)


# One plain decimal number: what ASR writes in its numeric strings ("7168.5", "158.21", "23").
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


def number(value: Any) -> float | None:
    """A figure as ASR sends one: a JSON number, or a string holding one plain decimal number.

    Anything else is unknown, never 0: null, missing, "", "n/a", a unit in the text ("7 TB"), a thousands
    separator ("7,168.5" could be 7168.5 or 7.1685), a boolean, NaN or infinity.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            figure = float(value)
        except OverflowError:  # an integer beyond any float
            return None
    elif isinstance(value, str):
        text = value.strip()
        if not _DECIMAL.fullmatch(text):
            return None
        figure = float(text)
    else:
        return None
    return figure if math.isfinite(figure) else None


def amount(value: Any) -> float | None:
    """A size or a duration: a number that cannot be negative (a negative one is not a reading)."""
    figure = number(value)
    return figure if figure is not None and figure >= 0 else None


def whole(value: Any) -> int | None:
    """A count of bytes or seconds: an amount, rounded to a whole number (ASR sends integers here)."""
    if type(value) is int:
        return value if value >= 0 else None  # exact, however large
    figure = amount(value)
    return None if figure is None else round(figure)


def percent(value: Any) -> int | None:
    figure = whole(value)
    return figure if figure is not None and figure <= 100 else None


def _dict(value: Any) -> Json:
    if type(value) is dict:  # what json gives; the ABC check below is slow for the common case
        return value
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def segment(arm_id: str, name: str) -> str:
    """The value after `name` in an ARM id (case-insensitive), or ""."""
    trimmed = arm_id.strip("/")
    if trimmed.isascii():
        # One search instead of splitting and lower-casing every part (items carry long ids); ASCII only, so
        # lower-casing keeps every index in place.
        padded = f"/{trimmed}/"
        key = f"/{name.lower()}/"
        at = padded.lower().find(key)
        if at < 0:
            return ""
        start = at + len(key)
        return padded[start : padded.find("/", start)] if start < len(padded) else ""
    parts = trimmed.split("/")
    for i in range(0, len(parts) - 1):
        if parts[i].lower() == name.lower():
            return parts[i + 1]
    return ""


def last_segment(url_or_id: str) -> str:
    path = url_or_id.split("?", 1)[0].rstrip("/")
    return path.rsplit("/", 1)[-1] if path else ""


def _props(doc: Json) -> Json:
    if type(doc) is not dict and not isinstance(doc, Mapping):
        raise MalformedResponse(f"expected a JSON object, got {type(doc).__name__}")
    return _dict(doc.get("properties"))


def current_scenario(value: Any) -> CurrentScenario | None:
    data = _dict(value)
    name = _str(data.get("scenarioName"))
    if not name or name == IDLE_SCENARIO:  # most items: no job, and no need to read its id
        return None
    job_id = _str(data.get("jobId"))
    job_name = last_segment(job_id)
    if not job_name or job_name == IDLE_SCENARIO:
        return None
    return CurrentScenario(name=name, job_name=job_name, job_id=job_id, start_time=parse_time(data.get("startTime")))


def health_error(data: Json) -> HealthError:
    return HealthError(
        code=_str(data.get("errorCode")),
        message=_str(data.get("summaryMessage") or data.get("errorMessage")),
        severity=_str(data.get("errorLevel")),
        category=_str(data.get("errorCategory")),
        possible_causes=_str(data.get("possibleCauses")),
        recommended_action=_str(data.get("recommendedAction")),
        created=parse_time(data.get("creationTimeUtc")),
    )


@dataclass(frozen=True)
class _Leg:
    """What an item's provider details say, read by the keys of that provider's SDK class (FIELDS.md)."""

    rpo_seconds: int | None = None
    newest: datetime | None = None
    heartbeat: datetime | None = None
    process_server_id: str = ""
    master_target_id: str = ""
    active_site_type: str = ""
    os_type: str = ""
    group_id: str = ""
    group_name: str = ""
    rcm: RcmDetails | None = None


def _flag(value: Any) -> bool | None:
    """A boolean ASR may write as true/false or as the strings "true"/"false"; anything else is unknown."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _rcm(details: Json, appliance_id: str, appliance_name: str, *, failback: bool) -> RcmDetails:
    """The modernized legs' fields: initial replication, the agent flag after a failover and the VM's datastores
    under the same keys in InMageRcmReplicationDetails and InMageRcmFailbackReplicationDetails; disks' log storage
    accounts on the forward leg only (InMageRcmProtectedDiskDetails); the target datastore, the planned failover's
    status and the policy last used on the failback leg only (the forward class has none of the three)."""
    disks = [_dict(d) for d in _list(details.get("protectedDisks"))]
    accounts: list[str] = []
    for disk in disks if not failback else ():
        account = _str(disk.get("logStorageAccountId"))
        if account and account.lower() not in (a.lower() for a in accounts):
            accounts.append(account)
    discovered = _dict(details.get("discoveredVmDetails"))
    return RcmDetails(
        appliance_id=appliance_id,
        appliance_name=appliance_name,
        target_datastore=_str(details.get("targetDataStoreName")) if failback else "",
        log_storage_accounts=tuple(accounts),
        discovered_datastores=_strings(discovered.get("datastores")),
        ir_percent=percent(details.get("initialReplicationProgressPercentage")),
        ir_health=_str(details.get("initialReplicationProgressHealth")),
        agent_registered_after_failover=_flag(details.get("isAgentRegistrationSuccessfulAfterFailover")),
        last_planned_failover_status=_str(details.get("lastPlannedFailoverStatus")) if failback else "",
        last_used_policy_id=_str(details.get("lastUsedPolicyId")) if failback else "",
        disks_last_synced=_last_disk_sync(details) if failback else None,
    )


def _classic(details: Json, newest_key: str, os_type: str, active_site_type: str = "") -> _Leg:
    """The configuration-server legs: the newest point under `newest_key`; without an RPO, the last calculation
    time stands in for it."""
    rpo = whole(details.get("rpoInSeconds"))
    return _Leg(
        rpo_seconds=rpo,
        newest=parse_time(details.get(newest_key))
        or (parse_time(details.get("lastRpoCalculatedTime")) if rpo is None else None),
        heartbeat=parse_time(details.get("lastHeartbeat")),
        process_server_id=_str(details.get("processServerId")),
        master_target_id=_str(details.get("masterTargetId")),
        active_site_type=active_site_type,
        os_type=os_type,
        group_id=_str(details.get("multiVmGroupId")),
        group_name=_str(details.get("multiVmGroupName")),
    )


def _inmage(details: Json) -> _Leg:
    """InMageReplicationDetails: the classic failback leg (Azure → AVS); its retention window ends at the newest
    point."""
    os_type = _str(_dict(details.get("osDetails")).get("osType"))
    return _classic(details, "retentionWindowEnd", os_type, _str(details.get("activeSiteType")))


def _inmage_azure_v2(details: Json) -> _Leg:
    """InMageAzureV2ReplicationDetails: classic AVS → Azure, the leg an item is on after reprotect."""
    return _classic(details, "lastRecoveryPointReceived", _str(details.get("osType")))


def _inmage_rcm_failback(details: Json) -> _Leg:
    """InMageRcmFailbackReplicationDetails: the modernized failback leg. It has no RPO, no retention window, no
    master target and no group id, so no newest point either: the disks' lastSyncTime is kept as reported, never
    read as a point's age (recorded hours or weeks behind the answer, MODERNIZED.md §10); the Mobility agent's
    lastHeartbeatUtc says when it last called in, and the reprotect agent is the replication appliance (whose
    components share one id, its process server's among them)."""
    return _Leg(
        newest=None,
        heartbeat=parse_time(_dict(details.get("mobilityAgentDetails")).get("lastHeartbeatUtc")),
        process_server_id=_str(details.get("reprotectAgentId")),
        os_type=_str(details.get("osType")),
        group_name=_str(details.get("multiVmGroupName")),
        rcm=_rcm(
            details, _str(details.get("reprotectAgentId")), _str(details.get("reprotectAgentName")), failback=True
        ),
    )


def _inmage_rcm(details: Json) -> _Leg:
    """InMageRcmReplicationDetails: modernized on-premises → Azure."""
    rpo = whole(details.get("lastRpoInSeconds"))
    return _Leg(
        rpo_seconds=rpo,
        newest=parse_time(details.get("lastRecoveryPointReceived")),
        heartbeat=parse_time(_dict(details.get("mobilityAgentDetails")).get("lastHeartbeatUtc")),
        process_server_id=_str(details.get("processServerId")),
        os_type=_str(details.get("osType")),
        group_name=_str(details.get("multiVmGroupName")),
        rcm=_rcm(details, _str(details.get("processServerId")), _str(details.get("processServerName")), failback=False),
    )


# An instanceType the SDK does not know (or none) tells nothing the product can read.
_LEGS = {
    "InMage": _inmage,
    "InMageAzureV2": _inmage_azure_v2,
    "InMageRcmFailback": _inmage_rcm_failback,
    "InMageRcm": _inmage_rcm,
}


def protected_item(doc: Json) -> ProtectedItem:
    props = _props(doc)
    item_id = _str(doc.get("id"))
    if not item_id:
        raise MalformedResponse("a replicated item came without an id")
    details = _dict(props.get("providerSpecificDetails"))
    instance_type = _str(details.get("instanceType"))
    read = _LEGS.get(instance_type)
    leg = read(details) if read is not None else _Leg()
    errors = _list(props.get("healthErrors"))
    return ProtectedItem(
        id=item_id,
        name=_str(doc.get("name")) or last_segment(item_id),
        friendly_name=_str(props.get("friendlyName")) or _str(doc.get("name")),
        fabric_name=segment(item_id, "replicationFabrics"),
        container_name=segment(item_id, "replicationProtectionContainers"),
        protection_state=_str(props.get("protectionState")),
        protection_state_description=_str(props.get("protectionStateDescription")),
        active_location=_str(props.get("activeLocation")),
        replication_health=_str(props.get("replicationHealth")),
        failover_health=_str(props.get("failoverHealth")),
        allowed_operations=_strings(props.get("allowedOperations")),
        instance_type=instance_type,
        current_scenario=current_scenario(props.get("currentScenario")),
        active_site_type=leg.active_site_type,
        multi_vm_group_id=leg.group_id,
        multi_vm_group_name=leg.group_name,
        rpo_seconds=leg.rpo_seconds,
        last_heartbeat=leg.heartbeat,
        last_recovery_point_time=leg.newest,
        process_server_id=leg.process_server_id,
        master_target_id=leg.master_target_id,
        os_type=leg.os_type,
        policy_id=_str(props.get("policyId")),
        recovery_fabric_name=last_segment(_str(props.get("recoveryFabricId"))),
        primary_fabric_friendly_name=_str(props.get("primaryFabricFriendlyName")),
        recovery_fabric_friendly_name=_str(props.get("recoveryFabricFriendlyName")),
        last_successful_failover_time=parse_time(props.get("lastSuccessfulFailoverTime")),
        failover_recovery_point_id=_str(props.get("failoverRecoveryPointId")),
        health_errors=tuple(health_error(_dict(e)) for e in errors) if errors else (),
        rcm=leg.rcm,
    )


def _last_disk_sync(details: Json) -> datetime | None:
    """The newest lastSyncTime of an InMageRcmFailback item's disks (a GET carries them, list pages trim them)."""
    disks = details.get("protectedDisks")
    if not isinstance(disks, list) or not disks:
        return None
    times = [parse_time(_dict(d).get("lastSyncTime")) for d in disks]
    known = [t for t in times if t is not None]
    return max(known) if known else None


def _strings(value: Any) -> tuple[str, ...]:
    """A JSON list as a tuple of strings (anything else: empty)."""
    return tuple(map(_str, value)) if isinstance(value, list) else ()


def recovery_point(doc: Json) -> RecoveryPoint:
    props = _props(doc)
    when = parse_time(props.get("recoveryPointTime"))
    if when is None:
        raise MalformedResponse(f"recovery point {doc.get('name')!r} has no readable recoveryPointTime")
    details = _dict(props.get("providerSpecificDetails"))
    sync = details.get("isMultiVmSyncPoint")
    return RecoveryPoint(
        id=_str(doc.get("id")),
        name=_str(doc.get("name")),
        time=when,
        kind=PointKind.from_asr(_str(props.get("recoveryPointType"))),
        is_multi_vm_sync=str(sync).lower() == "true",
    )


def _process_server(data: Json) -> ProcessServer:
    return ProcessServer(
        id=_str(data.get("id")),
        friendly_name=_str(data.get("friendlyName")) or _str(data.get("id")),
        ip_address=_str(data.get("ipAddress")),
        health=_str(data.get("health")),
        service_status=_str(data.get("psServiceStatus")),
        last_heartbeat=parse_time(data.get("lastHeartbeat")),
        health_errors=tuple(health_error(_dict(e)) for e in _list(data.get("healthErrors"))),
    )


def _master_target(data: Json) -> MasterTarget:
    return MasterTarget(
        id=_str(data.get("id")),
        name=_str(data.get("name")) or _str(data.get("id")),
        ip_address=_str(data.get("ipAddress")),
        os_type=_str(data.get("osType")),
        last_heartbeat=parse_time(data.get("lastHeartbeat")),
        health_errors=tuple(health_error(_dict(e)) for e in _list(data.get("healthErrors"))),
        health_reported=isinstance(data.get("healthErrors"), list),
        retention_volumes=tuple(
            RetentionVolume(
                name=_str(v.get("volumeName")),
                capacity_bytes=whole(v.get("capacityInBytes")),
                free_bytes=whole(v.get("freeSpaceInBytes")),
                threshold_percent=percent(v.get("thresholdPercentage")),
            )
            for v in map(_dict, _list(data.get("retentionVolumes")))
        ),
        datastores=tuple(
            Datastore(
                name=_str(d.get("symbolicName")),
                uuid=_str(d.get("uuid")),
                capacity_gb=amount(d.get("capacity")),
                free_gb=amount(d.get("freeSpace")),
                kind=_str(d.get("type")),
            )
            for d in map(_dict, _list(data.get("dataStores")))
        ),
    )


def fabric(doc: Json) -> Fabric:
    props = _props(doc)
    custom = _dict(props.get("customDetails"))
    instance_type = _str(custom.get("instanceType"))
    base = Fabric(
        id=_str(doc.get("id")),
        name=_str(doc.get("name")),
        friendly_name=_str(props.get("friendlyName")) or _str(doc.get("name")),
        instance_type=instance_type,
    )
    if instance_type == "InMageRcm":
        appliances = _appliances(custom)
        return dataclasses.replace(
            base,
            appliances=appliances,
            # each appliance's process server is what a reprotect to Azure names (processServerId) and the appliance
            # a reprotect to AVS names (reprotectAgentId): one id for both (MODERNIZED.md §8)
            process_servers=tuple(
                ProcessServer(
                    id=a.id,
                    friendly_name=a.name or a.id,
                    ip_address=a.ip_address,
                    health=a.health,
                    last_heartbeat=a.last_heartbeat,
                    health_errors=tuple(e for c in a.components for e in c.health_errors),
                )
                for a in appliances
            ),
        )
    if instance_type != "VMware":
        # VMwareDetails (the configuration server's fabric) lists process servers, master targets and run-as
        # accounts in these shapes, InMageRcmFabricSpecificDetails its appliances (above); an Azure fabric none.
        return base
    return dataclasses.replace(
        base,
        process_servers=tuple(_process_server(_dict(p)) for p in _list(custom.get("processServers"))),
        master_targets=tuple(_master_target(_dict(m)) for m in _list(custom.get("masterTargetServers"))),
        run_as_accounts=tuple(
            RunAsAccount(id=_str(a.get("accountId")), name=_str(a.get("accountName")))
            for a in map(_dict, _list(custom.get("runAsAccounts")))
        ),
    )


def _appliances(custom: Json) -> tuple[Appliance, ...]:
    """The appliances of a modernized fabric, gathered by id across its component lists (each names every
    appliance once, with one id and name; REC-FB ≈16 700–42 500). A list that is missing tells nothing."""
    found: dict[str, dict[str, Any]] = {}
    for key, role in APPLIANCE_ROLES.items():
        for entry in map(_dict, _list(custom.get(key))):
            appliance_id = _str(entry.get("id"))
            if not appliance_id:
                continue
            seen = found.setdefault(appliance_id.lower(), {"id": appliance_id, "components": []})
            seen.setdefault("name", _str(entry.get("name")))
            if not seen.get("fqdn"):
                seen["fqdn"] = _str(entry.get("fqdn"))
            seen["components"].append(
                ApplianceComponent(
                    role=role,
                    health=_str(entry.get("health")),
                    last_heartbeat=parse_time(entry.get("lastHeartbeatUtc")),
                    version=_str(entry.get("version")),
                    health_errors=tuple(health_error(_dict(e)) for e in _list(entry.get("healthErrors"))),
                )
            )
            if key == "processServers":
                addresses = [_str(a) for a in _list(entry.get("ipAddresses")) if _str(a)]
                seen["ip"] = addresses[0] if addresses else ""
                seen["free"] = percent(entry.get("freeSpacePercentage"))
            elif key == "reprotectAgents":
                stores = entry.get("accessibleDatastores")
                seen["stores"] = tuple(_str(d) for d in stores if _str(d)) if isinstance(stores, list) else None
                seen["vcenter"] = _str(entry.get("vcenterId"))
    return tuple(
        Appliance(
            id=a["id"],
            name=a.get("name") or a["id"],
            fqdn=a.get("fqdn", ""),
            ip_address=a.get("ip", ""),
            components=tuple(a["components"]),
            accessible_datastores=a.get("stores"),
            vcenter_id=a.get("vcenter", ""),
            free_space_percent=a.get("free"),
        )
        for a in found.values()
    )


# What each kind of plan action carries for the operator to read (RecoveryPlan…ActionDetails in the SDK).
_ACTION_TEXT = {
    "ManualActionDetails": "description",
    "ScriptActionDetails": "path",
    "AutomationRunbookActionDetails": "runbookId",
}


def _action(data: Json) -> PlanAction:
    custom = _dict(data.get("customDetails"))
    kind = _str(custom.get("instanceType"))
    key = _ACTION_TEXT.get(kind)
    return PlanAction(
        name=_str(data.get("actionName")),
        kind=kind,
        instructions=_str(custom.get(key)) if key else "",
        failover_directions=tuple(_str(d) for d in _list(data.get("failoverDirections"))),
    )


def recovery_plan(doc: Json) -> RecoveryPlan:
    props = _props(doc)
    groups = []
    for group in map(_dict, _list(props.get("groups"))):
        groups.append(
            PlanGroup(
                group_type=_str(group.get("groupType")),
                item_ids=tuple(_str(_dict(i).get("id")) for i in _list(group.get("replicationProtectedItems"))),
                start_actions=tuple(_action(_dict(a)) for a in _list(group.get("startGroupActions"))),
                end_actions=tuple(_action(_dict(a)) for a in _list(group.get("endGroupActions"))),
            )
        )
    return RecoveryPlan(
        id=_str(doc.get("id")),
        name=_str(doc.get("name")),
        friendly_name=_str(props.get("friendlyName")) or _str(doc.get("name")),
        allowed_operations=tuple(_str(o) for o in _list(props.get("allowedOperations"))),
        groups=tuple(groups),
        current_scenario=current_scenario(props.get("currentScenario")),
        current_scenario_status=_str(props.get("currentScenarioStatus")),
        replication_providers=tuple(_str(p) for p in _list(props.get("replicationProviders"))),
        primary_fabric_friendly_name=_str(props.get("primaryFabricFriendlyName")),
        recovery_fabric_friendly_name=_str(props.get("recoveryFabricFriendlyName")),
    )


def job_error(data: Json) -> ErrorDetail:
    service = _dict(data.get("serviceErrorDetails"))
    provider = _dict(data.get("providerErrorDetails"))
    return ErrorDetail(
        code=_str(service.get("code")) or _str(provider.get("errorCode")),
        message=_str(service.get("message")) or _str(provider.get("errorMessage")),
        possible_causes=_str(service.get("possibleCauses") or provider.get("possibleCauses")),
        recommended_action=_str(service.get("recommendedAction") or provider.get("recommendedAction")),
        activity_id=_str(service.get("activityId")),
        provider_error_code=_str(provider.get("errorCode")),
        provider_message=_str(provider.get("errorMessage")),
        task_id=_str(data.get("taskId")),
        created=parse_time(data.get("creationTime")),
    )


# Task details that point at another job (JobTaskDetails and its subclasses in the SDK).
_JOB_TASKS = frozenset({"JobTaskDetails", "VirtualMachineTaskDetails", "FabricReplicationGroupTaskDetails"})


def job_task(data: Json) -> JobTask:
    custom = _dict(data.get("customDetails"))
    group = _dict(data.get("groupTaskCustomDetails"))
    child_job = _dict(custom.get("jobTask")) if _str(custom.get("instanceType")) in _JOB_TASKS else {}
    return JobTask(
        task_id=_str(data.get("taskId")),
        name=_str(data.get("name")),
        friendly_name=_str(data.get("friendlyName")) or _str(data.get("name")),
        state=JobState.parse(_str(data.get("state"))),
        state_description=_str(data.get("stateDescription")),
        start_time=parse_time(data.get("startTime")),
        end_time=parse_time(data.get("endTime")),
        errors=tuple(job_error(_dict(e)) for e in _list(data.get("errors"))),
        child_tasks=tuple(job_task(_dict(c)) for c in _list(group.get("childTasks"))),
        child_job_name=last_segment(_str(child_job.get("jobId"))),
        allowed_actions=tuple(_str(a) for a in _list(data.get("allowedActions"))),
    )


def job(doc: Json) -> Job:
    props = _props(doc)
    job_id = _str(doc.get("id"))
    custom = _dict(props.get("customDetails"))
    details_type = _str(custom.get("instanceType"))
    return Job(
        id=job_id,
        name=_str(doc.get("name")) or last_segment(job_id),
        scenario_name=_str(props.get("scenarioName")),
        friendly_name=_str(props.get("friendlyName")),
        state=JobState.parse(_str(props.get("state"))),
        state_description=_str(props.get("stateDescription")),
        start_time=parse_time(props.get("startTime")),
        end_time=parse_time(props.get("endTime")),
        tasks=tuple(job_task(_dict(t)) for t in _list(props.get("tasks"))),
        errors=tuple(job_error(_dict(e)) for e in _list(props.get("errors"))),
        allowed_actions=tuple(_str(a) for a in _list(props.get("allowedActions"))),
        target_object_id=_str(props.get("targetObjectId")),
        target_object_name=_str(props.get("targetObjectName")),
        target_instance_type=_str(props.get("targetInstanceType")),
        details_type=details_type,
        new_item_id=_str(custom.get("newReplicationProtectedItemId"))
        if details_type == "SwitchProtectionJobDetails"
        else "",
    )


def arm_error_details(body: Any) -> tuple[str, str, tuple[ErrorDetail, ...]]:
    """(code, message, ASR details) from an ARM error envelope; tolerant of any shape."""
    envelope = _dict(_dict(body).get("error")) if isinstance(body, Mapping) else {}
    code = _str(envelope.get("code"))
    message = _str(envelope.get("message"))
    details: list[ErrorDetail] = []
    for raw in map(_dict, _list(envelope.get("details"))):
        details.append(
            ErrorDetail(
                code=_str(raw.get("code")),
                message=_str(raw.get("message")),
                possible_causes=_str(raw.get("possibleCauses")),
                recommended_action=_str(raw.get("recommendedAction")),
                activity_id=_str(raw.get("activityId")),
            )
        )
    return code, message, tuple(details)
