"""Fault injection for the ARM emulator: what can go wrong, where, when and how many times."""

from __future__ import annotations

import fnmatch
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

# Faults that shape the answer to one matching request.
THROTTLE = "throttle"  # 429 SubscriptionRequestsThrottled, with or without Retry-After
SERVER_ERROR = "server-error"  # 500 or 503, `count` times in a row (a burst)
DROP = "drop"  # the connection drops before any answer (optionally only on list page `page`)
SLOW = "slow"  # the answer takes `delay` real seconds
MALFORMED = "malformed-json"  # a 200 whose body is not valid JSON
UNKNOWN_ENUM = "unknown-enum"  # item JSON carries enum values this client has never seen
UNKNOWN_INSTANCE_TYPE = "unknown-instance-type"  # item providerSpecificDetails.instanceType unknown
TOKEN_EXPIRED = "token-expired"  # 401 ExpiredAuthenticationToken
FORBIDDEN = "forbidden"  # 403 AuthorizationFailed
BUSY = "busy"  # 409: another operation is in progress on the target
# Faults that change the simulated vault at a moment of simulated time.
ITEM_DELETED = "item-deleted"  # the item disappears: 404 from then on
JOB_FAILS = "job-fails"  # the next matching job fails at a named task with a provider error
OTHER_OPERATOR = "other-operator"  # someone else starts an operation on an item

REQUEST_KINDS = frozenset(
    {THROTTLE, SERVER_ERROR, DROP, SLOW, MALFORMED, UNKNOWN_ENUM, UNKNOWN_INSTANCE_TYPE, TOKEN_EXPIRED, FORBIDDEN, BUSY}
)
TIMED_KINDS = frozenset({ITEM_DELETED, OTHER_OPERATOR})
KINDS = REQUEST_KINDS | TIMED_KINDS | {JOB_FAILS}


@dataclass
class Fault:
    """One fault. `count` is how many times it fires (None: every time); `path` is a glob over the URL path."""

    kind: str
    method: str = "*"
    path: str = "*"
    count: int | None = 1
    status: int = 503  # server-error: 500 or 503
    retry_after: float | None = None  # throttle: seconds in the Retry-After header, None for no header
    page: int | None = None  # drop/slow/...: only on this page (1-based) of a paged list
    delay: float = 0.0  # slow: real seconds
    item: str = ""  # item-deleted / other-operator / job-fails: friendly name or item name
    operation: str = ""  # other-operator: failover | commit | reprotect; job-fails: which operation's job
    after: float | None = None  # timed faults: simulated seconds after the emulator started
    at: datetime | None = None  # timed faults: an absolute simulated instant (runtime use)
    task: str = ""  # job-fails: task name or friendly name at which the job fails
    error_code: int = 0  # job-fails: provider error code
    error_message: str = ""
    possible_causes: str = ""
    recommended_action: str = ""
    fired: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        self._check_values()
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of: {', '.join(sorted(KINDS))}")
        if self.kind == SERVER_ERROR and self.status not in (500, 502, 503, 504):
            raise ValueError(f"server-error status must be 500, 502, 503 or 504, not {self.status}")
        if self.count is not None and self.count < 1:
            raise ValueError("count must be at least 1 (or null for every time)")
        if self.kind in TIMED_KINDS | {JOB_FAILS} and not self.item and self.kind != JOB_FAILS:
            raise ValueError(f"a {self.kind} fault needs `item`")
        if self.kind == OTHER_OPERATOR and self.operation not in ("failover", "commit", "reprotect"):
            raise ValueError("other-operator needs `operation`: failover, commit or reprotect")
        if self.kind == JOB_FAILS and not self.task:
            raise ValueError("a job-fails fault needs `task` (the task name or friendly name that fails)")

    def _check_values(self) -> None:
        """Types and ranges: a scenario file is read as JSON, where any key may hold anything."""
        for name, kind in (("kind", str), ("method", str), ("path", str), ("item", str), ("operation", str)):
            if not isinstance(getattr(self, name), kind):
                raise ValueError(f"{name} must be a string")
        for name in ("task", "error_message", "possible_causes", "recommended_action"):
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"{name} must be a string")
        limits: dict[str, tuple[float, float]] = {"count": (1, 1e6), "page": (1, 1e6), "status": (100, 599)}
        limits["error_code"] = (0, 2**31)
        for name, (low, high) in limits.items():
            value = getattr(self, name)
            if value is not None and (not _is_number(value, whole=True) or not low <= value <= high):
                raise ValueError(f"{name} must be a whole number from {low:g} to {high:g}")
        # delay: real seconds the server sleeps; retry_after: what the header says; after: simulated seconds
        for name, (low, high) in {"delay": (0, 3600), "retry_after": (0, 1e7), "after": (-3.2e8, 3.2e8)}.items():
            value = getattr(self, name)
            if value is not None and (not _is_number(value) or not low <= value <= high):
                raise ValueError(f"{name} must be a number from {low:g} to {high:g}")

    @property
    def exhausted(self) -> bool:
        return self.count is not None and self.fired >= self.count

    def matches(self, method: str, path: str, page: int | None) -> bool:
        if self.method != "*" and self.method.upper() != method.upper():
            return False
        if not fnmatch.fnmatchcase(path.lower(), self.path.lower()):
            return False
        return self.page is None or self.page == page

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Fault:
        """Build from a scenario entry; raises ValueError naming the offending key."""
        known = {f.name for f in fields(cls)} - {"fired", "at"}
        for key in obj:
            if key not in known:
                raise ValueError(f"unknown key {key!r}; known keys: {', '.join(sorted(known))}")
        if "kind" not in obj:
            raise ValueError("missing key 'kind'")
        return cls(**dict(obj))


def _is_number(value: Any, whole: bool = False) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return math.isfinite(value) and (not whole or float(value).is_integer())


class FaultPlan:
    """The faults in force. Thread-safe: the HTTPS server answers from several threads."""

    def __init__(self, faults: list[Fault] | None = None) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = list(faults or [])

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def faults(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def take_request_fault(self, method: str, path: str, page: int | None, kinds: frozenset[str]) -> Fault | None:
        """The first live request fault of `kinds` matching this request, consumed once."""
        with self._lock:
            for fault in self._faults:
                if fault.kind in kinds and not fault.exhausted and fault.matches(method, path, page):
                    fault.fired += 1
                    return fault
        return None

    def take_job_failure(self, operation: str, item_names: tuple[str, ...]) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.kind != JOB_FAILS or fault.exhausted:
                    continue
                if fault.operation and fault.operation != operation:
                    continue
                if fault.item and fault.item.lower() not in (n.lower() for n in item_names):
                    continue
                fault.fired += 1
                return fault
        return None

    def take_due(self, now: datetime, started: datetime) -> list[tuple[datetime, Fault]]:
        """Timed faults whose moment has come, oldest first, each consumed."""
        due: list[tuple[datetime, Fault]] = []
        with self._lock:
            for fault in self._faults:
                if fault.kind not in TIMED_KINDS or fault.exhausted:
                    continue
                when = fault.at
                if when is None:
                    when = started + timedelta(seconds=fault.after or 0.0)
                if when <= now:
                    fault.fired = fault.count or 1
                    due.append((when, fault))
        due.sort(key=lambda pair: pair[0])
        return due
