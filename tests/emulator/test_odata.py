"""The $filter dialect: parsing agrees with direct evaluation for any nesting of and/or/parentheses."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.emulator import odata

_leaf = st.tuples(st.sampled_from(["JobStatus", "JobName", "FabricId"]), st.sampled_from(["a", "b", "it''s"]))


def _tree() -> st.SearchStrategy[Any]:
    return st.recursive(
        _leaf,
        lambda inner: st.tuples(st.sampled_from(["and", "or"]), st.lists(inner, min_size=2, max_size=3)),
        max_leaves=8,
    )


def _render(node: Any) -> str:
    if isinstance(node[1], str):
        return f"{node[0]} eq '{node[1]}'"
    return "( " + f" {node[0]} ".join(_render(child) for child in node[1]) + " )"


def _direct(node: Any, env: dict[str, str]) -> bool:
    if isinstance(node[1], str):
        return env[node[0]] == node[1].replace("''", "'")
    results = [_direct(child, env) for child in node[1]]
    return all(results) if node[0] == "and" else any(results)


@given(
    _tree(),
    st.fixed_dictionaries({k: st.sampled_from(["a", "b", "it's"]) for k in ("JobStatus", "JobName", "FabricId")}),
)
def test_parse_then_evaluate_matches_direct_evaluation(tree: Any, env: dict[str, str]) -> None:
    parsed = odata.parse(_render(tree))
    assert odata.evaluate(parsed, lambda c: env[c.prop] == c.value) is _direct(tree, env)


def test_and_binds_tighter_than_or() -> None:
    tree = odata.parse("A eq '1' or B eq '2' and C eq '3'")
    assert tree == (
        "or",
        [odata.Clause("A", "eq", "1"), ("and", [odata.Clause("B", "eq", "2"), odata.Clause("C", "eq", "3")])],
    )


@pytest.mark.parametrize("text", ["", "A eq", "A equals 'x'", "( A eq 'x'", "A eq 'x' )", "A eq 'x' and", "'x' eq A"])
def test_malformed_filters_are_refused(text: str) -> None:
    with pytest.raises(odata.FilterError):
        odata.parse(text)
