"""Fail back one item: `failover`, `commit`, `cancel`."""

from __future__ import annotations

from cli.context import Context
from cli.options import Commands, item_argument
from cli.output import all_items, choices_error, confirm, guard_read_only, refuse, say, short_age
from cli.preflight import preflight_gate
from cli.sending import (
    choose_point,
    choose_type,
    finish,
    is_busy,
    point_choices,
    report_start,
    sending_options,
    show_command,
    type_choices,
)
from cli.shapes import option_json
from core.failback import (
    can_cancel,
    can_commit,
    can_failover,
    resolve_item,
)
from core.model import (
    ProtectedItem,
)
from core.operations import Started
from core.preflight import check_item
from core.providers import provider_for
from core.providers.modernized import CANCEL_WORDS
from core.recovery import (
    PointOption,
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
        summary.append(f"This point gives up about {short_age(option.loss_seconds)} more writes than Latest.")
    return summary


def cmd_failover(ctx: Context) -> int:
    args, io, backend = ctx.args, ctx.io, ctx.backend
    item = resolve_item(all_items(backend), args.item)
    busy = is_busy(item)
    if not busy:
        refuse(can_failover(item))
    guard_read_only(ctx, "the failover")
    provider = provider_for(item)
    points = backend.list_recovery_points(item) if provider.needs_points else []
    now = backend.now()
    if not args.point:
        if provider.needs_points:
            choices = point_choices(item, points, now)
        else:
            choices = type_choices(item, provider.type_options(item))
        raise choices_error(choices, hint=f"Name one: avs-failback failover {args.item} --point latest")
    if provider.needs_points:
        option, point_id = choose_point(args.point, points, now)
    else:
        option, point_id = choose_type(args.point, provider.type_options(item))
        if not io.json:
            say(
                io.err,
                f"note: {provider.failover_name} ({provider.kind_label}): after it you can verify, then "
                "commit or cancel.",
            )
    summary = _failover_summary(item, option)
    if show_command(ctx, "failover", item, choice=option.choice, recovery_point_id=point_id):
        return 0
    if busy:
        # the preflight would only report the running job, which is followed below instead of failed over
        preflight = "skipped: a job is running on the item"
    else:
        preflight = preflight_gate(ctx, lambda: check_item(backend, item, points=points), "the failover")
    confirm(ctx, summary, "yes", "Fail back", "yes" if args.yes else None)
    fresh = backend.get_item(item.id) if busy else item
    if busy and not is_busy(fresh):
        # the job ended while the operator read the summary: this is a real send now, so it gets every check
        item = fresh
        refuse(can_failover(item))
        preflight = preflight_gate(ctx, lambda: check_item(backend, item, points=points), "the failover")
        busy = False
    if not io.json and args.yes and option.needs_acknowledgement and not busy:
        say(io.err, f"note: {option.tradeoff}")
    started = ctx.operations().failover_to(item, option)
    if not started.attached:
        note_preflight(ctx, started, preflight)
    report_start(ctx, started, f"Failover of {item.friendly_name}")
    request = provider.failover_request(item, option.choice, point_id)
    extra = {"point": option_json(option), "preflight": preflight, "provider": provider.key, "kind": request.operation}
    return finish(ctx, started, extra)


def cmd_cancel(ctx: Context) -> int:
    """Cancel a finished planned failover (modernized): the VM runs in Azure again and replicates to AVS."""
    args = ctx.args
    item = resolve_item(all_items(ctx.backend), args.item)
    if not is_busy(item):
        refuse(can_cancel(item))
    guard_read_only(ctx, "the cancel")
    summary = [
        f"Cancel the planned failover of {item.friendly_name}.",
        CANCEL_WORDS,
        "Its failback can be run again afterwards (avs-failback failover ITEM).",
    ]
    if show_command(ctx, "cancel-failover", item):
        return 0
    confirm(ctx, summary, "yes", "Cancel failover", "yes" if args.yes else None)
    started = ctx.operations().cancel_failover(item)
    report_start(ctx, started, f"Cancel of the planned failover of {item.friendly_name}")
    return finish(ctx, started)


def note_preflight(ctx: Context, started: Started, preflight: str) -> None:
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


def cmd_commit(ctx: Context) -> int:
    args = ctx.args
    item = resolve_item(all_items(ctx.backend), args.item)
    if not is_busy(item):
        refuse(can_commit(item))
    guard_read_only(ctx, "the commit")
    summary = [
        f"Commit the failover of {item.friendly_name}.",
        "ASR deletes the failed-over Azure VM. This cannot be undone.",
        "Commit only after checking the applications in AVS and that the Azure VM is off.",
    ]
    if show_command(ctx, "commit", item):
        return 0
    confirm(ctx, summary, item.friendly_name, "Commit", args.confirm)
    started = ctx.operations().commit(item)
    report_start(ctx, started, f"Commit of {item.friendly_name}")
    return finish(ctx, started)


def register(commands: Commands) -> None:
    p = commands.add(
        "failover",
        "Fail back one VM",
        "fail an item back from Azure to AVS",
        description="Fail one VM back from Azure to the AVS private cloud at a recovery point. Without --point "
        "it lists the choices with the writes each loses. Asks before sending unless --yes; runs the preflight "
        "first.",
        examples=(
            ("see the choices and their data loss", "avs-failback failover file-01 --demo"),
            (
                "fail back at the latest point and follow the job",
                "avs-failback failover file-01 --demo --point latest --yes --wait",
            ),
            (
                "print the REST call, az and PowerShell; send nothing",
                "avs-failback failover file-01 --demo --point latest --show-command",
            ),
        ),
    )
    item_argument(p)
    # Not required by argparse: without it the command lists the item's choices with their loss, not the usage.
    p.add_argument("--point", metavar="CHOICE", help="latest, app-consistent, or a point id from `points ITEM`")
    p.add_argument("--yes", action="store_true", help="do not ask: the point's data loss is accepted")
    p.add_argument("--skip-preflight", action="store_true", help="send even when the preflight finds a problem")
    sending_options(p)
    p.set_defaults(run=cmd_failover)

    p = commands.add(
        "commit",
        "Fail back one VM",
        "commit a failover (irreversible: deletes the Azure VM)",
        description="Commit a verified failover. Irreversible: ASR deletes the VM in Azure. The item's name is "
        "typed again (asked, or --confirm).",
        examples=(
            ("commit, typing the name to confirm", "avs-failback commit hr-app-01"),
            ("in a script", "avs-failback commit hr-app-01 --confirm hr-app-01 --wait"),
        ),
    )
    item_argument(p)
    p.add_argument("--confirm", metavar="ITEM", help="the item's name again, typed out")
    sending_options(p)
    p.set_defaults(run=cmd_commit)

    p = commands.add(
        "cancel",
        "Fail back one VM",
        "cancel a modernized VM's failover: it runs in Azure again",
        description="Cancel a finished planned failover of a modernized VM: it runs in Azure again. A classic "
        "failback cannot be cancelled. To cancel a running job, use `job NAME --cancel`.",
        examples=(
            ("go back to the Azure VM and follow the job", "avs-failback cancel lnx-batch-02 --yes --wait"),
            ("print the request; send nothing", "avs-failback cancel lnx-batch-02 --show-command"),
        ),
    )
    item_argument(p)
    p.add_argument("--yes", action="store_true", help="do not ask")
    sending_options(p)
    p.set_defaults(run=cmd_cancel)
