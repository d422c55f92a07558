"""Plan reprotect and preflight from the command line, on the in-process emulator with a manual clock."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from cli.main import main
from core.bootstrap import build_backend
from core.clock import ManualClock
from core.config import Settings
from core.emulator.scenario import SCENARIO_DIR
from core.journal import Journal

ERP = "rp-erp"
ERP_MEMBERS = ["sql-01", "erp-app-01", "erp-app-02", "erp-web-01", "erp-web-02"]


class Vault:
    """A simulated vault on a manual clock, and the CLI run against it."""

    def __init__(self, scenario: str, journal_path: Path | None = None) -> None:
        self.clock = ManualClock()
        self.backend = build_backend(Settings(demo=True, scenario=scenario), clock=self.clock)
        self.journal = (
            Journal(journal_path, clock=self.clock, terminal="test", host="h") if journal_path is not None else None
        )

    def run(self, *argv: str, stdin: io.StringIO | None = None) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        code = main(
            list(argv),
            backend=self.backend,
            clock=self.clock,
            stdin=stdin or io.StringIO(""),
            stdout=out,
            stderr=err,
            journal=self.journal,
        )
        return code, out.getvalue(), " ".join(err.getvalue().split())

    def json(self, *argv: str, code: int = 0) -> Any:
        got, out, err = self.run(*argv, "--json")
        assert got == code, err
        return json.loads(out)

    def stages(self, names: list[str]) -> dict[str, str]:
        items = self.json("items")["items"]
        return {i["friendly_name"]: i["stage"] for i in items if i["friendly_name"] in names}

    def job_count(self) -> int:
        return len(self.json("jobs")["jobs"])


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def demo() -> Vault:
    return Vault("demo")


def _scenario_with_sick_process_server(tmp_path: Path) -> str:
    """small.json with its first process server Critical, and a ready VM of its own that uses it."""
    data = json.loads((SCENARIO_DIR / "small.json").read_text(encoding="utf-8"))
    ps = data["fabrics"][0]["process_servers"][0]
    ps["health"] = "Critical"
    ps["health_errors"] = [
        {
            "code": "806",
            "severity": "Error",
            "category": "FabricInfrastructure",
            "message": f"The process server {ps['name']} is not reachable.",
            "possible_causes": "The process server VM is stopped.",
            "recommended_action": "Start the process server VM and its InMage Scout services.",
        }
    ]
    data["items"].append({"name": "solo-01", "stage": "ready", "ip": "10.20.10.51", "rpo": 40})
    path = tmp_path / "sick-ps.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


# -- plan reprotect -------------------------------------------------------------------------------------------


def test_erp_plan_fails_back_app_consistent_commits_and_reprotects_through_the_agent_window(tmp_path: Path) -> None:
    vault = Vault("demo", tmp_path / "journal.jsonl")
    journal = vault.journal
    assert journal is not None
    plan = next(p for p in vault.json("plans")["plans"] if p["name"] == ERP)
    assert plan["members"] == ERP_MEMBERS and plan["consistency_groups"] == {"erp-core": ERP_MEMBERS[:3]}

    code, out, err = vault.run("plan-failover", ERP, "--point", "app-consistent", "--yes", "--wait")
    assert code == 0, err
    assert "Succeeded." in out and "preflight: ERP" in err and "Network path" in err
    code, _, err = vault.run("plan-commit", ERP, "--confirm", ERP, "--wait")
    assert code == 0, err
    assert set(vault.stages(ERP_MEMBERS).values()) == {"committed"}

    code, _, err = vault.run("plan-reprotect", ERP, "--process-server", "ps-azure-weu-01")
    assert code == 2 and "--yes" in err
    sent_before = len([e for e in journal.entries() if e["kind"] == "intent"])

    code, out, err = vault.run("plan-reprotect", ERP, "--process-server", "ps-azure-weu-01", "--yes", "--wait")
    assert code == 0, err
    lines = out.splitlines()
    assert all(len(line) <= 80 for line in lines)
    for name in ERP_MEMBERS:
        mine = [line for line in lines if line.startswith("  ") and f" {name}: " in line]
        # every VM: sent, refused by ASR while its agent registers, retried, then protected
        assert any("Waiting for the mobility agent, attempt 1 failed" in line for line in mine), name
        assert mine[-1].startswith(f"  ✓ {name}: Protected to Azure (job ")
    assert "Mobility service agent on 'sql-01'" in out
    assert out.rstrip().endswith("is protected to Azure again.")
    assert set(vault.stages(ERP_MEMBERS).values()) == {"protected-to-azure"}

    intents = [e for e in journal.entries() if e["kind"] == "intent"][sent_before:]
    sent = [e for e in journal.entries() if e["kind"] == "sent"][sent_before:]
    assert len(intents) == len(sent) > len(ERP_MEMBERS)
    assert {e["operation"] for e in intents} == {"reprotect"}
    assert {e["target_name"] for e in intents} == set(ERP_MEMBERS)
    # one process server and one master target for every VM: the replication group stays on one pair
    assert len({(e["details"]["process_server_id"], e["details"]["master_target_id"]) for e in intents}) == 1
    # the journal says which plan these reprotects belong to, with the pair every VM was given
    (plan_note,) = [e["fields"] for e in journal.entries() if e["kind"] == "note" and e["fields"].get("plan") == ERP]
    assert set(plan_note["items"]) == set(ERP_MEMBERS)
    assert plan_note["process_server_id"] == intents[0]["details"]["process_server_id"]
    finals = {e["target_name"] for e in journal.entries() if e["kind"] == "job_update" and e["state"] == "Succeeded"}
    assert set(ERP_MEMBERS) <= finals

    code, _, err = vault.run("plan-reprotect", ERP, "--process-server", "ps-azure-weu-01", "--yes")
    assert code == 4 and "already protected to Azure" in err


def test_plan_reprotect_json_follows_running_jobs_instead_of_sending_again() -> None:
    vault = Vault("small")
    code, _, err = vault.run("plan-failover", "Shop", "--point", "latest", "--yes", "--wait")
    assert code == 0, err
    code, _, err = vault.run("plan-commit", "Shop", "--confirm", "Shop", "--wait")  # the friendly name works too
    assert code == 0, err

    jobs = vault.job_count()
    reprotect = ("plan-reprotect", "Shop", "--process-server", "ps-azure-01")
    shown = vault.json(*reprotect, "--show-command")
    assert [s["item"] for s in shown] == ["db-01", "web-01", "web-02"]
    assert all("/reProtect?" in s["rest"] and "/replicationPolicies/avs-to-azure" in s["rest"] for s in shown)
    code, out, _ = vault.run(*reprotect, "--show-command")
    assert code == 0 and out.count("# ---- ") == 3 and "nothing was sent" in out
    code, _, err = vault.run(*reprotect, stdin=Tty("no\n"))
    assert code == 2 and "Not confirmed" in err
    assert "process server ps-azure-01 (health Normal) and the master target mt-avs-01" in err
    vault.backend.read_only = True
    code, _, err = vault.run(*reprotect, "--yes")
    assert code == 4 and "Read-only" in err
    vault.backend.read_only = False
    assert vault.job_count() == jobs

    first = vault.json(*reprotect, "--yes")
    assert first["plan"]["name"] == "rp-shop" and first["waited"] is False and first["all_protected"] is False
    assert first["process_server"] == "ps-azure-01" and first["master_target"] == "mt-avs-01"
    members = {m["item"]: m for m in first["members"]}
    assert list(members) == ["db-01", "web-01", "web-02"]  # boot order
    assert {m["state"] for m in members.values()} == {"running"}
    assert all(m["attempts"] == 1 and m["jobs"] == [m["job_name"]] for m in members.values())
    assert set(members["db-01"]) == {
        "item",
        "item_id",
        "boot_group",
        "state",
        "job_name",
        "jobs",
        "attempts",
        "next_retry_at",
        "last_error",
        "new_item_id",
    }
    assert members["db-01"]["boot_group"] == 1 and members["web-01"]["boot_group"] == 2
    jobs_before = vault.job_count()

    final = vault.json(*reprotect, "--yes", "--wait")
    assert final["all_protected"] is True
    for name, member in ((m["item"], m) for m in final["members"]):
        assert member["state"] == "protected"
        # the job already running was followed: the first job of this run is the one the first run sent
        assert member["jobs"][0] == members[name]["job_name"]
        assert member["attempts"] == len(member["jobs"]) - 1 >= 1
    resent = sum(len(m["jobs"]) - 1 for m in final["members"])
    assert vault.job_count() >= jobs_before + resent


def test_plan_reprotect_refuses_before_the_commit(demo: Vault) -> None:
    jobs = demo.job_count()
    code, _, err = demo.run("plan-reprotect", ERP, "--process-server", "ps-azure-weu-01", "--yes")
    assert code == 4
    assert "Reprotect follows the commit" in err and "sql-01: Ready to fail back" in err
    assert "Nothing was sent" in err
    assert demo.run("plan-reprotect", ERP, "--yes")[0] == 2  # --process-server is required
    assert demo.job_count() == jobs


# -- preflight ------------------------------------------------------------------------------------------------


def test_preflight_of_a_ready_item_passes_with_the_network_warning(demo: Vault) -> None:
    code, out, _ = demo.run("preflight", "dc-01")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "dc-01: ready to fail back, 1 warning"
    assert all(len(line) <= 80 for line in lines)
    assert any(line.startswith("  ! WARN Network path") for line in lines)
    assert "→ Check by hand" in out and "FAIL" not in out
    data = demo.json("preflight", "dc-01")
    assert (data["target"], data["kind"], data["worst"], data["ok"]) == ("dc-01", "item", "warn", True)
    levels = {c["key"]: c["level"] for c in data["checks"]}
    assert levels.pop("network-path") == "warn"
    assert set(levels.values()) == {"pass"}
    assert all(set(c) == {"key", "title", "level", "detail", "remedy"} for c in data["checks"])


def test_preflight_fails_an_item_without_a_recovery_point(demo: Vault) -> None:
    code, out, _ = demo.run("preflight", "bi-01")
    assert code == 4
    assert "✗ FAIL Recovery point available: bi-01 has no recovery point" in out
    data = demo.json("preflight", "bi-01", code=4)
    check = next(c for c in data["checks"] if c["key"] == "recovery-points")
    assert check["level"] == "fail" and "Wait for replication" in check["remedy"]
    assert data["worst"] == "fail" and data["ok"] is False


def test_preflight_sends_a_replication_group_member_to_its_plan(demo: Vault) -> None:
    # Not a failure of the VM (its state is "with its plan"), but it cannot fail back alone: exit 4 all the same.
    data = demo.json("preflight", "erp-app-02", code=4)
    assert not [c for c in data["checks"] if c["level"] == "fail"]
    group = next(c for c in data["checks"] if c["key"] == "consistency-group")
    assert group["level"] == "plan" and "'erp-core'" in group["detail"]
    assert "Fail back its recovery plan instead: 'ERP (SAP ECC front and back end)'" in group["remedy"]
    code, out, _ = demo.run("preflight", "erp-app-02")
    assert code == 4 and out.startswith("erp-app-02: fails back with its recovery plan")
    code, out, _ = demo.run("preflight", ERP)  # the plan that holds the whole group passes
    assert code == 0 and out.startswith("ERP (SAP ECC front and back end): ready to fail back")


def test_preflight_fails_on_a_critical_process_server_and_failover_refuses(tmp_path: Path) -> None:
    vault = Vault(_scenario_with_sick_process_server(tmp_path))
    data = vault.json("preflight", "solo-01", code=4)
    check = next(c for c in data["checks"] if c["key"] == "process-server")
    assert check["level"] == "fail" and "health Critical" in check["detail"]
    assert "Sign in to ps-azure-01" in check["remedy"] and "Start the process server VM" in check["remedy"]

    jobs = vault.job_count()
    code, out, err = vault.run("failover", "solo-01", "--point", "latest", "--yes")
    assert code == 4 and out == ""
    assert "FAIL Process server in Azure" in err and "Sign in to ps-azure-01" in err
    assert "was not sent" in err and "--skip-preflight" in err
    assert "PASS" not in err  # the refusal shows what blocks, the passes are folded
    code, out, err = vault.run("plan-failover", "rp-shop", "--point", "latest", "--yes", "--json")
    assert code == 4 and json.loads(out)["preflight"]["worst"] == "fail"
    assert vault.job_count() == jobs

    data = vault.json("failover", "solo-01", "--point", "latest", "--yes", "--skip-preflight")
    assert data["preflight"] == "skipped" and data["handle"]["target_name"] == "solo-01"
    assert vault.job_count() == jobs + 1


def test_preflight_all_json_shape_and_exit_code(demo: Vault) -> None:
    data = demo.json("preflight", "--all", code=4)
    assert set(data) == {"vault", "time", "worst", "reports"} and data["worst"] == "fail"
    kinds = {(r["kind"], r["target"]) for r in data["reports"]}
    assert ("item", "dc-01") in kinds and ("plan", "ERP (SAP ECC front and back end)") in kinds
    assert ("item", "bi-01") not in kinds  # only items ready to fail back are checked
    for report in data["reports"]:
        assert {"target", "kind", "worst", "checks"} <= set(report)
        order = ["pass", "plan", "warn", "fail"]
        assert report["worst"] == max((c["level"] for c in report["checks"]), key=order.index)
    code, out, _ = demo.run("preflight", "--all")
    assert code == 4
    assert "other checks passed" in out and out.rstrip().splitlines()[-1].endswith("not ready.")


def test_preflight_usage_and_lookup_errors(demo: Vault) -> None:
    assert demo.run("preflight")[0] == 2
    assert demo.run("preflight", "dc-01", "--all")[0] == 2
    code, _, err = demo.run("preflight", "no-such-thing")
    assert code == 5 and "item or recovery plan" in err
