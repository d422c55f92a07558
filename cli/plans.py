"""Recovery plans: `plans`, `plan`, `plan-failover`, `plan-commit`."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

from cli.cache import remember
from cli.context import WIDTH, Context
from cli.operations import note_preflight
from cli.options import Commands, plan_argument
from cli.output import all_items, choices_error, clip, confirm, glyph, guard_read_only, iso, refuse, say, table
from cli.preflight import preflight_gate
from cli.sending import finish, plan_point_choices, report_start, sending_options, show_command
from core.errors import UsageError
from core.model import (
    PointChoice,
    ProtectedItem,
    RecoveryPoint,
)
from core.preflight import check_plan

if TYPE_CHECKING:
    from core.plans import PlanView


def plan_context(
    ctx: Context, points: bool = True
) -> tuple[PlanView, dict[str, list[RecoveryPoint]], list[ProtectedItem]]:
    """The named plan's view, with each member's recovery points (keyed by item name) unless `points` is off."""
    from core.plans import plan_view, resolve_plan

    backend = ctx.backend
    plan = resolve_plan(backend.list_plans(), ctx.args.plan)
    items = all_items(backend)
    view = plan_view(plan, items)
    if not points:
        return view, {}, items
    by_item = {m.item.name: backend.list_recovery_points(m.item) for m in view.members}
    return view, by_item, items


def cmd_plans(ctx: Context) -> int:
    from core.plans import plan_view

    io, backend = ctx.io, ctx.backend
    plans = sorted(backend.list_plans(), key=lambda p: (p.friendly_name or p.name).lower())
    items = all_items(backend)
    views = [plan_view(p, items) for p in plans]
    remember(ctx, plans=[v.plan.name for v in views])  # rp-erp, not "ERP (SAP …)": a word a shell can take
    if io.json:
        io.emit_json(
            {
                "time": iso(backend.now()),
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
            },
            rows="plans",
        )
        return 0
    if not views:
        io.out("No recovery plans.")
        return 0
    rows = [[v.name, str(len(v.members)), v.stage_summary] for v in views]
    for line in table(["PLAN", "VMS", "STATE"], rows, [24, 4, 48]):
        io.out(line)
    return 0


def cmd_plan(ctx: Context) -> int:
    from core.plans import can_commit_plan, can_fail_over_plan, manual_actions, plan_point_summary

    io, backend = ctx.io, ctx.backend
    view, points, _ = plan_context(ctx)
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
                    {"group": g.group, "common_time": iso(g.common_time), "explanation": g.explanation} for g in summary
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
            io.out(clip(f"  {glyph(io, member.stage)} {member.name}  {member.stage.short}", WIDTH))
    if actions:
        io.out("")
        io.out("Manual actions (the job waits for `job NAME --resume`):")
        for where, action in actions:
            say(io.out, f"{where}: {action.name}. {action.instructions}".rstrip(". ") + ".", "  ")
    io.out("")
    io.out("Recovery points with app-consistent:")
    for points_of in summary:
        say(io.out, points_of.explanation, "  ")
    io.out("")
    say(io.out, f"Fail back: {'yes' if failover.allowed else 'not now'}. {failover.reason}")
    say(io.out, f"Commit: {'yes' if commit.allowed else 'not now'}. {commit.reason}")
    return 0


def _plan_operation(ctx: Context, name: str) -> None:
    """Refuse plainly, before anything is journaled, when the backend has no plan operations at all."""
    if getattr(ctx.backend, name, None) is None:
        raise UsageError("This backend cannot act on recovery plans.")


def _plan_type_choices(view: PlanView) -> str:
    """A modernized plan's --point: a type of point for all its VMs, each with what it gives up."""
    from core.plans import plan_type_options

    lines = [f"--point is needed. The choices for the plan {view.name} (planned failover from Azure: ASR makes the "]
    lines[0] += "point when the job starts):"
    for option in plan_type_options(view):
        lines.append(f"  {option.choice.value:<15} {option.headline}")
        lines += [f"  {'':<15} {line}" for line in textwrap.wrap(option.tradeoff, WIDTH - 22)]
    return "\n".join(lines)


