"""Training scenario files: the bundled ones load and validate; broken ones are refused with file, field and what."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from core.emulator import load_scenario
from core.emulator.scenario import ScenarioError
from core.training import check_file, list_training, load_training

# In the order the picker lists them: by level, the whole failback of one VM first (the modernized one, the path
# of most vaults today, then the classic one), the plan lesson last.
BUNDLED = (
    "train-modernized-failback",
    "train-single-vm",
    "train-preflight",
    "train-agent-window",
    "train-failed-task",
    "train-other-operator",
    "train-modernized-cancel",
    "train-consistency-group",
)


def test_the_eight_bundled_lessons_load_with_brief_goals_and_focus() -> None:
    lessons = list_training()
    assert [t.name for t in lessons] == list(BUNDLED)
    for t in lessons:
        assert t.title and len(t.brief) > 80 and t.goals and t.focus_items, t.name
        assert check_file(t.source) == [], t.name
        # The emulator runs the very same file.
        assert load_scenario(t.scenario).training is not None


def test_expected_choices_of_the_bundled_lessons() -> None:
    by_name = {t.name: t for t in list_training()}
    assert by_name["train-consistency-group"].expected_point == "app-consistent"
    assert by_name["train-consistency-group"].plan == "rp-orders"
    assert by_name["train-single-vm"].expected_point == "latest"
    assert by_name["train-preflight"].ends_after == "preflight"
    assert by_name["train-agent-window"].start_stage == "failed-over"
    assert by_name["train-agent-window"].expected_point is None
    assert by_name["train-modernized-failback"].provider == "modernized"
    assert by_name["train-modernized-cancel"].cancel_once and by_name["train-single-vm"].provider == "classic"


def test_short_names_and_paths_both_load() -> None:
    assert load_training("single-vm").name == "train-single-vm"
    assert load_training(load_training("train-preflight").source).name == "train-preflight"


def test_a_scenario_without_a_training_section_is_not_a_lesson() -> None:
    with pytest.raises(ScenarioError) as caught:
        load_training("small")
    assert caught.value.path == "$.training" and "missing" in caught.value.what


def base() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(Path(load_training("train-consistency-group").source).read_text())
    return data


def write(tmp_path: Path, data: Any, raw: str | None = None) -> Path:
    path = tmp_path / "my-drill.json"
    path.write_text(raw if raw is not None else json.dumps(data), encoding="utf-8")
    return path


def refused(path: Path) -> tuple[str, str, str]:
    messages = check_file(path)
    assert len(messages) == 1, messages
    file, where, what = messages[0].split(": ", 2)
    return file, where, what


def test_a_valid_copy_passes(tmp_path: Path) -> None:
    assert check_file(write(tmp_path, base())) == []


def test_bad_json(tmp_path: Path) -> None:
    file, where, what = refused(write(tmp_path, None, raw='{"title": "x",\n  "brief": }'))
    assert file.endswith("my-drill.json") and where == "line 2 column 12" and what.startswith("not valid JSON")


def test_missing_field(tmp_path: Path) -> None:
    data = base()
    del data["training"]["goals"]
    assert refused(write(tmp_path, data))[1:] == ("$.training.goals", "missing (required)")
    data = base()
    del data["items"][1]["stage"]
    assert refused(write(tmp_path, data))[1:] == ("$.items[1].stage", "missing (required)")


def test_wrong_type(tmp_path: Path) -> None:
    data = base()
    data["items"][0]["rpo"] = "twenty"
    assert refused(write(tmp_path, data))[1:] == ("$.items[0].rpo", "expected an integer, got str")
    data = base()
    data["training"]["focus"] = "orders-db-01"
    assert refused(write(tmp_path, data))[1:] == ("$.training.focus", "expected a list, got str")


def test_unknown_item_in_a_plan(tmp_path: Path) -> None:
    data = base()
    data["plans"][0]["groups"][1]["items"].append("ghost-01")
    assert refused(write(tmp_path, data))[1:] == (
        "$.plans[0].groups[1].items[2]",
        "no item named 'ghost-01' in this scenario",
    )


def test_unknown_fault_kind(tmp_path: Path) -> None:
    data = base()
    data["faults"] = [{"kind": "meteor-strike", "item": "orders-db-01"}]
    _, where, what = refused(write(tmp_path, data))
    assert where == "$.faults[0]" and what.startswith("unknown fault kind 'meteor-strike'")
    assert "other-operator" in what  # the message lists the kinds that exist


def test_bad_duration(tmp_path: Path) -> None:
    data = base()
    data["items"][2]["since"] = "2 hours"
    _, where, what = refused(write(tmp_path, data))
    assert where == "$.items[2].since" and "'2 hours' is not a time offset" in what
    data = base()
    data["faults"] = [{"kind": "other-operator", "item": "orders-db-01", "operation": "commit", "after": "soon"}]
    assert refused(write(tmp_path, data))[1] == "$.faults[0].after"


@pytest.mark.parametrize(
    "change,where,what",
    [
        (lambda d: d["training"]["focus"].append("ghost-02"), "$.training.focus[4]", "no item named 'ghost-02'"),
        (lambda d: d["training"].update(plan="rp-nope"), "$.training.plan", "no plan named 'rp-nope'"),
        (
            lambda d: d["training"].update(expected_point="oldest"),
            "$.training.expected_point",
            "'oldest' is not one of: latest, app-consistent",
        ),
        (lambda d: d["training"].update(ends_after="lunch"), "$.training.ends_after", "'lunch' is not one of"),
        (lambda d: d["training"].update(goals=[]), "$.training.goals", "needs at least one entry"),
        (lambda d: d["training"].update(hint="x"), "$.training.hint", "unknown key"),
        (lambda d: d.pop("brief"), "$.brief", "a training scenario needs a brief"),
        (lambda d: d.pop("training"), "$.training", "missing"),
    ],
)
def test_training_section_errors(tmp_path: Path, change: Any, where: str, what: str) -> None:
    data = base()
    change(data)
    file, got_where, got_what = refused(write(tmp_path, data))
    assert file.endswith("my-drill.json") and got_where == where and got_what.startswith(what), got_what


def test_a_focus_item_outside_the_plan_is_refused(tmp_path: Path) -> None:
    data = base()
    data["items"].append({"name": "lonely-01", "stage": "ready"})
    data["training"]["focus"].append("lonely-01")
    assert refused(write(tmp_path, data))[1:] == (
        "$.training.focus[4]",
        "'lonely-01' is not a member of the plan 'rp-orders'",
    )


def test_a_cancel_asked_of_a_classic_vm_is_refused(tmp_path: Path) -> None:
    data = base()
    data["training"]["cancel_once"] = True
    assert refused(write(tmp_path, data))[1:] == (
        "$.training.cancel_once",
        "only a modernized failback (provider InMageRcmFailback) can be cancelled; 'orders-db-01' is not one",
    )


def test_a_missing_file(tmp_path: Path) -> None:
    _, where, what = refused(tmp_path / "nowhere.json")
    assert where == "$" and what.startswith("no such scenario file")


def test_training_names_the_emulator_scenario_directory_without_importing_the_emulator() -> None:
    import subprocess
    import sys

    from core.emulator.scenario import SCENARIO_DIR
    from core.training import SCENARIO_DIR as TRAINING_DIR

    assert TRAINING_DIR == SCENARIO_DIR
    code = (
        "import sys, core.training; print(sorted(m for m in sys.modules if m.startswith(('azure', 'core.emulator'))))"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"  # the UI can import it before its first frame


def test_each_lesson_says_its_level_and_length_and_a_wrong_one_is_refused(tmp_path: Path) -> None:
    lessons = list_training()
    assert [t.level for t in lessons] == ["beginner"] * 4 + ["intermediate"] * 3 + ["advanced"]
    assert all(t.minutes > 0 for t in lessons) and lessons[1].length == "beginner · about 10 min"
    data: dict[str, Any] = json.loads(Path(load_training("train-single-vm").source).read_text())
    data["training"]["level"] = "expert"
    bad = tmp_path / "bad-level.json"
    bad.write_text(json.dumps(data))
    assert check_file(bad) == [f"{bad}: $.training.level: 'expert' is not one of: beginner, intermediate, advanced"]
