"""The emulated Resource Graph's KQL: the forms the tool sends evaluate as Kusto does; the rest is refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.emulator import kql
from core.fleet import ITEMS_QUERY, JOBS_QUERY, VAULTS_QUERY

NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
TABLES = ("resources", "recoveryservicesresources")
ROWS = [
    {"id": "/s/1/b", "name": "b", "type": "microsoft.x/y", "properties": {"state": "InProgress", "n": 3, "ops": ["A"]}},
    {
        "id": "/s/1/a",
        "name": "a",
        "type": "Microsoft.X/Y",
        "properties": {"state": "Failed", "n": 1, "startTime": "2026-11-25T10:00:00.0000000Z"},
    },
    {"id": "/s/1/c", "name": "c", "type": "other", "properties": {"state": "Failed", "startTime": "2026-11-20T10:00Z"}},
]


def run(text: str) -> list[dict[str, object]]:
    return kql.parse(text, TABLES, kql.Context(now=NOW)).run([dict(r) for r in ROWS])


def test_where_project_and_order() -> None:
    out = run(
        "recoveryservicesresources | where type =~ 'microsoft.x/y' | project id, n = properties.n | order by id asc"
    )
    assert out == [{"id": "/s/1/a", "n": 1}, {"id": "/s/1/b", "n": 3}]
    assert [r["id"] for r in run("resources | order by id")] == ["/s/1/c", "/s/1/b", "/s/1/a"]  # desc by default


def test_case_rules_of_the_comparisons() -> None:
    assert len(run("resources | where type == 'microsoft.x/y'")) == 1
    assert len(run("resources | where type =~ 'MICROSOFT.X/Y'")) == 2
    assert len(run("resources | where properties.state in~ ('failed')")) == 2
    assert len(run("resources | where properties.state in ('failed')")) == 0
    assert len(run("resources | where properties.state !in~ ('failed')")) == 1
    assert len(run("resources | where name !contains 'B'")) == 2


def test_times_ago_and_missing_members() -> None:
    out = run("resources | where properties.state =~ 'Failed' and todatetime(properties.startTime) > ago(1d)")
    assert [r["name"] for r in out] == ["a"]
    assert run("resources | where isnull(properties.startTime) | project name") == [{"name": "b"}]
    assert run("resources | where name == 'b' | project first = properties.ops[0], none = properties.x.y") == [
        {"first": "A", "none": None}
    ]


def test_the_tools_own_queries_parse() -> None:
    for text in (VAULTS_QUERY, ITEMS_QUERY, JOBS_QUERY):
        query = kql.parse(text, TABLES)
        assert query.columns and query.columns[0] == "id" and not query.limited


@pytest.mark.parametrize(
    ("text", "code", "token"),
    [
        ("resources | summarize count() by type", "InvalidQueryLanguage", "summarize"),
        ("resources | where bag_pack('a', 1) == 1", "InvalidQueryLanguage", "bag_pack"),
        ("securityresources | take 1", "InvalidQueryLanguage", "securityresources"),
        ("resources | where name == 'a' name", "ParserFailure", "name"),
        ("resources | where (name == 'a'", "ParserFailure", ""),
        ("resources | project = 1", "ParserFailure", "="),
        ("", "ParserFailure", ""),
    ],
)
def test_outside_the_subset_is_refused_with_where(text: str, code: str, token: str) -> None:
    with pytest.raises(kql.KqlError) as caught:
        kql.parse(text, TABLES)
    assert caught.value.code == code and caught.value.token == token


def test_a_refusal_points_at_the_line_and_column() -> None:
    with pytest.raises(kql.KqlError) as caught:
        kql.parse("resources\n| where name == 'a'\n| mv-expand x", TABLES)
    assert (caught.value.line, caught.value.column, caught.value.token) == (3, 2, "mv-expand")
