"""End to end on the in-process emulator (--demo): the CLI drives one VM through the whole failback."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from cli.main import main
from core.bootstrap import build_backend
from core.clock import ManualClock
from core.config import Settings


@pytest.fixture
def demo() -> tuple[Any, ManualClock]:
    clock = ManualClock()
    return build_backend(Settings(demo=True, scenario="demo"), clock=clock), clock


def run(demo: tuple[Any, ManualClock], *argv: str) -> tuple[int, str, str]:
    backend, clock = demo
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), backend=backend, clock=clock, stdin=io.StringIO(""), stdout=out, stderr=err)
    return code, out.getvalue(), " ".join(err.getvalue().split())


def _items(demo: tuple[Any, ManualClock], *extra: str) -> list[dict[str, Any]]:
    code, out, err = run(demo, "items", "--json", *extra)
    assert code == 0, err
    items: list[dict[str, Any]] = json.loads(out)["items"]
    return items


def test_demo_vault_lists_every_stage(demo: tuple[Any, ManualClock]) -> None:
    stages = {i["stage"] for i in _items(demo)}
    assert {"ready", "failed-over", "committed", "protected-to-azure", "not-ready"} <= stages
    code, out, _ = run(demo, "items")
    assert code == 0 and all(len(line) <= 80 for line in out.splitlines())


def test_failover_commit_reprotect_one_vm(demo: tuple[Any, ManualClock]) -> None:
    backend, _ = demo
    ready = next(i for i in _items(demo, "--stage", "ready") if i["next_step"] == "Fail back")
    name = ready["friendly_name"]

    code, out, _ = run(demo, "points", name, "--json")
    assert code == 0
    options = json.loads(out)["options"]
    assert options[0]["choice"] == "latest"

    code, out, err = run(demo, "failover", name, "--point", "latest", "--yes", "--wait")
    assert code == 0, err
    assert "Succeeded" in out
    assert next(i for i in _items(demo) if i["friendly_name"] == name)["stage"] == "failed-over"

    code, out, err = run(demo, "commit", name, "--confirm", name, "--wait")
    assert code == 0, err
    assert next(i for i in _items(demo) if i["friendly_name"] == name)["stage"] == "committed"

    healthy = next(ps for f in backend.list_fabrics() for ps in f.process_servers if ps.is_healthy)
    code, out, _ = run(demo, "reprotect", name, "--process-server", healthy.friendly_name, "--show-command")
    # the printed request names the policy the backend would pick when sending
    assert code == 0 and '"policyId": "/Subscriptions/' in out and "/replicationPolicies/" in out
    code, out, err = run(demo, "reprotect", name, "--process-server", healthy.friendly_name, "--yes", "--wait")
    assert code == 0, err
    # the AVS VM booted minutes ago: the mobility agent is still registering, so the first tries fail
    assert "has not registered yet" in err
    assert next(i for i in _items(demo) if i["friendly_name"] == name)["stage"] == "protected-to-azure"

    code, out, _ = run(demo, "jobs", "--json")
    jobs = json.loads(out)["jobs"]
    assert {"Failed", "Succeeded"} <= {j["state"] for j in jobs}


def test_exit_codes_on_the_demo_vault(demo: tuple[Any, ManualClock]) -> None:
    items = _items(demo)
    not_ready = next(i for i in items if i["stage"] == "not-ready")
    code, _, err = run(demo, "failover", not_ready["friendly_name"], "--point", "latest", "--yes")
    assert code == 4 and "Nothing was sent" in err
    committed = next(i for i in items if i["stage"] == "committed")
    code, _, err = run(demo, "commit", committed["friendly_name"], "--confirm", committed["friendly_name"])
    assert code == 4
    code, _, err = run(demo, "points", "no-such-vm-anywhere")
    assert code == 5
    ready = next(i for i in items if i["next_step"] == "Fail back")
    code, _, err = run(demo, "failover", ready["friendly_name"], "--point", "latest")
    assert code == 2 and "--yes" in err
    code, _, err = run(demo, "job", "00000000-0000-0000-0000-000000000000")
    assert code == 5


def test_plan_failback_and_commit(demo: tuple[Any, ManualClock]) -> None:
    code, out, _ = run(demo, "plans", "--json")
    assert code == 0
    plans = json.loads(out)["plans"]
    erp = max(plans, key=lambda p: len(p["members"]))  # the 5-VM plan with its 3-VM replication group
    assert erp["consistency_groups"]
    assert erp["stage"] == "ready"
    code, out, _ = run(demo, "plan", erp["name"])
    assert code == 0
    assert "Common app-consistent point of" in out and "Fail back: yes." in out
    assert all(len(line) <= 80 for line in out.splitlines())
    member = erp["members"][0]
    code, _, err = run(demo, "failover", member, "--point", "latest", "--yes")
    assert code == 4 and "recovery plan" in err
    code, out, _ = run(demo, "plan-failover", erp["name"], "--point", "app-consistent", "--show-command")
    assert code == 0 and '"recoveryPointType": "LatestTag"' in out and "nothing was sent" in out
    code, out, err = run(demo, "plan-failover", erp["name"], "--point", "app-consistent", "--yes", "--wait")
    assert code == 0, err
    assert "Succeeded" in out
    code, _, err = run(demo, "plan-commit", erp["name"], "--confirm", "wrong")
    assert code == 2 and "does not match" in err
    code, out, err = run(demo, "plan-commit", erp["name"], "--confirm", erp["name"], "--wait")
    assert code == 0, err
    stages = {i["stage"] for i in _items(demo) if i["friendly_name"] in erp["members"]}
    assert stages == {"committed"}
    code, _, err = run(demo, "plan-failover", erp["name"], "--point", "custom")
    assert code == 2


def test_a_missing_point_lists_the_choices_with_their_loss(demo: tuple[Any, ManualClock]) -> None:
    code, out, err = run(demo, "--demo", "failover", "dc-01")
    assert code == 2 and out == ""
    assert "--point is needed. The choices for dc-01:" in err
    assert "latest Latest — crash-consistent" in err and "app-consistent Latest app-consistent" in err
    assert "more than latest" in err and "usage:" not in err
    code, _, err = run(demo, "--demo", "plan-failover", "rp-erp")
    assert code == 2 and "The choices for the plan ERP" in err and "at most about" in err and "usage:" not in err


def test_a_demo_send_says_how_to_follow_it_here_not_in_another_command(demo: tuple[Any, ManualClock]) -> None:
    code, out, _ = run(demo, "--demo", "failover", "dc-01", "--point", "latest", "--yes", "--skip-preflight")
    assert code == 0 and "started: job" in out
    assert "Follow it with" not in out and "add --wait to follow the job" in out


def test_report_under_demo_never_shows_the_journal_on_disk(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from core.journal import Journal
    from core.model import VaultRef

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    real = Journal()  # the operator's journal, about a real vault
    real.note("a real vault's session", vault=VaultRef("sub", "rg", "rsv-prod"))
    out, err = io.StringIO(), io.StringIO()
    code = main(["report", "--demo"], stdin=io.StringIO(""), stdout=out, stderr=err)
    assert code == 0 and "rsv-prod" not in out.getvalue() and "a real vault" not in out.getvalue()
    assert "The demo keeps no journal" in err.getvalue()
    code = main(["report"], stdin=io.StringIO(""), stdout=(plain := io.StringIO()), stderr=io.StringIO())
    assert code == 0 and "a real vault's session" in plain.getvalue()


def test_output_into_a_closed_pipe_ends_quietly() -> None:
    import subprocess
    import sys

    argv = [sys.executable, "-c", "import sys; from tui.main import main; sys.exit(main())", "items", "--demo"]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        # `| head -0`: the reader goes away before the first line (the start-up alone takes longer than this).
        proc.stdout.close()
        err = proc.stderr.read().decode()
        status = proc.wait(timeout=60)
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    assert status == 141
