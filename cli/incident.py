"""After an incident: `report`, `resume`, `capture`."""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cli.options import Commands
from core import numbers
from core.errors import NotFound, UsageError
from core.journal import Journal
from core.model import (
    Job,
)
from core.sanitize import block

if TYPE_CHECKING:
    from core.tracker import JobTracker
from cli.context import Context, write
from cli.output import print_error, say, say_whole
from cli.sending import tell
from cli.shapes import job_json


def cmd_report(ctx: Context) -> int:
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
    if getattr(args, "output_file", None):
        path = Path(args.output_file)
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"Cannot write the report to {path}: {exc.strerror}.") from None
        ctx.io.err(f"Report written to {path}")
    else:
        write(ctx.io.stdout, block(text), end="")
    return 0


def cmd_capture(ctx: Context) -> int:
    """The configured vault as an emulator scenario (reads only): a classroom, or a reproduction to send."""
    import json

    from core.capture import Masker, capture

    args = ctx.args
    masker = None
    salt = args.salt or (ctx.env if ctx.env is not None else os.environ).get("AVS_FAILBACK_CAPTURE_SALT", "")
    if args.mask:
        masker = Masker(salt) if salt else Masker()
        if not salt:
            ctx.io.note(
                "no salt given: these pseudonyms are this capture's own. Give the same --salt (or "
                "AVS_FAILBACK_CAPTURE_SALT) to get the same pseudonyms in every capture."
            )
    elif args.salt:
        raise UsageError("--salt goes with --mask: it is what makes the pseudonyms stable.")
    doc = capture(ctx.backend, masker=masker)
    if getattr(args, "output_file", None) in (None, "-"):
        ctx.io.emit_json(doc)
        return 0
    path = Path(args.output_file)
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


def cmd_resume(ctx: Context) -> int:
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
            say_whole(io.out, result.text)
    ends: dict[str, Job] = {}
    failed: list[str] = []
    gone: list[str] = []

    def record_gone(job_name: str, error: NotFound) -> None:
        # A job ASR no longer knows would be "in flight" for ever: it is recorded as gone, and the others go on.
        gone.append(job_name)
        journal.job_gone(job_name, error.message)
        if not io.json:
            say_whole(io.out, f"Job {job_name} is no longer known to ASR ({error.message}); recorded as gone.")

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
                say_whole(io.out, _job_outcome(job))
            say(io.out, "Follow them to their end with `avs-failback resume --wait` or `avs-failback jobs`.")
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
                    print_error(io, exc)
                ends[job_name] = backend.get_job(job_name)
            if not io.json:
                say_whole(io.out, _job_outcome(ends[job_name]))
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
                        "job": job_json(ends[r.job_name]) if r.job_name in ends else None,
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


def _follow(ctx: Context, tracker: JobTracker, journal: Journal, job_name: str) -> Job:
    """One re-attached job to its end on the resume's tracker, each state journaled once."""
    timeout = getattr(ctx.args, "timeout", None)

    def on_update(job: Job) -> None:
        tell(ctx, job)
        journal.job_update(job)

    return tracker.wait(job_name, on_update=on_update, timeout=timeout)


def register(commands: Commands, vault_only: argparse.ArgumentParser) -> None:
    p = commands.add(
        "resume",
        "After an incident",
        "after a dropped session: follow again what was left in flight",
        examples=(
            ("what the journal left in flight", "avs-failback resume"),
            ("follow those jobs to their end", "avs-failback resume --wait --timeout 3600"),
        ),
    )
    p.add_argument("--wait", action="store_true", help="follow the jobs found to their end")
    p.add_argument(
        "--timeout", type=numbers.seconds, metavar="SECONDS", help="give up waiting on a job after this long"
    )
    p.set_defaults(run=cmd_resume)

    p = commands.add(
        "report",
        "After an incident",
        "the session journal as an incident timeline",
        description="What was decided, sent and seen, in order, from the session journal: for the incident "
        "review or the change board. Writes Markdown or JSON (--format), not the -o formats.",
        examples=(
            ("today's timeline as Markdown", "avs-failback report --since 2026-12-03T00:00:00Z"),
            ("as JSON into a file", "avs-failback report --format json --output incident.json"),
        ),
        parents=[vault_only],
    )
    p.add_argument("--format", choices=("md", "json"), default="md", help="md (default) or json")
    p.add_argument("--since", metavar="ISO_TIME", help="only what happened from then on")
    p.add_argument("--output", dest="output_file", metavar="FILE", help="write to FILE instead of standard output")
    p.add_argument("--json", action="store_true", help="the same as --format json")
    p.set_defaults(run=cmd_report)

    p = commands.add(
        "capture",
        "After an incident",
        "write the vault as an emulator scenario (reads only)",
        description="Read the vault (nothing is sent) and write it as a scenario for `demo --scenario FILE` "
        "and `train --check`. --mask replaces every name, address and id by a stable pseudonym.",
        examples=(
            ("a masked copy for a classroom", "avs-failback capture --mask --salt course-7 -o classroom.json"),
            ("capture the demo vault", "avs-failback capture --demo -o demo-copy.json"),
        ),
        parents=[vault_only],
    )
    p.add_argument("-o", "--output", dest="output_file", metavar="FILE", help="the scenario file (default: stdout)")
    p.add_argument("--mask", action="store_true", help="replace every name, address and id by a stable pseudonym")
    p.add_argument("--salt", metavar="TEXT", help="with --mask: the same salt gives the same pseudonyms")
    p.add_argument("--json", action="store_true", help="accepted for older scripts: the scenario is JSON")
    p.set_defaults(run=cmd_capture)
