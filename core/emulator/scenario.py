"""Scenario files: the simulated vault's starting state, read from JSON and validated with precise errors."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.emulator.faults import Fault
from core.model import APPLIANCE_ROLES, VaultRef

SCENARIO_DIR = Path(__file__).parent / "scenarios"

STAGES = (
    "in-azure",
    "ready",
    "failover-running",
    "cancel-running",
    "failed-over",
    "commit-running",
    "committed",
    "reprotect-running",
    "protected-to-azure",
    "not-ready",
)
# Stages only the modernized stack has: in Azure before the reprotect to AVS, and a planned failover's cancel.
MODERNIZED_STAGES = ("in-azure", "cancel-running")
NOT_READY_REASONS = ("initial-replication", "no-recovery-point")
PROVIDERS = ("InMage", "InMageRcmFailback")
HEALTHS = ("Normal", "Warning", "Critical", "None")
# The AVS side of a vault: the configuration server's fabric (classic) or the replication appliance's (modernized).
AVS_FABRIC_KINDS = ("VMware", "InMageRcm")
# The component lists of a modernized fabric (InMageRcmFabricSpecificDetails), each naming every appliance once.
APPLIANCE_COMPONENTS = tuple(APPLIANCE_ROLES)
HISTORY_KINDS = ("failover-to-azure", "reprotect-to-avs", "failover", "commit", "reprotect")
JOB_STATES = ("Succeeded", "Failed", "Cancelled")
GROUP_TYPES = ("Shutdown", "Failover", "Boot")
# Training: the recovery point a lesson expects, and the step after which the lesson is over.
TRAINING_POINTS = ("latest", "app-consistent")
TRAINING_ENDS = ("preflight", "failover", "commit", "reprotect")
# A lesson's level, in the order the picker lists them: the first lesson a newcomer should take comes first.
TRAINING_LEVELS = ("beginner", "intermediate", "advanced")
ACTION_KINDS = ("manual", "script")


class ScenarioError(ValueError):
    """A scenario file that cannot be used: the message names the file, the JSON path and what is wrong."""

    def __init__(self, file: str, path: str, what: str) -> None:
        super().__init__(f"{file}: {path}: {what}")
        self.file = file
        self.path = path
        self.what = what


# Times are offsets from the start; ten years either side is more than any drill needs, and keeps every date
# the simulation computes inside the calendar.
MAX_OFFSET_SECONDS = 10 * 365 * 86400
_LARGEST = 1e12

_OFFSET = re.compile(r"^(?P<sign>[-+]?)(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?$")


def parse_offset(text: str) -> float:
    """'-2h30m', '-45s', '3d', '0' → seconds (negative = before the scenario starts)."""
    if text.strip() in ("0", "-0", "+0"):
        return 0.0
    match = _OFFSET.match(text.strip())
    if not match or text.strip() in ("", "-", "+"):
        raise ValueError(f"{text!r} is not a time offset like '-2h30m', '-45s' or '-3d'")
    if not any(match[k] for k in ("d", "h", "m", "s")):
        raise ValueError(f"{text!r} is not a time offset like '-2h30m', '-45s' or '-3d'")
    seconds = (
        int(match["d"] or 0) * 86400 + int(match["h"] or 0) * 3600 + int(match["m"] or 0) * 60 + int(match["s"] or 0)
    )
    return -float(seconds) if match["sign"] == "-" else float(seconds)


@dataclass(frozen=True)
class HealthErrorSpec:
    code: str
    message: str
    severity: str = "Error"
    category: str = "Replication"
    possible_causes: str = ""
    recommended_action: str = ""


@dataclass(frozen=True)
class ProcessServerSpec:
    name: str
    ip: str
    health: str = "Normal"
    heartbeat_age: float = 60.0  # seconds before the scenario starts
    service_status: str = "Running"
    health_errors: tuple[HealthErrorSpec, ...] = ()
    # A modernized fabric's appliance (kind InMageRcm): the datastores its reprotect agent reaches, and the health
    # of single components where it differs from `health` (component list key, e.g. "reprotectAgents" → health).
    datastores: tuple[str, ...] = ()
    components: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class VolumeSpec:
    name: str
    capacity_gb: float
    free_gb: float | None  # None: ASR reports no free space (null)
    threshold_percent: int = 80


# A datastore's size as the scenario gives it: a number of GB, the text ASR sends verbatim (odd forms included,
# to rehearse what an unreadable figure looks like), or None (null).
GbFigure = float | str | None


@dataclass(frozen=True)
class DatastoreSpec:
    name: str
    capacity_gb: GbFigure
    free_gb: GbFigure
    kind: str = "VMFS"


@dataclass(frozen=True)
class MasterTargetSpec:
    name: str
    ip: str
    os_type: str = "Windows"
    health: str = "Normal"
    retention_volumes: tuple[VolumeSpec, ...] = ()
    datastores: tuple[DatastoreSpec, ...] = ()


@dataclass(frozen=True)
class FabricSpec:
    name: str
    friendly_name: str
    kind: str = "VMware"
    containers: tuple[str, ...] = ("cloud_1",)
    process_servers: tuple[ProcessServerSpec, ...] = ()
    master_targets: tuple[MasterTargetSpec, ...] = ()
    run_as_accounts: tuple[tuple[str, str], ...] = ()  # (accountId, accountName)


def home_fabric(fabrics: Sequence[FabricSpec], provider: str) -> FabricSpec:
    """The AVS fabric of an item whose spec names none: the replication appliance's (InMageRcm) for a modernized
    item (provider InMageRcmFailback), the configuration server's (VMware) for a classic one; the other kind when
    the vault has only that."""
    wanted = "InMageRcm" if provider == "InMageRcmFailback" else "VMware"
    avs = [f for f in fabrics if f.kind in AVS_FABRIC_KINDS]
    return next((f for f in avs if f.kind == wanted), avs[0])


@dataclass(frozen=True)
class ItemSpec:
    name: str  # the VM's friendly name
    stage: str
    rpi_name: str = ""  # ARM name; derived from the friendly name when empty
    os: str = "Windows"
    provider: str = "InMage"
    group: str = ""  # named multi-VM consistency group
    rpo_seconds: int = 60
    app_offset_seconds: int = 0  # shifts this VM's app-consistent points (breaks a group's common point)
    replication_health: str = "Normal"
    failover_health: str = "Normal"
    health_errors: tuple[HealthErrorSpec, ...] = ()
    not_ready: str = ""  # initial-replication | no-recovery-point
    fabric: str = ""
    container: str = ""
    process_server: str = ""
    master_target: str = ""
    ip: str = ""
    since: float = -7200.0  # when the item reached its stage (failed over / committed / protected)
    job_started: float = -120.0  # running stages: when the running job started
    source_site_operations: str = "NotRequired"
    replicating: bool = True  # false: replication stalled `since` ago; points stop and the RPO grows


@dataclass(frozen=True)
class ActionSpec:
    name: str
    kind: str = "manual"
    instructions: str = ""
    script: str = ""


@dataclass(frozen=True)
class GroupSpec:
    group_type: str
    items: tuple[str, ...] = ()
    start_actions: tuple[ActionSpec, ...] = ()
    end_actions: tuple[ActionSpec, ...] = ()


@dataclass(frozen=True)
class PlanSpec:
    name: str
    friendly_name: str
    groups: tuple[GroupSpec, ...]


@dataclass(frozen=True)
class JobSpec:
    kind: str
    item: str
    state: str = "Succeeded"
    started: float = -86400.0
    duration: float = 480.0
    error_code: int = 0
    error_message: str = ""
    possible_causes: str = ""
    recommended_action: str = ""


@dataclass(frozen=True)
class Settings:
    page_size: int = 50
    agent_window_minutes: float = 15.0
    agent_error_code: int = 95467
    retention_hours: float = 24.0
    crash_interval_minutes: float = 5.0
    app_interval_minutes: float = 60.0
    # Modernized items: how long the Mobility agent takes to register after a planned failover (U7, MODERNIZED.md)
    rcm_agent_minutes: float = 15.0
    # Modernized items: the initial replication after each reprotect (U5 to AVS, U6 to Azure), and the heartbeat
    # age past which an appliance no longer serves a planned failover or a reprotect (U11)
    rcm_failback_ir_minutes: float = 20.0
    rcm_forward_ir_minutes: float = 10.0
    rcm_appliance_stale_minutes: float = 30.0


@dataclass(frozen=True)
class TrainingSpec:
    """What a training scenario teaches: the goals, the VMs (or plan) the trainee works on, the expected choices."""

    goals: tuple[str, ...]
    focus: tuple[str, ...]
    plan: str = ""
    expected_point: str = ""  # "", "latest" or "app-consistent"
    point_why: str = ""  # why that point is the right call, said to the trainee after the choice
    ends_after: str = "reprotect"  # the last step of the procedure this lesson expects the trainee to do
    level: str = "intermediate"  # one of TRAINING_LEVELS
    minutes: int = 0  # about how long the lesson takes a trainee at 1×; 0 when the file does not say
    cancel_once: bool = False  # the trainee cancels the planned failover once, then fails back again (modernized)


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    brief: str
    vault: VaultRef
    location: str
    settings: Settings
    fabrics: tuple[FabricSpec, ...]
    items: tuple[ItemSpec, ...]
    plans: tuple[PlanSpec, ...] = ()
    jobs: tuple[JobSpec, ...] = ()
    faults: tuple[Fault, ...] = ()
    source: str = ""
    private_cloud: str = ""
    training: TrainingSpec | None = None


@dataclass(frozen=True)
class ScenarioInfo:
    name: str
    title: str
    brief: str
    path: Path = field(compare=False, default=Path())


# -- validation ----------------------------------------------------------------------------------------------


class _Reader:
    """Walks the JSON with the current path, so every complaint says exactly where it is."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, path: str, what: str) -> ScenarioError:
        return ScenarioError(self.file, path, what)

    def obj(self, value: Any, path: str, allowed: tuple[str, ...]) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, f"expected an object, got {type(value).__name__}")
        for key in value:
            if key not in allowed:
                raise self.fail(f"{path}.{key}", f"unknown key; known keys here: {', '.join(allowed)}")
        return value

    def get(
        self, obj: Mapping[str, Any], key: str, path: str, kind: type | tuple[type, ...], default: Any = ...
    ) -> Any:
        if key not in obj:
            if default is ...:
                raise self.fail(f"{path}.{key}", "missing (required)")
            return default
        value = obj[key]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            # JSON as Python reads it allows NaN, Infinity and integers of any size; no setting needs those.
            if not math.isfinite(value) or abs(value) > _LARGEST:
                raise self.fail(f"{path}.{key}", f"{value!r} is not a usable number (finite, at most {_LARGEST:g})")
        wants_float = kind is float or (isinstance(kind, tuple) and float in kind)
        if wants_float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, bool) and kind is not bool and not (isinstance(kind, tuple) and bool in kind):
            raise self.fail(f"{path}.{key}", f"expected {_kind_name(kind)}, got a boolean")
        if not isinstance(value, kind):
            raise self.fail(f"{path}.{key}", f"expected {_kind_name(kind)}, got {type(value).__name__}")
        if isinstance(value, str) and kind is str and not value.strip() and default is ...:
            raise self.fail(f"{path}.{key}", "must not be empty")
        return value

    def choice(self, obj: Mapping[str, Any], key: str, path: str, options: tuple[str, ...], default: Any = ...) -> str:
        value = self.get(obj, key, path, str, default)
        if value not in options:
            raise self.fail(f"{path}.{key}", f"{value!r} is not one of: {', '.join(options)}")
        return str(value)

    def offset(self, obj: Mapping[str, Any], key: str, path: str, default: float) -> float:
        value = self.get(obj, key, path, (str, int, float), None)
        if value is None:
            return default
        if isinstance(value, (int, float)):
            seconds = float(value)
        else:
            try:
                seconds = parse_offset(value)
            except ValueError as exc:
                raise self.fail(f"{path}.{key}", str(exc)) from None
        if abs(seconds) > MAX_OFFSET_SECONDS:
            raise self.fail(f"{path}.{key}", f"{value!r} is more than ten years away from the start")
        return seconds

    def positive(
        self, obj: Mapping[str, Any], key: str, path: str, default: float, lowest: float = 0.0, highest: float = 0.0
    ) -> float:
        value = self.get(obj, key, path, float, default)
        if value <= 0:
            raise self.fail(f"{path}.{key}", f"must be greater than 0, got {value}")
        if value < lowest or (highest and value > highest):
            raise self.fail(f"{path}.{key}", f"must be from {lowest:g} to {highest:g}, got {value:g}")
        return float(value)

    def gb_figure(self, obj: Mapping[str, Any], key: str, path: str) -> GbFigure:
        """A number of GB (not negative), a string sent as it is, or null; required."""
        value = self.get(obj, key, path, (float, int, str, type(None)))
        if isinstance(value, (int, float)):
            if value < 0:
                raise self.fail(f"{path}.{key}", f"must not be negative, got {value}")
            return float(value)
        return value  # type: ignore[no-any-return]

    def items(self, obj: Mapping[str, Any], key: str, path: str) -> list[tuple[str, Any]]:
        values = self.get(obj, key, path, list, [])
        return [(f"{path}.{key}[{i}]", v) for i, v in enumerate(values)]


