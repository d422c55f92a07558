"""One contract, two ways in: the production AzureBackend against the emulator in-process and over HTTPS."""

from __future__ import annotations

import pytest

from core import failback
from core.errors import NotAllowedNow, NotFound, OperationInProgress, ServiceError
from core.model import JobFilter, JobState, PointChoice, PointKind, ReprotectTarget, Stage
from tests.contract.conftest import PAGE_SIZE, Rig, advance_until


def _item(rig: Rig, name: str):
    items = [i for page in rig.backend.iter_item_pages() for i in page]
    return failback.resolve_item(items, name)


def test_list_reads_every_page(rig: Rig) -> None:
    pages = list(rig.backend.iter_item_pages())
    assert len(pages) > 2, "the demo vault should span several pages at this page size"
    assert all(len(p) <= PAGE_SIZE for p in pages)
    names = [i.friendly_name for p in pages for i in p]
    assert len(names) == len(set(names)) >= 30
    assert rig.emulator.stats.count("GET replicationProtectedItems") == len(pages)
    # every stage of the failback job is represented in the demo vault
    assert {failback.derive_stage(i) for p in pages for i in p} == set(Stage)


def test_filter_travels_in_next_link(rig: Rig) -> None:
    plan = rig.backend.list_plans()[0]
    filtered = [i for p in rig.backend.iter_item_pages(f"RecoveryPlanName eq '{plan.name}'") for i in p]
    assert filtered, "the plan has members"
    assert {i.id.lower() for i in filtered} == {i.lower() for i in plan.item_ids}
    assert all(plan.name in i.recovery_plans for i in filtered)


def test_sdk_pager_agrees_with_the_raw_pages(rig: Rig) -> None:
    raw = {i.id: i for p in rig.backend.iter_item_pages() for i in p}
    via_models = {i.id: i for i in rig.backend.list_items_with_sdk_models()}
    assert raw.keys() == via_models.keys()
    sample = next(iter(raw))
    assert raw[sample].protection_state == via_models[sample].protection_state


def test_recovery_points_newest_first_with_both_kinds(rig: Rig) -> None:
    item = _item(rig, "dc-01")
    points = rig.backend.list_recovery_points(item)
    assert len(points) > 20
    assert [p.time for p in points] == sorted((p.time for p in points), reverse=True)
    kinds = {p.kind for p in points}
    assert {PointKind.CRASH_CONSISTENT, PointKind.APP_CONSISTENT} <= kinds
    assert points[0].time <= rig.clock.now()


def test_fabric_lists_process_servers_master_targets_and_accounts(rig: Rig) -> None:
    fabrics = rig.backend.list_fabrics()
    vmware = [f for f in fabrics if f.process_servers]
    assert vmware
    servers = vmware[0].process_servers
    assert len(servers) >= 2 and {s.is_healthy for s in servers} == {True, False}
    assert vmware[0].master_targets and vmware[0].run_as_accounts


def test_failover_commit_reprotect_of_one_vm(rig: Rig) -> None:
    item = _item(rig, "dc-01")
    assert failback.can_failover(item).allowed

    handle = rig.backend.unplanned_failover(item, PointChoice.LATEST_APP_CONSISTENT)
    assert handle.job_name and handle.operation == "failover"
    job = rig.backend.get_job(handle.job_name)
    assert job.state is JobState.NOT_STARTED and job.tasks == ()
    assert failback.derive_stage(rig.backend.get_item(item.id)) is Stage.FAILOVER_RUNNING

    advance_until(rig, lambda: rig.backend.get_job(handle.job_name).state.is_terminal)
    job = rig.backend.get_job(handle.job_name)
    assert job.state is JobState.SUCCEEDED, job.errors
    assert [t.name for t in job.tasks][0] == "VmUfoPrerequisitesCheck"
    assert any(t.friendly_name == "Start the replica virtual machine" for t in job.tasks)
    failed_over = rig.backend.get_item(item.id)
    assert failback.derive_stage(failed_over) is Stage.FAILED_OVER
    # it landed on the app-consistent point that was newest when the failover was asked for
    assert failed_over.failover_recovery_point_id

    commit = rig.backend.commit(failed_over)
    advance_until(rig, lambda: rig.backend.get_job(commit.job_name).state.is_terminal)
    assert rig.backend.get_job(commit.job_name).state is JobState.SUCCEEDED
    committed = rig.backend.get_item(item.id)
    assert failback.derive_stage(committed) is Stage.COMMITTED

    fabric = next(f for f in rig.backend.list_fabrics() if f.process_servers)
    target = ReprotectTarget(
        process_server_id=next(s.id for s in fabric.process_servers if s.is_healthy),
        master_target_id=fabric.master_targets[0].id,
        run_as_account_id=fabric.run_as_accounts[0].id,
    )
    rig.clock.advance(16 * 60)  # past the agent-registration window
    reprotect = rig.backend.reprotect(committed, target)
    advance_until(rig, lambda: rig.backend.get_job(reprotect.job_name).state.is_terminal, limit=4 * 3600)
    job = rig.backend.get_job(reprotect.job_name)
    assert job.state is JobState.SUCCEEDED, job.errors
    assert job.scenario_name == "SwitchReplicationGroupProtection"
    children = [t.child_job_name for task in job.tasks for t in (task, *task.child_tasks) if t.child_job_name]
    assert children, "reprotect spawns the Enable replication job"
    assert rig.backend.get_job(children[0]).friendly_name == "Enable replication"
    assert job.new_item_id
    assert failback.derive_stage(rig.backend.get_item(job.new_item_id)) is Stage.PROTECTED_TO_AZURE


