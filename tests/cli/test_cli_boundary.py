"""No command ends with a Python traceback: each subcommand, given broken input, exits with a documented code and
says what is wrong in words, before anything is sent."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cli.main import build_parser, main
from core.bootstrap import build_backend
from core.clock import ManualClock
from core.config import Settings
from core.emulator import ArmEmulator, load_scenario
from core.journal import Journal
from core.model import OperationHandle

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTED = {1, 2, 3, 4, 5, 6}
DEMO = ("--demo", "--scenario", "small")


def cli(*argv: str, **kwargs: Any) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), config_path=Path("/nonexistent"), stdout=out, stderr=err, **kwargs)
    return code, out.getvalue(), err.getvalue()


BROKEN = [
    (("items", "--stage", "flying"), 2),
    (("items", "--vault-id", "/subscriptions/x/nope"), 2),
    (("items", "--profile", "nowhere"), 2),
    (("points", "no-such-vm"), 5),
    (("failover", "no-such-vm", "--point", "latest", "--yes"), 5),
    (("failover", "app-01", "--point", "latest", "--yes"), 4),
    (("failover", "db-01", "--point", "no-such-point", "--yes"), 4),
    (("commit", "web-01", "--confirm", "web-01"), 4),
    (("reprotect", "app-01", "--process-server", "no-such-ps", "--yes"), 5),
    (("jobs", "--state", "Flying"), 2),
    (("job", "no-such-job"), 5),
    (("job", "no-such-job", "--cancel", "--yes"), 5),
    (("plans", "--scenario", "no-such-scenario"), 2),
    (("plan", "no-such-plan"), 5),
    (("plan-failover", "rp-shop", "--point", "a-custom-point"), 2),
    (("plan-commit", "rp-shop", "--confirm", "rp-shop"), 4),
    (("plan-reprotect", "rp-shop", "--process-server", "ps-azure-01", "--yes"), 4),
    (("preflight",), 2),
    (("preflight", "no-such-thing"), 5),
    (("report", "--since", "yesterday-ish"), 2),
    (("report", "--output", "/no/such/folder/report.md"), 2),
    (("train", "--check", "/no/such/lesson.json"), 2),
    (("emulator", "serve", "--scenario", "/no/such/scenario.json"), 2),
    (("emulator", "launch"), 2),
]


@pytest.mark.parametrize(("argv", "code"), BROKEN, ids=[" ".join(a) for a, _ in BROKEN])
def test_each_command_with_broken_input_exits_with_its_code_and_one_clear_error(
    argv: tuple[str, ...], code: int, capsys: Any
) -> None:
    needs_no_vault = argv[0] in ("report", "train", "emulator") or "--vault-id" in argv or "--profile" in argv
    got, out, err = cli(*argv) if needs_no_vault else cli(*DEMO, *argv)
    usage = capsys.readouterr().err  # argparse's own complaints go to the process's stderr
    assert got == code, err + usage
    if usage:
        assert "error: argument" in usage
    elif argv[0] == "train":
        assert err.startswith(f"{argv[-1]}: $: no such scenario file"), err  # the check's own format: FILE: PATH: what
    else:
        assert err.startswith("error:"), err
    assert "Traceback" not in err + out + usage


NUMBERS = [
    ("points", "web-01", "--limit", "-5"),
    ("points", "web-01", "--limit", "0"),
    ("points", "web-01", "--limit", "many"),
    ("failover", "db-01", "--point", "latest", "--wait", "--timeout", "-1"),
    ("failover", "db-01", "--point", "latest", "--wait", "--timeout", "nan"),
    ("failover", "db-01", "--point", "latest", "--wait", "--timeout", "inf"),
    ("job", "x", "--watch", "--timeout", "0"),
    ("resume", "--wait", "--timeout", "-3"),
    ("items", "--speed", "nan"),
    ("items", "--speed", "inf"),
    ("items", "--speed", "0"),
    ("items", "--speed", "-5"),
    ("emulator", "serve", "--port", "0"),
    ("emulator", "serve", "--port", "65536"),
]


@pytest.mark.parametrize("argv", NUMBERS, ids=[" ".join(a) for a in NUMBERS])
def test_every_number_is_checked_before_anything_is_sent(argv: tuple[str, ...], capsys: Any) -> None:
    with pytest.raises(SystemExit) as stop:
        build_parser().parse_args([*DEMO, *argv])
    assert stop.value.code == 2
    said = capsys.readouterr().err
    assert f"argument {argv[-2]}" in said  # the option whose value is wrong


def test_a_bad_number_through_main_is_exit_2_and_nothing_is_sent() -> None:
    clock = ManualClock()
    emulator = ArmEmulator(load_scenario("small"), clock, base_url="https://emulator.avs-failback.invalid")
    backend = build_backend(Settings(demo=True), clock=clock, emulator=emulator)
    argv = ("failover", "db-01", "--point", "latest", "--yes", "--wait", "--timeout", "-1")
    code, out, err = cli(*argv, backend=backend)
    assert code == 2
    assert emulator.stats.writes == 0


def test_an_unexpected_error_is_exit_1_in_one_line_without_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    from core.azure.backend import AzureBackend

    def broken(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(AzureBackend, "iter_item_pages", broken)
    monkeypatch.delenv("AVS_FAILBACK_DEBUG", raising=False)
    code, out, err = cli(*DEMO, "items")
    assert code == 1
    assert err.startswith("error: Unexpected error: ZeroDivisionError: a bug") and "Traceback" not in err
    assert "AVS_FAILBACK_DEBUG=1" in " ".join(err.split())
    monkeypatch.setenv("AVS_FAILBACK_DEBUG", "1")
    code, out, err = cli(*DEMO, "items")
    assert code == 1 and "Traceback" in err  # asked for, for a bug report


def test_a_config_file_that_is_no_text_is_exit_2_from_the_console_script(tmp_path: Path) -> None:
    config = tmp_path / "config" / "avs-failback"
    config.mkdir(parents=True)
    (config / "config.toml").write_bytes(b"\xff\xfe[profiles.p]\x00\x00")
    os.chmod(config / "config.toml", 0o600)
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_STATE_HOME": str(tmp_path / "state")}
    for argv in (["items", "--profile", "p"], ["--profile", "p"]):  # the CLI, and the dashboard's start
        run = subprocess.run(
            [sys.executable, "-m", "tui.main", *argv], cwd=ROOT, env=env, capture_output=True, timeout=120
        )
        assert run.returncode == 2, run.stderr
        assert b"Cannot read the config file" in run.stderr and b"Traceback" not in run.stderr


def test_resume_records_a_job_asr_no_longer_knows_and_follows_the_others(tmp_path: Path) -> None:
    clock = ManualClock()
    emulator = ArmEmulator(load_scenario("small"), clock, base_url="https://emulator.avs-failback.invalid")
    backend = build_backend(Settings(demo=True), clock=clock, emulator=emulator)
    journal = Journal(tmp_path / "journal.jsonl", clock=clock, vault=backend.vault)
    items = {i.friendly_name: i for i in backend.list_items()}
    item = items["app-01"]
    fabric = backend.list_fabrics()[0]
    from core.model import ReprotectTarget

    real = backend.reprotect(item, ReprotectTarget(fabric.process_servers[0].id, fabric.master_targets[0].id))
    for handle in (OperationHandle("commit", "job-deleted-long-ago", items["web-01"].id, "web-01"), real):
        intent = journal.intent(handle.operation, vault=backend.vault, target_id=handle.target_id, target_name="x")
        journal.sent(intent, handle)

    def advance(seconds: float) -> None:
        clock.advance(seconds)

    clock.sleep = advance  # type: ignore[method-assign]
    code, out, err = cli("resume", "--wait", backend=backend, clock=clock, journal=journal)
    said = " ".join(out.split())
    assert code == 0, err
    assert "Job job-deleted-long-ago is no longer known to ASR" in said and "recorded as gone" in said
    assert f"Job {real.job_name} (" in said and "Succeeded" in said
    assert [entry.job_name for entry in journal.in_flight()] == []
    code, out, err = cli("resume", backend=backend, clock=clock, journal=journal)
    assert code == 0 and "nothing to resume" in out
