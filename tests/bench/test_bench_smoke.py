"""The benchmark harness runs end to end on tiny sizes (figures are not checked: only that each step works)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import run, scenarios, tracking
from bench.common import run_step
from core.emulator import load_scenario


def test_generated_scenarios_load(tmp_path: Path) -> None:
    big = load_scenario(str(scenarios.big_vault(tmp_path, 100)))
    assert len(big.items) == 100
    live = load_scenario(str(scenarios.running_jobs(tmp_path, 3)))
    assert sum(1 for i in live.items if i.stage == "failover-running") == 3
    assert len(load_scenario(str(scenarios.ready_items(tmp_path, 4))).items) == 4


@pytest.mark.parametrize("mode", ["tracker", "sdk"])
def test_tracking_follows_every_job_to_its_end(mode: str) -> None:
    result = tracking.run_tracker(3) if mode == "tracker" else tracking.run_sdk(3)
    assert result["unfinished"] == 0
    assert result["states"].get("Succeeded") == 3
    assert result["reads"] > 0 and result["max_staleness_s"] > 0


def test_big_vault_step_in_the_real_dashboard(tmp_path: Path) -> None:
    path = scenarios.big_vault(tmp_path, 60)
    result = run_step("bench.bigvault", ["--scenario", str(path), "--count", "60"], timeout=120)
    assert result["items"] == 60
    assert 0 < result["first_page_s"] <= result["first_rows_s"] <= result["full_list_s"]
    assert len(result["filter_key_s"]) == len("vm-0012")
    assert result["rss_mb"] > 0


def test_big_vault_step_with_the_vault_served_by_another_process(tmp_path: Path) -> None:
    """`emulator serve` refuses port 0: the step finds a free port itself (it had failed on that)."""
    path = scenarios.big_vault(tmp_path, 60)
    result = run_step("bench.bigvault", ["--scenario", str(path), "--count", "60", "--remote"], timeout=120)
    assert result["items"] == 60 and result["remote"] is True
    assert 0 < result["first_rows_s"] <= result["full_list_s"]


def test_listing_step_reads_every_item(tmp_path: Path) -> None:
    path = scenarios.big_vault(tmp_path, 120)
    for mode in ("raw", "sdk"):
        result = run_step("bench.listing", ["--scenario", str(path), "--mode", mode], timeout=120)
        assert result["items"] == 120


def test_table_and_targets() -> None:
    figures = [
        run.Figure("fast", "s", 0.35, 0.2, 1.5, "naive"),
        run.Figure("slow", "B/s", 0.0, 199.0),
        run.Figure("context", "MB", None, 80.0),
    ]
    assert [f.met for f in figures] == [True, False, None]
    text = run.table(figures)
    assert "| fast | ≤ 350 ms | 200 ms | 1.50 s (naive) | yes |" in text
    assert "| slow | ≤ 0 B/s | 199 B/s | — | **no** |" in text
    json.dumps([run.asdict(f) for f in figures])


def test_jobs_finishing_together_are_read_together() -> None:
    # Eight failovers end in the same poll: one extra list reads their final states, not eight GETs.
    result = tracking.run_tracker(8)
    assert result["states"].get("Succeeded") == 8
    assert result["peak_reads_in_60s"] <= 7, result


def test_command_line_step_times_each_command() -> None:
    from bench import cli

    result = cli.measure(1)
    for name in (*cli.COMMANDS, "floor"):
        assert result[f"{name}_s"] > 0 and len(result["raw"][name]) == 1
    assert result["floor_s"] < result["items_json_s"]
