"""The focused item: stage and next step, health errors, recovery points, servers and its job."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from rich.text import Text
from textual.widgets import Static

from core.failback import derive_stage, next_step, stage_reason
from core.model import Fabric, Job, MasterTarget, PointKind, ProcessServer, ProtectedItem, RecoveryPoint, Stage
from core.preflight import READY_BLOCKED, Check, master_target_health
from core.providers.modernized import FAILBACK, appliance_of
from core.units import NOT_REPORTED, bytes_text, gb_text, space_text
from tui.glyphs import Glyphs
from tui.session import MANUAL_CHECKS, AgentRetry
from tui.text import age, clean, clock_time, compact_duration, details_text, plain
from tui.widgets.pane import Pane


@dataclass
class DetailContext:
    """Everything the pane shows besides the item itself; pieces arrive at different times."""

    now: datetime
    tz: tzinfo | None
    glyphs: Glyphs
    points: list[RecoveryPoint] | None = None  # None: not loaded yet
    fabrics: list[Fabric] | None = None
    job: Job | None = None
    retry: AgentRetry | None = None
    ticked: int = 0
    blocked: tuple[Check, ...] = ()  # the FAILs the preflight would stop a ready VM on (core.preflight.blocking)


def find_servers(item: ProtectedItem, fabrics: list[Fabric]) -> tuple[ProcessServer | None, MasterTarget | None]:
    ps = next((p for f in fabrics for p in f.process_servers if p.id and p.id == item.process_server_id), None)
    mt = next((m for f in fabrics for m in f.master_targets if m.id and m.id == item.master_target_id), None)
    return ps, mt


def current_task(job: Job) -> str:
    running = [t for t in job.tasks if t.state.value == "InProgress"]
    if running:
        return running[0].friendly_name or running[0].name
    failed = [t for t in job.tasks if t.state.value == "Failed"]
    return (failed[0].friendly_name or failed[0].name) if failed else ""


def _beat(then: datetime | None, now: datetime) -> str:
    return NOT_REPORTED if then is None else f"{age(then, now)} ago"


def render_detail(item: ProtectedItem, ctx: DetailContext) -> Text:
    g = ctx.glyphs
    stage = derive_stage(item)
    text = Text()
    # Every value below but our own words comes from ASR (names from vCenter): made inert by clean().
    text.append(f"{clean(item.friendly_name or item.name)}\n", style="bold")
    if ctx.retry is not None:
        r = ctx.retry
        when = "now" if r.running else f"in {int(r.seconds_left(ctx.now))} s"
        text.append(
            f"{g.expected} Waiting for the agent — retry {r.attempt} of {r.max_attempts} {when}\n", style="bold"
        )
        text.append("Next: ", style="bold")
        text.append("nothing; the tool reprotects again on its own (x stops it)\n")
    elif ctx.blocked:
        text.append(f"{g.stage(stage)} {READY_BLOCKED}\n", style="bold")
        for check in ctx.blocked:
            glyph = check.level.ascii_glyph if g.ascii_only else check.level.glyph
            text.append(f"  {glyph} {check.level.word} {clean(check.title)}: {clean(check.detail)}\n")
        text.append("Next: ", style="bold")
        text.append("fix what fails (F shows every check and what to do); f asks for a reason to go on anyway\n")
    else:
        text.append(f"{g.stage(stage)} {stage.label}\n", style="bold")
        reason = stage_reason(item)
        if reason:
            text.append(f"{clean(reason)}\n")
        step = next_step(item)
        if step:
            text.append("Next: ", style="bold")
            text.append(f"{clean(step)}\n")

    text.append("\nReplication\n", style="bold underline")
    health, failover = clean(item.replication_health or "—"), clean(item.failover_health or "—")
    text.append(f"  Health {health} · failover health {failover}\n")
    text.append(f"  Provider {item.provider.value} ({clean(item.instance_type or 'unknown')})\n")
    text.append(f"  State {clean(item.protection_state_description or item.protection_state or '—')}\n")
    if item.recovery_plans or item.consistency_group:
        plans, group = clean(", ".join(item.recovery_plans) or "—"), clean(item.consistency_group or "—")
        text.append(f"  Plan {plans} · group {group}\n")
    if item.health_errors:
        text.append("\nHealth errors\n", style="bold underline")
        text.append(details_text(item.health_errors))
        text.append("\n")

    if item.rcm is not None and item.instance_type == FAILBACK:
        _freshness_rcm(text, item, ctx)
    else:
        _points(text, item, ctx)

    if ctx.fabrics is not None and item.rcm is not None and item.process_server_id:
        _appliance(text, item, ctx.fabrics, ctx.now)
    elif ctx.fabrics is not None and (item.process_server_id or item.master_target_id):
        _servers(text, item, ctx.fabrics, ctx.now)

    if ctx.job is not None:
        job = ctx.job
        text.append("\nJob\n", style="bold underline")
        text.append(f"  {g.job(job.state)} {clean(job.title)} · {job.state.word}\n")
        task = current_task(job)
        if task:
            text.append(f"  Task: {clean(task)}\n")
        if job.start_time:
            end = job.end_time or ctx.now
            text.append(f"  Started {clock_time(job.start_time, ctx.tz)}, ran {age(job.start_time, end)}\n")
    if ctx.retry is not None:
        r = ctx.retry
        text.append("\nReprotect retry\n", style="bold underline")
        text.append(
            "  The mobility agent on the AVS VM has not registered yet (normal for up to 15 minutes after it boots).\n"
        )
        if r.running:
            text.append(f"  Attempt {r.attempt} of {r.max_attempts} is being sent…\n")
        else:
            text.append(
                f"  Retrying in {int(r.seconds_left(ctx.now))} s (attempt {r.attempt} of {r.max_attempts}). "
                "Press x to stop retrying.\n"
            )
    if stage is Stage.FAILED_OVER:
        text.append("\nVerification\n", style="bold underline")
        text.append(f"  {ctx.ticked} of {len(MANUAL_CHECKS)} checks ticked · press v to verify\n")
    text.rstrip()
    return text


class ItemDetail(Pane):
    """Scrollable pane; the dashboard hands it an item and a context whenever either changes."""

    DEFAULT_CLASSES = "item-detail"
    _shown: Text | None = None

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static("Select an item to see its detail.", id="detail-body")

    def show(self, item: ProtectedItem | None, ctx: DetailContext | None) -> None:
        shown = render_detail(item, ctx) if item is not None and ctx is not None else Text("No item selected.")
        self._put(shown)

    def say(self, text: str) -> None:
        """A line in place of the detail, while there is none to show."""
        self._put(plain(text))

    def _put(self, shown: Text) -> None:
        body = self.query_one("#detail-body", Static)
        # The same detail is not sent again: an update re-lays-out the pane and the screen around it.
        if shown != self._shown:
            self._shown = shown
            body.update(shown)


def _points(text: Text, item: ProtectedItem, ctx: DetailContext) -> None:
    text.append("\nRecovery points\n", style="bold underline")
    newest = item.last_recovery_point_time
    if ctx.points is None:
        if newest:
            text.append(f"  Newest {clock_time(newest, ctx.tz)}, {age(newest, ctx.now)} ago\n")
        text.append("  Loading the list…\n", style="dim")
    elif not ctx.points:
        text.append("  None yet: failover is not possible until ASR has a recovery point.\n")
    else:
        latest = max(ctx.points, key=lambda p: p.time)
        # The item's own newest point when it is newer than the list (read a moment earlier): the row shows that one.
        shown = newest if newest is not None and newest > latest.time else latest.time
        kind = f" ({latest.kind.value})" if shown == latest.time else ""
        text.append(f"  Newest {clock_time(shown, ctx.tz)}, {age(shown, ctx.now)} ago{kind}\n")
        app = next((p for p in ctx.points if p.kind is PointKind.APP_CONSISTENT), None)
        if app is not None:
            text.append(f"  App-consistent {clock_time(app.time, ctx.tz)}, {age(app.time, ctx.now)} ago\n")
        text.append(f"  {len(ctx.points)} points held\n")
    rpo = NOT_REPORTED if item.rpo_seconds is None else compact_duration(item.rpo_seconds)
    text.append(f"  RPO {rpo}\n")


def _servers(text: Text, item: ProtectedItem, fabrics: list[Fabric], now: datetime) -> None:
    ps, mt = find_servers(item, fabrics)
    text.append("\nServers\n", style="bold underline")
    if ps is not None:
        beat = _beat(ps.last_heartbeat, now)
        text.append(
            f"  Process server {clean(ps.friendly_name)} · health {clean(ps.health or 'unknown')} · heartbeat {beat}\n"
        )
    if mt is not None:
        beat = _beat(mt.last_heartbeat, now)
        mt_health = clean(master_target_health(mt))
        text.append(f"  Master target {clean(mt.name)} · health {mt_health} · heartbeat {beat}\n")
        for vol in mt.retention_volumes:
            space = space_text(vol.free_bytes, vol.capacity_bytes, bytes_text)
            text.append(f"    Retention {clean(vol.name)} {space}\n")
        for ds in mt.datastores:
            text.append(f"    Datastore {clean(ds.name)} {space_text(ds.free_gb, ds.capacity_gb, gb_text)}\n")


def _freshness_rcm(text: Text, item: ProtectedItem, ctx: DetailContext) -> None:
    """A modernized failback leg has no recovery point time nor RPO (MODERNIZED.md §10): ASR makes the point when
    the planned failover starts. Its disks' last sync is shown as ASR reports it, with no age: it is recorded hours
    and weeks behind its answer, so no data-loss figure is drawn from it."""
    rcm = item.rcm
    text.append("\nReplication to AVS\n", style="bold underline")
    text.append("  No recovery point list: ASR makes the point when the planned failover starts\n")
    synced = rcm.disks_last_synced if rcm is not None else None
    if synced is None:
        text.append(f"  Disks last synced {NOT_REPORTED} (read with the VM alone)\n")
    else:
        ahead = " (ahead of the vault's clock)" if synced > ctx.now else ""
        text.append(f"  Disks last synced {clock_time(synced, ctx.tz)}, as ASR reports it{ahead}\n")
    if rcm is not None and rcm.ir_percent is not None and rcm.ir_percent < 100:
        text.append(f"  Initial replication {rcm.ir_percent} %\n")


def _appliance(text: Text, item: ProtectedItem, fabrics: list[Fabric], now: datetime) -> None:
    """A modernized VM's replication appliance, from the fabric's component lists."""
    found = appliance_of(fabrics, item.process_server_id)
    text.append("\nReplication appliance\n", style="bold underline")
    if found is None:
        name = item.rcm.appliance_name if item.rcm is not None and item.rcm.appliance_name else item.process_server_id
        text.append(f"  {clean(name)} · not listed by the vault's fabrics\n")
        return
    health = clean(found.health or NOT_REPORTED)
    text.append(f"  {clean(found.name)} · health {health} · heartbeat {_beat(found.last_heartbeat, now)}\n")
    for part in found.unwell:
        text.append(f"    {clean(part.role)} {clean(part.health)}\n")
    if found.accessible_datastores is not None:
        stores = ", ".join(clean(d) for d in found.accessible_datastores) or "none"
        text.append(f"    Reaches {stores} (free space not reported)\n")
