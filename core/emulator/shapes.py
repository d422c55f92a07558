"""The simulated vault's objects as ASR writes them on the wire: camelCase, instanceType, /Subscriptions/ ids."""

from __future__ import annotations

import functools
import json
import re
import uuid
from collections import Counter
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from core.emulator import modernized as rcm
from core.emulator.jobs import SimJob, SimTask, TaskError
from core.emulator.scenario import (
    APPLIANCE_COMPONENTS,
    FabricSpec,
    HealthErrorSpec,
    ItemSpec,
    MasterTargetSpec,
    home_fabric,
)
from core.emulator.vault import SimItem, SimPlan, Vault

IDLE_START = "1753-01-01T01:01:01Z"
NEVER = "0001-01-01T00:00:00"
_RPI_TYPE = (
    "Microsoft.RecoveryServices/vaults/replicationFabrics/replicationProtectionContainers/replicationProtectedItems"
)
_GB = 1024**3


@functools.lru_cache(maxsize=8192)
def ts(value: datetime | None) -> str | None:
    """.NET round-trip format with 7 fractional digits, as ASR writes times.

    Cached: a page of a big vault formats the same few instants (now, point times) thousands of times.
    """
    if value is None:
        return None
    return f"{value:%Y-%m-%dT%H:%M:%S}.{value.microsecond:06d}0Z"


def _idle(vault: Vault) -> dict[str, Any]:
    return {"scenarioName": "None", "jobId": vault.job_id("None"), "startTime": IDLE_START}


def _scenario(vault: Vault, job_name: str) -> dict[str, Any]:
    job = vault.jobs.get(job_name.lower()) if job_name else None
    if job is None or not job.running:
        return _idle(vault)
    return {"scenarioName": job.scenario_name, "jobId": vault.job_id(job.name), "startTime": ts(job.created)}


def health_error(spec: HealthErrorSpec, entity: str, created: datetime) -> dict[str, Any]:
    return _health_error(spec, entity, ts(created))


def _health_error(spec: HealthErrorSpec, entity: str, created: str | None) -> dict[str, Any]:
    return {
        "innerHealthErrors": [],
        "errorSource": "Replication",
        "errorType": "Replication",
        "errorLevel": spec.severity,
        "errorCategory": spec.category,
        "errorCode": spec.code,
        "summaryMessage": spec.message,
        "errorMessage": spec.message,
        "possibleCauses": spec.possible_causes,
        "recommendedAction": spec.recommended_action,
        "creationTimeUtc": created,
        "recoveryProviderErrorMessage": None,
        "entityId": entity,
        "errorId": f"{spec.code}-{entity}",
        "customerResolvability": "Allowed",
    }


def item(vault: Vault, it: SimItem, now: datetime) -> dict[str, Any]:
    return _item_document(vault, it, item_values(vault, it, now))


@dataclass(slots=True)
class ItemValues:
    """What an item's document says that differs between items of one shape, or moves with the clock.

    The rest of the document follows from the item's shape (stage, provider, fabric, spec, job running): a
    listing encodes each shape once and splices these values into the encoded text.
    """

    # Moves with the clock.
    has_end: bool  # whether the item has any recovery point; also chooses some wording (part of the shape)
    start: str | None
    end: str | None
    rpo: int | None
    calculated: str | None
    heartbeat: str | None
    health_created: str | None
    # Each item's own text; these also appear inside longer strings (ids, disk names).
    name: str
    friendly: str
    vm_id: str
    ip: str
    process_server_id: str
    master_target_id: str
    process_server_name: str
    group_id: str
    group_name: str
    # Each item's own whole JSON values.
    failover_time: str
    point: str | None
    scenario: Any
    agent: bool | None  # isAgentRegistrationSuccessfulAfterFailover of a modernized item: moves with the clock
    ir_percent: int | None  # initialReplicationProgressPercentage of a modernized item: moves with the clock


# Slots that stand for a whole JSON value, and slots spliced into strings (JSON-escaped, without quotes).
_VALUE_SLOTS = (
    "start",
    "end",
    "rpo",
    "calculated",
    "heartbeat",
    "health_created",
    "failover_time",
    "point",
    "scenario",
    "agent",
    "ir_percent",
)
_TEXT_SLOTS = (
    "name",
    "friendly",
    "vm_id",
    "ip",
    "process_server_id",
    "master_target_id",
    "process_server_name",
    "group_id",
    "group_name",
)


def item_values(
    vault: Vault, it: SimItem, now: datetime, window: tuple[datetime | None, datetime | None] | None = None
) -> ItemValues:
    start, end = vault.retention_window(it, now) if window is None else window
    replicating = it.frozen_at is None and it.stage != "not-ready"
    rpo = int((now - end).total_seconds()) if end and replicating else (it.spec.rpo_seconds if end else None)
    heartbeat_age = 45 if it.provider == "InMageAzureV2" else 30
    return ItemValues(
        has_end=end is not None,
        start=ts(start),
        end=ts(end),
        rpo=rpo,
        calculated=ts(now) if end else None,
        heartbeat=ts(now - timedelta(seconds=heartbeat_age)),
        health_created=ts(now - timedelta(minutes=20)) if it.spec.health_errors else None,
        name=it.name,
        friendly=it.friendly,
        vm_id=it.vm_id,
        ip=it.spec.ip,
        process_server_id=it.process_server_id,
        master_target_id=it.master_target_id,
        process_server_name=vault.server_names.get(it.process_server_id.upper(), ""),
        group_id=it.group_id or it.vm_id,
        group_name=it.spec.group or it.group_id or it.vm_id,
        failover_time=ts(it.last_failover_time) or NEVER,
        point=it.failover_point_id or None,
        scenario=_scenario(vault, it.current_job),
        agent=vault.agent_registered(it, now) if it.modernized else None,
        ir_percent=vault.ir_percent(it, now) if it.modernized else None,
    )


