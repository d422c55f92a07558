"""A whole failback on an emulated vault, through the product's own backend, reading every resource at each stage.

`read_everything` GETs each kind of resource the emulator serves (pages followed to the end); `whole_failback`
and `plan_failback` drive the operations through AzureBackend (so the request bodies are the product's own) and
read everything again after each step. A Witness on the emulator catches all of it for the conformance tests.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from core.azure.backend import AzureBackend
from core.bootstrap import EMULATOR_BASE_URL, build_backend
from core.clock import ManualClock
from core.config import Settings
from core.emulator import ArmEmulator, Scenario
from core.emulator.modernized import FAILBACK_POLICY, FORWARD_POLICY
from core.errors import FailbackError, JobFailed
from core.failback import derive_stage
from core.model import (
    JobState,
    PointChoice,
    ProtectedItem,
    Provider,
    RcmReprotectToAvs,
    RcmReprotectToAzure,
    RecoveryPlan,
    ReprotectTarget,
    Stage,
)
from core.providers import MODERNIZED
from core.tracker import JobTracker
from tests.conformance.witness import Witness

AUTH = {"Authorization": "Bearer conformance"}
API = "api-version=2025-08-01"


@dataclass
class Rig:
    emulator: ArmEmulator
    clock: ManualClock
    backend: AzureBackend
    witness: Witness
    stages: list[str] = field(default_factory=list)  # what the tour went through, for the test to assert on
    focus: set[str] = field(default_factory=set)  # ARM names of the items the tour works on

    def get(self, suffix: str, query: str = API) -> Any:
        """A GET below the vault straight to the emulator (no client in between); the parsed body or None."""
        url = f"{self.emulator.base_url}{self.emulator.vault_path}/{suffix}?{query}"
        answer = self.emulator.handle("GET", url, AUTH, None)
        return json.loads(answer.body) if answer.body else None

    def pages(self, suffix: str, query: str = API) -> Iterator[dict[str, Any]]:
        body = self.get(suffix, query)
        while isinstance(body, dict):
            yield from (doc for doc in body.get("value") or [] if isinstance(doc, dict))
            link = body.get("nextLink")
            if not link:
                return
            answer = self.emulator.handle("GET", link, AUTH, None)
            body = json.loads(answer.body) if answer.body else None

    def wait(self, job_name: str) -> None:
        """Follow the job to its end, whatever the end (a failed or cancelled job is part of the tour)."""
        try:
            JobTracker(self.backend, self.clock, interval=30).wait(job_name, timeout=6 * 3600)
        except JobFailed:
            pass

    def item(self, item: ProtectedItem) -> ProtectedItem:
        """The item read again, alone."""
        return self.backend.get_item(item.id)


def rig(scenario: Scenario) -> Rig:
    clock = ManualClock()
    emulator = ArmEmulator(scenario, clock, base_url=EMULATOR_BASE_URL)
    witness = Witness(emulator)
    backend = build_backend(Settings(demo=True), emulator=emulator)
    return Rig(emulator, clock, backend, witness)


def _below_vault(arm_id: str) -> str:
    return arm_id.split("/vaults/", 1)[1].split("/", 1)[1]


def read_everything(r: Rig, *, points_for: Callable[[dict[str, Any]], bool] | None = None) -> None:
    """GET every kind of resource: items (vault-wide and per container, and each one), fabrics, containers,
    recovery points, plans, policies, jobs (each one too). Recovery points (hundreds per item) are read for the
    items `points_for` picks; by default for the tour's focus, or for every item before the tour starts."""
    if points_for is None:
        focus = {n.lower() for n in r.focus}
        points_for = (lambda doc: doc.get("name", "").lower() in focus) if focus else (lambda doc: True)
    items = list(r.pages("replicationProtectedItems"))
    for fabric in list(r.pages("replicationFabrics")):
        name = fabric["name"]
        r.get(f"replicationFabrics/{name}")
        for container in list(r.pages(f"replicationFabrics/{name}/replicationProtectionContainers")):
            path = f"replicationFabrics/{name}/replicationProtectionContainers/{container['name']}"
            r.get(path)
            list(r.pages(f"{path}/replicationProtectedItems"))
    for doc in items:
        if not points_for(doc):
            continue
        path = _below_vault(doc["id"])
        r.get(path)
        points = list(r.pages(f"{path}/recoveryPoints"))
        if points:
            r.get(f"{path}/recoveryPoints/{points[0]['name']}")
    for plan in list(r.pages("replicationRecoveryPlans")):
        r.get(f"replicationRecoveryPlans/{plan['name']}")
    for policy in list(r.pages("replicationPolicies")):
        r.get(f"replicationPolicies/{policy['name']}")
    for job in list(r.pages("replicationJobs")):
        r.get(f"replicationJobs/{job['name']}")
        r.get(f"replicationOperationStatus/{job['name']}")
    # The answers a client meets when something is wrong: a missing item, a filter ASR refuses.
    r.get("replicationFabrics/no-such-fabric")
    r.get("replicationProtectedItems", f"{API}&$filter=Colour eq 'blue'")


