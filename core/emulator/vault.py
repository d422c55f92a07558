"""The simulated Recovery Services vault: items, plans, recovery points and jobs over simulated time."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from core.emulator import faults as fk
from core.emulator import modernized as rcm
from core.emulator.jobs import (
    SimJob,
    SimTask,
    TaskError,
    commit_tasks,
    enable_dr_tasks,
    failover_tasks,
    guid,
    history_tasks,
    plan_cancel_tasks,
    plan_commit_tasks,
    plan_failover_tasks,
    plan_reprotect_tasks,
    reprotect_tasks,
    seeded,
)
from core.emulator.scenario import FabricSpec, ItemSpec, PlanSpec, ProcessServerSpec, Scenario, home_fabric
from core.model import APPLIANCE_ROLES

_NS = uuid.UUID("6f1c2a8e-3d0b-4c55-9a57-1f2e8b7d4c10")

# ASR numeric codes this emulator answers with where no public source shows the real one (SCENARIOS.md lists them).
CODE_NOT_ALLOWED = "28051"
CODE_IN_PROGRESS = "28052"
CODE_NO_POINT = "28053"
CODE_NO_COMMON_POINT = "28054"
CODE_PLAN_REPROTECT = "28055"
CODE_BAD_INPUT = "28056"
# The vault's AVS → Azure replication policy (shapes.POLICIES lists both directions).
FORWARD_POLICY = "avs-to-azure"


class ArmError(Exception):
    """An ARM error answer: status, envelope code and message, optional ASR detail entries."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        asr_code: str = "",
        possible_causes: str = "",
        recommended_action: str = "",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.asr_code = asr_code
        self.possible_causes = possible_causes
        self.recommended_action = recommended_action
        self.headers = dict(headers or {})


@dataclass
class SimItem:
    name: str
    friendly: str
    fabric: FabricSpec
    container: str
    vm_id: str
    stage: str  # ready | failed-over | committed | protected-to-azure | not-ready (running = current_job set)
    provider: str
    spec: ItemSpec
    group_id: str = ""
    process_server_id: str = ""
    master_target_id: str = ""
    repl_start: datetime | None = None
    frozen_at: datetime | None = None
    failover_finished: datetime | None = None
    last_failover_time: datetime | None = None
    failover_point_id: str = ""
    current_job: str = ""
    plans: list[str] = field(default_factory=list)
    stalled_at: datetime | None = None  # replication stopped sending data (not a failover)
    modernized: bool = False  # the replication appliance's stack: InMageRcmFailback back, InMageRcm forward
    planned_failover_start: datetime | None = None
    planned_failover_status: str = ""
    extra_agent_from: datetime | None = None  # when the planned failover ended: the agent registers after it
    target_datastore: str = ""  # the AVS datastore the reprotect to AVS named (modernized)
    ir_started: datetime | None = None  # the initial replication after a modernized reprotect (U5, U6)
    ir_until: datetime | None = None


@dataclass
class SimPlan:
    spec: PlanSpec
    current_job: str = ""
    last_status: str = ""
    last_failover_time: datetime | None = None

    @property
    def name(self) -> str:
        return self.spec.name


@dataclass(frozen=True)
class Point:
    name: str
    time: datetime
    kind: str  # CrashConsistent | ApplicationConsistent
    multi_vm: bool