def _modernized_summary(view: PlanView, choice: PointChoice) -> list[str]:
    from core.plans import plan_type_options

    option = next((o for o in plan_type_options(view) if o.choice is choice), None)
    return [
        f"Fail back the recovery plan {view.name} from Azure to AVS: {len(view.members)} VMs, with a planned "
        "failover (modernized replication appliance).",
        f"Point: {option.headline if option else choice.value}",
        f"  {option.tradeoff if option else ''}",
        "ASR copies the last changes, shuts the Azure VMs down and starts them in AVS, boot group by boot group.",
        f"You verify them, then commit — or cancel (avs-failback plan-cancel {view.plan.name}) to return to the "
        "Azure VMs.",
    ]


def cmd_plan_failover(ctx: Context) -> int:
    from core.plans import can_fail_over_plan, plan_is_modernized, plan_point_summary

    args, backend = ctx.args, ctx.backend
    choices = {"latest": PointChoice.LATEST, "app-consistent": PointChoice.LATEST_APP_CONSISTENT}
    if not args.point:
        view, points, _ = plan_context(ctx)
        raise choices_error(
            _plan_type_choices(view) if plan_is_modernized(view) else plan_point_choices(view, points, backend.now()),
            hint=f"Name one: avs-failback plan-failover {args.plan} --point latest",
        )
    choice = choices.get(args.point.strip().lower())
    if choice is None:
        raise UsageError("A plan fails back to --point latest or --point app-consistent.")
    view, points, items = plan_context(ctx)
    busy = view.plan.current_scenario is not None
    if not busy:
        refuse(can_fail_over_plan(view, points))
    guard_read_only(ctx, "the plan failover")
    now = backend.now()
    modernized = plan_is_modernized(view)
    summary = [f"Fail back the recovery plan {view.name} from Azure to AVS: {len(view.members)} VMs."]
    loss: float | None = None
    if modernized:
        summary = _modernized_summary(view, choice)
    elif choice is PointChoice.LATEST:
        summary.append("Latest: each VM fails over to its own newest point (least data loss).")
    else:
        summary.append("App-consistent: each replication group recovers to its common app-consistent point.")
        groups = plan_point_summary(view, points, now)
        summary.extend(g.explanation for g in groups)
        losses = [m.common_loss_seconds for g in groups for m in g.members if m.common_loss_seconds is not None]
        loss = max(losses, default=None)
    if not modernized:
        summary.append("ASR shuts the Azure VMs down and starts them in AVS, boot group by boot group.")
    if show_command(ctx, "plan-failover", None, plan=view.plan, choice=choice, modernized=modernized):
        return 0
    if busy:
        preflight = "skipped: a job is running on the plan"
    else:
        preflight = preflight_gate(
            ctx, lambda: check_plan(backend, view.plan, items, points_by_item=points), "the plan failover"
        )
    confirm(ctx, summary, "yes", "Fail back the plan", "yes" if args.yes else None)
    if busy and backend.get_plan(view.plan.name).current_scenario is None:
        # the plan's job ended while the operator read the summary: the send now gets every check
        view, points, items = plan_context(ctx)
        refuse(can_fail_over_plan(view, points))
        preflight = preflight_gate(
            ctx, lambda: check_plan(backend, view.plan, items, points_by_item=points), "the plan failover"
        )
    _plan_operation(ctx, "plan_planned_failover" if modernized else "plan_unplanned_failover")
    started = ctx.operations().plan_failover(
        view.plan,
        choice,
        data_loss_seconds=loss,
        acknowledged_loss=choice is PointChoice.LATEST_APP_CONSISTENT and not modernized,
    )
    if not started.attached:
        note_preflight(ctx, started, preflight)
    report_start(ctx, started, f"Failover of plan {view.name}")
    return finish(ctx, started, {"preflight": preflight})


def cmd_plan_commit(ctx: Context) -> int:
    from core.plans import can_commit_plan

    args = ctx.args
    view, _, _ = plan_context(ctx)
    if view.plan.current_scenario is None:
        refuse(can_commit_plan(view))
    guard_read_only(ctx, "the plan commit")
    summary = [
        f"Commit the failover of the recovery plan {view.name} ({len(view.members)} VMs).",
        "ASR deletes every failed-over Azure VM of the plan. This cannot be undone.",
    ]
    if show_command(ctx, "plan-commit", None, plan=view.plan):
        return 0
    # the plan's name or its friendly name, typed out in full, both say which plan is meant
    expected = view.plan.friendly_name if args.confirm and args.confirm == view.plan.friendly_name else view.plan.name
    confirm(ctx, summary, expected, "Commit the plan", args.confirm)
    _plan_operation(ctx, "plan_commit")
    started = ctx.operations().plan_commit(view.plan)
    report_start(ctx, started, f"Commit of plan {view.name}")
    return finish(ctx, started)


