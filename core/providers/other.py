"""Items of a replication stack the tool does not fail back (A2A, HyperV, an instanceType unknown to the SDK)."""

from __future__ import annotations

from collections.abc import Sequence

from core.errors import NotAllowedNow
from core.model import AnyReprotectTarget, PointChoice, ProtectedItem, ReprotectTarget, Stage
from core.providers.base import ActionRequest, Verb, Verdict, remembered_stage, running_stage
from core.recovery import PointOption


class OtherProvider:
    key = "other"
    kind_label = "not an AVS failback stack"
    failover_name = "failover"
    needs_points = True
    cancellable = False

    def type_options(self, item: ProtectedItem) -> list[PointOption]:
        return []

    def _refusal(self, item: ProtectedItem) -> str:
        kind = item.instance_type or "unknown"
        return f"Items of type {kind!r} are not part of the AVS failback path."

    def stage(self, item: ProtectedItem) -> Stage:
        return remembered_stage(item, self._work_out_stage)

    def _work_out_stage(self, item: ProtectedItem) -> Stage:
        return running_stage(item) or Stage.NOT_READY

    def stage_reason(self, item: ProtectedItem) -> str:
        return self._refusal(item)

    def next_step(self, item: ProtectedItem) -> str:
        return ""

    def verdict(self, item: ProtectedItem, verb: Verb) -> Verdict:
        return Verdict(False, self._refusal(item))

    def _refuse(self, item: ProtectedItem) -> ActionRequest:
        raise NotAllowedNow(self._refusal(item))

    def failover_request(self, item: ProtectedItem, choice: PointChoice, recovery_point_id: str = "") -> ActionRequest:
        return self._refuse(item)

    def cancel_request(self, item: ProtectedItem) -> ActionRequest:
        return self._refuse(item)

    def commit_request(self, item: ProtectedItem) -> ActionRequest:
        return self._refuse(item)

    def complete_target(
        self, item: ProtectedItem, target: ReprotectTarget, policies: Sequence[tuple[str, str, str]]
    ) -> AnyReprotectTarget:
        return target

    def reprotect_request(self, item: ProtectedItem, target: AnyReprotectTarget) -> ActionRequest:
        return self._refuse(item)
