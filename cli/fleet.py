"""`avs-failback fleet` and `fleet items`: every vault and every item across subscriptions, from Resource Graph."""

from __future__ import annotations

import argparse
import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cli.options import Commands
from cli.output import glyph, iso, say, short_age, table
from cli.shapes import item_json
from core.errors import UsageError
from core.fleet import FleetItem, FleetJob, VaultSummary, summarise
from core.model import Provider, Stage

if TYPE_CHECKING:
    from cli.context import Context
    from core.fleet import FleetReader

# What the fleet cannot know from Resource Graph, said with every answer (ARG_FACTS.md has the sources).
NOTE = (
    "Counts come from Azure Resource Graph, which may lag what each vault holds now (by minutes, sometimes "
    "longer); recovery points, process servers and job tasks are not in it. Open a vault (avs-failback items "
    "--vault-id ID) for its live state over ARM."
)
STAGE_COLUMNS: tuple[tuple[str, tuple[Stage, ...]], ...] = (
    ("RDY", (Stage.READY,)),
    ("VFY", (Stage.FAILED_OVER,)),
    ("RUN", (Stage.FAILOVER_RUNNING, Stage.COMMIT_RUNNING, Stage.REPROTECT_RUNNING)),
    ("RPR", (Stage.COMMITTED,)),
    ("PRT", (Stage.PROTECTED_TO_AZURE,)),
    ("NR", (Stage.NOT_READY,)),
)
LEGEND = (
    "RDY ready to fail back, VFY failed over (verify, commit), RUN a job running, RPR committed (reprotect "
    "needed), PRT protected to Azure, NR not ready; CR/WN items in Critical/Warning health; OLDEST the age of "
    "the oldest newest-point."
)


def register(commands: Commands, fleet_options: argparse.ArgumentParser) -> None:
    p = commands.add(
        "fleet",
        "Browse",
        "every vault across subscriptions, from Resource Graph",
        description="The fleet from Azure Resource Graph. `fleet` lists the vaults with counts by stage; "
        "`fleet items` every item. --subscription may be given several times (default: every subscription "
        "you can read). Alone, without a terminal command: the dashboard's fleet screen.",
        examples=(
            ("the emulated fleet's vaults", "avs-failback fleet vaults --demo"),
            (
                "everything ready to fail back in West Europe",
                "avs-failback fleet items --demo --stage ready --region westeurope",
            ),
        ),
        parents=[fleet_options, *commands.parents[1:]],
    )
    p.add_argument("what", nargs="?", choices=("vaults", "items"), default="vaults", help="vaults (default) or items")
    p.add_argument("--stage", metavar="KEY", help="items: only this stage: " + ", ".join(s.key for s in Stage))
    p.add_argument("--region", metavar="NAME", help="items: only vaults in this region (e.g. westeurope)")
    p.add_argument("--filter", metavar="TEXT", help="items: only names, vaults or regions containing TEXT")
    p.set_defaults(run=cmd_fleet)


def _subscriptions(args: argparse.Namespace) -> tuple[str, ...]:
    given = getattr(args, "subscription", None)
    values = given if isinstance(given, list) else [given] if given else []
    out: list[str] = []
    for value in values:
        out.extend(part.strip() for part in str(value).split(",") if part.strip())
    return tuple(out)


def reader(ctx: Context) -> FleetReader:
    """The fleet of this run's settings: --subscription names its scope here, not a vault's."""
    from core.bootstrap import build_fleet
    from core.config import resolve_settings

    args = ctx.args
    scoped = argparse.Namespace(**{k: v for k, v in vars(args).items() if k != "subscription"})
    settings = resolve_settings(scoped, env=ctx.env, config_path=ctx.config_path)
    fleet = settings.fleet or ("demo" if settings.demo else "")
    settings = dataclasses.replace(settings, subscriptions=_subscriptions(args), fleet=fleet)
    built: FleetReader = build_fleet(settings, clock=ctx.clock)
    return built


def _read(fleet: FleetReader) -> tuple[list[VaultSummary], list[FleetItem], list[FleetJob]]:
    vaults = fleet.list_vaults()
    items = [entry for page in fleet.iter_item_pages() for entry in page]
    jobs = fleet.list_jobs()
    return summarise(vaults, items, jobs), items, jobs


def _age(now: datetime, then: datetime | None) -> float | None:
    return (now - then).total_seconds() if then is not None else None