def cmd_plan_cancel(ctx: Context) -> int:
    from core.plans import can_cancel_plan

    args = ctx.args
    view, _, _ = plan_context(ctx)
    if view.plan.current_scenario is None:
        refuse(can_cancel_plan(view))
    guard_read_only(ctx, "the plan cancel")
    summary = [
        f"Cancel the planned failover of the recovery plan {view.name} ({len(view.members)} VMs).",
        "ASR rolls their AVS disks back, turns the Azure VMs on again and resumes replication to AVS.",
        "Whatever was written in AVS since the failover is lost; the plan can fail back again later.",
    ]
    if show_command(ctx, "plan-cancel", None, plan=view.plan):
        return 0
    confirm(ctx, summary, "yes", "Cancel the plan's failover", "yes" if args.yes else None)
    _plan_operation(ctx, "plan_failover_cancel")
    started = ctx.operations().plan_cancel(view.plan)
    report_start(ctx, started, f"Cancel of plan {view.name}")
    return finish(ctx, started)


def register(commands: Commands) -> None:
    p = commands.add(
        "plans",
        "Recovery plans",
        "list the recovery plans and their members' stages",
        examples=(
            ("every plan of the demo vault", "avs-failback plans --demo"),
            ("names and stages, for a script", 'avs-failback plans --demo -o tsv --query "[].[friendly_name, stage]"'),
        ),
    )
    p.set_defaults(run=cmd_plans)

    p = commands.add(
        "plan",
        "Recovery plans",
        "one plan: boot groups, points, manual actions, next step",
        examples=(
            ("the ERP plan: boot groups, points, next step", "avs-failback plan rp-erp --demo"),
            ("its members as JSON", 'avs-failback plan rp-erp --demo -o json --query "members"'),
        ),
    )
    plan_argument(p)
    p.set_defaults(run=cmd_plan)

    p = commands.add(
        "plan-failover",
        "Recovery plans",
        "fail a whole recovery plan back to AVS",
        description="Fail every VM of a plan back, boot group by boot group. Without --point it lists the "
        "choices with each VM's worst-case loss; a replication group fails over to its common point.",
        examples=(
            ("the choices and the loss per VM", "avs-failback plan-failover rp-erp --demo"),
            (
                "fail the plan back and follow it",
                "avs-failback plan-failover rp-erp --demo --point latest --yes --wait",
            ),
        ),
    )
    plan_argument(p)
    p.add_argument("--point", metavar="CHOICE", help="latest or app-consistent")
    p.add_argument("--yes", action="store_true", help="do not ask: the loss is accepted")
    p.add_argument("--skip-preflight", action="store_true", help="send even when the preflight finds a problem")
    sending_options(p)
    p.set_defaults(run=cmd_plan_failover)

    p = commands.add(
        "plan-cancel",
        "Recovery plans",
        "cancel a modernized plan's planned failover: back to Azure",
        description="Cancel the finished planned failover of a modernized plan, until its commit: every VM runs "
        "in Azure again and replicates to AVS. A classic plan's failover cannot be cancelled.",
        examples=(
            ("back to the Azure VMs, following the job", "avs-failback plan-cancel rp-crm --yes --wait"),
            ("print the request; send nothing", "avs-failback plan-cancel rp-crm --show-command"),
        ),
    )
    plan_argument(p)
    p.add_argument("--yes", action="store_true", help="do not ask")
    sending_options(p)
    p.set_defaults(run=cmd_plan_cancel)

    p = commands.add(
        "plan-commit",
        "Recovery plans",
        "commit a plan's failover (irreversible: deletes the Azure VMs)",
        examples=(
            ("commit, typing the plan's name when asked", "avs-failback plan-commit rp-erp"),
            ("in a script", "avs-failback plan-commit rp-erp --confirm rp-erp --wait"),
        ),
    )
    plan_argument(p)
    p.add_argument("--confirm", metavar="PLAN", help="the plan's name again, typed out")
    sending_options(p)
    p.set_defaults(run=cmd_plan_commit)