def _item_document(vault: Vault, it: SimItem, v: ItemValues) -> dict[str, Any]:
    """The item as ASR writes it: its shape from `it`, its own values from `v` (or markers standing in)."""
    state, description = vault.protection_state(it)
    fabric_id = vault.fabric_id(it.fabric)
    replicating = it.frozen_at is None and it.stage != "not-ready"
    recovered = it.stage in ("failed-over", "committed", "in-azure")
    if it.provider == rcm.FAILBACK:
        details = _rcm_failback_details(vault, it, v, replicating)
    elif it.provider == rcm.FORWARD:
        details = _rcm_forward_details(vault, it, v)
    else:
        details = _classic_details(vault, it, v, state, description, replicating)
    container_id = f"{fabric_id}/replicationProtectionContainers/{it.container}"
    policy = "avs-to-azure" if it.provider == "InMageAzureV2" else "azure-to-avs-failback"
    if it.modernized:
        policy = rcm.FORWARD_POLICY if it.provider == rcm.FORWARD else rcm.FAILBACK_POLICY
    to_azure = it.provider in ("InMageAzureV2", rcm.FORWARD)
    provider_id = f"{fabric_id}/replicationRecoveryServicesProviders/{vault.host_id('cs', it.fabric.name)}"
    props: dict[str, Any] = {
        "friendlyName": v.friendly,
        "protectedItemType": "",
        "protectableItemId": f"{container_id}/replicationProtectableItems/{v.vm_id}",
        "recoveryServicesProviderId": provider_id,
        "primaryFabricFriendlyName": it.fabric.friendly_name,
        "primaryFabricProvider": "InMageRcmFabric"
        if it.modernized
        else ("InMageFabric" if it.provider != "InMageAzureV2" else "VMware"),
        "recoveryFabricFriendlyName": it.fabric.friendly_name if not to_azure else "Microsoft Azure",
        "recoveryFabricId": fabric_id if not to_azure else "Microsoft Azure",
        "primaryProtectionContainerFriendlyName": it.container,
        "recoveryProtectionContainerFriendlyName": it.container,
        "protectionState": state,
        "protectionStateDescription": description,
        "activeLocation": "Recovery" if recovered else "Primary",
        "testFailoverState": "None",
        "testFailoverStateDescription": "None",
        "switchProviderState": None,
        "switchProviderStateDescription": None,
        "allowedOperations": vault.allowed_operations(it),
        "replicationHealth": it.spec.replication_health,
        "failoverHealth": it.spec.failover_health,
        "healthErrors": [_health_error(e, v.vm_id, v.health_created) for e in it.spec.health_errors],
        "policyId": f"{vault.prefix}/replicationPolicies/{policy}",
        "policyFriendlyName": policy,
        "lastSuccessfulFailoverTime": v.failover_time,
        "lastSuccessfulTestFailoverTime": NEVER,
        "currentScenario": v.scenario,
        "failoverRecoveryPointId": v.point,
        "providerSpecificDetails": details,
        "recoveryContainerId": container_id,
        "eventCorrelationId": v.vm_id,
    }
    return {
        "id": f"{container_id}/replicationProtectedItems/{v.name}",
        "name": v.name,
        "type": _RPI_TYPE,
        "properties": props,
    }


def _disks(it: SimItem, v: ItemValues, replicating: bool) -> list[dict[str, Any]]:
    mb = "MegaBytes" if it.provider == "InMageAzureV2" else "MB"
    return [
        {
            "diskId": f"{v.vm_id}:disk{n}",
            "diskName": f"[{it.fabric.friendly_name}] {v.friendly}/{v.friendly}{'' if n == 0 else f'_{n}'}.vmdk",
            "protectionStage": "DifferentialSync" if replicating else "Paused",
            "healthErrorCode": None,
            "rpoInSeconds": v.rpo,
            "resyncRequired": "False",
            "resyncProgressPercentage": 100,
            "resyncDurationInSeconds": 0,
            "diskCapacityInBytes": (128 if n == 0 else 256) * _GB,
            "fileSystemCapacityInBytes": (120 if n == 0 else 250) * _GB,
            # InMageProtectedDiskDetails says …InMB, InMageAzureV2ProtectedDiskDetails …InMegaBytes.
            f"sourceDataIn{mb}": 0.0,
            f"psDataIn{mb}": 0.0,
            f"targetDataIn{mb}": 0.0,
            "diskResized": "False",
            "lastRpoCalculatedTime": v.calculated,
        }
        for n in range(2)
    ]


