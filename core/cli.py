"""The non-interactive command line: list, inspect and drive the failback from scripts and shells."""

from __future__ import annotations

import argparse
import errno
import os
import sys
import textwrap
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from core import numbers
from core.backend import Backend
from core.boundary import debugging, failure
from core.clock import Clock
from core.errors import FailbackError, NotAllowedNow, NotFound, ReadOnlyError, ServiceError, UsageError
from core.failback import (
    AGENT_REGISTRATION_WINDOW,
    Verdict,
    can_cancel,
    can_commit,
    can_failover,
    can_reprotect,
    derive_stage,
    is_agent_registration_failure,
    next_step,
    resolve_item,
    stage_reason,
)
from core.journal import Journal, error_detail_record
from core.model import (
    AnyReprotectTarget,
    ErrorDetail,
    Fabric,
    Job,
    JobFilter,
    JobState,
    JobTask,
    OperationHandle,
    PointChoice,
    ProcessServer,
    ProtectedItem,
    RecoveryPlan,
    RecoveryPoint,
    ReprotectTarget,
    Stage,
)
from core.operations import Operations, Started
from core.preflight import Level, PreflightReport, check_item, check_plan, check_vault
from core.providers import provider_for
from core.providers.modernized import CANCEL_WORDS, to_avs_target
from core.recovery import (
    PointOption,
    custom_option,
    data_loss_seconds,
    duration,
    format_time,
    group_points,
    point_options,
)
from core.sanitize import MESSAGE_CHARS, block, json_text, message, one_line

if TYPE_CHECKING:
    from core.plans import MemberProgress, PlanView
    from core.tracker import JobTracker

WIDTH = 80
SHOW_HELP = "print the equivalent REST call, az and PowerShell commands; send nothing"
AGENT_RETRY_SECONDS = 60.0  # backend-clock seconds between reprotect attempts inside the agent window
DETAILS_SHOWN = 10  # ASR error details printed with an error; --json and the journal keep them all


# -- plumbing ------------------------------------------------------------------------------------------------


def _write(stream: IO[str], text: str, end: str = "\n") -> None:
    """Write and flush; a character the stream's encoding lacks (a C locale) goes out as a backslash escape."""
    try:
        stream.write(text + end)
    except UnicodeEncodeError:
        encoding = getattr(stream, "encoding", None) or "ascii"
        stream.write((text + end).encode(encoding, "backslashreplace").decode(encoding))
    stream.flush()


@dataclass
class _Io:
    stdin: IO[str]
    stdout: IO[str]
    stderr: IO[str]
    json: bool = False
    unicode: bool = True

    # Every line leaves through one_line: whatever a name holds (an escape sequence, a line break), it reaches
    # the terminal as visible text, on the line it was meant for.
    def out(self, text: str = "") -> None:
        _write(self.stdout, one_line(text))

    def err(self, text: str = "") -> None:
        _write(self.stderr, one_line(text))

    def out_block(self, text: str) -> None:
        """Text whose line breaks are its own (a REST call, a report): each line made inert."""
        _write(self.stdout, block(text))

    def emit_json(self, data: Any) -> None:
        _write(self.stdout, json_text(data, sort_keys=True, indent=2))

    def is_terminal(self) -> bool:
        isatty = getattr(self.stdin, "isatty", None)
        return bool(isatty and isatty())

    def ask(self, question: str) -> str:
        self.err(question)
        _write(self.stderr, "> ", end="")
        line = self.stdin.readline()
        return line.strip()


@dataclass
class _Context:
    args: argparse.Namespace
    io: _Io
    backend_factory: Callable[[], Backend]
    clock: Clock | None
    journal: Journal | None = None
    backend_given: bool = False
    env: Mapping[str, str] | None = None
    config_path: Path | None = None
    _backend: Backend | None = field(default=None)
    notifier: Any = None
    _operations: Operations | None = field(default=None)

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            self._backend = self.backend_factory()
            if not self.backend_given and hasattr(self._backend, "on_notice"):
                # a throttled or slow vault says what the tool is waiting for, instead of going quiet
                self._backend.on_notice = lambda text: self.io.err(f"note: {text}")
        return self._backend

    def the_journal(self) -> Journal | None:
        """The session journal. None for the in-process demo vault, nor for a backend handed to main() (tests,
        the TUI): those hand in their own journal when they want one, so the user's journal stays theirs."""
        if self.journal is None and not getattr(self.args, "demo", False) and not self.backend_given:
            who = getattr(self.backend, "signed_in_as", None)
            self.journal = Journal(
                clock=self.clock or getattr(self.backend, "clock", None),
                vault=self.backend.vault,
                who=who() if callable(who) else "",
            )
        return self.journal

    def operations(self) -> Operations:
        """The one Operations of this run: every mutating command sends through it (journaled when there is a
        journal), so a target already busy is attached to, and nothing is sent twice."""
        if self._operations is None:
            clock = self.clock or getattr(self.backend, "clock", None)
            self._operations = Operations(self.backend, self.the_journal(), clock=clock)
        return self._operations

    def note(self, text: str, **fields: Any) -> None:
        """A note in the journal, when this run keeps one."""
        journal = self.the_journal()
        if journal is not None:
            journal.note(text, vault=self.backend.vault, **fields)


def _iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    aware = dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _short_age(seconds: float | None) -> str:
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


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def _wrap(text: str, indent: str = "") -> list[str]:
    """Prose to 80 columns; an indented line keeps its indent (continuations go two further)."""
    lead = text[: len(text) - len(text.lstrip(" "))]
    first = indent + lead
    return textwrap.wrap(text.strip(), WIDTH, initial_indent=first, subsequent_indent=first + "  ") or [first]


def _say(emit: Callable[[str], None], text: str, indent: str = "") -> None:
    for line in _wrap(text, indent):
        emit(line)


