"""Before you start: a read-only check of an item or a plan; each finding is pass, warn or fail, with what to do."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from core.backend import Backend
from core.failback import derive_stage, stage_reason
from core.model import (
    Fabric,
    HealthError,
    Job,
    JobFilter,
    MasterTarget,
    ProcessServer,
    ProtectedItem,
    Provider,
    RecoveryPlan,
    RecoveryPoint,
    Stage,
)
from core.recovery import common_app_consistent_time, duration
from core.units import bytes_text, free_percent, gb_text, space_text

# A process server reports every few minutes; beyond these it is late, then presumed gone.
HEARTBEAT_WARN_AFTER = timedelta(minutes=15)
HEARTBEAT_FAIL_AFTER = timedelta(hours=1)
# Past this age the newest point means a large loss: worth saying before the operator starts.
POINT_STALE_AFTER = timedelta(hours=1)
# Retention volume: warn when ASR's own usage threshold is crossed (80 % when it names none); fail when
# almost full, since the failback replication stops writing there.
DEFAULT_RETENTION_THRESHOLD_PERCENT = 80
RETENTION_FAIL_FREE_PERCENT = 5.0
# Datastores of the master target: where the failed-back disks land.
DATASTORE_WARN_FREE_PERCENT = 15.0
DATASTORE_FAIL_FREE_PERCENT = 3.0

# Only the job states that can still change count as "running".
_RUNNING_JOB_STATES = ("NotStarted", "InProgress", "Suspended")


class Level(enum.Enum):
    """A finding's severity; ordered PASS < PLAN < WARN < FAIL. A word and a glyph, never colour alone.

    PLAN is its own state, not a failure: a VM of a replication group that a recovery plan holds is fine, and
    fails back with that plan rather than alone.
    """

    PASS = (0, "PASS", "✓", "+")
    PLAN = (1, "PLAN", "→", ">")
    WARN = (2, "WARN", "!", "!")
    FAIL = (3, "FAIL", "✗", "x")

    def __init__(self, rank: int, word: str, glyph: str, ascii_glyph: str) -> None:
        self.rank = rank
        self.word = word
        self.glyph = glyph
        self.ascii_glyph = ascii_glyph

    @classmethod
    def worst_of(cls, levels: Iterable[Level]) -> Level:
        return max(levels, key=lambda level: level.rank, default=cls.PASS)


@dataclass(frozen=True)
class Check:
    """One finding. `remedy` is what to do about it ("" when there is nothing to do)."""

    key: str
    title: str
    level: Level
    detail: str
    remedy: str = ""


@dataclass(frozen=True)
class PreflightReport:
    target_name: str
    checks: tuple[Check, ...]
    kind: str = "item"  # item | plan

    @property
    def worst(self) -> Level:
        return Level.worst_of(c.level for c in self.checks)

    @property
    def ok(self) -> bool:
        """No FAIL: the failback may start (warnings are for the operator to weigh)."""
        return self.worst is not Level.FAIL

    @property
    def failures(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.level is Level.FAIL)

    @property
    def warnings(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.level is Level.WARN)

    @property
    def via_plan(self) -> bool:
        """A VM of a replication group with a plan: nothing blocks it, but it fails back with its plan only."""
        return self.kind == "item" and self.ok and any(c.level is Level.PLAN for c in self.checks)

    def check(self, key: str) -> Check:
        for found in self.checks:
            if found.key == key:
                return found
        raise KeyError(key)

    @property
    def summary(self) -> str:
        fails, warns = len(self.failures), len(self.warnings)
        if fails:
            head = f"{self.target_name}: not ready, {fails} blocking problem{'s' if fails != 1 else ''}"
        elif self.via_plan:
            head = f"{self.target_name}: fails back with its recovery plan"
        else:
            head = f"{self.target_name}: ready to fail back"
        if warns:
            head += f", {warns} warning{'s' if warns != 1 else ''}"
        return head

    def lines(self, ascii_only: bool = False) -> list[str]:
        """Plain text for the CLI and the report: one line per check, its remedy indented below."""
        out = [self.summary]
        for c in self.checks:
            glyph = c.level.ascii_glyph if ascii_only else c.level.glyph
            out.append(f"  {glyph} {c.level.word:<4} {c.title}: {c.detail}")
            if c.remedy and c.level is not Level.PASS:
                out.append(f"         → {c.remedy}" if not ascii_only else f"         -> {c.remedy}")
        return out


# -- small helpers --------------------------------------------------------------------------------------------


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def _age(now: datetime, then: datetime) -> timedelta:
    return _aware(now) - _aware(then)


def _same_id(a: str, b: str) -> bool:
    return bool(a) and a.strip().lower() == b.strip().lower()


def master_target_health(mt: MasterTarget) -> str:
    """A master target's health as its health errors say it, or "not reported": the SDK's MasterTargetServer has
    no health field (its healthErrors are its only health), so an answer without that list is said as such, never
    read as Normal."""
    return mt.health if mt.health_reported else "not reported"


def find_process_server(fabrics: Sequence[Fabric], server_id: str) -> ProcessServer | None:
    for fabric in fabrics:
        for ps in fabric.process_servers:
            if _same_id(ps.id, server_id) or _same_id(ps.friendly_name, server_id):
                return ps
    return None


def find_master_target(fabrics: Sequence[Fabric], target_id: str) -> MasterTarget | None:
    for fabric in fabrics:
        for mt in fabric.master_targets:
            if _same_id(mt.id, target_id) or _same_id(mt.name, target_id):
                return mt
    return None


# -- the individual checks (pure) -------------------------------------------------------------------------------


def check_direction(item: ProtectedItem) -> Check:
    title = "Replicates from Azure to AVS"
    if item.provider is Provider.MODERNIZED:
        from core.providers import modernized_preflight

        return modernized_preflight.check_direction(item)
    # The failed-back item keeps its InMage / Azure fields until reprotect swaps them: look at the stage first.
    stage = derive_stage(item)
    if stage in (Stage.FAILED_OVER, Stage.COMMIT_RUNNING, Stage.COMMITTED, Stage.REPROTECT_RUNNING):
        return Check(
            "direction",
            title,
            Level.FAIL,
            f"{item.friendly_name} has already been failed back ({stage.label}).",
            "Nothing to start here: continue with its next step (verify and commit, or reprotect to Azure).",
        )
    if item.instance_type == "InMage" and item.active_site_type.lower() == "azure":
        return Check(
            "direction", title, Level.PASS, "Reprotected from Azure: the failback leg (InMage, active site Azure)."
        )
    if item.instance_type == "InMageAzureV2":
        return Check(
            "direction",
            title,
            Level.FAIL,
            f"{item.friendly_name} replicates from AVS to Azure (InMageAzureV2), not back to AVS.",
            "Fail it over to Azure and reprotect it from Azure to AVS first; failback starts from that state.",
        )
    kind = item.instance_type or "unknown"
    return Check(
        "direction",
        title,
        Level.FAIL,
        f"{item.friendly_name} ({kind}, active site {item.active_site_type or 'unknown'}) is not on the "
        "Azure-to-AVS failback leg.",
        "Reprotect the Azure VM to AVS (choose the master target and process server) and wait for it to "
        "reach Protected before failing back.",
    )


def check_allowed(item: ProtectedItem) -> Check:
    title = "ASR offers failover"
    if item.allows("UnplannedFailover"):
        return Check("allowed-operation", title, Level.PASS, "UnplannedFailover is among the allowed operations.")
    allowed = ", ".join(item.allowed_operations) or "none"
    return Check(
        "allowed-operation",
        title,
        Level.FAIL,
        f"ASR does not offer UnplannedFailover for {item.friendly_name} now (allowed: {allowed}). {stage_reason(item)}",
        "Refresh in a minute; if it stays so, open the item in the portal and resolve its health errors.",
    )


def check_points(item: ProtectedItem, points: Sequence[RecoveryPoint], now: datetime) -> Check:
    title = "Recovery point available"
    if not points:
        return Check(
            "recovery-points",
            title,
            Level.FAIL,
            f"{item.friendly_name} has no recovery point on the AVS side yet.",
            "Wait for replication from Azure to AVS to produce one (check the item's RPO and the process "
            "server), then run the check again.",
        )
    newest = max(points, key=lambda p: _aware(p.time))
    age = _age(now, newest.time)
    apps = sum(1 for p in points if p.kind.value == "app-consistent")
    detail = f"{len(points)} points ({apps} app-consistent); the newest is {duration(age.total_seconds())} old."
    if age > POINT_STALE_AFTER:
        return Check(
            "recovery-points",
            title,
            Level.WARN,
            detail,
            f"Replication seems stalled: failing back now loses at least {duration(age.total_seconds())} of "
            "writes. Check the process server's health and the item's RPO before starting.",
        )
    return Check("recovery-points", title, Level.PASS, detail)


def heartbeat_level(now: datetime, beat: datetime | None) -> tuple[Level, str]:
    if beat is None:
        return Level.WARN, "ASR reports no heartbeat time"
    age = _age(now, beat)
    said = f"last heartbeat {duration(max(0.0, age.total_seconds()))} ago"
    if age > HEARTBEAT_FAIL_AFTER:
        return Level.FAIL, said
    if age > HEARTBEAT_WARN_AFTER:
        return Level.WARN, said
    return Level.PASS, said


def check_process_server(item: ProtectedItem, fabrics: Sequence[Fabric], now: datetime) -> Check:
    title = "Process server in Azure"
    if not item.process_server_id:
        return Check(
            "process-server",
            title,
            Level.FAIL,
            f"ASR names no process server for {item.friendly_name}.",
            "Reprotect to AVS assigns the Azure process server; check the item's replication settings in the "
            "portal and that the process server is registered with the configuration server.",
        )
    ps = find_process_server(fabrics, item.process_server_id)
    if ps is None:
        return Check(
            "process-server",
            title,
            Level.FAIL,
            f"The process server {item.process_server_id} is not listed by any fabric of the vault.",
            "Check that the Azure process server is registered with the configuration server (Site Recovery "
            "infrastructure → Configuration servers) and that its services run.",
        )
    beat_level, beat_text = heartbeat_level(now, ps.last_heartbeat)
    health = ps.health or "unknown"
    health_level = {"normal": Level.PASS, "warning": Level.WARN, "critical": Level.FAIL}.get(health.lower(), Level.WARN)
    level = Level.worst_of((beat_level, health_level))
    detail = f"{ps.friendly_name} ({ps.ip_address or 'no IP'}): health {health}, {beat_text}."
    if ps.service_status and ps.service_status.lower() not in ("running", ""):
        detail += f" Services: {ps.service_status}."
        level = Level.worst_of((level, Level.WARN))
    if level is Level.PASS:
        return Check("process-server", title, level, detail)
    remedy = (
        f"Sign in to {ps.friendly_name} in Azure and check its services (cxprocessserver, tmansvc, "
        "InMage Scout Application Service) and its connection to the configuration server on 443 and 9443/TCP."
    )
    return Check("process-server", title, level, detail, with_advice(remedy, ps.health_errors))


def with_advice(remedy: str, errors: Iterable[HealthError]) -> str:
    """The remedy, followed by what ASR itself recommends in the health errors (each advice once)."""
    advice = [e.recommended_action for e in errors if e.recommended_action]
    return remedy + (" ASR recommends: " + " ".join(dict.fromkeys(advice)) if advice else "")


def _retention_level(mt: MasterTarget) -> tuple[Level, str, str]:
    if not mt.retention_volumes:
        return (
            Level.WARN,
            "ASR lists no retention volume for it",
            "Check on the master target that its retention drive is mounted and has free space.",
        )
    level, notes, unknown = Level.PASS, [], []
    for vol in mt.retention_volumes:
        pct = free_percent(vol.free_bytes, vol.capacity_bytes)
        notes.append(f"{vol.name} {space_text(vol.free_bytes, vol.capacity_bytes, bytes_text)}")
        if pct is None:
            # Not a reading to judge by: look at the drive instead of blocking on a figure ASR did not give.
            unknown.append(vol.name)
            level = Level.worst_of((level, Level.WARN))
            continue
        threshold = vol.threshold_percent or DEFAULT_RETENTION_THRESHOLD_PERCENT
        if pct < RETENTION_FAIL_FREE_PERCENT:
            level = Level.FAIL
        elif 100.0 - pct >= threshold:
            level = Level.worst_of((level, Level.WARN))
    remedies = []
    if unknown:
        remedies.append(
            f"ASR did not report the space of {', '.join(unknown)}: look at that drive on the master target "
            f"{mt.name} itself (its free space in the operating system) before failing back."
        )
    if len(unknown) < len(mt.retention_volumes) and level is not Level.PASS:
        remedies.append(
            f"Free space on the retention drive of {mt.name} (older retention logs can go, or extend the disk), "
            "or pick another master target when reprotecting to AVS."
        )
    return level, "retention " + "; ".join(notes), " ".join(remedies)


def check_master_target(item: ProtectedItem, fabrics: Sequence[Fabric], now: datetime) -> Check:
    title = "Master target in AVS"
    if not item.master_target_id:
        return Check(
            "master-target",
            title,
            Level.FAIL,
            f"ASR names no master target for {item.friendly_name}.",
            "Failback needs a master target server in AVS: deploy one (Linux for Linux VMs, Windows for Windows "
            "VMs), register it with the configuration server, and reprotect the VM to AVS through it.",
        )
    mt = find_master_target(fabrics, item.master_target_id)
    if mt is None:
        return Check(
            "master-target",
            title,
            Level.FAIL,
            f"The master target {item.master_target_id} is not listed by any fabric of the vault.",
            "Check that the master target in AVS is running and registered with the configuration server.",
        )
    health = master_target_health(mt)
    # Not reported is not a problem of its own: the heartbeat and the retention space below still judge it.
    level = {"normal": Level.PASS, "warning": Level.WARN, "critical": Level.FAIL}.get(health.lower(), Level.PASS)
    parts = [f"{mt.name} ({mt.ip_address or 'no IP'}): health {health}"]
    parts += [f"[{e.code}] {e.message}" if e.code else e.message for e in mt.health_errors[:3] if e.message]
    if mt.last_heartbeat is not None:
        beat_level, beat_text = heartbeat_level(now, mt.last_heartbeat)
        level = Level.worst_of((level, beat_level))
        parts.append(beat_text)
    remedies = []
    if level is not Level.PASS:
        remedies.append(f"Check that {mt.name} runs and that its agent reaches the configuration server.")
        remedies += list(dict.fromkeys(e.recommended_action for e in mt.health_errors if e.recommended_action))
    ret_level, ret_text, ret_remedy = _retention_level(mt)
    parts.append(ret_text)
    if ret_level is not Level.PASS:
        remedies.append(ret_remedy)
    level = Level.worst_of((level, ret_level))
    if mt.os_type and item.os_type and mt.os_type.lower() != item.os_type.lower():
        level = Level.worst_of((level, Level.WARN))
        parts.append(f"its OS ({mt.os_type}) differs from the VM's ({item.os_type})")
        remedies.append("ASR needs a Linux master target for Linux VMs; use one that matches the VM's OS.")
    return Check("master-target", title, level, "; ".join(parts) + ".", " ".join(remedies))


def check_datastores(item: ProtectedItem, fabrics: Sequence[Fabric]) -> Check:
    """Room for the failed-back disks. A datastore whose figures ASR did not report (or wrote in a form that
    cannot be read) is a warning to look in vCenter, never a failure: only known full datastores block."""
    title = "Datastore space in AVS"
    mt = find_master_target(fabrics, item.master_target_id) if item.master_target_id else None
    if mt is None:
        return Check(
            "datastores", title, Level.WARN, "No master target known, so its datastores could not be read.",
            "Fix the master target first (see above), then run the check again.",
        )  # fmt: skip
    if not mt.datastores:
        return Check(
            "datastores",
            title,
            Level.WARN,
            f"ASR lists no datastore for {mt.name}.",
            "In vCenter, check that the master target's ESXi host sees the datastore the VM fails back to.",
        )
    notes, low, unknown, roomy = [], [], [], 0
    for ds in mt.datastores:
        pct = free_percent(ds.free_gb, ds.capacity_gb)
        notes.append(f"{ds.name} {space_text(ds.free_gb, ds.capacity_gb, gb_text)}")
        if pct is None:
            unknown.append(ds.name)
            continue
        if pct < DATASTORE_WARN_FREE_PERCENT:
            low.append(ds.name)
        if pct >= DATASTORE_FAIL_FREE_PERCENT:
            roomy += 1
    detail = "; ".join(notes) + "."
    if roomy == 0 and not unknown:
        return Check(
            "datastores",
            title,
            Level.FAIL,
            detail,
            "Every datastore of the master target is full: free space in vSAN/the datastore (or add capacity "
            "to the AVS cluster) before failing back.",
        )
    remedies = []
    if unknown:
        remedies.append(
            f"ASR did not report the space of {', '.join(unknown)}: look at it in vCenter (Storage → the datastore "
            "→ Summary: capacity and free space) and make sure the VM's disks fit before failing back."
        )
    if low:
        remedies.append(
            f"Low space on {', '.join(low)}: make sure the VM's datastore has room for its disks, or free space."
        )
    if remedies:
        return Check("datastores", title, Level.WARN, detail, " ".join(remedies))
    return Check("datastores", title, Level.PASS, detail)


def check_health(item: ProtectedItem) -> Check:
    title = "Replication health"
    health = item.replication_health or "unknown"
    level = {"normal": Level.PASS, "warning": Level.WARN, "critical": Level.FAIL, "none": Level.PASS}.get(
        health.lower(), Level.WARN
    )
    errors = [e for e in item.health_errors if e.message]
    detail = f"{health}."
    if errors:
        detail += " " + " ".join(f"[{e.code}] {e.message}" if e.code else e.message for e in errors[:3])
    if level is Level.PASS:
        return Check("replication-health", title, level, detail)
    advice = [e.recommended_action for e in errors if e.recommended_action]
    remedy = " ".join(dict.fromkeys(advice)) or (
        "Open the item in the portal (Replicated items → the VM → Error details) and resolve what it lists."
    )
    return Check("replication-health", title, level, detail, remedy)


def _job_targets(job: Job, item: ProtectedItem) -> bool:
    target = job.target_object_name.lower()
    if target and target in (item.friendly_name.lower(), item.name.lower()):
        return True
    return _same_id(job.target_object_id, item.id)


def check_running_jobs(item: ProtectedItem, running_jobs: Sequence[Job]) -> Check:
    title = "No other job on it"
    scenario = item.current_scenario
    if scenario is not None:
        return Check(
            "running-job",
            title,
            Level.FAIL,
            f"A {scenario.name} job ({scenario.job_name}) is running on {item.friendly_name}.",
            f"Wait for job {scenario.job_name} to finish (`avs-failback job {scenario.job_name}`), or follow it "
            "instead of starting another.",
        )
    others = [j for j in running_jobs if j.is_running and _job_targets(j, item)]
    if others:
        job = others[0]
        return Check(
            "running-job",
            title,
            Level.WARN,
            f"A {job.friendly_name or job.scenario_name} job ({job.name}, {job.state.word}) names "
            f"{item.friendly_name}.",
            f"Look at job {job.name} before starting: someone may be working on this VM.",
        )
    return Check("running-job", title, Level.PASS, "No job is running on it.")


def _plan_names(item: ProtectedItem, plans: Sequence[RecoveryPlan]) -> list[str]:
    found = [p.friendly_name or p.name for p in plans if any(_same_id(i, item.id) for i in p.item_ids)]
    if found:
        return found
    by_name = {p.name.lower(): p.friendly_name or p.name for p in plans}
    return [by_name.get(n.lower(), n) for n in item.recovery_plans]


def check_group(item: ProtectedItem, plans: Sequence[RecoveryPlan] = ()) -> Check:
    title = "Replication group"
    group = item.consistency_group
    if not group:
        return Check("consistency-group", title, Level.PASS, "The VM replicates on its own.")
    names = _plan_names(item, plans)
    detail = f"{item.friendly_name} belongs to the multi-VM replication group {group!r}: its VMs recover together."
    if names:
        quoted = " or ".join(repr(n) for n in names)
        # Not a problem: the plan is how this VM fails back. Its own state, so a vault of groups does not read as
        # a vault of failures.
        return Check(
            "consistency-group",
            title,
            Level.PLAN,
            detail,
            f"Fail back its recovery plan instead: {quoted}, so that the group's VMs recover together.",
        )
    return Check(
        "consistency-group",
        title,
        Level.FAIL,
        detail,
        "Fail back its recovery plan instead; no plan in this vault holds it yet: create one with every VM of "
        f"the group {group!r}, then fail the plan back.",
    )


def check_network_path() -> Check:
    return Check(
        "network-path",
        "Network path Azure → AVS",
        Level.WARN,
        "The VPN / ExpressRoute path from Azure to AVS cannot be probed from here.",
        "Check by hand: the site-to-site VPN or the ExpressRoute private peering between the Azure network and "
        "AVS is connected; the Azure process server and the AVS master target reach each other on 9443/TCP "
        "(and the configuration server on 443 and 9443/TCP); DNS in AVS resolves the failed-back VMs' names; "
        "NSGs and the NSX-T firewall allow that traffic.",
    )


# -- evaluators -------------------------------------------------------------------------------------------------


def evaluate_item(
    item: ProtectedItem,
    points: Sequence[RecoveryPoint],
    fabrics: Sequence[Fabric],
    running_jobs: Sequence[Job],
    now: datetime,
    *,
    plans: Sequence[RecoveryPlan] = (),
) -> tuple[Check, ...]:
    """Every check for one VM failed back on its own, in the order an operator reads them."""
    if item.provider is Provider.MODERNIZED:
        from core.providers import modernized_preflight

        return modernized_preflight.evaluate(item, running_jobs, fabrics, now, plans=plans)
    return (
        check_direction(item),
        check_allowed(item),
        check_points(item, points, now),
        check_process_server(item, fabrics, now),
        check_master_target(item, fabrics, now),
        check_datastores(item, fabrics),
        check_health(item),
        check_running_jobs(item, running_jobs),
        check_group(item, plans),
        check_network_path(),
    )


def _merge(key: str, title: str, per_vm: Sequence[tuple[ProtectedItem, Check]], all_pass: str) -> Check:
    """One plan-level check from the same check on every VM: the worst level, naming the VMs concerned."""
    level = Level.worst_of(c.level for _, c in per_vm)
    if level is Level.PASS:
        return Check(key, title, level, all_pass)
    bad = [(i, c) for i, c in per_vm if c.level is not Level.PASS]
    detail = " ".join(f"{i.friendly_name}: {c.detail}" for i, c in bad)
    remedy = " ".join(dict.fromkeys(c.remedy for _, c in bad if c.remedy))
    return Check(key, title, level, detail, remedy)


def _shared_servers(items: Sequence[ProtectedItem], fabrics: Sequence[Fabric], now: datetime) -> list[Check]:
    """Process servers, master targets and datastores, checked once per distinct server (plans share them)."""
    checks = []
    seen: dict[str, Check] = {}
    per_vm_ps, per_vm_mt, per_vm_ds = [], [], []
    for item in items:
        ps_key = "ps:" + item.process_server_id.lower()
        if ps_key not in seen:
            seen[ps_key] = check_process_server(item, fabrics, now)
        per_vm_ps.append((item, seen[ps_key]))
        mt_key = f"mt:{item.master_target_id.lower()}:{item.os_type.lower()}"
        if mt_key not in seen:
            seen[mt_key] = check_master_target(item, fabrics, now)
            seen["ds:" + mt_key] = check_datastores(item, fabrics)
        per_vm_mt.append((item, seen[mt_key]))
        per_vm_ds.append((item, seen["ds:" + mt_key]))
    checks.append(_dedup_merge("process-server", "Process servers in Azure", per_vm_ps))
    checks.append(_dedup_merge("master-target", "Master targets in AVS", per_vm_mt))
    checks.append(_dedup_merge("datastores", "Datastore space in AVS", per_vm_ds))
    return checks


def _dedup_merge(key: str, title: str, per_vm: Sequence[tuple[ProtectedItem, Check]]) -> Check:
    """Like _merge, but a server shared by several VMs is described once, with the VMs that use it."""
    groups: dict[int, tuple[Check, list[str]]] = {}
    for item, check in per_vm:
        entry = groups.setdefault(id(check), (check, []))
        entry[1].append(item.friendly_name)
    level = Level.worst_of(c.level for c, _ in groups.values())
    ordered = sorted(groups.values(), key=lambda e: -e[0].level.rank)
    detail = " ".join(f"{c.detail} (used by {', '.join(names)})" for c, names in ordered)
    remedy = " ".join(dict.fromkeys(c.remedy for c, _ in ordered if c.remedy and c.level is not Level.PASS))
    return Check(key, title, level, detail, remedy)


def _group_targets(items: Sequence[ProtectedItem]) -> Check:
    title = "One master target per replication group"
    groups: dict[str, set[str]] = {}
    for item in items:
        if item.consistency_group:
            groups.setdefault(item.consistency_group, set()).add(item.master_target_id.lower())
    split = sorted(g for g, targets in groups.items() if len(targets) > 1)
    if not split:
        return Check("group-targets", title, Level.PASS, "Each replication group uses a single master target.")
    return Check(
        "group-targets",
        title,
        Level.WARN,
        f"The VMs of {', '.join(repr(g) for g in split)} use different master targets.",
        "ASR expects every VM of a replication group on the same master target: reprotect the odd ones to AVS "
        "through the group's master target before failing the plan back.",
    )


def evaluate_plan(
    plan: RecoveryPlan,
    items: Sequence[ProtectedItem],
    points_by_item: Mapping[str, Sequence[RecoveryPoint]],
    fabrics: Sequence[Fabric],
    running_jobs: Sequence[Job],
    now: datetime,
) -> tuple[Check, ...]:
    """Every check for a recovery plan: the plan itself, then each VM's, merged to name the VMs concerned.

    `items` may be the whole vault (the plan's members are picked out; the others show replication groups
    split across the plan's edge). `points_by_item` is keyed by the item's name (its ARM name).
    """
    by_id = {i.id.lower(): i for i in items}
    members = [by_id[i.lower()] for i in plan.item_ids if i.lower() in by_id]
    missing = [i for i in plan.item_ids if i.lower() not in by_id]
    checks: list[Check] = []
    label = plan.friendly_name or plan.name
    if missing:
        names = ", ".join(i.rsplit("/", 1)[-1] for i in missing)
        checks.append(
            Check(
                "plan-members",
                "Every plan member is replicated",
                Level.FAIL,
                f"The plan lists items the vault no longer has: {names}.",
                f"Edit {label!r}: remove the VMs that are no longer replicated, or enable their replication again.",
            )
        )
    elif not members:
        checks.append(
            Check(
                "plan-members",
                "Every plan member is replicated",
                Level.FAIL,
                "The plan holds no VM.",
                f"Add the VMs to fail back to {label!r}, or fail them back one by one.",
            )  # fmt: skip
        )
    else:
        checks.append(
            Check("plan-members", "Every plan member is replicated", Level.PASS, f"{len(members)} VMs in the plan.")
        )
    if plan.current_scenario is not None:
        s = plan.current_scenario
        checks.append(
            Check(
                "plan-running-job",
                "No job running on the plan",
                Level.FAIL,
                f"A {s.name} job ({s.job_name}) is running on the plan.",
                f"Wait for job {s.job_name} to finish (`avs-failback job {s.job_name}`), or follow it.",
            )
        )
    else:
        checks.append(Check("plan-running-job", "No job running on the plan", Level.PASS, "The plan is idle."))

    def each(fn: Callable[[ProtectedItem], Check]) -> list[tuple[ProtectedItem, Check]]:
        return [(m, fn(m)) for m in members]

    if members and all(m.provider is Provider.MODERNIZED for m in members):
        return (*checks, *_modernized_plan_checks(members, running_jobs, each, fabrics, now))

    checks.append(
        _merge("direction", "Every VM replicates from Azure to AVS", each(check_direction), "All on the failback leg.")
    )
    checks.append(
        _merge("allowed-operation", "ASR offers failover for every VM", each(check_allowed), "Offered for every VM.")
    )
    point_checks = each(lambda m: check_points(m, points_by_item.get(m.name, ()), now))
    without = [m.friendly_name for m, c in point_checks if c.level is Level.FAIL]
    points_check = _merge("recovery-points", "Every VM has a recovery point", point_checks, "Every VM has one.")
    if without:
        points_check = Check(
            points_check.key,
            points_check.title,
            Level.FAIL,
            f"No recovery point yet for: {', '.join(without)}. " + points_check.detail,
            points_check.remedy,
        )
    checks.append(points_check)
    if members:
        checks.extend(_shared_servers(members, fabrics, now))
    checks.append(_merge("replication-health", "Replication health", each(check_health), "Normal for every VM."))
    checks.append(
        _merge(
            "running-job",
            "No other job on its VMs",
            each(lambda m: check_running_jobs(m, running_jobs)),
            "No job is running on any VM of the plan.",
        )
    )
    checks.append(_group_complete(members, items))
    checks.append(_group_targets(members))
    checks.append(_group_common_points(members, points_by_item))
    checks.append(check_network_path())
    return tuple(checks)


def _modernized_plan_checks(
    members: Sequence[ProtectedItem],
    running_jobs: Sequence[Job],
    each: Callable[[Callable[[ProtectedItem], Check]], list[tuple[ProtectedItem, Check]]],
    fabrics: Sequence[Fabric],
    now: datetime,
) -> list[Check]:
    """A modernized plan: each VM's own modernized checks, merged. No recovery point to check (ASR makes it at the
    trigger), and no classic process server or master target: each VM's replication appliance and datastore."""
    from core.providers import modernized_preflight as rcm

    return [
        _merge(
            "direction", "Every VM replicates from Azure to AVS", each(rcm.check_direction), "All on the failback leg."
        ),
        _merge(
            "allowed-operation",
            "ASR offers the planned failover for every VM",
            each(rcm.check_allowed),
            "Offered for every VM: ASR makes the recovery point when the job starts.",
        ),
        _merge(
            "initial-replication",
            "Initial replication finished on every VM",
            each(rcm.check_initial_replication),
            "Finished on every VM.",
        ),
        _merge(
            "appliance",
            "Replication appliances in AVS",
            each(lambda m: rcm.check_appliance(m, fabrics, now)),
            "Healthy for every VM.",
        ),
        _merge(
            "datastore",
            "Target datastores in AVS",
            each(lambda m: rcm.check_target_datastore(m, fabrics)),
            "Reached by every VM's appliance.",
        ),
        _merge("replication-health", "Replication health", each(rcm.check_replication_health), "Normal for every VM."),
        _merge(
            "running-job",
            "No other job on its VMs",
            each(lambda m: check_running_jobs(m, running_jobs)),
            "No job is running on any VM of the plan.",
        ),
        rcm.check_network_path(),
    ]


