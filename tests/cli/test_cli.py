"""The CLI over an in-memory vault: parsing, output, confirmation, guards and exit codes."""

from __future__ import annotations

import io
import json
from typing import Any, cast

import pytest

from cli.main import build_parser, main
from core.backend import Backend
from core.model import PointChoice
from tests.cli.fakevault import FakeVault


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def run(vault: FakeVault, *argv: str, stdin: io.StringIO | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(
        list(argv),
        backend=cast(Backend, vault),
        clock=vault.clock,
        stdin=stdin or io.StringIO(""),
        stdout=out,
        stderr=err,
    )
    # stderr is wrapped prose: compare it with the line breaks folded
    return code, out.getvalue(), " ".join(err.getvalue().split())


@pytest.fixture
def vault() -> FakeVault:
    return FakeVault()


def test_items_table_fits_80_columns(vault: FakeVault) -> None:
    code, out, _ = run(vault, "items")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "STAGE", "HEALTH", "POINT", "AGE", "GROUP/PLAN"]
    assert all(len(line) <= 80 for line in lines)
    web = next(line for line in lines if line.startswith("web01"))
    assert "Ready" in web and "38 s" in web
    assert any(line.startswith("db01") and "Verify/commit" in line for line in lines)
    assert any(line.startswith("sql1") and "sql-tier" in line for line in lines)
    assert lines[-1].startswith("6 items:")


def test_items_json_is_stable_and_filtered(vault: FakeVault) -> None:
    code, out, _ = run(vault, "items", "--json", "--stage", "ready")
    assert code == 0
    data = json.loads(out)
    assert out == json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    names = [i["friendly_name"] for i in data["items"]]
    assert names == ["sql1", "sql2", "web01"]
    web = data["items"][-1]
    for key in (
        "id",
        "name",
        "friendly_name",
        "stage",
        "replication_health",
        "failover_health",
        "protection_state",
        "active_location",
        "provider",
        "allowed_operations",
        "recovery_plans",
        "consistency_group",
        "rpo_seconds",
    ):
        assert key in web
    assert web["stage"] == "ready" and web["provider"] == "classic"
    assert web["last_recovery_point_time"] == "2026-11-25T14:02:31Z"
    assert data["time"] == "2026-11-25T14:03:09Z"
    code, out, _ = run(vault, "--json", "items", "--filter", "SQL-T")
    assert [i["name"] for i in json.loads(out)["items"]] == ["rpi-sql1", "rpi-sql2"]


def test_unknown_stage_is_a_usage_error(vault: FakeVault) -> None:
    code, _, err = run(vault, "items", "--stage", "sleeping")
    assert code == 2
    assert "unknown stage 'sleeping'" in err


def test_points_human_and_json(vault: FakeVault) -> None:
    code, out, _ = run(vault, "points", "web01")
    assert code == 0
    assert "Latest — crash-consistent" in out and "(38 seconds ago)" in out
    assert "Latest app-consistent, 13:10:09" in out
    assert "You lose about 53 minutes of writes." in out
    assert "rp-app" in out
    assert all(len(line) <= 80 for line in out.splitlines())
    code, out, _ = run(vault, "points", "sql1", "--json")
    data = json.loads(out)
    assert [o["choice"] for o in data["options"]] == ["latest", "app-consistent"]
    assert data["group"]["name"] == "sql-tier"
    assert data["group"]["common_time"] == "2026-11-25T13:33:09Z"
    assert {m["item"] for m in data["group"]["members"]} == {"sql1", "sql2"}


def test_points_of_unknown_item_is_not_found(vault: FakeVault) -> None:
    code, out, err = run(vault, "points", "nosuchvm")
    assert code == 5
    assert "No replicated item named 'nosuchvm'" in err
    assert "hint:" in err
    assert "Traceback" not in err + out


def test_failover_with_yes_and_wait(vault: FakeVault) -> None:
    code, out, _ = run(vault, "failover", "web01", "--point", "latest", "--yes", "--wait")
    assert code == 0
    assert vault.sent[0][0] == "failover" and vault.sent[0][1] == "rpi-web01"
    choice, point_id = cast(tuple[PointChoice, str], vault.sent[0][2])
    assert choice.value == "latest" and point_id == ""
    assert "Failover of web01 started: job job-001" in out
    assert "Prerequisites check: In progress" in out and "Prerequisites check: Succeeded" in out
    assert "Job job-001: Succeeded." in out
    code, out, _ = run(vault, "items", "--json")
    web = next(i for i in json.loads(out)["items"] if i["friendly_name"] == "web01")
    assert web["stage"] == "failed-over"


