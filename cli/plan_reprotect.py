"""`plan-reprotect`: every committed VM of a plan protected again, each VM followed through its agent window."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cli.options import Commands, plan_argument
from cli.reprotect import reprotect_target_options
from cli.sending import sending_options
from core.errors import NotAllowedNow
from core.failback import (
    AGENT_REGISTRATION_WINDOW,
    can_reprotect,
)
from core.model import (
    JobState,
    ReprotectTarget,
    Stage,
)

if TYPE_CHECKING:
    from core.plans import MemberProgress, PlanView
from cli.context import WIDTH, Context, Io
from cli.output import clip, confirm, glyph, guard_read_only, iso, say, short_age
from cli.plans import plan_context
from cli.reprotect import AGENT_RETRY_SECONDS, reprotect_target, with_policy_shown

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


def _progress_line(io: Io, p: MemberProgress, attempt: int, now: datetime) -> str:
    line = f"  {glyph(io, _MEMBER_GLYPHS[p.state.key])} {p.item_name}: {p.word}"
    if p.job_name and p.state.key in ("running", "protected", "failed"):
        line += f" (job {p.job_name})"
    if p.state.key == "waiting-for-agent" and p.next_retry_at is not None:
        wait = max(0.0, (p.next_retry_at - now).total_seconds())
        line += f", attempt {attempt} failed; retry in {short_age(wait)}"
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
        "next_retry_at": iso(p.next_retry_at),
        "last_error": p.last_error or None,
        "new_item_id": p.new_item_id or None,
    }


def _show_plan_reprotect(ctx: Context, view: PlanView, target: ReprotectTarget, ps_name: str) -> int:
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


def cmd_plan_reprotect(ctx: Context) -> int:
    """Reprotect every committed VM of a plan to Azure as one step, retrying while their agents register."""
    from core.errors import JobFailed
    from core.plans import PlanReprotect

    args, io, backend = ctx.args, ctx.io, ctx.backend
    view, _, _ = plan_context(ctx, points=False)
    refusal = _plan_reprotect_refusal(view)
    if refusal:
        raise NotAllowedNow(refusal, hint="Nothing was sent. `avs-failback plan PLAN` shows each VM's stage.")
    guard_read_only(ctx, "the plan reprotect")
    moving = [m for m in view.members if m.stage is not Stage.PROTECTED_TO_AZURE]
    lead = moving[0].item if moving else None
    target, ps, mt_name = reprotect_target(
        ctx, [m.item.master_target_id for m in moving], f"the plan {view.name}", lead
    )
    health = ps.health or "unknown"
    summary = [
        f"Reprotect the recovery plan {view.name}: replicate its {len(moving)} VMs from AVS back to Azure "
        "(RecoveryToPrimary), one reprotect per VM.",
        f"Every VM goes through the process server {ps.friendly_name} (health {health}) and the master target "
        f"{mt_name}, so each replication group stays on one pair."
        if mt_name
        else f"Every VM goes through the replication appliance {ps.friendly_name} (health {health}).",
        "A VM whose mobility agent has not registered back yet (up to "
        f"{int(AGENT_REGISTRATION_WINDOW.total_seconds() // 60)} minutes after it booted in AVS) is retried"
        + (" on a timer." if getattr(args, "wait", False) else " when you run this again with --wait."),
    ]
    if not ps.is_healthy:
        summary.append(f"Warning: the process server reports health {health!r}.")
    if getattr(args, "show_command", False):
        return _show_plan_reprotect(ctx, view, with_policy_shown(ctx, target), ps.friendly_name)
    confirm(ctx, summary, "yes", "Reprotect the plan", "yes" if args.yes else None)
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
            io.out(clip(_progress_line(io, p, attempt, now), WIDTH))
            first_wait = p.state.key == "waiting-for-agent" and attempt == 1
            if p.last_error and (first_wait or p.state.key in ("failed", "blocked")):
                say(io.out, p.last_error, "      ")

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
            say(
                io.out,
                "Follow the jobs with `avs-failback jobs`, or run this again with --wait to follow them and "
                "retry the VMs whose agents are still registering.",
            )
    return 0


def register(commands: Commands) -> None:
    p = commands.add(
        "plan-reprotect",
        "Recovery plans",
        "protect every committed VM of a plan again, to Azure",
        description="Reprotect every committed VM of a plan (AVS to Azure) through one process server; with "
        "--wait each VM is followed through its agent-registration window and retried.",
        examples=(
            (
                "reprotect every committed VM of the plan",
                "avs-failback plan-reprotect rp-erp --process-server ps-azure-weu-01 --yes",
            ),
            (
                "print the requests; send nothing",
                "avs-failback plan-reprotect rp-erp --process-server PS_NAME --show-command",
            ),
        ),
    )
    plan_argument(p)
    reprotect_target_options(p, master_help="master target for every VM (default: the one they use)")
    p.add_argument("--yes", action="store_true", help="do not ask")
    sending_options(p, wait_help="follow every VM; retry while their agents register")
    p.set_defaults(run=cmd_plan_reprotect)