def _group_complete(members: Sequence[ProtectedItem], items: Sequence[ProtectedItem]) -> Check:
    title = "Replication groups wholly in the plan"
    inside = {m.id.lower() for m in members}
    groups = {m.consistency_group for m in members if m.consistency_group}
    outside = [i for i in items if i.consistency_group in groups and i.id.lower() not in inside]
    if not outside:
        return Check("group-complete", title, Level.PASS, "Every VM of the plan's replication groups is in the plan.")
    listed = ", ".join(f"{i.friendly_name} ({i.consistency_group})" for i in outside)
    return Check(
        "group-complete",
        title,
        Level.FAIL,
        f"VMs of the plan's replication groups are outside the plan: {listed}.",
        "A replication group fails over as a whole: add those VMs to the plan (or take the group's VMs out of "
        "it), then run the check again.",
    )


def _group_common_points(
    members: Sequence[ProtectedItem], points_by_item: Mapping[str, Sequence[RecoveryPoint]]
) -> Check:
    title = "Common app-consistent point per replication group"
    groups: dict[str, dict[str, Sequence[RecoveryPoint]]] = {}
    for m in members:
        if m.consistency_group:
            groups.setdefault(m.consistency_group, {})[m.friendly_name] = points_by_item.get(m.name, ())
    if not groups:
        return Check("group-common-point", title, Level.PASS, "The plan has no multi-VM replication group.")
    without = sorted(g for g, pts in groups.items() if common_app_consistent_time(pts) is None)
    if not without:
        return Check("group-common-point", title, Level.PASS, "Each replication group has one.")
    return Check(
        "group-common-point",
        title,
        Level.WARN,
        f"No app-consistent point common to all VMs of {', '.join(repr(g) for g in without)}: failing the plan "
        "back to the latest app-consistent point would be refused.",
        "Choose Latest (each VM fails over to its own newest, crash-consistent point), or wait for the next "
        "app-consistent point that the group's VMs share.",
    )


