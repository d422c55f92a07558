"""The fault matrix: each fault through the real AzureBackend on the emulator, as the operator would meet it.

For every fault: a typed error with a message and a hint (or a transparent recovery), no crash, the journal
complete (every intent has its outcome), and no operation accepted twice.
"""

from __future__ import annotations

from typing import Any

import pytest

from core.emulator import Fault
from core.errors import (
    AuthenticationError,
    ConnectionLost,
    FailbackError,
    JobFailed,
    MalformedResponse,
    NotAllowedNow,
    NotFound,
    OperationInProgress,
    PermissionDenied,
    ServiceError,
    Throttled,
)
from core.failback import derive_stage, stage_reason
from core.model import JobState, PointChoice, Stage
from core.operations import RESTART_HINT
from core.resume import resume
from core.tracker import JobTracker
from tests.faults.conftest import Rig, RotatingCredential, make_rig


def _typed(error: FailbackError) -> None:
    """What every surfaced error must carry: a message and a hint (what to do next)."""
    assert error.message and error.hint, f"{type(error).__name__} lacks a message or a hint"


# -- throttling ---------------------------------------------------------------------------------------------------


def test_429_with_retry_after_on_a_read_is_absorbed(rig: Rig) -> None:
    rig.emulator.faults.add(Fault("throttle", method="GET", path="*/replicationprotecteditems/*", retry_after=20))
    before = rig.clock.now()
    item = rig.item("erp-web-01")
    assert item.friendly_name == "erp-web-01"
    statuses = [e.status for e in rig.wire.exchanges]
    assert statuses == [429, 200]
    assert (rig.clock.now() - before).total_seconds() >= 20  # the SDK waited as told, on the simulated clock


def test_429_with_retry_after_on_a_post_goes_out_once_and_is_refused(rig: Rig) -> None:
    rig.emulator.faults.add(Fault("throttle", method="POST", retry_after=5))
    with pytest.raises(Throttled) as caught:
        rig.ops.failover(rig.item("erp-web-01"), PointChoice.LATEST)
    _typed(caught.value)
    # an ASR action goes out once: no silent resend, even where azure-core would honour Retry-After
    assert [e.status for e in rig.wire.posts()] == [429]
    assert rig.kinds() == ["intent", "refused"]
    rig.assert_no_operation_twice()
    rig.assert_journal_complete()


def test_429_without_retry_after_on_a_post_is_refused_and_journaled(rig: Rig) -> None:
    rig.emulator.faults.add(Fault("throttle", method="POST"))
    with pytest.raises(Throttled) as caught:
        rig.ops.commit(rig.item("hr-app-01"))
    _typed(caught.value)
    assert caught.value.status == 429 and "throttling" in caught.value.hint
    assert [e.status for e in rig.wire.posts()] == [429]
    assert rig.kinds() == ["intent", "refused"]
    assert rig.journal.in_flight() == []
    rig.assert_journal_complete()


def test_429_without_retry_after_on_reads_backs_off_and_recovers(rig: Rig) -> None:
    rig.emulator.faults.add(Fault("throttle", method="GET", path="*/replicationjobs", count=2))
    jobs = rig.backend.list_jobs()
    assert jobs and [e.status for e in rig.wire.exchanges] == [429, 429, 200]


# -- server errors --------------------------------------------------------------------------------------------------


def test_503_burst_on_reads_is_retried(rig: Rig) -> None:
    rig.emulator.faults.add(Fault("server-error", method="GET", status=503, count=2, path="*/replicationfabrics"))
    assert rig.backend.list_fabrics()
    assert [e.status for e in rig.wire.exchanges][:3] == [503, 503, 200]


def test_500_burst_longer_than_the_retries_is_a_service_error_on_reads(rig: Rig) -> None:
    rig.emulator.faults.add(Fault("server-error", method="GET", status=500, count=None, path="*/replicationjobs"))
    with pytest.raises(ServiceError) as caught:
        rig.backend.list_jobs()
    assert caught.value.status == 500 and caught.value.code == "InternalServerError"


def test_500_burst_on_a_post_is_refused_with_a_hint_when_nothing_runs(rig: Rig) -> None:
    rig.emulator.faults.add(Fault("server-error", method="POST", status=500, count=None))
    with pytest.raises(ServiceError) as caught:
        rig.ops.commit(rig.item("hr-app-01"))
    _typed(caught.value)
    assert "nothing runs on hr-app-01" in caught.value.hint
    assert rig.item("hr-app-01").current_scenario is None
    assert rig.kinds() == ["intent", "refused"] and rig.journal.in_flight() == []
    rig.assert_no_operation_twice()
    rig.assert_journal_complete()
    rig.assert_no_operation_twice()
    rig.assert_journal_complete()