def _within(r: _Reader, seconds: int, path: str) -> int:
    if abs(seconds) > MAX_OFFSET_SECONDS:
        raise r.fail(path, "must be within ten years")
    return seconds


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {
        str: "a string",
        int: "an integer",
        float: "a number",
        bool: "true or false",
        list: "a list",
        dict: "an object",
        type(None): "null",
    }
    if isinstance(kind, tuple):
        return " or ".join(names.get(k, k.__name__) for k in kind)
    return names.get(kind, kind.__name__)


def _health_errors(r: _Reader, obj: Mapping[str, Any], path: str) -> tuple[HealthErrorSpec, ...]:
    out = []
    keys = ("code", "message", "severity", "category", "possible_causes", "recommended_action")
    for p, raw in r.items(obj, "health_errors", path):
        e = r.obj(raw, p, keys)
        out.append(
            HealthErrorSpec(
                code=str(r.get(e, "code", p, (str, int))),
                message=r.get(e, "message", p, str),
                severity=r.choice(e, "severity", p, ("Error", "Warning", "Info"), "Error"),
                category=r.get(e, "category", p, str, "Replication"),
                possible_causes=r.get(e, "possible_causes", p, str, ""),
                recommended_action=r.get(e, "recommended_action", p, str, ""),
            )
        )
    return tuple(out)


