"""Recovery point choice: the options offered, the data each gives up, and a group's common point."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

import humanize

from core.model import PointChoice, PointKind, RecoveryPoint

_TRADEOFF = {
    PointKind.CRASH_CONSISTENT: "Databases replay their logs on boot, as after a power cut.",
    PointKind.APP_CONSISTENT: "Applications start clean.",
    PointKind.OTHER: "ASR does not say whether this point is crash- or app-consistent.",
}
# Microsoft's failback guidance recommends Latest (the least data lost); said wherever Latest is offered.
LATEST_RECOMMENDED = "Microsoft's recommendation"
# A loss that grew while a dialog was open (new points arrived) is asked about again once it has grown by more than
# this, or by more than this share of what was accepted: a minute on six is worth asking about, a minute on an hour is
# not (on a sped-up demo clock a minute passes every two seconds).
LOSS_GROWTH_TOLERANCE = 60.0
LOSS_GROWTH_SHARE = 0.25

_LABEL = {
    PointChoice.LATEST: "Latest",
    PointChoice.LATEST_APP_CONSISTENT: "Latest app-consistent",
    PointChoice.CUSTOM: "Chosen point",
}


@dataclass(frozen=True)
class PointOption:
    """One recovery point the operator can fail back to, worded for a person."""

    choice: PointChoice
    point: RecoveryPoint | None
    # None when ASR says nothing to count it from (a modernized failback: the point is made when the job starts)
    loss_seconds: float | None  # writes given up compared with the newest point ASR holds
    age_seconds: float | None  # now - point time: also counts what ASR never received
    headline: str
    tradeoff: str
    needs_acknowledgement: bool  # gives up more than the Latest option does


@dataclass(frozen=True)
class MemberPoints:
    """One VM of a group: its own latest point and the group's common point, with what each loses (vs now)."""

    item_name: str
    latest: RecoveryPoint | None
    latest_loss_seconds: float | None  # None: the VM has no recovery point, so no loss can be told
    common_point: RecoveryPoint | None
    common_loss_seconds: float | None


@dataclass(frozen=True)
class GroupPoints:
    group: str
    common_time: datetime | None
    members: tuple[MemberPoints, ...]
    explanation: str


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def _seconds(later: datetime, earlier: datetime) -> float:
    return (_aware(later) - _aware(earlier)).total_seconds()


def duration(seconds: float) -> str:
    """A humanized span: "38 seconds", "53 minutes", "a day"; "less than a second" below one second."""
    if seconds < 1:
        return "less than a second"
    return str(humanize.naturaldelta(timedelta(seconds=seconds)))


def _ago(seconds: float) -> str:
    if seconds < 0:
        return f"{duration(-seconds)} in the future (check the clocks)"
    if seconds < 1:
        return "just now"
    return f"{duration(seconds)} ago"


def _local(dt: datetime, tz: tzinfo | None) -> datetime:
    return _aware(dt).astimezone(tz) if tz is not None else _aware(dt).astimezone()


def _is_utc(dt: datetime) -> bool:
    return dt.utcoffset() == timedelta(0)


def format_time(dt: datetime, now: datetime, tz: tzinfo | None = None) -> str:
    """ "14:02:31 local (13:02:31 UTC), 38 seconds ago"; the date is added when it is not today's."""
    local = _local(dt, tz)
    utc = _aware(dt).astimezone(UTC)
    local_now = _local(now, tz)
    show_date = local.date() != local_now.date()
    fmt = "%Y-%m-%d %H:%M:%S" if show_date else "%H:%M:%S"
    age = _ago(_seconds(now, dt))
    if _is_utc(local):
        return f"{utc.strftime(fmt)} UTC, {age}"
    return f"{local.strftime(fmt)} local ({utc.strftime(fmt)} UTC), {age}"


def _short_time(dt: datetime, now: datetime, tz: tzinfo | None) -> str:
    local = _local(dt, tz)
    fmt = "%Y-%m-%d %H:%M:%S" if local.date() != _local(now, tz).date() else "%H:%M:%S"
    return local.strftime(fmt)


def _newest(points: Sequence[RecoveryPoint]) -> RecoveryPoint | None:
    return max(points, key=lambda p: _aware(p.time), default=None)


def data_loss_seconds(point: RecoveryPoint, points: Sequence[RecoveryPoint]) -> float:
    """Seconds of writes between `point` and the newest point ASR holds (0 for the newest itself)."""
    newest = _newest(points)
    if newest is None:
        return 0.0
    return max(0.0, _seconds(newest.time, point.time))


def point_label(choice: PointChoice, point: RecoveryPoint) -> str:
    """ "Latest — crash-consistent", "Latest app-consistent": the point's kind said once."""
    label = _LABEL[choice]
    kind = point.kind.value
    return label if kind in label.lower() else f"{label} — {kind}"


def _worded(choice: PointChoice, point: RecoveryPoint, loss: float, now: datetime, tz: tzinfo | None) -> PointOption:
    age = max(0.0, _seconds(now, point.time))
    headline = f"{point_label(choice, point)}, {_short_time(point.time, now, tz)} ({_ago(_seconds(now, point.time))})"
    tradeoff = f"{_TRADEOFF[point.kind]} You lose about {duration(age)} of writes."
    if loss >= 1:
        tradeoff += f" That is about {duration(loss)} more than Latest."
    return PointOption(
        choice=choice,
        point=point,
        loss_seconds=loss,
        age_seconds=age,
        headline=headline,
        tradeoff=tradeoff,
        needs_acknowledgement=loss >= 1,
    )


