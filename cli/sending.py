"""What every command that sends an action shares: the point choices, --show-command, following a job, notifying."""

from __future__ import annotations

import argparse
import os
import textwrap
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from cli.context import WIDTH, Context
from cli.output import clip, glyph, say_whole
from cli.shapes import handle_json, job_json
from core import numbers
from core.errors import FailbackError, NotAllowedNow, NotFound, UsageError
from core.model import (
    Job,
    JobState,
    OperationHandle,
    PointChoice,
    ProtectedItem,
    RecoveryPoint,
)
from core.operations import Started
from core.recovery import (
    PointOption,
    custom_option,
    duration,
    point_options,
)
from core.rehearsal import rehearsed_for
from core.sanitize import json_text, one_line

SHOW_HELP = "print the equivalent REST call, az and PowerShell commands; send nothing"


def show_command(ctx: Context, op: str, item: ProtectedItem | None, **params: Any) -> bool:
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


def point_choices(item: ProtectedItem, points: Sequence[RecoveryPoint], now: datetime) -> str:
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


def type_choices(item: ProtectedItem, options: Sequence[PointOption]) -> str:
    """What --point can be for a stack whose failover takes a type of point: each type with what it gives up."""
    lines = [f"--point is needed. The choices for {item.friendly_name} (a type of point, made or picked by ASR):"]
    for option in options:
        lines.append(f"  {option.choice.value:<15} {option.headline}")
        lines += [f"  {'':<15} {line}" for line in textwrap.wrap(option.tradeoff, WIDTH - 22)]
    return "\n".join(lines)


def plan_point_choices(view: Any, points: Any, now: datetime) -> str:
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


def choose_point(spec: str, points: Sequence[RecoveryPoint], now: datetime) -> tuple[PointOption, str]:
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


def _notifier(ctx: Context) -> Any:
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
            warn=ctx.io.note,
        )
    return ctx.notifier


def tell(ctx: Context, job: Job) -> None:
    """A followed job that ended or waits for the operator is said outside the terminal's text too."""
    from core.notify import job_event

    backend = ctx.backend
    event = job_event(job, backend.now(), vault=backend.vault.name, simulated=bool(backend.simulated))
    if event is not None:
        _notifier(ctx).notify(event)


def wait(ctx: Context, handle: OperationHandle) -> Job:
    from core.tracker import JobTracker

    io = ctx.io
    seen: dict[str, JobState] = {}

    journal = ctx.journal

    def on_update(job: Job) -> None:
        tell(ctx, job)
        if journal is not None:
            journal.job_update(job)
        if io.json:
            return
        for task in job.tasks:
            if seen.get(task.task_id or task.name) is task.state:
                continue
            seen[task.task_id or task.name] = task.state
            word = "Skipped" if task.skipped else task.state.word
            io.out(clip(f"  {glyph(io, task.state)} {task.friendly_name or task.name}: {word}", WIDTH))

    tracker = JobTracker(ctx.backend, ctx.clock)
    timeout = getattr(ctx.args, "timeout", None)
    return tracker.wait(handle.job_name, on_update=on_update, timeout=timeout)


def report_start(ctx: Context, started: Started, what: str) -> None:
    """Say what was started, or, when a job already held the target, that nothing was sent and whose job it is."""
    handle = started.handle
    if ctx.io.json:
        return
    rehearsed = rehearsed_for(ctx.backend, handle.job_name)
    if started.attached:
        say_whole(ctx.io.out, f"Attached, nothing sent: {started.note}")
    elif rehearsed is not None:
        # The request the tool would have sent, whole: what the rehearsal is for (the journal keeps it too).
        say_whole(ctx.io.out, started.note)
        ctx.io.out(f"  {rehearsed.method} {one_line(rehearsed.url, 400)}")
        if rehearsed.call:
            ctx.io.out(f"  SDK: {rehearsed.call}")
        body = "(no body)" if rehearsed.body is None else json_text(rehearsed.body, sort_keys=True, indent=2)
        for line in body.splitlines():
            ctx.io.out(f"  {one_line(line, 400)}")
        if not getattr(ctx.args, "wait", False):
            ctx.io.out("The simulated job lives only as long as this command: add --wait to follow it to its end.")
            return
    else:
        ctx.io.out(f"{what} started: job {handle.job_name}")
    if getattr(ctx.args, "demo", False) and not getattr(ctx.args, "wait", False):
        # Each --demo command runs a simulated vault of its own: another command would not find this job.
        ctx.io.out("The demo vault lives only as long as this command: add --wait to follow the job to its end.")
    elif not getattr(ctx.args, "wait", False):
        ctx.io.out(f"Follow it with: avs-failback job {handle.job_name} --watch")


def finish(ctx: Context, started: Started, extra: Mapping[str, Any] | None = None) -> int:
    io, handle = ctx.io, started.handle
    job = wait(ctx, handle) if getattr(ctx.args, "wait", False) else None
    if io.json:
        data: dict[str, Any] = {
            "handle": handle_json(handle),
            "job": job_json(job) if job else None,
            "attached": started.attached,
            "note": started.note,
        }
        data.update(extra or {})
        io.emit_json(data)
    elif job is not None:
        io.out(f"Job {job.name}: {job.state.word}.")
    return 0


def is_busy(item: ProtectedItem) -> bool:
    """A job already runs on the item: the operation attaches to it rather than being refused by the CLI."""
    return item.current_scenario is not None


def choose_type(spec: str, options: Sequence[PointOption]) -> tuple[PointOption, str]:
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


def sending_options(p: argparse.ArgumentParser, wait_help: str = "follow the job to its end") -> None:
    """What every command that sends an action takes: follow it, for how long, and show its equivalents."""
    p.add_argument("--wait", action="store_true", help=wait_help)
    p.add_argument(
        "--timeout", type=numbers.seconds, metavar="SECONDS", help="with --wait: give up waiting after this long"
    )
    p.add_argument("--show-command", action="store_true", help=SHOW_HELP)