def _fabric(r: _Reader, raw: Any, p: str) -> FabricSpec:
    f = r.obj(
        raw, p, ("name", "friendly_name", "kind", "containers", "process_servers", "master_targets", "run_as_accounts")
    )
    servers = []
    for sp, s_raw in r.items(f, "process_servers", p):
        s = r.obj(
            s_raw,
            sp,
            ("name", "ip", "health", "heartbeat_age", "service_status", "health_errors", "datastores", "components"),
        )
        parts = r.get(s, "components", sp, dict, {})
        for part, health in parts.items():
            if part not in APPLIANCE_COMPONENTS or health not in HEALTHS:
                raise r.fail(
                    f"{sp}.components.{part}",
                    f"a component is one of {', '.join(APPLIANCE_COMPONENTS)} and its health one of "
                    f"{', '.join(HEALTHS)}",
                )
        servers.append(
            ProcessServerSpec(
                name=r.get(s, "name", sp, str),
                ip=r.get(s, "ip", sp, str),
                health=r.choice(s, "health", sp, HEALTHS, "Normal"),
                heartbeat_age=abs(r.offset(s, "heartbeat_age", sp, 60.0)),
                service_status=r.get(s, "service_status", sp, str, "Running"),
                health_errors=_health_errors(r, s, sp),
                datastores=tuple(str(d) for d in r.get(s, "datastores", sp, list, [])),
                components=tuple((str(k), str(v)) for k, v in parts.items()),
            )
        )
    targets = []
    for mp, m_raw in r.items(f, "master_targets", p):
        m = r.obj(m_raw, mp, ("name", "ip", "os_type", "health", "retention_volumes", "datastores"))
        volumes = []
        for vp, v_raw in r.items(m, "retention_volumes", mp):
            v = r.obj(v_raw, vp, ("name", "capacity_gb", "free_gb", "threshold_percent"))
            volumes.append(
                VolumeSpec(
                    r.get(v, "name", vp, str),
                    r.positive(v, "capacity_gb", vp, 1.0),
                    r.get(v, "free_gb", vp, (float, type(None))),
                    r.get(v, "threshold_percent", vp, int, 80),
                )
            )
        stores = []
        for dp, d_raw in r.items(m, "datastores", mp):
            d = r.obj(d_raw, dp, ("name", "capacity_gb", "free_gb", "kind"))
            stores.append(
                DatastoreSpec(
                    r.get(d, "name", dp, str),
                    r.gb_figure(d, "capacity_gb", dp),
                    r.gb_figure(d, "free_gb", dp),
                    r.get(d, "kind", dp, str, "VMFS"),
                )
            )
        targets.append(
            MasterTargetSpec(
                name=r.get(m, "name", mp, str),
                ip=r.get(m, "ip", mp, str),
                os_type=r.get(m, "os_type", mp, str, "Windows"),
                health=r.choice(m, "health", mp, HEALTHS, "Normal"),
                retention_volumes=tuple(volumes),
                datastores=tuple(stores),
            )
        )
    accounts = []
    for ap, a_raw in r.items(f, "run_as_accounts", p):
        a = r.obj(a_raw, ap, ("id", "name"))
        accounts.append((str(r.get(a, "id", ap, (str, int))), r.get(a, "name", ap, str)))
    containers = tuple(str(c) for c in r.get(f, "containers", p, list, ["cloud_1"]))
    if not containers:
        raise r.fail(f"{p}.containers", "needs at least one protection container name")
    return FabricSpec(
        name=r.get(f, "name", p, str),
        friendly_name=r.get(f, "friendly_name", p, str),
        kind=r.choice(f, "kind", p, ("VMware", "InMageRcm", "Azure"), "VMware"),
        containers=containers,
        process_servers=tuple(servers),
        master_targets=tuple(targets),
        run_as_accounts=tuple(accounts),
    )


