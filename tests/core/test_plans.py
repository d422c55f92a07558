"""Plan-level failback: the plan view, its guards, the point summary, manual actions, lookup and PlanReprotect."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from core.clock import ManualClock
from core.errors import (
    AuthenticationError,
    ConnectionLost,
    JobFailed,
    NotFound,
    ReadOnlyError,
    ServiceError,
    Throttled,
    UsageError,
)
from core.failback import AGENT_REGISTRATION_WINDOW
from core.model import (
    ErrorDetail,
    Job,
    JobFilter,
    JobState,
    OperationHandle,
    PlanAction,
    PlanGroup,
    PointKind,
    ProtectedItem,
    RecoveryPlan,
    ReprotectTarget,
    Stage,
)
from core.plans import (
    AGENT_WINDOW_MARGIN,
    MemberState,
    PlanReprotect,
    can_commit_plan,
    can_fail_over_plan,
    manual_actions,
    members_to_reprotect,
    plan_point_summary,
    plan_view,
    resolve_plan,
)
from tests.core.itemfactory import NOW, committed_item, failed_over_item, item_id, point, ready_item, running

MANUAL = PlanAction("Repoint DNS", "ManualActionDetails", "Change the A records back.", ("RecoveryToPrimary",))
SCRIPT = PlanAction("Warm caches", "ScriptActionDetails", "/scripts/warm.sh")
BEFORE_SHUTDOWN = PlanAction("Tell the service desk", "ManualActionDetails", "Post in #ops.")


def _item(factory: Callable[..., ProtectedItem], name: str, group: str = "", **changes: Any) -> ProtectedItem:
    base = factory(name=f"rpi-{name}", id=item_id(f"rpi-{name}"), friendly_name=name)
    if group:
        base = replace(base, multi_vm_group_name=group)
    return replace(base, **changes)


def erp(factory: Callable[..., ProtectedItem] = ready_item) -> list[ProtectedItem]:
    return [
        _item(factory, "sql-01", "erp-core"),
        _item(factory, "erp-app-01", "erp-core"),
        _item(factory, "erp-app-02", "erp-core"),
        _item(factory, "erp-web-01"),
        _item(factory, "erp-web-02"),
    ]


def erp_plan(items: list[ProtectedItem], **changes: Any) -> RecoveryPlan:
    base = RecoveryPlan(
        id="/x/replicationRecoveryPlans/rp-erp",
        name="rp-erp",
        friendly_name="ERP",
        allowed_operations=("UnplannedFailover",),
        groups=(
            PlanGroup("Shutdown", start_actions=(BEFORE_SHUTDOWN,)),
            PlanGroup("Failover"),
            PlanGroup("Boot", tuple(i.id.lower() for i in items[:3])),  # plans may spell ids in another case
            PlanGroup("Boot", tuple(i.id for i in items[3:]), start_actions=(MANUAL,), end_actions=(SCRIPT,)),
        ),
    )
    return replace(base, **changes)


def points_for(items: list[ProtectedItem]) -> dict[str, Any]:
    return {i.name: [point(1, PointKind.CRASH_CONSISTENT), point(63, PointKind.APP_CONSISTENT)] for i in items}


# -- the view ---------------------------------------------------------------------------------------------------


def test_plan_view_orders_members_by_boot_group_and_names_the_consistency_group() -> None:
    items = erp()
    extra = ready_item("rpi-other", "other01")
    view = plan_view(erp_plan(items), [extra, *reversed(items)])
    assert [(m.name, m.group_index) for m in view.members] == [
        ("sql-01", 0),
        ("erp-app-01", 0),
        ("erp-app-02", 0),
        ("erp-web-01", 1),
        ("erp-web-02", 1),
    ]
    assert view.consistency_groups == {"erp-core": ("sql-01", "erp-app-01", "erp-app-02")}
    assert [(g.label, len(g.members)) for g in view.groups] == [("Group 1", 3), ("Group 2", 2)]
    assert view.groups[1].manual_actions == (MANUAL,)
    assert view.stage is Stage.READY and view.stage_summary == "5 VMs, all Ready"
    assert view.missing_item_ids == () and view.running_job_name == ""


def test_plan_view_summarises_mixed_stages_running_job_and_missing_members() -> None:
    items = erp()
    items[3] = _item(failed_over_item, "erp-web-01")
    plan = erp_plan(items, current_scenario=running("UnplannedFailover", "job-rp"))
    view = plan_view(plan, items[:4])
    assert view.stage is None
    assert view.stage_summary == "4 VMs: 3 Ready, 1 Verify/commit; job job-rp running"
    assert view.missing_item_ids == (items[4].id,)


def test_can_fail_over_plan_when_every_vm_is_ready_with_a_point() -> None:
    items = erp()
    verdict = can_fail_over_plan(plan_view(erp_plan(items), items), points_for(items))
    assert verdict.allowed
    assert "5 VMs of ERP" in verdict.reason and "2 groups" in verdict.reason


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("no-points", "No recovery point yet for erp-app-02, erp-web-02"),
        ("not-ready", "erp-web-01: Failed over: verify, then commit"),
        ("plan-job", "job (job-rp) is already running on the plan ERP"),
        ("member-job", "sql-01 (job-9)"),
        ("missing", "rpi-erp-web-02"),
        ("refused", "does not offer failover for erp-app-01"),
        ("plan-refused", "does not offer failover for the plan ERP"),
        ("modernized", "classic VMs and modernized ones (erp-web-02)"),
    ],
)
def test_can_fail_over_plan_refusals_name_what_is_wrong(change: str, expected: str) -> None:
    items = erp()
    pts = points_for(items)
    plan = erp_plan(items)
    pool = items
    if change == "no-points":
        pts["rpi-erp-app-02"] = []
        del pts["rpi-erp-web-02"]
    elif change == "not-ready":
        items[3] = _item(failed_over_item, "erp-web-01")
    elif change == "plan-job":
        plan = replace(plan, current_scenario=running("UnplannedFailover", "job-rp"))
    elif change == "member-job":
        items[0] = replace(items[0], current_scenario=running("TestFailover", "job-9"))
    elif change == "missing":
        pool = items[:4]
    elif change == "refused":
        items[1] = replace(items[1], allowed_operations=("DisableProtection",))
    elif change == "plan-refused":
        plan = replace(plan, allowed_operations=("Commit",))
    elif change == "modernized":
        items[4] = replace(items[4], instance_type="InMageRcmFailback")
    verdict = can_fail_over_plan(plan_view(plan, pool), pts)
    assert not verdict.allowed
    assert expected in verdict.reason, verdict.reason


def test_points_are_found_by_name_id_or_friendly_name() -> None:
    items = erp()
    pts = points_for(items)
    by_mixed = {items[0].id: pts.pop(items[0].name), "erp-app-01": pts.pop(items[1].name), **pts}
    assert can_fail_over_plan(plan_view(erp_plan(items), items), by_mixed).allowed


def test_can_commit_plan_needs_every_vm_failed_over() -> None:
    items = erp(failed_over_item)
    view = plan_view(erp_plan(items), items)
    verdict = can_commit_plan(view)
    assert verdict.allowed and "cannot be undone" in verdict.reason
    items[2] = _item(ready_item, "erp-app-02", "erp-core")
    refused = can_commit_plan(plan_view(erp_plan(items), items))
    assert not refused.allowed and "erp-app-02: Ready to fail back" in refused.reason
    items[2] = replace(_item(failed_over_item, "erp-app-02"), allowed_operations=("DisableProtection",))
    assert "does not offer commit for erp-app-02" in can_commit_plan(plan_view(erp_plan(items), items)).reason


def test_members_to_reprotect_are_the_committed_ones_in_boot_order() -> None:
    items = erp(committed_item)
    items[1] = _item(ready_item, "erp-app-01")
    view = plan_view(erp_plan(items), list(reversed(items)))
    assert [i.friendly_name for i in members_to_reprotect(view)] == ["sql-01", "erp-app-02", "erp-web-01", "erp-web-02"]


def test_point_summary_per_consistency_group_then_each_vm_alone() -> None:
    items = erp()
    pts = points_for(items)
    pts["rpi-erp-app-02"] = [point(1, PointKind.CRASH_CONSISTENT), point(123, PointKind.APP_CONSISTENT)]
    pts["rpi-erp-web-02"] = [point(1, PointKind.CRASH_CONSISTENT)]
    summary = plan_point_summary(plan_view(erp_plan(items), items), pts, NOW)
    assert [g.group for g in summary] == ["erp-core", "erp-web-01", "erp-web-02"]
    core = summary[0]
    # erp-app-02's only app-consistent point is older than the others': the group has none in common.
    assert core.common_time is None and "taken at different times" in core.explanation
    alone = summary[1]
    assert alone.common_time == NOW.replace(second=0) - timedelta(minutes=63, seconds=-9)
    assert alone.explanation.startswith("erp-web-01 is in no replication group: with app-consistent it recovers")
    assert "about an hour of writes" in alone.explanation
    assert "has no app-consistent point" in summary[2].explanation


def test_point_summary_gives_the_group_common_point_and_loss_per_vm() -> None:
    items = erp()
    summary = plan_point_summary(plan_view(erp_plan(items), items), points_for(items), NOW)
    core = summary[0]
    assert core.common_time == NOW - timedelta(minutes=63)
    assert {m.item_name: m.common_loss_seconds for m in core.members} == {
        "erp-app-01": 63 * 60,
        "erp-app-02": 63 * 60,
        "sql-01": 63 * 60,
    }
    assert {m.latest_loss_seconds for m in core.members} == {60}


def test_manual_actions_are_labelled_by_where_asr_stops_for_them() -> None:
    items = erp()
    assert manual_actions(erp_plan(items)) == [("Before shutdown", BEFORE_SHUTDOWN), ("Group 2, before boot", MANUAL)]


def test_resolve_plan_by_friendly_name_name_or_id() -> None:
    plans = [
        erp_plan(erp()),
        RecoveryPlan("/x/replicationRecoveryPlans/rp-intranet", "rp-intranet", "Intranet"),
        RecoveryPlan("/x/replicationRecoveryPlans/rp-b1", "rp-b1", "Billing"),
        RecoveryPlan("/x/replicationRecoveryPlans/rp-b2", "rp-b2", "billing"),
    ]
    assert resolve_plan(plans, "intranet").name == "rp-intranet"
    assert resolve_plan(plans, " RP-ERP ").name == "rp-erp"
    assert resolve_plan(plans, "/X/replicationRecoveryPlans/rp-intranet").name == "rp-intranet"
    assert resolve_plan(plans, "rp-b2").name == "rp-b2"
    with pytest.raises(UsageError, match="matches 2 recovery plans"):
        resolve_plan(plans, "Billing")
    with pytest.raises(NotFound, match=r"plans: Billing, billing, ERP, Intranet"):
        resolve_plan(plans, "payroll")
    with pytest.raises(UsageError):
        resolve_plan(plans, "  ")


# -- PlanReprotect on a scripted vault --------------------------------------------------------------------------

AGENT_ERROR = ErrorDetail(
    code="95467",
    message="The Mobility service agent isn't installed on the virtual machine or hasn't registered yet.",
    provider_error_code="95467",
)
OTHER_ERROR = ErrorDetail(code="78052", message="Protection couldn't be completed for the virtual machine.")
TARGET = ReprotectTarget("ps-1", "mt-1", policy_id="/x/replicationPolicies/avs-to-azure")


@dataclass
class _SimJob:
    name: str
    item_name: str
    ends: datetime
    outcome: str  # ok | agent | fail
    before: ProtectedItem | None = None  # the item as it was when the job started: a failure restores it
    settled: bool = False


class ScriptedVault:
    """A vault whose reprotects end as scripted per VM: 'ok', 'agent' (agent not registered), 'fail',
    'agent-sync' (refused at once), 'lost' (connection dropped, nothing sent), 'lost-started' (dropped after ASR
    started the job)."""

    def __init__(self, items: list[ProtectedItem], script: dict[str, list[str]], job_seconds: float = 120) -> None:
        self.clock = ManualClock(NOW)
        self.items = {i.id: i for i in items}
        self.script = {k: list(v) for k, v in script.items()}
        self.job_seconds = job_seconds
        self.jobs: dict[str, _SimJob] = {}
        self.sent: list[tuple[str, ReprotectTarget]] = []
        self.read_only = False
        self.read_error: Exception | None = None  # raised by every job read while set
        self.send_error: Exception | None = None  # raised by every reprotect while set

    def now(self) -> datetime:
        return self.clock.now()

    def _by_name(self, name: str) -> ProtectedItem:
        return next(i for i in self.items.values() if i.name == name)

    def _settle(self) -> None:
        for job in self.jobs.values():
            if job.settled or job.ends > self.now():
                continue
            job.settled = True
            item = job.before or self._by_name(job.item_name)
            if job.outcome == "ok":
                item = replace(
                    item,
                    instance_type="InMageAzureV2",
                    active_site_type="",
                    protection_state="Protected",
                    active_location="Primary",
                    allowed_operations=("UnplannedFailover", "DisableProtection"),
                )
            self.items[item.id] = replace(item, current_scenario=None)

    def _start(self, item: ProtectedItem, outcome: str) -> OperationHandle:
        name = f"job-{len(self.jobs) + 1}"
        ends = self.now() + timedelta(seconds=self.job_seconds)
        self.jobs[name] = _SimJob(name, item.name, ends, outcome, before=self.items[item.id])
        self.items[item.id] = replace(
            item, current_scenario=running("SwitchReplicationGroupProtection", name), allowed_operations=()
        )
        return OperationHandle("reprotect", name, item.id, item.friendly_name, retry_after=30)

    def reprotect(self, item: ProtectedItem, target: ReprotectTarget) -> OperationHandle:
        if self.read_only:
            raise ReadOnlyError("Read-only mode: the reprotect was not sent.")
        if self.send_error is not None:
            raise self.send_error
        self._settle()
        assert self.items[item.id].current_scenario is None, "reprotect sent while a job runs on the item"
        self.sent.append((item.friendly_name, target))
        outcome = self.script[item.friendly_name].pop(0)
        if outcome == "agent-sync":
            raise ServiceError("Azure answered 400 BadRequest: the request was refused.", details=(AGENT_ERROR,))
        if outcome == "lost":
            raise ConnectionLost("The request to Azure Resource Manager did not complete: reset by peer")
        if outcome == "lost-started":
            self._start(item, "ok")
            raise ConnectionLost("The request to Azure Resource Manager did not complete: read timeout")
        return self._start(item, outcome)

    def get_item(self, item_id: str) -> ProtectedItem:
        self._settle()
        return self.items[item_id]

    def _job(self, sim: _SimJob) -> Job:
        self._settle()
        done = sim.settled
        state = JobState.IN_PROGRESS if not done else JobState.SUCCEEDED if sim.outcome == "ok" else JobState.FAILED
        errors = () if state is not JobState.FAILED else (AGENT_ERROR if sim.outcome == "agent" else OTHER_ERROR,)
        return Job(f"/x/replicationJobs/{sim.name}", sim.name, "SwitchReplicationGroupProtection", "Reprotect",
                   state, state.value, errors=errors, target_object_name=sim.item_name)  # fmt: skip

    def get_job(self, name: str) -> Job:
        if self.read_error is not None:
            raise self.read_error
        return self._job(self.jobs[name])

    def list_jobs(self, job_filter: JobFilter | None = None) -> list[Job]:
        if self.read_error is not None:
            raise self.read_error
        jobs = [self._job(j) for j in self.jobs.values()]
        wanted = set(job_filter.states) if job_filter and job_filter.states else None
        return [j for j in jobs if wanted is None or j.state.value in wanted]


def _reprotect(script: dict[str, list[str]], factory: Any = committed_item, **kw: Any) -> tuple[PlanReprotect, Any]:
    items = erp(factory)
    vault = ScriptedVault(items, script, **{k: v for k, v in kw.items() if k == "job_seconds"})
    view = plan_view(erp_plan(items), items)
    options = {k: v for k, v in kw.items() if k != "job_seconds"}
    return PlanReprotect(vault, view, TARGET, **options), vault  # type: ignore[arg-type]


def test_first_step_sends_every_reprotect_with_the_same_target_and_returns() -> None:
    script = {n: ["ok"] for n in ("sql-01", "erp-app-01", "erp-app-02", "erp-web-01", "erp-web-02")}
    job, vault = _reprotect(script)
    progress = job.step()
    assert [(p.item_name, p.state, p.job_name, p.attempts) for p in progress] == [
        ("sql-01", MemberState.RUNNING, "job-1", 1),
        ("erp-app-01", MemberState.RUNNING, "job-2", 1),
        ("erp-app-02", MemberState.RUNNING, "job-3", 1),
        ("erp-web-01", MemberState.RUNNING, "job-4", 1),
        ("erp-web-02", MemberState.RUNNING, "job-5", 1),
    ]
    assert {target for _, target in vault.sent} == {TARGET}
    assert not job.done() and vault.clock.now() == NOW


def test_agent_registration_failures_are_retried_until_every_vm_is_protected() -> None:
    script = {
        "sql-01": ["agent", "agent", "ok"],
        "erp-app-01": ["ok"],
        "erp-app-02": ["agent-sync", "ok"],
        "erp-web-01": ["agent", "agent", "agent", "agent", "ok"],
        "erp-web-02": ["ok"],
    }
    job, vault = _reprotect(script, retry_delay=60.0)
    updates: list[list[Any]] = []
    final = job.run(on_update=updates.append)
    assert job.done() and job.all_protected
    assert {p.item_name: p.attempts for p in final} == {
        "sql-01": 3,
        "erp-app-01": 1,
        "erp-app-02": 2,
        "erp-web-01": 5,
        "erp-web-02": 1,
    }
    assert all(not v for v in vault.script.values())  # every scripted attempt was used, none more
    assert job.attempts_of("erp-web-01") == [p for p in job.attempts_of("erp-web-01") if p.startswith("job-")]
    assert len(job.attempts_of("erp-web-01")) == 5
    waiting = [p for u in updates for p in u if p.state is MemberState.WAITING_FOR_AGENT]
    assert waiting and all(p.next_retry_at is not None and "Mobility service agent" in p.last_error for p in waiting)
    assert vault.clock.now() - NOW < AGENT_REGISTRATION_WINDOW


def test_an_agent_that_never_registers_fails_after_the_window_and_margin() -> None:
    script = {
        "sql-01": ["agent"] * 100,
        **{n: ["ok"] for n in ("erp-app-01", "erp-app-02", "erp-web-01", "erp-web-02")},
    }
    job, vault = _reprotect(script, retry_delay=60.0)
    final = job.run()
    sql = final[0]
    assert sql.state is MemberState.FAILED and not job.all_protected
    assert "still has not registered" in sql.last_error and "9443/TCP" in sql.last_error
    window = AGENT_REGISTRATION_WINDOW + AGENT_WINDOW_MARGIN
    # each attempt takes a 120 s job plus the 60 s pause: every retry fits in the window, none beyond it
    assert sql.attempts == int(window.total_seconds() // 180) + 1
    assert all(p.state is MemberState.PROTECTED for p in final[1:])


def test_any_other_failure_is_not_retried() -> None:
    script = {"sql-01": ["fail", "ok"], **{n: ["ok"] for n in ("erp-app-01", "erp-app-02", "erp-web-01", "erp-web-02")}}
    job, vault = _reprotect(script)
    final = job.run()
    assert final[0].state is MemberState.FAILED and final[0].attempts == 1
    assert final[0].last_error == "[78052] Protection couldn't be completed for the virtual machine."
    assert vault.script["sql-01"] == ["ok"]


def test_a_dropped_request_is_checked_before_it_is_sent_again() -> None:
    script = {
        "sql-01": ["lost", "ok"],
        "erp-app-01": ["lost-started", "ok"],
        **{n: ["ok"] for n in ("erp-app-02", "erp-web-01", "erp-web-02")},
    }
    job, vault = _reprotect(script)
    first = job.step()
    assert first[0].state is MemberState.PENDING and "reset by peer" in first[0].last_error
    final = job.run()
    assert job.all_protected
    # erp-app-01's first request had gone through: the tool followed that job instead of sending another
    assert [n for n, _ in vault.sent].count("erp-app-01") == 1 and vault.script["erp-app-01"] == ["ok"]
    assert [n for n, _ in vault.sent].count("sql-01") == 2
    assert final[1].job_name == "job-1"


def test_members_already_running_protected_or_not_committed() -> None:
    items = erp(committed_item)
    items[0] = replace(items[0], current_scenario=running("SwitchReplicationGroupProtection", "job-earlier"))
    items[1] = replace(
        items[1],
        instance_type="InMageAzureV2",
        protection_state="Protected",
        active_site_type="",
        allowed_operations=("UnplannedFailover",),
    )
    items[2] = _item(failed_over_item, "erp-app-02", "erp-core")
    vault = ScriptedVault(items, {"erp-web-01": ["ok"], "erp-web-02": ["ok"]})
    vault.jobs["job-earlier"] = _SimJob("job-earlier", items[0].name, NOW + timedelta(seconds=30), "ok")
    job = PlanReprotect(vault, plan_view(erp_plan(items), items), TARGET)  # type: ignore[arg-type]
    start = {p.item_name: p.state for p in job.progress}
    assert start == {
        "sql-01": MemberState.RUNNING,
        "erp-app-01": MemberState.PROTECTED,
        "erp-app-02": MemberState.BLOCKED,
        "erp-web-01": MemberState.PENDING,
        "erp-web-02": MemberState.PENDING,
    }
    assert "reprotect follows the commit" in job.progress[2].last_error
    final = job.run()
    assert [p.state for p in final] == [
        MemberState.PROTECTED,
        MemberState.PROTECTED,
        MemberState.BLOCKED,
        MemberState.PROTECTED,
        MemberState.PROTECTED,
    ]
    assert [n for n, _ in vault.sent] == ["erp-web-01", "erp-web-02"]


def test_run_gives_up_at_the_timeout_naming_who_is_left() -> None:
    script = {n: ["ok"] for n in ("sql-01", "erp-app-01", "erp-app-02", "erp-web-01", "erp-web-02")}
    job, _ = _reprotect(script, job_seconds=3600)
    with pytest.raises(JobFailed, match=r"still in progress: sql-01 \(Reprotecting\)"):
        job.run(timeout=600)


def test_read_only_refusal_propagates_and_a_target_needs_both_servers() -> None:
    job, vault = _reprotect({"sql-01": ["ok"]})
    vault.read_only = True
    with pytest.raises(ReadOnlyError):
        job.step()
    items = erp(committed_item)
    with pytest.raises(UsageError, match="process server and a master target"):
        PlanReprotect(vault, plan_view(erp_plan(items), items), ReprotectTarget("", "mt-1"))


def test_job_reads_that_keep_failing_stop_the_loop_but_throttling_is_waited_out() -> None:
    script = {n: ["ok"] for n in ("sql-01", "erp-app-01", "erp-app-02", "erp-web-01", "erp-web-02")}
    job, vault = _reprotect(script)
    job.step()
    vault.read_error = Throttled("Throttled (429 SubscriptionRequestsThrottled): too many requests")
    for _ in range(12):
        vault.clock.advance(60)
        job.step()
    assert isinstance(job.poll_error, Throttled) and not job.done()
    vault.read_error = None
    job.run()
    assert job.all_protected and job.poll_error is None

    job, vault = _reprotect(script)
    job.step()
    vault.read_error = ConnectionLost("The request to Azure Resource Manager did not complete: no route to host")
    with pytest.raises(ConnectionLost):
        job.run(timeout=6 * 3600)


def test_a_sign_in_failure_while_sending_stops_everything() -> None:
    job, vault = _reprotect({"sql-01": ["ok"]})
    vault.send_error = AuthenticationError("Azure refused the sign-in (401 InvalidAuthenticationToken): expired")
    with pytest.raises(AuthenticationError):
        job.step()


def test_a_followed_job_that_fails_on_the_agent_is_retried_on_a_fresh_read_of_the_vm() -> None:
    items = erp(committed_item)
    before = items[0]
    items[0] = replace(before, current_scenario=running("SwitchReplicationGroupProtection", "job-earlier"))
    vault = ScriptedVault(
        items, {n: ["ok"] for n in ("sql-01", "erp-app-01", "erp-app-02", "erp-web-01", "erp-web-02")}
    )
    # someone's reprotect already runs on sql-01 and will fail because the agent has not registered yet
    vault.jobs["job-earlier"] = _SimJob("job-earlier", before.name, NOW + timedelta(seconds=30), "agent", before=before)
    job = PlanReprotect(vault, plan_view(erp_plan(items), items), TARGET, retry_delay=60.0)  # type: ignore[arg-type]
    final = job.run()
    sql = final[0]
    # the copy taken at the start still says "reprotect running": only a fresh read lets the retry go out
    assert sql.state is MemberState.PROTECTED, sql.last_error
    assert job.attempts_of("sql-01")[0] == "job-earlier" and len(job.attempts_of("sql-01")) == 2
    assert sql.attempts == 1 and [n for n, _ in vault.sent].count("sql-01") == 1
    assert job.all_protected


def test_a_job_started_on_a_vm_just_before_its_send_is_followed_not_sent_again() -> None:
    script = {n: ["ok"] for n in ("sql-01", "erp-app-01", "erp-app-02", "erp-web-01", "erp-web-02")}
    job, vault = _reprotect(script)
    sql = next(i for i in vault.items.values() if i.friendly_name == "sql-01")
    theirs = vault._start(sql, "ok")  # another operator, between the plan read and this send
    first = job.step()
    assert first[0].state is MemberState.RUNNING and first[0].job_name == theirs.job_name
    assert first[0].attempts == 0 and "sql-01" not in [n for n, _ in vault.sent]
    assert job.run() and job.all_protected
    assert vault.script["sql-01"] == ["ok"]


def test_plan_loss_is_worked_out_vm_by_vm() -> None:
    from core.model import PointChoice
    from core.plans import GROUP_RULE, plan_loss
    from core.recovery import GroupPoints, MemberPoints

    # a: newest 30 s old, the group's app-consistent point 10m 11s; b: 5 minutes and 10 minutes. Taking the
    # largest of each column (10m 11s − 5m) would say 5m 11s more: a gives up 9m 41s more than its own Latest.
    rows = (
        MemberPoints("a", None, 30.0, None, 611.0),
        MemberPoints("b", None, 300.0, None, 600.0),
    )
    groups = [
        GroupPoints("g", None, rows, ""),
        GroupPoints("c", None, (MemberPoints("c", None, 45.0, None, None),), ""),
    ]
    latest = plan_loss(groups, PointChoice.LATEST)
    assert latest.worst is not None and (latest.worst.name, latest.worst.seconds) == ("b", 300.0)
    assert latest.extra_seconds == 0
    app = plan_loss(groups, PointChoice.LATEST_APP_CONSISTENT)
    assert app.worst is not None and (app.worst.name, app.worst.seconds) == ("a", 611.0)
    assert app.most_extra is not None and (app.most_extra.name, app.extra_seconds) == ("a", 581.0)
    assert [(v.name, v.seconds) for v in app.per_vm] == [("a", 611.0), ("b", 600.0), ("c", 45.0)]  # c: its newest
    assert app.words() == "at most about 10 minutes of writes (a); up to 10 minutes more than Latest (a)"
    assert "each VM fails over to its own newest point" in GROUP_RULE[PointChoice.LATEST]
    assert "newest app-consistent point they all hold" in GROUP_RULE[PointChoice.LATEST_APP_CONSISTENT]


def test_a_plan_vm_without_a_recovery_point_is_named_never_counted_as_losing_nothing() -> None:
    from core.model import PointChoice
    from core.plans import plan_loss
    from core.recovery import group_points

    group = group_points("g", {"a": [point(5, PointKind.CRASH_CONSISTENT)], "b": []}, NOW)
    assert [(m.item_name, m.latest_loss_seconds) for m in group.members] == [("a", 300.0), ("b", None)]
    loss = plan_loss([group], PointChoice.LATEST)
    assert [v.name for v in loss.per_vm] == ["a"] and loss.no_point == ("b",)
    assert loss.words() == "at most about 5 minutes of writes (a); no recovery point yet for b"
    alone = plan_loss([group_points("b", {"b": []}, NOW)], PointChoice.LATEST)
    assert alone.worst is None and alone.words() == "no recovery point yet for b"
