"""Rehearsal on a real vault: every read is live, no mutating request leaves, and the steps go on on a simulation.

Two layers, as read-only mode has:

- `RehearsalTransport` sits under the vault's azure-core pipelines, where the bytes would leave. It passes GET
  and HEAD on and stops every other method before it is sent, raising `Rehearsed` with the exact request the SDK
  built (method, URL, body). Whatever is pressed, whatever code path asks, nothing mutating goes out.
- `RehearsalBackend` wraps that backend. A mutating call is made on the live backend (so its request is the real
  one), stopped by the transport, recorded, and then made on an in-process emulator of the same vault, captured
  from its live reads (core.capture) the first time it is needed. The job it returns is a simulated one; from
  then on the items, plans and jobs that the rehearsal touched are read from the simulation, everything else
  stays live.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any

from core.errors import FailbackError
from core.model import Fabric, Job, JobFilter, OperationHandle, ProtectedItem, RecoveryPlan, RecoveryPoint

SAFE_METHODS = ("GET", "HEAD")
REHEARSAL_WORD = "REHEARSAL"


@dataclass(frozen=True)
class RehearsedRequest:
    """A request the tool would have sent, as the SDK built it."""

    method: str
    url: str
    body: Any  # the JSON body, or None
    call: str = ""  # the SDK call that built it ("replication_protected_items.begin_unplanned_failover")
    target: str = ""  # the item or plan it acts on
    job: str = ""  # the simulated job the rehearsal goes on with

    @property
    def path(self) -> str:
        """The URL without its query (the api-version)."""
        return self.url.split("?", 1)[0]

    def record(self) -> dict[str, Any]:
        """As the journal keeps it beside the simulated job (core.journal.Journal.sent)."""
        return {"method": self.method, "url": self.url, "body": self.body, "call": self.call}


class Rehearsed(FailbackError):
    """Raised by RehearsalTransport instead of sending a mutating request."""

    def __init__(self, request: RehearsedRequest) -> None:
        super().__init__(f"Rehearsal: {request.method} {request.path} was not sent.")
        self.request = request


def _body_of(request: Any) -> Any:
    raw = None
    for attribute in ("content", "body", "data"):
        try:
            raw = getattr(request, attribute, None)
        except Exception:  # a request type that raises for the attribute it does not hold
            raw = None
        if raw is not None:
            break
    if raw is None or raw == b"" or raw == "":
        return None
    if isinstance(raw, (bytes, bytearray)):
        raw = raw.decode("utf-8", "replace")
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


class RehearsalTransport:
    """An azure-core transport that sends reads through `inner` and stops every other request unsent."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __enter__(self) -> RehearsalTransport:
        self._inner.__enter__()
        return self

    def __exit__(self, *args: Any) -> None:
        self._inner.__exit__(*args)

    def open(self) -> None:
        self._inner.open()

    def close(self) -> None:
        self._inner.close()

    def send(self, request: Any, **kwargs: Any) -> Any:
        method = str(request.method).upper()
        if method not in SAFE_METHODS:
            raise Rehearsed(RehearsedRequest(method, str(request.url), _body_of(request)))
        return self._inner.send(request, **kwargs)


# The SDK call behind a job action; the item and plan actions' calls come from the backend's own map.
_JOB_CALLS = {"cancel": "begin_cancel", "restart": "begin_restart", "resume": "begin_resume"}


def sdk_call(url: str) -> str:
    """The SDK method that sends a POST to `url` ("" when not one of ours)."""
    from core.azure.backend import AzureBackend

    path = url.split("?", 1)[0].rstrip("/")
    last = path.rsplit("/", 1)[-1]
    if "/replicationJobs/" in path:
        return f"replication_jobs.{_JOB_CALLS[last]}" if last in _JOB_CALLS else ""
    method = AzureBackend._ITEM_ACTIONS.get(last, "")
    if not method:
        return ""
    group = "replication_recovery_plans" if "/replicationRecoveryPlans/" in path else "replication_protected_items"
    return f"{group}.{method}"


def _key(text: str) -> str:
    return text.lower()


