"""The session journal: written before sending, readable after a kill, private, shared, and free of tokens."""

from __future__ import annotations

import base64
import json
import multiprocessing
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.clock import ManualClock
from core.errors import OperationInProgress
from core.journal import InFlight, Journal, describe_terminal, refuse_secrets, vault_of
from core.model import ErrorDetail, Job, JobState, JobTask, OperationHandle, VaultRef

VAULT = VaultRef("sub-1", "rg-dr", "vault-avs")
START = datetime(2026, 11, 25, 14, 0, 0, tzinfo=UTC)


def item_id(name: str) -> str:
    return (
        "/Subscriptions/sub-1/resourceGroups/rg-dr/providers/Microsoft.RecoveryServices/vaults/vault-avs"
        f"/replicationFabrics/fab/replicationProtectionContainers/cont/replicationProtectedItems/{name}"
    )


def job_id(name: str) -> str:
    return f"{VAULT.arm_id}/replicationJobs/{name}"


def make_job(name: str, state: JobState, *, target: str = "vm-01", failed_task: bool = False) -> Job:
    t0 = START + timedelta(seconds=10)
    error = ErrorDetail(
        code="95525",
        message="The virtual machine could not be started.",
        possible_causes="The master target is unreachable.",
        recommended_action="Check the master target's connectivity, then retry the failover.",
        activity_id="act-1",
    )
    tasks = (
        JobTask(
            "t1",
            "VmUfoPrerequisitesCheck",
            "Prerequisites check for failover",
            JobState.SUCCEEDED,
            "Completed",
            t0,
            t0 + timedelta(seconds=42),
        ),
        JobTask(
            "t2",
            "VmFailover",
            "Start failover",
            JobState.FAILED if failed_task else JobState.SUCCEEDED,
            "Failed" if failed_task else "Completed",
            t0 + timedelta(seconds=42),
            t0 + timedelta(seconds=300),
            errors=(error,) if failed_task else (),
        ),
    )
    return Job(
        id=job_id(name),
        name=name,
        scenario_name="UnplannedFailover",
        friendly_name="Failover",
        state=state,
        state_description=state.value,
        start_time=t0,
        end_time=t0 + timedelta(seconds=300) if state.is_terminal else None,
        tasks=tasks,
        errors=(error,) if failed_task else (),
        target_object_id=item_id(target),
        target_object_name=target,
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "avs-failback" / "journal.jsonl"


def journal(path: Path, clock: ManualClock, **kw: object) -> Journal:
    defaults: dict[str, object] = {"who": "ops@contoso.com", "host": "jump-1", "terminal": "ssh=10.0.0.5:52144"}
    defaults.update(kw)
    return Journal(path, clock=clock, **defaults)  # type: ignore[arg-type]


def failover_intent(j: Journal, target: str = "vm-01") -> str:
    return j.intent(
        "failover",
        vault=VAULT,
        target_id=item_id(target),
        target_name=target,
        recovery_point="latest",
        recovery_point_time=START - timedelta(seconds=38),
        data_loss_seconds=38.0,
    )


def test_intent_is_on_disk_before_sent_and_a_kill_leaves_it_unsent(path: Path, clock: ManualClock) -> None:
    intent_id = failover_intent(journal(path, clock))
    # What a fresh process sees after the first one died before `sent`.
    raw = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["kind"] for r in raw] == ["intent"]
    assert raw[0]["intent"] == intent_id and raw[0]["target_name"] == "vm-01"
    assert raw[0]["ts"] == "2026-11-25T14:00:00.000Z"
    assert raw[0]["vault"] == VAULT.arm_id and raw[0]["who"] == "ops@contoso.com" and raw[0]["host"] == "jump-1"

    resumed = journal(path, clock, who="other@contoso.com")
    assert resumed.in_flight() == [
        InFlight(
            intent_id,
            "failover",
            item_id("vm-01"),
            "vm-01",
            None,
            START,
            "ops@contoso.com",
            vault=VAULT.arm_id,
            session=raw[0]["session"],
        )
    ]


def test_sent_gives_the_job_name_and_a_terminal_update_ends_it(path: Path, clock: ManualClock) -> None:
    j = journal(path, clock)
    intent_id = failover_intent(j)
    clock.advance(2)
    j.sent(intent_id, OperationHandle("failover", "job-1", item_id("vm-01"), "vm-01", retry_after=30))
    [flight] = journal(path, clock).in_flight()
    assert (flight.intent_id, flight.job_name, flight.sent_at) == (intent_id, "job-1", START + timedelta(seconds=2))

    j.job_update(make_job("job-1", JobState.IN_PROGRESS))
    assert [f.job_name for f in j.in_flight()] == ["job-1"]
    j.job_update(make_job("job-1", JobState.SUCCEEDED))
    assert j.in_flight() == []
    assert journal(path, clock).in_flight() == []