def test_a_post_answered_503_goes_out_only_once(rig: Rig) -> None:
    rig.emulator.faults.add(Fault("server-error", method="POST", status=503))
    with pytest.raises(ServiceError) as caught:
        rig.ops.commit(rig.item("hr-app-01"))
    _typed(caught.value)
    assert len(rig.wire.posts()) == 1
    assert rig.kinds() == ["intent", "refused"]
    rig.assert_journal_complete()


# -- the connection -------------------------------------------------------------------------------------------------


def test_connection_reset_in_the_middle_of_a_paged_list(tmp_path) -> None:  # type: ignore[no-untyped-def]
    rig = make_rig(tmp_path, page_size=10)
    rig.emulator.faults.add(Fault("drop", method="GET", path="*/replicationprotecteditems", page=2, count=None))
    pages = rig.backend.iter_item_pages()
    first = next(pages)
    assert len(first) == 10  # the first rows arrived and can be shown
    with pytest.raises(ConnectionLost) as caught:
        next(pages)
    _typed(caught.value)
    assert "network" in caught.value.hint.lower()
    with pytest.raises(ConnectionLost):  # never a silently shortened list
        rig.backend.list_items()


def test_connection_reset_once_in_a_paged_list_is_retried(tmp_path) -> None:  # type: ignore[no-untyped-def]
    rig = make_rig(tmp_path, page_size=10)
    rig.emulator.faults.add(Fault("drop", method="GET", path="*/replicationprotecteditems", page=2))
    items = rig.backend.list_items()
    assert len(items) == len(rig.emulator.simulation.items)
    assert 0 in [e.status for e in rig.wire.exchanges]


def test_a_dropped_post_that_never_reached_azure_leaves_the_intent_for_resume(rig: Rig) -> None:
    rig.emulator.faults.add(Fault("drop", method="POST"))
    with pytest.raises(ConnectionLost) as caught:
        rig.ops.commit(rig.item("hr-app-01"))
    _typed(caught.value)
    assert caught.value.hint == RESTART_HINT
    assert [e.status for e in rig.wire.posts()] == [0]  # sent once, never retried
    [flying] = rig.journal.in_flight()
    assert flying.job_name is None and flying.operation == "commit"
    _resume_abandons_it(rig)


def test_a_post_answered_slower_than_the_timeout_attaches_to_its_job(rig: Rig) -> None:
    # In-process the transport keeps azure-core's default read timeout (300 s); the wait is simulated.
    rig.emulator.faults.add(Fault("slow", method="POST", delay=301))
    started = rig.ops.failover(rig.item("erp-web-01"), PointChoice.LATEST)
    assert started.attached and "got through" in started.note
    assert len(rig.wire.posts()) == 1
    assert rig.kinds() == ["intent", "attached"]
    [flying] = rig.journal.in_flight()
    assert flying.job_name == started.handle.job_name
    rig.assert_journal_complete()


def test_over_https_a_slow_read_is_retried_and_a_slow_post_is_not(https_rig: Rig) -> None:
    rig = https_rig
    rig.emulator.faults.add(Fault("slow", method="GET", path="*/replicationprotecteditems/*", delay=0.8))
    item = rig.item("hr-app-01")
    assert [e.method for e in rig.wire.exchanges] == ["GET", "GET"]  # the first read timed out, the retry answered
    rig.emulator.faults.add(Fault("slow", method="POST", delay=0.8))
    started = rig.ops.commit(item)
    assert started.attached and "got through" in started.note
    assert len(rig.wire.posts()) == 1
    rig.assert_journal_complete()


def test_over_https_a_dropped_post_is_not_resent(https_rig: Rig) -> None:
    rig = https_rig
    rig.emulator.faults.add(Fault("drop", method="POST"))
    with pytest.raises(ConnectionLost) as caught:
        rig.ops.commit(rig.item("hr-app-01"))
    assert caught.value.hint == RESTART_HINT
    assert [e.status for e in rig.wire.posts()] == [0]
    assert rig.kinds() == ["intent"]
    _resume_abandons_it(rig)


def _resume_abandons_it(rig: Rig) -> None:
    """The restart the hint asks for: resume finds nothing on the item and closes the intent."""
    [resumed] = resume(rig.backend, rig.journal, JobTracker(rig.backend, rig.clock))
    assert resumed.how == "abandoned" and resumed.target_name == "hr-app-01"
    assert rig.kinds()[-1] == "abandoned"
    rig.assert_no_operation_twice()
    rig.assert_journal_complete()


# -- what the answer says -------------------------------------------------------------------------------------------


