"""A whole plan failback on the in-process ARM emulator: preflight, app-consistent failover, commit, reprotect."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest

from core.bootstrap import EMULATOR_BASE_URL, build_backend
from core.clock import ManualClock
from core.config import Settings
from core.emulator import ArmEmulator, load_scenario
from core.failback import AGENT_REGISTRATION_WINDOW, derive_stage
from core.model import PointChoice, ProtectedItem, RecoveryPlan, ReprotectTarget, Stage
from core.plans import (
    MemberState,
    PlanReprotect,
    can_commit_plan,
    can_fail_over_plan,
    members_to_reprotect,
    plan_point_summary,
    plan_view,
    resolve_plan,
)
from core.preflight import Level, check_item, check_plan
from core.tracker import JobTracker

ERP = "ERP (SAP ECC front and back end)"


class Vault:
    """The demo scenario on a manual clock, with every POST's path and body kept for inspection."""

    def __init__(self) -> None:
        self.clock = ManualClock()
        self.emulator = ArmEmulator(load_scenario("demo"), self.clock, base_url=EMULATOR_BASE_URL)
        self.posts: list[tuple[str, Any]] = []
        answer = self.emulator.handle

        def spy(method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> Any:
            if method == "POST":
                self.posts.append((url.split("?", 1)[0], json.loads(body) if body else None))
            return answer(method, url, headers, body)

        self.emulator.handle = spy  # type: ignore[method-assign]
        self.backend = build_backend(Settings(demo=True, scenario="demo"), clock=self.clock, emulator=self.emulator)

    def items(self) -> list[ProtectedItem]:
        return list(self.backend.list_items())

    def plan(self) -> RecoveryPlan:
        return resolve_plan(self.backend.list_plans(), ERP.lower())

    def wait(self, job_name: str) -> None:
        JobTracker(self.backend, self.clock, interval=15).wait(job_name, timeout=3600)


@pytest.fixture
def vault() -> Vault:
    return Vault()


def test_the_demo_plan_view_has_five_vms_and_a_three_vm_consistency_group(vault: Vault) -> None:
    view = plan_view(vault.plan(), vault.items())
    assert view.plan.name == "rp-erp"
    assert [(g.label, [m.name for m in g.members]) for g in view.groups] == [
        ("Group 1", ["sql-01", "erp-app-01", "erp-app-02"]),
        ("Group 2", ["erp-web-01", "erp-web-02"]),
    ]
    assert view.consistency_groups == {"erp-core": ("sql-01", "erp-app-01", "erp-app-02")}
    assert view.stage_summary == "5 VMs, all Ready"


def test_the_billing_group_has_no_common_app_consistent_point(vault: Vault) -> None:
    plan = resolve_plan(vault.backend.list_plans(), "billing")
    report = check_plan(vault.backend, plan, vault.items())
    assert report.ok
    check = report.check("group-common-point")
    assert check.level is Level.WARN and "'billing'" in check.detail


def test_a_group_member_alone_is_sent_to_its_plan_by_name(vault: Vault) -> None:
    sql = next(i for i in vault.items() if i.friendly_name == "sql-01")
    report = check_item(vault.backend, sql)
    assert report.via_plan and not report.failures
    group = report.check("consistency-group")
    assert group.level is Level.PLAN and group.remedy.startswith(f"Fail back its recovery plan instead: {ERP!r}")


def test_preflight_of_the_vault_servers_from_the_emulator(vault: Vault) -> None:
    items = vault.items()
    mon = next(i for i in items if i.friendly_name == "mon-01")  # its process server is 42 minutes late
    report = check_item(vault.backend, mon)
    ps = report.check("process-server")
    assert ps.level is Level.WARN and "ps-azure-weu-02" in ps.detail and "42 minutes" in ps.detail
    assert "InMage Scout services are started" in ps.remedy
    assert report.check("replication-health").level is Level.WARN
    assert vault.posts == []  # preflight only reads


def _fail_over_app_consistent(vault: Vault) -> tuple[Any, dict[str, Any]]:
    """Preflight, then the plan failback to the common app-consistent point; the view after, the points expected."""
    backend = vault.backend
    plan = vault.plan()
    view = plan_view(plan, vault.items())
    points = {m.item.name: backend.list_recovery_points(m.item) for m in view.members}
    assert check_plan(backend, plan, vault.items(), points_by_item=points).ok
    assert can_fail_over_plan(view, points).allowed
    summary = {g.group: g for g in plan_point_summary(view, points, backend.now())}
    common = summary["erp-core"].common_time
    assert common is not None
    expected = {
        m.name: next(p for p in points[m.item.name] if p.kind.value == "app-consistent" and p.time == common)
        for m in view.members
        if m.name in view.consistency_groups["erp-core"]
    }
    # Latest would take each VM's own newest point: a different one from the group's common point.
    assert all(points[m.item.name][0].time > common for m in view.members if m.name in expected)

    handle = backend.plan_unplanned_failover(plan, PointChoice.LATEST_APP_CONSISTENT)
    path, body = vault.posts[-1]
    assert path.endswith("/replicationRecoveryPlans/rp-erp/unplannedFailover")
    assert body["properties"]["providerSpecificDetails"] == [
        {"instanceType": "InMage", "recoveryPointType": "LatestTag"}
    ]
    vault.wait(handle.job_name)
    view = plan_view(backend.get_plan("rp-erp"), vault.items())
    assert view.stage is Stage.FAILED_OVER
    return view, expected


def test_each_group_member_fails_over_on_the_common_app_consistent_point_itself(vault: Vault) -> None:
    view, expected = _fail_over_app_consistent(vault)
    for member in view.members:
        if member.name in expected:
            assert member.item.failover_recovery_point_id.lower() == expected[member.name].id.lower()


def test_plan_failback_app_consistent_commit_and_reprotect_through_the_agent_window(vault: Vault) -> None:
    backend = vault.backend
    view, expected = _fail_over_app_consistent(vault)
    for member in view.members:
        if member.name in expected:
            used = member.item.failover_recovery_point_id.lower()
            times = {p.id.lower(): p.time for p in backend.list_recovery_points(member.item)}
            assert times[used] == expected[member.name].time, member.name
    failed_over_at = backend.now()

    assert can_commit_plan(view).allowed
    vault.wait(backend.plan_commit(view.plan).job_name)
    view = plan_view(backend.get_plan("rp-erp"), vault.items())
    assert view.stage is Stage.COMMITTED
    assert [i.friendly_name for i in members_to_reprotect(view)] == [m.name for m in view.members]

    fabric = next(f for f in backend.list_fabrics() if f.process_servers)
    target = ReprotectTarget(
        process_server_id=fabric.process_servers[0].id,
        master_target_id=fabric.master_targets[0].id,
        run_as_account_id=fabric.run_as_accounts[0].id,
        policy_id=f"{backend.vault.arm_id}/replicationPolicies/avs-to-azure",
    )
    sent_before = len(vault.posts)
    reprotect = PlanReprotect(backend, view, target, retry_delay=60.0)
    updates: list[list[Any]] = []
    final = reprotect.run(on_update=updates.append, timeout=3 * 3600)

    assert reprotect.all_protected, [(p.item_name, p.word, p.last_error) for p in final]
    # The agents registered only once the window had passed: each VM needed more than one attempt.
    assert all(p.attempts > 1 for p in final)
    assert backend.now() - failed_over_at >= AGENT_REGISTRATION_WINDOW - timedelta(minutes=2)
    waits = [p for u in updates for p in u if p.state is MemberState.WAITING_FOR_AGENT]
    assert waits and all("Mobility service agent" in p.last_error for p in waits)
    reprotects = [p for p, _ in vault.posts[sent_before:]]
    assert len(reprotects) == sum(p.attempts for p in final)
    assert all(p.endswith("/reProtect") for p in reprotects)
    assert {b["properties"]["providerSpecificDetails"]["processServerId"] for _, b in vault.posts[sent_before:]} == {
        target.process_server_id
    }
    assert {derive_stage(i) for i in vault.items() if "rp-erp" in i.recovery_plans} == {Stage.PROTECTED_TO_AZURE}
