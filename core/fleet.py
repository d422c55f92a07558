"""The fleet: every vault the operator can read, across subscriptions, summarised from Azure Resource Graph.

Resource Graph (table `recoveryservicesresources`) holds each replicated item with its ARM `properties` bag,
as a GET of the item returns it (docs: ARG "uses a GET to the latest non-preview API of each resource
provider"). The item query projects the properties the stage derivation and the fleet read, one column per
property path (ITEM_PATHS); each row is folded back into the shape of an ARM document and mapped by
core.azure.mapping.protected_item, exactly as a vault listing is, so a stage counted here is the stage the
vault view shows for the same document. What ARG holds may be older than ARM (ARG_FACTS.md): the fleet says
how old its data is, and live work happens in the vault view over ARM.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.errors import MalformedResponse
from core.model import JobState, ProtectedItem, Provider, Stage, VaultRef

VAULT_TYPE = "microsoft.recoveryservices/vaults"
ITEM_TYPE = (
    "microsoft.recoveryservices/vaults/replicationfabrics/replicationprotectioncontainers/replicationprotecteditems"
)
JOB_TYPE = "microsoft.recoveryservices/vaults/replicationjobs"

# The item properties the fleet needs, as paths under `properties`: what core.azure.mapping.protected_item reads
# to derive the stage (core.failback.derive_stage), the health, the newest point, the provider and where the VM
# runs. tests/core/test_fleet.py checks, over every emulator scenario, that an item mapped from these alone
# has the same stage and fleet fields as the item mapped from its whole document.
ITEM_PATHS: tuple[str, ...] = (
    "friendlyName",
    "protectionState",
    "protectionStateDescription",
    "activeLocation",
    "replicationHealth",
    "failoverHealth",
    "allowedOperations",
    "currentScenario",
    "providerSpecificDetails.instanceType",
    "providerSpecificDetails.activeSiteType",
    "providerSpecificDetails.rpoInSeconds",
    "providerSpecificDetails.retentionWindowEnd",
    "providerSpecificDetails.lastRecoveryPointReceived",
    "providerSpecificDetails.lastRpoCalculatedTime",
    "providerSpecificDetails.multiVmGroupId",
    "providerSpecificDetails.multiVmGroupName",
    # InMageRcmFailback has no RPO nor retention window: its disks' lastSyncTime is shown as reported, never as
    # a point's age (see core/azure/FIELDS.md).
    "providerSpecificDetails.protectedDisks",
    # InMageRcm (modernized, the VM in Azure): its RPO is lastRpoInSeconds (SDK InMageRcmReplicationDetails).
    "providerSpecificDetails.lastRpoInSeconds",
    # The modernized legs' initial replication, which a not-ready VM's reason names.
    "providerSpecificDetails.initialReplicationProgressPercentage",
    "providerSpecificDetails.initialReplicationProgressHealth",
)
JOB_PATHS: tuple[str, ...] = (
    "state",
    "stateDescription",
    "scenarioName",
    "friendlyName",
    "targetObjectName",
    "startTime",
)
_RUNNING_STAGES = (Stage.FAILOVER_RUNNING, Stage.COMMIT_RUNNING, Stage.REPROTECT_RUNNING)


def column(path: str) -> str:
    """The column a property path is projected to: its last name (a page of a thousand rows repeats each column
    name a thousand times, and Resource Graph's own `properties_a_b` names would double the page)."""
    return path.rsplit(".", 1)[-1]


# Paths projected only on the rows that need them, the others getting null: a page is a thousand rows, and most of
# its bytes would be what the fleet never reads. The disks count only for InMageRcmFailback (their lastSyncTime,
# core.azure.mapping._last_disk_sync): a classic VM's protectedDisks are almost half the bytes of its row. An idle
# item's currentScenario (scenarioName "None", a jobId ending in /None) maps to no scenario, as the null does.
# iff() and dynamic(null) are standard KQL; whether Resource Graph's subset of it holds both: UNCONFIRMED
# (ARG_FACTS.md). The emulator refuses what it does not understand, so a mistake here fails in the tests.
ONLY_WHERE: dict[str, str] = {
    "providerSpecificDetails.protectedDisks": "properties.providerSpecificDetails.instanceType =~ 'InMageRcmFailback'",
    "currentScenario": "properties.currentScenario.scenarioName !~ 'None'",
}


def _projection(paths: Sequence[str]) -> str:
    def value(path: str) -> str:
        where = ONLY_WHERE.get(path)
        return f"properties.{path}" if where is None else f"iff({where}, properties.{path}, dynamic(null))"

    return ", ".join(f"{column(p)} = {value(p)}" for p in paths)


VAULTS_QUERY = (
    f"resources\n| where type =~ '{VAULT_TYPE}'\n| project id, name, subscriptionId, resourceGroup, location\n"
    "| order by id asc"
)
ITEMS_QUERY = (
    f"recoveryservicesresources\n| where type =~ '{ITEM_TYPE}'\n"
    f"| project id, {_projection(ITEM_PATHS)}\n| order by id asc"
)  # the name, subscription and resource group are in the id: not sent again on every row
# Jobs still open, and those that failed in the last day: what an on-call engineer looks at across vaults.
JOBS_QUERY = (
    f"recoveryservicesresources\n| where type =~ '{JOB_TYPE}'\n"
    "| where properties.state in~ ('NotStarted', 'InProgress', 'Suspended')"
    " or (properties.state =~ 'Failed' and todatetime(properties.startTime) > ago(1d))\n"
    f"| project id, name, subscriptionId, resourceGroup, {_projection(JOB_PATHS)}\n| order by id asc"
)


assert len({column(p) for p in ITEM_PATHS}) == len(ITEM_PATHS) and "id" not in {column(p) for p in ITEM_PATHS}
# Each path once as (its column, the keys above it, its own key): a fleet folds fifty thousand rows.
_FOLDS = tuple((column(p), tuple(p.split(".")[:-1]), p.split(".")[-1]) for p in ITEM_PATHS)


def document_folder(columns: Sequence[str]) -> Callable[[Sequence[Any]], dict[str, Any]]:
    """A function folding an item row of a table page (its values in the order of `columns`) back into the shape
    of the item's ARM document, absent values left out. The columns are looked up once a page, not once a row."""
    at = {name: index for index, name in enumerate(columns)}
    id_at = at.get("id")
    # The paths grouped by the keys above them, the groups nearest the top first, each with the indexes it reads.
    groups: dict[tuple[str, ...], list[tuple[int, str]]] = {}
    for name, parents, leaf in _FOLDS:
        if name in at:
            groups.setdefault(parents, []).append((at[name], leaf))
    top = groups.pop((), [])
    nested = sorted(groups.items(), key=lambda group: len(group[0]))

    def fold(values: Sequence[Any]) -> dict[str, Any]:
        props = {leaf: value for index, leaf in top if (value := values[index]) is not None}
        for parents, fields in nested:
            bag = {leaf: value for index, leaf in fields if (value := values[index]) is not None}
            if bag:
                target = props
                for parent in parents:
                    target = target.setdefault(parent, {})
                target.update(bag)
        item_id = values[id_at] if id_at is not None else None
        name = item_id.rsplit("/", 1)[-1] if isinstance(item_id, str) else None
        return {"id": item_id, "name": name, "properties": props}

    return fold


def item_document(row: dict[str, Any]) -> dict[str, Any]:
    """A projected item row (column name to value) folded back into the shape of the item's ARM document."""
    return document_folder(tuple(row))(tuple(row.values()))


def _str(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def vault_of(resource_id: str) -> VaultRef | None:
    """The vault an ASR resource id lives under, or None for an id of another shape."""
    parts = [p for p in resource_id.split("/") if p]
    low = [p.lower() for p in parts]
    if len(parts) >= 8 and low[0] == "subscriptions" and low[2] == "resourcegroups" and low[6] == "vaults":
        return VaultRef(parts[1], parts[3], parts[7])
    return None


def vault_key(ref: VaultRef) -> str:
    """Ids differ in case between ARM's vault (`/subscriptions/`) and ASR's children (`/Subscriptions/`)."""
    return ref.arm_id.lower()


@dataclass(frozen=True)
class FleetItem:
    item: ProtectedItem
    vault: VaultRef
    stage: Stage
    location: str  # the vault's region (the item's own row carries none that can be relied on)
    indexed_at: datetime | None  # the newest time ASR wrote into the document ARG holds (lastRpoCalculatedTime)

    @property
    def id(self) -> str:
        return self.item.id


@dataclass(frozen=True)
class FleetJob:
    id: str
    name: str
    vault: VaultRef
    state: JobState
    state_description: str
    scenario_name: str
    friendly_name: str
    target_name: str
    start_time: datetime | None


@dataclass
class VaultSummary:
    """One row of the fleet: a vault and what its items add up to (None until the items have been read)."""

    ref: VaultRef
    location: str
    items: int = 0
    stages: Counter[Stage] = field(default_factory=Counter)
    health: Counter[str] = field(default_factory=Counter)
    providers: Counter[Provider] = field(default_factory=Counter)
    oldest_point: datetime | None = None  # the oldest "newest recovery point" among items that have one
    no_point: int = 0  # items that replicate towards AVS but hold no point yet
    indexed_at: datetime | None = None
    jobs_open: int = 0
    jobs_waiting: int = 0  # Suspended: a plan waits on a manual action
    jobs_failed: int = 0

    @property
    def key(self) -> str:
        return vault_key(self.ref)

    @property
    def id(self) -> str:
        return self.key

    @property
    def running(self) -> int:
        return sum(self.stages[s] for s in _RUNNING_STAGES)

    def add(self, entry: FleetItem) -> None:
        item = entry.item
        self.items += 1
        self.stages[entry.stage] += 1
        self.health[(item.replication_health or "Unknown").capitalize()] += 1
        self.providers[item.provider] += 1
        newest = item.last_recovery_point_time
        if newest is not None and (self.oldest_point is None or newest < self.oldest_point):
            self.oldest_point = newest
        if entry.indexed_at is not None and (self.indexed_at is None or entry.indexed_at > self.indexed_at):
            self.indexed_at = entry.indexed_at

    def add_job(self, job: FleetJob) -> None:
        if job.state in (JobState.NOT_STARTED, JobState.IN_PROGRESS, JobState.SUSPENDED):
            self.jobs_open += 1
        if job.state is JobState.SUSPENDED:
            self.jobs_waiting += 1
        if job.state is JobState.FAILED:
            self.jobs_failed += 1

    def snapshot(self) -> VaultSummary:
        """A copy to hand to another thread while this one goes on counting."""
        return dataclasses.replace(
            self, stages=Counter(self.stages), health=Counter(self.health), providers=Counter(self.providers)
        )


class Tally:
    """The vault rows counted as the items arrive, each item once: what changed since the last look is handed out
    as copies (the counting goes on while a reader draws them), and the jobs are counted in at the end."""

    def __init__(self, vaults: Iterable[VaultSummary]) -> None:
        self._rows = {v.key: VaultSummary(v.ref, v.location) for v in vaults}
        self._touched: dict[str, VaultSummary] = {}

    def add(self, items: Iterable[FleetItem]) -> None:
        rows, touched = self._rows, self._touched
        for entry in items:
            key = vault_key(entry.vault)
            summary = rows.get(key)
            if summary is None:  # an item of a vault the vault query did not list gets a row too
                summary = rows[key] = VaultSummary(entry.vault, entry.location)
            summary.add(entry)
            touched[key] = summary

    def changed(self) -> list[VaultSummary]:
        """Copies of the rows items were added to since the last call."""
        out = [summary.snapshot() for summary in self._touched.values()]
        self._touched.clear()
        return out

    def finish(self, jobs: Iterable[FleetJob] = ()) -> list[VaultSummary]:
        """Every row, with `jobs` counted in (a job of a vault with no row is left out)."""
        for job in jobs:
            summary = self._rows.get(vault_key(job.vault))
            if summary is not None:
                summary.add_job(job)
        self._touched.clear()
        return list(self._rows.values())


def summarise(
    vaults: Iterable[VaultSummary], items: Iterable[FleetItem], jobs: Iterable[FleetJob] = ()
) -> list[VaultSummary]:
    """Fresh summaries of `vaults` with `items` and `jobs` counted in (items of unknown vaults get a row too)."""
    tally = Tally(vaults)
    tally.add(items)
    return tally.finish(jobs)


class FleetReader:
    """The fleet through Resource Graph, and each of its vaults through ARM (open_vault).

    `graph` is a core.azure.graph.ResourceGraphReader; `open_vault(ref)` builds the vault's Backend on the same
    credential and connections.
    """

    def __init__(
        self,
        graph: Any,
        open_vault: Callable[[VaultRef], Any],
        *,
        subscriptions: Sequence[str] = (),
        read_only: bool = False,
        simulated: bool = False,
    ) -> None:
        self.graph = graph
        self._open_vault = open_vault
        self.subscriptions = tuple(subscriptions)
        self.read_only = read_only
        self._simulated = simulated
        self._locations: dict[str, str] = {}

    @property
    def simulated(self) -> bool:
        return self._simulated or bool(getattr(self.graph, "simulated", False))

    @property
    def clock(self) -> Any:
        return self.graph.clock

    def now(self) -> datetime:
        now: datetime = self.graph.clock.now()
        return now

    @property
    def requests(self) -> int:
        """Resource Graph queries sent so far (pages and throttled answers included)."""
        count: int = self.graph.stats.requests
        return count

    def list_vaults(self) -> list[VaultSummary]:
        """Every Recovery Services vault in scope, with its region (no counts yet: those come with the items)."""
        vaults = []
        for row in self.graph.rows(VAULTS_QUERY, self.subscriptions):
            ref = vault_of(_str(row.get("id")))
            if ref is None:
                continue
            location = _str(row.get("location"))
            self._locations[vault_key(ref)] = location
            vaults.append(VaultSummary(ref, location))
        return vaults

    def iter_item_pages(self) -> Iterator[list[FleetItem]]:
        """Every replicated item in scope, a Resource Graph page at a time, each mapped as a vault listing maps it."""
        from core.azure.mapping import parse_time, protected_item
        from core.failback import derive_stage

        vaults: dict[str, tuple[VaultRef, str] | None] = {}  # an id's vault part → its vault and region

        def vault(item_id: str) -> tuple[VaultRef, str] | None:
            low = item_id.lower()
            start = low.find("/vaults/")
            end = low.find("/", start + 8) if start >= 0 else -1
            part = low[:end] if end >= 0 else low
            if part not in vaults:
                ref = vault_of(item_id)
                vaults[part] = None if ref is None else (ref, self._locations.get(vault_key(ref), ""))
            return vaults[part]

        indexed = column("providerSpecificDetails.lastRpoCalculatedTime")
        for page in self.graph.pages(ITEMS_QUERY, self.subscriptions):
            at = {name: index for index, name in enumerate(page.columns)}
            if "id" not in at:
                raise MalformedResponse("Resource Graph answered the item query without the id column it asks for.")
            id_at, indexed_at = at["id"], at.get(indexed)
            fold = document_folder(page.columns)
            entries = []
            for values in page.values:
                found = vault(_str(values[id_at]))
                if found is None:
                    continue
                item = protected_item(fold(values))
                entries.append(
                    FleetItem(
                        item=item,
                        vault=found[0],
                        stage=derive_stage(item),
                        location=found[1],
                        indexed_at=parse_time(values[indexed_at]) if indexed_at is not None else None,
                    )
                )
            yield entries

    def list_jobs(self) -> list[FleetJob]:
        from core.azure.mapping import parse_time

        jobs = []
        for row in self.graph.rows(JOBS_QUERY, self.subscriptions):
            ref = vault_of(_str(row.get("id")))
            if ref is None:
                continue
            jobs.append(
                FleetJob(
                    id=_str(row.get("id")),
                    name=_str(row.get("name")),
                    vault=ref,
                    state=JobState.parse(_str(row.get(column("state")))),
                    state_description=_str(row.get(column("stateDescription"))),
                    scenario_name=_str(row.get(column("scenarioName"))),
                    friendly_name=_str(row.get(column("friendlyName"))),
                    target_name=_str(row.get(column("targetObjectName"))),
                    start_time=parse_time(row.get(column("startTime"))),
                )
            )
        return jobs

    def open_vault(self, ref: VaultRef) -> Any:
        """The vault's own Backend (ARM, live), on the fleet's credential and connections."""
        return self._open_vault(ref)


def stage_counts(items: Iterable[FleetItem]) -> dict[str, int]:
    counts = Counter(entry.stage for entry in items)
    return {stage.key: counts.get(stage, 0) for stage in Stage}
