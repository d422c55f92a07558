"""Process death: the operator's process is SIGKILLed at each point of a send; a fresh process resumes.

The emulator serves HTTPS from a thread of this test process (so its request counts outlive the killed client);
each session runs in a subprocess configured only by the environment, as the CLI would be.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from core.clock import ManualClock
from core.emulator import ArmEmulator, EmulatorServer
from core.emulator.server import export_lines
from core.journal import Journal

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]
RUN = "import sys; from tests.faults.session import main; sys.exit(main(sys.argv[1:]))"


class Served:
    def __init__(self, tmp_path: Path, server: EmulatorServer, env: dict[str, str], token: str) -> None:
        self.tmp_path = tmp_path
        self.server = server
        self.env = env
        self.token = token

    @property
    def emulator(self) -> ArmEmulator:
        assert self.server.emulator is not None
        return self.server.emulator

    @property
    def journal_path(self) -> Path:
        return Path(self.env["XDG_STATE_HOME"]) / "avs-failback" / "journal.jsonl"

    def posts(self, suffix: str) -> int:
        return sum(1 for method, path in self.emulator.stats.log if method == "POST" and path.lower().endswith(suffix))

    def session(self, *argv: str, crash_at: str = "") -> tuple[int, list[dict[str, Any]]]:
        env = dict(self.env)
        if crash_at:
            env["AVS_FAILBACK_CRASH_AT"] = crash_at
        done = subprocess.run(
            [sys.executable, "-c", RUN, *argv], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
        )
        assert self.token not in done.stdout + done.stderr
        events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        return done.returncode, events

    def tracking_session(self, *argv: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-c", RUN, *argv, "--track"],
            env=self.env,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    clock = ManualClock(datetime.now(UTC))  # jobs stay running until the test moves time on
    server = EmulatorServer("demo", clock=clock, state_dir=tmp_path / "emulator")
    info = server.start()
    token = f"secret-{uuid.uuid4().hex}"  # any non-empty bearer passes the emulator; this one must never hit disk
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path / "home")}
    for line in export_lines(info):
        if line.startswith("export "):
            key, _, value = line.removeprefix("export ").partition("=")
            env[key] = value
    env["AVS_FAILBACK_ACCESS_TOKEN"] = token
    env["XDG_STATE_HOME"] = str(tmp_path / "state")
    env["TMPDIR"] = str(tmp_path / "tmp")
    (tmp_path / "tmp").mkdir()
    (tmp_path / "home").mkdir()
    try:
        yield Served(tmp_path, server, env, token)
    finally:
        server.stop()


def test_kills_at_every_point_then_resume_sends_nothing_twice(served: Served) -> None:
    # 1. Killed after the intent reached the disk, before the request left.
    code, events = served.session("send", "commit", "hr-app-01", crash_at="after-intent")
    assert code == -signal.SIGKILL and events == []
    assert served.posts("/failovercommit") == 0

    # 2. Killed after Azure accepted the request, before its job was journaled.
    code, events = served.session("send", "commit", "hr-db-01", crash_at="after-send")
    assert code == -signal.SIGKILL and events == []
    assert served.posts("/failovercommit") == 1

    # 3. Killed from outside while following its job.
    tracking = served.tracking_session("send", "failover", "erp-web-01")
    assert tracking.stdout is not None
    started = json.loads(tracking.stdout.readline())
    assert started["event"] == "started" and not started["attached"]
    assert json.loads(tracking.stdout.readline())["event"] == "tracking"
    tracking.send_signal(signal.SIGKILL)
    assert tracking.wait(10) == -signal.SIGKILL
    tracking.stdout.close()
    assert tracking.stdin is not None and tracking.stderr is not None
    tracking.stdin.close()
    tracking.stderr.close()
    failover_job = started["job"]
    assert served.posts("/unplannedfailover") == 1

    # A fresh process resumes: one answer per operation, and nothing is sent.
    posts_before = sum(1 for method, _ in served.emulator.stats.log if method == "POST")
    code, events = served.session("resume")
    assert code == 0, events
    resumed = {e["target"]: e for e in events if e["event"] == "resumed"}
    assert set(resumed) == {"hr-app-01", "hr-db-01", "erp-web-01"}
    assert resumed["hr-app-01"]["how"] == "abandoned" and resumed["hr-app-01"]["job"] is None
    commit_job = served.emulator.simulation.find_item("hr-db-01").current_job
    assert resumed["hr-db-01"]["how"] == "attached-to-running" and resumed["hr-db-01"]["job"] == commit_job
    assert resumed["erp-web-01"]["how"] == "re-attached" and resumed["erp-web-01"]["job"] == failover_job
    tracked = next(e for e in events if e["event"] == "tracked")
    assert tracked["jobs"] == sorted([commit_job, failover_job])
    assert sum(1 for method, _ in served.emulator.stats.log if method == "POST") == posts_before

    # The abandoned commit can now be sent again, knowingly, exactly once.
    code, events = served.session("send", "commit", "hr-app-01")
    assert code == 0 and events[0]["event"] == "started" and not events[0]["attached"]
    assert served.posts("/failovercommit") == 2  # hr-db-01 once, hr-app-01 once
    assert served.posts("/unplannedfailover") == 1

    # A second resume finds the same jobs and still sends nothing.
    code, events = served.session("resume")
    assert code == 0
    assert {e["how"] for e in events if e["event"] == "resumed"} == {"re-attached"}
    assert served.posts("/failovercommit") == 2 and served.posts("/unplannedfailover") == 1

    _journal_reads_whole(served.journal_path)
    _no_token_on_disk(served.tmp_path, served.token)


def _journal_reads_whole(path: Path) -> None:
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    journal = Journal(path, who="reader")
    records = journal.entries()
    assert journal.unreadable_lines == []
    for line in path.read_text(encoding="utf-8").splitlines():
        json.loads(line)  # every line whole
    closed = {r.get("intent") for r in records if r["kind"] in ("sent", "refused", "abandoned")}
    for index, record in enumerate(records):
        if record["kind"] == "intent" and record["intent"] not in closed:
            later = records[index + 1 :]
            assert any(r["kind"] == "attached" and r["target_id"] == record["target_id"] for r in later), record


def _no_token_on_disk(root: Path, token: str) -> None:
    needle = token.encode()
    scanned = 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            scanned += 1
            assert needle not in (Path(dirpath) / name).read_bytes(), f"the token was written to {name}"
    assert scanned >= 4  # the journal, the emulator's CA files: the scan did look somewhere


def test_cli_full_flow_leaves_no_token_on_disk(served: Served) -> None:
    cli = "import sys; from cli.main import main; sys.exit(main(sys.argv[1:]))"

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-c", cli, *argv], env=served.env, cwd=ROOT, capture_output=True, text=True, timeout=60
        )
        assert served.token not in done.stdout + done.stderr
        return done

    assert run("items", "--json").returncode == 0
    sent = run("failover", "erp-web-02", "--point", "latest", "--yes", "--json")
    assert sent.returncode == 0, sent.stderr
    assert run("commit", "hr-app-01", "--confirm", "hr-app-01", "--json").returncode == 0
    assert run("report").returncode == 0
    assert served.posts("/unplannedfailover") == 1 and served.posts("/failovercommit") == 1
    _journal_reads_whole(served.journal_path)
    _no_token_on_disk(served.tmp_path, served.token)