class RehearsalBackend:
    """A Backend that reads the real vault and rehearses every operation on a simulation of it (see the module)."""

    rehearsal = True

    def __init__(
        self,
        live: Any,
        transport: RehearsalTransport,
        *,
        simulation: Callable[[Any], Any] | None = None,
        on_rehearsed: Callable[[RehearsedRequest], None] | None = None,
    ) -> None:
        self._live = live
        self._transport = transport
        self._make_simulation = simulation or simulate_vault
        self._sim: Any = None
        self._lock = threading.RLock()
        self.on_rehearsed = on_rehearsed
        self.requests: list[RehearsedRequest] = []
        self._items: dict[str, str] = {}  # live item id (lower) → the simulation's item id
        self._plans: set[str] = set()  # plan names (lower) the rehearsal acted on
        self._jobs: set[str] = set()  # simulated job names

    def rehearsed_request(self, job_name: str) -> RehearsedRequest | None:
        """The request not sent that the simulated job `job_name` stands for."""
        with self._lock:
            return next((r for r in reversed(self.requests) if r.job and r.job == job_name), None)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._live, name)

    @property
    def on_notice(self) -> Any:
        return self._live.on_notice

    @on_notice.setter
    def on_notice(self, value: Any) -> None:
        self._live.on_notice = value  # the live vault is the one that waits on Azure

    @property
    def vault(self) -> Any:
        return self._live.vault

    @property
    def read_only(self) -> bool:
        return bool(self._live.read_only)

    @property
    def simulated(self) -> bool:
        return bool(self._live.simulated)

    def now(self) -> datetime:
        return self._live.now()  # type: ignore[no-any-return]

    # -- the simulation --------------------------------------------------------------------------------

    def simulation(self) -> Any:
        """The in-process emulator of this vault, captured from the live reads when first needed."""
        with self._lock:
            if self._sim is None:
                self._sim = self._make_simulation(self._live)
            return self._sim

    def _sim_item(self, item: ProtectedItem) -> ProtectedItem:
        sim = self.simulation()
        known = self._items.get(_key(item.id))
        if known:
            return sim.get_item(known)  # type: ignore[no-any-return]
        wanted = {_key(item.name), _key(item.friendly_name or item.name)}
        for page in sim.iter_item_pages():
            for candidate in page:
                if _key(candidate.name) in wanted or _key(candidate.friendly_name) in wanted:
                    return candidate  # type: ignore[no-any-return]
        raise FailbackError(
            f"Rehearsal: {item.friendly_name} is not in the simulation of the vault (it was read after the "
            "simulation was made). Restart the rehearsal to take it in."
        )

    def _as_live(self, live: ProtectedItem, sim_item: ProtectedItem) -> ProtectedItem:
        """The simulation's state under the live item's identity, so the screens see one item, not two."""
        return replace(sim_item, id=live.id, name=live.name, fabric_name=live.fabric_name,
                       container_name=live.container_name)  # fmt: skip

    def _sim_plan(self, plan: RecoveryPlan) -> RecoveryPlan:
        return self.simulation().get_plan(plan.name)  # type: ignore[no-any-return]

    def _translate(self, target: Any) -> Any:
        """A reprotect target chosen from the live fabrics, with the simulation's ids for the same servers."""
        sim = self.simulation()
        names = _names_by_id(self._live.list_fabrics(), _policies(self._live))
        ids = {name: sid for sid, name in _names_by_id(sim.list_fabrics(), _policies(sim)).items()}
        changes = {}
        for f in fields(target):
            value = getattr(target, f.name)
            if isinstance(value, str) and value and _key(value) in names:
                changes[f.name] = ids.get(names[_key(value)], value)
        return replace(target, **changes)

    # -- rehearsing -------------------------------------------------------------------------------------

    def _rehearse(self, send_live: Callable[[], Any], send_sim: Callable[[], OperationHandle], target: str) -> Any:
        try:
            send_live()
        except Rehearsed as stopped:
            request = stopped.request
        else:  # the transport stops every mutating request: reaching here means the call sent none
            request = RehearsedRequest("POST", "", None)
        recorded = replace(request, call=sdk_call(request.url), target=target)
        try:
            handle = send_sim()
        except Exception:
            self._record(recorded)  # what would have been sent is on record, even when the simulation refuses it
            raise
        self._record(replace(recorded, job=handle.job_name))
        with self._lock:
            self._jobs.add(handle.job_name)
        return handle

    def _record(self, request: RehearsedRequest) -> None:
        with self._lock:
            self.requests.append(request)
        if self.on_rehearsed is not None:
            self.on_rehearsed(request)

    def _bind(self, item: ProtectedItem) -> ProtectedItem:
        """The simulation's copy of `item`, from now on the one its reads come from."""
        sim_item = self._sim_item(item)
        with self._lock:
            self._items[_key(item.id)] = sim_item.id
        return sim_item

    def _item_action(self, verb: str, item: ProtectedItem, *args: Any) -> OperationHandle:
        sim_item = self._bind(item)
        return self._rehearse(  # type: ignore[no-any-return]
            lambda: getattr(self._live, verb)(item, *args),
            lambda: getattr(self.simulation(), verb)(sim_item, *args),
            item.friendly_name or item.name,
        )

    def unplanned_failover(self, item: ProtectedItem, choice: Any, recovery_point_id: str = "") -> OperationHandle:
        return self._item_action("unplanned_failover", item, choice, recovery_point_id)

    def planned_failover(self, item: ProtectedItem, choice: Any) -> OperationHandle:
        return self._item_action("planned_failover", item, choice)

    def failover_cancel(self, item: ProtectedItem) -> OperationHandle:
        return self._item_action("failover_cancel", item)

    def commit(self, item: ProtectedItem) -> OperationHandle:
        return self._item_action("commit", item)

    def start_item_action(self, item: ProtectedItem, request: Any) -> OperationHandle:
        return self._item_action("start_item_action", item, request)

    def reprotect(self, item: ProtectedItem, target: Any) -> OperationHandle:
        sim_item = self._bind(item)
        sim_target = self._translate(target)
        return self._rehearse(  # type: ignore[no-any-return]
            lambda: self._live.reprotect(item, target),
            lambda: self.simulation().reprotect(sim_item, sim_target),
            item.friendly_name or item.name,
        )

    def _plan_action(self, verb: str, plan: RecoveryPlan, *args: Any) -> OperationHandle:
        sim_plan = self._sim_plan(plan)
        sim = self.simulation()
        members = {_key(i) for i in plan.item_ids}
        with self._lock:
            self._plans.add(_key(plan.name))
            for page in self._live.iter_item_pages():
                for live_item in page:
                    if _key(live_item.id) in members:
                        self._items.setdefault(_key(live_item.id), self._sim_item(live_item).id)
        return self._rehearse(  # type: ignore[no-any-return]
            lambda: getattr(self._live, verb)(plan, *args),
            lambda: getattr(sim, verb)(sim_plan, *args),
            plan.friendly_name or plan.name,
        )

    def plan_unplanned_failover(self, plan: RecoveryPlan, choice: Any) -> OperationHandle:
        return self._plan_action("plan_unplanned_failover", plan, choice)

    def plan_planned_failover(self, plan: RecoveryPlan, choice: Any) -> OperationHandle:
        return self._plan_action("plan_planned_failover", plan, choice)

    def plan_failover_cancel(self, plan: RecoveryPlan) -> OperationHandle:
        return self._plan_action("plan_failover_cancel", plan)

    def plan_commit(self, plan: RecoveryPlan) -> OperationHandle:
        return self._plan_action("plan_commit", plan)

    def _job_action(self, verb: str, name: str, *args: Any) -> OperationHandle:
        # A simulated job is acted on in the simulation, as ASR would be asked; a real one is outside it.
        simulated = name in self._jobs
        return self._rehearse(  # type: ignore[no-any-return]
            lambda: getattr(self._live, verb)(name, *args),
            lambda: getattr(self.simulation(), verb)(name, *args) if simulated else _outside(verb, name),
            name,
        )

    def cancel_job(self, name: str) -> OperationHandle:
        return self._job_action("cancel_job", name)

    def restart_job(self, name: str) -> OperationHandle:
        return self._job_action("restart_job", name)

    def resume_job(self, name: str, comment: str = "") -> OperationHandle:
        return self._job_action("resume_job", name, comment)

    # -- reads: live, but what the rehearsal touched comes from the simulation ---------------------------

    def _overlay(self, item: ProtectedItem) -> ProtectedItem:
        sim_id = self._items.get(_key(item.id))
        if sim_id is None:
            return item
        return self._as_live(item, self.simulation().get_item(sim_id))

    def iter_item_pages(self, filter: str | None = None) -> Iterator[list[ProtectedItem]]:
        for page in self._live.iter_item_pages(filter):
            yield [self._overlay(i) for i in page] if self._items else page

    def get_item(self, item_id: str) -> ProtectedItem:
        return self._overlay(self._live.get_item(item_id))

    def list_recovery_points(self, item: ProtectedItem) -> list[RecoveryPoint]:
        if _key(item.id) in self._items:
            return self.simulation().list_recovery_points(self._sim_item(item))  # type: ignore[no-any-return]
        return self._live.list_recovery_points(item)  # type: ignore[no-any-return]

    def list_fabrics(self) -> list[Fabric]:
        return self._live.list_fabrics()  # type: ignore[no-any-return]

    def list_plans(self) -> list[RecoveryPlan]:
        plans: list[RecoveryPlan] = self._live.list_plans()
        if not self._plans:
            return plans
        return [self._sim_plan(p) if _key(p.name) in self._plans else p for p in plans]

    def get_plan(self, name: str) -> RecoveryPlan:
        if _key(name) in self._plans:
            return self.simulation().get_plan(name)  # type: ignore[no-any-return]
        return self._live.get_plan(name)  # type: ignore[no-any-return]

    def list_jobs(self, job_filter: JobFilter | None = None) -> list[Job]:
        jobs: list[Job] = self._live.list_jobs(job_filter)
        if not self._jobs:
            return jobs
        simulated = [j for j in self.simulation().list_jobs(job_filter) if j.name in self._jobs]
        return simulated + jobs

    def get_job(self, name: str) -> Job:
        if name in self._jobs:
            return self.simulation().get_job(name)  # type: ignore[no-any-return]
        return self._live.get_job(name)  # type: ignore[no-any-return]