def _say_whole(emit: Callable[[str], None], text: str) -> None:
    """Prose naming job ids: wrapped at 80 columns without cutting an id at its hyphens, so it can be copied."""
    for line in _hanging(text, 2):
        emit(line)


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], caps: Sequence[int]) -> list[str]:
    """Plain columns, each at most its cap; the last column takes what is left of 80."""
    body = [[one_line(cell) for cell in r] for r in rows]
    widths = []
    for i, header in enumerate(headers):
        natural = max([len(header)] + [len(r[i]) for r in body])
        widths.append(min(natural, caps[i]))
    used = sum(widths[:-1]) + 2 * (len(widths) - 1)
    widths[-1] = max(4, min(widths[-1], WIDTH - used))
    lines = []
    for row in [list(headers)] + body:
        cells = [_clip(cell, widths[i]).ljust(widths[i]) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
    return lines


def _glyph(io: _Io, state: JobState | Stage) -> str:
    return state.glyph if io.unicode else state.ascii_glyph


def _print_error(io: _Io, exc: FailbackError) -> None:
    # ARM's text can be anything a hostile or broken endpoint sends: shown capped and inert.
    for line in _hanging(f"error: {message(exc.message)}", 2):  # ids and URLs in it stay whole, to be copied
        io.err(line)
    for line in exc.listing:  # e.g. the candidates of an ambiguous name, one per line
        io.err(_clip(f"  {one_line(line)}", WIDTH))
    if isinstance(exc, ServiceError):
        bits = [f"code {one_line(exc.code, 80)}" if exc.code else "", f"HTTP {exc.status}" if exc.status else ""]
        if any(bits):
            io.err("  " + ", ".join(b for b in bits if b))
        if exc.activity_id:
            io.err(f"  activity id: {one_line(exc.activity_id, 80)}")
    for detail in exc.details[:DETAILS_SHOWN]:
        for line in _detail_lines(detail):
            _say(io.err, line, "  ")
    if len(exc.details) > DETAILS_SHOWN:
        io.err(f"  … and {len(exc.details) - DETAILS_SHOWN} more errors (`--json` lists them all)")
    if exc.hint:
        _say(io.err, f"hint: {exc.hint}")


def _detail_lines(detail: ErrorDetail) -> list[str]:
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


def _all_items(backend: Backend) -> list[ProtectedItem]:
    items: list[ProtectedItem] = []
    for page in backend.iter_item_pages():
        items.extend(page)
    return items


def _refuse(verdict: Verdict) -> None:
    if not verdict.allowed:
        raise NotAllowedNow(verdict.reason, hint="Nothing was sent. Run `avs-failback items` to see each stage.")


def _guard_read_only(ctx: _Context, what: str) -> None:
    # --show-command sends nothing, so it stays available to a read-only session
    if getattr(ctx.backend, "read_only", False) and not getattr(ctx.args, "show_command", False):
        raise ReadOnlyError(f"Read-only mode: {what} was not sent.")


def _confirm(ctx: _Context, summary: Sequence[str], expected: str, what: str, given: str | None) -> None:
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
        for line in _wrap(text):
            io.err(line)
    answer = io.ask(f"Type {expected} to {what.lower()}, anything else to stop:")
    if answer != expected:
        raise UsageError("Not confirmed; nothing was sent.")


# -- JSON shapes ---------------------------------------------------------------------------------------------


def _item_json(item: ProtectedItem, now: datetime) -> dict[str, Any]:
    stage = derive_stage(item)
    newest = item.last_recovery_point_time
    return {
        "id": item.id,
        "name": item.name,
        "friendly_name": item.friendly_name,
        "stage": stage.key,
        "stage_label": stage.label,
        "stage_reason": stage_reason(item),
        "next_step": next_step(item),
        "replication_health": item.replication_health,
        "failover_health": item.failover_health,
        "protection_state": item.protection_state,
        "protection_state_description": item.protection_state_description,
        "active_location": item.active_location,
        "provider": item.provider.value,
        "instance_type": item.instance_type,
        "allowed_operations": list(item.allowed_operations),
        "recovery_plans": list(item.recovery_plans),
        "consistency_group": item.consistency_group,
        "rpo_seconds": item.rpo_seconds,
        "last_recovery_point_time": _iso(newest),
        "last_recovery_point_age_seconds": (now - newest).total_seconds() if newest else None,
        "running_job": item.running_job_name or None,
        "recovery_fabric": item.recovery_fabric_friendly_name,
        "health_errors": [
            {
                "code": e.code,
                "message": e.message,
                "severity": e.severity,
                "possible_causes": e.possible_causes,
                "recommended_action": e.recommended_action,
            }
            for e in item.health_errors
        ],
    }


def _point_json(point: RecoveryPoint, points: Sequence[RecoveryPoint]) -> dict[str, Any]:
    return {
        "id": point.id,
        "name": point.name,
        "time": _iso(point.time),
        "kind": point.kind.value,
        "is_multi_vm_sync": point.is_multi_vm_sync,
        "loss_seconds": data_loss_seconds(point, points),
    }


def _option_json(option: PointOption) -> dict[str, Any]:
    return {
        "choice": option.choice.value,
        "point_id": option.point.id if option.point else None,
        "point_time": _iso(option.point.time) if option.point else None,
        "kind": option.point.kind.value if option.point else None,
        "loss_seconds": option.loss_seconds,
        "age_seconds": option.age_seconds,
        "headline": option.headline,
        "tradeoff": option.tradeoff,
        "needs_acknowledgement": option.needs_acknowledgement,
    }


def _error_json(detail: ErrorDetail) -> dict[str, Any]:
    record = error_detail_record(detail)  # the journal's shape, less the creation time
    record.pop("created", None)
    return record


def _task_json(task: JobTask) -> dict[str, Any]:
    return {
        "task_id": task.task_id,
        "name": task.name,
        "friendly_name": task.friendly_name,
        "state": task.state.value,
        "state_description": task.state_description,
        "start_time": _iso(task.start_time),
        "end_time": _iso(task.end_time),
        "errors": [_error_json(e) for e in task.errors],
        "child_job_name": task.child_job_name or None,
        "child_tasks": [_task_json(c) for c in task.child_tasks],
    }


def _job_json(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "name": job.name,
        "scenario_name": job.scenario_name,
        "friendly_name": job.friendly_name,
        "state": job.state.value,
        "state_description": job.state_description,
        "start_time": _iso(job.start_time),
        "end_time": _iso(job.end_time),
        "target_object_name": job.target_object_name,
        "allowed_actions": list(job.allowed_actions),
        "tasks": [_task_json(t) for t in job.tasks],
        "errors": [_error_json(e) for e in job.errors],
        "new_item_id": job.new_item_id or None,
    }


def _handle_json(handle: OperationHandle) -> dict[str, Any]:
    return {
        "operation": handle.operation,
        "job_name": handle.job_name,
        "target_id": handle.target_id,
        "target_name": handle.target_name,
    }


# -- commands ------------------------------------------------------------------------------------------------


def _matches(item: ProtectedItem, text: str) -> bool:
    needle = text.lower()
    return any(needle in value.lower() for value in (item.friendly_name, item.name, item.consistency_group))


def cmd_items(ctx: _Context) -> int:
    args, io, backend = ctx.args, ctx.io, ctx.backend
    stage_filter = None
    if getattr(args, "stage", None):
        try:
            stage_filter = Stage.from_key(args.stage)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    items = _all_items(backend)
    if getattr(args, "filter", None):
        items = [i for i in items if _matches(i, args.filter)]
    if stage_filter is not None:
        items = [i for i in items if derive_stage(i) is stage_filter]
    items.sort(key=lambda i: (i.friendly_name.lower(), i.id))
    now = backend.now()
    if io.json:
        io.emit_json(
            {
                "vault": backend.vault.arm_id,
                "simulated": bool(getattr(backend, "simulated", False)),
                "time": _iso(now),
                "items": [_item_json(i, now) for i in items],
            }
        )
        return 0
    if not items:
        io.out("No replicated items match.")
        return 0
    rows = []
    for item in items:
        stage = derive_stage(item)
        newest = item.last_recovery_point_time
        age = (now - newest).total_seconds() if newest else None
        where = item.consistency_group or ", ".join(item.recovery_plans) or "-"
        rows.append(
            [
                item.friendly_name,
                f"{_glyph(io, stage)} {stage.short}",
                item.replication_health or "-",
                _short_age(age),
                where,
            ]
        )
    for line in _table(["NAME", "STAGE", "HEALTH", "POINT AGE", "GROUP/PLAN"], rows, [22, 18, 8, 9, 17]):
        io.out(line)
    counts: dict[str, int] = {}
    for item in items:
        key = derive_stage(item).short
        counts[key] = counts.get(key, 0) + 1
    io.out("")
    _say(io.out, f"{len(items)} items: " + ", ".join(f"{n} {k}" for k, n in counts.items()))
    return 0


def _group_members(item: ProtectedItem, items: Sequence[ProtectedItem]) -> list[ProtectedItem]:
    return [i for i in items if i.consistency_group and i.consistency_group == item.consistency_group]


def cmd_points(ctx: _Context) -> int:
    args, io, backend = ctx.args, ctx.io, ctx.backend
    items = _all_items(backend)
    item = resolve_item(items, args.item)
    points = backend.list_recovery_points(item)
    now = backend.now()
    options = point_options(points, now)
    group = None
    if item.consistency_group:
        members = _group_members(item, items)
        member_points = {
            m.friendly_name: (points if m.id == item.id else backend.list_recovery_points(m)) for m in members
        }
        group = group_points(item.consistency_group, member_points, now)
    ordered = sorted(points, key=lambda p: p.time, reverse=True)
    if io.json:
        data: dict[str, Any] = {
            "item": {"id": item.id, "name": item.name, "friendly_name": item.friendly_name},
            "time": _iso(now),
            "options": [_option_json(o) for o in options],
            "points": [_point_json(p, points) for p in ordered],
        }
        if group is not None:
            data["group"] = {
                "name": group.group,
                "common_time": _iso(group.common_time),
                "explanation": group.explanation,
                "members": [
                    {
                        "item": m.item_name,
                        "latest_point_id": m.latest.id if m.latest else None,
                        "latest_loss_seconds": m.latest_loss_seconds,
                        "common_point_id": m.common_point.id if m.common_point else None,
                        "common_loss_seconds": m.common_loss_seconds,
                    }
                    for m in group.members
                ],
            }
        io.emit_json(data)
        return 0
    if not points:
        io.out(f"{item.friendly_name} has no recovery point yet: it cannot be failed back.")
        for line in _wrap(stage_reason(item)):
            io.out(line)
        return 0
    io.out(f"Recovery points of {item.friendly_name} (times in local time and UTC)")
    io.out("")
    for option in options:
        for line in _wrap(option.headline) + _wrap(option.tradeoff, "  "):
            io.out(line)
    if group is not None:
        io.out("")
        io.out(f"Replication group {group.group}:")
        for line in _wrap(group.explanation, "  "):
            io.out(line)
    io.out("")
    shown = ordered if getattr(args, "all", False) else ordered[: args.limit]
    rows = []
    for p in shown:
        local = format_time(p.time, now).split(",")[0]
        loss = data_loss_seconds(p, points)
        rows.append([local, p.kind.value, _short_age(loss) if loss else "0", p.name])
    for line in _table(["TIME", "KIND", "LOSS", "POINT ID (for --point)"], rows, [34, 16, 7, 30]):
        io.out(line)
    if len(shown) < len(ordered):
        io.out(f"… and {len(ordered) - len(shown)} older points (--all lists them).")
    return 0


def _show_command(ctx: _Context, op: str, item: ProtectedItem | None, **params: Any) -> bool:
    """With --show-command: print the REST call, az and PowerShell equivalents, send nothing, return True."""
    if not getattr(ctx.args, "show_command", False):
        return False
    from core.equivalents import equivalents

    backend = ctx.backend
    eq = equivalents(op, vault=backend.vault, item=item, arm_endpoint=getattr(backend, "arm_endpoint", ""), **params)
    if ctx.io.json:
        ctx.io.emit_json({"title": eq.title, "rest": eq.rest, "az": eq.az, "powershell": eq.powershell})
        return True
    for heading, text in (("REST", eq.rest), ("Azure CLI", eq.az), ("Azure PowerShell", eq.powershell)):
        ctx.io.out(f"# {heading}")
        ctx.io.out_block(text)
        ctx.io.out("")
    ctx.io.out(f"# {eq.title}: nothing was sent.")
    return True


def _point_choices(item: ProtectedItem, points: Sequence[RecoveryPoint], now: datetime) -> str:
    """What --point can be for this item, each with the data it gives up: said when --point is missing."""
    options = point_options(points, now)
    name = item.friendly_name
    if not options:
        return f"--point is needed, but {name} has no recovery point yet: it cannot fail back."
    lines = [f"--point is needed. The choices for {name}:"]
    for option in options:
        word = "latest" if option.choice is PointChoice.LATEST else "app-consistent"
        lines.append(f"  {word:<15} {option.headline}")
        age = option.age_seconds
        loss = f"loses about {duration(age)} of writes" if age is not None else "loss not reported"
        if option.needs_acknowledgement and option.loss_seconds is not None:
            loss += f", {duration(option.loss_seconds)} more than latest"
        lines.append(f"  {'':<15} {loss}")
    lines.append(f"  {'POINT_ID':<15} another point (`avs-failback points {name}` lists them)")
    return "\n".join(lines)


def _type_choices(item: ProtectedItem, options: Sequence[PointOption]) -> str:
    """What --point can be for a stack whose failover takes a type of point: each type with what it gives up."""
    lines = [f"--point is needed. The choices for {item.friendly_name} (a type of point, made or picked by ASR):"]
    for option in options:
        lines.append(f"  {option.choice.value:<15} {option.headline}")
        lines.append(f"  {'':<15} {option.tradeoff}")
    return "\n".join(lines)


def _plan_point_choices(view: Any, points: Any, now: datetime) -> str:
    from core.plans import plan_loss, plan_point_summary

    groups = plan_point_summary(view, points, now)
    lines = [f"--point is needed. The choices for the plan {view.name}:"]
    for word, choice in (("latest", PointChoice.LATEST), ("app-consistent", PointChoice.LATEST_APP_CONSISTENT)):
        loss = plan_loss(groups, choice)
        worst, extra = loss.worst, loss.most_extra
        if worst is not None:
            lines.append(f"  {word:<15} at most about {duration(worst.seconds)} of writes ({worst.name})")
        if extra is not None and extra.extra_seconds >= 1:
            lines.append(f"  {'':<15} up to {duration(extra.extra_seconds)} more than latest ({extra.name})")
        if loss.no_point:
            lines.append(f"  {word if worst is None else '':<15} no recovery point yet: {', '.join(loss.no_point)}")
    return "\n".join(lines)


def _choose_point(spec: str, points: Sequence[RecoveryPoint], now: datetime) -> tuple[PointOption, str]:
    options = point_options(points, now)
    if not options:
        raise NotAllowedNow("The item has no recovery point, so it cannot be failed back yet.")
    wanted = spec.strip().lower()
    if wanted == "latest":
        return options[0], ""
    if wanted in ("app-consistent", "latest-app-consistent"):
        for option in options:
            if option.choice is PointChoice.LATEST_APP_CONSISTENT:
                return option, ""
        raise NotAllowedNow(
            "The item has no app-consistent recovery point.",
            hint="Use --point latest, or wait for the next app-consistent point.",
        )
    for p in points:
        if wanted in (p.name.lower(), p.id.lower()):
            return custom_option(p, points, now), p.id
    raise NotFound(
        f"No recovery point {spec!r} on this item.",
        hint="Use --point latest, --point app-consistent, or a point id from `avs-failback points ITEM`.",
    )


def _notifier(ctx: _Context) -> Any:
    """The notifier of this command: bell and desktop escape on the terminal's stderr, and the notify command."""
    from core.config import Settings, resolve_settings
    from core.notify import Notifier, stream_writer

    if ctx.notifier is None:
        env = ctx.env if ctx.env is not None else os.environ
        try:
            settings = resolve_settings(ctx.args, env=env, config_path=ctx.config_path)
        except FailbackError:
            if not ctx.backend_given:
                raise
            settings = Settings()  # a backend handed in (tests, the TUI) may come with no configuration at all
        ctx.notifier = Notifier.for_terminal(
            stream_writer(ctx.io.stderr) if settings.bell or settings.notify_desktop != "off" else None,
            env,
            desktop=settings.notify_desktop,
            command=settings.notify_command,
            bell=settings.bell,
            warn=lambda text: ctx.io.err(f"note: {text}"),
        )
    return ctx.notifier


def _tell(ctx: _Context, job: Job) -> None:
    """A followed job that ended or waits for the operator is said outside the terminal's text too."""
    from core.notify import job_event

    backend = ctx.backend
    event = job_event(job, backend.now(), vault=backend.vault.name, simulated=bool(backend.simulated))
    if event is not None:
        _notifier(ctx).notify(event)


def _wait(ctx: _Context, handle: OperationHandle) -> Job:
    from core.tracker import JobTracker

    io = ctx.io
    seen: dict[str, JobState] = {}

    journal = ctx.journal

    def on_update(job: Job) -> None:
        _tell(ctx, job)
        if journal is not None:
            journal.job_update(job)
        if io.json:
            return
        for task in job.tasks:
            if seen.get(task.task_id or task.name) is task.state:
                continue
            seen[task.task_id or task.name] = task.state
            word = "Skipped" if task.skipped else task.state.word
            io.out(_clip(f"  {_glyph(io, task.state)} {task.friendly_name or task.name}: {word}", WIDTH))

    tracker = JobTracker(ctx.backend, ctx.clock)
    timeout = getattr(ctx.args, "timeout", None)
    return tracker.wait(handle.job_name, on_update=on_update, timeout=timeout)


def _report_start(ctx: _Context, started: Started, what: str) -> None:
    """Say what was started, or, when a job already held the target, that nothing was sent and whose job it is."""
    handle = started.handle
    if ctx.io.json:
        return
    if started.attached:
        _say_whole(ctx.io.out, f"Attached, nothing sent: {started.note}")
    else:
        ctx.io.out(f"{what} started: job {handle.job_name}")
    if getattr(ctx.args, "demo", False) and not getattr(ctx.args, "wait", False):
        # Each --demo command runs a simulated vault of its own: another command would not find this job.
        ctx.io.out("The demo vault lives only as long as this command: add --wait to follow the job to its end.")
    elif not getattr(ctx.args, "wait", False):
        ctx.io.out(f"Follow it with: avs-failback job {handle.job_name} --watch")


def _finish(ctx: _Context, started: Started, extra: Mapping[str, Any] | None = None) -> int:
    io, handle = ctx.io, started.handle
    job = _wait(ctx, handle) if getattr(ctx.args, "wait", False) else None
    if io.json:
        data: dict[str, Any] = {
            "handle": _handle_json(handle),
            "job": _job_json(job) if job else None,
            "attached": started.attached,
            "note": started.note,
        }
        data.update(extra or {})
        io.emit_json(data)
    elif job is not None:
        io.out(f"Job {job.name}: {job.state.word}.")
    return 0


def _busy(item: ProtectedItem) -> bool:
    """A job already runs on the item: the operation attaches to it rather than being refused by the CLI."""
    return item.current_scenario is not None


def _choose_type(spec: str, options: Sequence[PointOption]) -> tuple[PointOption, str]:
    """A stack whose failover takes a type of point (modernized): latest or app-consistent, never a point id."""
    wanted = spec.strip().lower()
    for option in options:
        if wanted == option.choice.value or (
            wanted == "latest-app-consistent" and option.choice.value == "app-consistent"
        ):
            return option, ""
    raise UsageError(
        f"A modernized failback takes a type of point, not {spec!r}.",
        hint="Use --point latest (crash-consistent, made when the job starts) or --point app-consistent.",
    )


def _failover_summary(item: ProtectedItem, option: PointOption) -> list[str]:
    provider = provider_for(item)
    target = item.recovery_fabric_friendly_name or "the AVS private cloud"
    if provider.cancellable:
        return [
            f"Fail back {item.friendly_name}: from Azure to {target} ({provider.failover_name}, "
            f"{provider.kind_label}).",
            f"Point: {option.headline}",
            f"  {option.tradeoff}",
            "ASR copies the last changes, shuts the Azure VM down and starts the VM in AVS.",
            f"You verify it, then commit — or cancel (avs-failback cancel {item.friendly_name}) to return to the Azure "
            "VM.",
        ]
    summary = [
        f"Fail back {item.friendly_name}: from Azure to {target} (unplanned failover, PrimaryToRecovery).",
        f"Point: {option.headline}",
        f"  {option.tradeoff}",
        "ASR shuts the Azure VM down and starts the VM in AVS. Commit comes later, after you verify.",
        "A classic failback cannot be cancelled once sent.",
    ]
    if option.needs_acknowledgement and option.loss_seconds is not None:
        summary.append(f"This point gives up about {_short_age(option.loss_seconds)} more writes than Latest.")
    return summary


def cmd_failover(ctx: _Context) -> int:
    args, io, backend = ctx.args, ctx.io, ctx.backend
    item = resolve_item(_all_items(backend), args.item)
    busy = _busy(item)
    if not busy:
        _refuse(can_failover(item))
    _guard_read_only(ctx, "the failover")
    provider = provider_for(item)
    points = backend.list_recovery_points(item) if provider.needs_points else []
    now = backend.now()
    if not args.point:
        if provider.needs_points:
            choices = _point_choices(item, points, now)
        else:
            choices = _type_choices(item, provider.type_options(item))
        raise UsageError(choices, hint=f"Name one: avs-failback failover {args.item} --point latest")
    if provider.needs_points:
        option, point_id = _choose_point(args.point, points, now)
    else:
        option, point_id = _choose_type(args.point, provider.type_options(item))
        if not io.json:
            _say(
                io.err,
                f"note: {provider.failover_name} ({provider.kind_label}): after it you can verify, then "
                "commit or cancel.",
            )
    summary = _failover_summary(item, option)
    if _show_command(ctx, "failover", item, choice=option.choice, recovery_point_id=point_id):
        return 0
    if busy:
        # the preflight would only report the running job, which is followed below instead of failed over
        preflight = "skipped: a job is running on the item"
    else:
        preflight = _preflight_gate(ctx, lambda: check_item(backend, item, points=points), "the failover")
    _confirm(ctx, summary, "yes", "Fail back", "yes" if args.yes else None)
    fresh = backend.get_item(item.id) if busy else item
    if busy and not _busy(fresh):
        # the job ended while the operator read the summary: this is a real send now, so it gets every check
        item = fresh
        _refuse(can_failover(item))
        preflight = _preflight_gate(ctx, lambda: check_item(backend, item, points=points), "the failover")
        busy = False
    if not io.json and args.yes and option.needs_acknowledgement and not busy:
        _say(io.err, f"note: {option.tradeoff}")
    started = ctx.operations().failover_to(item, option)
    if not started.attached:
        _note_preflight(ctx, started, preflight)
    _report_start(ctx, started, f"Failover of {item.friendly_name}")
    request = provider.failover_request(item, option.choice, point_id)
    extra = {"point": _option_json(option), "preflight": preflight, "provider": provider.key, "kind": request.operation}
    return _finish(ctx, started, extra)


def cmd_cancel(ctx: _Context) -> int:
    """Cancel a finished planned failover (modernized): the VM runs in Azure again and replicates to AVS."""
    args = ctx.args
    item = resolve_item(_all_items(ctx.backend), args.item)
    if not _busy(item):
        _refuse(can_cancel(item))
    _guard_read_only(ctx, "the cancel")
    summary = [
        f"Cancel the planned failover of {item.friendly_name}.",
        CANCEL_WORDS,
        "Its failback can be run again afterwards (avs-failback failover ITEM).",
    ]
    if _show_command(ctx, "cancel-failover", item):
        return 0
    _confirm(ctx, summary, "yes", "Cancel failover", "yes" if args.yes else None)
    started = ctx.operations().cancel_failover(item)
    _report_start(ctx, started, f"Cancel of the planned failover of {item.friendly_name}")
    return _finish(ctx, started)


def _note_preflight(ctx: _Context, started: Started, preflight: str) -> None:
    """The preflight's outcome goes in the journal right after the send it cleared, for the incident timeline
    (after it, so that the intent stays the first record of the operation)."""
    handle = started.handle
    ctx.note(
        f"Preflight before the {handle.operation} of {handle.target_name}: {preflight}.",
        target_id=handle.target_id,
        target_name=handle.target_name,
        job_name=handle.job_name,
        preflight=preflight,
    )


def cmd_commit(ctx: _Context) -> int:
    args = ctx.args
    item = resolve_item(_all_items(ctx.backend), args.item)
    if not _busy(item):
        _refuse(can_commit(item))
    _guard_read_only(ctx, "the commit")
    summary = [
        f"Commit the failover of {item.friendly_name}.",
        "ASR deletes the failed-over Azure VM. This cannot be undone.",
        "Commit only after checking the applications in AVS and that the Azure VM is off.",
    ]
    if _show_command(ctx, "commit", item):
        return 0
    _confirm(ctx, summary, item.friendly_name, "Commit", args.confirm)
    started = ctx.operations().commit(item)
    _report_start(ctx, started, f"Commit of {item.friendly_name}")
    return _finish(ctx, started)


def _find_process_server(fabrics: Sequence[Fabric], name: str) -> tuple[Fabric, ProcessServer]:
    wanted = name.strip().lower()
    for fabric in fabrics:
        for ps in fabric.process_servers:
            if wanted in (ps.friendly_name.lower(), ps.id.lower(), ps.ip_address.lower()):
                return fabric, ps
    known = sorted(f"{ps.friendly_name} ({ps.health or 'health unknown'})" for f in fabrics for ps in f.process_servers)
    raise NotFound(
        f"No process server named {name!r}. Known: {', '.join(known) or 'none'}.",
        hint="Pass --process-server with one of the names listed.",
    )


def _reprotect_target(
    ctx: _Context, current_targets: Sequence[str], what: str
) -> tuple[ReprotectTarget, ProcessServer, str]:
    """The process server, master target and run-as account named by the options, for `what` (an item or a
    plan); `current_targets` are the master target ids the VMs use now. The replication policy stays empty
    unless --policy names one: the backend then picks the vault's AVS → Azure policy."""
    args = ctx.args
    fabrics = ctx.backend.list_fabrics()
    fabric, ps = _find_process_server(fabrics, args.process_server)
    master_target = getattr(args, "master_target", None)
    targets = fabric.master_targets
    known = {m.id: m for m in targets}
    current = list(dict.fromkeys(t for t in current_targets if t in known))
    if master_target:
        chosen = [m for m in targets if master_target.lower() in (m.name.lower(), m.id.lower())]
        if not chosen:
            names = ", ".join(m.name for m in targets) or "none"
            raise NotFound(f"No master target named {master_target!r}. Known: {names}.")
        mt = chosen[0]
    elif len(current) > 1:
        # one master target for every VM keeps each replication group on one pair, as ASR requires
        names = ", ".join(known[t].name for t in current)
        raise UsageError(
            f"The VMs of {what} use different master targets ({names}).",
            hint="Name the one to use for all of them with --master-target.",
        )
    elif current:
        mt = known[current[0]]
    elif targets:
        mt = targets[0]
    else:
        raise NotAllowedNow(
            f"The fabric {fabric.friendly_name} lists no master target server.",
            hint="Reprotect needs a master target; check the configuration server's registration.",
        )
    run_as = getattr(args, "run_as_account", None) or (fabric.run_as_accounts[0].id if fabric.run_as_accounts else "")
    policy = getattr(args, "policy", None) or ""
    target = ReprotectTarget(
        process_server_id=ps.id, master_target_id=mt.id, run_as_account_id=run_as, policy_id=policy
    )
    return target, ps, mt.name


def _with_policy_shown(ctx: _Context, target: ReprotectTarget) -> ReprotectTarget:
    """For --show-command: the policy the backend would fill in when sending, so the printed request is whole."""
    forward = getattr(ctx.backend, "forward_policy_id", None)
    if target.policy_id or forward is None:
        return target
    try:
        return replace(target, policy_id=str(forward()))
    except UsageError:  # none or several: the equivalents then show a placeholder to fill in
        return target


def cmd_reprotect(ctx: _Context) -> int:
    args, backend = ctx.args, ctx.backend
    items = _all_items(backend)
    item = resolve_item(items, args.item)
    if not _busy(item):
        _refuse(can_reprotect(item))
    _guard_read_only(ctx, "the reprotect")
    chosen, ps, _ = _reprotect_target(ctx, [item.master_target_id], item.friendly_name)
    target: AnyReprotectTarget = chosen
    health = ps.health or "unknown"
    summary = [
        f"Reprotect {item.friendly_name}: replicate from AVS back to Azure (RecoveryToPrimary).",
        f"Process server: {ps.friendly_name} (health {health}).",
        "Initial replication to Azure follows; the VM is protected again when it ends.",
    ]
    if derive_stage(item) is Stage.IN_AZURE:
        # a modernized VM in Azure: the appliance's reprotect agent, an AVS datastore and a log storage account
        fresh = backend.get_item(item.id)  # disks (and their log storage account) come only on a GET
        target = to_avs_target(
            fresh, ps.id, args.datastore or "", args.log_storage_account or "", args.failback_policy or ""
        )
        summary = [
            f"Reprotect {item.friendly_name}: replicate from Azure to AVS through the appliance {ps.friendly_name} "
            f"(health {health}), datastore {target.datastore_name}.",
            "ASR reports no free space for modernized datastores: check in vCenter that it has room for the VM.",
            "Initial replication to AVS follows; the VM can fail back once it ends.",
        ]
    if not ps.is_healthy:
        summary.append(f"Warning: the process server reports health {health!r}.")
    if getattr(args, "show_command", False):
        policies = getattr(backend, "list_policies", None)
        if isinstance(target, ReprotectTarget) and not provider_for(item).needs_points and policies is not None:
            # a modernized VM back to Azure: the appliance and the vault's forward policy, as the backend sends it
            target = provider_for(item).complete_target(item, target, policies())
        elif isinstance(target, ReprotectTarget):
            target = _with_policy_shown(ctx, target)
    if _show_command(ctx, "reprotect", item, target=target, process_server_name=ps.friendly_name):
        return 0
    _confirm(ctx, summary, "yes", "Reprotect", "yes" if args.yes else None)
    started = ctx.operations().reprotect(item, target)
    _report_start(ctx, started, f"Reprotect of {item.friendly_name}")
    if not getattr(args, "wait", False):
        return _finish(ctx, started)
    return _reprotect_wait(ctx, item, target, started)


def _reprotect_wait(ctx: _Context, item: ProtectedItem, target: AnyReprotectTarget, started: Started) -> int:
    """Wait; while the mobility agent is still registering (up to 15 min after boot), retry on a timer."""
    from core.errors import JobFailed

    io, backend = ctx.io, ctx.backend
    first_try = backend.now()
    attempts = 1
    while True:
        try:
            return _finish(ctx, started)
        except JobFailed:
            job = backend.get_job(started.handle.job_name)
            elapsed = (backend.now() - first_try).total_seconds()
            retry = (
                is_agent_registration_failure(job)
                and not getattr(ctx.args, "no_retry", False)
                and elapsed + AGENT_RETRY_SECONDS < AGENT_REGISTRATION_WINDOW.total_seconds()
            )
            if not retry:
                if is_agent_registration_failure(job):
                    _say(
                        io.err,
                        "The mobility agent on the AVS VM has not registered yet. ASR needs up to "
                        f"{int(AGENT_REGISTRATION_WINDOW.total_seconds() // 60)} minutes after the VM boots; "
                        "retry the reprotect in a few minutes.",
                    )
                raise
            if not io.json:
                _say(
                    io.err,
                    f"Attempt {attempts}: the mobility agent has not registered yet (normal for up to "
                    f"{int(AGENT_REGISTRATION_WINDOW.total_seconds() // 60)} minutes after the AVS VM boots). "
                    f"Retrying in {AGENT_RETRY_SECONDS:.0f} s.",
                )
            _sleep(ctx, AGENT_RETRY_SECONDS)
            # Operations reads the item afresh, and follows a job someone else started meanwhile
            started = ctx.operations().reprotect(item, target)
            attempts += 1
            if io.json:
                continue
            if started.attached:
                _say_whole(io.out, f"Attached, nothing sent: {started.note}")
            else:
                io.out(f"Reprotect retried: job {started.handle.job_name}")


def _sleep(ctx: _Context, seconds: float) -> None:
    clock = ctx.clock or getattr(ctx.backend, "clock", None)
    if clock is not None:
        clock.sleep(seconds)
    else:
        import time

        time.sleep(seconds)


def _parse_state(value: str) -> str:
    for state in JobState:
        if state is not JobState.OTHER and state.value.lower() == value.strip().lower():
            return str(state.value)
    choices = ", ".join(s.value for s in JobState if s is not JobState.OTHER)
    raise UsageError(f"Unknown job state {value!r}; one of: {choices}.")


def cmd_jobs(ctx: _Context) -> int:
    args, io, backend = ctx.args, ctx.io, ctx.backend
    job_filter = JobFilter(states=(_parse_state(args.state),)) if getattr(args, "state", None) else None
    jobs = backend.list_jobs(job_filter)
    jobs.sort(key=lambda j: j.start_time or datetime.min.replace(tzinfo=UTC), reverse=True)
    if io.json:
        io.emit_json({"time": _iso(backend.now()), "jobs": [_job_json(j) for j in jobs]})
        return 0
    if not jobs:
        io.out("No jobs.")
        return 0
    now = backend.now()
    rows = []
    for job in jobs:
        age = (now - job.start_time).total_seconds() if job.start_time else None
        rows.append([job.name, f"{_glyph(io, job.state)} {job.state.word}", _short_age(age), job.title])
    for line in _table(["JOB", "STATE", "AGE", "WHAT"], rows, [36, 13, 6, 40]):
        io.out(line)
    return 0


def _print_job(io: _Io, job: Job, now: datetime) -> None:
    io.out(_clip(f"{job.title}", WIDTH))
    io.out(f"Job {job.name}: {_glyph(io, job.state)} {job.state.word}")
    if job.start_time:
        io.out(f"Started {format_time(job.start_time, now)}")
    if job.end_time:
        io.out(f"Ended   {format_time(job.end_time, now)}")
    if job.tasks:
        io.out("")
        rows = []
        for task in _flatten(job.tasks):
            word = "Skipped" if task.skipped else task.state.word
            took = "-"
            if task.start_time and task.end_time and task.end_time >= task.start_time:
                took = _short_age((task.end_time - task.start_time).total_seconds())
            rows.append([f"{_glyph(io, task.state)} {word}", took, task.friendly_name or task.name])
        for line in _table(["STATE", "TOOK", "TASK"], rows, [14, 8, 54]):
            io.out(line)
    errors = list(job.errors) or [e for t in _flatten(job.tasks) for e in t.errors]
    if errors:
        io.out("")
        io.out("Errors:")
        for detail in errors:
            for line in _detail_lines(detail):
                _say(io.out, line, "  ")
    if job.allowed_actions:
        io.out("")
        io.out("Possible now: " + ", ".join(job.allowed_actions))


def _flatten(tasks: Iterable[JobTask]) -> list[JobTask]:
    out: list[JobTask] = []
    for task in tasks:
        out.append(task)
        out.extend(_flatten(task.child_tasks))
    return out


def cmd_job(ctx: _Context) -> int:
    args, io, backend = ctx.args, ctx.io, ctx.backend
    if getattr(args, "watch", False):
        from core.errors import JobFailed

        backend.get_job(args.name)  # an unknown name fails here, before any waiting
        handle = OperationHandle("watch", args.name, "", "")
        try:
            job = _wait(ctx, handle)
        except JobFailed:
            job = backend.get_job(args.name)
            _show_job(io, job, backend.now())
            raise
    else:
        job = backend.get_job(args.name)
    action = next((a for a in ("cancel", "restart", "resume") if getattr(args, a, False)), None)
    if action is None:
        _show_job(io, job, backend.now())
        return 0
    return _job_action(ctx, job, action)


def _job_action(ctx: _Context, job: Job, action: str) -> int:
    """Cancel, restart or resume a job, when ASR lists the action as allowed on it."""
    args = ctx.args
    allowed = {a.lower() for a in job.allowed_actions}
    if action not in allowed:
        offered = ", ".join(job.allowed_actions) or "nothing"
        raise NotAllowedNow(
            f"ASR does not allow {action} on job {job.name} ({job.state.word}); it allows: {offered}.",
            hint="Nothing was sent.",
        )
    _guard_read_only(ctx, f"the job {action}")
    comment = getattr(args, "comment", None) or ""
    summary = [f"{action.capitalize()} job {job.name}: {job.title} ({job.state.word})."]
    if action == "cancel":
        summary.append("ASR stops the job where it is and rolls its item back where it can.")
    _confirm(ctx, summary, "yes", action.capitalize(), "yes" if getattr(args, "yes", False) else None)
    operations = ctx.operations()
    if action == "cancel":
        started = operations.cancel_job(job.name)
    elif action == "restart":
        started = operations.restart_job(job.name)
    else:
        started = operations.resume_job(job.name, comment)
    _report_start(ctx, started, f"{action.capitalize()} of job {job.name}")
    return _finish(ctx, started)


def _show_job(io: _Io, job: Job, now: datetime) -> None:
    if io.json:
        io.emit_json(_job_json(job))
    else:
        _print_job(io, job, now)


def _plan_context(
    ctx: _Context, points: bool = True
) -> tuple[PlanView, dict[str, list[RecoveryPoint]], list[ProtectedItem]]:
    """The named plan's view, with each member's recovery points (keyed by item name) unless `points` is off."""
    from core.plans import plan_view, resolve_plan

    backend = ctx.backend
    plan = resolve_plan(backend.list_plans(), ctx.args.plan)
    items = _all_items(backend)
    view = plan_view(plan, items)
    if not points:
        return view, {}, items
    by_item = {m.item.name: backend.list_recovery_points(m.item) for m in view.members}
    return view, by_item, items


def cmd_plans(ctx: _Context) -> int:
    from core.plans import plan_view

    io, backend = ctx.io, ctx.backend
    plans = sorted(backend.list_plans(), key=lambda p: (p.friendly_name or p.name).lower())
    items = _all_items(backend)
    views = [plan_view(p, items) for p in plans]
    if io.json:
        io.emit_json(
            {
                "time": _iso(backend.now()),
                "plans": [
                    {
                        "id": v.plan.id,
                        "name": v.plan.name,
                        "friendly_name": v.name,
                        "members": [m.item.friendly_name for m in v.members],
                        "stage": v.stage.key if v.stage else None,
                        "summary": v.stage_summary,
                        "consistency_groups": {k: list(n) for k, n in v.consistency_groups.items()},
                        "running_job": v.running_job_name or None,
                    }
                    for v in views
                ],
            }
        )
        return 0
    if not views:
        io.out("No recovery plans.")
        return 0
    rows = [[v.name, str(len(v.members)), v.stage_summary] for v in views]
    for line in _table(["PLAN", "VMS", "STATE"], rows, [24, 4, 48]):
        io.out(line)
    return 0


def cmd_plan(ctx: _Context) -> int:
    from core.plans import can_commit_plan, can_fail_over_plan, manual_actions, plan_point_summary

    io, backend = ctx.io, ctx.backend
    view, points, _ = _plan_context(ctx)
    now = backend.now()
    summary = plan_point_summary(view, points, now)
    failover, commit = can_fail_over_plan(view, points), can_commit_plan(view)
    actions = manual_actions(view.plan)
    if io.json:
        io.emit_json(
            {
                "id": view.plan.id,
                "name": view.plan.name,
                "friendly_name": view.name,
                "summary": view.stage_summary,
                "groups": [
                    {"label": g.label, "members": [{"name": m.name, "stage": m.stage.key} for m in g.members]}
                    for g in view.groups
                ],
                "points": [
                    {"group": g.group, "common_time": _iso(g.common_time), "explanation": g.explanation}
                    for g in summary
                ],
                "manual_actions": [
                    {"where": where, "name": a.name, "instructions": a.instructions} for where, a in actions
                ],
                "can_failover": {"allowed": failover.allowed, "reason": failover.reason},
                "can_commit": {"allowed": commit.allowed, "reason": commit.reason},
            }
        )
        return 0
    io.out(f"Recovery plan {view.name}: {view.stage_summary}")
    for group in view.groups:
        io.out("")
        io.out(f"{group.label}:")
        for member in group.members:
            io.out(_clip(f"  {_glyph(io, member.stage)} {member.name}  {member.stage.short}", WIDTH))
    if actions:
        io.out("")
        io.out("Manual actions (the job waits for `job NAME --resume`):")
        for where, action in actions:
            _say(io.out, f"{where}: {action.name}. {action.instructions}".rstrip(". ") + ".", "  ")
    io.out("")
    io.out("Recovery points with app-consistent:")
    for points_of in summary:
        _say(io.out, points_of.explanation, "  ")
    io.out("")
    _say(io.out, f"Fail back: {'yes' if failover.allowed else 'not now'}. {failover.reason}")
    _say(io.out, f"Commit: {'yes' if commit.allowed else 'not now'}. {commit.reason}")
    return 0


def _plan_operation(ctx: _Context, name: str) -> None:
    """Refuse plainly, before anything is journaled, when the backend has no plan operations at all."""
    if getattr(ctx.backend, name, None) is None:
        raise UsageError("This backend cannot act on recovery plans.")


def cmd_plan_failover(ctx: _Context) -> int:
    from core.plans import can_fail_over_plan, plan_point_summary

    args, backend = ctx.args, ctx.backend
    choices = {"latest": PointChoice.LATEST, "app-consistent": PointChoice.LATEST_APP_CONSISTENT}
    if not args.point:
        view, points, _ = _plan_context(ctx)
        raise UsageError(
            _plan_point_choices(view, points, backend.now()),
            hint=f"Name one: avs-failback plan-failover {args.plan} --point latest",
        )
    choice = choices.get(args.point.strip().lower())
    if choice is None:
        raise UsageError("A plan fails back to --point latest or --point app-consistent.")
    view, points, items = _plan_context(ctx)
    busy = view.plan.current_scenario is not None
    if not busy:
        _refuse(can_fail_over_plan(view, points))
    _guard_read_only(ctx, "the plan failover")
    now = backend.now()
    summary = [f"Fail back the recovery plan {view.name} from Azure to AVS: {len(view.members)} VMs."]
    loss: float | None = None
    if choice is PointChoice.LATEST:
        summary.append("Latest: each VM fails over to its own newest point (least data loss).")
    else:
        summary.append("App-consistent: each replication group recovers to its common app-consistent point.")
        groups = plan_point_summary(view, points, now)
        summary.extend(g.explanation for g in groups)
        losses = [m.common_loss_seconds for g in groups for m in g.members if m.common_loss_seconds is not None]
        loss = max(losses, default=None)
    summary.append("ASR shuts the Azure VMs down and starts them in AVS, boot group by boot group.")
    if _show_command(ctx, "plan-failover", None, plan=view.plan, choice=choice):
        return 0
    if busy:
        preflight = "skipped: a job is running on the plan"
    else:
        preflight = _preflight_gate(
            ctx, lambda: check_plan(backend, view.plan, items, points_by_item=points), "the plan failover"
        )
    _confirm(ctx, summary, "yes", "Fail back the plan", "yes" if args.yes else None)
    if busy and backend.get_plan(view.plan.name).current_scenario is None:
        # the plan's job ended while the operator read the summary: the send now gets every check
        view, points, items = _plan_context(ctx)
        _refuse(can_fail_over_plan(view, points))
        preflight = _preflight_gate(
            ctx, lambda: check_plan(backend, view.plan, items, points_by_item=points), "the plan failover"
        )
    _plan_operation(ctx, "plan_unplanned_failover")
    started = ctx.operations().plan_failover(
        view.plan,
        choice,
        data_loss_seconds=loss,
        acknowledged_loss=choice is PointChoice.LATEST_APP_CONSISTENT,
    )
    if not started.attached:
        _note_preflight(ctx, started, preflight)
    _report_start(ctx, started, f"Failover of plan {view.name}")
    return _finish(ctx, started, {"preflight": preflight})


def cmd_plan_commit(ctx: _Context) -> int:
    from core.plans import can_commit_plan

    args = ctx.args
    view, _, _ = _plan_context(ctx)
    if view.plan.current_scenario is None:
        _refuse(can_commit_plan(view))
    _guard_read_only(ctx, "the plan commit")
    summary = [
        f"Commit the failover of the recovery plan {view.name} ({len(view.members)} VMs).",
        "ASR deletes every failed-over Azure VM of the plan. This cannot be undone.",
    ]
    if _show_command(ctx, "plan-commit", None, plan=view.plan):
        return 0
    # the plan's name or its friendly name, typed out in full, both say which plan is meant
    expected = view.plan.friendly_name if args.confirm and args.confirm == view.plan.friendly_name else view.plan.name
    _confirm(ctx, summary, expected, "Commit the plan", args.confirm)
    _plan_operation(ctx, "plan_commit")
    started = ctx.operations().plan_commit(view.plan)
    _report_start(ctx, started, f"Commit of plan {view.name}")
    return _finish(ctx, started)


_MEMBER_GLYPHS = {
    "pending": JobState.NOT_STARTED,
    "running": JobState.IN_PROGRESS,
    "waiting-for-agent": JobState.SUSPENDED,
    "protected": JobState.SUCCEEDED,
    "failed": JobState.FAILED,
    "blocked": JobState.CANCELLED,
}


def _plan_reprotect_refusal(view: PlanView) -> str:
    """Why the plan cannot be reprotected now ("" when it can): every VM committed, protected or on its way."""
    from core.plans import members_to_reprotect

    if not view.members:
        return f"The plan {view.name} holds no VM."
    if view.running_job_name:
        return f"A job ({view.running_job_name}) is running on the plan {view.name}; wait for it to finish."
    settled = (Stage.COMMITTED, Stage.REPROTECT_RUNNING, Stage.PROTECTED_TO_AZURE)
    early = [m for m in view.members if m.stage not in settled]
    if early:
        listed = "; ".join(f"{m.name}: {m.stage.label}" for m in early)
        return f"Reprotect follows the commit of every VM of {view.name} ({listed})."
    refused = [(i, can_reprotect(i)) for i in members_to_reprotect(view)]
    blocked = [f"{i.friendly_name}: {v.reason}" for i, v in refused if not v.allowed]
    if blocked:
        return "Not every VM can be reprotected now: " + "; ".join(blocked)
    if all(m.stage is Stage.PROTECTED_TO_AZURE for m in view.members):
        return f"Every VM of {view.name} is already protected to Azure: nothing to reprotect."
    return ""


def _progress_line(io: _Io, p: MemberProgress, attempt: int, now: datetime) -> str:
    line = f"  {_glyph(io, _MEMBER_GLYPHS[p.state.key])} {p.item_name}: {p.word}"
    if p.job_name and p.state.key in ("running", "protected", "failed"):
        line += f" (job {p.job_name})"
    if p.state.key == "waiting-for-agent" and p.next_retry_at is not None:
        wait = max(0.0, (p.next_retry_at - now).total_seconds())
        line += f", attempt {attempt} failed; retry in {_short_age(wait)}"
    return line


def _progress_json(p: MemberProgress, history: Sequence[str], sends: int) -> dict[str, Any]:
    return {
        "item": p.item_name,
        "item_id": p.item_id,
        "boot_group": p.group_index + 1,
        "state": p.state.key,
        "job_name": p.job_name or None,
        "jobs": list(history),
        "attempts": sends,
        "next_retry_at": _iso(p.next_retry_at),
        "last_error": p.last_error or None,
        "new_item_id": p.new_item_id or None,
    }


def _show_plan_reprotect(ctx: _Context, view: PlanView, target: ReprotectTarget, ps_name: str) -> int:
    """ASR has no plan-level reprotect for these VMs: the equivalent is one reprotect per committed VM."""
    from core.equivalents import equivalents
    from core.plans import members_to_reprotect

    backend, io = ctx.backend, ctx.io
    endpoint = getattr(backend, "arm_endpoint", "")
    params = {"arm_endpoint": endpoint, "target": target, "process_server_name": ps_name}
    shown = [
        (item, equivalents("reprotect", vault=backend.vault, item=item, **params))
        for item in members_to_reprotect(view)
    ]
    if io.json:
        io.emit_json(
            [
                {
                    "item": item.friendly_name,
                    "title": eq.title,
                    "rest": eq.rest,
                    "az": eq.az,
                    "powershell": eq.powershell,
                }
                for item, eq in shown
            ]
        )
        return 0
    for item, eq in shown:
        io.out(f"# ---- {item.friendly_name}")
        for heading, text in (("REST", eq.rest), ("Azure CLI", eq.az), ("Azure PowerShell", eq.powershell)):
            io.out(f"# {heading}")
            io.out_block(text)
            io.out("")
    io.out(f"# Reprotect of {len(shown)} VMs of {view.name}, one request each: nothing was sent.")
    return 0


def cmd_plan_reprotect(ctx: _Context) -> int:
    """Reprotect every committed VM of a plan to Azure as one step, retrying while their agents register."""
    from core.errors import JobFailed
    from core.plans import PlanReprotect

    args, io, backend = ctx.args, ctx.io, ctx.backend
    view, _, _ = _plan_context(ctx, points=False)
    refusal = _plan_reprotect_refusal(view)
    if refusal:
        raise NotAllowedNow(refusal, hint="Nothing was sent. `avs-failback plan PLAN` shows each VM's stage.")
    _guard_read_only(ctx, "the plan reprotect")
    moving = [m for m in view.members if m.stage is not Stage.PROTECTED_TO_AZURE]
    target, ps, mt_name = _reprotect_target(ctx, [m.item.master_target_id for m in moving], f"the plan {view.name}")
    health = ps.health or "unknown"
    summary = [
        f"Reprotect the recovery plan {view.name}: replicate its {len(moving)} VMs from AVS back to Azure "
        "(RecoveryToPrimary), one reprotect per VM.",
        f"Every VM goes through the process server {ps.friendly_name} (health {health}) and the master target "
        f"{mt_name}, so each replication group stays on one pair.",
        "A VM whose mobility agent has not registered back yet (up to "
        f"{int(AGENT_REGISTRATION_WINDOW.total_seconds() // 60)} minutes after it booted in AVS) is retried"
        + (" on a timer." if getattr(args, "wait", False) else " when you run this again with --wait."),
    ]
    if not ps.is_healthy:
        summary.append(f"Warning: the process server reports health {health!r}.")
    if getattr(args, "show_command", False):
        return _show_plan_reprotect(ctx, view, _with_policy_shown(ctx, target), ps.friendly_name)
    _confirm(ctx, summary, "yes", "Reprotect the plan", "yes" if args.yes else None)
    clock = ctx.clock or getattr(backend, "clock", None)
    waiting = bool(getattr(args, "wait", False))
    ctx.note(
        f"Reprotect of the recovery plan {view.name}: one reprotect per VM.",
        plan=view.plan.name,
        plan_id=view.plan.id,
        items=[m.item.friendly_name for m in moving],
        process_server_id=target.process_server_id,
        master_target_id=target.master_target_id,
    )
    runner = PlanReprotect(
        backend, view, target, clock=clock, retry_delay=AGENT_RETRY_SECONDS, operations=ctx.operations()
    )
    shown: dict[str, tuple[str, str, int]] = {}
    if not io.json:
        io.out(f"Reprotect of plan {view.name}:")

    def on_update(progress: list[MemberProgress]) -> None:
        journal = ctx.journal
        now = runner.clock.now()
        for p in progress:
            job = runner.tracker.jobs.get(p.job_name) if p.job_name else None
            if journal is not None and job is not None:
                journal.job_update(job)
            attempt = len(runner.attempts_of(p.item_name))
            key = (p.state.key, p.job_name, attempt)
            if io.json or shown.get(p.item_id) == key:
                continue
            shown[p.item_id] = key
            io.out(_clip(_progress_line(io, p, attempt, now), WIDTH))
            first_wait = p.state.key == "waiting-for-agent" and attempt == 1
            if p.last_error and (first_wait or p.state.key in ("failed", "blocked")):
                _say(io.out, p.last_error, "      ")

    if waiting:
        final = runner.run(on_update=on_update, timeout=getattr(args, "timeout", None))
    else:
        final = runner.step()
        on_update(final)
    if io.json:
        io.emit_json(
            {
                "plan": {"id": view.plan.id, "name": view.plan.name, "friendly_name": view.name},
                "process_server": ps.friendly_name,
                "master_target": mt_name,
                "waited": waiting,
                "all_protected": runner.all_protected,
                "members": [_progress_json(p, runner.attempts_of(p.item_name), p.attempts) for p in final],
            }
        )
    lost = [p for p in final if p.state.key in ("failed", "blocked")]
    if lost:
        names = ", ".join(p.item_name for p in lost)
        others = "" if len(lost) == len(final) else f"; the other VMs of {view.name} went on"
        raise JobFailed(
            f"The reprotect of {names} did not succeed{others}.",
            hint="Read the error under each VM, fix it, then run `avs-failback plan-reprotect` again: it follows "
            "the VMs already on their way and sends only the others.",
        )
    if not io.json:
        if runner.all_protected:
            io.out(f"Every VM of {view.name} is protected to Azure again.")
        elif not getattr(args, "wait", False):
            _say(
                io.out,
                "Follow the jobs with `avs-failback jobs`, or run this again with --wait to follow them and "
                "retry the VMs whose agents are still registering.",
            )
    return 0


# -- preflight -----------------------------------------------------------------------------------------------


def _preflight_json(report: PreflightReport, target_id: str = "") -> dict[str, Any]:
    return {
        "target": report.target_name,
        "target_id": target_id or None,
        "kind": report.kind,
        "worst": report.worst.word.lower(),
        "ok": report.ok,
        "summary": report.summary,
        "checks": [
            {"key": c.key, "title": c.title, "level": c.level.word.lower(), "detail": c.detail, "remedy": c.remedy}
            for c in report.checks
        ],
    }


def _preflight_lines(io: _Io, report: PreflightReport, *, passed: bool = True) -> list[str]:
    """The report at 80 columns: a check per entry, its remedy below; `passed=False` folds the PASS checks."""
    lines = _wrap(report.summary)
    folded = 0
    for check in report.checks:
        if check.level is Level.PASS and not passed:
            folded += 1
            continue
        glyph = check.level.glyph if io.unicode else check.level.ascii_glyph
        head = f"  {glyph} {check.level.word:<4} "
        lines += _hanging(f"{head}{check.title}: {check.detail}", len(head))
        if check.remedy and check.level is not Level.PASS:
            arrow = " " * len(head) + ("→ " if io.unicode else "-> ")
            lines += _hanging(arrow + check.remedy, len(arrow))
    if folded:
        lines.append(f"  ({folded} other check{'s' if folded != 1 else ''} passed)")
    return lines


def _hanging(text: str, indent: int) -> list[str]:
    # ids and paths stay whole so that they can be copied, even past 80 columns
    return textwrap.wrap(
        text, WIDTH, subsequent_indent=" " * indent, break_long_words=False, break_on_hyphens=False
    ) or [text]


def _preflight_gate(ctx: _Context, run: Callable[[], PreflightReport], what: str) -> str:
    """Run the preflight before a failover; refuse on FAIL with the report. Returns what the journal records."""
    if getattr(ctx.args, "skip_preflight", False):
        return "skipped"
    io = ctx.io
    report = run()
    if not report.ok:
        if io.json:
            io.emit_json({"preflight": _preflight_json(report)})
        else:
            for line in _preflight_lines(io, report, passed=False):
                io.err(line)
        fails = len(report.failures)
        raise NotAllowedNow(
            f"The preflight found {fails} blocking problem{'s' if fails != 1 else ''}: {what} was not sent.",
            hint="Fix what the report says and run the command again (`avs-failback preflight` re-checks), or "
            "pass --skip-preflight to send it anyway.",
        )
    if report.warnings and not io.json:
        titles = ", ".join(c.title for c in report.warnings)
        _say(io.err, f"preflight: {report.summary} ({titles}); `avs-failback preflight` shows the remedies.")
    return report.worst.word.lower()


def cmd_preflight(ctx: _Context) -> int:
    """Read-only: pass / warn / fail for an item, a plan or the whole vault; exit 4 when anything fails."""
    from core.plans import resolve_plan

    args, io, backend = ctx.args, ctx.io, ctx.backend
    if getattr(args, "all", False):
        if args.target:
            raise UsageError("Give an item or a plan, or --all, not both.")
        reports = check_vault(backend)
        worst = Level.worst_of(r.worst for r in reports)
        if io.json:
            io.emit_json(
                {
                    "vault": backend.vault.arm_id,
                    "time": _iso(backend.now()),
                    "worst": worst.word.lower(),
                    "reports": [_preflight_json(r) for r in reports],
                }
            )
        elif not reports:
            io.out("Nothing to check: no item is ready to fail back and the vault has no recovery plan.")
        else:
            for report in reports:
                for line in _preflight_lines(io, report, passed=False):
                    io.out(line)
                io.out("")
            ready = sum(1 for r in reports if r.ok and not r.via_plan)
            with_plan = sum(1 for r in reports if r.via_plan)
            _say(
                io.out,
                f"{len(reports)} checked: {ready} ready, {with_plan} with their plan, "
                f"{len(reports) - ready - with_plan} not ready.",
            )
        return NotAllowedNow.exit_code if worst is Level.FAIL else 0
    if not args.target:
        raise UsageError("Name an item or a plan to check, or pass --all.")
    items = _all_items(backend)
    plans = backend.list_plans()
    found_item: ProtectedItem | None = None
    found_plan: RecoveryPlan | None = None
    try:
        found_item = resolve_item(items, args.target)
    except NotFound:
        pass
    try:
        found_plan = resolve_plan(plans, args.target)
    except NotFound:
        pass
    if found_item is not None and found_plan is not None:
        raise UsageError(
            f"{args.target!r} names both a replicated item and a recovery plan.",
            hint=f"Pass the ARM id of the one to check: {found_item.id} or {found_plan.id}.",
        )
    if found_plan is not None:
        report, target_id = check_plan(backend, found_plan, items), found_plan.id
    elif found_item is not None:
        report, target_id = check_item(backend, found_item, plans=plans), found_item.id
    else:
        raise NotFound(
            f"No replicated item or recovery plan named {args.target!r} in this vault.",
            hint="`avs-failback items` and `avs-failback plans` list the names.",
        )
    if io.json:
        io.emit_json(_preflight_json(report, target_id))
    else:
        for line in _preflight_lines(io, report):
            io.out(line)
    # A VM that fails back only with its plan is not refused by the check, but a failover of it alone would be.
    return 0 if report.ok and not report.via_plan else NotAllowedNow.exit_code


def cmd_report(ctx: _Context) -> int:
    """The session journal as an incident timeline; needs no vault and sends nothing."""
    from core.report import render_report

    args = ctx.args
    since = None
    if getattr(args, "since", None):
        try:
            since = datetime.fromisoformat(args.since.replace("Z", "+00:00"))
        except ValueError:
            raise UsageError(f"--since {args.since!r} is not an ISO-8601 time (e.g. 2026-11-25T02:00Z).") from None
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
    if ctx.journal is None and getattr(args, "demo", False):
        # The operator's journal on disk is about real vaults: never shown as if it were this demo's.
        ctx.io.err(
            "The demo keeps no journal: each --demo command runs a simulated vault of its own and writes nothing "
            "to disk. Training sessions export their own report (E in `avs-failback train`)."
        )
        return 0
    journal = ctx.journal or Journal()
    fmt = "json" if ctx.io.json else args.format
    text = render_report(journal.entries(), fmt=fmt, since=since)
    if getattr(args, "output", None):
        path = Path(args.output)
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"Cannot write the report to {path}: {exc.strerror}.") from None
        ctx.io.err(f"Report written to {path}")
    else:
        _write(ctx.io.stdout, block(text), end="")
    return 0


