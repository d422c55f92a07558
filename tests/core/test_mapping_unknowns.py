"""Property: every number and time the mapping reads, when missing, blank, null or unreadable, is unknown (None):
never 0, never an exception. And a readable one reads as what it says (GB stay GB, bytes stay bytes)."""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.azure import mapping
from core.clock import ManualClock
from core.emulator import ArmEmulator, load_scenario
from core.errors import MalformedResponse

BASE = "https://emulator.test"
AUTH = {"Authorization": "Bearer unknowns"}


def _documents() -> dict[str, Any]:
    """Real answers of the emulator: classic items (one failed over), the modernized one, the VMware fabric, a
    recovery point, a running job with its tasks."""
    clock = ManualClock()
    emulator = ArmEmulator(load_scenario("demo"), clock, base_url=BASE)

    def get(suffix: str) -> Any:
        url = f"{BASE}{emulator.vault.arm_id}/{suffix}?api-version=2025-08-01"
        return json.loads(emulator.handle("GET", url, AUTH, None).body)

    def item(name: str) -> Any:
        return get(emulator.item_id(name).split("/vaults/", 1)[1].split("/", 1)[1])

    running = item("jira-01")["properties"]["currentScenario"]["jobId"].rsplit("/", 1)[-1]
    classic = item("dc-01")
    return {
        "classic": classic,
        "modernized": item("lnx-batch-01"),
        "failed-over": item("hr-app-01"),
        "fabric": get("replicationFabrics/avs-weu-prod-01"),
        "point": get(f"{classic['id'].split('/vaults/', 1)[1].split('/', 1)[1]}/recoveryPoints")["value"][0],
        "job": get(f"replicationJobs/{running}"),
    }


DOCS = _documents()
_MT = ("properties", "customDetails", "masterTargetServers", 0)
_PS = ("properties", "customDetails", "processServers", 0)
_PSD = ("properties", "providerSpecificDetails")


def _fabric_mt(doc: Any) -> Any:
    return mapping.fabric(doc).master_targets[0]


# (document, path to the field, how the mapping's reading of it is found)
NUMBERS: list[tuple[str, tuple[Any, ...], Callable[[Any], Any]]] = [
    ("classic", (*_PSD, "rpoInSeconds"), lambda d: mapping.protected_item(d).rpo_seconds),
    (
        "fabric",
        (*_MT, "retentionVolumes", 0, "capacityInBytes"),
        lambda d: _fabric_mt(d).retention_volumes[0].capacity_bytes,
    ),
    (
        "fabric",
        (*_MT, "retentionVolumes", 0, "freeSpaceInBytes"),
        lambda d: _fabric_mt(d).retention_volumes[0].free_bytes,
    ),
    (
        "fabric",
        (*_MT, "retentionVolumes", 0, "thresholdPercentage"),
        lambda d: _fabric_mt(d).retention_volumes[0].threshold_percent,
    ),
    ("fabric", (*_MT, "dataStores", 0, "capacity"), lambda d: _fabric_mt(d).datastores[0].capacity_gb),
    ("fabric", (*_MT, "dataStores", 0, "freeSpace"), lambda d: _fabric_mt(d).datastores[0].free_gb),
]

TIMES: list[tuple[str, tuple[Any, ...], Callable[[Any], Any]]] = [
    ("classic", (*_PSD, "lastHeartbeat"), lambda d: mapping.protected_item(d).last_heartbeat),
    (
        "failed-over",
        ("properties", "lastSuccessfulFailoverTime"),
        lambda d: mapping.protected_item(d).last_successful_failover_time,
    ),
    (
        "modernized",
        (*_PSD, "mobilityAgentDetails", "lastHeartbeatUtc"),
        lambda d: mapping.protected_item(d).last_heartbeat,
    ),
    ("fabric", (*_PS, "lastHeartbeat"), lambda d: mapping.fabric(d).process_servers[0].last_heartbeat),
    ("fabric", (*_MT, "lastHeartbeat"), lambda d: _fabric_mt(d).last_heartbeat),
    ("job", ("properties", "startTime"), lambda d: mapping.job(d).start_time),
    ("job", ("properties", "tasks", 0, "startTime"), lambda d: mapping.job(d).tasks[0].start_time),
    ("job", ("properties", "tasks", 0, "endTime"), lambda d: mapping.job(d).tasks[0].end_time),
]