def _follow_lro(r: Rig, target_id: str, job_name: str) -> None:
    """What the SDK's poller would read: the operation status and the Location (operationresults) answer."""
    r.get(f"replicationOperationStatus/{job_name}")
    r.get(f"{_below_vault(target_id)}/operationresults/{job_name}")


def _single(r: Rig, stage: Stage, listed: list[ProtectedItem] | None = None) -> ProtectedItem | None:
    """A classic item at `stage` outside any replication group (failed back on its own), with recovery points
    when it is to be failed over."""
    for item in r.backend.list_items() if listed is None else listed:
        if derive_stage(item) is not stage or item.consistency_group or item.provider is not Provider.CLASSIC:
            continue
        if stage is not Stage.READY or r.backend.list_recovery_points(item):
            return item
    return None


def _target(r: Rig, item: ProtectedItem) -> ReprotectTarget:
    fabrics = r.backend.list_fabrics()
    servers = [s for f in fabrics for s in f.process_servers]
    healthy = next((s for s in servers if s.is_healthy), servers[0])
    masters = [m for f in fabrics for m in f.master_targets]
    master = next((m for m in masters if m.id == item.master_target_id), masters[0])
    return ReprotectTarget(process_server_id=healthy.id, master_target_id=master.id)


def _refused(r: Rig, stage: str, send: Callable[[], Any]) -> None:
    """Send what ASR must refuse; the stage is noted only when it did."""
    try:
        send()
    except FailbackError:
        r.stages.append(stage)


def _finish(r: Rig, job_name: str, what: str) -> None:
    """Follow the job; a failed one (a lesson's fault) is restarted once, as an operator would."""
    r.wait(job_name)
    if r.backend.get_job(job_name).state is JobState.FAILED:
        r.stages.append(f"{what} failed")
        r.wait(r.backend.restart_job(job_name).job_name)