_ITEM_KEYS = (
    "name",
    "rpi_name",
    "stage",
    "os",
    "provider",
    "group",
    "rpo",
    "app_offset",
    "replication_health",
    "failover_health",
    "health_errors",
    "not_ready",
    "fabric",
    "container",
    "process_server",
    "master_target",
    "ip",
    "since",
    "job_started",
    "source_site_operations",
    "replicating",
)


def _item(r: _Reader, raw: Any, p: str) -> ItemSpec:
    i = r.obj(raw, p, _ITEM_KEYS)
    stage = r.choice(i, "stage", p, STAGES)
    not_ready = r.choice(i, "not_ready", p, ("", *NOT_READY_REASONS), "")
    if stage == "not-ready" and not not_ready:
        raise r.fail(f"{p}.not_ready", f"a not-ready item needs a reason: one of {', '.join(NOT_READY_REASONS)}")
    if stage != "not-ready" and not_ready:
        raise r.fail(f"{p}.not_ready", f"only allowed with stage 'not-ready' (this item is {stage!r})")
    if stage in MODERNIZED_STAGES and i.get("provider") != "InMageRcmFailback":
        raise r.fail(
            f"{p}.stage", f'{stage!r} is a stage of modernized items only: add "provider": "InMageRcmFailback"'
        )
    rpo = r.get(i, "rpo", p, int, 60)
    if not 0 <= rpo <= MAX_OFFSET_SECONDS:
        raise r.fail(f"{p}.rpo", "must be zero or more seconds, at most ten years")
    return ItemSpec(
        name=r.get(i, "name", p, str),
        stage=stage,
        rpi_name=r.get(i, "rpi_name", p, str, ""),
        os=r.choice(i, "os", p, ("Windows", "Linux"), "Windows"),
        provider=r.choice(i, "provider", p, PROVIDERS, "InMage"),
        group=r.get(i, "group", p, str, ""),
        rpo_seconds=rpo,
        app_offset_seconds=_within(r, r.get(i, "app_offset", p, int, 0), f"{p}.app_offset"),
        replication_health=r.choice(i, "replication_health", p, HEALTHS, "Normal"),
        failover_health=r.choice(i, "failover_health", p, HEALTHS, "Normal"),
        health_errors=_health_errors(r, i, p),
        not_ready=not_ready,
        fabric=r.get(i, "fabric", p, str, ""),
        container=r.get(i, "container", p, str, ""),
        process_server=r.get(i, "process_server", p, str, ""),
        master_target=r.get(i, "master_target", p, str, ""),
        ip=r.get(i, "ip", p, str, ""),
        since=r.offset(i, "since", p, -7200.0),
        job_started=r.offset(i, "job_started", p, -120.0),
        source_site_operations=r.choice(i, "source_site_operations", p, ("Required", "NotRequired"), "NotRequired"),
        replicating=r.get(i, "replicating", p, bool, True),
    )


