"""Capture a vault as an emulator scenario (read only), with every name replaced by a stable pseudonym on request.

What a capture keeps is what the emulator can play back (core/emulator/SCENARIOS.md): each item's stage, health,
health errors, group, fabric, container and servers; the fabrics' process servers, master targets (retention
drives, datastores) and run-as accounts; the plans with their groups and actions; the recent finished jobs; and the
recovery point rhythm (crash- and app-consistent intervals, retention) read from a few items' point lists. What the
emulator cannot replay is left out and named in the file's brief: the exact point times (the emulator makes its
own on the captured rhythm), running jobs' task progress (the item restarts its stage's job at the captured start),
and anything of the Azure side beyond the fabrics.

Masking (`Masker`): every name, address, subscription, resource group and id becomes a pseudonym derived from the
name and a salt (HMAC-SHA256), so the same VM gets the same pseudonym in every capture made with the same salt.
Free text from ASR (health error messages, job errors) keeps its words with every captured name and every IPv4
address in it replaced; a plan action's instructions, written by people, are replaced whole.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.backend import Backend
from core.failback import derive_stage
from core.model import (
    APPLIANCE_ROLES,
    Appliance,
    ErrorDetail,
    Fabric,
    HealthError,
    Job,
    JobState,
    PlanAction,
    PointKind,
    ProtectedItem,
    RecoveryPlan,
    RecoveryPoint,
    Stage,
)

# Recovery point lists read to learn the vault's rhythm: a few are enough, and each costs a request.
POINT_SAMPLES = 3
JOB_HISTORY = 50
_GIB = 1 << 30
# The scenario kinds of the finished jobs the emulator can list again, by ASR's scenario name.
_JOB_KINDS = {
    "unplannedfailover": "failover",
    "commitfailover": "commit",
    "commit": "commit",
    "reverseReplication".lower(): "reprotect",
    "switchprotection": "reprotect",
}
_JOB_STATES = {JobState.SUCCEEDED: "Succeeded", JobState.FAILED: "Failed", JobState.CANCELLED: "Cancelled"}
_IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
_HEALTHS = ("Normal", "Warning", "Critical", "None")


@dataclass
class Masker:
    """Stable pseudonyms: the same (kind, name) and salt give the same pseudonym, in any capture."""

    salt: str = field(default_factory=lambda: secrets.token_hex(16))
    seen: dict[str, str] = field(default_factory=dict)  # original → pseudonym, for masking free text

    def _digest(self, kind: str, name: str) -> str:
        return hmac.new(self.salt.encode(), f"{kind}\0{name.lower()}".encode(), hashlib.sha256).hexdigest()

    def name(self, kind: str, name: str) -> str:
        if not name:
            return name
        pseudonym = f"{kind}-{self._digest(kind, name)[:8]}"
        if len(name) >= 3:  # a name that short ("1", an account id) would hit every number in a text
            self.seen.setdefault(name, pseudonym)
        return pseudonym

    def guid(self, kind: str, value: str) -> str:
        d = self._digest(kind, value)
        return f"{d[:8]}-{d[8:12]}-{d[12:16]}-{d[16:20]}-{d[20:32]}"

    def ip(self, value: str) -> str:
        if not value:
            return value
        try:
            ipaddress.ip_address(value)
        except ValueError:
            return self.name("host", value)
        d = self._digest("ip", value)
        masked = f"10.{int(d[0:2], 16)}.{int(d[2:4], 16)}.{int(d[4:6], 16) % 254 + 1}"
        self.seen.setdefault(value, masked)
        return masked

    def text(self, value: str) -> str:
        """Free text from ASR: its words kept, every name already masked and every IPv4 address replaced."""
        if not value:
            return value
        for original in sorted(self.seen, key=len, reverse=True):
            value = re.sub(re.escape(original), self.seen[original], value, flags=re.IGNORECASE)
        return _IPV4.sub(lambda m: self.ip(m.group(0)), value)


class _Plain:
    """The identity masker: a capture without --mask keeps every name."""

    def name(self, kind: str, name: str) -> str:
        return name

    def guid(self, kind: str, value: str) -> str:
        return value

    def ip(self, value: str) -> str:
        return value

    def text(self, value: str) -> str:
        return value


def _ago(now: datetime, then: datetime | None, default: float) -> float:
    """An offset from now in whole seconds (negative: the past), as a scenario writes it."""
    return float(round((then - now).total_seconds())) if then is not None else default


def _health(value: str) -> str:
    return value if value in _HEALTHS else "None"


def _health_errors(errors: Iterable[HealthError], m: Any) -> list[dict[str, str]]:
    return [
        {
            "code": e.code or "0",
            "message": m.text(e.message) or "(no message)",
            "severity": e.severity or "Warning",
            "category": e.category,
            "possible_causes": m.text(e.possible_causes),
            "recommended_action": m.text(e.recommended_action),
        }
        for e in errors
    ]


def _rhythm(points: Sequence[Sequence[RecoveryPoint]], now: datetime) -> dict[str, float]:
    """Crash- and app-consistent intervals (minutes) and retention (hours) from sampled point lists."""
    out: dict[str, float] = {}
    kinds = ((PointKind.CRASH_CONSISTENT, "crash_interval_minutes"), (PointKind.APP_CONSISTENT, "app_interval_minutes"))
    for kind, key in kinds:
        gaps = []
        for listed in points:
            times = sorted(p.time for p in listed if p.kind is kind)
            gaps += [(b - a).total_seconds() / 60 for a, b in zip(times, times[1:], strict=False) if b > a]
        if gaps:
            out[key] = round(max(1.0, statistics.median(gaps)), 1)
    oldest = [min(p.time for p in listed) for listed in points if listed]
    if oldest:
        out["retention_hours"] = round(max(1.0, max((now - t).total_seconds() for t in oldest) / 3600), 1)
    if out.get("app_interval_minutes", 0) and out.get("crash_interval_minutes", 0):
        # The emulator needs app-consistent points to be a multiple of the crash-consistent rhythm or rarer.
        out["app_interval_minutes"] = max(out["app_interval_minutes"], out["crash_interval_minutes"])
    return out


def _not_ready_reason(item: ProtectedItem) -> str:
    state = f"{item.protection_state} {item.protection_state_description}".lower()
    if "initial" in state or "replication" in state and item.last_recovery_point_time is None:
        return "initial-replication"
    return "no-recovery-point"


def _provider(item: ProtectedItem) -> str:
    return "InMageRcmFailback" if item.instance_type.startswith("InMageRcm") else "InMage"


def _servers_by_id(fabrics: Sequence[Fabric]) -> tuple[dict[str, str], dict[str, str]]:
    ps = {p.id: p.friendly_name for f in fabrics for p in f.process_servers if p.id}
    mt = {t.id: t.name for f in fabrics for t in f.master_targets if t.id}
    return ps, mt


def _item(
    item: ProtectedItem, now: datetime, jobs: dict[str, Job], servers: tuple[dict[str, str], dict[str, str]], m: Any
) -> dict[str, Any]:
    stage = derive_stage(item)
    entry: dict[str, Any] = {"name": m.name("vm", item.friendly_name or item.name), "stage": stage.key}
    if stage is Stage.NOT_READY:
        entry["not_ready"] = _not_ready_reason(item)
    entry["provider"] = _provider(item)
    if item.os_type in ("Windows", "Linux"):
        entry["os"] = item.os_type
    if item.multi_vm_group_name:
        entry["group"] = m.name("group", item.multi_vm_group_name)
    if item.last_recovery_point_time is not None:
        entry["rpo"] = max(0, round((now - item.last_recovery_point_time).total_seconds()))
    elif item.rpo_seconds is not None:
        entry["rpo"] = item.rpo_seconds
    entry["replication_health"] = _health(item.replication_health)
    entry["failover_health"] = _health(item.failover_health)
    if item.health_errors:
        entry["health_errors"] = _health_errors(item.health_errors, m)
    if item.fabric_name:
        entry["fabric"] = m.name("fabric", item.fabric_name)
    if item.container_name:
        entry["container"] = m.name("container", item.container_name)
    ps_names, mt_names = servers
    if item.process_server_id in ps_names:
        entry["process_server"] = m.name("ps", ps_names[item.process_server_id])
    if item.master_target_id in mt_names:
        entry["master_target"] = m.name("mt", mt_names[item.master_target_id])
    if stage in (Stage.FAILED_OVER, Stage.COMMITTED, Stage.PROTECTED_TO_AZURE) and item.last_successful_failover_time:
        entry["since"] = _ago(now, item.last_successful_failover_time, -7200.0)
    job = jobs.get(item.running_job_name or "") if item.running_job_name else None
    if stage.key.endswith("-running") and job is not None and job.start_time is not None:
        entry["job_started"] = _ago(now, job.start_time, -120.0)
    return entry


def _appliance(a: Appliance, now: datetime, m: Any) -> dict[str, Any]:
    """A replication appliance as the scenario writes it: its overall health, the components that differ from it,
    the datastores its reprotect agent reaches, and its stalest heartbeat."""
    health = _health(a.health)
    roles = {role: key for key, role in APPLIANCE_ROLES.items()}
    differ = {roles[c.role]: _health(c.health) for c in a.components if c.role in roles and _health(c.health) != health}
    entry: dict[str, Any] = {
        "name": m.name("ps", a.name),
        "ip": m.ip(a.ip_address),
        "health": health,
        "heartbeat_age": max(0.0, -_ago(now, a.last_heartbeat, -60.0)),
        # each component repeats the appliance's errors: each is written once
        "health_errors": _health_errors(dict.fromkeys(e for c in a.components for e in c.health_errors), m),
        "datastores": [m.name("datastore", d) for d in a.accessible_datastores or ()],
    }
    if differ:
        entry["components"] = differ
    return entry


def _fabric(fabric: Fabric, containers: Iterable[str], now: datetime, m: Any) -> dict[str, Any] | None:
    kind = {"vmware": "VMware", "azure": "Azure", "inmagercm": "InMageRcm"}.get(fabric.instance_type.lower())
    if kind is None:
        return None  # a fabric the emulator has no model of: named in the brief
    if kind == "InMageRcm":
        return {
            "name": m.name("fabric", fabric.name),
            "friendly_name": m.name("site", fabric.friendly_name or fabric.name),
            "kind": kind,
            "containers": sorted({m.name("container", c) for c in containers}) or ["cloud_1"],
            "process_servers": [_appliance(a, now, m) for a in fabric.appliances],
        }
    return {
        "name": m.name("fabric", fabric.name),
        "friendly_name": m.name("site", fabric.friendly_name or fabric.name),
        "kind": kind,
        "containers": sorted({m.name("container", c) for c in containers}) or ["cloud_1"],
        "process_servers": [
            {
                "name": m.name("ps", p.friendly_name),
                "ip": m.ip(p.ip_address),
                "health": _health(p.health),
                "heartbeat_age": max(0.0, -_ago(now, p.last_heartbeat, -60.0)),
                "service_status": p.service_status or "Running",
                "health_errors": _health_errors(p.health_errors, m),
            }
            for p in fabric.process_servers
        ],
        "master_targets": [
            {
                "name": m.name("mt", t.name),
                "ip": m.ip(t.ip_address),
                "os_type": t.os_type if t.os_type in ("Windows", "Linux") else "Windows",
                "health": t.health if t.health_reported and t.health in _HEALTHS else "Normal",
                "retention_volumes": [
                    {
                        "name": m.name("volume", v.name),
                        "capacity_gb": round((v.capacity_bytes or 0) / _GIB, 1),
                        "free_gb": None if v.free_bytes is None else round(v.free_bytes / _GIB, 1),
                        "threshold_percent": v.threshold_percent if v.threshold_percent is not None else 80,
                    }
                    for v in t.retention_volumes
                ],
                "datastores": [
                    {
                        "name": m.name("datastore", d.name),
                        "capacity_gb": d.capacity_gb,
                        "free_gb": d.free_gb,
                        "kind": d.kind or "VMFS",
                    }
                    for d in t.datastores
                ],
            }
            for t in fabric.master_targets
        ],
        "run_as_accounts": [
            {"id": m.name("account-id", a.id), "name": m.name("account", a.name)} for a in fabric.run_as_accounts
        ],
    }


def _actions(actions: Iterable[PlanAction], masked: bool, m: Any) -> list[dict[str, str]]:
    out = []
    for n, a in enumerate(actions, 1):
        kind = "manual" if "manual" in a.kind.lower() else "script"
        action = {"name": m.name("action", a.name), "kind": kind}
        if kind == "manual":
            action["instructions"] = f"Manual action {n} (its instructions were masked)" if masked else a.instructions
        else:
            action["script"] = "masked.ps1" if masked else (a.instructions or "script.ps1")
        out.append(action)
    return out


def _plan(plan: RecoveryPlan, names: dict[str, str], masked: bool, m: Any) -> dict[str, Any]:
    return {
        "name": m.name("plan", plan.name),
        "friendly_name": m.name("plan-title", plan.friendly_name or plan.name),
        "groups": [
            {
                "type": g.group_type if g.group_type in ("Shutdown", "Failover", "Boot") else "Boot",
                "items": [names[i.lower()] for i in g.item_ids if i.lower() in names],
                "start_actions": _actions(g.start_actions, masked, m),
                "end_actions": _actions(g.end_actions, masked, m),
            }
            for g in plan.groups
        ],
    }


def _job(job: Job, now: datetime, items: dict[str, str], m: Any) -> dict[str, Any] | None:
    kind = _JOB_KINDS.get(job.scenario_name.lower())
    state = _JOB_STATES.get(job.state)
    item = items.get(job.target_object_name.lower()) or items.get(job.target_object_id.lower())
    if kind is None or state is None or item is None or job.start_time is None:
        return None
    entry: dict[str, Any] = {
        "kind": kind,
        "item": item,
        "state": state,
        "started": _ago(now, job.start_time, -86400.0),
        "duration": max(1.0, (job.end_time - job.start_time).total_seconds()) if job.end_time else 480.0,
    }
    if state == "Failed":
        error = job.errors[0] if job.errors else ErrorDetail("0", "The job failed.")
        code = error.provider_error_code or error.code
        entry["error_code"] = int(code) if code.isdigit() else 0
        entry["error_message"] = m.text(error.provider_message or error.message) or "The job failed."
        entry["possible_causes"] = m.text(error.possible_causes)
        entry["recommended_action"] = m.text(error.recommended_action)
    return entry


def capture(
    backend: Backend, *, masker: Masker | None = None, samples: int = POINT_SAMPLES, arm_names: bool = False
) -> dict[str, Any]:
    """The vault behind `backend` as a scenario document (core/emulator/SCENARIOS.md). Reads only. `arm_names`
    keeps each item's ARM name (`rpi_name`), so the emulated vault has the same paths (a rehearsal's simulation);
    a masked capture never keeps them."""
    m: Any = masker if masker is not None else _Plain()
    now = backend.now()
    items = [item for page in backend.iter_item_pages() for item in page]
    fabrics = backend.list_fabrics()
    plans = backend.list_plans()
    jobs = backend.list_jobs()
    vault = backend.vault
    # Names first: free text is masked by substitution, so every name must be known before any text is read.
    for fabric in fabrics:
        m.name("fabric", fabric.name), m.name("site", fabric.friendly_name)
        for p in fabric.process_servers:
            m.name("ps", p.friendly_name), m.ip(p.ip_address)
        for t in fabric.master_targets:
            m.name("mt", t.name), m.ip(t.ip_address)
        for a in fabric.appliances:
            m.name("ps", a.name), m.ip(a.ip_address)
            for d in a.accessible_datastores or ():
                m.name("datastore", d)
    for item in items:
        m.name("vm", item.friendly_name or item.name), m.name("rpi", item.name)
        if item.multi_vm_group_name:
            m.name("group", item.multi_vm_group_name)
    for plan in plans:
        m.name("plan", plan.name), m.name("plan-title", plan.friendly_name)
    m.name("vault", vault.name), m.name("rg", vault.resource_group), m.name("subscription", vault.subscription_id)

    by_job = {j.name: j for j in jobs}
    servers = _servers_by_id(fabrics)
    captured = [_item(i, now, by_job, servers, m) for i in items]
    if arm_names and masker is None:
        for item, entry in zip(items, captured, strict=True):
            entry["rpi_name"] = item.name
    names: dict[str, str] = {}  # any way ASR names an item (id, ARM name, friendly name) → its captured name
    for item, entry in zip(items, captured, strict=True):
        for key in (item.id, item.name, item.friendly_name):
            if key:
                names[key.lower()] = entry["name"]
    containers: dict[str, set[str]] = {}
    for item in items:
        containers.setdefault(item.fabric_name, set()).add(item.container_name)
    shown_fabrics = [f for f in (_fabric(f, containers.get(f.name, ()), now, m) for f in fabrics) if f is not None]
    if not any(f["kind"] == "VMware" for f in shown_fabrics):
        shown_fabrics.insert(0, {"name": m.name("fabric", "avs"), "friendly_name": "AVS", "kind": "VMware"})
    known_fabrics = {f["name"] for f in shown_fabrics}
    for entry in captured:  # an item on a fabric the emulator cannot model lives on the first VMware fabric
        if entry.get("fabric") not in known_fabrics:
            entry.pop("fabric", None)
            entry.pop("container", None)

    sampled = [i for i in items if i.last_recovery_point_time is not None][:samples]
    rhythm = _rhythm([backend.list_recovery_points(i) for i in sampled], now)
    history = [j for j in (_job(j, now, names, m) for j in jobs if not j.is_running) if j is not None]
    focus = next((e["name"] for e in captured if e["stage"] == "ready"), captured[0]["name"] if captured else "")
    vault_name = m.name("vault", vault.name)
    masked = masker is not None
    doc: dict[str, Any] = {
        "title": f"Captured from {vault_name}",
        "brief": (
            f"{len(captured)} items, {len(plans)} plans and {len(shown_fabrics)} fabrics of {vault_name}, as read "
            f"{now:%Y-%m-%d %H:%M} UTC{' (names masked)' if masked else ''}. Point times follow the captured "
            "rhythm; running jobs restart their stage's job."
        ),
        "vault": {
            "subscription": m.guid("subscription", vault.subscription_id),
            "resource_group": m.name("rg", vault.resource_group),
            "name": vault_name,
        },
        "settings": rhythm,
        "fabrics": shown_fabrics,
        "items": captured,
        "plans": [_plan(p, names, masked, m) for p in plans],
        "jobs": history[:JOB_HISTORY],
    }
    if focus:
        doc["training"] = {
            "goals": [f"Fail {focus} back to AVS, verify it, commit, and protect it again."],
            "focus": [focus],
            "ends_after": "reprotect",
        }
    return doc


__all__ = ["Masker", "capture"]
