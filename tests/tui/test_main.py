"""The console script: dashboard for no subcommand or `demo`, the CLI for everything else."""

from __future__ import annotations

from typing import Any

import pytest

import cli.main
from core.model import JobState, Stage
from tui import main as entry
from tui.app import FailbackApp
from tui.glyphs import Glyphs, wants_ansi_theme, wants_ascii


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def fake_run(self: FailbackApp, *args: Any, **kwargs: Any) -> None:
        seen["settings"] = self.settings
        seen["glyphs"] = self.glyphs
        seen["reader"] = self.first_page_reader

    def fake_cli(argv: list[str] | None = None) -> int:
        seen["cli"] = argv
        return 7

    monkeypatch.setattr(FailbackApp, "run", fake_run)
    monkeypatch.setattr(cli.main, "main", fake_cli)
    monkeypatch.delenv("AVS_FAILBACK_VAULT_ID", raising=False)
    monkeypatch.delenv("AVS_FAILBACK_PROFILE", raising=False)
    return seen


def test_demo_runs_the_dashboard_on_the_emulator_at_speed_30(captured: dict[str, Any]) -> None:
    assert entry.main(["demo"]) == 0
    settings = captured["settings"]
    assert settings.demo and settings.scenario == "demo" and settings.speed == 30.0
    assert "cli" not in captured


def test_demo_takes_speed_scenario_and_read_only(captured: dict[str, Any]) -> None:
    entry.main(["demo", "--speed", "120", "--scenario", "small", "--read-only", "--ascii"])
    settings = captured["settings"]
    assert (settings.speed, settings.scenario, settings.read_only) == (120.0, "small", True)
    assert captured["glyphs"].ascii_only


def test_no_subcommand_runs_the_dashboard_on_the_configured_vault(captured: dict[str, Any]) -> None:
    vault = (
        "/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg"
        "/providers/Microsoft.RecoveryServices/vaults/v1"
    )
    assert entry.main(["--vault-id", vault, "--read-only"]) == 0
    settings = captured["settings"]
    assert not settings.demo and settings.read_only
    assert settings.vault is not None and settings.vault.name == "v1"


def test_bad_vault_id_is_refused_before_any_screen(captured: dict[str, Any], capsys: Any) -> None:
    assert entry.main(["--vault-id", "not-a-vault"]) == 2
    assert "settings" not in captured
    assert "vault" in capsys.readouterr().err.lower()


@pytest.mark.parametrize("argv", [["items", "--json"], ["--demo", "jobs"], ["failover", "sql-01", "--point", "latest"]])
def test_other_subcommands_go_to_the_cli(captured: dict[str, Any], argv: list[str]) -> None:
    assert entry.main(argv) == 7
    assert captured["cli"] == argv
    assert "settings" not in captured


def test_linux_console_gets_ascii_glyphs_and_the_ansi_theme() -> None:
    assert wants_ascii({"TERM": "linux"}) and wants_ansi_theme({"TERM": "linux"})
    assert not wants_ansi_theme({"TERM": "xterm-256color"})
    assert wants_ascii({"TERM": "xterm-256color", "AVS_FAILBACK_ASCII": "1"})
    glyphs = Glyphs(ascii_only=True)
    for stage in Stage:
        assert glyphs.stage_text(stage).isascii(), stage
    for state in JobState:
        assert glyphs.job_text(state).isascii(), state


def test_no_early_read_is_forked_while_another_thread_runs(captured: dict[str, Any]) -> None:
    import threading

    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        assert entry.main(["demo"]) == 0
    finally:
        stop.set()
        other.join()
    assert captured["settings"].demo
    assert captured["reader"] is None  # a fork would copy this thread only, and none of the locks it may hold