def _classic_details(
    vault: Vault, it: SimItem, v: ItemValues, state: str, description: str, replicating: bool
) -> dict[str, Any]:
    """InMageReplicationDetails (the failback leg) or InMageAzureV2ReplicationDetails (forward, after reprotect)."""
    has_end = v.has_end
    flowing = replicating and it.stalled_at is None
    disks = _disks(it, v, replicating)
    if it.provider == "InMageAzureV2":
        return {
            "instanceType": "InMageAzureV2",
            "infrastructureVmId": v.vm_id,
            "vCenterInfrastructureId": f"vcenter-{it.fabric.name}",
            "protectionStage": "Protected" if has_end else "InitialReplication",
            "vmId": v.vm_id,
            "vmProtectionState": "Protected",
            "vmProtectionStateDescription": "Protected",
            "resyncProgressPercentage": 100 if has_end else 0,
            "rpoInSeconds": v.rpo,
            "processServerId": v.process_server_id,
            "masterTargetId": v.master_target_id,
            "osType": it.spec.os,
            "ipAddress": v.ip,
            "agentVersion": "9.62.7096.1",
            "lastHeartbeat": v.heartbeat,
            "multiVmGroupId": v.group_id,
            "multiVmGroupName": v.group_name,
            "multiVmSyncStatus": "Enabled" if it.group_id else "Disabled",
            "recoveryAzureVMName": v.friendly,
            "lastRecoveryPointReceived": v.end,
            "lastRpoCalculatedTime": v.calculated,
            "protectedDisks": disks,
            "validationErrors": [],
        }
    return {
        "instanceType": it.provider,
        "activeSiteType": "Azure",
        "osDetails": {"osType": it.spec.os, "osVhdId": f"{v.vm_id}:disk0", "vhdName": f"{v.friendly}.vmdk"},
        "protectionStage": "Resynchronization"
        if it.spec.not_ready == "initial-replication"
        else ("DifferentialSync" if replicating else "Paused"),
        "vmId": v.vm_id,
        "vmProtectionState": state,
        "vmProtectionStateDescription": description,
        "resyncDetails": {
            "initialReplicationType": "InitialReplication",
            # A string in the SDK's InitialReplicationDetails.
            "initialReplicationProgressPercentage": "37" if it.spec.not_ready == "initial-replication" else "100",
        },
        "retentionWindowStart": v.start,
        "retentionWindowEnd": v.end,
        "compressedDataRateInMB": 0.42 if flowing else 0.0,
        "uncompressedDataRateInMB": 1.73 if flowing else 0.0,
        "rpoInSeconds": v.rpo,
        "protectedDisks": disks,
        "ipAddress": v.ip,
        "lastHeartbeat": v.heartbeat,
        "processServerId": v.process_server_id,
        "masterTargetId": v.master_target_id,
        "consistencyPoints": {},
        "multiVmGroupId": v.group_id,
        "multiVmGroupName": v.group_name,
        "multiVmSyncStatus": "Enabled" if it.group_id else "Disabled",
        "agentDetails": {
            "agentVersion": "9.62.7096.1",
            "agentUpdateStatus": "Latest",
            "postUpdateRebootStatus": "NotRequired",
        },
        "vCenterInfrastructureId": f"vcenter-{it.fabric.name}",
        "infrastructureVmId": v.vm_id,
        "discoveryType": "vCenter",
        "datastores": [d.name for m in _all_masters(vault) for d in m.datastores][:1],
        "validationErrors": [],
        "lastRpoCalculatedTime": v.calculated,
        "lastUpdateReceivedTime": v.end,
        "osVersion": "Windows Server 2019" if it.spec.os == "Windows" else "Ubuntu 22.04",
        "isAdditionalStatsAvailable": False,
        "totalDataTransferred": 0,
    }


def _rcm_failback_details(vault: Vault, it: SimItem, v: ItemValues, replicating: bool) -> dict[str, Any]:
    """InMageRcmFailbackReplicationDetails: the modernized failback leg, with only the fields the SDK's class has
    (recorded values: ASR_MODERNIZED.md §4.2, TestV2ARCMFailback.json ~118 000–143 000). The leg has no RPO and
    no retention window; the disks' lastSyncTime and the agent's lastHeartbeatUtc say how fresh it is. The
    replication appliance's components share one id, so reprotectAgentId is the appliance's process server id."""
    initial = vault.in_initial_replication(it)
    ref = vault.scenario.vault
    return {
        "instanceType": "InMageRcmFailback",
        "internalIdentifier": v.vm_id,
        "azureVirtualMachineId": f"/subscriptions/{ref.subscription_id}/resourceGroups/{ref.resource_group}"
        f"/providers/Microsoft.Compute/virtualMachines/{v.friendly}",
        "multiVmGroupName": v.group_name if it.group_id else None,
        "reprotectAgentId": v.process_server_id,
        "reprotectAgentName": v.process_server_name,
        "osType": it.spec.os,
        "targetDataStoreName": vault.failback_datastore(it) or None,
        "targetVmName": v.friendly,
        "initialReplicationProgressPercentage": v.ir_percent,
        "initialReplicationProgressHealth": "InProgress" if initial else "None",
        "resyncRequired": "false",
        "resyncState": "None",
        "protectedDisks": [
            {
                "diskId": f"{v.vm_id}:disk{n}",
                "diskName": f"{v.friendly}{'' if n == 0 else f'_{n}'}.vmdk",
                "isOSDisk": "true" if n == 0 else "false",
                "capacityInBytes": (128 if n == 0 else 256) * _GB,
                "dataPendingInLogDataStoreInMB": 0.0,
                "dataPendingAtSourceAgentInMB": 0.0,
                "isInitialReplicationComplete": "false" if initial else "true",
                "lastSyncTime": v.end,
            }
            for n in range(2)
        ],
        "mobilityAgentDetails": {"version": "9.62.7096.1", "lastHeartbeatUtc": v.heartbeat, "isUpgradeable": "false"},
        "isAgentRegistrationSuccessfulAfterFailover": v.agent,
        "lastPlannedFailoverStartTime": ts(it.planned_failover_start),
        "lastPlannedFailoverStatus": it.planned_failover_status or None,
        "lastUsedPolicyId": f"{vault.prefix}/replicationPolicies/{rcm.FAILBACK_POLICY}",
        "lastUsedPolicyFriendlyName": rcm.FAILBACK_POLICY,
    }


