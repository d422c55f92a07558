"""The Backend protocol: every read and every operation the product needs from a vault."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Protocol

from core.model import (
    AnyReprotectTarget,
    Fabric,
    Job,
    JobFilter,
    OperationHandle,
    PointChoice,
    ProtectedItem,
    RecoveryPlan,
    RecoveryPoint,
    VaultRef,
)
from core.providers import ActionRequest


class Backend(Protocol):
    """One vault. Reads return domain objects; operations return the ASR job handle at once.

    Every method raises only core.errors types. Implementations: core.azure.backend.AzureBackend
    (the SDK, against Azure or the emulator).
    """

    vault: VaultRef
    read_only: bool
    simulated: bool  # True when the vault is the emulator: the UI says SIMULATION on every screen

    def now(self) -> datetime:
        """The backend's time: real UTC for Azure, the simulated clock for the emulator."""
        ...

    def iter_item_pages(self, filter: str | None = None) -> Iterator[list[ProtectedItem]]:
        """Vault-wide replicated items, one list per ARM page (first rows show before the last page)."""
        ...

    def get_item(self, item_id: str) -> ProtectedItem: ...

    def list_recovery_points(self, item: ProtectedItem) -> list[RecoveryPoint]:
        """Newest first."""
        ...

    def list_fabrics(self) -> list[Fabric]: ...

    def list_plans(self) -> list[RecoveryPlan]: ...

    def get_plan(self, name: str) -> RecoveryPlan: ...

    def list_jobs(self, job_filter: JobFilter | None = None) -> list[Job]: ...

    def get_job(self, name: str) -> Job: ...

    def unplanned_failover(
        self, item: ProtectedItem, choice: PointChoice, recovery_point_id: str = ""
    ) -> OperationHandle: ...

    def commit(self, item: ProtectedItem) -> OperationHandle: ...

    def reprotect(self, item: ProtectedItem, target: AnyReprotectTarget) -> OperationHandle: ...

    def start_item_action(self, item: ProtectedItem, request: ActionRequest) -> OperationHandle:
        """One item action as its provider built it (core.providers): the path segment and the body."""
        ...

    def planned_failover(self, item: ProtectedItem, choice: PointChoice) -> OperationHandle: ...

    def failover_cancel(self, item: ProtectedItem) -> OperationHandle: ...

    def plan_unplanned_failover(self, plan: RecoveryPlan, choice: PointChoice) -> OperationHandle: ...

    def plan_commit(self, plan: RecoveryPlan) -> OperationHandle: ...

    def plan_planned_failover(self, plan: RecoveryPlan, choice: PointChoice) -> OperationHandle:
        """A modernized plan's failback: POST {plan}/plannedFailover (RecoveryPlanPlannedFailoverInput)."""
        ...

    def plan_failover_cancel(self, plan: RecoveryPlan) -> OperationHandle:
        """Cancel a modernized plan's finished planned failover: POST {plan}/failoverCancel, no body."""
        ...

    def cancel_job(self, name: str) -> OperationHandle: ...

    def restart_job(self, name: str) -> OperationHandle: ...

    def resume_job(self, name: str, comment: str = "") -> OperationHandle: ...
