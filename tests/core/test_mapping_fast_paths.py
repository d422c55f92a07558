"""The mapping's fast paths (cached time parsing, one-search id segments) answer as the plain reading does."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from core.azure import mapping


def _plain_time(value: object) -> datetime | None:
    """The reading the fast path must agree with: normalise Z and 7 digits, then fromisoformat."""
    if not value or not isinstance(value, str):
        return None
    text = value.strip()
    if text.endswith("Z") or text.endswith("z"):
        text = text[:-1] + "+00:00"
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if parsed.year in (1, 1753):
        return None
    return parsed.astimezone(UTC)


def _plain_segment(arm_id: str, name: str) -> str:
    parts = arm_id.strip("/").split("/")
    for i in range(0, len(parts) - 1):
        if parts[i].lower() == name.lower():
            return parts[i + 1]
    return ""


TIMES = [
    "2026-03-01T10:20:30.1234567Z",
    "2026-03-01T10:20:30.1234567z",
    " 2026-03-01T10:20:30Z ",
    "2026-03-01T10:20:30.123456789+02:00",
    "2026-03-01T10:20:30",
    "2026-03-01",
    "0001-01-01T00:00:00",
    "1753-01-01T01:01:01Z",
    "not a time",
    "2026-13-01T00:00:00Z",
    "",
    None,
    42,
]


def test_known_forms_read_as_before() -> None:
    for value in TIMES:
        assert mapping.parse_time(value) == _plain_time(value), value
    parsed = mapping.parse_time("2026-03-01T10:20:30.1234567Z")
    assert parsed == datetime(2026, 3, 1, 10, 20, 30, 123456, tzinfo=UTC)
    assert mapping.parse_time("2026-03-01T12:20:30+02:00") == datetime(2026, 3, 1, 10, 20, 30, tzinfo=UTC)


@settings(max_examples=300, deadline=None)
@given(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 1, 1)),
    st.sampled_from(["Z", "z", "+00:00", "-05:30", ""]),
    st.integers(min_value=0, max_value=9),
    st.sampled_from(["", " ", "\t"]),
)
def test_generated_times_read_as_before(when: datetime, zone: str, digits: int, pad: str) -> None:
    fraction = f".{when.microsecond:06d}{'7' * 9}"[: 1 + digits] if digits else ""
    text = f"{pad}{when:%Y-%m-%dT%H:%M:%S}{fraction}{zone}{pad}"
    assert mapping.parse_time(text) == _plain_time(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="/aBfé", max_size=30), st.sampled_from(["replicationFabrics", "a", "B", "é"]))
def test_segments_read_as_before(arm_id: str, name: str) -> None:
    assert mapping.segment(arm_id, name) == _plain_segment(arm_id, name)


def test_item_id_segments() -> None:
    item_id = (
        "/Subscriptions/s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v"
        "/replicationFabrics/fab-1/replicationProtectionContainers/cloud_1/replicationProtectedItems/vm-1"
    )
    assert mapping.segment(item_id, "replicationFabrics") == "fab-1"
    assert mapping.segment(item_id, "REPLICATIONPROTECTIONCONTAINERS") == "cloud_1"
    assert mapping.segment(item_id, "replicationProtectedItems") == "vm-1"
    assert mapping.segment(item_id, "recoveryPoints") == ""