def test_refused_and_abandoned_intents_are_not_in_flight(path: Path, clock: ManualClock) -> None:
    j = journal(path, clock)
    refused = failover_intent(j, "vm-01")
    abandoned = failover_intent(j, "vm-02")
    kept = failover_intent(j, "vm-03")
    j.refused(
        refused,
        OperationInProgress(
            "Another operation is in progress.",
            code="OperationInProgress",
            status=409,
            details=(ErrorDetail("28031", "Busy"),),
        ),
    )
    j.abandon(abandoned, "no job on the item: the request never reached Azure")
    assert [f.intent_id for f in j.in_flight()] == [kept]
    record = [r for r in j.entries() if r["kind"] == "refused"][0]
    assert record["error"]["code"] == "OperationInProgress" and record["error"]["status"] == 409
    assert record["error"]["details"][0]["code"] == "28031"
    assert record["target_name"] == "vm-01" and record["vault"] == VAULT.arm_id


def test_attaching_after_a_resume_resolves_the_unsent_intent(path: Path, clock: ManualClock) -> None:
    intent_id = failover_intent(journal(path, clock))
    resumed = journal(path, clock)
    resumed.attached(item_id("vm-01"), "job-found", "resume: job found in the item's currentScenario")
    [flight] = resumed.in_flight()
    assert (flight.intent_id, flight.job_name) == (intent_id, "job-found")
    resumed.job_update(make_job("job-found", JobState.FAILED, failed_task=True))
    assert resumed.in_flight() == []


def test_someone_elses_job_stays_in_flight_until_it_ends(path: Path, clock: ManualClock) -> None:
    j = journal(path, clock)
    j.attached(item_id("vm-07"), "their-job", "another operator's job is running on the item")
    [flight] = j.in_flight()
    assert (flight.intent_id, flight.operation, flight.job_name) == ("", "attach", "their-job")
    assert flight.vault == VAULT.arm_id
    j.job_update(make_job("their-job", JobState.CANCELLED, target="vm-07"))
    assert j.in_flight() == []


def test_a_newer_intent_on_the_same_item_supersedes_an_unsent_one(path: Path, clock: ManualClock) -> None:
    j = journal(path, clock)
    failover_intent(j)
    newer = failover_intent(j)
    assert [f.intent_id for f in j.in_flight()] == [newer]


def test_job_update_is_written_once_per_job_and_state(path: Path, clock: ManualClock) -> None:
    first, second = journal(path, clock), journal(path, clock)
    for j in (first, second, first):
        j.job_update(make_job("job-1", JobState.IN_PROGRESS))
        j.job_update(make_job("job-1", JobState.FAILED, failed_task=True))
    updates = [(r["job_name"], r["state"]) for r in first.entries() if r["kind"] == "job_update"]
    assert updates == [("job-1", "InProgress"), ("job-1", "Failed")]
    final = first.entries()[-1]
    assert final["vault"] == VAULT.arm_id and final["duration_seconds"] == 300.0
    assert [t["duration_seconds"] for t in final["tasks"]] == [42.0, 258.0]
    assert final["errors"][0]["recommended_action"].startswith("Check the master target")


def test_a_torn_last_line_is_skipped_and_the_next_record_stays_readable(path: Path, clock: ManualClock) -> None:
    j = journal(path, clock)
    kept = failover_intent(j)
    with open(path, "ab") as handle:  # a writer killed halfway through its line
        handle.write(b'{"ts":"2026-11-25T14:00:01.000Z","kind":"sent","intent":"' + kept.encode()[:5])
    fresh = journal(path, clock)
    assert [r["kind"] for r in fresh.entries()] == ["intent"]
    assert fresh.unreadable_lines == []  # still unterminated: it may be a write in progress

    fresh.note("resumed after the SSH link dropped")
    assert [r["kind"] for r in fresh.entries()] == ["intent", "note"]
    assert journal(path, clock).entries()[-1]["text"] == "resumed after the SSH link dropped"
    assert fresh.unreadable_lines == [2]


def test_unknown_kinds_and_junk_lines_are_tolerated(path: Path, clock: ManualClock) -> None:
    j = journal(path, clock)
    failover_intent(j)
    with open(path, "a") as handle:
        handle.write('{"ts":"2026-11-25T15:00:00Z","kind":"from-the-future","x":1}\n[1,2]\n\n')
    assert [r["kind"] for r in j.entries()] == ["intent", "from-the-future"]
    assert len(j.in_flight()) == 1


