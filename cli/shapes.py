"""The JSON shapes of `-o json`: stable keys, UTC times (scripts depend on them: change only by adding)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from cli.output import iso
from core.failback import (
    derive_stage,
    next_step,
    stage_reason,
)
from core.journal import error_detail_record
from core.model import (
    ErrorDetail,
    Job,
    JobTask,
    OperationHandle,
    ProtectedItem,
    RecoveryPoint,
)
from core.recovery import (
    PointOption,
    data_loss_seconds,
)


def item_json(item: ProtectedItem, now: datetime) -> dict[str, Any]:
    stage = derive_stage(item)
    newest = item.last_recovery_point_time
    return {
        "id": item.id,
        "name": item.name,
        "friendly_name": item.friendly_name,
        "stage": stage.key,
        "stage_label": stage.label,
        "stage_reason": stage_reason(item),
        "next_step": next_step(item),
        "replication_health": item.replication_health,
        "failover_health": item.failover_health,
        "protection_state": item.protection_state,
        "protection_state_description": item.protection_state_description,
        "active_location": item.active_location,
        "provider": item.provider.value,
        "instance_type": item.instance_type,
        "allowed_operations": list(item.allowed_operations),
        "recovery_plans": list(item.recovery_plans),
        "consistency_group": item.consistency_group,
        "rpo_seconds": item.rpo_seconds,
        "last_recovery_point_time": iso(newest),
        "last_recovery_point_age_seconds": (now - newest).total_seconds() if newest else None,
        "running_job": item.running_job_name or None,
        "recovery_fabric": item.recovery_fabric_friendly_name,
        "health_errors": [
            {
                "code": e.code,
                "message": e.message,
                "severity": e.severity,
                "possible_causes": e.possible_causes,
                "recommended_action": e.recommended_action,
            }
            for e in item.health_errors
        ],
    }


def point_json(point: RecoveryPoint, points: Sequence[RecoveryPoint]) -> dict[str, Any]:
    return {
        "id": point.id,
        "name": point.name,
        "time": iso(point.time),
        "kind": point.kind.value,
        "is_multi_vm_sync": point.is_multi_vm_sync,
        "loss_seconds": data_loss_seconds(point, points),
    }


def option_json(option: PointOption) -> dict[str, Any]:
    return {
        "choice": option.choice.value,
        "point_id": option.point.id if option.point else None,
        "point_time": iso(option.point.time) if option.point else None,
        "kind": option.point.kind.value if option.point else None,
        "loss_seconds": option.loss_seconds,
        "age_seconds": option.age_seconds,
        "headline": option.headline,
        "tradeoff": option.tradeoff,
        "needs_acknowledgement": option.needs_acknowledgement,
    }


def _error_json(detail: ErrorDetail) -> dict[str, Any]:
    record = error_detail_record(detail)  # the journal's shape, less the creation time
    record.pop("created", None)
    return record


def _task_json(task: JobTask) -> dict[str, Any]:
    return {
        "task_id": task.task_id,
        "name": task.name,
        "friendly_name": task.friendly_name,
        "state": task.state.value,
        "state_description": task.state_description,
        "start_time": iso(task.start_time),
        "end_time": iso(task.end_time),
        "errors": [_error_json(e) for e in task.errors],
        "child_job_name": task.child_job_name or None,
        "child_tasks": [_task_json(c) for c in task.child_tasks],
    }


def job_json(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "name": job.name,
        "scenario_name": job.scenario_name,
        "friendly_name": job.friendly_name,
        "state": job.state.value,
        "state_description": job.state_description,
        "start_time": iso(job.start_time),
        "end_time": iso(job.end_time),
        "target_object_name": job.target_object_name,
        "allowed_actions": list(job.allowed_actions),
        "tasks": [_task_json(t) for t in job.tasks],
        "errors": [_error_json(e) for e in job.errors],
        "new_item_id": job.new_item_id or None,
    }


def handle_json(handle: OperationHandle) -> dict[str, Any]:
    return {
        "operation": handle.operation,
        "job_name": handle.job_name,
        "target_id": handle.target_id,
        "target_name": handle.target_name,
    }