def _newest(doc: Any) -> Any:
    """The newest point of a classic item; of a modernized failback leg, its disks' last sync (kept as reported,
    never read as a point's age)."""
    item = mapping.protected_item(doc)
    return item.rcm.disks_last_synced if item.rcm is not None else item.last_recovery_point_time


# The newest point of an item is read from the first of several fields that holds a time: all of them unreadable
# leaves it unknown.
NEWEST = {
    "classic": [(*_PSD, "retentionWindowEnd"), (*_PSD, "lastRpoCalculatedTime")],
    "modernized": [(*_PSD, "protectedDisks", 0, "lastSyncTime"), (*_PSD, "protectedDisks", 1, "lastSyncTime")],
}

UNREADABLE_NUMBERS = st.one_of(
    st.sampled_from(
        [None, "", "   ", "n/a", "N/A", "unknown", "-", "NaN", "nan", "inf", "-Infinity", "1e400", "0x1F", "1.2.3"]
    ),
    st.booleans(),
    st.sampled_from([float("nan"), float("inf"), -float("inf"), [], {}, [7168.5], {"value": 7168.5}]),
    st.builds(lambda n, unit: f"{n}{unit}", st.integers(0, 10**6), st.sampled_from([" TB", "GB", " GiB", "%", " s"])),
    st.builds(lambda a, b: f"{a},{b:03d}.5", st.integers(1, 999), st.integers(0, 999)),  # "7,168.5"
    st.integers(max_value=-1),
    st.floats(max_value=-1e-9, allow_nan=False, allow_infinity=False),
    st.builds(lambda n: f"-{n}", st.integers(1, 10**9)),
)

UNREADABLE_TIMES = st.one_of(
    st.sampled_from(
        [
            None,
            "",
            "n/a",
            "yesterday",
            "2026-13-45T99:99:99Z",
            "0001-01-01T00:00:00",
            "1753-01-01T01:01:01Z",
            "9999-12-31T23:59:59.9999999-05:00",
            "0001-01-01T00:00:00+05:00",
        ]
    ),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.sampled_from([[], {}, ["2026-01-01T00:00:00Z"], {"time": "2026-01-01T00:00:00Z"}]),
    st.text(alphabet="abcxyz :/-", max_size=16),
)


def _set(doc: Any, path: tuple[Any, ...], value: Any, *, drop: bool = False) -> Any:
    doc = copy.deepcopy(doc)
    node = doc
    for step in path[:-1]:
        node = node[step]
    if drop:
        del node[path[-1]]
    else:
        node[path[-1]] = copy.deepcopy(value)
    return doc


@pytest.mark.parametrize(("kind", "path", "read"), NUMBERS, ids=[p[-1] for _, p, _ in NUMBERS])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
@given(value=UNREADABLE_NUMBERS, drop=st.booleans())
def test_an_unreadable_number_is_unknown_never_zero(
    kind: str, path: tuple[Any, ...], read: Callable[[Any], Any], value: Any, drop: bool
) -> None:
    assert read(DOCS[kind]) is not None, "the real document has the figure"
    assert read(_set(DOCS[kind], path, value, drop=drop)) is None


@pytest.mark.parametrize(("kind", "path", "read"), TIMES, ids=["/".join(map(str, p[-2:])) for _, p, _ in TIMES])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
@given(value=UNREADABLE_TIMES, drop=st.booleans())
def test_an_unreadable_time_is_unknown(
    kind: str, path: tuple[Any, ...], read: Callable[[Any], Any], value: Any, drop: bool
) -> None:
    assert read(DOCS[kind]) is not None, "the real document has the time"
    assert read(_set(DOCS[kind], path, value, drop=drop)) is None


@pytest.mark.parametrize("kind", sorted(NEWEST))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
@given(values=st.lists(UNREADABLE_TIMES, min_size=2, max_size=2))
def test_an_item_whose_point_times_are_all_unreadable_has_no_newest_point(kind: str, values: list[Any]) -> None:
    doc = DOCS[kind]
    assert _newest(doc) is not None
    for path, value in zip(NEWEST[kind], values, strict=True):
        doc = _set(doc, path, value)
    doc = _set(doc, (*_PSD, "lastRecoveryPointReceived"), None)
    assert _newest(doc) is None


@settings(max_examples=40, deadline=None, database=None)
@given(value=UNREADABLE_TIMES)
def test_a_point_without_a_readable_time_is_refused_by_our_error(value: Any) -> None:
    with pytest.raises(MalformedResponse):
        mapping.recovery_point(_set(DOCS["point"], ("properties", "recoveryPointTime"), value))


