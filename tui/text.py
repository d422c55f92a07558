"""Short texts the screens share: compact ages, durations, error renderings, and outside text made content.

Text from outside (names from Azure and vCenter, ARM's error text, lesson files) reaches a widget only through
`plain` / `lines` (a Rich Text, never parsed as markup) or `clean` (for an f-string that becomes such a Text):
core.sanitize makes it inert first, so neither an escape sequence nor Textual markup (`web-02[/]`, `[@click=…]`)
can come out of it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

from rich.text import Text

from core.errors import FailbackError
from core.model import ErrorDetail, HealthError
from core.sanitize import block, message, one_line


def clean(value: object) -> str:
    """Outside text for one line of a Text being built: inert, one line (still to be shown as content)."""
    return one_line(value)


def plain(value: object) -> Text:
    """One line as content: inert and never markup. For a widget's text made of outside words."""
    return Text(one_line(value))


def lines(value: object) -> Text:
    """Text that keeps its own line breaks (a REST call, a lesson's brief) as content, each line inert."""
    return Text(block(value))


def compact_duration(seconds: float | None) -> str:
    """'38s', '5m 02s', '2h 03m', '3d 4h': narrow enough for a table column."""
    if seconds is None:
        return "—"
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, sec = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {sec:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"


def age(then: datetime | None, now: datetime) -> str:
    if then is None:
        return "—"
    return compact_duration((now - then).total_seconds())


def clock_time(dt: datetime | None, tz: tzinfo | None) -> str:
    """A time of day in the operator's zone, with UTC beside it when the zone is not UTC."""
    if dt is None:
        return "—"
    local = dt.astimezone(tz) if tz is not None else dt.astimezone()
    text = local.strftime("%H:%M:%S")
    if local.utcoffset() != timedelta(0):
        text += f" ({dt.astimezone(UTC):%H:%M:%S} UTC)"
    return text


def job_time(dt: datetime, now: datetime, tz: tzinfo | None) -> str:
    """A job's time of day, with its date when it is not today's (in the operator's zone): "Nov 23 14:02:31"."""
    local = dt.astimezone(tz) if tz is not None else dt.astimezone()
    today = now.astimezone(tz) if tz is not None else now.astimezone()
    text = clock_time(dt, tz)
    return text if local.date() == today.date() else f"{local:%b %d} {text}"


def _detail_lines(text: Text, detail: ErrorDetail | HealthError, indent: str = "  ") -> None:
    code = f"[{clean(detail.code)}] " if detail.code else ""
    text.append(f"{indent}{code}{message(detail.message)}\n", style="bold")
    provider = getattr(detail, "provider_error_code", "")
    provider_message = getattr(detail, "provider_message", "")
    if provider or provider_message:
        text.append(f"{indent}  Provider: {clean(provider)} {message(provider_message)}".rstrip() + "\n")
    if detail.possible_causes:
        text.append(f"{indent}  Possible causes: ", style="italic")
        text.append(message(detail.possible_causes) + "\n")
    if detail.recommended_action:
        text.append(f"{indent}  Recommended action: ", style="italic")
        text.append(message(detail.recommended_action) + "\n")
    activity = getattr(detail, "activity_id", "")
    if activity:
        text.append(f"{indent}  Activity id: {clean(activity)}\n", style="dim")


def error_text(error: FailbackError | BaseException, *, heading: str = "") -> Text:
    """Message, ASR details (causes, recommended action, activity id) and the hint: what 3 a.m. needs."""
    text = Text()
    if heading:
        text.append(clean(heading) + "\n", style="bold")
    said = getattr(error, "message", None) or str(error) or type(error).__name__
    text.append(f"Error: {message(said)}\n", style="bold")
    for line in getattr(error, "listing", ()) or ():
        text.append(f"  {clean(line)}\n")
    for detail in getattr(error, "details", ()) or ():
        _detail_lines(text, detail)
    activity = getattr(error, "activity_id", "")
    if activity:
        text.append(f"Activity id: {clean(activity)}\n", style="dim")
    hint = getattr(error, "hint", "")
    if hint:
        text.append("What to do: ", style="bold")
        text.append(clean(hint) + "\n")
    text.rstrip()
    return text


def details_text(details: tuple[ErrorDetail, ...] | tuple[HealthError, ...], indent: str = "  ") -> Text:
    text = Text()
    for detail in details:
        _detail_lines(text, detail, indent)
    text.rstrip()
    return text