def cmd_capture(ctx: _Context) -> int:
    """The configured vault as an emulator scenario (reads only): a classroom, or a reproduction to send."""
    import json

    from core.capture import Masker, capture

    args = ctx.args
    masker = None
    salt = args.salt or (ctx.env if ctx.env is not None else os.environ).get("AVS_FAILBACK_CAPTURE_SALT", "")
    if args.mask:
        masker = Masker(salt) if salt else Masker()
        if not salt:
            ctx.io.err(
                "note: no salt given: these pseudonyms are this capture's own. Give the same --salt (or "
                "AVS_FAILBACK_CAPTURE_SALT) to get the same pseudonyms in every capture."
            )
    elif args.salt:
        raise UsageError("--salt goes with --mask: it is what makes the pseudonyms stable.")
    doc = capture(ctx.backend, masker=masker)
    if args.output in (None, "-"):
        ctx.io.emit_json(doc)
        return 0
    path = Path(args.output)
    text = json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
    try:
        # The file describes an estate (unless masked): readable by its owner only.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
    except OSError as exc:
        raise UsageError(f"Cannot write the scenario to {path}: {exc.strerror or exc}.") from None
    counts = f"{len(doc['items'])} items, {len(doc['plans'])} plans, {len(doc['jobs'])} finished jobs"
    masked = " (names masked)" if masker is not None else ""
    ctx.io.err(f"Scenario written to {path}{masked}: {counts}.")
    ctx.io.err(f"Play it: avs-failback demo --scenario {path}")
    ctx.io.err(f"Check it as a lesson: avs-failback train --check {path}")
    return 0


