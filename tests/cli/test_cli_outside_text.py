"""Names set in vCenter, ARM's text and journal content reach the CLI's output inert: the raw bytes written hold
no escape sequence, no control or bidi character, no line a name started, and no Markdown or HTML a name opened."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from cli.main import main
from core.emulator.scenario import SCENARIO_DIR
from core.journal import Journal
from core.model import VaultRef
from tests.hostile_text import hostile_text, inert

ROOT = Path(__file__).resolve().parents[2]
CRAFTED = [
    "title\x1b]0;owned\x07-01",  # sets the terminal's window title
    "clip\x1b]52;c;cm0gLXJmIH4=\x07-02",  # writes the clipboard (OSC 52)
    "clear\x1b[2J\x1b[H-03",  # clears the screen
    "csi\x9b31m-04",  # an 8-bit control sequence introducer
    "bidi\u202e50-vm-05",  # reverses the rest of the line
    "evil-06\n# injected; rm -rf ~",  # a line of its own after a newline
    "SQL-02 [PROD]",
    "web-02[/]",
    "[@click=app.quit]",
    "# <img src=x onerror=alert(1)> *bold* | pipe",
]


def scenario_with(tmp_path: Path, names: list[str]) -> Path:
    data = json.loads((SCENARIO_DIR / "small.json").read_text(encoding="utf-8"))
    data["items"] += [{"name": name, "stage": "ready", "rpo": 30} for name in names]
    data["jobs"] = data.get("jobs", []) + [
        {"kind": "failover", "item": names[0], "state": "Failed", "started": "-2h", "error_message": names[-1]}
    ]
    path = tmp_path / "crafted.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def cli(*argv: str, journal: Journal | None = None) -> tuple[int, bytes, bytes]:
    """The command's stdout and stderr as the bytes a UTF-8 terminal would receive."""
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), config_path=Path("/nonexistent"), stdout=out, stderr=err, journal=journal)
    return code, out.getvalue().encode("utf-8"), err.getvalue().encode("utf-8")


def assert_inert(data: bytes, names: list[str]) -> None:
    text = data.decode("utf-8")
    assert inert(text), [c for c in text if not inert(c)]
    for line in text.splitlines():
        assert not line.startswith("# injected"), line
    for name in names:
        if not inert(name) or "\n" in name:
            assert name not in text


@pytest.fixture
def crafted(tmp_path: Path) -> Path:
    return scenario_with(tmp_path, CRAFTED)


def test_the_items_table_from_the_console_script_is_inert(crafted: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "tui.main", "--demo", "--scenario", str(crafted), "items"],
        cwd=ROOT,
        capture_output=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert_inert(run.stdout + run.stderr, CRAFTED)
    assert b"title\\x1b]0;owned" in run.stdout  # shown, as visible text
    assert b"SQL-02 [PROD]" in run.stdout  # an ordinary name is left alone
    assert all(len(line) <= 80 for line in run.stdout.decode().splitlines())  # the table holds its columns


def test_json_keeps_each_name_exactly_and_inert(crafted: Path) -> None:
    code, out, err = cli("--demo", "--scenario", str(crafted), "items", "--json")
    assert code == 0, err
    assert inert(out.decode().replace("\n", ""))
    names = {item["friendly_name"] for item in json.loads(out)["items"]}
    assert set(CRAFTED) <= names


@pytest.mark.parametrize("name", CRAFTED)
def test_every_command_that_names_an_item_writes_it_inert(crafted: Path, name: str) -> None:
    base = ("--demo", "--scenario", str(crafted))
    for argv in (
        ("points", name),
        ("failover", name, "--point", "latest", "--show-command"),
        ("failover", name, "--point", "no-such-point", "--yes"),
        ("commit", name, "--confirm", "something else"),
        ("reprotect", name, "--process-server", "ps-azure-01", "--show-command"),
        ("preflight", name),
        ("jobs",),
    ):
        code, out, err = cli(*base, *argv)
        assert code in (0, 2, 4, 5), (argv, err)
        assert_inert(out + err, CRAFTED)


