"""Being told outside the screen: which job states are worth an event, the escapes a terminal is sent, the notify
command fed each event as JSON, and the CLI's --wait ringing and running it."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cli.main import main
from core.model import Job, JobState, JobTask
from core.notify import Event, Notifier, desktop_escape, escape_for, job_event, windows_opened
from tests.core.itemfactory import NOW, ready_item

AT = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)


def job(state: JobState, *, tasks: tuple[JobTask, ...] = ()) -> Job:
    return Job("/jobs/j1", "j1", "UnplannedFailover", "Unplanned failover", state, state.value, tasks=tasks,
               target_object_name="sql-01")  # fmt: skip


def wait_for_file(path: Path, lines: int = 1, limit: float = 10.0) -> list[str]:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if path.exists() and len(path.read_text().splitlines()) >= lines:
            return path.read_text().splitlines()
        time.sleep(0.05)
    raise AssertionError(f"{path} did not get {lines} line(s)")


def test_a_job_is_worth_an_event_when_it_ends_or_waits_for_someone() -> None:
    assert job_event(job(JobState.IN_PROGRESS), AT) is None
    kinds = {s: job_event(job(s), AT) for s in (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)}
    assert {s: e.kind for s, e in kinds.items() if e} == {
        JobState.SUCCEEDED: "job-succeeded", JobState.FAILED: "job-failed", JobState.CANCELLED: "job-cancelled"
    }  # fmt: skip
    assert "sql-01" in kinds[JobState.FAILED].text and "FAILED" in kinds[JobState.FAILED].text  # type: ignore[union-attr]
    waiting = JobTask("t1", "manual", "Repoint DNS", JobState.SUSPENDED, "Waiting for manual action")
    event = job_event(job(JobState.SUSPENDED, tasks=(waiting,)), AT)
    assert event is not None and event.kind == "job-waiting" and "Repoint DNS" in event.text


def test_the_escapes_ring_and_notify_and_a_name_cannot_end_them_early() -> None:
    event = Event("job-failed", "Failover of evil\x1b]0;owned\x07-01 FAILED", AT)
    osc9 = escape_for(event, "osc9", in_tmux=False)
    assert osc9.startswith("\a\x1b]9;avs-failback: ") and osc9.endswith("\x07")
    assert osc9.count("\x1b") == 1 and osc9.count("\x07") == 2  # the bell, and the sequence's own end
    assert escape_for(event, "osc777", in_tmux=False).startswith("\a\x1b]777;notify;avs-failback;")
    assert escape_for(event, "off", in_tmux=False) == "\a"
    wrapped = escape_for(event, "osc9", in_tmux=True)
    assert wrapped.startswith("\a\x1bPtmux;\x1b\x1b]9;") and wrapped.endswith("\x1b\\")


def test_auto_uses_a_desktop_escape_only_for_a_terminal_known_to_show_it() -> None:
    assert desktop_escape({"TERM": "xterm-256color"}) == "off"
    assert desktop_escape({"TERM_PROGRAM": "iTerm.app"}) == "osc9"
    assert desktop_escape({"LC_TERMINAL": "iTerm2", "TERM": "xterm-256color"}) == "osc9"
    assert desktop_escape({"WT_SESSION": "x"}) == "osc9"
    assert desktop_escape({"VTE_VERSION": "7200"}) == "osc777"


def test_each_event_is_said_once_and_the_command_gets_it_as_json(tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    written: list[str] = []
    notifier = Notifier(written.append, "osc9", command=f"sh -c 'cat >> {out}'")
    event = job_event(job(JobState.SUCCEEDED), AT, vault="rsv-1")
    assert event is not None
    assert notifier.notify(event) and not notifier.notify(event)
    assert len(written) == 1 and written[0].startswith("\a\x1b]9;")
    got = json.loads(wait_for_file(out)[0])
    assert got == {"event": "job-succeeded", "text": event.text, "at": "2026-12-03T03:00:00Z", "job": "j1",
                   "item": "sql-01", "vault": "rsv-1", "simulated": False}  # fmt: skip


def test_a_failing_notify_command_is_said_and_stops_nothing() -> None:
    warned: list[str] = []
    notifier = Notifier(None, "off", command="sh -c 'exit 7'", warn=warned.append)
    assert notifier.notify(Event("job-failed", "x", AT))
    deadline = time.monotonic() + 10
    while not warned and time.monotonic() < deadline:
        time.sleep(0.05)
    assert warned and "exit code 7" in warned[0]


def test_the_agent_window_opens_once_its_fifteen_minutes_have_passed() -> None:
    from core.failback import derive_stage
    from core.model import Stage

    committed = ready_item(
        protection_state="UnplannedFailoverCommittedStatesBegin",
        allowed_operations=("ReverseReplicate", "DisableProtection"),
        last_successful_failover_time=NOW - timedelta(minutes=14),
    )
    assert derive_stage(committed) is Stage.COMMITTED
    assert windows_opened([committed], NOW, NOW + timedelta(seconds=30)) == []
    assert windows_opened([committed], NOW, NOW + timedelta(minutes=2)) == [committed]
    assert windows_opened([committed], NOW + timedelta(minutes=2), NOW + timedelta(minutes=3)) == []


def test_cli_wait_runs_the_notify_command_when_the_job_ends(tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "events.jsonl"
    argv = ["failover", "dc-01", "--demo", "--point", "latest", "--yes", "--wait", "--notify-command",
            f"sh -c 'cat >> {out}'"]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err
    events = [json.loads(line) for line in wait_for_file(out)]
    assert [e["event"] for e in events] == ["job-succeeded"]
    assert events[0]["item"] == "dc-01" and events[0]["simulated"] is True