@settings(max_examples=80, deadline=None, database=None)
@given(gb=st.floats(min_value=0, max_value=1e7, allow_nan=False), decimals=st.integers(0, 3), spaces=st.booleans())
def test_a_datastore_figure_in_gb_reads_as_those_gb(gb: float, decimals: int, spaces: bool) -> None:
    text = f"{gb:.{decimals}f}"
    doc = _set(DOCS["fabric"], (*_MT, "dataStores", 0, "freeSpace"), f" {text} " if spaces else text)
    free = _fabric_mt(doc).datastores[0].free_gb
    assert free is not None and math.isclose(free, float(text))


def test_the_issue_s_figures() -> None:
    """ "7168.5" GB free is 7168.5 GB (about 7 TB); blank is unknown; bytes of a retention volume stay bytes."""
    for text, expected in (("7168.5", 7168.5), ("158.21", 158.21), ("0", 0.0), ("", None), ("7,168.5", None)):
        doc = _set(DOCS["fabric"], (*_MT, "dataStores", 0, "freeSpace"), text)
        assert _fabric_mt(doc).datastores[0].free_gb == expected
    doc = _set(DOCS["fabric"], (*_MT, "retentionVolumes", 0, "freeSpaceInBytes"), 10275106816)
    assert _fabric_mt(doc).retention_volumes[0].free_bytes == 10275106816
    # The key the emulator once wrote is not read: only the SDK's name counts.
    doc = _set(DOCS["fabric"], (*_MT, "retentionVolumes", 0, "freeSpaceInBytes"), None, drop=True)
    doc = _set(doc, (*_MT, "retentionVolumes", 0, "freeSpace"), 10275106816)
    assert _fabric_mt(doc).retention_volumes[0].free_bytes is None


def _backend_whose_points_say(times: Callable[[int], Any], *, repeat_first: bool = False) -> tuple[Any, Any]:
    """The demo vault in-process, its recovery point lists rewritten on the way: point n gets times(n) (and the
    first point is listed twice with `repeat_first`)."""
    from core.bootstrap import EMULATOR_BASE_URL, build_backend
    from core.config import Settings

    emulator = ArmEmulator(load_scenario("demo"), ManualClock(), base_url=EMULATOR_BASE_URL)
    answer = emulator.handle

    def rewrite(method: str, url: str, headers: Any, body: bytes | None) -> Any:
        response = answer(method, url, headers, body)
        if url.split("?", 1)[0].lower().endswith("/recoverypoints") and response.status == 200:
            page = json.loads(response.body)
            for n, point in enumerate(page["value"]):
                point["properties"]["recoveryPointTime"] = times(n) or point["properties"]["recoveryPointTime"]
            if repeat_first and page["value"]:
                page["value"].insert(1, page["value"][0])
            response.body = json.dumps(page).encode()
            response.headers["Content-Length"] = str(len(response.body))
        return response

    emulator.handle = rewrite  # type: ignore[method-assign]
    backend = build_backend(Settings(demo=True), emulator=emulator)
    item = next(i for i in backend.list_items() if i.friendly_name == "dc-01")
    return backend, item


def test_a_point_with_an_unreadable_time_is_left_out_of_the_list_and_the_others_stay() -> None:
    backend, item = _backend_whose_points_say(lambda n: "n/a" if n == 0 else None)
    whole, _ = _backend_whose_points_say(lambda n: None)
    points = backend.list_recovery_points(item)
    assert len(points) == len(whole.list_recovery_points(item)) - 1 > 0


def test_a_point_listed_twice_is_one_point_of_the_list() -> None:
    # One ARM id twice in a list (a page read while points come in): the dialog keys its rows by id.
    backend, item = _backend_whose_points_say(lambda n: None, repeat_first=True)
    whole, _ = _backend_whose_points_say(lambda n: None)
    ids = [p.id for p in backend.list_recovery_points(item)]
    assert len(ids) == len(set(ids)) == len(whole.list_recovery_points(item)) > 0


def test_a_list_of_nothing_but_unreadable_points_is_an_error_not_an_empty_list() -> None:
    backend, item = _backend_whose_points_say(lambda n: "n/a")
    with pytest.raises(MalformedResponse, match="recoveryPointTime"):
        backend.list_recovery_points(item)