# -- readiness on the dashboard, and going on despite a FAIL ---------------------------------------------------

# How the dashboard words a VM that ASR calls ready but the preflight would stop.
READY_BLOCKED = "Ready — blocked by preflight"
# A reason typed to go on despite a FAIL must say something: at least this many characters.
SKIP_REASON_MIN = 10


class ServerChecks:
    """The server checks of many VMs over one listing of the fabrics, each distinct server checked once a second.

    The dashboard labels every ready row with what the preflight would stop it on; 10,000 rows share a handful
    of process servers and master targets, whose checks were 1.3 s of the loading when made row by row. The
    dashboard holds one and hands it to `blocking` (from its event loop only); the full preflight checks each
    server afresh. A check that names the VM (no server id given) is the VM's own and is never shared."""

    def __init__(self) -> None:
        self._fabrics: object = None
        self._second = 0
        self._seen: dict[tuple[str, ...], Check] = {}

    def get(self, key: tuple[str, ...], fabrics: Sequence[Fabric], now: datetime, work: Callable[[], Check]) -> Check:
        if not key[1]:
            return work()
        second = int(now.timestamp())
        if fabrics is not self._fabrics or second != self._second:
            self._fabrics, self._second, self._seen = fabrics, second, {}
        found = self._seen.get(key)
        if found is None:
            found = self._seen[key] = work()
        return found


