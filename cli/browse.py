"""Browse: `items` and `points`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cli.cache import remember
from cli.context import WIDTH, Context
from cli.formats import stage_paint
from cli.options import Commands, item_argument
from cli.output import all_items, glyph, iso, say, short_age, table, wrap
from cli.shapes import item_json, option_json, point_json
from core import numbers
from core.errors import UsageError
from core.failback import (
    derive_stage,
    resolve_item,
    stage_reason,
)
from core.model import (
    ProtectedItem,
    Stage,
)
from core.recovery import (
    data_loss_seconds,
    format_time,
    group_points,
    point_options,
)


def _matches(item: ProtectedItem, text: str) -> bool:
    needle = text.lower()
    return any(needle in value.lower() for value in (item.friendly_name, item.name, item.consistency_group))


def cmd_items(ctx: Context) -> int:
    args, io, backend = ctx.args, ctx.io, ctx.backend
    stage_filter = None
    if getattr(args, "stage", None):
        try:
            stage_filter = Stage.from_key(args.stage)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    items = all_items(backend)
    if getattr(args, "filter", None):
        items = [i for i in items if _matches(i, args.filter)]
    if stage_filter is not None:
        items = [i for i in items if derive_stage(i) is stage_filter]
    items.sort(key=lambda i: (i.friendly_name.lower(), i.id))
    now = backend.now()
    if not getattr(args, "filter", None) and stage_filter is None:
        remember(ctx, items=[i.friendly_name for i in items])
    if io.json:
        io.emit_json(
            {
                "vault": backend.vault.arm_id,
                "simulated": bool(getattr(backend, "simulated", False)),
                "time": iso(now),
                "items": [item_json(i, now) for i in items],
            },
            rows="items",
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
                f"{glyph(io, stage)} {stage.short}",
                item.replication_health or "-",
                short_age(age),
                where,
            ]
        )
    # A wider terminal gives its columns to the names; colour (a terminal, NO_COLOR unset) only doubles the words.
    extra = max(0, io.width - WIDTH)
    caps = [22 + extra // 2, 18, 8, 9, 17 + extra - extra // 2]
    paint = stage_paint([derive_stage(i).key for i in items], 1) if io.colour else None
    lines = table(["NAME", "STAGE", "HEALTH", "POINT AGE", "GROUP/PLAN"], rows, caps, width=io.width, paint=paint)
    for line in lines:
        io.out_painted(line) if paint is not None else io.out(line)
    counts: dict[str, int] = {}
    for item in items:
        key = derive_stage(item).short
        counts[key] = counts.get(key, 0) + 1
    io.out("")
    say(io.out, f"{len(items)} items: " + ", ".join(f"{n} {k}" for k, n in counts.items()))
    return 0


def _group_members(item: ProtectedItem, items: Sequence[ProtectedItem]) -> list[ProtectedItem]:
    return [i for i in items if i.consistency_group and i.consistency_group == item.consistency_group]


def cmd_points(ctx: Context) -> int:
    args, io, backend = ctx.args, ctx.io, ctx.backend
    items = all_items(backend)
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
            "time": iso(now),
            "options": [option_json(o) for o in options],
            "points": [point_json(p, points) for p in ordered],
        }
        if group is not None:
            data["group"] = {
                "name": group.group,
                "common_time": iso(group.common_time),
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
        for line in wrap(stage_reason(item)):
            io.out(line)
        return 0
    io.out(f"Recovery points of {item.friendly_name} (times in local time and UTC)")
    io.out("")
    for option in options:
        for line in wrap(option.headline) + wrap(option.tradeoff, "  "):
            io.out(line)
    if group is not None:
        io.out("")
        io.out(f"Replication group {group.group}:")
        for line in wrap(group.explanation, "  "):
            io.out(line)
    io.out("")
    shown = ordered if getattr(args, "all", False) else ordered[: args.limit]
    rows = []
    for p in shown:
        local = format_time(p.time, now).split(",")[0]
        loss = data_loss_seconds(p, points)
        rows.append([local, p.kind.value, short_age(loss) if loss else "0", p.name])
    for line in table(["TIME", "KIND", "LOSS", "POINT ID (for --point)"], rows, [34, 16, 7, 30]):
        io.out(line)
    if len(shown) < len(ordered):
        io.out(f"… and {len(ordered) - len(shown)} older points (--all lists them).")
    return 0


def register(commands: Commands) -> None:
    stages = ", ".join(s.key for s in Stage)
    p = commands.add(
        "items",
        "Browse",
        "list the replicated items and their stage",
        description="The vault's replicated items: stage, health, age of the newest recovery point, plan or "
        "replication group. The default table is for people; -o json, -o tsv and --query are for scripts.",
        examples=(
            ("the demo vault, as a table", "avs-failback items --demo"),
            (
                "names of the VMs ready to fail back",
                "avs-failback items --demo -o json --query \"[?stage=='ready'].name\"",
            ),
            (
                "a shell loop over name and stage",
                'avs-failback items --demo -o tsv --query "[].[friendly_name, stage]"',
            ),
        ),
    )
    p.add_argument("--filter", metavar="TEXT", help="only items whose name or group contains TEXT")
    p.add_argument("--stage", metavar="KEY", help="only items in this stage: " + stages)
    p.set_defaults(run=cmd_items)

    p = commands.add(
        "points",
        "Browse",
        "recovery points of an item and what each loses",
        description="The recovery points of one item, newest first, with the writes each gives up against the "
        "latest; for a replication group, the group's common point too.",
        examples=(
            ("the choices for sql-01 and the data each loses", "avs-failback points sql-01 --demo"),
            ("every point, for a script", "avs-failback points sql-01 --demo --all -o json"),
        ),
    )
    item_argument(p)
    p.add_argument("--limit", type=numbers.count, default=12, metavar="N", help="list the newest N points (default 12)")
    p.add_argument("--all", action="store_true", help="list every point")
    p.set_defaults(run=cmd_points)
