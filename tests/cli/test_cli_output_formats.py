"""-o table|json|jsonc|yaml|tsv|none and --query, on the demo vault, as a script or a person at a terminal uses them."""

from __future__ import annotations

import io
import json
import re

import pytest
import yaml

from cli.formats import tsv_lines, yaml_lines
from cli.main import main

SGR = re.compile(r"\x1b\[[0-9;]*m")
# The keys of `items --json` as scripts read them today: -o json must print exactly these.
ITEM_KEYS = {
    "id", "name", "friendly_name", "stage", "stage_label", "stage_reason", "next_step", "replication_health",
    "failover_health", "protection_state", "protection_state_description", "active_location", "provider",
    "instance_type", "allowed_operations", "recovery_plans", "consistency_group", "rpo_seconds",
    "last_recovery_point_time", "last_recovery_point_age_seconds", "running_job", "recovery_fabric", "health_errors",
}  # fmt: skip


class Terminal(io.StringIO):
    """Standard output as a terminal would be: isatty() says yes."""

    def isatty(self) -> bool:
        return True


def run(
    argv: list[str], *, stdout: io.StringIO | None = None, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    out, err = stdout or io.StringIO(), io.StringIO()
    code = main(argv, stdout=out, stderr=err, env=env)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def demo_json() -> dict:
    code, out, _ = run(["items", "--demo", "--json"])
    assert code == 0
    return json.loads(out)


def test_o_json_is_todays_json_with_the_same_keys(demo_json: dict) -> None:
    code, out, _ = run(["items", "--demo", "-o", "json"])
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"vault", "simulated", "time", "items"} == set(demo_json)
    assert [i["friendly_name"] for i in data["items"]] == [i["friendly_name"] for i in demo_json["items"]]
    for item in data["items"]:
        assert set(item) == ITEM_KEYS


def test_query_picks_the_ready_items_from_the_rows(demo_json: dict) -> None:
    code, out, _ = run(["items", "--demo", "-o", "json", "--query", "[?stage=='ready'].name"])
    assert code == 0
    ready = [i["name"] for i in demo_json["items"] if i["stage"] == "ready"]
    assert ready and json.loads(out) == ready
    # --json takes --query the same way
    code, out2, _ = run(["items", "--demo", "--json", "--query", "[?stage=='ready'].friendly_name"])
    assert json.loads(out2) == [i["friendly_name"] for i in demo_json["items"] if i["stage"] == "ready"]


def test_tsv_gives_one_line_per_item_with_the_fields_asked(demo_json: dict) -> None:
    code, out, _ = run(["items", "--demo", "-o", "tsv", "--query", "[].[friendly_name, stage, rpo_seconds]"])
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == len(demo_json["items"])
    for line, item in zip(lines, demo_json["items"], strict=True):
        name, stage, rpo = line.split("\t")
        assert (name, stage) == (item["friendly_name"], item["stage"])
        assert rpo == ("" if item["rpo_seconds"] is None else str(item["rpo_seconds"]))


def test_tsv_without_a_query_keeps_every_row_to_the_same_columns(demo_json: dict) -> None:
    code, out, _ = run(["items", "--demo", "-o", "tsv"])
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == len(demo_json["items"])
    widths = {len(line.split("\t")) for line in lines}
    assert len(widths) == 1
    first = lines[0].split("\t")
    # the fields in the order the JSON builds them; lists and objects (allowed_operations…) are left out
    assert first[:4] == [demo_json["items"][0][k] for k in ("id", "name", "friendly_name", "stage")]


def test_table_is_the_default_and_lists_every_item(demo_json: dict) -> None:
    code, default, _ = run(["items", "--demo"])
    code2, table, _ = run(["items", "--demo", "-o", "table"])
    assert code == code2 == 0
    strip = re.compile(r"\d+ (s|min|h)\b|-\s*$")  # ages move between the two runs
    assert [strip.sub("", line) for line in default.splitlines()] == [
        strip.sub("", line) for line in table.splitlines()
    ]
    assert table.splitlines()[0].split() == ["NAME", "STAGE", "HEALTH", "POINT", "AGE", "GROUP/PLAN"]
    for item in demo_json["items"]:
        assert item["friendly_name"] in table
    assert "\x1b[" not in table  # not a terminal: no colour


def test_a_terminal_gets_the_stage_in_colour_beside_its_words_and_no_color_turns_it_off() -> None:
    code, out, _ = run(["items", "--demo"], stdout=Terminal(), env={"TERM": "xterm-256color"})
    assert code == 0
    ready = [line for line in out.splitlines() if "● Ready" in line]
    assert ready and all("\x1b[32m" in line for line in ready)
    assert all(len(SGR.sub("", line)) <= 200 for line in out.splitlines())
    code, plain, _ = run(["items", "--demo"], stdout=Terminal(), env={"TERM": "xterm-256color", "NO_COLOR": "1"})
    assert code == 0 and "\x1b[" not in plain and "Ready" in plain
    code, dumb, _ = run(["items", "--demo"], stdout=Terminal(), env={"TERM": "dumb"})
    assert "\x1b[" not in dumb