def _actions(r: _Reader, g: Mapping[str, Any], key: str, p: str) -> tuple[ActionSpec, ...]:
    out = []
    for ap, raw in r.items(g, key, p):
        a = r.obj(raw, ap, ("name", "kind", "instructions", "script"))
        kind = r.choice(a, "kind", ap, ACTION_KINDS, "manual")
        out.append(
            ActionSpec(
                r.get(a, "name", ap, str), kind, r.get(a, "instructions", ap, str, ""), r.get(a, "script", ap, str, "")
            )
        )
    return tuple(out)


def _plan(r: _Reader, raw: Any, p: str, item_names: set[str]) -> PlanSpec:
    pl = r.obj(raw, p, ("name", "friendly_name", "groups"))
    groups = []
    for gp, g_raw in r.items(pl, "groups", p):
        g = r.obj(g_raw, gp, ("type", "items", "start_actions", "end_actions"))
        members = r.get(g, "items", gp, list, [])
        for k, member in enumerate(members):
            if member not in item_names:
                raise r.fail(f"{gp}.items[{k}]", f"no item named {member!r} in this scenario")
        groups.append(
            GroupSpec(
                group_type=r.choice(g, "type", gp, GROUP_TYPES),
                items=tuple(members),
                start_actions=_actions(r, g, "start_actions", gp),
                end_actions=_actions(r, g, "end_actions", gp),
            )
        )
    if not groups:
        raise r.fail(f"{p}.groups", "a plan needs at least one group")
    return PlanSpec(
        r.get(pl, "name", p, str), r.get(pl, "friendly_name", p, str, r.get(pl, "name", p, str)), tuple(groups)
    )