def vault_json(summary: VaultSummary, now: datetime) -> dict[str, Any]:
    ref = summary.ref
    return {
        "id": ref.arm_id,
        "name": ref.name,
        "subscription_id": ref.subscription_id,
        "resource_group": ref.resource_group,
        "location": summary.location,
        "items": summary.items,
        "stages": {stage.key: summary.stages.get(stage, 0) for stage in Stage},
        "health": dict(sorted(summary.health.items())),
        "providers": {p.value: summary.providers.get(p, 0) for p in Provider},
        "oldest_newest_point_time": iso(summary.oldest_point),
        "oldest_newest_point_age_seconds": _age(now, summary.oldest_point),
        "indexed_at": iso(summary.indexed_at),
        "index_age_seconds": _age(now, summary.indexed_at),
        "jobs": {"open": summary.jobs_open, "waiting": summary.jobs_waiting, "failed_last_day": summary.jobs_failed},
    }


def _matches(entry: FleetItem, text: str) -> bool:
    needle = text.lower()
    item = entry.item
    return any(needle in v.lower() for v in (item.friendly_name, item.name, entry.vault.name, entry.location))


def cmd_fleet(ctx: Context) -> int:
    args, io = ctx.args, ctx.io
    stage = None
    if getattr(args, "stage", None):
        try:
            stage = Stage.from_key(args.stage)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    if args.what == "vaults" and (stage or getattr(args, "region", None) or getattr(args, "filter", None)):
        raise UsageError("--stage, --region and --filter choose items.", hint="Use them with `fleet items`.")
    fleet = reader(ctx)
    vaults, items, _jobs = _read(fleet)
    now = fleet.now()
    head = {
        "source": "resource-graph",
        "simulated": fleet.simulated,
        "time": iso(now),
        "subscriptions": list(fleet.subscriptions),
        "resource_graph_requests": fleet.requests,
        "note": NOTE,
    }
    if args.what == "items":
        region = (getattr(args, "region", None) or "").lower()
        chosen = [
            e
            for e in items
            if (stage is None or e.stage is stage)
            and (not region or e.location.lower() == region)
            and (not getattr(args, "filter", None) or _matches(e, args.filter))
        ]
        chosen.sort(key=lambda e: (e.vault.name.lower(), e.item.friendly_name.lower(), e.item.id))
        if io.json:
            rows = []
            for e in chosen:
                row = item_json(e.item, now)
                row.update({"vault": e.vault.arm_id, "vault_name": e.vault.name, "location": e.location})
                rows.append(row)
            io.emit_json({**head, "items": rows}, rows="items")
            return 0
        if not chosen:
            io.out("No replicated items match.")
            return 0
        cells = []
        for e in chosen:
            newest = e.item.last_recovery_point_time
            cells.append(
                [
                    e.item.friendly_name,
                    e.vault.name,
                    e.location or "-",
                    f"{glyph(io, e.stage)} {e.stage.short}",
                    e.item.replication_health or "-",
                    short_age(_age(now, newest)),
                ]
            )
        headers = ["NAME", "VAULT", "REGION", "STAGE", "HEALTH", "POINT AGE"]
        for line in table(headers, cells, [16, 18, 11, 17, 8, 9], width=io.width):
            io.out(line)
        io.out("")
        say(io.out, f"{len(chosen)} of {len(items)} items across {len(vaults)} vaults. {NOTE}")
        return 0
    vaults.sort(key=lambda v: (v.ref.subscription_id.lower(), v.location, v.ref.name.lower()))
    if io.json:
        head["totals"] = {
            "vaults": len(vaults),
            "items": len(items),
            "stages": {s.key: sum(v.stages.get(s, 0) for v in vaults) for s in Stage},
        }
        io.emit_json({**head, "vaults": [vault_json(v, now) for v in vaults]}, rows="vaults")
        return 0
    if not vaults:
        io.out("Resource Graph shows no Recovery Services vault in scope.")
        return 0
    vault_rows = []
    for v in vaults:
        counts = [str(sum(v.stages.get(s, 0) for s in group)) for _, group in STAGE_COLUMNS]
        worst = f"{v.health.get('Critical', 0)}/{v.health.get('Warning', 0)}"
        vault_rows.append([v.ref.name, v.location or "-", *counts, worst, short_age(_age(now, v.oldest_point))])
    headers = ["VAULT", "REGION", *(h for h, _ in STAGE_COLUMNS), "CR/WN", "OLDEST"]
    for line in table(headers, vault_rows, [18, 11, 3, 3, 3, 3, 3, 3, 5, 6], width=io.width):
        io.out(line)
    io.out("")
    say(io.out, LEGEND)
    io.out("")
    subs = {v.ref.subscription_id.lower() for v in vaults}
    say(io.out, f"{len(vaults)} vaults in {len(subs)} subscriptions, {len(items)} items. {NOTE}")
    return 0