def test_failover_custom_point_json(vault: FakeVault) -> None:
    code, out, err = run(vault, "--json", "failover", "web01", "--point", "rp-app", "--yes")
    assert code == 0
    data = json.loads(out)
    assert data["handle"]["job_name"] == "job-001" and data["job"] is None
    assert data["point"]["choice"] == "custom" and data["point"]["needs_acknowledgement"]
    choice, point_id = cast(tuple[PointChoice, str], vault.sent[0][2])
    assert choice.value == "custom" and point_id.endswith("/recoveryPoints/rp-app")


def test_failover_without_terminal_refuses(vault: FakeVault) -> None:
    code, out, err = run(vault, "failover", "web01", "--point", "latest")
    assert code == 2
    assert "no terminal" in err and "--yes" in err
    assert vault.sent == []


def test_failover_asks_on_a_terminal(vault: FakeVault) -> None:
    code, _, err = run(vault, "failover", "web01", "--point", "app-consistent", stdin=Tty("no\n"))
    assert code == 2 and vault.sent == []
    assert "from Azure to avs-cloud-1" in err
    assert "Latest app-consistent" in err and "more writes than Latest" in err
    code, _, _ = run(vault, "failover", "web01", "--point", "app-consistent", stdin=Tty("yes\n"))
    assert code == 0
    assert vault.sent[0][2][0].value == "app-consistent"  # type: ignore[index]


def test_failover_not_allowed_sends_nothing(vault: FakeVault) -> None:
    code, _, err = run(vault, "failover", "app01", "--point", "latest", "--yes")
    assert code == 4
    assert "recovery point" in err and "Nothing was sent" in err
    code, _, err = run(vault, "failover", "sql1", "--point", "latest", "--yes")
    assert code == 4 and "recovery plan" in err
    code, _, err = run(vault, "failover", "db01", "--point", "latest", "--yes")
    assert code == 4
    assert vault.sent == []


def test_failover_unknown_point(vault: FakeVault) -> None:
    code, _, err = run(vault, "failover", "web01", "--point", "rp-nope", "--yes")
    assert code == 5 and "rp-nope" in err and vault.sent == []


def test_read_only_refuses_before_asking(vault: FakeVault) -> None:
    vault.read_only = True
    code, _, err = run(vault, "failover", "web01", "--point", "latest", stdin=Tty("yes\n"))
    assert code == 4
    assert "Read-only" in err and "--read-only" in err
    assert vault.sent == []


def test_commit_needs_the_name(vault: FakeVault) -> None:
    code, _, err = run(vault, "commit", "db01")
    assert code == 2 and "--confirm db01" in err
    code, _, err = run(vault, "commit", "db01", "--confirm", "web01")
    assert code == 2 and "does not match" in err
    code, _, err = run(vault, "commit", "db01", stdin=Tty("DB01\n"))
    assert code == 2
    assert "deletes the failed-over Azure VM" in err
    assert vault.sent == []
    code, out, _ = run(vault, "commit", "db01", "--confirm", "db01", "--wait")
    assert code == 0 and "Job job-001: Succeeded." in out
    assert vault.sent == [("commit", "rpi-db01", None)]


def test_commit_not_allowed_for_ready_item(vault: FakeVault) -> None:
    code, _, err = run(vault, "commit", "web01", "--confirm", "web01")
    assert code == 4 and "Commit follows a completed failover" in err


def test_reprotect_picks_the_process_server(vault: FakeVault) -> None:
    code, out, _ = run(vault, "reprotect", "file01", "--process-server", "PS-AZURE-01", "--yes", "--wait")
    assert code == 0
    op, name, target = vault.sent[0]
    assert (op, name) == ("reprotect", "rpi-file01")
    assert target.process_server_id == "ps-1"  # type: ignore[attr-defined]
    assert target.master_target_id == "mt-1" and target.run_as_account_id == "2"  # type: ignore[attr-defined]
    assert "Succeeded" in out
    code, out, _ = run(vault, "items", "--json", "--filter", "file01")
    assert json.loads(out)["items"][0]["stage"] == "protected-to-azure"


def test_reprotect_unknown_process_server_lists_known(vault: FakeVault) -> None:
    code, _, err = run(vault, "reprotect", "file01", "--process-server", "nope", "--yes")
    assert code == 5
    assert "ps-azure-01 (Normal)" in err and "ps-azure-02 (Warning)" in err
    assert vault.sent == []