def parse_scenario(data: Any, *, file: str, name: str = "") -> Scenario:
    """Validate decoded JSON into a Scenario; raises ScenarioError naming file, JSON path and the problem."""
    r = _Reader(file)
    top = r.obj(
        data,
        "$",
        (
            "title",
            "brief",
            "vault",
            "private_cloud",
            "settings",
            "fabrics",
            "items",
            "bulk",
            "plans",
            "jobs",
            "faults",
            "training",
        ),
    )
    v = r.obj(r.get(top, "vault", "$", dict), "$.vault", ("subscription", "resource_group", "name", "location"))
    vault = VaultRef(
        r.get(v, "subscription", "$.vault", str),
        r.get(v, "resource_group", "$.vault", str),
        r.get(v, "name", "$.vault", str),
    )
    s = r.obj(r.get(top, "settings", "$", dict, {}), "$.settings", tuple(Settings.__dataclass_fields__))
    settings = Settings(
        page_size=int(r.positive(s, "page_size", "$.settings", 50, highest=1000)),
        agent_window_minutes=r.get(s, "agent_window_minutes", "$.settings", float, 15.0),
        agent_error_code=r.get(s, "agent_error_code", "$.settings", int, 95467),
        # A day of points every minute is 1,440 points per item; finer or longer and a list would have millions.
        retention_hours=r.positive(s, "retention_hours", "$.settings", 24.0, highest=24 * 30),
        crash_interval_minutes=r.positive(s, "crash_interval_minutes", "$.settings", 5.0, 1.0, 24 * 60),
        app_interval_minutes=r.positive(s, "app_interval_minutes", "$.settings", 60.0, 1.0, 24 * 60),
        rcm_agent_minutes=r.positive(s, "rcm_agent_minutes", "$.settings", 15.0, 0.0, 24 * 60),
        rcm_failback_ir_minutes=r.positive(s, "rcm_failback_ir_minutes", "$.settings", 20.0, 0.0, 24 * 60),
        rcm_forward_ir_minutes=r.positive(s, "rcm_forward_ir_minutes", "$.settings", 10.0, 0.0, 24 * 60),
        rcm_appliance_stale_minutes=r.positive(s, "rcm_appliance_stale_minutes", "$.settings", 30.0, 1.0, 24 * 60),
    )
    fabrics = tuple(_fabric(r, raw, p) for p, raw in r.items(top, "fabrics", "$"))
    if not any(f.kind in AVS_FABRIC_KINDS for f in fabrics):
        raise r.fail("$.fabrics", "needs at least one fabric of kind 'VMware' or 'InMageRcm' (the AVS side)")
    fabric_names = {f.name for f in fabrics}
    items = []
    seen: set[str] = set()
    for p, raw in r.items(top, "items", "$"):
        item = _item(r, raw, p)
        if item.name in seen:
            raise r.fail(f"{p}.name", f"duplicate item name {item.name!r}")
        seen.add(item.name)
        if item.fabric and item.fabric not in fabric_names:
            raise r.fail(f"{p}.fabric", f"no fabric named {item.fabric!r}; fabrics: {', '.join(sorted(fabric_names))}")
        named = [f for f in fabrics if f.name == item.fabric]
        fabric = named[0] if named else home_fabric(fabrics, item.provider)
        if item.container and item.container not in fabric.containers:
            raise r.fail(f"{p}.container", f"fabric {fabric.name!r} has no container {item.container!r}")
        all_ps = {s.name for f in fabrics for s in f.process_servers}
        if item.process_server and item.process_server not in all_ps:
            raise r.fail(f"{p}.process_server", f"no process server named {item.process_server!r}")
        all_mt = {m.name for f in fabrics for m in f.master_targets}
        if item.master_target and item.master_target not in all_mt:
            raise r.fail(f"{p}.master_target", f"no master target named {item.master_target!r}")
        items.append(item)
    for p, raw in r.items(top, "bulk", "$"):
        b = r.obj(raw, p, ("prefix", "count", "stage", "os", "rpo"))
        count = r.get(b, "count", p, int)
        if not 1 <= count <= 100_000:
            raise r.fail(f"{p}.count", f"must be between 1 and 100000, got {count}")
        stage = r.choice(b, "stage", p, ("ready", "failed-over", "committed", "protected-to-azure"), "ready")
        prefix = r.get(b, "prefix", p, str)
        width = len(str(count))
        for n in range(1, count + 1):
            name = f"{prefix}{n:0{width}d}"
            if name in seen:
                raise r.fail(f"{p}.prefix", f"generated name {name!r} clashes with another item")
            seen.add(name)
            items.append(
                ItemSpec(
                    name=name,
                    stage=stage,
                    os=r.choice(b, "os", p, ("Windows", "Linux"), "Windows"),
                    rpo_seconds=r.get(b, "rpo", p, int, 60) + n % 47,
                )
            )
    plans = tuple(_plan(r, raw, p, seen) for p, raw in r.items(top, "plans", "$"))
    jobs = []
    for p, raw in r.items(top, "jobs", "$"):
        j = r.obj(
            raw,
            p,
            (
                "kind",
                "item",
                "state",
                "started",
                "duration",
                "error_code",
                "error_message",
                "possible_causes",
                "recommended_action",
            ),
        )
        item_name = r.get(j, "item", p, str)
        if item_name not in seen:
            raise r.fail(f"{p}.item", f"no item named {item_name!r} in this scenario")
        state = r.choice(j, "state", p, JOB_STATES, "Succeeded")
        spec = JobSpec(
            kind=r.choice(j, "kind", p, HISTORY_KINDS),
            item=item_name,
            state=state,
            started=r.offset(j, "started", p, -86400.0),
            duration=r.positive(j, "duration", p, 480.0),
            error_code=r.get(j, "error_code", p, int, 0),
            error_message=r.get(j, "error_message", p, str, ""),
            possible_causes=r.get(j, "possible_causes", p, str, ""),
            recommended_action=r.get(j, "recommended_action", p, str, ""),
        )
        if state == "Failed" and not spec.error_message:
            raise r.fail(f"{p}.error_message", "a Failed job needs an error_message (and usually an error_code)")
        if spec.started > 0:
            raise r.fail(f"{p}.started", "history jobs start in the past: use a negative offset like '-2d'")
        jobs.append(spec)
    faults = []
    for p, raw in r.items(top, "faults", "$"):
        if not isinstance(raw, dict):
            raise r.fail(p, "expected an object")
        entry = dict(raw)
        if isinstance(entry.get("after"), str):
            try:
                entry["after"] = parse_offset(entry["after"])
            except ValueError as exc:
                raise r.fail(f"{p}.after", str(exc)) from None
        try:
            faults.append(Fault.from_json(entry))
        except (TypeError, ValueError) as exc:
            raise r.fail(p, str(exc)) from None
    training = _training(r, top, items, plans) if "training" in top else None
    return Scenario(
        name=name or Path(file).stem,
        title=r.get(top, "title", "$", str),
        brief=r.get(top, "brief", "$", str, ""),
        vault=vault,
        location=r.get(v, "location", "$.vault", str, "westeurope"),
        settings=settings,
        fabrics=fabrics,
        items=tuple(items),
        plans=plans,
        jobs=tuple(jobs),
        faults=tuple(faults),
        source=file,
        private_cloud=r.get(top, "private_cloud", "$", str, ""),
        training=training,
    )