def test_reprotect_inside_the_agent_window_fails_with_a_recognisable_error(rig: Rig) -> None:
    item = _item(rig, "dc-02")
    handle = rig.backend.unplanned_failover(item, PointChoice.LATEST)
    advance_until(rig, lambda: rig.backend.get_job(handle.job_name).state.is_terminal)
    commit = rig.backend.commit(rig.backend.get_item(item.id))
    advance_until(rig, lambda: rig.backend.get_job(commit.job_name).state.is_terminal)
    fabric = next(f for f in rig.backend.list_fabrics() if f.process_servers)
    target = ReprotectTarget(fabric.process_servers[0].id, fabric.master_targets[0].id)
    reprotect = rig.backend.reprotect(rig.backend.get_item(item.id), target)
    advance_until(rig, lambda: rig.backend.get_job(reprotect.job_name).state.is_terminal)
    job = rig.backend.get_job(reprotect.job_name)
    assert job.state is JobState.FAILED
    assert failback.is_agent_registration_failure(job)
    assert job.errors[0].recommended_action
    assert "Restart" in job.allowed_actions


def test_jobs_list_with_state_filter(rig: Rig) -> None:
    everything = rig.backend.list_jobs()
    assert len(everything) >= 5
    running = rig.backend.list_jobs(JobFilter(states=("InProgress", "NotStarted")))
    assert running and all(j.state in (JobState.IN_PROGRESS, JobState.NOT_STARTED) for j in running)
    failed = rig.backend.list_jobs(JobFilter(states=("Failed",)))
    assert all(j.state is JobState.FAILED for j in failed)
    assert {j.name for j in running}.isdisjoint({j.name for j in failed})


def test_busy_item_answers_409_and_is_not_retried_forever(rig: Rig) -> None:
    item = _item(rig, "file-01")
    rig.backend.unplanned_failover(item, PointChoice.LATEST)
    posts_before = rig.emulator.stats.count("POST unplannedFailover")
    with pytest.raises(OperationInProgress) as caught:
        rig.backend.unplanned_failover(item, PointChoice.LATEST)
    assert rig.emulator.stats.count("POST unplannedFailover") == posts_before + 1
    assert caught.value.details and caught.value.hint


def test_operation_not_allowed_by_asr_is_a_service_error_with_details(rig: Rig) -> None:
    item = _item(rig, "wiki-01")  # committed: ASR does not allow failover
    with pytest.raises(ServiceError) as caught:
        rig.backend.unplanned_failover(item, PointChoice.LATEST)
    assert caught.value.status == 400
    assert caught.value.details


def test_unknown_item_is_not_found(rig: Rig) -> None:
    item = _item(rig, "dc-01")
    with pytest.raises(NotFound):
        rig.backend.get_item(item.id.replace(item.name, "no-such-item"))


def test_read_only_sends_nothing(rig: Rig) -> None:
    rig.backend.read_only = True
    item = _item(rig, "dc-01")
    writes = rig.emulator.stats.writes
    with pytest.raises(NotAllowedNow):
        rig.backend.unplanned_failover(item, PointChoice.LATEST)
    assert rig.emulator.stats.writes == writes


def test_backend_follows_the_emulator_clock_and_knows_it_is_simulated(tmp_path) -> None:
    """Over HTTPS with no clock of its own, the backend reads simulated time and the simulation mark."""
    from core.azure.backend import AzureBackend
    from core.clock import AcceleratedClock
    from core.config import StaticTokenCredential
    from core.emulator import EmulatorServer
    from core.model import VaultRef

    sim = AcceleratedClock(speed=0.0)
    sim.advance(-3 * 86400)  # the simulated vault lives three days in the past
    server = EmulatorServer("small", clock=sim, state_dir=tmp_path / "emulator")
    info = server.start()
    try:
        backend = AzureBackend(
            VaultRef.parse(info.vault_id),
            StaticTokenCredential("emulator"),
            arm_endpoint=info.url,
            ca_bundle=str(info.ca_file),
        )
        assert not backend.simulated
        items = backend.list_items()
        assert items and backend.simulated
        assert abs((backend.now() - sim.now()).total_seconds()) < 2
        newest = max(i.last_recovery_point_time for i in items if i.last_recovery_point_time)
        assert newest <= backend.now()
    finally:
        server.stop()