def cmd_resume(ctx: _Context) -> int:
    """After a dropped session: resolve what the journal left in flight, and with --wait follow it to its end."""
    from core.errors import JobFailed
    from core.resume import ABANDONED, resume
    from core.tracker import JobTracker

    io, backend = ctx.io, ctx.backend
    clock = ctx.clock or getattr(backend, "clock", None)
    who = getattr(backend, "signed_in_as", None)
    journal = ctx.journal or Journal(clock=clock, vault=backend.vault, who=who() if callable(who) else "")
    tracker = JobTracker(backend, clock)
    results = resume(backend, journal, tracker)
    if not io.json:
        if not results:
            io.out("Nothing in flight in the journal for this vault: nothing to resume.")
        for result in results:
            _say_whole(io.out, result.text)
    ends: dict[str, Job] = {}
    failed: list[str] = []
    gone: list[str] = []

    def record_gone(job_name: str, error: NotFound) -> None:
        # A job ASR no longer knows would be "in flight" for ever: it is recorded as gone, and the others go on.
        gone.append(job_name)
        journal.job_gone(job_name, error.message)
        if not io.json:
            _say_whole(io.out, f"Job {job_name} is no longer known to ASR ({error.message}); recorded as gone.")

    followed = list(dict.fromkeys(r.job_name for r in results if r.how != ABANDONED and r.job_name))
    if followed and not getattr(ctx.args, "wait", False):
        # one read, so that jobs which ended while nobody watched are recorded and leave the in-flight list
        for job in tracker.poll():
            journal.job_update(job)
        for name in followed:
            if name in tracker.gone:
                record_gone(name, tracker.gone[name])
        ends = {name: tracker.jobs[name] for name in followed if name in tracker.jobs}
        if not io.json:
            for job in ends.values():
                _say_whole(io.out, _job_outcome(job))
            _say(io.out, "Follow them to their end with `avs-failback resume --wait` or `avs-failback jobs`.")
    if getattr(ctx.args, "wait", False):
        for job_name in followed:
            try:
                ends[job_name] = _follow(ctx, tracker, journal, job_name)
            except NotFound as exc:
                record_gone(job_name, exc)
                continue
            except JobFailed as exc:
                # one failed job must not leave the others unfollowed: report it and carry on
                failed.append(job_name)
                if not io.json:
                    _print_error(io, exc)
                ends[job_name] = backend.get_job(job_name)
            if not io.json:
                _say_whole(io.out, _job_outcome(ends[job_name]))
    if io.json:
        io.emit_json(
            {
                "vault": backend.vault.arm_id,
                "resumed": [
                    {
                        "how": r.how,
                        "text": r.text,
                        "operation": r.operation,
                        "target_id": r.target_id,
                        "target_name": r.target_name,
                        "intent_id": r.intent_id or None,
                        "job_name": r.job_name,
                        "job": _job_json(ends[r.job_name]) if r.job_name in ends else None,
                    }
                    for r in results
                ],
                "failed_jobs": failed,
                "gone_jobs": gone,
            }
        )
    return JobFailed.exit_code if failed else 0


