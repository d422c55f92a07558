"""Preflight checks: each finding with its level and remedy, on items and plans built to trigger it."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from core.model import (
    Datastore,
    Fabric,
    HealthError,
    Job,
    JobState,
    MasterTarget,
    PlanGroup,
    PointKind,
    ProcessServer,
    ProtectedItem,
    RecoveryPlan,
    RetentionVolume,
)
from core.preflight import (
    Check,
    Level,
    PreflightReport,
    check_item,
    check_plan,
    check_vault,
    evaluate_item,
    evaluate_plan,
)
from tests.core.itemfactory import NOW, committed_item, item_id, point, ready_item, running

GIB = 2**30


def ps(**changes: Any) -> ProcessServer:
    base = ProcessServer(
        id="ps-1",
        friendly_name="ps-azure-01",
        ip_address="10.1.0.4",
        health="Normal",
        service_status="Running",
        last_heartbeat=NOW - timedelta(minutes=2),
    )
    return replace(base, **changes)


def mt(**changes: Any) -> MasterTarget:
    base = MasterTarget(
        id="mt-1",
        name="mt-avs-01",
        ip_address="192.168.10.5",
        os_type="Windows",
        last_heartbeat=NOW - timedelta(minutes=1),
        retention_volumes=(RetentionVolume("R:", 500 * GIB, 300 * GIB, 80),),
        datastores=(Datastore("vsanDatastore", "ds-1", 10_000.0, 6_000.0, "vsan"),),
    )
    return replace(base, **changes)


def fabrics(process_server: ProcessServer | None = None, master_target: MasterTarget | None = None) -> list[Fabric]:
    return [
        Fabric(
            id="/x/replicationFabrics/fab-vmware",
            name="fab-vmware",
            friendly_name="avs-cs",
            instance_type="VMware",
            process_servers=(process_server or ps(),),
            master_targets=(master_target or mt(),),
        )
    ]


def fresh_points() -> list[Any]:
    return [point(1, PointKind.CRASH_CONSISTENT), point(30, PointKind.APP_CONSISTENT)]


def evaluate(item: ProtectedItem | None = None, **kw: Any) -> dict[str, Check]:
    checks = evaluate_item(
        item or ready_item(os_type="Windows"),
        kw.get("points", fresh_points()),
        kw.get("fabrics", fabrics()),
        kw.get("running_jobs", []),
        NOW,
        plans=kw.get("plans", ()),
    )
    return {c.key: c for c in checks}


def test_a_healthy_ready_item_passes_everything_but_the_unprobeable_network() -> None:
    checks = evaluate()
    not_passing = {k: c.level for k, c in checks.items() if c.level is not Level.PASS}
    assert not_passing == {"network-path": Level.WARN}
    report = PreflightReport("web01", tuple(checks.values()))
    assert report.ok and report.worst is Level.WARN
    assert report.summary == "web01: ready to fail back, 1 warning"


def test_the_network_path_is_always_a_warning_with_what_to_check_by_hand() -> None:
    check = evaluate()["network-path"]
    assert check.level is Level.WARN
    assert "cannot be probed from here" in check.detail
    for must in ("site-to-site VPN", "ExpressRoute private peering", "9443/TCP", "DNS"):
        assert must in check.remedy


def _fails(checks: dict[str, Check], key: str, *remedy_words: str) -> Check:
    check = checks[key]
    assert check.level is Level.FAIL, check
    assert check.remedy, f"{key} fails without a remedy"
    for word in remedy_words:
        assert word in check.remedy, (word, check.remedy)
    return check


def _warns(checks: dict[str, Check], key: str, *remedy_words: str) -> Check:
    check = checks[key]
    assert check.level is Level.WARN, check
    assert check.remedy
    for word in remedy_words:
        assert word in check.remedy, (word, check.remedy)
    return check


def test_an_item_replicating_towards_azure_is_refused_with_the_way_back() -> None:
    item = ready_item(instance_type="InMageAzureV2", active_site_type="", os_type="Windows")
    check = _fails(evaluate(item), "direction", "reprotect it from Azure to AVS")
    assert "InMageAzureV2" in check.detail


def test_an_already_failed_back_item_points_to_its_next_step() -> None:
    check = _fails(evaluate(committed_item(os_type="Windows")), "direction", "reprotect to Azure")
    assert "Committed" in check.detail


def test_a_modernized_item_gets_its_own_checks_and_no_portal() -> None:
    item = ready_item(
        instance_type="InMageRcmFailback",
        active_site_type="",
        allowed_operations=("PlannedFailover",),
        replication_health="Warning",
    )
    checks = evaluate(item)
    assert "master-target" not in checks and "recovery-points" not in checks
    assert checks["direction"].level.name == "PASS"
    assert checks["allowed-operation"].level.name == "PASS"
    assert not any("portal" in f"{c.detail} {c.remedy}".lower() for c in checks.values())


def test_failover_not_among_the_allowed_operations_fails() -> None:
    item = ready_item(allowed_operations=("DisableProtection",), os_type="Windows")
    check = _fails(evaluate(item), "allowed-operation", "Refresh")
    assert "allowed: DisableProtection" in check.detail


def test_no_recovery_point_fails_and_a_stale_one_warns() -> None:
    _fails(evaluate(points=[]), "recovery-points", "Wait for replication")
    stale = evaluate(points=[point(130, PointKind.CRASH_CONSISTENT)])
    check = _warns(stale, "recovery-points", "process server")
    assert "2 hours" in check.detail


@pytest.mark.parametrize(
    ("changes", "level"),
    [
        ({"last_heartbeat": NOW - timedelta(minutes=20)}, Level.WARN),
        ({"last_heartbeat": NOW - timedelta(minutes=90)}, Level.FAIL),
        ({"health": "Critical"}, Level.FAIL),
        ({"health": "Warning"}, Level.WARN),
        ({"last_heartbeat": None}, Level.WARN),
        ({"service_status": "Stopped"}, Level.WARN),
    ],
)
def test_process_server_heartbeat_and_health(changes: dict[str, Any], level: Level) -> None:
    check = evaluate(fabrics=fabrics(process_server=ps(**changes)))["process-server"]
    assert check.level is level
    assert "ps-azure-01" in check.remedy and "9443/TCP" in check.remedy


def test_process_server_health_errors_add_asr_recommendation() -> None:
    err = HealthError("78012", "Cache folder is full", recommended_action="Free up space in the cache folder.")
    check = evaluate(fabrics=fabrics(process_server=ps(health="Critical", health_errors=(err,))))["process-server"]
    assert "Free up space in the cache folder." in check.remedy


def test_process_server_missing_or_unnamed() -> None:
    _fails(evaluate(ready_item(process_server_id="ps-gone", os_type="Windows")), "process-server", "registered")
    _fails(evaluate(ready_item(process_server_id="", os_type="Windows")), "process-server", "process server")


def test_master_target_missing_or_unnamed() -> None:
    _fails(evaluate(ready_item(master_target_id="mt-gone", os_type="Windows")), "master-target", "registered")
    _fails(evaluate(ready_item(master_target_id="", os_type="Windows")), "master-target", "deploy one")


def test_retention_volume_past_threshold_warns_and_nearly_full_fails() -> None:
    past = mt(retention_volumes=(RetentionVolume("R:", 500 * GIB, 90 * GIB, 80),))  # 82 % used
    check = _warns(evaluate(fabrics=fabrics(master_target=past)), "master-target", "retention drive of mt-avs-01")
    assert "R: 90 GB free of 500 GB (18 %)" in check.detail
    full = mt(retention_volumes=(RetentionVolume("R:", 500 * GIB, 10 * GIB, 80),))  # 2 % free
    _fails(evaluate(fabrics=fabrics(master_target=full)), "master-target", "Free space")


def test_master_target_os_must_match_the_vm() -> None:
    linux_vm = ready_item(os_type="Linux")
    check = _warns(evaluate(linux_vm), "master-target", "Linux master target")
    assert "differs" in check.detail


def test_critical_master_target_fails() -> None:
    # ASR gives a master target no health field: its health errors say it (SDK MasterTargetServer.healthErrors).
    broken = HealthError("78052", "The master target cannot reach the datastore.", severity="Error",
                         recommended_action="Check the master target's access to the AVS datastore.")  # fmt: skip
    check = _fails(evaluate(fabrics=fabrics(master_target=mt(health_errors=(broken,)))), "master-target", "access")
    assert "health Critical" in check.detail and "[78052] The master target cannot reach" in check.detail
    warned = HealthError("78053", "Agent update pending.", severity="Warning")
    _warns(evaluate(fabrics=fabrics(master_target=mt(health_errors=(warned,)))), "master-target", "mt-avs-01")


def test_datastores_low_warn_and_all_full_fail() -> None:
    # ASR's datastore figures are GB (SDK DataStore): 10 000 GB is about 9.8 TB.
    low = mt(
        datastores=(
            Datastore("vsanDatastore", "ds-1", 10_000.0, 6_000.0),
            Datastore("nfs-archive", "ds-2", 1_000.0, 50.0),
        )
    )
    check = _warns(evaluate(fabrics=fabrics(master_target=low)), "datastores", "nfs-archive")
    assert "vsanDatastore 5.9 TB free of 9.8 TB (60 %)" in check.detail
    assert "nfs-archive 50 GB free of 1,000 GB (5 %)" in check.detail
    full = mt(datastores=(Datastore("vsanDatastore", "ds-1", 10_000.0, 100.0),))
    _fails(evaluate(fabrics=fabrics(master_target=full)), "datastores", "free space")
    _warns(evaluate(fabrics=fabrics(master_target=mt(datastores=()))), "datastores", "vCenter")


def test_a_datastore_asr_did_not_report_warns_to_look_in_vcenter_and_never_blocks() -> None:
    blank = mt(datastores=(Datastore("vsanDatastore", "ds-1", 61_440.0, None),))
    check = _warns(evaluate(fabrics=fabrics(master_target=blank)), "datastores", "look at it in vCenter")
    assert check.detail == "vsanDatastore free space not reported."
    # A known full datastore beside one ASR did not report: the unknown one may have room, so no failure.
    mixed = mt(datastores=(Datastore("full", "ds-1", 10_000.0, 10.0), Datastore("silent", "ds-2", None, None)))
    check = _warns(evaluate(fabrics=fabrics(master_target=mixed)), "datastores", "silent")
    assert "full 10 GB free of 9.8 TB (0 %)" in check.detail
    no_size = mt(datastores=(Datastore("vsanDatastore", "ds-1", None, 7168.5),))
    check = _warns(evaluate(fabrics=fabrics(master_target=no_size)), "datastores", "vCenter")
    assert check.detail == "vsanDatastore 7.0 TB free (size not reported)."
    wrong = mt(datastores=(Datastore("vsanDatastore", "ds-1", 100.0, 7168.5),))
    check = _warns(evaluate(fabrics=fabrics(master_target=wrong)), "datastores", "vCenter")
    assert "disagree" in check.detail
    for target in (blank, mixed, no_size, wrong):
        assert PreflightReport("vm", tuple(evaluate(fabrics=fabrics(master_target=target)).values())).ok


def test_a_retention_drive_asr_did_not_report_warns_to_look_at_the_master_target() -> None:
    for volume in (RetentionVolume("R:", 500 * GIB, None, 80), RetentionVolume("R:", None, 90 * GIB, None)):
        check = _warns(
            evaluate(fabrics=fabrics(master_target=mt(retention_volumes=(volume,)))),
            "master-target",
            "look at that drive on the master target mt-avs-01",
        )
        assert "R:" in check.detail and ("not reported" in check.detail)
        assert "older retention logs" not in check.remedy


def test_replication_health_critical_fails_with_asr_action_and_warning_warns() -> None:
    err = HealthError("78186", "RPO exceeded", recommended_action="Check the network bandwidth to AVS.")
    item = ready_item(replication_health="Critical", health_errors=(err,), os_type="Windows")
    check = _fails(evaluate(item), "replication-health", "Check the network bandwidth to AVS.")
    assert "[78186] RPO exceeded" in check.detail
    _warns(evaluate(ready_item(replication_health="Warning", os_type="Windows")), "replication-health", "portal")


def test_a_job_running_on_the_item_fails_naming_it() -> None:
    item = ready_item(current_scenario=running("UnplannedFailover", "job-77"), os_type="Windows")
    check = _fails(evaluate(item), "running-job", "job-77")
    assert "UnplannedFailover" in check.detail


def test_a_running_job_naming_the_vm_warns() -> None:
    job = Job("/x/replicationJobs/j-5", "j-5", "TestFailover", "Test failover", JobState.IN_PROGRESS, "InProgress",
              target_object_name="web01")  # fmt: skip
    finished = replace(job, name="j-6", state=JobState.SUCCEEDED)
    check = _warns(evaluate(running_jobs=[finished, job]), "running-job", "j-5")
    assert "Test failover" in check.detail
    assert evaluate(running_jobs=[finished])["running-job"].level is Level.PASS


def test_a_group_member_with_a_plan_is_sent_to_it_and_one_without_fails() -> None:
    member = ready_item(multi_vm_group_name="sql-tier", os_type="Windows")
    plan = RecoveryPlan(
        id="/x/replicationRecoveryPlans/rp-erp",
        name="rp-erp",
        friendly_name="ERP failback",
        groups=(PlanGroup("Boot", (member.id.lower(),)),),
    )
    # Held by a plan: its own state ("with its plan"), not a failure, and the report says where it goes.
    checks = evaluate(member, plans=[plan])
    check = checks["consistency-group"]
    assert check.level is Level.PLAN and "sql-tier" in check.detail
    assert "recovery plan instead" in check.remedy and "'ERP failback'" in check.remedy
    report = PreflightReport(member.friendly_name, tuple(checks.values()))
    assert report.ok and report.via_plan and report.summary.startswith("web01: fails back with its recovery plan")
    # Without the plans listed, the name the backend attached to the item is used.
    named = replace(member, recovery_plans=("rp-erp",))
    assert "'rp-erp'" in evaluate(named)["consistency-group"].remedy
    # In no plan at all, it cannot fail back: that is a failure.
    orphan = _fails(evaluate(member), "consistency-group", "create one")
    assert orphan.level is Level.FAIL


def test_report_lines_give_each_check_and_its_remedy() -> None:
    checks = tuple(evaluate(points=[]).values())
    report = PreflightReport("web01", checks)
    assert not report.ok and report.worst is Level.FAIL
    text = report.lines(ascii_only=True)
    assert text[0] == "web01: not ready, 1 blocking problem, 1 warning"
    assert any(line.startswith("  x FAIL Recovery point available") for line in text)
    assert any("-> Wait for replication" in line for line in text)
    assert report.check("recovery-points").level is Level.FAIL
    with pytest.raises(KeyError):
        report.check("nope")


def test_levels_order_and_words() -> None:
    assert Level.worst_of([Level.PASS, Level.FAIL, Level.WARN]) is Level.FAIL
    assert Level.worst_of([]) is Level.PASS
    assert Level.worst_of([Level.PASS, Level.PLAN, Level.WARN]) is Level.WARN
    assert [lv.word for lv in Level] == ["PASS", "PLAN", "WARN", "FAIL"]
    assert [lv.ascii_glyph for lv in Level] == ["+", ">", "!", "x"]


# -- plans ------------------------------------------------------------------------------------------------------


def _plan(*items: ProtectedItem, **changes: Any) -> RecoveryPlan:
    base = RecoveryPlan(
        id="/x/replicationRecoveryPlans/rp-erp",
        name="rp-erp",
        friendly_name="ERP failback",
        allowed_operations=("UnplannedFailover",),
        groups=(
            PlanGroup("Shutdown"),
            PlanGroup("Failover"),
            PlanGroup("Boot", tuple(i.id for i in items[:2])),
            PlanGroup("Boot", tuple(i.id for i in items[2:])),
        ),
    )
    return replace(base, **changes)


def _members() -> list[ProtectedItem]:
    return [
        ready_item("rpi-sql01", "sql01", multi_vm_group_name="sql-tier", os_type="Windows"),
        ready_item("rpi-sql02", "sql02", multi_vm_group_name="sql-tier", os_type="Windows"),
        ready_item("rpi-web01", "web01", os_type="Windows"),
    ]


def _plan_checks(items: list[ProtectedItem], plan: RecoveryPlan | None = None, **kw: Any) -> dict[str, Check]:
    pts = kw.get("points", {i.name: fresh_points() for i in items})
    checks = evaluate_plan(plan or _plan(*items), items, pts, kw.get("fabrics", fabrics()), [], NOW)
    return {c.key: c for c in checks}


def test_a_ready_plan_passes_and_describes_shared_servers_once() -> None:
    checks = _plan_checks(_members())
    assert {k for k, c in checks.items() if c.level is not Level.PASS} == {"network-path"}
    assert "consistency-group" not in checks  # inside its plan a group member is where it belongs
    assert checks["process-server"].detail.count("ps-azure-01") == 1
    assert "(used by sql01, sql02, web01)" in checks["process-server"].detail


def test_a_plan_names_the_vms_without_a_recovery_point() -> None:
    items = _members()
    pts = {"rpi-sql01": fresh_points(), "rpi-sql02": [], "rpi-web01": []}
    check = _fails(_plan_checks(items, points=pts), "recovery-points", "Wait for replication")
    assert check.detail.startswith("No recovery point yet for: sql02, web01.")


def test_a_plan_with_a_running_job_or_a_missing_member_fails() -> None:
    items = _members()
    busy = _plan(*items, current_scenario=running("UnplannedFailover", "job-rp"))
    _fails(_plan_checks(items, busy), "plan-running-job", "job-rp")
    gone = _plan(*items, ready_item("rpi-old", "old01"))
    check = _fails(_plan_checks(items, gone), "plan-members", "Edit 'ERP failback'")
    assert "rpi-old" in check.detail


def test_a_plan_member_not_on_the_failback_leg_is_named() -> None:
    items = _members()
    items[2] = committed_item(name="rpi-web01", id=item_id("rpi-web01"), friendly_name="web01", os_type="Windows")
    check = _fails(_plan_checks(items), "direction", "reprotect to Azure")
    assert check.detail.startswith("web01:")


def test_a_replication_group_split_across_master_targets_warns() -> None:
    items = _members()
    items[1] = replace(items[1], master_target_id="mt-2")
    second = mt(id="mt-2", name="mt-avs-02")
    fab = [replace(fabrics()[0], master_targets=(mt(), second))]
    check = _warns(_plan_checks(items, fabrics=fab), "group-targets", "same master target")
    assert "'sql-tier'" in check.detail


# -- against a backend: reads only ------------------------------------------------------------------------------


class ReadOnlyBackend:
    """Answers reads from fixed data; any operation fails the test."""

    def __init__(self, items: list[ProtectedItem], plans: list[RecoveryPlan]) -> None:
        self.items, self.plans = items, plans
        self.calls: list[str] = []

    def now(self) -> Any:
        return NOW

    def iter_item_pages(self, filter: str | None = None) -> Any:
        self.calls.append("items")
        yield self.items

    def list_fabrics(self) -> list[Fabric]:
        self.calls.append("fabrics")
        return fabrics()

    def list_plans(self) -> list[RecoveryPlan]:
        self.calls.append("plans")
        return self.plans

    def list_jobs(self, job_filter: Any = None) -> list[Job]:
        self.calls.append("jobs")
        assert job_filter is not None and "InProgress" in job_filter.states
        return []

    def list_recovery_points(self, item: ProtectedItem) -> list[Any]:
        self.calls.append(f"points:{item.name}")
        return fresh_points() if item.name != "rpi-web01" else []

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"preflight called {name}: it must only read")


def test_check_item_reads_what_it_lacks_and_never_writes() -> None:
    item = _members()[0]
    backend = ReadOnlyBackend([item], [_plan(*_members())])
    report = check_item(backend, item)
    assert report.target_name == "sql01" and report.kind == "item"
    assert report.check("consistency-group").remedy.startswith("Fail back its recovery plan instead: 'ERP failback'")
    assert sorted(backend.calls) == ["fabrics", "jobs", "plans", "points:rpi-sql01"]


def test_check_vault_reports_ready_items_and_every_plan_with_shared_reads() -> None:
    items = [*_members(), committed_item(name="rpi-app09", id=item_id("rpi-app09"), friendly_name="app09")]
    backend = ReadOnlyBackend(items, [_plan(*_members())])
    reports = check_vault(backend)
    assert [(r.kind, r.target_name) for r in reports] == [
        ("item", "sql01"),
        ("item", "sql02"),
        ("item", "web01"),
        ("plan", "ERP failback"),
    ]
    assert [backend.calls.count(k) for k in ("items", "fabrics", "plans", "jobs")] == [1, 1, 1, 1]
    assert backend.calls.count("points:rpi-web01") == 1
    plan_report = reports[-1]
    assert plan_report.check("recovery-points").detail.startswith("No recovery point yet for: web01.")


def test_check_plan_picks_its_members_out_of_the_vault() -> None:
    items = [*_members(), ready_item("rpi-other", "other01", os_type="Windows")]
    backend = ReadOnlyBackend(items, [])
    report = check_plan(backend, _plan(*_members()), items)
    assert report.kind == "plan" and "other01" not in " ".join(c.detail for c in report.checks)
    assert "points:rpi-other" not in backend.calls


def test_a_replication_group_split_across_the_plan_edge_fails() -> None:
    items = _members()
    plan = _plan(items[0], items[2])  # sql02 of the group sql-tier is left out
    checks = {c.key: c for c in evaluate_plan(plan, items, {i.name: fresh_points() for i in items}, fabrics(), [], NOW)}
    check = _fails(checks, "group-complete", "add those VMs to the plan")
    assert "sql02 (sql-tier)" in check.detail
    assert _plan_checks(items)["group-complete"].level is Level.PASS


def test_a_replication_group_without_a_common_app_consistent_point_warns() -> None:
    items = _members()
    pts = {i.name: fresh_points() for i in items}
    pts["rpi-sql02"] = [point(1, PointKind.CRASH_CONSISTENT), point(95, PointKind.APP_CONSISTENT)]
    check = _warns(_plan_checks(items, points=pts), "group-common-point", "Choose Latest")
    assert "'sql-tier'" in check.detail
    assert _plan_checks(items)["group-common-point"].level is Level.PASS


def test_a_master_target_without_a_health_field_is_not_reported_never_normal() -> None:
    from core.model import HealthError, MasterTarget
    from core.preflight import master_target_health

    assert master_target_health(MasterTarget(id="mt", name="mt-1", health_reported=False)) == "not reported"
    assert master_target_health(MasterTarget(id="mt", name="mt-1")) == "Normal"  # an empty list: no errors
    warned = MasterTarget(id="mt", name="mt-1", health_errors=(HealthError("78094", "Low space", severity="Warning"),))
    assert master_target_health(warned) == "Warning"
    # Not reported is said, and does not count against it on its own: the heartbeat and the space still judge it.
    check = evaluate(fabrics=fabrics(master_target=mt(health_reported=False)))["master-target"]
    assert "health not reported" in check.detail and check.level is Level.PASS
    stale = evaluate(fabrics=fabrics(master_target=mt(health_reported=False, last_heartbeat=NOW - timedelta(hours=2))))
    assert stale["master-target"].level is Level.FAIL


def test_a_master_target_answer_without_health_errors_reads_as_not_reported() -> None:
    from core.azure import mapping
    from core.preflight import master_target_health

    def vmware_fabric(target: dict[str, Any]) -> Any:
        doc = {"id": "/x/replicationFabrics/f", "name": "f", "properties": {"friendlyName": "cs",
               "customDetails": {"instanceType": "VMware", "masterTargetServers": [target]}}}  # fmt: skip
        return mapping.fabric(doc).master_targets[0]

    assert master_target_health(vmware_fabric({"id": "mt", "name": "mt-1"})) == "not reported"
    assert master_target_health(vmware_fabric({"id": "mt", "name": "mt-1", "healthErrors": []})) == "Normal"
    errors = [{"errorCode": "78094", "errorMessage": "Low space", "errorLevel": "Warning"}]
    assert master_target_health(vmware_fabric({"id": "mt", "name": "mt-1", "healthErrors": errors})) == "Warning"