def describe_request(request: RehearsedRequest, width: int = 600) -> str:
    """The request in a few lines for the screen: method and URL, the SDK call, the body (cut at `width`)."""
    from core.sanitize import one_line

    body = "no body" if request.body is None else json.dumps(request.body, sort_keys=True)
    if len(body) > width:
        body = body[:width] + "… (whole in the journal and the report)"
    lines = [f"{request.method} {request.path}"]
    if request.call:
        lines.append(f"SDK: {request.call}")
    lines.append(f"Body: {body}")
    if request.job:
        lines.append(f"Goes on as simulated job {request.job}.")
    return "\n".join(one_line(line, width + 80) for line in lines)


def rehearsed_for(backend: Any, job_name: str) -> RehearsedRequest | None:
    """The request a rehearsal did not send for job `job_name`; None outside a rehearsal or for a real job."""
    found = getattr(backend, "rehearsed_request", None)
    return found(job_name) if callable(found) else None


def _outside(verb: str, name: str) -> OperationHandle:
    raise FailbackError(
        f"Rehearsal: the request to {verb.replace('_', ' ')} {name} was recorded, not sent. The job is a real "
        "one in Azure, outside the rehearsal's simulation, so the rehearsal cannot show what it would do next."
    )


def _policies(backend: Any) -> list[tuple[str, str, str]]:
    lister = getattr(backend, "list_policies", None)
    return list(lister()) if lister is not None else []