def _job_outcome(job: Job) -> str:
    # a job read just after it was created may not carry its names yet
    what = f" ({job.title})" if job.friendly_name or job.scenario_name else ""
    return f"Job {job.name}{what}: {job.state.word}."


def _follow(ctx: _Context, tracker: JobTracker, journal: Journal, job_name: str) -> Job:
    """One re-attached job to its end on the resume's tracker, each state journaled once."""
    timeout = getattr(ctx.args, "timeout", None)

    def on_update(job: Job) -> None:
        _tell(ctx, job)
        journal.job_update(job)

    return tracker.wait(job_name, on_update=on_update, timeout=timeout)


def cmd_train(ctx: _Context) -> int:
    """`train --list` and `train --check FILE`; `train` alone opens the training dashboard (tui.main)."""
    from core.training import check_file, list_training, load_training

    args, io = ctx.args, ctx.io
    if getattr(args, "check", None):
        problems = check_file(args.check)
        if io.json:
            io.emit_json({"file": str(args.check), "valid": not problems, "problems": problems})
        elif problems:
            for problem in problems:
                io.err(problem)
        else:
            io.out(f"{args.check}: a valid training scenario ({load_training(args.check).title})")
        return UsageError.exit_code if problems else 0
    if not getattr(args, "list", False):
        raise UsageError(
            "Usage: avs-failback train [--list [--json] | --check FILE]",
            hint="Without options, `avs-failback train` opens the training dashboard on a terminal.",
        )
    lessons = list_training()
    if io.json:
        io.emit_json(
            [
                {
                    "name": t.name,
                    "title": t.title,
                    "brief": t.brief,
                    "goals": list(t.goals),
                    "focus": list(t.focus_items),
                    "plan": t.plan,
                    "expected_point": t.expected_point,
                    "ends_after": t.ends_after,
                    "level": t.level,
                    "minutes": t.minutes or None,
                }
                for t in lessons
            ]
        )
        return 0
    for t in lessons:
        io.out(f"{t.name}  {t.title} ({t.length})")
        io.out(f"    {t.brief}")
        for goal in t.goals:
            io.out(f"    - {goal}")
        io.out()
    io.out("Start one: avs-failback train (a picker), or avs-failback train --scenario NAME")
    return 0