def test_jsonc_is_json_in_colour_on_a_terminal_and_plain_json_elsewhere(demo_json: dict) -> None:
    code, coloured, _ = run(["items", "--demo", "-o", "jsonc"], stdout=Terminal(), env={"TERM": "xterm"})
    assert code == 0 and "\x1b[34m" in coloured
    assert set(json.loads(SGR.sub("", coloured))) == set(demo_json)
    code, piped, _ = run(["items", "--demo", "-o", "jsonc"])
    assert "\x1b[" not in piped and json.loads(piped)["vault"] == demo_json["vault"]


def test_yaml_reads_back_as_the_same_document(demo_json: dict) -> None:
    code, out, _ = run(["items", "--demo", "-o", "yaml"])
    assert code == 0
    data = yaml.safe_load(out)
    assert set(data) == set(demo_json)
    assert [i["friendly_name"] for i in data["items"]] == [i["friendly_name"] for i in demo_json["items"]]
    assert data["items"][0]["allowed_operations"] == demo_json["items"][0]["allowed_operations"]


@pytest.mark.parametrize(
    "value",
    [
        {"a": [], "b": {}, "c": None, "d": True, "e": 1.5, "f": "yes", "g": "null", "h": "x: y", "true": 1},
        [[1, 2], [], [{"k": "\x1b]52;c;AAAA\x07"}], "multi\nline"],
        {"nested": {"deeper": [{"a": 1, "b": [1, {"c": "d"}]}]}},
    ],
)
def test_yaml_of_awkward_values_round_trips_and_stays_inert(value: object) -> None:
    text = "\n".join(yaml_lines(value))
    assert "\x1b" not in text and "\x07" not in text
    assert yaml.safe_load(text) == value


def test_tsv_cells_cannot_break_a_row() -> None:
    lines = tsv_lines([{"name": "a\tb\nc", "n": None, "ok": False, "nested": {"x": 1}}])
    assert lines == ["a b c\t\tfalse"]


def test_none_prints_nothing_and_keeps_the_exit_code() -> None:
    code, out, _ = run(["items", "--demo", "-o", "none"])
    assert code == 0 and out == ""
    code, out, err = run(["points", "no-such-vm", "--demo", "-o", "none"])
    assert code == 5 and out == "" and "no-such-vm" in err


def test_table_with_a_query_is_a_table_of_the_result() -> None:
    code, out, _ = run(
        ["items", "--demo", "-o", "table", "--query", "[?stage=='ready'].{vm: friendly_name, rpo: rpo_seconds}"]
    )
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["VM", "RPO"]
    assert len(lines) > 2 and all(len(line) <= 80 for line in lines)


def test_a_broken_query_is_a_usage_error_with_an_example() -> None:
    code, out, err = run(["items", "--demo", "--query", "[?stage=='ready'"])
    assert code == 2 and out == ""
    assert "--query is not a JMESPath expression" in err and "For example" in err
    assert "Traceback" not in err


def test_an_unknown_format_is_refused_by_the_parser() -> None:
    code, out, _ = run(["items", "--demo", "-o", "xml"])
    assert code == 2 and out == ""


def test_only_show_errors_keeps_notes_off_standard_error() -> None:
    code, _, err = run(["capture", "--demo", "--mask"])
    assert code == 0 and "note: no salt given" in err
    code, _, quiet = run(["--only-show-errors", "capture", "--demo", "--mask"])
    assert code == 0 and "note:" not in quiet


def test_query_on_a_single_document_runs_on_the_whole_of_it() -> None:
    code, out, _ = run(["points", "sql-01", "--demo", "-o", "json", "--query", "options[].choice"])
    assert code == 0
    assert json.loads(out)[0] == "latest"


def test_jobs_and_plans_rows_take_queries_too() -> None:
    code, out, _ = run(["plans", "--demo", "-o", "tsv", "--query", "[].name"])
    assert code == 0 and "rp-erp" in out.splitlines()
    code, out, _ = run(["jobs", "--demo", "-o", "json", "--query", "length(@)"])
    assert code == 0 and isinstance(json.loads(out), int)


def test_the_linux_console_gets_ascii_glyphs_as_in_the_dashboard() -> None:
    code, console, _ = run(["items", "--demo", "--stage", "ready"], stdout=Terminal(), env={"TERM": "linux"})
    assert code == 0 and "o Ready" in console and "●" not in console
    code, piped, _ = run(["items", "--demo", "--stage", "ready"], env={"TERM": "linux"})
    assert "● Ready" in piped  # a file or a pipe keeps the glyphs unless asked
    code, asked, _ = run(["items", "--demo", "--stage", "ready"], env={"AVS_FAILBACK_ASCII": "1"})
    assert "o Ready" in asked and "●" not in asked
