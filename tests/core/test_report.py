"""The incident report: built from a real journal, readable Markdown and stable JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from core.clock import ManualClock
from core.errors import OperationInProgress, UsageError
from core.journal import Journal
from core.model import ErrorDetail, Job, JobState, JobTask, OperationHandle, VaultRef
from core.report import human_seconds, render_report

VAULT = VaultRef("sub-1", "rg-dr", "vault-avs")
START = datetime(2026, 11, 25, 14, 0, 0, tzinfo=UTC)
MT_ERROR = ErrorDetail(
    code="95525",
    message="The replica virtual machine could not be started.",
    possible_causes="The master target server cannot reach the ESXi host.",
    recommended_action="Check that the master target can reach vCenter and the ESXi host, then retry.",
    activity_id="act-42",
    provider_error_code="95525",
)


def item_id(name: str) -> str:
    return (
        f"{VAULT.arm_id}/replicationFabrics/fab/replicationProtectionContainers/cont/replicationProtectedItems/{name}"
    )


def job(name: str, target: str, state: JobState, start: datetime, *, fail: bool = False) -> Job:
    check_end = start + timedelta(seconds=42)
    end = start + timedelta(seconds=300)
    skipped = datetime(1, 1, 1, tzinfo=UTC)
    tasks = (
        JobTask(
            "t1",
            "VmUfoPrerequisitesCheck",
            "Prerequisites check for failover",
            JobState.SUCCEEDED,
            "Completed",
            start,
            check_end,
        ),
        JobTask(
            "t2", "VmShutdownVmOnPrimary", "Shut down the virtual machine", JobState.OTHER, "Skipped", skipped, skipped
        ),
        JobTask(
            "t3",
            "VmFailover",
            "Start failover",
            JobState.FAILED if fail else JobState.SUCCEEDED,
            "Failed" if fail else "Completed",
            check_end,
            end,
            errors=(MT_ERROR,) if fail else (),
        ),
    )
    return Job(
        id=f"{VAULT.arm_id}/replicationJobs/{name}",
        name=name,
        scenario_name="UnplannedFailover",
        friendly_name="Failover",
        state=state,
        state_description=state.value,
        start_time=start,
        end_time=end if state.is_terminal else None,
        tasks=tasks,
        errors=(MT_ERROR,) if fail else (),
        target_object_id=item_id(target),
        target_object_name=target,
    )


@pytest.fixture
def entries(tmp_path: Path) -> list[dict[str, Any]]:
    """A session: two failovers (one fails), a refused commit, a note, and a request cut off by a dropped link."""
    clock = ManualClock(START)
    j = Journal(
        tmp_path / "journal.jsonl",
        clock=clock,
        who="ops@contoso.com",
        host="jump-1",
        terminal="ssh=10.0.0.5:52144 tty=/dev/pts/3",
        session_id="sess-one",
    )

    first = j.intent(
        "failover",
        vault=VAULT,
        target_id=item_id("vm-01"),
        target_name="vm-01",
        recovery_point="latest",
        recovery_point_time=START - timedelta(seconds=38),
        data_loss_seconds=38.0,
    )
    clock.advance(1)
    j.sent(first, OperationHandle("failover", "job-0001", item_id("vm-01"), "vm-01", retry_after=30))
    second = j.intent(
        "failover",
        vault=VAULT,
        target_id=item_id("vm-02"),
        target_name="vm-02",
        recovery_point="app-consistent",
        recovery_point_time=START - timedelta(minutes=53),
        data_loss_seconds=53 * 60.0,
        acknowledged_loss=True,
    )
    clock.advance(1)
    j.sent(second, OperationHandle("failover", "job-0002", item_id("vm-02"), "vm-02"))
    clock.advance(10)
    j.job_update(job("job-0001", "vm-01", JobState.IN_PROGRESS, START + timedelta(seconds=5)))
    clock.advance(300)
    j.job_update(job("job-0001", "vm-01", JobState.SUCCEEDED, START + timedelta(seconds=5)))
    j.job_update(job("job-0002", "vm-02", JobState.FAILED, START + timedelta(seconds=6), fail=True))
    clock.advance(60)
    j.note("vm-01 verified on AVS | VMware Tools running", checklist="4/4")
    commit = j.intent("commit", vault=VAULT, target_id=item_id("vm-03"), target_name="vm-03")
    j.refused(
        commit,
        OperationInProgress(
            "Another operation is in progress on vm-03.",
            code="OperationInProgress",
            status=409,
            activity_id="act-7",
            details=(ErrorDetail("28031", "A reprotect job is running.", recommended_action="Wait for job-9 to end."),),
        ),
    )
    clock.advance(5)
    j.intent(
        "failover",
        vault=VAULT,
        target_id=item_id("vm-04"),
        target_name="vm-04",
        recovery_point="latest",
        data_loss_seconds=12.0,
    )
    return j.entries()


def test_markdown_tells_the_whole_story(entries: list[dict[str, Any]]) -> None:
    md = render_report(entries)
    assert md.startswith("# Failback session report\n")
    assert "- Period: 2026-11-25 14:00:00 UTC to 2026-11-25 14:06:17 UTC" in md
    assert f"- Vault: `{VAULT.arm_id}`" in md
    for heading in ("## Who and where", "## Outcome per item", "## Steps", "## Jobs", "## Refused requests"):
        assert f"\n{heading}\n" in md
    # who and from where
    assert "| ops@contoso.com |" in md and "jump-1" in md and "ssh=10.0.0.5:52144 tty=/dev/pts/3" in md
    # the choice, the loss, its acknowledgement, the job and the outcome, per item
    assert "| vm-01 | failover | latest (2026-11-25 13:59:22 UTC) | 38s | no | `job-0001` | Succeeded |" in md
    assert "| vm-02 | failover | app-consistent (2026-11-25 13:07:00 UTC) | 53m 00s | yes | `job-0002` | Failed |" in md
    assert "| vm-03 | commit | — | — | — | — | Refused |" in md
    assert "| vm-04 | failover | latest | 12s | no | — | Unconfirmed: intent recorded, no reply |" in md
    # task durations, skipped tasks named as such
    assert "| Prerequisites check for failover | Succeeded | 2026-11-25 14:00:05 | 2026-11-25 14:00:47 | 42s |" in md
    assert "| Shut down the virtual machine | Skipped | — | — | — |" in md
    assert "| Start failover | Failed | 2026-11-25 14:00:48 | 2026-11-25 14:05:06 | 4m 18s |" in md
    assert "- Took: 5m 00s" in md
    # errors with what to do
    assert "- **95525**: The replica virtual machine could not be started." in md
    assert "  - Possible causes: The master target server cannot reach the ESXi host." in md
    assert "  - Recommended action: Check that the master target can reach vCenter and the ESXi host, then retry." in md
    assert md.count("Recommended action: Check that the master target") == 1  # job and task carry the same error
    assert "- Error: OperationInProgress (HTTP 409): Another operation is in progress on vm-03." in md
    assert "- What to do: Another operation is running on this item." in md
    assert "  - Recommended action: Wait for job-9 to end." in md
    # a pipe in free text cannot break the table
    assert "vm-01 verified on AVS \\| VMware Tools running (checklist=4/4)" in md


def test_steps_table_has_one_row_per_record_in_order(entries: list[dict[str, Any]]) -> None:
    md = render_report(entries)
    steps = md.split("## Steps\n\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert len(steps) == 2 + len(entries)
    assert steps[2].startswith("| 2026-11-25 14:00:00 | ops@contoso.com | intent | vm-01 | about to send failover;")
    assert "| job | vm-02 | Failover job job-0002 failed after 5m 00s |" in steps[-5]


def test_json_is_stable_sorted_and_complete(entries: list[dict[str, Any]]) -> None:
    text = render_report(entries, fmt="json")
    data = json.loads(text)
    assert text == json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert render_report(list(entries), fmt="json") == text
    assert data["record_count"] == len(entries) and data["vaults"] == [VAULT.arm_id]
    outcomes = {i["target_name"]: i["outcome"] for i in data["items"]}
    assert outcomes == {
        "vm-01": "Succeeded",
        "vm-02": "Failed",
        "vm-03": "Refused",
        "vm-04": "Unconfirmed: intent recorded, no reply",
    }
    [vm02] = [i["attempts"][0] for i in data["items"] if i["target_name"] == "vm-02"]
    assert vm02["recovery_point"] == "app-consistent" and vm02["data_loss_seconds"] == 3180.0
    assert vm02["acknowledged_loss"] is True and vm02["job_name"] == "job-0002"
    jobs = {j["job_name"]: j for j in data["jobs"]}
    assert [s["state"] for s in jobs["job-0001"]["states_seen"]] == ["InProgress", "Succeeded"]
    assert [t["duration_seconds"] for t in jobs["job-0002"]["tasks"]] == [42.0, None, 258.0]
    assert jobs["job-0002"]["errors"][0]["recommended_action"].startswith("Check that the master target")
    [vm03] = [i["attempts"][0] for i in data["items"] if i["target_name"] == "vm-03"]
    assert vm03["refused"]["details"][0]["code"] == "28031"
    assert data["sessions"][0]["who"] == "ops@contoso.com" and data["sessions"][0]["records"] == len(entries)


def test_since_keeps_only_later_records(entries: list[dict[str, Any]]) -> None:
    since = START + timedelta(minutes=6)
    data = json.loads(render_report(entries, fmt="json", since=since))
    assert data["since"] == "2026-11-25T14:06:00Z"
    assert {s["kind"] for s in data["steps"]} == {"note", "intent", "refused"}
    assert "Records since 2026-11-25 14:06:00 UTC only" in render_report(entries, since=since)


def test_a_resumed_session_links_the_unconfirmed_request_to_the_job_found(tmp_path: Path) -> None:
    clock = ManualClock(START)
    path = tmp_path / "journal.jsonl"
    first = Journal(path, clock=clock, who="ops@contoso.com", host="jump-1", terminal="", session_id="a")
    first.intent("failover", vault=VAULT, target_id=item_id("vm-01"), target_name="vm-01", recovery_point="latest")
    clock.advance(120)  # the link dropped before the 202 came back
    second = Journal(path, clock=clock, who="ops@contoso.com", host="jump-2", terminal="", session_id="b")
    second.attached(item_id("vm-01"), "job-found", "resume: found in the item's currentScenario")
    second.job_update(job("job-found", "vm-01", JobState.SUCCEEDED, START + timedelta(seconds=3)))
    data = json.loads(render_report(second.entries(), fmt="json"))
    [item] = data["items"]
    assert item["outcome"] == "Succeeded" and item["attempts"][0]["job_name"] == "job-found"
    assert item["attempts"][0]["attached"][0]["reason"].startswith("resume")
    assert [s["host"] for s in data["sessions"]] == ["jump-1", "jump-2"]


def test_unknown_kinds_and_missing_fields_do_not_break_the_report() -> None:
    odd = [
        {"ts": "2026-11-25T14:00:00Z", "kind": "from-the-future", "who": "x"},
        {"kind": "sent", "job_name": "j"},
        {"ts": "not a time", "kind": "job_update", "job_name": "j", "state": "Weird", "tasks": [{"name": "n"}]},
        {},
    ]
    md = render_report(odd)
    assert "from-the-future" in md and "`j`" in md
    data = json.loads(render_report(odd, fmt="json"))
    assert data["record_count"] == 4 and data["jobs"][0]["state"] == "Weird"


def test_empty_journal() -> None:
    md = render_report([], title="Night of 25 November")
    assert md.startswith("# Night of 25 November\n") and "No journal records in this period." in md
    assert json.loads(render_report([], fmt="json"))["items"] == []


def test_unknown_format_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        render_report([], fmt="html")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (38.4, "38s"),
        (3180, "53m 00s"),
        (7290, "2h 01m 30s"),
        (93600, "1d 02h 00m"),
        (-5, "-5s"),
        (None, "unknown"),
    ],
)
def test_human_seconds(seconds: float | None, text: str) -> None:
    assert human_seconds(seconds) == text


def test_an_abandoned_request_is_reported_as_not_sent(tmp_path: Path) -> None:
    j = Journal(tmp_path / "journal.jsonl", clock=ManualClock(START), who="ops", host="h", terminal="")
    intent = j.intent("reprotect", vault=VAULT, target_id=item_id("vm-05"), target_name="vm-05")
    j.abandon(intent, "no job on the item after the link dropped; the operator chose to wait")
    md = render_report(j.entries())
    assert "| vm-05 | reprotect | — | — | — | — | Abandoned (not sent) |" in md
    assert "| not sent | vm-05 | reprotect not sent: no job on the item after the link dropped;" in md


def test_a_job_of_no_named_kind_and_a_skipped_preflight_read_plainly_in_the_timeline() -> None:
    from core.report import _step

    update = {"kind": "job_update", "job_name": "j-1", "state": "Succeeded", "target_name": "dc-01"}
    assert _step(update)["detail"] == "job j-1 succeeded"
    named = {**update, "friendly_name": "Failover"}
    assert _step(named)["detail"] == "Failover job j-1 succeeded"
    intent = {
        "kind": "intent",
        "operation": "failover",
        "target_name": "jump-01",
        "details": {"preflight": "skipped", "preflight_reason": "CAB-4711 approved"},
    }
    assert "preflight FAIL overridden: CAB-4711 approved" in _step(intent)["detail"]
