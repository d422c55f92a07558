"""Recovery point options, the data-loss arithmetic and a group's common app-consistent point."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from core.model import PointChoice, PointKind, RecoveryPoint
from core.recovery import (
    common_app_consistent_time,
    custom_option,
    data_loss_seconds,
    format_time,
    group_points,
    point_label,
    point_options,
    reworded,
)
from tests.core.itemfactory import NOW, point

CET = timezone(timedelta(hours=1))
CRASH = PointKind.CRASH_CONSISTENT
APP = PointKind.APP_CONSISTENT


def _points() -> list[RecoveryPoint]:
    # deliberately not newest first
    return [
        point(53 + 9 / 60, APP, "app-1310"),
        point(38 / 60, CRASH, "crash-latest"),
        point(20, CRASH, "crash-old"),
        point(120, APP, "app-old"),
    ]


def test_latest_and_app_consistent_options() -> None:
    latest, app = point_options(_points(), NOW, CET)
    assert latest.choice is PointChoice.LATEST
    assert latest.point is not None and latest.point.name == "crash-latest"
    assert latest.loss_seconds == 0
    assert latest.age_seconds == 38
    assert latest.headline == "Latest — crash-consistent, 15:02:31 (38 seconds ago)"
    assert latest.tradeoff.startswith("Databases replay their logs on boot")
    assert "You lose about 38 seconds of writes." in latest.tradeoff
    assert not latest.needs_acknowledgement

    assert app.choice is PointChoice.LATEST_APP_CONSISTENT
    assert app.point is not None and app.point.name == "app-1310"
    assert app.age_seconds == 53 * 60 + 9
    assert app.loss_seconds == 53 * 60 + 9 - 38
    # The label already names the kind: it is said once.
    assert app.headline == "Latest app-consistent, 14:10:00 (53 minutes ago)"
    assert "Applications start clean. You lose about 53 minutes of writes." in app.tradeoff
    assert "about 53 minutes more than Latest" in app.tradeoff
    assert app.needs_acknowledgement


def test_point_label_names_the_kind_once() -> None:
    crash, app = point(1, CRASH), point(2, APP)
    assert point_label(PointChoice.LATEST, crash) == "Latest — crash-consistent"
    assert point_label(PointChoice.LATEST, app) == "Latest — app-consistent"
    assert point_label(PointChoice.LATEST_APP_CONSISTENT, app) == "Latest app-consistent"
    assert point_label(PointChoice.CUSTOM, crash) == "Chosen point — crash-consistent"


def test_reworded_tells_every_age_as_of_the_new_now() -> None:
    _, app = point_options(_points(), NOW, CET)
    later = reworded(app, NOW + timedelta(minutes=6), CET)
    assert later.choice is app.choice and later.point == app.point
    assert later.loss_seconds == app.loss_seconds and later.needs_acknowledgement
    assert later.age_seconds == app.age_seconds + 6 * 60
    assert later.headline == "Latest app-consistent, 14:10:00 (59 minutes ago)"
    assert "You lose about 59 minutes of writes." in later.tradeoff
    # What Latest would have kept does not change with time.
    assert "about 53 minutes more than Latest" in later.tradeoff


def test_no_app_consistent_point_gives_one_option_and_no_points_none() -> None:
    crash_only = [point(1, CRASH), point(5, CRASH)]
    options = point_options(crash_only, NOW, UTC)
    assert [o.choice for o in options] == [PointChoice.LATEST]
    assert point_options([], NOW) == []


def test_latest_app_consistent_equal_to_newest_needs_no_acknowledgement() -> None:
    pts = [point(2, APP), point(10, CRASH)]
    latest, app = point_options(pts, NOW, UTC)
    assert latest.point == app.point
    assert app.loss_seconds == 0 and not app.needs_acknowledgement


def test_custom_option_and_data_loss() -> None:
    pts = _points()
    old = next(p for p in pts if p.name == "crash-old")
    assert data_loss_seconds(old, pts) == 20 * 60 - 38
    newest = next(p for p in pts if p.name == "crash-latest")
    assert data_loss_seconds(newest, pts) == 0
    assert data_loss_seconds(newest, []) == 0
    option = custom_option(old, pts, NOW, UTC)
    assert option.choice is PointChoice.CUSTOM
    assert option.needs_acknowledgement
    assert option.age_seconds == 20 * 60
    assert "20 minutes ago" in option.headline


def test_format_time_shows_both_zones_and_age() -> None:
    when = datetime(2026, 11, 25, 13, 2, 31, tzinfo=UTC)
    now = when + timedelta(seconds=38)
    assert format_time(when, now, CET) == "14:02:31 local (13:02:31 UTC), 38 seconds ago"
    assert format_time(when, now, UTC) == "13:02:31 UTC, 38 seconds ago"
    yesterday = when - timedelta(days=1)
    assert format_time(yesterday, now, CET).startswith("2026-11-24 14:02:31 local (2026-11-24 13:02:31 UTC)")
    assert "in the future" in format_time(now + timedelta(minutes=5), now, UTC)


def test_group_common_app_consistent_point() -> None:
    common = NOW - timedelta(minutes=30)
    members = {
        "web01": [point(1, CRASH), RecoveryPoint("a", "a", common, APP), point(90, APP)],
        "db01": [point(2, CRASH), RecoveryPoint("b", "b", common, APP), point(10, APP)],
    }
    assert common_app_consistent_time(members) == common
    result = group_points("sql-tier", members, NOW, UTC)
    assert result.common_time == common
    assert [m.item_name for m in result.members] == ["db01", "web01"]
    db, web = result.members
    assert db.latest is not None and db.latest_loss_seconds == 120
    assert web.latest_loss_seconds == 60
    assert db.common_point is not None and db.common_point.id == "b"
    assert db.common_loss_seconds == 30 * 60
    assert "sql-tier" in result.explanation and "all 2 VMs" in result.explanation
    assert "30 minutes" in result.explanation


def test_group_without_common_point_says_why() -> None:
    apart = {"web01": [point(5, APP)], "db01": [point(7, APP)]}
    result = group_points("g", apart, NOW, UTC)
    assert result.common_time is None
    assert all(m.common_point is None and m.common_loss_seconds is None for m in result.members)
    assert "different times" in result.explanation

    no_app = {"web01": [point(5, APP)], "db01": [point(1, CRASH)]}
    assert common_app_consistent_time(no_app) is None
    assert "db01 has no app-consistent point" in group_points("g", no_app, NOW).explanation

    empty = {"web01": [point(5, APP)], "db01": []}
    assert "db01 has no recovery point" in group_points("g", empty, NOW).explanation
    assert common_app_consistent_time({}) is None


def test_recheck_words_the_same_choice_on_the_points_held_now() -> None:
    from core.recovery import LOSS_GROWTH_TOLERANCE, loss_grew, recheck

    before = _points()
    latest, app = point_options(before, NOW, CET)
    # Twenty minutes later ASR holds four newer crash-consistent points, and the same app-consistent one.
    later = NOW + timedelta(minutes=20)
    newer = [point(m, CRASH, f"crash-{m}", at=later) for m in (19, 14, 9, 4)]
    fresh_app = recheck(app, [*before, *newer], later, CET)
    assert fresh_app is not None and fresh_app.point == app.point
    assert fresh_app.loss_seconds == app.loss_seconds + (16 * 60 + 38)
    assert loss_grew(app.loss_seconds, fresh_app.loss_seconds)
    assert not loss_grew(app.loss_seconds, app.loss_seconds + LOSS_GROWTH_TOLERANCE)
    # Against an hour accepted, a few more minutes are not worth asking again; six minutes become 29 are.
    assert not loss_grew(3600, 3600 + 600) and loss_grew(3600, 3600 + 1000)
    assert loss_grew(6 * 60, 29 * 60)
    fresh_latest = recheck(latest, [*before, *newer], later, CET)
    assert fresh_latest is not None and fresh_latest.point is not None and fresh_latest.point.name == "crash-4"
    # A chosen point stays that point; gone from ASR's list, there is nothing to send.
    chosen = custom_option(before[2], before, NOW, CET)
    again = recheck(chosen, [*before, *newer], later, CET)
    assert again is not None and again.point == before[2] and again.loss_seconds > chosen.loss_seconds
    assert recheck(chosen, [p for p in before if p.name != "crash-old"], later, CET) is None