def _names_by_id(fabrics: list[Fabric], policies: list[tuple[str, str, str]]) -> dict[str, str]:
    """Every server, appliance, run-as account and policy id (lower case) → a name that is the same in the live
    vault and in its simulation."""
    names: dict[str, str] = {}
    for fabric in fabrics:
        for ps in fabric.process_servers:
            names[_key(ps.id)] = f"ps:{ps.friendly_name}"
        for mt in fabric.master_targets:
            names[_key(mt.id)] = f"mt:{mt.name}"
        for appliance in fabric.appliances:
            names.setdefault(_key(appliance.id), f"ps:{appliance.name}")
        for account in fabric.run_as_accounts:
            names[_key(account.id)] = f"runas:{account.name}"
    for pid, name, kind in policies:
        names[_key(pid)] = f"policy:{kind}:{name}"
    return names


def simulate_vault(live: Any, clock: Any = None) -> Any:
    """An in-process emulator of the live vault, from a capture of its reads (names and ARM paths kept), on the
    live backend's clock: the simulated jobs run in the vault's own time."""
    from core.azure.backend import AzureBackend
    from core.bootstrap import EMULATOR_BASE_URL
    from core.capture import capture
    from core.clock import AcceleratedClock
    from core.config import StaticTokenCredential
    from core.emulator import EmulatorTransport, emulate
    from core.emulator.scenario import parse_scenario

    document = capture(live, arm_names=True)
    scenario = parse_scenario(document, file="rehearsal of " + live.vault.name, name="rehearsal")
    clock = clock or getattr(live, "clock", None) or AcceleratedClock(speed=1.0, start=live.now())
    emulator = emulate(scenario, clock, base_url=EMULATOR_BASE_URL)
    emulator.reseed_jobs("rehearsal")  # its new jobs never take the name of one the live vault holds
    return AzureBackend(
        emulator.vault,
        StaticTokenCredential("emulator"),
        arm_endpoint=emulator.base_url,
        transport=EmulatorTransport(emulator),
        clock=emulator.clock,
        simulated=True,
        retry_total=3,
    )


__all__ = [
    "REHEARSAL_WORD",
    "RehearsalBackend",
    "RehearsalTransport",
    "Rehearsed",
    "RehearsedRequest",
    "describe_request",
    "rehearsed_for",
    "sdk_call",
    "simulate_vault",
]