def test_show_command_comments_cannot_end_early(crafted: Path) -> None:
    name = "evil-06\n# injected; rm -rf ~"
    code, out, err = cli("--demo", "--scenario", str(crafted), "failover", name, "--point", "latest", "--show-command")
    assert code == 0, err
    text = out.decode()
    assert "# Fail back evil-06\\n# injected; rm -rf ~ from Azure to AVS" in text
    for line in text.splitlines():
        assert (
            line.startswith(
                ("#", "POST", "Authorization", "Content-Type", "{", "}", " ", "az ", "$", "Set-", "Get-", '"')
            )
            or not line
        ), line


def test_the_report_escapes_names_in_markdown_and_stays_inert(tmp_path: Path) -> None:
    vault = VaultRef("00000000-0000-4000-8000-000000000001", "rg", "vault-avs")
    journal = Journal(tmp_path / "journal.jsonl", vault=vault)
    for name in CRAFTED:
        journal.intent("failover", vault=vault, target_id=f"{vault.arm_id}/items/x", target_name=name)
        journal.note(name, where=name)
    code, md, err = cli("report", journal=journal)
    assert code == 0, err
    assert_inert(md, CRAFTED)
    text = md.decode()
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert all(h.split(" ", 1)[1][0].isalpha() or h.startswith("# Failback") for h in headings), headings
    assert "<img" not in text and "&lt;img" in text and "\\[@click=app.quit\\]" in text
    code, raw, err = cli("report", "--format", "json", journal=journal)
    assert code == 0 and inert(raw.decode().replace("\n", ""))
    assert {s["item"] for s in json.loads(raw)["steps"] if s["kind"] == "intent"} == set(CRAFTED)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=hostile_text(10).map(lambda n: [n.strip() or "x", "plain-vm"]))
def test_any_name_in_any_output_comes_out_inert(tmp_path_factory: pytest.TempPathFactory, names: list[str]) -> None:
    if len(set(names)) < 2:
        return
    path = scenario_with(tmp_path_factory.mktemp("names"), names)
    base = ("--demo", "--scenario", str(path))
    for argv in (
        ("items",),
        ("items", "--json"),
        ("points", names[0]),
        ("failover", names[0], "--point", "latest", "--show-command"),
        ("commit", names[0], "--confirm", "nope"),
        ("jobs",),
    ):
        code, out, err = cli(*base, *argv)
        assert code in (0, 2, 4, 5), (argv, err)
        text = (out + err).decode("utf-8")
        assert inert(text), (argv, [c for c in text if not inert(c)])
        assert "Traceback" not in text
    journal = Journal(tmp_path_factory.mktemp("journal") / "journal.jsonl")
    vault = VaultRef("00000000-0000-4000-8000-000000000001", "rg", "vault-avs")
    journal.intent("commit", vault=vault, target_id=names[0], target_name=names[0])
    journal.note(names[0])
    for fmt in ("md", "json"):
        code, out, err = cli("report", "--format", fmt, journal=journal)
        assert code == 0 and inert(out.decode("utf-8")), fmt


def test_report_never_raises_on_a_journal_of_wrong_types(tmp_path: Path) -> None:
    from hypothesis import strategies as st

    from core.report import render_report

    leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), hostile_text(6))
    value = st.recursive(
        leaf,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(hostile_text(4), inner, max_size=3),
        max_leaves=8,
    )
    keys = st.sampled_from(
        ["ts", "kind", "intent", "target_id", "target_name", "job_name", "state", "tasks", "errors", "error", "fields",
         "details", "who", "session", "recovery_point", "recovery_point_time", "data_loss_seconds", "duration_seconds",
         "start_time", "end_time", "child_tasks", "friendly_name", "reason", "text"]
    )  # fmt: skip
    kinds = st.sampled_from(["intent", "sent", "refused", "abandoned", "attached", "job_update", "job_gone", "note"])
    record = st.fixed_dictionaries({"kind": kinds}, optional={}).flatmap(
        lambda base: st.dictionaries(keys, value, max_size=8).map(lambda extra: {**extra, **base})
    )

    @settings(max_examples=200, deadline=None)
    @given(st.lists(record, max_size=6))
    def check(records: list[dict[str, Any]]) -> None:
        for fmt in ("md", "json"):
            text = render_report(records, fmt=fmt)
            assert inert(text)
            if fmt == "json":
                json.loads(text)

    check()