def cmd_emulator(ctx: _Context) -> int:
    args = ctx.args
    if getattr(args, "emulator_command", None) != "serve":
        raise UsageError("Usage: avs-failback emulator serve [--scenario S] [--port N] [--speed X]")
    import core.emulator as emulator

    scenario = getattr(args, "scenario", None) or "demo"
    extra = {"fleet": args.fleet} if getattr(args, "fleet", None) else {}
    try:
        emulator.serve(scenario, port=args.port, speed=getattr(args, "speed", None) or 30.0, **extra)
    except emulator.ScenarioError as exc:
        raise UsageError(
            f"Cannot serve the scenario: {one_line(exc, 400)}",
            hint="`avs-failback train --check FILE` lists what is wrong with a file; bundled: "
            + ", ".join(s.name for s in emulator.list_scenarios()),
        ) from None
    except OSError as exc:
        if exc.errno not in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            raise
        raise UsageError(
            f"Cannot listen on 127.0.0.1:{args.port}: {exc.strerror or exc}.",
            hint="Pick another port with --port N (1024 or above needs no privileges).",
        ) from None
    return 0


# -- parser --------------------------------------------------------------------------------------------------


def _common_options(fleet: bool = False) -> argparse.ArgumentParser:
    """Options accepted before or after the command (defaults suppressed so a later copy does not reset them).

    `fleet`: the fleet's --subscription names the subscriptions to read (repeatable), not a vault's."""
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    vault = common.add_argument_group("vault and sign-in")
    vault.add_argument("--vault-id", metavar="ARM_ID", help="the Recovery Services vault's resource id")
    if fleet:
        vault.add_argument(
            "--subscription", action="append", metavar="ID", help="a subscription to read (repeat for several)"
        )
    else:
        vault.add_argument(
            "--subscription", metavar="ID", help="subscription of the vault (with --resource-group, --vault)"
        )
    vault.add_argument("--resource-group", metavar="NAME", help="resource group of the vault")
    vault.add_argument("--vault", metavar="NAME", help="vault name")
    vault.add_argument("--profile", metavar="NAME", help="a [profiles.NAME] table of the config file")
    vault.add_argument("--device-code", action="store_true", help="sign in with a device code (SSH sessions)")
    vault.add_argument("--auth", choices=("default", "device-code", "cli", "token"), help="how to sign in")
    vault.add_argument("--tenant", metavar="ID", help="Microsoft Entra tenant to sign in to")
    vault.add_argument("--arm-endpoint", metavar="URL", help="ARM endpoint (sovereign cloud, emulator)")
    vault.add_argument("--ca-bundle", metavar="PEM", help="CA bundle to trust for the ARM endpoint")
    vault.add_argument("--read-only", action="store_true", help="refuse every change to the vault")
    vault.add_argument("--demo", action="store_true", help="use the built-in simulated vault (no Azure)")
    vault.add_argument("--scenario", metavar="NAME", help="emulator scenario (with --demo or emulator serve)")
    vault.add_argument("--speed", type=numbers.speed, metavar="X", help="simulated seconds per real second (demo)")
    vault.add_argument(
        "--fleet", metavar="NAME", help="with --demo: the emulated fleet NAME (and --vault-id: one vault)"
    )
    common.add_argument("--json", action="store_true", help="machine-readable output (stable keys, UTC times)")
    told = common.add_argument_group("being told when a job ends (with --wait, --watch)")
    told.add_argument("--notify-command", metavar="CMD", help="run CMD with each event as JSON on its standard input")
    told.add_argument(
        "--notify-desktop",
        choices=("auto", "osc9", "osc777", "off"),
        help="a desktop notification through the terminal (auto: only where the terminal is known to show it)",
    )
    told.add_argument("--no-bell", action="store_true", help="do not ring the terminal bell")
    return common


