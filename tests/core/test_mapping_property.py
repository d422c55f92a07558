"""Property: whatever damage ARM JSON carries, core.azure.mapping raises only our own error types (or copes)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.azure import mapping
from core.clock import ManualClock
from core.emulator import ArmEmulator, load_scenario
from core.errors import FailbackError
from core.model import Fabric, Job, ProtectedItem, RecoveryPlan, RecoveryPoint

BASE = "https://emulator.test"
AUTH = {"Authorization": "Bearer property-test"}
API = "?api-version=2025-08-01"

Path = tuple[Any, ...]


def _get(emulator: ArmEmulator, suffix: str) -> Any:
    url = f"{BASE}{emulator.vault.arm_id}/{suffix}{API}"
    answer = emulator.handle("GET", url, AUTH, None)
    assert answer.status == 200, answer.body[:200]
    return json.loads(answer.body)


def _item_suffix(emulator: ArmEmulator, name: str) -> str:
    return emulator.item_id(name).split("/vaults/", 1)[1].split("/", 1)[1]


def _real_documents() -> dict[str, Any]:
    """One real document of each kind, from the emulator's own answers (rich ones: errors, tasks, children)."""
    clock = ManualClock()
    emulator = ArmEmulator(load_scenario("demo"), clock, base_url=BASE)
    item_path = _item_suffix(emulator, "jump-01")  # health errors, a stalled RPO
    running = _item_suffix(emulator, "jira-01")  # a reprotect job with a child job
    item = _get(emulator, item_path)
    job_name = _get(emulator, running)["properties"]["currentScenario"]["jobId"].rsplit("/", 1)[-1]
    clock.advance(120)
    return {
        "item": item,
        "point": _get(emulator, f"{item_path}/recoveryPoints")["value"][0],
        "fabric": _get(emulator, "replicationFabrics")["value"][0],
        "plan": _get(emulator, "replicationRecoveryPlans/rp-intranet"),
        "job": _get(emulator, f"replicationJobs/{job_name}"),
    }


DOCS = _real_documents()
MAPPERS: dict[str, Callable[[Any], Any]] = {
    "item": mapping.protected_item,
    "point": mapping.recovery_point,
    "fabric": mapping.fabric,
    "plan": mapping.recovery_plan,
    "job": mapping.job,
}
RESULT_TYPES = {"item": ProtectedItem, "point": RecoveryPoint, "fabric": Fabric, "plan": RecoveryPlan, "job": Job}

# What a broken or newer service might put anywhere: wrong types, unknown strings, nulls, huge and odd numbers.
ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([10**30, -(2**63), 1e308, -1e308, 0.5, float("nan")]),
    st.text(max_size=12),
    st.sampled_from(["InMageRcmNextGen", "Canceled", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.9999999Z", "None"]),
    st.sampled_from(["not-a-date", "2026-13-45T99:99:99Z", "/", "//", "/subscriptions//x", "\u0000", "Ω" * 3]),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    st.builds(lambda: [None, {}, "x"]),
)


def _paths(value: Any, prefix: Path = ()) -> list[Path]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found.extend(_paths(child, (*prefix, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found.extend(_paths(child, (*prefix, index)))
    return found


def _parent(doc: Any, path: Path) -> Any:
    node = doc
    for step in path[:-1]:
        node = node[step]
    return node


def _mutate(doc: Any, data: st.DataObject) -> Any:
    doc = copy.deepcopy(doc)
    for _ in range(data.draw(st.integers(min_value=1, max_value=6), label="mutations")):
        paths = [p for p in _paths(doc) if p]  # the root itself is replaced below, by its own rule
        if not paths:
            break
        path = data.draw(st.sampled_from(paths), label="path")
        parent = _parent(doc, path)
        how = data.draw(st.sampled_from(["drop", "replace", "null"]), label="how")
        if how == "drop":
            del parent[path[-1]]
        elif how == "null":
            parent[path[-1]] = None
        else:
            parent[path[-1]] = copy.deepcopy(data.draw(ODD_VALUES, label="value"))
    if data.draw(st.integers(min_value=0, max_value=30), label="root") == 0:
        return copy.deepcopy(data.draw(ODD_VALUES, label="root value"))
    return doc


@pytest.mark.parametrize("kind", sorted(MAPPERS))
def test_real_documents_map_cleanly(kind: str) -> None:
    result = MAPPERS[kind](DOCS[kind])
    assert isinstance(result, RESULT_TYPES[kind])


@pytest.mark.parametrize("kind", sorted(MAPPERS))
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
@given(data=st.data())
def test_damaged_documents_raise_only_our_errors(kind: str, data: st.DataObject) -> None:
    damaged = _mutate(DOCS[kind], data)
    try:
        result = MAPPERS[kind](damaged)
    except FailbackError as exc:
        assert exc.message  # a MalformedResponse (or another of ours) that says what was wrong
        return
    assert isinstance(result, RESULT_TYPES[kind])


@settings(max_examples=80, deadline=None, database=None)
@given(body=ODD_VALUES)
def test_arm_error_bodies_of_any_shape(body: Any) -> None:
    code, message, details = mapping.arm_error_details(body)
    assert isinstance(code, str) and isinstance(message, str) and isinstance(details, tuple)