def test_reprotect_retries_while_the_agent_registers() -> None:
    vault = FakeVault(agent_failures=2)
    code, out, err = run(vault, "reprotect", "file01", "--process-server", "ps-azure-01", "--yes", "--wait")
    assert code == 0
    assert [s[0] for s in vault.sent] == ["reprotect"] * 3
    assert err.count("has not registered yet") == 2
    assert "Reprotect retried: job job-003" in out


def test_reprotect_agent_failure_without_retry_explains() -> None:
    vault = FakeVault(agent_failures=1)
    code, _, err = run(vault, "reprotect", "file01", "--process-server", "ps-azure-01", "--yes", "--wait", "--no-retry")
    assert code == 3
    assert "has not registered yet" in err
    assert "isn't installed" in err and "recommended action: Wait up to 15 minutes" in err
    assert "activity id: act-1" in err


def test_jobs_and_job(vault: FakeVault) -> None:
    run(vault, "failover", "web01", "--point", "latest", "--yes")
    code, out, _ = run(vault, "jobs")
    assert code == 0
    assert out.splitlines()[1].startswith("job-001") and "In progress" in out
    code, out, _ = run(vault, "jobs", "--state", "failed")
    assert out.strip() == "No jobs."
    code, _, err = run(vault, "jobs", "--state", "exploded")
    assert code == 2 and "exploded" in err
    code, out, _ = run(vault, "job", "job-001", "--watch")
    assert code == 0
    assert "Job job-001: ✓ Succeeded" in out
    code, out, _ = run(vault, "job", "job-001", "--json")
    assert json.loads(out)["state"] == "Succeeded"
    code, _, err = run(vault, "job", "job-999")
    assert code == 5


def test_usage_errors_exit_2(vault: FakeVault) -> None:
    assert run(vault, "failover", "web01")[0] == 2
    assert run(vault, "frobnicate")[0] == 2
    assert run(vault)[0] == 2


def test_global_options_parse_before_and_after_the_command() -> None:
    parser = build_parser()
    before = parser.parse_args(["--vault-id", "/v", "--json", "items"])
    after = parser.parse_args(["items", "--vault-id", "/v", "--json", "--read-only"])
    assert before.vault_id == after.vault_id == "/v"
    assert before.json and after.json and after.read_only
    args: Any = parser.parse_args(["emulator", "serve", "--port", "9443", "--speed", "60"])
    assert args.port == 9443 and args.speed == 60.0 and args.scenario == "demo"


def test_missing_vault_without_demo_is_a_usage_error(tmp_path: Any) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = main(["items"], env={}, config_path=tmp_path / "none.toml", stdout=out, stderr=err)
    assert code == 2
    assert "No vault given" in err.getvalue()


def test_mutations_are_journaled_before_and_after_sending(vault: FakeVault, tmp_path: Any) -> None:
    from core.errors import ServiceError
    from core.journal import Journal

    journal = Journal(tmp_path / "journal.jsonl", clock=vault.clock, terminal="test", host="h")
    out, err = io.StringIO(), io.StringIO()
    argv = ["failover", "web01", "--point", "app-consistent", "--yes", "--wait"]
    assert main(argv, backend=cast(Backend, vault), clock=vault.clock, stdout=out, stderr=err, journal=journal) == 0
    kinds = [(e["kind"], e.get("operation", "")) for e in journal.entries()]
    assert kinds[:2] == [("intent", "failover"), ("sent", "failover")]
    intent = journal.entries()[0]
    assert intent["target_name"] == "web01" and intent["acknowledged_loss"] is True
    assert journal.entries()[1]["job_name"] == "job-001"
    assert any(e["kind"] == "job_update" for e in journal.entries())

    def broken(item: Any) -> Any:
        raise ServiceError("ASR said no", code="BadRequest", status=400)

    vault.commit = broken  # type: ignore[method-assign]
    code = main(
        ["commit", "db01", "--confirm", "db01"], backend=cast(Backend, vault), stdout=out, stderr=err, journal=journal
    )
    assert code == 3
    assert [e["kind"] for e in journal.entries()][-2:] == ["intent", "refused"]
    assert "code BadRequest, HTTP 400" in err.getvalue()