def test_entries_since(path: Path, clock: ManualClock) -> None:
    j = journal(path, clock)
    j.note("early")
    clock.advance(3600)
    j.note("late")
    assert [r["text"] for r in j.entries(since=START + timedelta(minutes=30))] == ["late"]
    assert len(j.entries()) == 2


def test_file_is_0600_and_created_directories_are_0700(path: Path, clock: ManualClock) -> None:
    journal(path, clock).note("hello")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.parent.parent.stat().st_mode) == 0o700


def test_an_existing_world_readable_journal_is_made_private(path: Path, clock: ManualClock) -> None:
    path.parent.mkdir(parents=True)
    path.write_text("")
    path.chmod(0o644)
    journal(path, clock).note("hello")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_default_path_is_under_the_state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    j = Journal(clock=ManualClock(START), host="h", terminal="")
    assert j.path == tmp_path / "xdg" / "avs-failback" / "journal.jsonl"


UNSIGNED_JWT = (
    ".".join(
        base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")
        for part in ({"alg": "none", "typ": "JWT"}, {"upn": "ops@contoso.com", "exp": 1})
    )
    + "."
)


@pytest.mark.parametrize(
    "value",
    [
        UNSIGNED_JWT,
        f"request failed: Authorization header {UNSIGNED_JWT}",
        "Bearer abc.def",
        "  bearer xyz",
        {"nested": [{"deeper": UNSIGNED_JWT}]},
        {"access_token": "opaque-but-secret"},
        {"Authorization": "anything"},
    ],
)
def test_token_guard_refuses(value: object) -> None:
    with pytest.raises(ValueError) as raised:
        refuse_secrets(value)
    assert UNSIGNED_JWT not in str(raised.value) and "opaque-but-secret" not in str(raised.value)


@pytest.mark.parametrize(
    "value",
    ["The bearer token expired; sign in again", "eyJohn.smith", "vm-01", {"token_count": 3}, {"access_token": ""}],
)
def test_token_guard_lets_ordinary_text_through(value: object) -> None:
    refuse_secrets(value)


def test_journal_refuses_a_token_and_writes_nothing(path: Path, clock: ManualClock) -> None:
    j = journal(path, clock)
    with pytest.raises(ValueError):
        j.intent(
            "failover",
            vault=VAULT,
            target_id=item_id("vm-01"),
            target_name="vm-01",
            details={"header": f"Bearer {UNSIGNED_JWT}"},
        )
    with pytest.raises(ValueError):
        j.note("oops", token=UNSIGNED_JWT)
    with pytest.raises(ValueError):
        journal(path, clock, who=UNSIGNED_JWT).note("who is a token")
    assert not path.exists() or path.read_text() == ""


def _append_many(path: str, worker: int, count: int) -> None:
    j = Journal(Path(path), clock=ManualClock(START), who=f"w{worker}", host="h", terminal="", session_id=f"s{worker}")
    for n in range(count):
        j.note(f"worker {worker} record {n}", padding="x" * (200 + 37 * worker))


def test_two_instances_appending_interleave_whole_lines(path: Path) -> None:
    path.parent.mkdir(parents=True)
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_append_many, args=(str(path), w, 60)) for w in (1, 2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b""
    records = [json.loads(line) for line in lines[:-1]]  # every line parses: none was split or merged
    for worker in (1, 2):
        texts = [r["text"] for r in records if r["session"] == f"s{worker}"]
        assert texts == [f"worker {worker} record {n}" for n in range(60)]


def test_describe_terminal_keeps_only_client_address_tty_and_term() -> None:
    env = {
        "SSH_CONNECTION": "10.0.0.5 52144 10.0.0.1 22",
        "SSH_TTY": "/dev/pts/3",
        "TERM": "xterm-256color",
        "SSH_AUTH_SOCK": "/tmp/agent",
    }
    assert describe_terminal(env) == "ssh=10.0.0.5:52144 tty=/dev/pts/3 term=xterm-256color"
    assert describe_terminal({"TERM": "screen"}, tty="/dev/tty1") == "tty=/dev/tty1 term=screen"
    assert describe_terminal({}) == ""


def test_vault_of_reads_the_prefix_of_any_asr_id() -> None:
    assert vault_of(job_id("x")) == VAULT.arm_id
    assert vault_of(item_id("vm")) == VAULT.arm_id
    assert vault_of("job-1") == ""


def test_records_are_one_line_each_even_with_newlines_in_text(path: Path, clock: ManualClock) -> None:
    j = journal(path, clock)
    j.note("line one\nline two", why="a\nb")
    assert len(path.read_text().splitlines()) == 1
    assert j.entries()[0]["text"] == "line one\nline two"
    assert os.stat(path).st_size > 0
