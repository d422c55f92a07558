"""JobTracker against the emulator: follows jobs to their end on a read budget that does not grow with jobs."""

from __future__ import annotations

import pytest

from core.bootstrap import EMULATOR_BASE_URL, build_backend
from core.clock import ManualClock
from core.config import Settings
from core.emulator import ArmEmulator, load_scenario
from core.errors import JobFailed, NotFound
from core.failback import can_failover
from core.model import JobState, PointChoice
from core.tracker import JobTracker


@pytest.fixture
def rig():
    clock = ManualClock()
    emulator = ArmEmulator(load_scenario("demo"), clock, base_url=EMULATOR_BASE_URL)
    backend = build_backend(Settings(demo=True), emulator=emulator)
    return backend, emulator, clock


def _ready_items(backend, count):
    items = [i for page in backend.iter_item_pages() for i in page if can_failover(i).allowed]
    assert len(items) >= count
    return items[:count]


def _job_reads(emulator) -> int:
    return sum(n for kind, n in emulator.stats.by_kind.items() if kind.startswith("GET replicationJobs"))


def test_wait_follows_a_failover_to_success(rig) -> None:
    backend, emulator, clock = rig
    (item,) = _ready_items(backend, 1)
    handle = backend.unplanned_failover(item, PointChoice.LATEST)
    seen: list[JobState] = []
    job = JobTracker(backend, clock).wait(handle.job_name, on_update=lambda j: seen.append(j.state))
    assert job.state is JobState.SUCCEEDED
    assert seen[0] in (JobState.NOT_STARTED, JobState.IN_PROGRESS) and seen[-1] is JobState.SUCCEEDED


def test_many_jobs_cost_one_list_read_per_interval(rig) -> None:
    backend, emulator, clock = rig
    handles = [backend.unplanned_failover(i, PointChoice.LATEST) for i in _ready_items(backend, 6)]
    tracker = JobTracker(backend, clock, interval=10, batch_threshold=3)
    for h in handles:
        tracker.track(h.job_name)
    before = _job_reads(emulator)
    tracker.poll()  # first look at everything
    clock.advance(10)
    tracker.poll()
    reads = _job_reads(emulator) - before
    # one list per poll while all six run, not six GETs
    assert reads == 2, emulator.stats.by_kind
    assert len(tracker.jobs) == 6


def test_no_poll_before_the_interval(rig) -> None:
    backend, emulator, clock = rig
    (item,) = _ready_items(backend, 1)
    handle = backend.unplanned_failover(item, PointChoice.LATEST)
    tracker = JobTracker(backend, clock, interval=10)
    tracker.track(handle.job_name)
    tracker.poll()
    before = _job_reads(emulator)
    clock.advance(5)
    assert tracker.poll() == []
    assert _job_reads(emulator) == before
    clock.advance(5)
    tracker.poll()
    assert _job_reads(emulator) == before + 1


def test_a_failed_job_raises_with_its_errors(rig) -> None:
    from core.model import ReprotectTarget

    backend, emulator, clock = rig
    (item,) = _ready_items(backend, 1)
    tracker = JobTracker(backend, clock)
    tracker.wait(backend.unplanned_failover(item, PointChoice.LATEST).job_name)
    tracker.wait(backend.commit(backend.get_item(item.id)).job_name)
    fabric = next(f for f in backend.list_fabrics() if f.process_servers)
    target = ReprotectTarget(fabric.process_servers[0].id, fabric.master_targets[0].id)
    # straight after the failover: inside the agent-registration window, the reprotect job fails
    handle = backend.reprotect(backend.get_item(item.id), target)
    with pytest.raises(JobFailed) as caught:
        tracker.wait(handle.job_name)
    assert caught.value.details and caught.value.details[0].recommended_action


def test_waiting_on_a_job_that_does_not_exist_ends(rig) -> None:
    backend, _emulator, clock = rig
    with pytest.raises(NotFound):
        JobTracker(backend, clock).wait("00000000-0000-0000-0000-000000000000")