def whole_failback(r: Rig, *, everything: Callable[[Rig], None] = read_everything) -> None:
    """One VM through every step it has left, from ready to protected-to-Azure again: a custom point, a refused
    second operation, a reprotect refused inside the agent window and then restarted, and a cancelled failover
    on another VM; every resource read after each step."""
    listed = r.backend.list_items()
    item = next(
        (i for stage in (Stage.READY, Stage.FAILED_OVER, Stage.COMMITTED) if (i := _single(r, stage, listed))), None
    )
    if item is None:
        r.stages.append("no single item to fail back")
        return
    r.focus.add(item.name)
    if derive_stage(item) is Stage.READY:
        points = r.backend.list_recovery_points(item)
        handle = r.backend.unplanned_failover(item, PointChoice.CUSTOM, points[len(points) // 2].id)
        r.stages.append("failover sent")
        _follow_lro(r, item.id, handle.job_name)
        _refused(r, "refused commit while busy", lambda: r.backend.commit(item))  # ASR's 409: in progress
        r.clock.advance(60)
        everything(r)
        _finish(r, handle.job_name, "failover")
        _follow_lro(r, item.id, handle.job_name)
        everything(r)
        item = r.item(item)
    if derive_stage(item) is Stage.FAILED_OVER:
        r.stages.append("failed over")
        # A second failover while ASR allows none: its 400 with ASR's details.
        _refused(r, "refused failover", lambda: r.backend.unplanned_failover(item, PointChoice.LATEST))
        handle = r.backend.commit(item)
        _finish(r, handle.job_name, "commit")
        _follow_lro(r, item.id, handle.job_name)
        everything(r)
        item = r.item(item)
    if derive_stage(item) is Stage.COMMITTED:
        r.stages.append("committed")
        handle = r.backend.reprotect(item, _target(r, item))
        r.wait(handle.job_name)
        if r.backend.get_job(handle.job_name).state is JobState.FAILED:
            r.stages.append("reprotect failed in the agent window")
            everything(r)
            r.clock.advance(20 * 60)
            handle = r.backend.restart_job(handle.job_name)
        r.clock.advance(90)
        everything(r)  # the reprotect running, with its Enable replication child job
        r.wait(handle.job_name)
        for job in r.backend.list_jobs():
            if job.is_running:
                r.wait(job.name)
        if derive_stage(r.item(item)) is Stage.PROTECTED_TO_AZURE:
            r.stages.append("reprotected")
        everything(r)
    other = _single(r, Stage.READY)
    if other is not None:
        r.focus.add(other.name)
        handle = r.backend.unplanned_failover(other, PointChoice.LATEST_APP_CONSISTENT)
        r.clock.advance(30)
        r.backend.cancel_job(handle.job_name)
        r.wait(handle.job_name)
        r.stages.append("failover cancelled")
        everything(r)


def _plan_ready(r: Rig, plan: RecoveryPlan) -> bool:
    ids = {i.lower() for i in plan.item_ids}
    members = [i for i in r.backend.list_items() if i.id.lower() in ids]
    return bool(members) and all(derive_stage(m) is Stage.READY and m.instance_type == "InMage" for m in members)


def plan_failback(r: Rig, *, everything: Callable[[Rig], None] = read_everything) -> None:
    """A plan failed back (app-consistent when the plan's groups share a point, else latest) and committed; a
    manual action in its boot groups suspends the job until it is resumed."""
    plan = next((p for p in r.backend.list_plans() if _plan_ready(r, p)), None)
    if plan is None:
        r.stages.append("no plan ready")
        return
    try:
        handle = r.backend.plan_unplanned_failover(plan, PointChoice.LATEST_APP_CONSISTENT)
    except FailbackError:
        handle = r.backend.plan_unplanned_failover(plan, PointChoice.LATEST)
    r.focus.update(i.rsplit("/", 1)[-1] for i in plan.item_ids)
    r.stages.append("plan failover sent")
    _follow_lro(r, plan.id, handle.job_name)
    for _ in range(240):
        job = r.backend.get_job(handle.job_name)
        if job.state is JobState.SUSPENDED:
            r.stages.append("plan waiting for its manual action")
            everything(r)
            r.backend.resume_job(handle.job_name, "DNS repointed by hand")
        elif job.state.is_terminal:
            break
        r.clock.advance(30)
    _follow_lro(r, plan.id, handle.job_name)
    r.stages.append("plan failed over")
    everything(r)
    plan = next(p for p in r.backend.list_plans() if p.name == plan.name)
    handle = r.backend.plan_commit(plan)
    r.wait(handle.job_name)
    r.stages.append("plan committed")
    everything(r)


def _modernized(r: Rig, stage: Stage) -> ProtectedItem | None:
    return next(
        (i for i in r.backend.list_items() if i.provider is Provider.MODERNIZED and derive_stage(i) is stage), None
    )


def modernized_failback(r: Rig, *, everything: Callable[[Rig], None] = read_everything) -> None:
    """A modernized VM in Azure reprotected to AVS; then one from ready through a planned failover, its cancel,
    a second planned failover, the commit and the reprotect back to Azure (its job fails until the Mobility agent
    has registered); every resource read after each step."""
    in_azure = _modernized(r, Stage.IN_AZURE)
    if in_azure is not None:
        r.focus.add(in_azure.name)
        fabrics = r.backend.list_fabrics()
        appliance = next((a for f in fabrics for a in f.appliances if a.accessible_datastores), None)
        if appliance is not None:  # the replication appliance's fabric: its reprotect agent and a datastore it reaches
            agent_id, datastore = appliance.id, (appliance.accessible_datastores or ("",))[0]
        else:  # a scenario without one: its process servers and the master targets' datastores stand in
            agent_id = next(s for f in fabrics for s in f.process_servers).id
            datastore = next(d.name for f in fabrics for m in f.master_targets for d in m.datastores)
        policy = f"{r.emulator.vault_path}/replicationPolicies/{FAILBACK_POLICY}"
        account = f"/subscriptions/{r.backend.vault.subscription_id}/resourceGroups/rg/providers/Microsoft.Storage"
        target = RcmReprotectToAvs(agent_id, datastore, f"{account}/storageAccounts/logs", policy)
        handle = r.backend.start_item_action(in_azure, MODERNIZED.reprotect_request(in_azure, target))
        _finish(r, handle.job_name, "reprotect to AVS")
        if derive_stage(r.item(in_azure)) is Stage.NOT_READY:
            r.stages.append("initial replication to AVS")
        everything(r)  # the initial replication under way
        r.clock.advance(r.emulator.simulation.settings.rcm_failback_ir_minutes * 60 + 1)
        if derive_stage(r.item(in_azure)) is Stage.READY:
            r.stages.append("reprotected to AVS")
        everything(r)
    item = _modernized(r, Stage.READY)
    if item is None:
        r.stages.append("no modernized item ready")
        return
    r.focus.add(item.name)
    provider = MODERNIZED
    for choice, then in ((PointChoice.LATEST, "cancel"), (PointChoice.LATEST_APP_CONSISTENT, "commit")):
        handle = r.backend.start_item_action(item, provider.failover_request(item, choice))
        r.stages.append("planned failover sent")
        _follow_lro(r, item.id, handle.job_name)
        r.clock.advance(60)
        everything(r)
        _finish(r, handle.job_name, "planned failover")
        item = r.item(item)
        if derive_stage(item) is not Stage.FAILED_OVER:
            r.stages.append(f"planned failover ended at {derive_stage(item).key}")
            return
        r.stages.append("planned failover finished")
        everything(r)
        if then == "cancel":
            handle = r.backend.start_item_action(item, provider.cancel_request(item))
            _finish(r, handle.job_name, "cancel")
            _follow_lro(r, item.id, handle.job_name)
            item = r.item(item)
            if derive_stage(item) is Stage.READY:
                r.stages.append("cancelled")
            everything(r)
    handle = r.backend.start_item_action(item, provider.commit_request(item))
    _finish(r, handle.job_name, "commit")
    item = r.item(item)
    if derive_stage(item) is Stage.COMMITTED:
        r.stages.append("committed")
    everything(r)
    fabrics = r.backend.list_fabrics()
    servers = [a.id for f in fabrics for a in f.appliances] or [s.id for f in fabrics for s in f.process_servers]
    target = RcmReprotectToAzure(servers[0], f"{r.emulator.vault_path}/replicationPolicies/{FORWARD_POLICY}")
    handle = r.backend.start_item_action(item, provider.reprotect_request(item, target))
    r.wait(handle.job_name)
    if r.backend.get_job(handle.job_name).state is JobState.FAILED:
        r.stages.append("reprotect failed before the agent registered")
    everything(r)
    r.clock.advance(20 * 60)
    item = r.item(item)
    handle = r.backend.start_item_action(item, provider.reprotect_request(item, target))
    r.wait(handle.job_name)
    r.stages.append(f"reprotect {r.backend.get_job(handle.job_name).state.value}")
    if derive_stage(r.item(item)) is Stage.PROTECTED_TO_AZURE:
        r.stages.append("protected to Azure")
    everything(r)
