"""`preflight`: read-only checks before a failback, with remedies; also the gate the sending commands pass."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cli.context import Context, Io
from cli.options import Commands
from cli.output import all_items, hanging, iso, say, wrap
from core.errors import NotAllowedNow, NotFound, UsageError
from core.failback import (
    resolve_item,
)
from core.model import (
    ProtectedItem,
    RecoveryPlan,
)
from core.preflight import Level, PreflightReport, check_item, check_plan, check_vault


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


def _preflight_lines(io: Io, report: PreflightReport, *, passed: bool = True) -> list[str]:
    """The report at 80 columns: a check per entry, its remedy below; `passed=False` folds the PASS checks."""
    lines = wrap(report.summary)
    folded = 0
    for check in report.checks:
        if check.level is Level.PASS and not passed:
            folded += 1
            continue
        glyph = check.level.glyph if io.unicode else check.level.ascii_glyph
        head = f"  {glyph} {check.level.word:<4} "
        lines += hanging(f"{head}{check.title}: {check.detail}", len(head))
        if check.remedy and check.level is not Level.PASS:
            arrow = " " * len(head) + ("→ " if io.unicode else "-> ")
            lines += hanging(arrow + check.remedy, len(arrow))
    if folded:
        lines.append(f"  ({folded} other check{'s' if folded != 1 else ''} passed)")
    return lines


def preflight_gate(ctx: Context, run: Callable[[], PreflightReport], what: str) -> str:
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
        say(io.err, f"preflight: {report.summary} ({titles}); `avs-failback preflight` shows the remedies.")
    return report.worst.word.lower()


def cmd_preflight(ctx: Context) -> int:
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
                    "time": iso(backend.now()),
                    "worst": worst.word.lower(),
                    "reports": [_preflight_json(r) for r in reports],
                },
                rows="reports",
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
            say(
                io.out,
                f"{len(reports)} checked: {ready} ready, {with_plan} with their plan, "
                f"{len(reports) - ready - with_plan} not ready.",
            )
        return NotAllowedNow.exit_code if worst is Level.FAIL else 0
    if not args.target:
        raise UsageError("Name an item or a plan to check, or pass --all.")
    items = all_items(backend)
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


def register(commands: Commands) -> None:
    p = commands.add(
        "preflight",
        "Fail back one VM",
        "read-only checks before a failback, with remedies",
        description="Checks that a failback would succeed (process server, master target, datastore space, "
        "agent, recovery points), each with its remedy. Sends nothing. Exit 4 when a check blocks.",
        examples=(
            ("one VM", "avs-failback preflight file-01 --demo"),
            ("everything ready, as JSON", "avs-failback preflight --all --demo -o json"),
        ),
    )
    p.add_argument("target", nargs="?", metavar="ITEM|PLAN", help="an item or a recovery plan")
    p.add_argument("--all", action="store_true", help="every item ready to fail back and every plan")
    p.set_defaults(run=cmd_preflight)