def test_malformed_json_is_a_typed_error_and_nothing_is_sent(rig: Rig) -> None:
    item = rig.item("hr-app-01")
    rig.emulator.faults.add(Fault("malformed-json", method="GET", path="*/replicationprotecteditems/*"))
    with pytest.raises(MalformedResponse) as caught:
        rig.ops.commit(item)
    _typed(caught.value)
    assert rig.wire.posts() == [] and rig.kinds() == []
    rig.emulator.faults.add(Fault("malformed-json", method="GET", path="*/replicationprotecteditems"))
    with pytest.raises(MalformedResponse):
        rig.backend.list_items()


def test_unknown_enum_values_do_not_crash(rig: Rig) -> None:
    rig.emulator.faults.add(Fault("unknown-enum", method="GET", path="*/replicationprotecteditems", count=None))
    items = rig.backend.list_items()
    odd = next(i for i in items if i.friendly_name == "erp-web-01")
    assert odd.replication_health == "Impaired"
    assert derive_stage(odd) is Stage.READY  # the stage comes from fields ASR still names plainly


def test_unknown_instance_type_is_not_ready_with_a_reason(rig: Rig) -> None:
    item = rig.item("erp-web-01")
    rig.emulator.faults.add(Fault("unknown-instance-type", method="GET", path="*/replicationprotecteditems/*"))
    alien = rig.item("erp-web-01")
    assert derive_stage(alien) is Stage.NOT_READY
    assert "InMageRcmNextGen" in stage_reason(alien)
    rig.emulator.faults.add(Fault("unknown-instance-type", method="GET", path="*/replicationprotecteditems/*"))
    with pytest.raises(NotAllowedNow) as caught:
        rig.ops.failover(item, PointChoice.LATEST)
    _typed(caught.value)
    assert "InMageRcmNextGen" in caught.value.message
    assert rig.wire.posts() == [] and rig.kinds() == []


def test_unknown_protection_state_is_not_ready_with_a_reason(rig: Rig) -> None:
    item = rig.item("erp-web-01")

    def newer_asr(method: str, path: str, doc: Any) -> Any:
        docs = doc.get("value", [doc]) if isinstance(doc, dict) else []
        for entry in docs:
            props = entry.get("properties") if isinstance(entry, dict) else None
            if isinstance(props, dict) and props.get("friendlyName") == "erp-web-01":
                props["protectionState"] = "ReplicationPausedForUpgrade"
                props["protectionStateDescription"] = "Replication paused for an agent upgrade"
        return doc

    rig.wire.rewrite = newer_asr
    odd = rig.item("erp-web-01")
    assert derive_stage(odd) is Stage.NOT_READY
    assert "Replication paused for an agent upgrade" in stage_reason(odd)
    with pytest.raises(NotAllowedNow) as caught:
        rig.ops.failover(item, PointChoice.LATEST)
    _typed(caught.value)
    assert "not ready" in caught.value.message
    assert rig.wire.posts() == [] and rig.kinds() == []


def test_a_server_error_on_a_read_says_what_to_do(rig: Rig) -> None:
    rig.emulator.faults.add(Fault("server-error", method="GET", status=500, count=None, path="*/replicationjobs"))
    with pytest.raises(ServiceError) as caught:
        rig.backend.list_jobs()
    _typed(caught.value)


# -- identity ---------------------------------------------------------------------------------------------------------


def test_expired_token_then_a_fresh_one(tmp_path) -> None:  # type: ignore[no-untyped-def]
    credential = RotatingCredential()
    rig = make_rig(tmp_path, credential=credential)
    item = rig.item("hr-app-01")
    rig.emulator.faults.add(Fault("token-expired", method="POST"))
    with pytest.raises(AuthenticationError) as caught:
        rig.ops.commit(item)
    _typed(caught.value)
    assert "Sign in again" in caught.value.hint
    assert rig.kinds() == ["intent", "refused"]
    started = rig.ops.commit(item)  # the operator sends it again: the policy dropped the stale token
    assert not started.attached
    first, second = rig.wire.posts()
    assert first.status == 401 and second.status == 202
    assert first.token != second.token and second.token == credential.issued[-1]
    rig.assert_no_operation_twice()
    rig.assert_journal_complete()


def test_403_names_the_roles_that_are_needed(rig: Rig) -> None:
    rig.emulator.faults.add(Fault("forbidden", method="POST"))
    with pytest.raises(PermissionDenied) as caught:
        rig.ops.commit(rig.item("hr-app-01"))
    _typed(caught.value)
    assert "Site Recovery Operator" in caught.value.hint and "Contributor" in caught.value.hint
    assert rig.kinds() == ["intent", "refused"]
    assert rig.journal.entries()[1]["error"]["type"] == "PermissionDenied"
    rig.assert_no_operation_twice()
    rig.assert_journal_complete()
    rig.assert_journal_complete()


# -- the vault moves meanwhile ----------------------------------------------------------------------------------------