def quick_check(
    item: ProtectedItem, fabrics: Sequence[Fabric], now: datetime, servers: ServerChecks | None = None
) -> tuple[Check, ...]:
    """The checks that need nothing but the item and the vault's fabrics, which the dashboard holds already.

    Recovery points, running jobs and the network path need reads of their own (or cannot be probed) and are
    left to the full check; a replication group is not a problem here (the VM fails back with its plan).
    `servers` shares the server checks between the VMs of one listing.
    """
    if item.provider is Provider.MODERNIZED:
        from core.providers import modernized_preflight

        memo = servers or ServerChecks()
        key = ("appliance", item.process_server_id.lower())
        appliance = memo.get(key, fabrics, now, lambda: modernized_preflight.check_appliance(item, fabrics, now))
        return (*modernized_preflight.quick(item), appliance)
    memo = servers or ServerChecks()
    ps, mt = item.process_server_id.lower(), item.master_target_id.lower()
    return (
        check_direction(item),
        check_allowed(item),
        memo.get(("ps", ps), fabrics, now, lambda: check_process_server(item, fabrics, now)),
        memo.get(("mt", mt, item.os_type.lower()), fabrics, now, lambda: check_master_target(item, fabrics, now)),
        memo.get(("ds", mt), fabrics, now, lambda: check_datastores(item, fabrics)),
        check_health(item),
    )


