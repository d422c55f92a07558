"""Jobs: `jobs` and `job` (watch, cancel, restart, resume a manual action)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from cli.cache import remember
from cli.context import WIDTH, Context, Io
from cli.options import Commands
from cli.output import clip, confirm, detail_lines, glyph, guard_read_only, iso, say, short_age, table
from cli.sending import finish, report_start, wait
from cli.shapes import job_json
from core import numbers
from core.errors import NotAllowedNow, UsageError
from core.model import (
    Job,
    JobFilter,
    JobState,
    JobTask,
    OperationHandle,
)
from core.recovery import (
    format_time,
)


def _parse_state(value: str) -> str:
    for state in JobState:
        if state is not JobState.OTHER and state.value.lower() == value.strip().lower():
            return str(state.value)
    choices = ", ".join(s.value for s in JobState if s is not JobState.OTHER)
    raise UsageError(f"Unknown job state {value!r}; one of: {choices}.")


def cmd_jobs(ctx: Context) -> int:
    args, io, backend = ctx.args, ctx.io, ctx.backend
    job_filter = JobFilter(states=(_parse_state(args.state),)) if getattr(args, "state", None) else None
    jobs = backend.list_jobs(job_filter)
    jobs.sort(key=lambda j: j.start_time or datetime.min.replace(tzinfo=UTC), reverse=True)
    if not getattr(args, "state", None):
        remember(ctx, jobs=[j.name for j in jobs[:50]])
    if io.json:
        io.emit_json({"time": iso(backend.now()), "jobs": [job_json(j) for j in jobs]}, rows="jobs")
        return 0
    if not jobs:
        io.out("No jobs.")
        return 0
    now = backend.now()
    rows = []
    for job in jobs:
        age = (now - job.start_time).total_seconds() if job.start_time else None
        rows.append([job.name, f"{glyph(io, job.state)} {job.state.word}", short_age(age), job.title])
    for line in table(["JOB", "STATE", "AGE", "WHAT"], rows, [36, 13, 6, 40], width=io.width):
        io.out(line)
    return 0


def _print_job(io: Io, job: Job, now: datetime) -> None:
    io.out(clip(f"{job.title}", WIDTH))
    io.out(f"Job {job.name}: {glyph(io, job.state)} {job.state.word}")
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
                took = short_age((task.end_time - task.start_time).total_seconds())
            rows.append([f"{glyph(io, task.state)} {word}", took, task.friendly_name or task.name])
        for line in table(["STATE", "TOOK", "TASK"], rows, [14, 8, 54]):
            io.out(line)
    errors = list(job.errors) or [e for t in _flatten(job.tasks) for e in t.errors]
    if errors:
        io.out("")
        io.out("Errors:")
        for detail in errors:
            for line in detail_lines(detail):
                say(io.out, line, "  ")
    if job.allowed_actions:
        io.out("")
        io.out("Possible now: " + ", ".join(job.allowed_actions))


def _flatten(tasks: Iterable[JobTask]) -> list[JobTask]:
    out: list[JobTask] = []
    for task in tasks:
        out.append(task)
        out.extend(_flatten(task.child_tasks))
    return out


def cmd_job(ctx: Context) -> int:
    args, io, backend = ctx.args, ctx.io, ctx.backend
    if getattr(args, "watch", False):
        from core.errors import JobFailed

        backend.get_job(args.name)  # an unknown name fails here, before any waiting
        handle = OperationHandle("watch", args.name, "", "")
        try:
            job = wait(ctx, handle)
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


def _job_action(ctx: Context, job: Job, action: str) -> int:
    """Cancel, restart or resume a job, when ASR lists the action as allowed on it."""
    args = ctx.args
    allowed = {a.lower() for a in job.allowed_actions}
    if action not in allowed:
        offered = ", ".join(job.allowed_actions) or "nothing"
        raise NotAllowedNow(
            f"ASR does not allow {action} on job {job.name} ({job.state.word}); it allows: {offered}.",
            hint="Nothing was sent.",
        )
    guard_read_only(ctx, f"the job {action}")
    comment = getattr(args, "comment", None) or ""
    summary = [f"{action.capitalize()} job {job.name}: {job.title} ({job.state.word})."]
    if action == "cancel":
        summary.append("ASR stops the job where it is and rolls its item back where it can.")
    confirm(ctx, summary, "yes", action.capitalize(), "yes" if getattr(args, "yes", False) else None)
    operations = ctx.operations()
    if action == "cancel":
        started = operations.cancel_job(job.name)
    elif action == "restart":
        started = operations.restart_job(job.name)
    else:
        started = operations.resume_job(job.name, comment)
    report_start(ctx, started, f"{action.capitalize()} of job {job.name}")
    return finish(ctx, started)


def _show_job(io: Io, job: Job, now: datetime) -> None:
    if io.json:
        io.emit_json(job_json(job))
    else:
        _print_job(io, job, now)


def register(commands: Commands) -> None:
    p = commands.add(
        "jobs",
        "Jobs",
        "list Site Recovery jobs",
        examples=(
            ("jobs still running", "avs-failback jobs --state InProgress"),
            ("names of failed jobs", 'avs-failback jobs --state Failed -o tsv --query "[].name"'),
        ),
    )
    p.add_argument("--state", metavar="S", help="NotStarted, InProgress, Succeeded, Failed, Cancelled, Suspended")
    p.set_defaults(run=cmd_jobs)

    p = commands.add(
        "job",
        "Jobs",
        "one job: tasks, errors; watch, cancel, restart or resume it",
        description="One job with its tasks, errors and manual actions. --watch follows it to its end; "
        "--cancel, --restart and --resume act on it (asked first unless --yes).",
        examples=(
            ("follow a job task by task", "avs-failback job JOB_NAME --watch"),
            ("continue after a manual action", "avs-failback job JOB_NAME --resume --comment 'DNS switched'"),
        ),
    )
    p.add_argument("name", metavar="NAME", help="the job's name (from `jobs`)")
    p.add_argument("--watch", action="store_true", help="follow the job until it ends")
    act = p.add_mutually_exclusive_group()
    act.add_argument("--cancel", action="store_true", help="cancel the running job")
    act.add_argument("--restart", action="store_true", help="run a failed or cancelled job again")
    act.add_argument("--resume", action="store_true", help="continue a job waiting on a manual action")
    p.add_argument("--comment", metavar="TEXT", help="with --resume: what was done by hand")
    p.add_argument("--yes", action="store_true", help="with an action: do not ask")
    p.add_argument("--wait", action="store_true", help="with an action: follow the job it starts")
    p.add_argument(
        "--timeout", type=numbers.seconds, metavar="SECONDS", help="with --wait or --watch: give up after this long"
    )
    p.set_defaults(run=cmd_job)