def test_item_deleted_meanwhile(rig: Rig) -> None:
    item = rig.item("hr-app-01")
    rig.emulator.faults.add(Fault("item-deleted", item="hr-app-01", after=60))
    rig.clock.advance(61)
    with pytest.raises(NotFound) as caught:
        rig.ops.commit(item)
    _typed(caught.value)
    assert "deleted" in caught.value.hint
    assert rig.wire.posts() == [] and rig.kinds() == []


def test_409_operation_in_progress_is_refused_and_journaled(rig: Rig) -> None:
    rig.emulator.faults.add(Fault("busy", method="POST"))
    with pytest.raises(OperationInProgress) as caught:
        rig.ops.commit(rig.item("hr-app-01"))
    _typed(caught.value)
    assert caught.value.details and caught.value.details[0].recommended_action
    assert rig.kinds() == ["intent", "refused"] and rig.journal.in_flight() == []


def test_409_because_another_operator_just_started_attaches_to_their_job(rig: Rig) -> None:
    item = rig.item("hr-app-01")

    def race(method: str, path: str) -> None:
        if method == "POST" and path.lower().endswith("/failovercommit"):
            rig.wire.before = None
            rig.emulator.act_as_other_operator("hr-app-01", "commit")

    rig.wire.before = race
    started = rig.ops.commit(item)
    assert started.attached and "refused" in started.note
    assert [e.status for e in rig.wire.posts()] == [409]
    assert rig.kinds() == ["intent", "refused", "attached"]
    [flying] = rig.journal.in_flight()
    assert flying.job_name == started.handle.job_name and flying.operation == "attach"
    rig.assert_no_operation_twice()
    rig.assert_journal_complete()


def test_another_operator_commits_while_this_one_looks(rig: Rig) -> None:
    rig.emulator.faults.add(Fault("other-operator", item="hr-app-01", operation="commit", after=120))
    looked_at = rig.item("hr-app-01")  # the operator reads the item, verifies the VM for a few minutes ...
    assert derive_stage(looked_at) is Stage.FAILED_OVER
    rig.clock.advance(125)
    started = rig.ops.commit(looked_at)  # ... then presses commit on what they saw
    assert started.attached and "not started from this journal" in started.note
    assert started.handle.operation == "commit"
    assert rig.wire.posts() == []
    assert rig.kinds() == ["attached"]
    rig.clock.advance(3600)  # their commit is over: a late press is refused, with where the item now stands
    with pytest.raises(NotAllowedNow, match="Committed") as caught:
        rig.ops.commit(looked_at)
    _typed(caught.value)
    assert rig.wire.posts() == []


# -- jobs that end badly ----------------------------------------------------------------------------------------------


def test_job_failing_at_a_task_surfaces_code_causes_and_action(rig: Rig) -> None:
    rig.emulator.faults.add(
        Fault(
            "job-fails",
            item="erp-web-01",
            operation="failover",
            task="Start the replica virtual machine",
            error_code=95525,
            error_message="The virtual machine could not be started on the master target.",
            possible_causes="The master target server cannot reach the AVS datastore.",
            recommended_action="Check the master target's datastore access, then restart the job.",
        )
    )
    started = rig.ops.failover(rig.item("erp-web-01"), PointChoice.LATEST)
    tracker = JobTracker(rig.backend, rig.clock, interval=30)
    with pytest.raises(JobFailed) as caught:
        tracker.wait(started.handle.job_name, on_update=rig.journal.job_update, timeout=7200)
    _typed(caught.value)
    details = caught.value.details
    assert details, "the job's errors must reach the operator"
    text = " ".join(f"{d.code} {d.provider_error_code} {d.possible_causes} {d.recommended_action}" for d in details)
    assert "95525" in text and "datastore" in text and "restart the job" in text
    assert rig.journal.in_flight() == []  # the failed end is journaled: nothing left to resume
    final = rig.journal.entries()[-1]
    assert final["kind"] == "job_update" and final["state"] == "Failed" and final["errors"]
    assert "Restart" in rig.backend.get_job(started.handle.job_name).allowed_actions


def test_cancelled_job(rig: Rig) -> None:
    started = rig.ops.failover(rig.item("erp-web-01"), PointChoice.LATEST)
    rig.clock.advance(30)
    cancel = rig.ops.cancel_job(started.handle.job_name)
    assert cancel.handle.job_name == started.handle.job_name
    tracker = JobTracker(rig.backend, rig.clock)
    with pytest.raises(JobFailed, match="Cancelled") as caught:
        tracker.wait(started.handle.job_name, on_update=rig.journal.job_update, timeout=600)
    _typed(caught.value)
    assert rig.backend.get_job(started.handle.job_name).state is JobState.CANCELLED
    assert rig.kinds() == ["intent", "sent", "intent", "sent", "job_update"]
    assert rig.journal.in_flight() == []
    rig.assert_no_operation_twice()
    rig.assert_journal_complete()
