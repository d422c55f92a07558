"""What every replication stack's provider shares: the verbs, a verdict, one ARM action to send, and shared guards."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from core.errors import UsageError
from core.model import AnyReprotectTarget, PointChoice, ProtectedItem, ReprotectTarget, Stage
from core.recovery import PointOption


def remembered_stage(item: ProtectedItem, work_out: Callable[[ProtectedItem], Stage]) -> Stage:
    """The item's stage, worked out once and kept on the item: its fields are frozen, and a row of the dashboard
    asks for it about ten times (cells, words, filter text, health, readiness): on a 10,000-item vault that was a
    second of the loading. `dataclasses.replace` makes a new item, which works its own out again."""
    known = item.__dict__.get("_derived_stage")
    if known is None:
        known = work_out(item)
        object.__setattr__(item, "_derived_stage", known)  # not a field: equality, hashing and replace ignore it
    return known


class Verb(enum.Enum):
    FAILOVER = "failover"
    CANCEL = "cancel-failover"
    COMMIT = "commit"
    REPROTECT = "reprotect"


@dataclass(frozen=True)
class Verdict:
    """Whether an action may be sent now; `reason` says why not (and what to do), or what it will do."""

    allowed: bool
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


@dataclass(frozen=True)
class ActionRequest:
    """One ARM action on an item: the verb, the POST segment after the item's path, and its body (None: none).

    `input_model` names the SDK input class the body must pass through unchanged ("" when there is no body):
    the tests hold every body to it.
    """

    verb: Verb
    operation: str  # unplannedFailover | plannedFailover | failoverCancel | failoverCommit | reProtect
    body: dict[str, Any] | None
    input_model: str = ""
    journal: Mapping[str, Any] = field(default_factory=dict)
    choice: PointChoice | None = None
    recovery_point_id: str = ""
    target: AnyReprotectTarget | None = None


def norm(value: str) -> str:
    return value.replace(" ", "").replace("_", "").replace("-", "").lower()


_FAILOVER_SCENARIOS = {"unplannedfailover", "failover", "plannedfailover"}
_CANCEL_SCENARIOS = {"cancelfailover", "failovercancel"}
_COMMIT_SCENARIOS = {"commitfailover", "commit", "failovercommit"}
_REPROTECT_SCENARIOS = {"switchreplicationgroupprotection", "switchprotection", "reversereplicate", "reprotect"}


def running_stage(item: ProtectedItem) -> Stage | None:
    """The stage a running job puts the item in, from currentScenario's name; None when idle or unknown."""
    scenario = item.current_scenario
    if scenario is None:
        return None
    name = norm(scenario.name)
    if name in _FAILOVER_SCENARIOS:
        return Stage.FAILOVER_RUNNING
    if name in _CANCEL_SCENARIOS:
        return Stage.CANCEL_RUNNING
    if name in _COMMIT_SCENARIOS:
        return Stage.COMMIT_RUNNING
    if name in _REPROTECT_SCENARIOS:
        return Stage.REPROTECT_RUNNING
    return None


RUNNING_STAGES = (Stage.FAILOVER_RUNNING, Stage.CANCEL_RUNNING, Stage.COMMIT_RUNNING, Stage.REPROTECT_RUNNING)


def running_job_verdict(item: ProtectedItem) -> Verdict | None:
    scenario = item.current_scenario
    if scenario is None:
        return None
    return Verdict(
        False,
        f"A {scenario.name} job ({scenario.job_name}) is already running on {item.friendly_name}. "
        "Wait for it to finish (see `jobs`), or follow it instead of starting another.",
    )


def health_note(item: ProtectedItem) -> str:
    """ASR still allows the failover with poor health, but the operator should know before choosing."""
    poor = [
        f"{what} health is {value}"
        for what, value in (("replication", item.replication_health), ("failover", item.failover_health))
        if value and value.lower() not in ("normal", "none")
    ]
    if not poor:
        return ""
    note = f" Note: {' and '.join(poor)}"
    first = item.health_errors[0] if item.health_errors else None
    if first is not None and first.message:
        note += f" ({first.message.rstrip('.')})"
    return note + "."


def group_verdict(item: ProtectedItem) -> Verdict | None:
    """A member of a named replication group fails back with its plan, so the group's VMs recover together."""
    if not item.consistency_group:
        return None
    return Verdict(
        False,
        f"{item.friendly_name} belongs to the replication group {item.consistency_group!r}: fail back "
        "its recovery plan instead, so the group's VMs recover together.",
    )


def forward_policy(kind: str, policies: Sequence[tuple[str, str, str]]) -> str:
    """The vault's one AVS → Azure policy of `kind` ((id, name, instanceType) rows); asks for --policy otherwise."""
    candidates = [pid for pid, _name, found in policies if found == kind]
    if len(candidates) == 1:
        return candidates[0]
    what = "no" if not candidates else f"{len(candidates)}"
    raise UsageError(
        f"The vault has {what} AVS → Azure ({kind}) replication policies; reprotect needs one.",
        hint="Name the policy to use: --policy /subscriptions/…/vaults/…/replicationPolicies/NAME",
    )


class FailbackProvider(Protocol):
    """One replication stack: what its items' stages are, which verbs they allow, and the bodies it sends."""

    key: str
    kind_label: str
    failover_name: str
    needs_points: bool  # True: the failover point is picked from the item's listed recovery points
    cancellable: bool  # whether a finished failover of this stack can be cancelled

    def type_options(self, item: ProtectedItem) -> list[PointOption]:
        """The choices of a stack whose failover takes a type of point rather than a listed one."""
        ...

    def stage(self, item: ProtectedItem) -> Stage: ...

    def stage_reason(self, item: ProtectedItem) -> str: ...

    def next_step(self, item: ProtectedItem) -> str: ...

    def verdict(self, item: ProtectedItem, verb: Verb) -> Verdict: ...

    def failover_request(
        self, item: ProtectedItem, choice: PointChoice, recovery_point_id: str = ""
    ) -> ActionRequest: ...

    def cancel_request(self, item: ProtectedItem) -> ActionRequest: ...

    def commit_request(self, item: ProtectedItem) -> ActionRequest: ...

    def reprotect_request(self, item: ProtectedItem, target: AnyReprotectTarget) -> ActionRequest: ...

    def complete_target(
        self, item: ProtectedItem, target: ReprotectTarget, policies: Sequence[tuple[str, str, str]]
    ) -> AnyReprotectTarget:
        """A target chosen as process server (+ master target), made whole for this stack with the vault's policies."""
        ...