def _rcm_forward_details(vault: Vault, it: SimItem, v: ItemValues) -> dict[str, Any]:
    """InMageRcmReplicationDetails after the reprotect back to Azure: the recorded forward-leg fields the SDK's
    class has (MODERNIZED.md §10), RPO as lastRpoInSeconds."""
    return {
        "instanceType": rcm.FORWARD,
        "internalIdentifier": v.vm_id,
        "processServerId": v.process_server_id,
        "processServerName": v.process_server_name,
        "osType": it.spec.os,
        "targetVmName": v.friendly,
        "multiVmGroupName": v.group_name if it.group_id else None,
        "lastRpoInSeconds": v.rpo,
        "lastRecoveryPointReceived": v.end,
        "lastRpoCalculatedTime": v.calculated,
        "initialReplicationProgressPercentage": v.ir_percent,
        "resyncRequired": "false",
        "resyncState": "None",
        "isAgentRegistrationSuccessfulAfterFailover": v.agent,
        "mobilityAgentDetails": {"version": "9.62.7096.1", "lastHeartbeatUtc": v.heartbeat, "isUpgradeable": "false"},
        "protectedDisks": [],
    }


# The spec fields that shape an item's document (the others reach it through ItemValues).
_SPEC_SHAPE = tuple(f.name for f in fields(ItemSpec) if f.name not in ("name", "rpi_name", "ip", "group"))
# SimItem fields that reach the document through ItemValues, or not at all (plans), or are keyed otherwise.
_ITEM_NOT_SHAPE = frozenset(
    {
        "name",
        "friendly",
        "vm_id",
        "group_id",
        "process_server_id",
        "master_target_id",
        "failover_point_id",
        "last_failover_time",
        "current_job",
        "plans",
        "spec",
        "fabric",
    }
)
_MAX_SHAPES = 2048


class ItemDocuments:
    """Items as JSON text for listings: each shape of item is encoded once, and each item's values spliced in.

    A page of a big vault would otherwise build and encode fifty documents of some hundred fields each, when
    items of one shape (same stage, provider, fabric, spec and job state) differ in a dozen values. The shape
    is read from the item at every listing, so any change to an item (a failover, a commit, a job starting or
    ending) gives it another shape, encoded afresh: nothing to invalidate by hand.
    """

    def __init__(self, vault: Vault) -> None:
        self._vault = vault
        # A marker no scenario text can contain by chance stands in for each value while a shape is encoded.
        nonce = uuid.uuid4().hex
        self._markers = {name: f"@{nonce}:{name}@" for name in (*_VALUE_SLOTS, *_TEXT_SLOTS)}
        value_slots = "|".join(_VALUE_SLOTS)
        text_slots = "|".join(_TEXT_SLOTS)
        self._slot = re.compile(f'"@{nonce}:({value_slots})@"|@{nonce}:({text_slots})@')
        self._templates: dict[tuple[Any, ...], tuple[tuple[str, ...], tuple[str, ...]]] = {}
        self._windows: dict[tuple[Any, ...], tuple[datetime | None, datetime | None]] = {}
        self._windows_at: datetime | None = None

    def text(self, it: SimItem, now: datetime) -> str:
        """The item's document as JSON, equal to json.dumps(item(vault, it, now))."""
        v = item_values(self._vault, it, now, self._window(it, now))
        shape = self._shape(it, v.has_end)
        template = self._templates.get(shape)
        if template is None:
            if len(self._templates) >= _MAX_SHAPES:
                self._templates.clear()  # a long session's past shapes; the current ones come back on demand
            template = self._templates[shape] = self._template(it, v.has_end)
        values = {name: _json_value(getattr(v, name)) for name in _VALUE_SLOTS}
        for name in _TEXT_SLOTS:
            text = getattr(v, name)
            values[name] = text if _PLAIN.fullmatch(text) else json.dumps(text)[1:-1]
        texts, slots = template
        out: list[str] = [""] * (len(texts) + len(slots))
        out[0::2] = texts
        out[1::2] = [values[name] for name in slots]
        return "".join(out)

    def _window(self, it: SimItem, now: datetime) -> tuple[datetime | None, datetime | None]:
        """The item's retention window, shared by the items that replicate alike (most of a big vault)."""
        if now != self._windows_at:
            self._windows.clear()
            self._windows_at = now
        spec = it.spec
        # Everything Vault.retention_window reads from the item (the vault's settings do not change).
        key = (
            it.repl_start,
            it.frozen_at,
            it.stalled_at,
            it.stage,
            it.provider,
            spec.rpo_seconds,
            spec.app_offset_seconds,
        )
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = self._vault.retention_window(it, now)
        return window

    def _shape(self, it: SimItem, has_end: bool) -> tuple[Any, ...]:
        job = self._vault.jobs.get(it.current_job.lower()) if it.current_job else None
        spec = it.spec
        return (
            has_end,
            job is not None and job.running,
            id(it.fabric),
            bool(it.group_id),
            *(getattr(spec, name) for name in _SPEC_SHAPE),
            *(value for key, value in vars(it).items() if key not in _ITEM_NOT_SHAPE),
        )

    def _template(self, it: SimItem, has_end: bool) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The shape's encoded text cut at each value: (texts, slot names), one more text than slots."""
        stand_in = ItemValues(has_end=has_end, **self._markers)  # type: ignore[arg-type]
        encoded = json.dumps(_item_document(self._vault, it, stand_in))
        texts: list[str] = []
        slots: list[str] = []
        last = 0
        for match in self._slot.finditer(encoded):
            texts.append(encoded[last : match.start()])
            slots.append(match.group(1) or match.group(2))
            last = match.end()
        texts.append(encoded[last:])
        return tuple(texts), tuple(slots)


# Printable ASCII without quote or backslash: JSON writes such text as it is.
_PLAIN = re.compile(r"[ !#-\[\]-~]*")


@functools.lru_cache(maxsize=4096)
def _json_string(value: str) -> str:
    return json.dumps(value)