class Vault:
    """All simulated state. Not thread-safe on its own: ArmEmulator serialises access."""

    def __init__(self, scenario: Scenario, now: datetime, fault_plan: fk.FaultPlan) -> None:
        self.scenario = scenario
        self.settings = scenario.settings
        self.started = now
        self.faults = fault_plan
        ref = scenario.vault
        self.prefix = (
            f"/Subscriptions/{ref.subscription_id}/resourceGroups/{ref.resource_group}"
            f"/providers/Microsoft.RecoveryServices/vaults/{ref.name}"
        )
        # Job names come from a generator seeded by the vault id: the same steps on the same scenario and clock
        # give the same job names, which keeps journals, exports and screenshots comparable between runs.
        self._ids = seeded(f"vault/{self.prefix.lower()}")
        self._host_ids: dict[tuple[str, str], str] = {}
        self.items: dict[str, SimItem] = {}  # by RPI name (lower-case key)
        self.jobs: dict[str, SimJob] = {}
        self.plans: dict[str, SimPlan] = {p.name.lower(): SimPlan(p) for p in scenario.plans}
        self._in_initial: set[str] = set()  # modernized items in the initial replication after a reprotect
        # Process server id (upper case, as items carry it) → its name.
        self.server_names = {self.host_id("ps", s.name): s.name for f in scenario.fabrics for s in f.process_servers}
        # The appliances a modernized request may name, by id: those of the InMageRcm fabrics; a scenario without
        # one (written before the emulator served that fabric) lends its process servers.
        rcm_fabrics = [f for f in scenario.fabrics if f.kind == "InMageRcm"] or list(scenario.fabrics)
        self.appliances = {self.host_id("ps", s.name): s for f in rcm_fabrics for s in f.process_servers}
        for spec in scenario.items:
            self._add_item(spec, now)
        for plan in scenario.plans:
            for group in plan.groups:
                for member in group.items:
                    item = self.find_item(member)
                    if item is not None and plan.name not in item.plans:
                        item.plans.append(plan.name)
        for job_spec in scenario.jobs:
            self._add_history_job(job_spec, now)
        self._seed_running_jobs(now)

    # -- ids and lookups ---------------------------------------------------------------------------------

    def reseed_jobs(self, salt: str) -> None:
        """Draw the names of the jobs to come from another sequence: a simulation of a vault that the emulator also
        serves (a rehearsal) must not name a new job as the served vault named one of its own."""
        self._ids = seeded(f"vault/{self.prefix.lower()}/{salt}")

    def fabric_id(self, fabric: FabricSpec) -> str:
        return f"{self.prefix}/replicationFabrics/{fabric.name}"

    def container_id(self, item: SimItem) -> str:
        return f"{self.fabric_id(item.fabric)}/replicationProtectionContainers/{item.container}"

    def item_id(self, item: SimItem) -> str:
        return f"{self.container_id(item)}/replicationProtectedItems/{item.name}"

    def job_id(self, name: str) -> str:
        return f"{self.prefix}/replicationJobs/{name}"

    def plan_id(self, plan: SimPlan) -> str:
        return f"{self.prefix}/replicationRecoveryPlans/{plan.name}"

    def host_id(self, kind: str, name: str) -> str:
        key = (kind, name)
        found = self._host_ids.get(key)
        if found is None:
            # Every item names the same few servers: each id is hashed once.
            found = self._host_ids[key] = str(uuid.uuid5(_NS, f"{self.prefix}/{kind}/{name}")).upper()
        return found

    def find_item(self, ref: str) -> SimItem | None:
        """By RPI name, friendly name or ARM id, case-insensitively."""
        key = ref.rstrip("/").rsplit("/", 1)[-1].lower()
        if key in self.items:
            return self.items[key]
        for item in self.items.values():
            if item.friendly.lower() == key:
                return item
        return None

    def plan_members(self, plan: SimPlan) -> list[SimItem]:
        members = []
        for group in plan.spec.groups:
            for name in group.items:
                item = self.find_item(name)
                if item is not None and item not in members:
                    members.append(item)
        return members

    # -- building from the scenario ----------------------------------------------------------------------

    def _add_item(self, spec: ItemSpec, now: datetime) -> None:
        fabrics = self.scenario.fabrics
        fabric = (
            next(f for f in fabrics if f.name == spec.fabric) if spec.fabric else home_fabric(fabrics, spec.provider)
        )
        name = spec.rpi_name or str(uuid.uuid5(_NS, f"{self.prefix}/{spec.name}"))
        # its own fabric's servers first: a modernized item is served by an appliance, a classic one by a process
        # server of the configuration server
        ordered = (fabric, *(f for f in fabrics if f is not fabric))
        ps_name = spec.process_server or next((s.name for f in ordered for s in f.process_servers), "")
        mt_name = spec.master_target or next((m.name for f in ordered for m in f.master_targets), "")
        since = now + timedelta(seconds=spec.since)
        item = SimItem(
            name=name,
            friendly=spec.name,
            fabric=fabric,
            container=spec.container or fabric.containers[0],
            vm_id=str(uuid.uuid5(_NS, f"vm/{spec.name}")),
            stage=spec.stage,
            provider=spec.provider,
            spec=spec,
            group_id=str(uuid.uuid5(_NS, f"group/{spec.group}")) if spec.group else "",
            process_server_id=self.host_id("ps", ps_name) if ps_name else "",
            master_target_id=self.host_id("mt", mt_name) if mt_name else "",
            repl_start=now - timedelta(days=30),
            modernized=spec.provider == rcm.FAILBACK,
        )
        stage = spec.stage
        if stage == "in-azure":
            item.provider = rcm.FORWARD
        if stage in ("failed-over", "committed", "commit-running", "reprotect-running", "cancel-running"):
            item.stage = "committed" if stage in ("committed", "reprotect-running") else "failed-over"
            item.failover_finished = since
            item.last_failover_time = since
            item.frozen_at = since - timedelta(minutes=8)
            newest = self.newest_point(item, now)
            item.failover_point_id = f"{self.item_id(item)}/recoveryPoints/{newest.name}" if newest else ""
        elif stage == "protected-to-azure":
            item.provider = rcm.FORWARD if item.modernized else "InMageAzureV2"
            item.repl_start = since
        elif stage == "failover-running":
            item.stage = "ready"
        if stage == "ready" and not spec.replicating:
            item.stalled_at = since
        elif stage == "not-ready":
            item.repl_start = now if spec.not_ready == "initial-replication" else None
        self.items[name.lower()] = item

    def _seed_running_jobs(self, now: datetime) -> None:
        for item in list(self.items.values()):
            stage = item.spec.stage
            at = now + timedelta(seconds=item.spec.job_started)
            if stage == "failover-running" and item.modernized:
                self._start_modernized(item, "planned-failover", at, "CrashConsistent")
            elif stage == "failover-running":
                self._start_failover([item], at, "LatestTime", None, item.spec.source_site_operations == "Required")
            elif stage == "cancel-running":
                self._start_modernized(item, "cancel-failover", at)
            elif stage == "commit-running":
                self._start_commit([item], at)
            elif stage == "reprotect-running" and item.modernized:
                self._start_modernized(item, "reprotect", at)
            elif stage == "reprotect-running":
                self._start_reprotect(item, at)

    def _add_history_job(self, spec: Any, now: datetime) -> None:
        item = self.find_item(spec.item)
        assert item is not None  # the scenario validator checked the name
        start = now + timedelta(seconds=spec.started)
        meta = {
            "failover-to-azure": ("UnplannedFailover", "Failover", "FailoverJobDetails"),
            "failover": ("UnplannedFailover", "Failover", "FailoverJobDetails"),
            "commit": ("CommitFailover", "Commit", "AsrJobDetails"),
            "reprotect-to-avs": ("SwitchProtection", "Reprotect", "SwitchProtectionJobDetails"),
            "reprotect": ("SwitchReplicationGroupProtection", "Reprotect", "SwitchProtectionJobDetails"),
        }[spec.kind]
        job: SimJob  # the task list is built later and draws its ids from the job's own stream
        job = self._new_job("history", meta, item, start, lambda kind=spec.kind: history_tasks(kind, job.new_id))
        job.extra["direction"] = "to-azure" if spec.kind == "failover-to-azure" else "to-avs"
        job.begin()
        step = spec.duration / max(1, len(job.tasks))
        cursor = job.start or start
        for index, task in enumerate(job.tasks):
            failing = spec.state != "Succeeded" and index == min(2, len(job.tasks) - 1)
            task.start, task.end = cursor, cursor + timedelta(seconds=step)
            cursor = task.end
            if task.skipped:
                task.state, task.state_description, task.start, task.end = "Other", "Skipped", None, None
                continue
            if failing:
                if spec.state == "Cancelled":
                    job.cancel(cursor)
                else:
                    error = TaskError(
                        str(spec.error_code or 0),
                        spec.error_message,
                        spec.error_code,
                        spec.error_message,
                        spec.possible_causes,
                        spec.recommended_action,
                    )
                    job.fail(task, error, cursor)
                for later in job.tasks[index + 1 :]:
                    later.state = later.state_description = "NotStarted"
                break
            task.state, task.state_description = "Succeeded", "Completed"
        else:
            job.state, job.state_description, job.end = "Succeeded", "Completed", cursor

    # -- recovery points ---------------------------------------------------------------------------------

    def _span(self, item: SimItem, now: datetime) -> tuple[datetime, datetime] | None:
        """(newest point time, earliest time the retention window allows), or None when there are no points."""
        if (
            item.repl_start is None
            or item.stage == "not-ready"
            or item.provider == "InMageAzureV2"
            and item.repl_start > now
        ):
            return None
        newest = (item.frozen_at or item.stalled_at or now) - timedelta(seconds=item.spec.rpo_seconds)
        oldest = max(newest - timedelta(hours=self.settings.retention_hours), item.repl_start)
        return None if newest < oldest else (newest, oldest)

    def points(self, item: SimItem, now: datetime) -> list[Point]:
        """The item's recovery points, newest first, computed from the clock (none before replication ends)."""
        span = self._span(item, now)
        if span is None:
            return []
        newest, oldest = span
        # Keyed by name (the ARM id): the newest point, to the microsecond, and a regular one in the same second
        # are one point, never one id listed twice.
        found: dict[str, Point] = {}
        crash = self.settings.crash_interval_minutes * 60
        app = self.settings.app_interval_minutes * 60
        stamp = newest.timestamp()
        t = stamp - (stamp % crash)
        while t >= oldest.timestamp():
            when = datetime.fromtimestamp(t, tz=newest.tzinfo)
            name = _point_name(t, False)
            found[name] = Point(name, when, "CrashConsistent", False)
            t -= crash
        name = _point_name(stamp, False)
        found[name] = Point(name, newest, "CrashConsistent", False)
        offset = item.spec.app_offset_seconds
        t = (stamp - offset) - ((stamp - offset) % app) + offset
        while t >= oldest.timestamp():
            if t <= stamp:
                when = datetime.fromtimestamp(t, tz=newest.tzinfo)
                name = _point_name(t, True)
                found[name] = Point(name, when, "ApplicationConsistent", bool(item.group_id))
            t -= app
        return sorted(found.values(), key=lambda p: (p.time, p.kind == "CrashConsistent"), reverse=True)

    def newest_point(self, item: SimItem, now: datetime) -> Point | None:
        """points(item, now)[0], without listing the day of points before it (a fleet builds thousands)."""
        span = self._span(item, now)
        if span is None:
            return None
        newest = span[0]
        return Point(_point_name(newest.timestamp(), False), newest, "CrashConsistent", False)

    def retention_window(self, item: SimItem, now: datetime) -> tuple[datetime | None, datetime | None]:
        """(oldest, newest) point times, computed without listing every point (item lists call this a lot)."""
        span = self._span(item, now)
        if span is None:
            return None, None
        newest, oldest = span
        bound = oldest.timestamp()
        candidates = [newest.timestamp()]
        for step, shift in (
            (self.settings.crash_interval_minutes * 60, 0),
            (self.settings.app_interval_minutes * 60, item.spec.app_offset_seconds),
        ):
            first = (bound - shift) - ((bound - shift) % step) + shift
            if first < bound:
                first += step
            if first <= newest.timestamp():
                candidates.append(first)
        return datetime.fromtimestamp(min(candidates), tz=newest.tzinfo), newest

    def _choose_point(self, item: SimItem, now: datetime, kind: str, point_id: str | None) -> Point | None:
        pts = self.points(item, now)
        if kind == "LatestTag":
            return next((p for p in pts if p.kind == "ApplicationConsistent"), None)
        if kind == "Custom":
            wanted = (point_id or "").rstrip("/").rsplit("/", 1)[-1]
            return next((p for p in pts if p.name == wanted), None)
        return pts[0] if pts else None

    def common_app_point(self, members: list[SimItem], now: datetime) -> datetime | None:
        sets = [{p.time for p in self.points(m, now) if p.kind == "ApplicationConsistent"} for m in members]
        if not sets:
            return None
        common = set.intersection(*sets)
        return max(common) if common else None

    # -- starting operations -----------------------------------------------------------------------------

    def _new_job(
        self,
        operation: str,
        meta: tuple[str, str, str],
        item: SimItem | None,
        at: datetime,
        build: Any,
        plan: SimPlan | None = None,
    ) -> SimJob:
        scenario_name, friendly, details = meta
        name = guid(self._ids)
        job = SimJob(
            name=name,
            operation=operation,
            scenario_name=scenario_name,
            friendly_name=friendly,
            target_name=plan.name if plan else item.friendly if item else "",
            target_object_id=plan.name if plan else item.vm_id if item else "",
            target_instance_type="RecoveryPlan" if plan else "ProtectionEntity",
            details_type=details,
            created=at,
            build_tasks=build,
            fabric_id=self.fabric_id(item.fabric) if item else "",
            item_names=(item.name,) if item else (),
            plan_name=plan.name if plan else "",
        )
        self.jobs[name.lower()] = job
        return job

    def _attach_fault(self, job: SimJob, items: list[SimItem]) -> None:
        names = tuple(n for i in items for n in (i.name, i.friendly))
        job.injected_failure = self.faults.take_job_failure(job.operation.removeprefix("plan-"), names)

    def _start_failover(
        self,
        items: list[SimItem],
        at: datetime,
        point_type: str,
        point_id: str | None,
        required: bool,
        plan: SimPlan | None = None,
    ) -> SimJob:
        if plan is None:
            job = self._new_job(
                "failover",
                ("UnplannedFailover", "Failover", "FailoverJobDetails"),
                items[0],
                at,
                lambda: failover_tasks(required),
            )
        else:
            groups = self._plan_groups(plan)
            job = self._new_job(
                "plan-failover",
                ("UnplannedFailover", "Failover", "FailoverJobDetails"),
                items[0],
                at,
                lambda: plan_failover_tasks(groups, required),
                plan,
            )
            job.item_names = tuple(i.name for i in items)
            plan.current_job = job.name
        chosen: dict[str, tuple[str, datetime] | None] = {}
        for item in items:
            if plan is not None and point_type == "LatestTag" and item.group_id:
                group = [m for m in items if m.group_id == item.group_id]
                common = self.common_app_point(group, at)
                point = next(
                    (p for p in self.points(item, at) if p.time == common and p.kind == "ApplicationConsistent"),
                    None,
                )
            else:
                point = self._choose_point(item, at, point_type, point_id)
            chosen[item.name] = (f"{self.item_id(item)}/recoveryPoints/{point.name}", point.time) if point else None
            item.current_job = job.name
            item.frozen_at = at
        job.extra["points"] = chosen
        job.extra["point_type"] = point_type
        self._attach_fault(job, items)
        return job

    def _plan_groups(
        self, plan: SimPlan
    ) -> list[tuple[str, list[tuple[str, str]], list[tuple[str, str]], list[tuple[str, str]]]]:
        """Each group of the plan: its type, its VMs (friendly, item name), its manual start and end actions."""
        return [
            (
                g.group_type,
                [(m.friendly, m.name) for m in (self.find_item(n) for n in g.items) if m is not None],
                [(a.name, a.instructions) for a in g.start_actions if a.kind == "manual"],
                [(a.name, a.instructions) for a in g.end_actions if a.kind == "manual"],
            )
            for g in plan.spec.groups
        ]

    def _start_plan_modernized(
        self, plan: SimPlan, members: list[SimItem], operation: str, body: Mapping[str, Any], now: datetime
    ) -> SimJob:
        """A modernized plan's planned failover, or its cancel (MODERNIZED.md §9). What ASR answers for a plan
        holding classic VMs, and the tasks of both jobs, are UNCONFIRMED (U16): the emulator refuses the first and
        builds the second in the shape of its classic plan jobs."""
        wanted = "PlannedFailover" if operation == "planned-failover" else "CancelFailover"
        classic = [m.friendly for m in members if not m.modernized]
        blocked = [m.friendly for m in members if wanted not in self.allowed_operations(m)]
        if classic or blocked or not members:
            raise ArmError(
                400,
                "BadRequest",
                f"The operation '{wanted}' is not allowed on recovery plan '{plan.name}': "
                f"{', '.join(classic or blocked) or 'it has no items'} "
                f"{'do not replicate with InMageRcmFailback' if classic else 'not in a state that allows it'}.",
                asr_code=CODE_NOT_ALLOWED,
                possible_causes="Some virtual machines of the plan are not in the required state or replication.",
                recommended_action="Bring every virtual machine of the plan to the same stage, then retry.",
            )
        if operation == "planned-failover":
            try:
                point_type = rcm.plan_planned_failover_point_type(body)
            except rcm.BadInput as bad:
                raise _bad_input(str(bad)) from None
            groups = self._plan_groups(plan)
            job = self._new_job(
                "plan-planned-failover",
                rcm.JOB_META["planned-failover"],
                members[0],
                now,
                lambda: plan_failover_tasks(groups, True),  # ASR shuts the Azure VMs down: never skipped
                plan,
            )
            job.extra["point_type"] = point_type
            for item in members:
                item.frozen_at = now
                item.planned_failover_start = now
        else:
            vms = [(m.friendly, m.name) for m in members]
            job = self._new_job(
                "plan-cancel-failover",
                rcm.JOB_META["cancel-failover"],
                members[0],
                now,
                lambda: plan_cancel_tasks(vms),
                plan,
            )
        job.item_names = tuple(m.name for m in members)
        plan.current_job = job.name
        for item in members:
            item.current_job = job.name
        self._attach_fault(job, members)
        return job

    def _start_commit(self, items: list[SimItem], at: datetime, plan: SimPlan | None = None) -> SimJob:
        job: SimJob  # the commit task ids are drawn from the job's own stream when it starts
        if plan is None:
            job = self._new_job(
                "commit", ("CommitFailover", "Commit", "AsrJobDetails"), items[0], at, lambda: commit_tasks(job.new_id)
            )
        else:
            members = [(m.friendly, m.name) for m in items]
            job = self._new_job(
                "plan-commit",
                ("CommitFailover", "Commit", "AsrJobDetails"),
                items[0],
                at,
                lambda: plan_commit_tasks(members),
                plan,
            )
            job.item_names = tuple(i.name for i in items)
            plan.current_job = job.name
        for item in items:
            item.current_job = job.name
        self._attach_fault(job, items)
        return job

    def _start_reprotect(self, item: SimItem, at: datetime) -> SimJob:
        job = self._new_job(
            "reprotect",
            ("SwitchReplicationGroupProtection", "Reprotect", "SwitchProtectionJobDetails"),
            item,
            at,
            reprotect_tasks,
        )
        item.current_job = job.name
        self._attach_fault(job, [item])
        return job

    def _start_modernized(self, item: SimItem, operation: str, at: datetime, point_type: str = "") -> SimJob:
        """A planned failover, its cancel or the reprotect back of a modernized item (MODERNIZED.md §4, §5, §7)."""
        if operation == "planned-failover":
            build = rcm.planned_failover_tasks
        elif operation == "cancel-failover":
            build = rcm.cancel_tasks
        else:
            committed = item.stage == "committed"
            build = lambda: rcm.reprotect_tasks(committed)  # noqa: E731 - the job builds its tasks when it starts
        job = self._new_job(operation, rcm.JOB_META[operation], item, at, build)
        if operation == "planned-failover":
            job.extra["point_type"] = point_type
            item.frozen_at = at
            item.planned_failover_start = at
        item.current_job = job.name
        self._attach_fault(job, [item])
        return job

    def _modernized_operation(self, item: SimItem, operation: str, body: Mapping[str, Any], now: datetime) -> SimJob:
        try:
            if operation == "planned-failover":
                return self._start_modernized(item, operation, now, rcm.planned_failover_point_type(body))
            appliances = self.appliances
            if operation == "reprotect" and item.provider == rcm.FORWARD:
                reach = {key: self.reachable_datastores(spec) for key, spec in appliances.items()}
                agent, datastore = rcm.reprotect_to_avs_input(body, reach, {rcm.FAILBACK_POLICY})
                self._appliance_serves(appliances[agent], "reprotectAgents", "reprotect to AVS")
                item.process_server_id = agent
                item.target_datastore = datastore
                return self._start_modernized(item, operation, now)
            if operation == "reprotect":
                server, _policy = rcm.reprotect_to_azure_input(body, set(appliances), {rcm.FORWARD_POLICY})
                self._appliance_serves(appliances[server], "processServers", "reprotect to Azure")
                item.process_server_id = server
                return self._start_modernized(item, operation, now)
        except rcm.BadInput as bad:
            raise _bad_input(str(bad), bad.code) from None
        if operation == "commit":
            return self._start_commit([item], now)
        return self._start_modernized(item, operation, now)  # the cancel: no body (a body is ignored)

    # -- the replication appliances of a modernized vault ------------------------------------------------

    def reachable_datastores(self, appliance: ProcessServerSpec) -> set[str]:
        """The datastores the appliance's reprotect agent reaches (accessibleDatastores); without a list of its
        own, the master targets' datastores stand in (the older scenarios' assumption, U12)."""
        if appliance.datastores:
            return set(appliance.datastores)
        return {d.name for f in self.scenario.fabrics for m in f.master_targets for d in m.datastores}

    def failback_datastore(self, item: SimItem) -> str:
        """targetDataStoreName of a failback-leg item: the one its reprotect named, else its appliance's first."""
        spec = self.appliances.get(item.process_server_id.upper())
        if item.target_datastore or spec is None:
            return item.target_datastore
        return spec.datastores[0] if spec.datastores else min(self.reachable_datastores(spec), default="")

    def appliance_fault(self, appliance: ProcessServerSpec, component: str) -> str:
        """Why the appliance cannot serve a step (U11): its component Critical, or its heartbeat older than the
        setting; "" when it can."""
        health = dict(appliance.components).get(component, appliance.health)
        if health == "Critical":
            return f"the replication appliance '{appliance.name}' reports its {APPLIANCE_ROLES[component]} Critical"
        stale = timedelta(minutes=self.settings.rcm_appliance_stale_minutes)
        age = timedelta(seconds=appliance.heartbeat_age)  # the fabric always reports the heartbeat this old
        if age > stale:
            minutes = int(age.total_seconds() // 60)
            return f"the replication appliance '{appliance.name}' has sent no heartbeat for {minutes} minutes"
        return ""

    def _appliance_serves(self, appliance: ProcessServerSpec, component: str, step: str) -> None:
        """A request naming an appliance that cannot serve it is refused at once (400, 28064; U11)."""
        fault = self.appliance_fault(appliance, component)
        if fault:
            raise ArmError(
                400,
                "BadRequest",
                f"The {step} cannot start: {fault}.",
                asr_code=str(rcm.CODE_APPLIANCE_REFUSED),
                possible_causes="The replication appliance's services are stopped, or it cannot reach Azure.",
                recommended_action="Check the appliance's services and its connection to Azure, or choose another "
                "appliance, then retry.",
            )

    def start_item_operation(self, item: SimItem, operation: str, body: Mapping[str, Any], now: datetime) -> SimJob:
        """Validate like ASR does and start the job; raises ArmError (409 busy, 400 not allowed/bad input)."""
        self.check_idle(item, now)
        asr_op = {
            "failover": "UnplannedFailover",
            "commit": "Commit",
            "reprotect": "SwitchProtection" if item.modernized else "ReverseReplicate",
            "planned-failover": "PlannedFailover",
            "cancel-failover": "CancelFailover",
        }[operation]
        allowed = self.allowed_operations(item)
        # A classic item answers only the classic verbs: its PlannedFailover (forward leg) is not this one.
        classic_refused = not item.modernized and operation in ("planned-failover", "cancel-failover")
        if asr_op not in allowed or classic_refused:
            raise ArmError(
                400,
                "BadRequest",
                f"The operation '{asr_op}' is not allowed on the replicated item '{item.friendly}' in its current "
                f"state '{self.protection_state(item)[1]}'. Allowed operations: {', '.join(allowed) or 'none'}.",
                asr_code=CODE_NOT_ALLOWED,
                possible_causes="The replicated item is not in a state where this operation applies.",
                recommended_action="Refresh the item and run an operation from its allowed operations.",
            )
        if item.modernized:
            return self._modernized_operation(item, operation, body, now)
        props = body.get("properties") if isinstance(body, Mapping) else None
        if operation == "failover":
            details = _details(props, item.provider, "failover")
            direction = (props or {}).get("failoverDirection", "PrimaryToRecovery")
            if direction != "PrimaryToRecovery":
                raise _bad_input(
                    f"failoverDirection must be 'PrimaryToRecovery' for an InMage item, not {direction!r}."
                )
            ssop = (props or {}).get("sourceSiteOperations", "NotRequired")
            if ssop not in ("Required", "NotRequired"):
                raise _bad_input(f"sourceSiteOperations must be 'Required' or 'NotRequired', not {ssop!r}.")
            kind = details.get("recoveryPointType", "LatestTime")
            if kind not in ("LatestTime", "LatestTag", "Custom"):
                raise _bad_input(f"recoveryPointType must be LatestTime, LatestTag or Custom, not {kind!r}.")
            point_id = details.get("recoveryPointId")
            if kind == "Custom" and self._choose_point(item, now, "Custom", point_id) is None:
                raise _bad_input(f"The recovery point {point_id!r} does not exist for '{item.friendly}'.")
            return self._start_failover([item], now, kind, point_id, ssop == "Required")
        if operation == "commit":
            return self._start_commit([item], now)
        details = _details(props, "InMageAzureV2", "reprotect")
        ps_ids = {self.host_id("ps", s.name) for f in self.scenario.fabrics for s in f.process_servers}
        mt_ids = {self.host_id("mt", m.name) for f in self.scenario.fabrics for m in f.master_targets}
        for key, known in (("processServerId", ps_ids), ("masterTargetId", mt_ids)):
            value = str(details.get(key) or "")
            if not value:
                raise _bad_input(f"providerSpecificDetails.{key} is required for reprotect.")
            if value.upper() not in known:
                raise _bad_input(f"providerSpecificDetails.{key} {value!r} is not a server of this vault's fabrics.")
        policy = str(details.get("policyId") or "")
        if not policy:
            raise _bad_input("providerSpecificDetails.policyId is required for reprotect.")
        if policy.rstrip("/").rsplit("/", 1)[-1].lower() != FORWARD_POLICY:
            raise _bad_input(
                f"providerSpecificDetails.policyId {policy!r} is not an AVS to Azure (InMageAzureV2) replication "
                f"policy of this vault (it has '{FORWARD_POLICY}')."
            )
        item.process_server_id = str(details["processServerId"]).upper()
        return self._start_reprotect(item, now)

    def start_plan_operation(self, plan: SimPlan, operation: str, body: Mapping[str, Any], now: datetime) -> SimJob:
        members = self.plan_members(plan)
        if plan.current_job and self.jobs[plan.current_job.lower()].running:
            raise _busy(f"recovery plan '{plan.name}'", plan.current_job)
        for member in members:
            self.check_idle(member, now)
        if operation == "reprotect":
            job = self._new_job(
                "plan-reprotect",
                ("SwitchProtection", "Reprotect", "AsrJobDetails"),
                members[0] if members else None,
                now,
                plan_reprotect_tasks,
                plan,
            )
            plan.current_job = job.name
            return job
        if operation in ("planned-failover", "cancel-failover"):
            return self._start_plan_modernized(plan, members, operation, body, now)
        wanted = "UnplannedFailover" if operation == "failover" else "Commit"
        blocked = [m.friendly for m in members if wanted not in self.allowed_operations(m)]
        if blocked or not members:
            raise ArmError(
                400,
                "BadRequest",
                f"The operation '{wanted}' is not allowed on recovery plan '{plan.name}': "
                f"{', '.join(blocked) or 'it has no items'} not in a state that allows it.",
                asr_code=CODE_NOT_ALLOWED,
                possible_causes="Some virtual machines of the plan are not in the required state.",
                recommended_action="Bring every virtual machine of the plan to the same stage, then retry.",
            )
        if operation == "commit":
            return self._start_commit(members, now, plan)
        props = body.get("properties") if isinstance(body, Mapping) else None
        if not isinstance(props, Mapping):
            raise _bad_input("The request body needs 'properties'.")
        entries = props.get("providerSpecificDetails") or []
        if not isinstance(entries, list):
            raise _bad_input("For a recovery plan, providerSpecificDetails is a list (one entry per provider).")
        entry = next((e for e in entries if isinstance(e, Mapping) and e.get("instanceType") == "InMage"), {})
        kind = entry.get("recoveryPointType", "LatestTime")
        if kind not in ("LatestTime", "LatestTag"):
            # A plan has no single point to name: ASR offers latest or latest app-consistent for plans.
            raise _bad_input(f"recoveryPointType for a recovery plan must be LatestTime or LatestTag, not {kind!r}.")
        direction = props.get("failoverDirection", "RecoveryToPrimary")
        if direction not in ("RecoveryToPrimary", "PrimaryToRecovery"):
            raise _bad_input(f"failoverDirection {direction!r} is not a direction.")
        required = props.get("sourceSiteOperations", "NotRequired") == "Required"
        return self._start_failover(members, now, kind, None, required, plan)

    def check_idle(self, item: SimItem, now: datetime) -> None:
        if item.current_job:
            job = self.jobs.get(item.current_job.lower())
            if job is not None and job.running:
                raise _busy(f"replicated item '{item.friendly}'", job.name)

    def act_as_other_operator(self, item: SimItem, operation: str, at: datetime) -> SimJob:
        body: dict[str, Any] = {}
        if operation == "failover":
            body = {
                "properties": {
                    "failoverDirection": "PrimaryToRecovery",
                    "sourceSiteOperations": "NotRequired",
                    "providerSpecificDetails": {"instanceType": item.provider, "recoveryPointType": "LatestTime"},
                }
            }
        elif operation == "reprotect":
            ps = next(s for f in self.scenario.fabrics for s in f.process_servers)
            mt = next(m for f in self.scenario.fabrics for m in f.master_targets)
            body = {
                "properties": {
                    "failoverDirection": "RecoveryToPrimary",
                    "providerSpecificDetails": {
                        "instanceType": "InMageAzureV2",
                        "processServerId": self.host_id("ps", ps.name),
                        "masterTargetId": self.host_id("mt", mt.name),
                        "policyId": f"{self.prefix}/replicationPolicies/avs-to-azure",
                    },
                }
            }
        job = self.start_item_operation(item, operation, body, at)
        job.extra["by"] = "another operator"
        return job

    # -- job actions --------------------------------------------------------------------------------------

    def cancel_job(self, job: SimJob, now: datetime) -> None:
        if not job.running:
            raise _bad_job(job, "Cancel")
        for task in job.tasks:
            if task.child_job:
                child = self.jobs.get(task.child_job.lower())
                if child is not None and child.running:
                    child.cancel(now)
        job.cancel(now)
        self._finish(job)

    def restart_job(self, job: SimJob, now: datetime) -> None:
        if job.state not in ("Failed", "Cancelled") or job.operation in ("history", "enable-dr"):
            raise _bad_job(job, "Restart")
        items = [self.items[n.lower()] for n in job.item_names if n.lower() in self.items]
        for item in items:
            self.check_idle(item, now)
        job.reset(now)
        job.injected_failure = None
        for item in items:
            item.current_job = job.name
            if job.operation in ("failover", "plan-failover", "planned-failover", "plan-planned-failover"):
                item.frozen_at = now
        if job.plan_name:
            self.plans[job.plan_name.lower()].current_job = job.name

    def resume_job(self, job: SimJob, now: datetime) -> None:
        if job.state != "Suspended":
            raise _bad_job(job, "Resume")
        task = job.tasks[job.index]
        task.resumed_at = now
        job.state = job.state_description = "InProgress"

    # -- the passage of time ------------------------------------------------------------------------------

    def advance(self, now: datetime) -> None:
        for key in list(self._in_initial):
            item = self.items.get(key)
            if item is not None and item.ir_until is not None and now < item.ir_until:
                continue
            if item is not None:  # its initial replication ended: the item's shape changes with it
                item.ir_started = item.ir_until = None
            self._in_initial.discard(key)
        for when, fault in self.faults.take_due(now, self.started):
            item = self.find_item(fault.item)
            if item is None:
                continue
            if fault.kind == fk.ITEM_DELETED:
                del self.items[item.name.lower()]
            elif fault.kind == fk.OTHER_OPERATOR:
                try:
                    self.act_as_other_operator(item, fault.operation, when)
                except ArmError:
                    pass  # the other operator's attempt was refused as any would be; nothing changes
        for job in sorted(self.jobs.values(), key=lambda j: j.created):
            if job.running and job.operation != "enable-dr":
                try:
                    self._advance_job(job, now)
                except Exception as exc:  # a simulation bug ends that job, visibly; it must not wedge the vault
                    self._fault_job(job, exc, now)

    def _fault_job(self, job: SimJob, exc: Exception, now: datetime) -> None:
        if not job.tasks:
            job.begin()
        task = job.tasks[min(job.index, len(job.tasks) - 1)]
        error = _error("EmulatorFault", 0, f"The emulator could not simulate this job: {type(exc).__name__}: {exc}")
        job.fail(task, error, job.cursor or now)
        self._finish(job)

    def _advance_job(self, job: SimJob, now: datetime) -> None:
        if job.state == "NotStarted":
            if now < job.created + timedelta(seconds=5):
                return
            job.begin()
        while job.index < len(job.tasks) and job.state == "InProgress":
            task = job.tasks[job.index]
            assert job.cursor is not None
            if task.start is None:
                task.start = job.cursor
                task.state = task.state_description = "InProgress"
                if task.skipped:
                    task.state, task.state_description, task.start = "Other", "Skipped", None
                    for child in task.children:
                        child.state, child.state_description = "Other", "Skipped"
                    job.index += 1
                    continue
                for child in task.children:
                    child.start = task.start
                    child.state = child.state_description = "InProgress"
                if task.child_kind:
                    task.child_job = self._spawn_child(job, task.start).name
            if task.manual:
                if task.resumed_at is None:
                    task.state_description = "WaitingForManualAction"
                    job.state, job.state_description = "Suspended", "Suspended"
                    return
                end = task.resumed_at
            elif task.child_job:
                child_job = self.jobs[task.child_job.lower()]
                self._advance_job(child_job, now)
                if child_job.running:
                    return
                end = child_job.end or now
                if child_job.state != "Succeeded":
                    # A cancelled child job has no error of its own (UNCONFIRMED what ASR reports then)
                    child_error = (
                        child_job.errors[0][1]
                        if child_job.errors
                        else _error(
                            "EnableDr",
                            0,
                            f"Enable replication (job {child_job.name}) ended {child_job.state}.",
                            "The child job was cancelled, or ended without completing.",
                            "Restart the reprotect job.",
                        )
                    )
                    job.fail(task, child_error, end)
                    self._finish(job)
                    return
            else:
                end = task.start + timedelta(seconds=task.duration)
                for child in task.children:
                    if child.state == "InProgress" and (child.start or end) + timedelta(seconds=child.duration) <= now:
                        child.state, child.state_description = "Succeeded", "Completed"
                        child.end = (child.start or end) + timedelta(seconds=child.duration)
                if end > now:
                    return
            error = self._check_task(job, task, end)
            if error is not None:
                job.fail(task, error, end)
                self._finish(job)
                return
            task.state, task.state_description, task.end = "Succeeded", "Completed", end
            for child in task.children:
                if child.state != "Succeeded":
                    child.state, child.state_description, child.end = "Succeeded", "Completed", end
            job.cursor = end
            job.index += 1
        if job.state == "InProgress":
            job.state, job.state_description, job.end = "Succeeded", "Completed", job.cursor
            self._finish(job)

    def _spawn_child(self, parent: SimJob, at: datetime) -> SimJob:
        item = self.items.get(parent.item_names[0].lower()) if parent.item_names else None
        child = self._new_job(
            "enable-dr", ("EnableDr", "Enable replication", "AsrJobDetails"), item, at, enable_dr_tasks
        )
        child.target_instance_type = "Vm"
        child.extra["parent"] = parent.name
        child.injected_failure = parent.injected_failure
        return child

    def _check_task(self, job: SimJob, task: SimTask, at: datetime) -> TaskError | None:
        fault = job.injected_failure
        if fault is not None:
            names = {task.name.lower(), task.friendly_name.lower(), task.task_id.lower()}
            names |= {c.name.lower() for c in task.children}
            if fault.task.lower() in names:
                return TaskError(
                    str(fault.error_code or 0),
                    fault.error_message or f"The task '{task.friendly_name}' failed.",
                    fault.error_code,
                    fault.error_message or f"The task '{task.friendly_name}' failed.",
                    fault.possible_causes,
                    fault.recommended_action,
                )
        items = [self.items[n.lower()] for n in job.item_names if n.lower() in self.items]
        # Only a failover that chose its points checks them (a planned failover makes its point when it starts).
        if "points" in job.extra and task.task_id in (
            "UnplannedFailoverPreflightChecksTask",
            "RecoveryPlanPrerequisiteCheckTask",
        ):
            points = job.extra.get("points", {})
            missing = [i.friendly for i in items if points.get(i.name) is None]
            if missing and job.extra.get("point_type") == "LatestTag" and job.plan_name:
                return _error(
                    CODE_NO_COMMON_POINT,
                    0,
                    f"No application-consistent recovery point is common to all virtual machines of the multi-VM "
                    f"group ({', '.join(missing)}).",
                    "The virtual machines of the replication group have no application-consistent point in common.",
                    "Fail over to the latest (crash-consistent) point, or wait for the next common "
                    "application-consistent point.",
                )
            if missing:
                return _error(
                    CODE_NO_POINT,
                    0,
                    f"No recovery point is available for {', '.join(missing)}.",
                    "Replication has not produced a recovery point yet.",
                    "Wait until the virtual machine has at least one recovery point, then retry the failover.",
                )
        planned = job.operation in ("planned-failover", "plan-planned-failover")
        if planned and task.task_id in ("PlannedFailoverPreflightChecksTask", "RecoveryPlanPrerequisiteCheckTask"):
            # an appliance that cannot receive the VM's data fails the planned failover before anything moves (U11)
            appliances = self.appliances
            faults = [
                f"{i.friendly}: {fault}"
                for i in items
                if i.process_server_id.upper() in appliances
                and (fault := self.appliance_fault(appliances[i.process_server_id.upper()], "reprotectAgents"))
            ]
            if faults:
                code = rcm.CODE_APPLIANCE_PFO
                return TaskError(
                    str(code),
                    "The replication appliance cannot take part in the planned failover.",
                    code,
                    "; ".join(faults) + ".",
                    "The appliance's services are stopped, unhealthy, or it has lost its connection to Azure.",
                    "Bring the appliance back to health (its services and its connection to Azure), then retry the "
                    "planned failover; the Azure VM keeps running meanwhile.",
                )
        if task.task_id == "SwitchReplicationGroupProtectionPreflightTask" and items and items[0].modernized:
            if self.agent_registered(items[0], at) is False:
                message, provider_message, causes, action = rcm.agent_error_text(items[0].friendly)
                return TaskError(str(rcm.CODE_AGENT), message, rcm.CODE_AGENT, provider_message, causes, action)
            return None
        if task.task_id == "SwitchReplicationGroupProtectionPreflightTask" and items:
            finished = items[0].failover_finished
            window = timedelta(minutes=self.settings.agent_window_minutes)
            if finished is not None and at - finished < window:
                code = self.settings.agent_error_code
                return TaskError(
                    str(code),
                    "The Mobility service agent isn't installed on the virtual machine or hasn't registered with "
                    "the configuration server yet.",
                    code,
                    f"The Mobility service agent on '{items[0].friendly}' isn't installed or hasn't registered with "
                    "the configuration server yet.",
                    "After a failback the virtual machine boots in Azure VMware Solution and its Mobility service "
                    "agent takes up to 15 minutes to register back with the configuration server.",
                    "Wait a few minutes for the agent to register, then retry the reprotect.",
                )
        if task.task_id == "RecoveryPlanReprotectPrerequisiteCheckTask":
            return _error(
                CODE_PLAN_REPROTECT,
                0,
                "Reprotect of a recovery plan isn't supported for VMware virtual machines replicated with the "
                "InMage provider.",
                "Recovery plan reprotect is only available for deprecated scenarios.",
                "Reprotect each virtual machine of the plan individually.",
            )
        return None

    def _finish(self, job: SimJob) -> None:
        """A job just ended: move its items (success) or roll them back (failure, cancel)."""
        items = [self.items[n.lower()] for n in job.item_names if n.lower() in self.items]
        ok = job.state == "Succeeded"
        end = job.end
        if job.operation in ("cancel-failover", "plan-cancel-failover") and not ok:
            pass  # a failed or cancelled cancel leaves the planned failover as it was
        if job.operation in ("planned-failover", "plan-planned-failover"):
            for item in items:
                item.planned_failover_status = "Succeeded" if ok else "Failed"
                if ok:
                    item.stage = "failed-over"
                    item.failover_finished = item.last_failover_time = item.planned_failover_start
                    item.extra_agent_from = end
                else:
                    # ASR cancels a failed planned failover by itself (MODERNIZED.md §5); the emulator rolls the
                    # item straight back without a job of its own (U9 simplified).
                    item.frozen_at = None
        elif job.operation in ("cancel-failover", "plan-cancel-failover") and ok:
            for item in items:
                item.stage = "ready"
                item.frozen_at = None
        elif job.operation == "reprotect" and ok and items and items[0].modernized:
            for item in items:
                # to AVS the item turns InMageRcmFailback, to Azure InMageRcm; each leg then runs its initial
                # replication for the setting's minutes (U5, U6) before the next step is offered
                back = item.provider == rcm.FORWARD
                item.stage = "ready" if back else "protected-to-azure"
                item.provider = rcm.FAILBACK if back else rcm.FORWARD
                item.repl_start = end
                item.frozen_at = None
                item.failover_finished = item.last_failover_time = item.extra_agent_from = None
                minutes = self.settings.rcm_failback_ir_minutes if back else self.settings.rcm_forward_ir_minutes
                if minutes > 0 and end is not None:
                    item.ir_started, item.ir_until = end, end + timedelta(minutes=minutes)
                    self._in_initial.add(item.name.lower())
        elif job.operation in ("failover", "plan-failover"):
            points = job.extra.get("points", {})
            for item in items:
                if ok:
                    item.stage = "failed-over"
                    item.failover_finished = item.last_failover_time = end
                    chosen = points.get(item.name)
                    item.failover_point_id = chosen[0] if chosen else ""
                else:
                    item.frozen_at = None
        elif job.operation in ("commit", "plan-commit") and ok:
            for item in items:
                item.stage = "committed"
        elif job.operation == "reprotect" and ok:
            for item in items:
                item.stage = "protected-to-azure"
                item.provider = "InMageAzureV2"
                item.repl_start = end
                item.frozen_at = None
                item.failover_point_id = ""
            job.extra["new_item_id"] = self.item_id(items[0]) if items else ""
        for item in items:
            if item.current_job == job.name:
                item.current_job = ""
        if job.plan_name:
            plan = self.plans.get(job.plan_name.lower())
            if plan is not None and plan.current_job == job.name:
                plan.current_job = ""
                plan.last_status = job.state
                if ok and job.operation in ("plan-failover", "plan-planned-failover"):
                    plan.last_failover_time = end

    # -- derived item state --------------------------------------------------------------------------------

    def agent_registered(self, item: SimItem, now: datetime) -> bool | None:
        """isAgentRegistrationSuccessfulAfterFailover of a modernized item (U7)."""
        return rcm.agent_registered(
            item.extra_agent_from or item.failover_finished,
            now,
            self.settings.rcm_agent_minutes,
            False,
        )

    def in_initial_replication(self, item: SimItem) -> bool:
        """Whether a modernized item is in its initial replication: after a reprotect, until `ir_until` (U5, U6;
        `advance` ends it), or for good when the scenario says so."""
        if item.ir_until is not None:
            return True
        return (
            item.provider == rcm.FAILBACK and item.stage == "not-ready" and item.spec.not_ready == "initial-replication"
        )

    def ir_percent(self, item: SimItem, now: datetime) -> int:
        """initialReplicationProgressPercentage (an integer on both modernized legs, SDK lines 16372 and 17516)."""
        if item.ir_until is not None and item.ir_started is not None:
            whole = (item.ir_until - item.ir_started).total_seconds()
            done = (now - item.ir_started).total_seconds()
            return max(0, min(99, int(100 * done / whole))) if whole > 0 else 99
        return 37 if self.in_initial_replication(item) else 100

    def protection_state(self, item: SimItem) -> tuple[str, str]:
        if item.modernized:
            return rcm.protection_state(item.stage, item.provider, self.in_initial_replication(item))
        if item.stage == "failed-over":
            return "UnplannedFailoverCommitPendingStatesBegin", "Failover completed"
        if item.stage == "committed":
            return "UnplannedFailoverCommittedStatesBegin", "Failover committed"
        if item.stage == "not-ready" and item.spec.not_ready == "initial-replication":
            return "UnprotectedStatesBegin", "Enabling protection"
        return "Protected", "Protected"

    def allowed_operations(self, item: SimItem) -> list[str]:
        if item.current_job:
            job = self.jobs.get(item.current_job.lower())
            if job is not None and job.running:
                return []
        if item.modernized:
            return rcm.allowed_operations(item.stage, item.provider, self.in_initial_replication(item))
        if item.stage == "ready":
            return ["UnplannedFailover", "DisableProtection"]
        if item.stage == "failed-over":
            return ["Commit", "DisableProtection", "ChangePit"]
        if item.stage == "committed":
            return ["ReverseReplicate", "DisableProtection"]
        if item.stage == "protected-to-azure":
            return ["PlannedFailover", "UnplannedFailover", "TestFailover", "DisableProtection"]
        if item.spec.not_ready == "no-recovery-point":
            return ["UnplannedFailover", "DisableProtection"]
        return ["DisableProtection"]

    def plan_allowed_operations(self, plan: SimPlan) -> list[str]:
        members = self.plan_members(plan)
        if not members or (plan.current_job and self.jobs[plan.current_job.lower()].running):
            return []
        ops = [set(self.allowed_operations(m)) for m in members]
        common = set.intersection(*ops)
        wanted = (
            ("PlannedFailover", "CancelFailover", "Commit")
            if all(m.modernized for m in members)
            else (
                "UnplannedFailover",
                "Commit",
                "ChangePit",
            )
        )
        out: list[str] = [op for op in wanted if op in common]
        return out


def _point_name(stamp: float, app: bool) -> str:
    # Numeric names, like ASR's; the last digit keeps an app and a crash point at the same second apart.
    return f"{int(stamp) * 10 + (1 if app else 0)}"


def _details(props: Any, instance_type: str, what: str) -> Mapping[str, Any]:
    if not isinstance(props, Mapping):
        raise _bad_input(f"The {what} request body needs 'properties'.")
    details = props.get("providerSpecificDetails")
    if not isinstance(details, Mapping):
        raise _bad_input(f"properties.providerSpecificDetails is required for {what}.")
    given = details.get("instanceType")
    if given != instance_type:
        raise _bad_input(
            f"providerSpecificDetails.instanceType must be {instance_type!r} for this {what}, not {given!r}."
        )
    return details


def _bad_input(message: str, code: int = 0) -> ArmError:
    return ArmError(
        400,
        "InvalidRequestContent" if "body" in message else "BadRequest",
        message,
        asr_code=str(code) if code else CODE_BAD_INPUT,
        possible_causes="The request input is not valid for this replicated item.",
        recommended_action="Correct the input and retry.",
    )


def _busy(what: str, job_name: str) -> ArmError:
    return ArmError(
        409,
        "OperationInProgress",
        f"Another operation is in progress on the {what} (job {job_name}).",
        asr_code=CODE_IN_PROGRESS,
        possible_causes="A job is already running on this object; only one operation at a time is allowed.",
        recommended_action="Wait for the running job to finish (or track it), then retry.",
    )


def _bad_job(job: SimJob, action: str) -> ArmError:
    return ArmError(
        400,
        "BadRequest",
        f"The action '{action}' is not allowed on job '{job.name}' in state '{job.state}'. "
        f"Allowed actions: {', '.join(job.allowed_actions) or 'none'}.",
        asr_code=CODE_NOT_ALLOWED,
        possible_causes="The job is not in a state where this action applies.",
        recommended_action="Refresh the job and use one of its allowed actions.",
    )


def _error(service_code: str, provider_code: int, message: str, causes: str = "", action: str = "") -> TaskError:
    code = provider_code or (int(service_code) if service_code.isdigit() else 0)
    return TaskError(service_code, message, code, message, causes, action)