def blocking(
    item: ProtectedItem, fabrics: Sequence[Fabric] | None, now: datetime, servers: ServerChecks | None = None
) -> tuple[Check, ...]:
    """For a VM ASR calls ready to fail back on its own: the FAILs the preflight would stop it on (() otherwise)."""
    if fabrics is None or derive_stage(item) is not Stage.READY or item.consistency_group:
        return ()
    return tuple(c for c in quick_check(item, fabrics, now, servers) if c.level is Level.FAIL)


def decision(report: PreflightReport, reason: str = "") -> dict[str, Any]:
    """What the journal records about the preflight before a send: its outcome, and when the operator went on
    despite a FAIL, the reason they typed and what failed."""
    if report.ok:
        return {"preflight": report.worst.word.lower()}
    reason = " ".join(reason.split())
    if len(reason) < SKIP_REASON_MIN:
        raise ValueError(f"a reason of at least {SKIP_REASON_MIN} characters is needed to go on despite a FAIL")
    return {
        "preflight": "skipped",
        "preflight_reason": reason,
        "preflight_failures": [f"{c.title}: {c.detail}" for c in report.failures],
    }


# -- against a backend (reads only) ---------------------------------------------------------------------------


def _running_jobs(backend: Backend) -> list[Job]:
    return backend.list_jobs(JobFilter(states=_RUNNING_JOB_STATES))


