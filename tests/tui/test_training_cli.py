"""`avs-failback train --list [--json]` and `train --check FILE`, through the console entry point."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core.training import SCENARIO_DIR
from tui.main import main


def test_list_names_every_bundled_lesson_with_its_goals(capsys: Any) -> None:
    assert main(["train", "--list"]) == 0
    out = capsys.readouterr().out
    bundled = sorted(p.stem for p in SCENARIO_DIR.glob("train-*.json"))
    assert len(bundled) == 8
    for name in bundled:
        assert f"{name}  Training:" in out
    assert "- Choose Latest and say how much data it gives up" in out
    assert "avs-failback train --scenario NAME" in out


def test_list_json_is_machine_readable(capsys: Any) -> None:
    assert main(["train", "--list", "--json"]) == 0
    lessons = json.loads(capsys.readouterr().out)
    by_name = {lesson["name"]: lesson for lesson in lessons}
    assert by_name["train-consistency-group"]["plan"] == "rp-orders"
    assert by_name["train-consistency-group"]["expected_point"] == "app-consistent"
    assert by_name["train-preflight"]["ends_after"] == "preflight"
    assert by_name["train-modernized-cancel"]["provider"] == "modernized"
    assert by_name["train-modernized-cancel"]["cancel_once"] is True
    assert by_name["train-single-vm"]["provider"] == "classic"
    assert by_name["train-single-vm"]["focus"] == ["web-shop-01"]


def test_check_accepts_a_bundled_lesson(capsys: Any) -> None:
    path = SCENARIO_DIR / "train-single-vm.json"
    assert main(["train", "--check", str(path)]) == 0
    assert "a valid training scenario (Training: fail back one VM)" in capsys.readouterr().out


def test_check_refuses_a_broken_lesson_naming_file_field_and_fault(tmp_path: Path, capsys: Any) -> None:
    data = json.loads((SCENARIO_DIR / "train-single-vm.json").read_text())
    data["training"]["focus"] = ["web-shop-01", "web-shpo-02"]
    bad = tmp_path / "my-drill.json"
    bad.write_text(json.dumps(data))
    assert main(["train", "--check", str(bad)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"{bad}: $.training.focus[1]: no item named 'web-shpo-02' in this scenario" in captured.err


def test_check_json_lists_the_problems(tmp_path: Path, capsys: Any) -> None:
    data = json.loads((SCENARIO_DIR / "train-single-vm.json").read_text())
    data["training"]["expected_point"] = "oldest"
    bad = tmp_path / "drill.json"
    bad.write_text(json.dumps(data))
    assert main(["train", "--check", str(bad), "--json"]) == 2
    answer = json.loads(capsys.readouterr().out)
    assert answer["valid"] is False and answer["file"] == str(bad)
    assert answer["problems"] == [f"{bad}: $.training.expected_point: 'oldest' is not one of: latest, app-consistent"]


def test_check_of_a_missing_file_says_so(tmp_path: Path, capsys: Any) -> None:
    assert main(["train", "--check", str(tmp_path / "nope.json")]) == 2
    assert "nope.json: $: no such scenario file" in capsys.readouterr().err


def test_train_without_options_is_the_dashboard_not_the_cli(monkeypatch: Any) -> None:
    started: list[Any] = []

    class FakeApp:
        return_code = 0

        def __init__(self, lesson: Any, **kwargs: Any) -> None:
            started.append(lesson)

        def run(self) -> None:
            pass

    import tui.screens.training_app as training_app

    monkeypatch.setattr(training_app, "TrainingApp", FakeApp)
    assert main(["train"]) == 0
    assert main(["train", "--scenario", "single-vm"]) == 0
    assert started[0] is None and started[1].name == "train-single-vm"
    assert main(["train", "--scenario", "no-such-lesson"]) == 2