def _strings(r: _Reader, obj: Mapping[str, Any], key: str, path: str) -> tuple[str, ...]:
    """A required, non-empty list of non-empty strings."""
    values = r.get(obj, key, path, list)
    if not values:
        raise r.fail(f"{path}.{key}", "needs at least one entry")
    for k, value in enumerate(values):
        if not isinstance(value, str):
            raise r.fail(f"{path}.{key}[{k}]", f"expected a string, got {type(value).__name__}")
        if not value.strip():
            raise r.fail(f"{path}.{key}[{k}]", "must not be empty")
    return tuple(values)


def _training(
    r: _Reader, top: Mapping[str, Any], items: Sequence[ItemSpec], plans: tuple[PlanSpec, ...]
) -> TrainingSpec:
    p = "$.training"
    keys = ("goals", "focus", "plan", "expected_point", "point_why", "ends_after", "level", "minutes", "cancel_once")
    t = r.obj(top["training"], p, keys)
    item_names = {i.name for i in items}
    if not r.get(top, "brief", "$", str, "").strip():
        raise r.fail("$.brief", "a training scenario needs a brief: two or three sentences the trainee reads first")
    focus = _strings(r, t, "focus", p)
    for k, name in enumerate(focus):
        if name not in item_names:
            raise r.fail(f"{p}.focus[{k}]", f"no item named {name!r} in this scenario")
    plan = r.get(t, "plan", p, str, "")
    if plan:
        spec = next((pl for pl in plans if plan in (pl.name, pl.friendly_name)), None)
        if spec is None:
            known = ", ".join(pl.name for pl in plans) or "none"
            raise r.fail(f"{p}.plan", f"no plan named {plan!r} in this scenario (plans: {known})")
        members = {m for g in spec.groups for m in g.items}
        for k, name in enumerate(focus):
            if name not in members:
                raise r.fail(f"{p}.focus[{k}]", f"{name!r} is not a member of the plan {plan!r}")
    expected = r.get(t, "expected_point", p, str, "")
    if expected and expected not in TRAINING_POINTS:
        raise r.fail(f"{p}.expected_point", f"{expected!r} is not one of: {', '.join(TRAINING_POINTS)}")
    return TrainingSpec(
        goals=_strings(r, t, "goals", p),
        focus=focus,
        plan=plan,
        expected_point=expected,
        point_why=r.get(t, "point_why", p, str, ""),
        ends_after=r.choice(t, "ends_after", p, TRAINING_ENDS, "reprotect"),
        level=r.choice(t, "level", p, TRAINING_LEVELS, "intermediate"),
        minutes=_minutes(r, t, p),
        cancel_once=_cancel_once(r, t, p, focus, items),
    )