def _option(
    choice: PointChoice, point: RecoveryPoint, points: Sequence[RecoveryPoint], now: datetime, tz: tzinfo | None
) -> PointOption:
    return _worded(choice, point, data_loss_seconds(point, points), now, tz)


def reworded(option: PointOption, now: datetime, tz: tzinfo | None = None) -> PointOption:
    """The same option with its ages told as of `now` (the loss against Latest does not change with time)."""
    if option.point is None or option.loss_seconds is None:
        return option
    return _worded(option.choice, option.point, option.loss_seconds, now, tz)


def point_options(points: Sequence[RecoveryPoint], now: datetime, tz: tzinfo | None = None) -> list[PointOption]:
    """[Latest, Latest app-consistent]; the second only when an app-consistent point exists; [] without points."""
    newest = _newest(points)
    if newest is None:
        return []
    options = [_option(PointChoice.LATEST, newest, points, now, tz)]
    app = _newest([p for p in points if p.kind is PointKind.APP_CONSISTENT])
    if app is not None:
        options.append(_option(PointChoice.LATEST_APP_CONSISTENT, app, points, now, tz))
    return options


def custom_option(
    point: RecoveryPoint, points: Sequence[RecoveryPoint], now: datetime, tz: tzinfo | None = None
) -> PointOption:
    """The option for a point picked from the list (ASR's recoveryPointType Custom)."""
    return _option(PointChoice.CUSTOM, point, points, now, tz)


def _second(dt: datetime) -> datetime:
    return _aware(dt).astimezone(UTC).replace(microsecond=0)


def common_app_consistent_time(members: Mapping[str, Sequence[RecoveryPoint]]) -> datetime | None:
    """The newest instant at which every member holds an app-consistent point (ASR tags a group's VMs together)."""
    if not members:
        return None
    common: set[datetime] | None = None
    for points in members.values():
        times = {_second(p.time) for p in points if p.kind is PointKind.APP_CONSISTENT}
        common = times if common is None else common & times
        if not common:
            return None
    return max(common) if common else None


def _point_at(points: Sequence[RecoveryPoint], when: datetime) -> RecoveryPoint | None:
    for p in points:
        if p.kind is PointKind.APP_CONSISTENT and _second(p.time) == when:
            return p
    return None


def _why_no_common(members: Mapping[str, Sequence[RecoveryPoint]]) -> str:
    if not members:
        return "The group has no VMs."
    empty = sorted(name for name, pts in members.items() if not pts)
    if empty:
        return f"No common app-consistent point: {', '.join(empty)} has no recovery point yet."
    no_app = sorted(name for name, pts in members.items() if not any(p.kind is PointKind.APP_CONSISTENT for p in pts))
    if no_app:
        return f"No common app-consistent point: {', '.join(no_app)} has no app-consistent point."
    return (
        "No common app-consistent point: the VMs' app-consistent points were taken at different times. "
        "Latest fails each VM over to its own newest point."
    )


def group_points(
    group: str, members: Mapping[str, Sequence[RecoveryPoint]], now: datetime, tz: tzinfo | None = None
) -> GroupPoints:
    """Both group choices: Latest (each VM its own newest point) and the common app-consistent point."""
    common = common_app_consistent_time(members)
    rows = []
    for name in sorted(members):
        points = members[name]
        latest = _newest(points)
        latest_loss = max(0.0, _seconds(now, latest.time)) if latest else None
        common_point = _point_at(points, common) if common is not None else None
        common_loss = max(0.0, _seconds(now, common_point.time)) if common_point else None
        rows.append(MemberPoints(name, latest, latest_loss, common_point, common_loss))
    if common is not None:
        worst = max((r.common_loss_seconds or 0.0) for r in rows)
        explanation = (
            f"Common app-consistent point of {group}: {format_time(common, now, tz)}, held by all "
            f"{len(rows)} VMs. Choosing it loses about {duration(worst)} of writes; Latest fails each VM "
            "over to its own newest point instead."
        )
    else:
        explanation = _why_no_common(members)
    return GroupPoints(group=group, common_time=common, members=tuple(rows), explanation=explanation)


def recheck(
    option: PointOption, points: Sequence[RecoveryPoint], now: datetime, tz: tzinfo | None = None
) -> PointOption | None:
    """The same choice worded on the points ASR holds now (ASR resolves Latest and latest app-consistent when it
    processes the request, a chosen point stays that point); None when the chosen point is gone or no point is left."""
    if option.choice is PointChoice.CUSTOM:
        point = option.point
        if point is None or all(p.id != point.id for p in points):
            return None
        return custom_option(point, points, now, tz)
    return next((o for o in point_options(points, now, tz) if o.choice is option.choice), None)


def loss_grew(accepted_seconds: float, now_seconds: float) -> bool:
    """Whether a loss accepted earlier has grown enough since to be asked about again."""
    return now_seconds > accepted_seconds + max(LOSS_GROWTH_TOLERANCE, LOSS_GROWTH_SHARE * accepted_seconds)
