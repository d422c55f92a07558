"""A rehearsal on the vault served over HTTPS: every read live, not one mutating request sent, each would-be request
journaled and listed in the report, and the steps carried on by a simulation of the same vault."""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from core.bootstrap import build_backend
from core.clock import ManualClock
from core.config import resolve_settings
from core.emulator import EmulatorServer
from core.emulator.server import export_lines
from core.failback import derive_stage, resolve_item
from core.journal import Journal
from core.model import JobState, PointChoice, ReprotectTarget, Stage
from core.operations import Operations
from core.providers import provider_for
from core.rehearsal import RehearsalBackend, RehearsalTransport, Rehearsed, sdk_call
from core.report import render_report
from core.tracker import JobTracker

pytestmark = pytest.mark.server


class Served:
    def __init__(self, tmp_path: Path) -> None:
        self.clock = ManualClock()
        self.server = EmulatorServer("demo", clock=self.clock, state_dir=tmp_path / "emulator")
        self.info = self.server.start()
        self.requests: list[tuple[str, str]] = []
        answer = self.server.emulator.handle

        def spy(method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> Any:
            self.requests.append((method, url.split("?", 1)[0]))
            return answer(method, url, headers, body)

        self.server.emulator.handle = spy

    def env(self) -> dict[str, str]:
        env = {}
        for line in export_lines(self.info):
            if line.startswith("export "):
                key, _, value = line.removeprefix("export ").partition("=")
                env[key] = value
        return env

    def backend(self, *, rehearse: bool) -> Any:
        args = argparse.Namespace(rehearse=rehearse)
        settings = resolve_settings(args, env=self.env(), config_path=Path("/nonexistent"))
        return build_backend(settings, clock=self.clock)

    def mutating(self) -> list[tuple[str, str]]:
        return [(m, u) for m, u in self.requests if m not in ("GET", "HEAD")]


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    vault = Served(tmp_path)
    for key, value in vault.env().items():  # the placeholder token the emulator accepts is read from the environment
        monkeypatch.setenv(key, value)
    try:
        yield vault
    finally:
        vault.server.stop()


def test_a_rehearsed_failover_commit_and_reprotect_sends_no_post_and_is_the_report(served, tmp_path) -> None:  # type: ignore[no-untyped-def]
    backend = served.backend(rehearse=True)
    assert isinstance(backend, RehearsalBackend) and backend.rehearsal
    journal = Journal(tmp_path / "journal.jsonl", clock=served.clock)
    ops = Operations(backend, journal)
    tracker = JobTracker(backend, served.clock, interval=30)
    item = resolve_item(backend.list_items(), "intranet-web-01")
    assert derive_stage(item) is Stage.READY

    started = ops.failover(item, PointChoice.LATEST)
    assert started.note.startswith("REHEARSAL: the failover of intranet-web-01 was not sent (POST ")
    assert tracker.wait(started.handle.job_name, timeout=3600).state is JobState.SUCCEEDED
    # The screens read the simulation for what the rehearsal touched, the live vault for the rest.
    assert derive_stage(backend.get_item(item.id)) is Stage.FAILED_OVER
    committed = ops.commit(backend.get_item(item.id))
    assert tracker.wait(committed.handle.job_name, timeout=3600).state is JobState.SUCCEEDED
    served.clock.advance(20 * 60)  # past the agent-registration window
    fabric = next(f for f in backend.list_fabrics() if f.process_servers and f.master_targets)
    target = ReprotectTarget(fabric.process_servers[0].id, fabric.master_targets[0].id)
    reprotected = ops.reprotect(backend.get_item(item.id), target)
    assert tracker.wait(reprotected.handle.job_name, timeout=3600).state is JobState.SUCCEEDED
    assert derive_stage(backend.get_item(item.id)) is Stage.PROTECTED_TO_AZURE

    assert served.mutating() == []  # not one request that changes the vault left the tool
    assert any(m == "GET" for m, _ in served.requests)  # while the reads were live
    live = served.backend(rehearse=False)
    assert derive_stage(live.get_item(item.id)) is Stage.READY  # the real vault is as it was

    sent = [r for r in journal.entries() if r["kind"] == "sent"]
    assert [r["rehearsed"]["url"].split("?")[0].rsplit("/", 1)[-1] for r in sent] == [
        "unplannedFailover",
        "failoverCommit",
        "reProtect",
    ]
    assert all(r["rehearsed"]["method"] == "POST" and r["rehearsed"]["url"].startswith(served.info.url) for r in sent)
    assert sent[0]["rehearsed"]["call"] == "replication_protected_items.begin_unplanned_failover"
    # The body is the one the tool sends outside a rehearsal, as the SDK serialised it.
    wanted = provider_for(item).failover_request(item, PointChoice.LATEST).body
    assert sent[0]["rehearsed"]["body"] == wanted
    assert sent[0]["rehearsed"]["body"]["properties"]["providerSpecificDetails"]["instanceType"] == "InMage"
    # The reprotect names the live vault's servers, not the simulation's.
    reprotect_body = sent[2]["rehearsed"]["body"]["properties"]["providerSpecificDetails"]
    assert reprotect_body["processServerId"] == fabric.process_servers[0].id
    assert journal.in_flight() == []  # a rehearsed request is never taken for one in flight

    report = render_report(journal.entries(), fmt="md")
    section = report.split("## Rehearsed requests (none was sent)")[1].split("\n## ")[0]
    assert section.count(". ") >= 3 and "unplannedFailover" in section and "reProtect" in section
    assert f'"failoverDirection": "{wanted["properties"]["failoverDirection"]}"' in section
    assert "REHEARSED, not sent" in report


def test_the_transport_stops_every_method_but_the_reads() -> None:
    class Inner:
        sent: list[str] = []

        def send(self, request: Any, **_: Any) -> str:
            self.sent.append(request.method)
            return "answer"

    from azure.core.rest import HttpRequest

    inner = Inner()
    transport = RehearsalTransport(inner)
    assert transport.send(HttpRequest("GET", "https://arm.test/x")) == "answer"
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        with pytest.raises(Rehearsed) as caught:
            transport.send(HttpRequest(method, "https://arm.test/y/failoverCommit?api-version=1", json={"a": 1}))
        assert caught.value.request.body == {"a": 1} and caught.value.request.method == method
    assert inner.sent == ["GET"]
    assert sdk_call("https://arm.test/v/replicationJobs/j1/restart") == "replication_jobs.begin_restart"


def test_read_only_still_refuses_before_anything_in_a_rehearsal(served) -> None:  # type: ignore[no-untyped-def]
    args = argparse.Namespace(rehearse=True, read_only=True)
    from core.config import resolve_settings as settings_of

    backend = build_backend(settings_of(args, env=served.env(), config_path=Path("/nonexistent")), clock=served.clock)
    from core.errors import ReadOnlyError

    item = resolve_item(backend.list_items(), "intranet-web-01")
    with pytest.raises(ReadOnlyError):
        Operations(backend, None).failover(item, PointChoice.LATEST)
    assert served.mutating() == []


def test_the_command_line_rehearses_and_its_report_is_the_runbook(served, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import io

    from cli.main import main

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))

    def cli(*argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        code = main(list(argv), clock=served.clock, config_path=Path("/nonexistent"), stdout=out, stderr=err)
        return code, out.getvalue(), err.getvalue()

    code, out, err = cli("--rehearse", "failover", "intranet-web-01", "--point", "latest", "--yes", "--wait")
    assert code == 0, err
    assert "REHEARSAL: the failover of intranet-web-01 was not sent" in out
    assert "SDK: replication_protected_items.begin_unplanned_failover" in out and '"recoveryPointType"' in out
    assert "Succeeded" in out  # the simulated job, followed to its end
    assert served.mutating() == []
    code, out, err = cli("report", "--format", "md")
    assert code == 0, err
    section = out.split("## Rehearsed requests (none was sent)")[1]
    assert "/unplannedFailover" in section and '"recoveryPointType": "LatestTime"' in section