def check_item(
    backend: Backend,
    item: ProtectedItem,
    *,
    fabrics: Sequence[Fabric] | None = None,
    points: Sequence[RecoveryPoint] | None = None,
    running_jobs: Sequence[Job] | None = None,
    plans: Sequence[RecoveryPlan] | None = None,
) -> PreflightReport:
    """Check one VM for a failback on its own. Reads what it is not given; never sends an operation."""
    fabrics = backend.list_fabrics() if fabrics is None else fabrics
    points = backend.list_recovery_points(item) if points is None else points
    running_jobs = _running_jobs(backend) if running_jobs is None else running_jobs
    if plans is None:
        plans = backend.list_plans() if item.consistency_group else ()
    checks = evaluate_item(item, points, fabrics, running_jobs, backend.now(), plans=plans)
    return PreflightReport(item.friendly_name, checks, "item")


def check_plan(
    backend: Backend,
    plan: RecoveryPlan,
    items: Sequence[ProtectedItem],
    *,
    fabrics: Sequence[Fabric] | None = None,
    points_by_item: Mapping[str, Sequence[RecoveryPoint]] | None = None,
    running_jobs: Sequence[Job] | None = None,
) -> PreflightReport:
    """Check a recovery plan for failback. `items` may be the whole vault; the plan's members are picked out."""
    fabrics = backend.list_fabrics() if fabrics is None else fabrics
    running_jobs = _running_jobs(backend) if running_jobs is None else running_jobs
    wanted = {i.lower() for i in plan.item_ids}
    members = [i for i in items if i.id.lower() in wanted]
    points = dict(points_by_item or {})
    for member in members:
        if member.name not in points:
            points[member.name] = backend.list_recovery_points(member)
    checks = evaluate_plan(plan, items, points, fabrics, running_jobs, backend.now())
    return PreflightReport(plan.friendly_name or plan.name, checks, "plan")


def check_vault(backend: Backend) -> list[PreflightReport]:
    """A report for every item ready to fail back and for every recovery plan; shared reads are done once."""
    items = [i for page in backend.iter_item_pages() for i in page]
    fabrics = backend.list_fabrics()
    plans = backend.list_plans()
    running = _running_jobs(backend)
    points: dict[str, Sequence[RecoveryPoint]] = {}
    reports = []
    for item in items:
        if derive_stage(item) is not Stage.READY:
            continue
        points[item.name] = backend.list_recovery_points(item)
        reports.append(
            check_item(backend, item, fabrics=fabrics, points=points[item.name], running_jobs=running, plans=plans)
        )
    for plan in plans:
        reports.append(check_plan(backend, plan, items, fabrics=fabrics, points_by_item=points, running_jobs=running))
    return reports