def _cancel_once(r: _Reader, t: Mapping[str, Any], p: str, focus: Sequence[str], items: Sequence[ItemSpec]) -> bool:
    """Only a planned failover (modernized) can be cancelled: a lesson asking for it must be about such VMs."""
    wanted = bool(r.get(t, "cancel_once", p, bool, False))
    if wanted:
        providers = {i.name: i.provider for i in items}
        classic = [name for name in focus if providers.get(name) != "InMageRcmFailback"]
        if classic:
            raise r.fail(
                f"{p}.cancel_once",
                f"only a modernized failback (provider InMageRcmFailback) can be cancelled; {classic[0]!r} is not one",
            )
    return wanted


def _minutes(r: _Reader, t: Mapping[str, Any], p: str) -> int:
    minutes = r.get(t, "minutes", p, int, 0)
    if not 0 <= minutes <= 600:
        raise r.fail(f"{p}.minutes", f"{minutes} is not a lesson's length in minutes (1 to 600)")
    return int(minutes)


def _resolve(name_or_path: str) -> Path:
    candidate = Path(name_or_path)
    if candidate.suffix == ".json" or candidate.exists() or "/" in name_or_path:
        return candidate
    return SCENARIO_DIR / f"{name_or_path}.json"


def load_scenario(name_or_path: str) -> Scenario:
    """A bundled scenario by name ("demo") or a JSON file by path."""
    path = _resolve(name_or_path)
    if not path.is_file():
        known = ", ".join(s.name for s in list_scenarios())
        raise ScenarioError(str(path), "$", f"no such scenario file (bundled scenarios: {known})")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ScenarioError(str(path), f"line {exc.lineno} column {exc.colno}", f"not valid JSON: {exc.msg}") from None
    except UnicodeDecodeError:
        raise ScenarioError(str(path), "$", "not a UTF-8 text file") from None
    except RecursionError:
        raise ScenarioError(str(path), "$", "nested too deeply to read") from None
    except OSError as exc:
        raise ScenarioError(str(path), "$", f"cannot be read: {exc.strerror or exc}") from None
    return parse_scenario(data, file=str(path), name=path.stem)


def list_scenarios() -> list[ScenarioInfo]:
    """The bundled scenarios, for a picker: name, title and brief, without validating all of each."""
    infos = []
    for path in sorted(SCENARIO_DIR.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if isinstance(data, dict):
            infos.append(ScenarioInfo(path.stem, str(data.get("title", path.stem)), str(data.get("brief", "")), path))
    return infos