def _sending_options(p: argparse.ArgumentParser, wait_help: str = "follow the job to its end") -> None:
    """What every command that sends an action takes: follow it, for how long, and show its equivalents."""
    p.add_argument("--wait", action="store_true", help=wait_help)
    p.add_argument(
        "--timeout", type=numbers.seconds, metavar="SECONDS", help="with --wait: give up waiting after this long"
    )
    p.add_argument("--show-command", action="store_true", help=SHOW_HELP)


def _reprotect_target_options(p: argparse.ArgumentParser, master_help: str) -> None:
    """Where a reprotect sends data from: the process server, master target, run-as account and policy."""
    p.add_argument(
        "--process-server",
        "--appliance",
        dest="process_server",
        required=True,
        metavar="NAME",
        help="process server that sends data to Azure (a modernized VM: the replication appliance)",
    )
    p.add_argument("--master-target", metavar="NAME", help=master_help)
    p.add_argument("--run-as-account", metavar="ID", help="run-as account id (default: the fabric's first)")
    p.add_argument("--policy", metavar="ARM_ID", help="replication policy for AVS → Azure (default: the vault's)")


def build_parser() -> argparse.ArgumentParser:
    common = _common_options()
    parser = argparse.ArgumentParser(
        prog="avs-failback",
        parents=[common],
        description="Fail VMware VMs back from Azure to Azure VMware Solution with Azure Site Recovery.",
        epilog="Exit codes: 0 done, 1 unexpected error (a bug), 2 usage, 3 operation failed, 4 not allowed now, "
        "5 not found, 6 sign-in, 130 interrupted.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("items", parents=[common], help="list the replicated items and their stage")
    p.add_argument("--filter", metavar="TEXT", help="only items whose name or group contains TEXT")
    p.add_argument("--stage", metavar="KEY", help="only items in this stage: " + ", ".join(s.key for s in Stage))
    p.set_defaults(run=cmd_items)

    p = sub.add_parser("points", parents=[common], help="recovery points of an item and what each loses")
    p.add_argument("item", metavar="ITEM", help="friendly name, item name or ARM id")
    p.add_argument("--limit", type=numbers.count, default=12, metavar="N", help="list the newest N points (default 12)")
    p.add_argument("--all", action="store_true", help="list every point")
    p.set_defaults(run=cmd_points)

    p = sub.add_parser("failover", parents=[common], help="fail an item back from Azure to AVS")
    p.add_argument("item", metavar="ITEM")
    # Not required by argparse: without it the command lists the item's choices with their loss, not the usage.
    p.add_argument("--point", metavar="latest|app-consistent|POINT_ID")
    p.add_argument("--yes", action="store_true", help="do not ask: the point's data loss is accepted")
    p.add_argument("--skip-preflight", action="store_true", help="send even when the preflight finds a problem")
    _sending_options(p)
    p.set_defaults(run=cmd_failover)

    p = sub.add_parser("commit", parents=[common], help="commit a failover (deletes the Azure VM)")
    p.add_argument("item", metavar="ITEM")
    p.add_argument("--confirm", metavar="ITEM", help="the item's name again, typed out")
    _sending_options(p)
    p.set_defaults(run=cmd_commit)

    p = sub.add_parser(
        "cancel",
        parents=[common],
        help="cancel a finished planned failover (modernized VMs): back to the Azure VM (for a job: job NAME --cancel)",
    )
    p.add_argument("item", metavar="ITEM")
    p.add_argument("--yes", action="store_true")
    _sending_options(p)
    p.set_defaults(run=cmd_cancel)

    p = sub.add_parser("reprotect", parents=[common], help="replicate a committed item from AVS to Azure")
    p.add_argument("item", metavar="ITEM")
    _reprotect_target_options(p, master_help="master target (default: the item's, or the first)")
    p.add_argument("--datastore", metavar="NAME", help="a modernized VM in Azure: the AVS datastore (default: its own)")
    p.add_argument(
        "--log-storage-account", metavar="ARM_ID", help="a modernized VM in Azure: storage account for the logs"
    )
    p.add_argument("--failback-policy", metavar="ARM_ID", help="a modernized VM in Azure: the failback policy")
    p.add_argument("--yes", action="store_true")
    p.add_argument("--no-retry", action="store_true", help="with --wait: do not retry agent-registration failures")
    _sending_options(p, wait_help="follow the job; retry while the agent registers")
    p.set_defaults(run=cmd_reprotect)

    p = sub.add_parser("jobs", parents=[common], help="list Site Recovery jobs")
    p.add_argument("--state", metavar="S", help="NotStarted, InProgress, Succeeded, Failed, Cancelled, Suspended")
    p.set_defaults(run=cmd_jobs)

    p = sub.add_parser("job", parents=[common], help="one job with its tasks and errors")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--watch", action="store_true", help="follow the job until it ends")
    act = p.add_mutually_exclusive_group()
    act.add_argument("--cancel", action="store_true", help="cancel the running job")
    act.add_argument("--restart", action="store_true", help="run a failed or cancelled job again")
    act.add_argument("--resume", action="store_true", help="continue a job waiting on a manual action")
    p.add_argument("--comment", metavar="TEXT", help="with --resume: what was done by hand")
    p.add_argument("--yes", action="store_true", help="with an action: do not ask")
    p.add_argument("--wait", action="store_true", help="with an action: follow the job it starts")
    p.add_argument("--timeout", type=numbers.seconds, metavar="SECONDS")
    p.set_defaults(run=cmd_job)

    p = sub.add_parser("plans", parents=[common], help="list the recovery plans and their members' stages")
    p.set_defaults(run=cmd_plans)

    p = sub.add_parser("plan", parents=[common], help="one plan: boot groups, points, manual actions, next step")
    p.add_argument("plan", metavar="PLAN", help="friendly name, name or ARM id of the plan")
    p.set_defaults(run=cmd_plan)

    p = sub.add_parser("plan-failover", parents=[common], help="fail a whole recovery plan back to AVS")
    p.add_argument("plan", metavar="PLAN")
    p.add_argument("--point", metavar="latest|app-consistent")
    p.add_argument("--yes", action="store_true")
    p.add_argument("--skip-preflight", action="store_true", help="send even when the preflight finds a problem")
    _sending_options(p)
    p.set_defaults(run=cmd_plan_failover)

    p = sub.add_parser("plan-commit", parents=[common], help="commit a plan's failover (deletes the Azure VMs)")
    p.add_argument("plan", metavar="PLAN")
    p.add_argument("--confirm", metavar="PLAN", help="the plan's name again, typed out")
    _sending_options(p)
    p.set_defaults(run=cmd_plan_commit)

    p = sub.add_parser("plan-reprotect", parents=[common], help="reprotect every committed VM of a plan to Azure")
    p.add_argument("plan", metavar="PLAN")
    _reprotect_target_options(p, master_help="master target for every VM (default: the one they use)")
    p.add_argument("--yes", action="store_true")
    _sending_options(p, wait_help="follow every VM; retry while their agents register")
    p.set_defaults(run=cmd_plan_reprotect)

    p = sub.add_parser("preflight", parents=[common], help="read-only checks before a failback, with remedies")
    p.add_argument("target", nargs="?", metavar="ITEM|PLAN", help="an item or a recovery plan")
    p.add_argument("--all", action="store_true", help="every item ready to fail back and every plan")
    p.set_defaults(run=cmd_preflight)

    p = sub.add_parser(
        "resume", parents=[common], help="after a dropped session: follow again what the journal left in flight"
    )
    p.add_argument("--wait", action="store_true", help="follow the jobs found to their end")
    p.add_argument(
        "--timeout", type=numbers.seconds, metavar="SECONDS", help="give up waiting on a job after this long"
    )
    p.set_defaults(run=cmd_resume)

    p = sub.add_parser("report", parents=[common], help="the session journal as an incident timeline")
    p.add_argument("--format", choices=("md", "json"), default="md")
    p.add_argument("--since", metavar="ISO_TIME", help="only what happened from then on")
    p.add_argument("--output", metavar="FILE", help="write to FILE instead of standard output")
    p.set_defaults(run=cmd_report)

    p = sub.add_parser(
        "capture", parents=[common], help="write the vault as an emulator scenario (reads only; --mask for names)"
    )
    p.add_argument("-o", "--output", metavar="FILE", help="the scenario file to write (default: standard output)")
    p.add_argument("--mask", action="store_true", help="replace every name, address and id by a stable pseudonym")
    p.add_argument("--salt", metavar="TEXT", help="with --mask: the same salt gives the same pseudonyms")
    p.set_defaults(run=cmd_capture)

    p = sub.add_parser("train", parents=[common], help="training lessons: --list, --check FILE (alone: the dashboard)")
    p.add_argument("--list", action="store_true", help="the bundled lessons with their brief and goals")
    p.add_argument("--check", metavar="FILE", help="validate a training scenario file (exit 2 with what is wrong)")
    p.set_defaults(run=cmd_train)

    from core.fleet_cli import add_parser as add_fleet

    add_fleet(sub, _common_options(fleet=True))

    p = sub.add_parser("emulator", help="the ARM emulator (a simulated vault)")
    emu = p.add_subparsers(dest="emulator_command", metavar="serve")
    serve = emu.add_parser("serve", help="serve the emulator over HTTPS on loopback")
    serve.add_argument("--scenario", default="demo", metavar="NAME")
    serve.add_argument("--port", type=numbers.port, default=8443, metavar="N")
    serve.add_argument("--speed", type=numbers.speed, default=30.0, metavar="X")
    serve.add_argument("--fleet", metavar="NAME", help="serve a fleet of vaults (with Resource Graph) instead")
    p.set_defaults(run=cmd_emulator)
    return parser


def _stream_is_unicode(stream: IO[str]) -> bool:
    encoding = (getattr(stream, "encoding", None) or "utf-8").lower()
    return "utf" in encoding


def main(
    argv: list[str] | None = None,
    *,
    backend: Backend | None = None,
    clock: Clock | None = None,
    env: Mapping[str, str] | None = None,
    config_path: Path | None = None,
    stdin: IO[str] | None = None,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
    journal: Journal | None = None,
) -> int:
    """Run one command; returns the exit code. `backend`/`clock` let tests and the TUI reuse a vault."""
    out = stdout or sys.stdout
    io = _Io(stdin or sys.stdin, out, stderr or sys.stderr, unicode=_stream_is_unicode(out))
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed the usage
        return 0 if exc.code in (0, None) else UsageError.exit_code
    io.json = bool(getattr(args, "json", False))
    run = getattr(args, "run", None)
    if run is None:
        parser.print_help(io.stdout)
        return UsageError.exit_code

    def factory() -> Backend:
        if backend is not None:
            return backend
        from core.bootstrap import build_backend
        from core.config import resolve_settings

        settings = resolve_settings(args, env=env, config_path=config_path)
        for notice in settings.notices:
            io.err(f"note: {notice}")
        built: Backend = build_backend(settings, clock=clock)
        return built

    ctx = _Context(
        args=args,
        io=io,
        backend_factory=factory,
        clock=clock,
        journal=journal,
        backend_given=backend is not None,
        env=env,
        config_path=config_path,
    )
    try:
        code: int = run(ctx)
        io.stdout.flush()  # here, not at exit: a reader gone away (`| head`) is answered below
        return code
    except BrokenPipeError:
        _stop_writing(io.stdout)
        return 141  # as a process killed by SIGPIPE: the reader of the output stopped reading
    except KeyboardInterrupt:
        io.err("Interrupted. Anything already sent keeps running in ASR: see `avs-failback jobs`.")
        return 130
    except Exception as exc:  # the boundary: every failure leaves as a documented code and clear words
        error = failure(exc)
        if debugging() and not isinstance(exc, FailbackError):
            for line in traceback.format_exception(exc):
                io.err(line.rstrip("\n"))
        _print_error(io, error)
        _keep_whole(ctx, error)
        return error.exit_code


def _keep_whole(ctx: _Context, error: FailbackError) -> None:
    """An error too long for the screen (ARM's text can be megabytes) goes whole into this run's journal."""
    if message(error.message) == one_line(error.message) or ctx.journal is None:
        return
    try:
        ctx.journal.note(f"Error, in full: {error.message}", error_type=type(error).__name__)
    except (OSError, ValueError):
        return  # the journal refuses or cannot take it: the screen already said what matters
    ctx.io.err("  (the whole message is in the journal: `avs-failback report`)")


def _stop_writing(stream: IO[str]) -> None:
    """The reader of `stream` went away: point it at /dev/null, so that Python's flush at exit finds nothing to say."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


__all__ = ["build_parser", "main"]
