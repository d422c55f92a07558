"""A small in-memory Backend for CLI tests: items move through the failback stages as its jobs end."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta

from core.clock import ManualClock  # noqa: E402
from core.errors import NotFound, ReadOnlyError  # noqa: E402
from core.model import (  # noqa: E402
    ErrorDetail,
    Fabric,
    Job,
    JobFilter,
    JobState,
    JobTask,
    MasterTarget,
    OperationHandle,
    PointChoice,
    PointKind,
    ProcessServer,
    ProtectedItem,
    RecoveryPlan,
    RecoveryPoint,
    ReprotectTarget,
    RunAsAccount,
    VaultRef,
)
from core.providers import ActionRequest, Verb
from tests.core.itemfactory import NOW, VAULT_ID, committed_item, failed_over_item, point, ready_item

JOB_SECONDS = 120.0
AGENT_ERROR = ErrorDetail(
    code="95120",
    message="Protection couldn't be enabled.",
    provider_error_code="95120",
    provider_message="The Mobility service agent isn't installed on the virtual machine.",
    possible_causes="The agent has not registered with the configuration server yet.",
    recommended_action="Wait up to 15 minutes after the VM starts, then retry.",
    activity_id="act-1",
)


class FakeVault:
    def __init__(self, clock: ManualClock | None = None, *, agent_failures: int = 0) -> None:
        self.clock = clock or ManualClock(NOW)
        self.vault = VaultRef.parse(VAULT_ID)
        self.read_only = False
        self.simulated = True
        self.sent: list[tuple[str, str, object]] = []
        self.agent_failures = agent_failures
        self.items: dict[str, ProtectedItem] = {}
        for item in (
            ready_item("rpi-web01", "web01"),
            ready_item("rpi-app01", "app01", last_recovery_point_time=None),
            failed_over_item(id=ready_item("rpi-db01").id, name="rpi-db01", friendly_name="db01"),
            committed_item(id=ready_item("rpi-file01").id, name="rpi-file01", friendly_name="file01"),
            ready_item(
                "rpi-sql1", "sql1", multi_vm_group_name="sql-tier", multi_vm_group_id="g1", recovery_plans=("rp-sql",)
            ),
            ready_item("rpi-sql2", "sql2", multi_vm_group_name="sql-tier", multi_vm_group_id="g1"),
        ):
            self.items[item.id] = item
        common = NOW - timedelta(minutes=30)
        self.points: dict[str, list[RecoveryPoint]] = {
            "rpi-web01": [
                point(38 / 60, PointKind.CRASH_CONSISTENT, "rp-latest"),
                point(53, PointKind.APP_CONSISTENT, "rp-app"),
            ],
            "rpi-sql1": [
                point(1, PointKind.CRASH_CONSISTENT, "s1-c"),
                RecoveryPoint("s1a", "s1a", common, PointKind.APP_CONSISTENT),
            ],
            "rpi-sql2": [
                point(2, PointKind.CRASH_CONSISTENT, "s2-c"),
                RecoveryPoint("s2a", "s2a", common, PointKind.APP_CONSISTENT),
            ],
        }
        self.jobs: dict[str, tuple[Job, datetime, str]] = {}
        self.fabrics = [
            Fabric(
                id="/x/replicationFabrics/fab-vmware",
                name="fab-vmware",
                friendly_name="cs-avs",
                instance_type="VMware",
                process_servers=(
                    ProcessServer("ps-1", "ps-azure-01", "10.0.0.4", "Normal"),
                    ProcessServer("ps-guid-2", "ps-azure-02", "10.0.0.5", "Warning"),
                ),
                master_targets=(MasterTarget("mt-1", "mt-avs-01"),),
                run_as_accounts=(RunAsAccount("2", "vcenter-admin"),),
            )
        ]

    # -- reads
    def now(self) -> datetime:
        return self.clock.now()

    def iter_item_pages(self, filter: str | None = None) -> Iterator[list[ProtectedItem]]:
        values = list(self.items.values())
        yield values[:3]
        yield values[3:]

    def get_item(self, item_id: str) -> ProtectedItem:
        try:
            return self.items[item_id]
        except KeyError:
            raise NotFound(f"no item {item_id}") from None

    def list_recovery_points(self, item: ProtectedItem) -> list[RecoveryPoint]:
        return list(self.points.get(item.name, []))

    def list_fabrics(self) -> list[Fabric]:
        return list(self.fabrics)

    def list_plans(self) -> list[RecoveryPlan]:
        return []

    def get_plan(self, name: str) -> RecoveryPlan:
        raise NotFound(name)

    def list_jobs(self, job_filter: JobFilter | None = None) -> list[Job]:
        jobs = [self.get_job(name) for name in self.jobs]
        if job_filter and job_filter.states:
            jobs = [j for j in jobs if j.state.value in job_filter.states]
        return jobs

    def get_job(self, name: str) -> Job:
        if name not in self.jobs:
            raise NotFound(f"No job named {name}.")
        job, started, outcome = self.jobs[name]
        elapsed = (self.clock.now() - started).total_seconds()
        if outcome == "cancelled":
            return replace(job, state=JobState.CANCELLED, state_description="Cancelled", allowed_actions=("Restart",))
        if elapsed < JOB_SECONDS:
            task = JobTask("t1", "Task", "Prerequisites check", JobState.IN_PROGRESS, "InProgress", start_time=started)
            return replace(
                job,
                state=JobState.IN_PROGRESS,
                state_description="InProgress",
                tasks=(task,),
                allowed_actions=("Cancel",),
            )
        end = started + timedelta(seconds=JOB_SECONDS)
        if outcome == "agent":
            task = JobTask(
                "t1", "Task", "Prerequisites check", JobState.FAILED, "Failed", started, end, errors=(AGENT_ERROR,)
            )
            return replace(
                job,
                state=JobState.FAILED,
                state_description="Failed",
                tasks=(task,),
                end_time=end,
                allowed_actions=("Restart",),
            )
        self._complete(job)
        done = JobTask("t1", "Task", "Prerequisites check", JobState.SUCCEEDED, "Completed", started, end)
        return replace(job, state=JobState.SUCCEEDED, state_description="Completed", tasks=(done,), end_time=end)

    # -- operations
    def _start(self, op: str, item: ProtectedItem, payload: object, outcome: str = "ok") -> OperationHandle:
        if self.read_only:
            raise ReadOnlyError(f"Read-only mode: the {op} was not sent.")
        name = f"job-{len(self.jobs) + 1:03d}"
        self.sent.append((op, item.name, payload))
        job = Job(
            id=f"{VAULT_ID}/replicationJobs/{name}",
            name=name,
            scenario_name=op,
            friendly_name=op.capitalize(),
            state=JobState.NOT_STARTED,
            state_description="NotStarted",
            start_time=self.clock.now(),
            target_object_id=item.id,
            target_object_name=item.friendly_name,
        )
        self.jobs[name] = (job, self.clock.now(), outcome)
        return OperationHandle(op, name, item.id, item.friendly_name)

    def _complete(self, job: Job) -> None:
        item = self.items[job.target_object_id]
        if job.scenario_name == "failover" and item.protection_state == "Protected":
            self.items[item.id] = failed_over_item(id=item.id, name=item.name, friendly_name=item.friendly_name)
        elif job.scenario_name == "commit" and item.allows("Commit"):
            self.items[item.id] = committed_item(id=item.id, name=item.name, friendly_name=item.friendly_name)
        elif job.scenario_name == "reprotect" and item.allows("ReverseReplicate"):
            self.items[item.id] = replace(
                item,
                instance_type="InMageAzureV2",
                protection_state="Protected",
                allowed_operations=("PlannedFailover",),
                active_location="Primary",
            )

    def unplanned_failover(
        self, item: ProtectedItem, choice: PointChoice, recovery_point_id: str = ""
    ) -> OperationHandle:
        return self._start("failover", item, (choice, recovery_point_id))

    def commit(self, item: ProtectedItem) -> OperationHandle:
        return self._start("commit", item, None)

    def reprotect(self, item: ProtectedItem, target: ReprotectTarget) -> OperationHandle:
        outcome = "ok"
        if self.agent_failures > 0:
            self.agent_failures -= 1
            outcome = "agent"
        return self._start("reprotect", item, target, outcome)

    def start_item_action(self, item: ProtectedItem, request: ActionRequest) -> OperationHandle:
        """The classic verbs the fake vault answers, recorded as their named methods record them."""
        if request.verb is Verb.FAILOVER:
            assert request.choice is not None
            return self.unplanned_failover(item, request.choice, request.recovery_point_id)
        if request.verb is Verb.COMMIT:
            return self.commit(item)
        assert isinstance(request.target, ReprotectTarget), request
        return self.reprotect(item, request.target)

    def cancel_job(self, name: str) -> OperationHandle:
        job, started, _ = self.jobs[name]
        self.sent.append(("cancel", name, None))
        self.jobs[name] = (job, started, "cancelled")
        return OperationHandle("cancel", name, job.target_object_id, job.target_object_name)

    def restart_job(self, name: str) -> OperationHandle:
        job, _, _ = self.jobs[name]
        self.sent.append(("restart", name, None))
        self.jobs[name] = (job, self.clock.now(), "ok")
        return OperationHandle("restart", name, job.target_object_id, job.target_object_name)

    def resume_job(self, name: str, comment: str = "") -> OperationHandle:
        raise NotImplementedError