def _json_value(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return _json_string(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return json.dumps(value)


def recovery_points(vault: Vault, it: SimItem, now: datetime) -> list[dict[str, Any]]:
    base = vault.item_id(it)
    return [
        {
            "id": f"{base}/recoveryPoints/{p.name}",
            "name": p.name,
            "type": f"{_RPI_TYPE}/recoveryPoints",
            "properties": {
                "recoveryPointTime": ts(p.time),
                "recoveryPointType": p.kind,
                "providerSpecificDetails": _point_details(it.provider, p.multi_vm),
            },
        }
        for p in vault.points(it, now)
    ]


def _point_details(provider: str, multi_vm: bool) -> dict[str, Any] | None:
    """The SDK models point details for InMageAzureV2 (and A2A, InMageRcm) only, with isMultiVmSyncPoint a
    string; for an InMage or InMageRcmFailback item no class exists, so nothing is sent (what ASR sends there is
    not recorded)."""
    if provider == "InMageAzureV2":
        return {"instanceType": provider, "isMultiVmSyncPoint": "true" if multi_vm else "false"}
    return None


def gb_text(value: float | str | None) -> str | None:
    """A datastore figure as ASR writes it: GB with at most two decimals ("439.5", "158.21"); a scenario's own
    text (blank, odd) goes out as it is, and None as null."""
    if value is None or isinstance(value, str):
        return value
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _mt_errors(m: MasterTargetSpec) -> tuple[HealthErrorSpec, ...]:
    """A master target has no health field in ASR (SDK MasterTargetServer): a scenario's health for it shows as a
    health error of that level. The code and text are the emulator's own."""
    if m.health in ("Normal", "None"):
        return ()
    level = "Error" if m.health == "Critical" else "Warning"
    return (
        HealthErrorSpec(
            "78093" if level == "Error" else "78094",
            f"The master target {m.name} is not responding to the configuration server.",
            level,
            "FabricInfrastructure",
            "The master target VM is stopped, or its services cannot reach the configuration server on 443/9443.",
            f"Check that {m.name} is running and that its InMage Scout services are started.",
        ),
    )


def _all_masters(vault: Vault) -> list[Any]:
    return [m for f in vault.scenario.fabrics for m in f.master_targets]


def fabric(vault: Vault, f: FabricSpec, now: datetime) -> dict[str, Any]:
    if f.kind == "VMware":
        served = Counter(i.process_server_id for i in vault.items.values())
        custom: dict[str, Any] = {
            "instanceType": "VMware",
            "processServers": [
                {
                    "id": vault.host_id("ps", s.name),
                    "friendlyName": s.name,
                    "ipAddress": s.ip,
                    "osVersion": "Windows Server 2016",
                    "agentVersion": "9.62.7096.1",
                    "lastHeartbeat": ts(now - timedelta(seconds=s.heartbeat_age)),
                    "versionStatus": "Supported",
                    "health": s.health,
                    "psServiceStatus": s.service_status,
                    "machineCount": str(served.get(vault.host_id("ps", s.name), 0)),
                    "healthErrors": [health_error(e, s.name, now - timedelta(minutes=30)) for e in s.health_errors],
                    "systemLoad": "24",
                    "systemLoadStatus": "Healthy",
                    "cpuLoad": "31",
                    "cpuLoadStatus": "Healthy",
                    "totalMemoryInBytes": 32 * _GB,
                    "availableMemoryInBytes": 11 * _GB,
                    "memoryUsageStatus": "Healthy",
                    "totalSpaceInBytes": 1024 * _GB,
                    "availableSpaceInBytes": 610 * _GB,
                    "spaceUsageStatus": "Healthy",
                    "osType": "Windows",
                }
                for s in f.process_servers
            ],
            "masterTargetServers": [
                {
                    "id": vault.host_id("mt", m.name),
                    "ipAddress": m.ip,
                    "name": m.name,
                    "osType": m.os_type,
                    "agentVersion": "9.62.7096.1",
                    "lastHeartbeat": ts(now - timedelta(seconds=50)),
                    "versionStatus": "Supported",
                    # SDK RetentionVolume: bytes, as integers. Recorded (V2ATestFailback.json, first fabric list):
                    # {"volumeName": "F", "capacityInBytes": 10734268416, "freeSpaceInBytes": 10275106816,
                    #  "thresholdPercentage": 80}.
                    "retentionVolumes": [
                        {
                            "volumeName": v.name,
                            "capacityInBytes": int(v.capacity_gb * _GB),
                            "freeSpaceInBytes": None if v.free_gb is None else int(v.free_gb * _GB),
                            "thresholdPercentage": v.threshold_percent,
                        }
                        for v in m.retention_volumes
                    ],
                    # SDK DataStore: capacity and freeSpace are strings in GB; recorded in the same answer as
                    # "439.5" and "158.21".
                    "dataStores": [
                        {
                            "symbolicName": d.name,
                            "uuid": vault.host_id("ds", d.name).lower(),
                            "capacity": gb_text(d.capacity_gb),
                            "freeSpace": gb_text(d.free_gb),
                            "type": d.kind,
                        }
                        for d in m.datastores
                    ],
                    "validationErrors": [],
                    "healthErrors": [health_error(e, m.name, now - timedelta(minutes=30)) for e in _mt_errors(m)],
                    "diskCount": 2,
                    "osVersion": "Windows Server 2016" if m.os_type == "Windows" else "CentOS 7",
                }
                for m in f.master_targets
            ],
            "runAsAccounts": [{"accountId": a, "accountName": n} for a, n in f.run_as_accounts],
            "replicationPairCount": str(sum(1 for i in vault.items.values() if i.fabric is f)),
            "processServerCount": str(len(f.process_servers)),
            "agentCount": str(sum(1 for i in vault.items.values() if i.fabric is f)),
            "protectedServers": str(sum(1 for i in vault.items.values() if i.fabric is f)),
            "hostName": f"{f.name}-cs",
            "ipAddress": f.process_servers[0].ip if f.process_servers else "",
            "agentVersion": "9.62.7096.1",
            "lastHeartbeat": ts(now - timedelta(seconds=40)),
            "versionStatus": "Supported",
        }
    elif f.kind == "InMageRcm":
        custom = appliance_fabric(vault, f, now)
    else:
        custom = {"instanceType": "Azure", "containerIds": [], "zones": [], "location": vault.scenario.location}
    return {
        "id": vault.fabric_id(f),
        "name": f.name,
        "type": "Microsoft.RecoveryServices/vaults/replicationFabrics",
        "location": vault.scenario.location,
        "properties": {
            "friendlyName": f.friendly_name,
            "encryptionDetails": {"kekState": "None"},
            "rolloverEncryptionDetails": {"kekState": "None"},
            "internalIdentifier": vault.host_id("fabric", f.name),
            "bcdrState": "Valid",
            "customDetails": custom,
            "healthErrorDetails": [],
            "health": "Normal",
        },
    }


def appliance_fabric(vault: Vault, f: FabricSpec, now: datetime) -> dict[str, Any]:
    """InMageRcmFabricSpecificDetails (SDK line 15733): the replication appliances of a modernized vault. As
    recorded (MODERNIZED.md §8, REC-FB ≈16 700–42 500), each appliance appears once in every component list with
    the same id and name; the process server adds its capacity, the reprotect agent the datastores it reaches."""
    ref = vault.scenario.vault
    site = f"/subscriptions/{ref.subscription_id}/resourceGroups/{ref.resource_group}/providers/Microsoft.OffAzure"
    site_name = f"{f.name}-site"
    served = Counter(i.process_server_id for i in vault.items.values())
    lists: dict[str, list[dict[str, Any]]] = {key: [] for key in APPLIANCE_COMPONENTS}
    for s in f.process_servers:
        overrides = dict(s.components)
        appliance_id = vault.host_id("ps", s.name)
        beat = ts(now - timedelta(seconds=s.heartbeat_age))
        errors = [health_error(e, s.name, now - timedelta(minutes=30)) for e in s.health_errors]
        for key in APPLIANCE_COMPONENTS:
            health = overrides.get(key, s.health)
            entry: dict[str, Any] = {
                "id": appliance_id,
                "name": s.name,
                "biosId": vault.host_id("bios", s.name).lower(),
                "version": "9.62.7096.1",
                "lastHeartbeatUtc": beat,
                "health": health,
                "healthErrors": errors if health != "Normal" else [],
            }
            if key != "dras":
                entry["fabricObjectId"] = f"{site}/VMwareSites/{site_name}/machines/{appliance_id.lower()}"
                entry["fqdn"] = f"{s.name}.avs.local"
            if key == "processServers":
                entry.update(
                    {
                        "ipAddresses": [s.ip],
                        "totalMemoryInBytes": 32 * _GB,
                        "availableMemoryInBytes": 11 * _GB,
                        "usedMemoryInBytes": 21 * _GB,
                        "memoryUsagePercentage": 65.6,
                        "totalSpaceInBytes": 1024 * _GB,
                        "availableSpaceInBytes": 610 * _GB,
                        "usedSpaceInBytes": 414 * _GB,
                        "freeSpacePercentage": 59.6,
                        "throughputUploadPendingDataInBytes": 0,
                        "throughputInBytes": 0,
                        "processorUsagePercentage": 31.0,
                        "throughputStatus": "Healthy",
                        "systemLoad": 24,
                        "systemLoadStatus": "Healthy",
                        "diskUsageStatus": "Healthy",
                        "memoryUsageStatus": "Healthy",
                        "processorUsageStatus": "Healthy",
                        "protectedItemCount": None,  # recorded null
                        "historicHealth": health,
                    }
                )
            elif key == "reprotectAgents":
                entry.update(
                    {
                        "protectedItemCount": None,  # recorded null
                        "accessibleDatastores": list(s.datastores),
                        "vcenterId": f"{site}/VMwareSites/{site_name}/vcenters/{f.name}-vcenter",
                        "lastDiscoveryInUtc": ts(now - timedelta(minutes=10)),
                    }
                )
            elif key == "dras":
                entry["forwardProtectedItemCount"] = served.get(appliance_id, 0)
                entry["reverseProtectedItemCount"] = 0
            elif key == "rcmProxies":
                entry["clientAuthenticationType"] = "Certificate"
            lists[key].append(entry)
    return {
        "instanceType": "InMageRcm",
        "vmwareSiteId": f"{site}/VMwareSites/{site_name}",
        "physicalSiteId": f"{site}/ServerSites/{f.name}-physical",
        "serviceEndpoint": f"https://{vault.scenario.location}.rcm.siterecovery.windowsazure.com",
        "serviceResourceId": vault.host_id("rcm-service", f.name).lower(),
        "serviceContainerId": vault.host_id("rcm-container", f.name).lower(),
        "dataPlaneUri": f"https://{vault.scenario.location}-dp.rcm.siterecovery.windowsazure.com",
        "controlPlaneUri": f"https://{vault.scenario.location}-cp.rcm.siterecovery.windowsazure.com",
        **lists,
        "agentDetails": [],
    }


def container(vault: Vault, f: FabricSpec, name: str) -> dict[str, Any]:
    return {
        "id": f"{vault.fabric_id(f)}/replicationProtectionContainers/{name}",
        "name": name,
        "type": "Microsoft.RecoveryServices/vaults/replicationFabrics/replicationProtectionContainers",
        "location": vault.scenario.location,
        "properties": {
            "fabricFriendlyName": f.friendly_name,
            "friendlyName": name,
            "fabricType": f.kind,
            "protectedItemCount": sum(1 for i in vault.items.values() if i.fabric is f and i.container == name),
            "pairingStatus": "Paired",
            "role": "Primary",
            # recorded null for the modernized fabric's container (MODERNIZED.md §8)
            "fabricSpecificDetails": None if f.kind == "InMageRcm" else {"instanceType": f.kind},
        },
    }


def plan(vault: Vault, p: SimPlan, now: datetime) -> dict[str, Any]:
    in_plan = vault.plan_members(p)
    fabric_spec = in_plan[0].fabric if in_plan else home_fabric(vault.scenario.fabrics, "")
    groups = []
    for g in p.spec.groups:
        members = [vault.find_item(n) for n in g.items]
        groups.append(
            {
                "groupType": g.group_type,
                "replicationProtectedItems": [
                    {"id": vault.item_id(m), "virtualMachineId": m.vm_id} for m in members if m is not None
                ],
                "startGroupActions": [_action(a) for a in g.start_actions],
                "endGroupActions": [_action(a) for a in g.end_actions],
            }
        )
    for wanted in ("Shutdown", "Failover"):
        if not any(g["groupType"] == wanted for g in groups):
            groups.insert(
                0 if wanted == "Shutdown" else 1,
                {"groupType": wanted, "replicationProtectedItems": [], "startGroupActions": [], "endGroupActions": []},
            )
    running = _scenario(vault, p.current_job)
    status = "InProgress" if running["scenarioName"] != "None" else (p.last_status or "Succeeded")
    providers = sorted({m.provider for m in vault.plan_members(p)}) or ["InMage"]
    return {
        "id": vault.plan_id(p),
        "name": p.name,
        "type": "Microsoft.RecoveryServices/vaults/replicationRecoveryPlans",
        "properties": {
            "friendlyName": p.spec.friendly_name,
            "primaryFabricId": vault.fabric_id(fabric_spec),
            "primaryFabricFriendlyName": fabric_spec.friendly_name,
            "recoveryFabricId": vault.fabric_id(fabric_spec),
            "recoveryFabricFriendlyName": fabric_spec.friendly_name,
            "failoverDeploymentModel": "NotApplicable",
            "replicationProviders": providers,
            "allowedOperations": vault.plan_allowed_operations(p),
            "lastPlannedFailoverTime": NEVER,
            "lastUnplannedFailoverTime": ts(p.last_failover_time) or NEVER,
            "lastTestFailoverTime": NEVER,
            "currentScenario": running,
            "currentScenarioStatus": status,
            "currentScenarioStatusDescription": {"Succeeded": "Completed"}.get(status, status),
            "groups": groups,
            "providerSpecificDetails": [],
        },
    }


def _action(a: Any) -> dict[str, Any]:
    if a.kind == "manual":
        custom = {"instanceType": "ManualActionDetails", "description": a.instructions}
    else:
        custom = {
            "instanceType": "ScriptActionDetails",
            "path": a.script,
            "timeout": "PT10M",
            "fabricLocation": "Recovery",
        }
    return {
        "actionName": a.name,
        "failoverTypes": ["UnplannedFailover", "PlannedFailover"],
        "failoverDirections": ["PrimaryToRecovery", "RecoveryToPrimary"],
        "customDetails": custom,
    }


def _error(vault: Vault, task_id: str, error: TaskError, created: datetime | None) -> dict[str, Any]:
    return {
        "serviceErrorDetails": {
            "code": error.service_code,
            "message": error.service_message,
            "possibleCauses": error.possible_causes,
            "recommendedAction": error.recommended_action,
            "activityId": error.error_id,
        },
        "providerErrorDetails": {
            "errorCode": error.provider_code,
            "errorMessage": error.provider_message,
            "errorId": error.error_id,
            "possibleCauses": error.possible_causes,
            "recommendedAction": error.recommended_action,
        },
        "errorLevel": "Error",
        "creationTime": ts(created),
        "taskId": task_id,
    }


def _task(vault: Vault, job: SimJob, task: SimTask) -> dict[str, Any]:
    skipped = task.state_description == "Skipped"
    out: dict[str, Any] = {
        "taskId": task.task_id,
        "name": task.name,
        "friendlyName": task.friendly_name,
        "state": task.state,
        "stateDescription": task.state_description,
        "startTime": NEVER if skipped else ts(task.start),
        "endTime": NEVER if skipped else ts(task.end),
        "allowedActions": [],
        "taskType": task.task_type,
        "customDetails": None,
        "groupTaskCustomDetails": None,
        "errors": [_error(vault, task.task_id, task.error, task.end)] if task.error else [],
    }
    if task.manual:
        out["customDetails"] = {
            "instanceType": "ManualActionTaskDetails",
            "name": task.name,
            "instructions": task.manual,
            "observation": None,
        }
        if job.state == "Suspended" and job.tasks[job.index] is task:
            out["allowedActions"] = ["Resume"]
    elif task.task_type == "VirtualMachineTaskDetails":
        out["customDetails"] = {
            "instanceType": "VirtualMachineTaskDetails",
            "skippedReason": "NotRequired" if skipped else None,
            "skippedReasonString": "Not required" if skipped else None,
        }
    if task.task_type == "GroupTaskDetails":
        if task.child_kind:
            child = vault.jobs.get(task.child_job.lower()) if task.child_job else None
            children: list[dict[str, Any]] = []
            if child is not None:
                children.append(
                    {
                        "taskId": "EnableDr",
                        "name": "EnableDr",
                        "friendlyName": "Enable replication",
                        "state": child.state,
                        "stateDescription": child.state_description,
                        "startTime": ts(child.start or child.created),
                        "endTime": ts(child.end),
                        "allowedActions": [],
                        "taskType": "JobTaskDetails",
                        "customDetails": {
                            "instanceType": "JobTaskDetails",
                            "jobTask": {
                                "jobId": vault.job_id(child.name),
                                "jobFriendlyName": "Enable replication",
                                "targetObjectId": child.target_object_id,
                                "targetObjectName": child.target_name,
                                "targetInstanceType": "Vm",
                                "jobScenarioName": "EnableDr",
                            },
                        },
                        "groupTaskCustomDetails": None,
                        "errors": [],
                    }
                )
        else:
            children = [_task(vault, job, c) for c in task.children]
        out["groupTaskCustomDetails"] = {"instanceType": task.group_details, "childTasks": children}
    return out


def job(vault: Vault, j: SimJob, now: datetime) -> dict[str, Any]:
    started = j.state != "NotStarted"
    props: dict[str, Any] = {
        "activityId": j.activity_id,
        "scenarioName": j.scenario_name if started else None,
        "friendlyName": j.friendly_name if started else None,
        "state": j.state,
        "stateDescription": j.state_description,
        "tasks": [_task(vault, j, t) for t in j.tasks],
        "errors": [_error(vault, task_id, e, j.end) for task_id, e in j.errors],
        "startTime": ts(j.start or j.created),
        "allowedActions": j.allowed_actions,
        "targetObjectId": j.target_object_id if started else None,
        "targetObjectName": j.target_name if started else None,
        "targetInstanceType": j.target_instance_type if started else None,
    }
    if j.end is not None:
        props["endTime"] = ts(j.end)
    props["customDetails"] = (
        _job_details(vault, j) if started else {"instanceType": "AsrJobDetails", "affectedObjectDetails": {}}
    )
    return {
        "id": vault.job_id(j.name),
        "name": j.name,
        "type": "Microsoft.RecoveryServices/vaults/replicationJobs",
        "properties": props,
    }


def _job_details(vault: Vault, j: SimJob) -> dict[str, Any]:
    items = [vault.items[n.lower()] for n in j.item_names if n.lower() in vault.items]
    first = items[0] if items else None
    affected = {}
    if first is not None and not j.plan_name:
        affected = {
            "primaryVmId": first.vm_id,
            "primaryVmName": first.friendly,
            "recoveryVmId": first.vm_id,
            "recoveryVmName": first.friendly,
            "protectionProfileId": f"{vault.prefix}/replicationPolicies/azure-to-avs-failback",
            "primaryCloudId": vault.container_id(first),
            "primaryCloudName": first.container,
            "recoveryCloudId": vault.container_id(first),
            "recoveryCloudName": first.container,
            "primaryFabricProviderId": "VMware",
            "recoveryFabricProviderId": "VMware",
        }
    out: dict[str, Any] = {"instanceType": j.details_type, "affectedObjectDetails": affected}
    if j.details_type == "FailoverJobDetails":
        points = j.extra.get("points", {})
        out["protectedItemDetails"] = [
            {
                "name": i.name,
                "friendlyName": i.friendly,
                "testVmName": None,
                "testVmFriendlyName": None,
                "networkConnectionStatus": None,
                "networkFriendlyName": None,
                "subnet": None,
                "recoveryPointId": (points.get(i.name) or (None, None))[0],
                "recoveryPointTime": ts((points.get(i.name) or (None, None))[1]),
            }
            for i in items
        ]
    if j.details_type == "SwitchProtectionJobDetails":
        out["newReplicationProtectedItemId"] = j.extra.get("new_item_id") or (
            vault.item_id(first) if first is not None and j.operation == "reprotect" else None
        )
    return out


POLICIES = (
    ("azure-to-avs-failback", "InMage"),
    ("avs-to-azure", "InMageAzureV2"),
)


def policies(vault: Vault) -> tuple[tuple[str, str], ...]:
    """The vault's policies: the classic pair, and the modernized pair when any item is modernized."""
    if any(i.modernized for i in vault.items.values()):
        return (*POLICIES, (rcm.FORWARD_POLICY, rcm.FORWARD), (rcm.FAILBACK_POLICY, rcm.FAILBACK))
    return POLICIES


def policy(vault: Vault, name: str, instance_type: str) -> dict[str, Any]:
    settings = vault.settings
    if instance_type in (rcm.FORWARD, rcm.FAILBACK):
        # InMageRcmPolicyDetails / InMageRcmFailbackPolicyDetails: the recorded values (MODERNIZED.md §8)
        details: dict[str, Any] = {
            "instanceType": instance_type,
            "appConsistentFrequencyInMinutes": 240 if instance_type == rcm.FORWARD else 60,
            "crashConsistentFrequencyInMinutes": 5,
        }
        if instance_type == rcm.FORWARD:
            details.update(recoveryPointHistoryInMinutes=4320, enableMultiVmSync="true")
        return {
            "id": f"{vault.prefix}/replicationPolicies/{name}",
            "name": name,
            "type": "Microsoft.RecoveryServices/vaults/replicationPolicies",
            "properties": {"friendlyName": name, "providerSpecificDetails": details},
        }
    details = {
        "instanceType": instance_type,
        "recoveryPointThresholdInMinutes": 15 if instance_type == "InMageAzureV2" else 60,
        "recoveryPointHistory": int(settings.retention_hours * 60),
        "appConsistentFrequencyInMinutes": int(settings.app_interval_minutes),
        "multiVmSyncStatus": "Enabled",
    }
    if instance_type == "InMageAzureV2":
        details["crashConsistentFrequencyInMinutes"] = int(settings.crash_interval_minutes)
    else:
        details["recoveryPointHistory"] = int(settings.retention_hours * 60)
    return {
        "id": f"{vault.prefix}/replicationPolicies/{name}",
        "name": name,
        "type": "Microsoft.RecoveryServices/vaults/replicationPolicies",
        "properties": {"friendlyName": name, "providerSpecificDetails": details},
    }