def test_report_renders_the_journal(vault: FakeVault, tmp_path: Any) -> None:
    from core.journal import Journal

    journal = Journal(tmp_path / "journal.jsonl", clock=vault.clock, terminal="test", host="h")
    out, err = io.StringIO(), io.StringIO()
    argv = ["failover", "web01", "--point", "latest", "--yes", "--wait"]
    assert main(argv, backend=cast(Backend, vault), clock=vault.clock, stdout=out, stderr=err, journal=journal) == 0
    out = io.StringIO()
    assert main(["report"], stdout=out, stderr=err, journal=journal) == 0
    assert "web01" in out.getvalue() and "job-001" in out.getvalue()
    target = tmp_path / "report.json"
    assert main(["report", "--json", "--output", str(target)], stdout=out, stderr=err, journal=journal) == 0
    assert json.loads(target.read_text(encoding="utf-8"))
    assert main(["report", "--since", "yesterday"], stdout=out, stderr=err, journal=journal) == 2


def test_points_lists_the_newest_unless_all(vault: FakeVault) -> None:
    from core.model import PointKind
    from tests.core.itemfactory import point

    vault.points["rpi-web01"] = [point(5 * n, PointKind.CRASH_CONSISTENT, f"p{n:02d}") for n in range(30)]
    code, out, _ = run(vault, "points", "web01", "--limit", "3")
    assert code == 0
    assert "p02" in out and "p03" not in out
    assert "… and 27 older points (--all lists them)." in out
    code, out, _ = run(vault, "points", "web01", "--all")
    assert "p29" in out and "older points" not in out
    code, out, _ = run(vault, "points", "web01", "--json")
    assert len(json.loads(out)["points"]) == 30


def test_emulator_serve_delegates(monkeypatch: pytest.MonkeyPatch) -> None:
    import core.emulator

    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(core.emulator, "serve", lambda scenario, **kw: calls.append((scenario, kw)))
    assert main(["emulator", "serve", "--scenario", "small", "--port", "9443", "--speed", "60"]) == 0
    assert calls == [("small", {"port": 9443, "speed": 60.0})]
    assert main(["emulator"], stderr=io.StringIO()) == 2


def test_show_command_sends_nothing(vault: FakeVault) -> None:
    vault.read_only = True
    code, out, _ = run(vault, "failover", "web01", "--point", "rp-app", "--show-command")
    assert code == 0 and vault.sent == []
    assert "# REST" in out and "/unplannedFailover?api-version=2025-08-01" in out
    assert '"recoveryPointType": "Custom"' in out
    assert "az site-recovery protected-item unplanned-failover" in out
    assert "nothing was sent" in out
    code, out, _ = run(vault, "--json", "commit", "db01", "--show-command")
    assert code == 0 and "Start-AzRecoveryServicesAsrCommitFailoverJob" in json.loads(out)["powershell"]
    code, out, _ = run(vault, "reprotect", "file01", "--process-server", "ps-azure-02", "--show-command")
    assert code == 0 and "ps-guid-2" in out and vault.sent == []


def test_missing_token_is_an_authentication_failure(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    vault_id = (
        "/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg-dr"
        "/providers/Microsoft.RecoveryServices/vaults/vault-avs"
    )

    monkeypatch.delenv("AVS_FAILBACK_ACCESS_TOKEN", raising=False)
    out, err = io.StringIO(), io.StringIO()
    argv = ["items", "--vault-id", vault_id, "--auth", "token"]
    code = main(argv, env={}, config_path=tmp_path / "none.toml", stdout=out, stderr=err)
    assert code == 6
    assert "AVS_FAILBACK_ACCESS_TOKEN is empty" in err.getvalue()
    assert "hint: Sign in again" in err.getvalue()


def test_job_actions_follow_allowed_actions(vault: FakeVault) -> None:
    run(vault, "failover", "web01", "--point", "latest", "--yes")
    code, _, err = run(vault, "job", "job-001", "--restart", "--yes")
    assert code == 4 and "allows: Cancel" in err
    code, _, err = run(vault, "job", "job-001", "--cancel")
    assert code == 2 and "--yes" in err
    code, out, _ = run(vault, "job", "job-001", "--cancel", "--yes")
    assert code == 0 and "Cancel of job job-001 started" in out
    assert vault.sent[-1] == ("cancel", "job-001", None)
    code, out, _ = run(vault, "job", "job-001", "--json")
    assert json.loads(out)["state"] == "Cancelled"
    code, out, _ = run(vault, "job", "job-001", "--restart", "--yes", "--wait")
    assert code == 0 and "Job job-001: Succeeded." in out


def test_a_backend_handed_in_writes_no_journal_of_its_own(
    vault: FakeVault, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    code, _, _ = run(vault, "failover", "web01", "--point", "latest", "--yes")
    assert code == 0 and vault.sent
    assert not (tmp_path / "avs-failback" / "journal.jsonl").exists()
