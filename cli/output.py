"""Shared human output: ages, wrapping, tables, errors, refusals and typed confirmations."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime

from cli.context import DETAILS_SHOWN, WIDTH, Context, Io
from core.backend import Backend
from core.errors import FailbackError, NotAllowedNow, ReadOnlyError, ServiceError, UsageError
from core.failback import (
    Verdict,
)
from core.model import (
    ErrorDetail,
    JobState,
    ProtectedItem,
    Stage,
)
from core.sanitize import MESSAGE_CHARS, message, one_line


def iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    aware = dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")


def short_age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 0:
        return "future"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} d"


def clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def wrap(text: str, indent: str = "") -> list[str]:
    """Prose to 80 columns; an indented line keeps its indent (continuations go two further)."""
    lead = text[: len(text) - len(text.lstrip(" "))]
    first = indent + lead
    return textwrap.wrap(text.strip(), WIDTH, initial_indent=first, subsequent_indent=first + "  ") or [first]


def say(emit: Callable[[str], None], text: str, indent: str = "") -> None:
    for line in wrap(text, indent):
        emit(line)


def say_whole(emit: Callable[[str], None], text: str) -> None:
    """Prose naming job ids: wrapped at 80 columns without cutting an id at its hyphens, so it can be copied."""
    for line in hanging(text, 2):
        emit(line)


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    caps: Sequence[int],
    *,
    width: int = WIDTH,
    paint: Callable[[int, int, str], str] | None = None,
) -> list[str]:
    """Plain columns, each at most its cap; the last column takes what is left of `width`.

    `paint(row, column, padded_cell)` may colour a cell after it is padded, so colour never moves a column."""
    body = [[one_line(cell) for cell in r] for r in rows]
    widths = []
    for i, header in enumerate(headers):
        natural = max([len(header)] + [len(r[i]) for r in body])
        widths.append(min(natural, caps[i]))
    used = sum(widths[:-1]) + 2 * (len(widths) - 1)
    widths[-1] = max(4, min(widths[-1], width - used))
    lines = []
    for n, row in enumerate([list(headers)] + body):
        cells = [clip(cell, widths[i]).ljust(widths[i]) for i, cell in enumerate(row)]
        if paint is not None and n:
            cells = [paint(n - 1, i, cell) for i, cell in enumerate(cells)]
        lines.append("  ".join(cells).rstrip())
    return lines


def glyph(io: Io, state: JobState | Stage) -> str:
    return state.glyph if io.unicode else state.ascii_glyph


def print_error(io: Io, exc: FailbackError) -> None:
    # ARM's text can be anything a hostile or broken endpoint sends: shown capped and inert.
    for line in hanging(f"error: {message(exc.message)}", 2):  # ids and URLs in it stay whole, to be copied
        io.err(line)
    for line in exc.listing:  # e.g. the candidates of an ambiguous name, one per line
        io.err(clip(f"  {one_line(line)}", WIDTH))
    if isinstance(exc, ServiceError):
        bits = [f"code {one_line(exc.code, 80)}" if exc.code else "", f"HTTP {exc.status}" if exc.status else ""]
        if any(bits):
            io.err("  " + ", ".join(b for b in bits if b))
        if exc.activity_id:
            io.err(f"  activity id: {one_line(exc.activity_id, 80)}")
    for detail in exc.details[:DETAILS_SHOWN]:
        for line in detail_lines(detail):
            say(io.err, line, "  ")
    if len(exc.details) > DETAILS_SHOWN:
        io.err(f"  … and {len(exc.details) - DETAILS_SHOWN} more errors (`--json` lists them all)")
    if exc.hint:
        say(io.err, f"hint: {exc.hint}")


def detail_lines(detail: ErrorDetail) -> list[str]:
    def shown(text: str) -> str:
        return one_line(text, MESSAGE_CHARS)

    head = f"[{shown(detail.code)}] " if detail.code else ""
    lines = [f"{head}{shown(detail.message)}".strip() or "(no message)"]
    if detail.provider_error_code or detail.provider_message:
        provider = f"  provider error {shown(detail.provider_error_code)}: {shown(detail.provider_message)}"
        lines.append(provider.rstrip(": "))
    if detail.possible_causes:
        lines.append(f"  possible causes: {shown(detail.possible_causes)}")
    if detail.recommended_action:
        lines.append(f"  recommended action: {shown(detail.recommended_action)}")
    if detail.activity_id:
        lines.append(f"  activity id: {shown(detail.activity_id)}")
    return lines


def all_items(backend: Backend) -> list[ProtectedItem]:
    items: list[ProtectedItem] = []
    for page in backend.iter_item_pages():
        items.extend(page)
    return items


def refuse(verdict: Verdict) -> None:
    if not verdict.allowed:
        raise NotAllowedNow(verdict.reason, hint="Nothing was sent. Run `avs-failback items` to see each stage.")


def guard_read_only(ctx: Context, what: str) -> None:
    # --show-command sends nothing, so it stays available to a read-only session
    if getattr(ctx.backend, "read_only", False) and not getattr(ctx.args, "show_command", False):
        raise ReadOnlyError(f"Read-only mode: {what} was not sent.")


def confirm(ctx: Context, summary: Sequence[str], expected: str, what: str, given: str | None) -> None:
    """Explicit consent: a flag (--yes / --confirm NAME) or, on a terminal, the word typed."""
    io = ctx.io
    if given is not None:
        if given != expected:
            raise UsageError(
                f"The confirmation {given!r} does not match {expected!r}; nothing was sent.",
                hint=f"Pass exactly {expected!r}.",
            )
        return
    if not io.is_terminal():
        flag = "--yes" if expected == "yes" else f"--confirm {expected}"
        raise UsageError(
            f"{what} needs confirmation and there is no terminal to ask on; nothing was sent.",
            hint=f"Read what it will do, then pass {flag}.",
        )
    for text in summary:
        for line in wrap(text):
            io.err(line)
    answer = io.ask(f"Type {expected} to {what.lower()}, anything else to stop:")
    if answer != expected:
        raise UsageError("Not confirmed; nothing was sent.")


def hanging(text: str, indent: int) -> list[str]:
    # ids and paths stay whole so that they can be copied, even past 80 columns
    return textwrap.wrap(
        text, WIDTH, subsequent_indent=" " * indent, break_long_words=False, break_on_hyphens=False
    ) or [text]


def choices_error(text: str, hint: str) -> UsageError:
    """A usage error whose message lists choices: its first line is the message, each further line one line of
    the listing (a message is kept to one inert line, so its line breaks would otherwise show as \\n)."""
    head, *rest = text.split("\n")
    # the listing is printed indented by two: the lines' own two-space indent is that one
    return UsageError(head, hint=hint, listing=tuple(line.removeprefix("  ") for line in rest))
