"""App-wide messages, each named as the event that happened (workers post them; handlers touch widgets)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from textual.message import Message

from core.model import Fabric, Job, OperationHandle, ProtectedItem, RecoveryPoint

# Every message here is addressed to the node that handles it (a worker posts to its own screen or to the
# App, the App forwards to screens), so none bubbles: a forwarded message must not come back to the App.


@dataclass(eq=False)
class BackendReady(Message, bubble=False):
    backend: Any


@dataclass(eq=False)
class BackendFailed(Message, bubble=False):
    error: BaseException


@dataclass(eq=False)
class FirstPageRead(Message, bubble=False):
    """The early first page (core.first_page), read by a child process while the dashboard was loading."""

    page: Any


@dataclass(eq=False)
class ItemsPageLoaded(Message, bubble=False):
    items: list[ProtectedItem]
    generation: int
    first: bool


@dataclass(eq=False)
class ItemsLoaded(Message, bubble=False):
    generation: int
    count: int
    loaded_at: datetime


@dataclass(eq=False)
class ItemsLoadFailed(Message, bubble=False):
    generation: int
    error: BaseException


@dataclass(eq=False)
class ItemRefreshed(Message, bubble=False):
    item: ProtectedItem


@dataclass(eq=False)
class PointsLoaded(Message, bubble=False):
    item: ProtectedItem
    points: list[RecoveryPoint]
    purpose: str  # "detail" fills the pane; "failover" opens the recovery point dialog


@dataclass(eq=False)
class FabricsLoaded(Message, bubble=False):
    item: ProtectedItem
    fabrics: list[Fabric]
    purpose: str


@dataclass(eq=False)
class ApplianceChoicesLoaded(Message, bubble=False):
    """What a modernized reprotect dialog offers: the item read afresh (its disks), the fabrics, the policies."""

    item: ProtectedItem
    fabrics: list[Fabric]
    policies: list[tuple[str, str, str]]


@dataclass(eq=False)
class LoadFailed(Message, bubble=False):
    what: str
    error: BaseException


@dataclass(eq=False)
class JobsPolled(Message, bubble=False):
    changed: list[Job]
    error: BaseException | None = None
    tracker: Any = None  # the core.tracker.JobTracker polled (a vault closed meanwhile has another, or none)


@dataclass(eq=False)
class JobUpdated(Message, bubble=False):
    job: Job


@dataclass(eq=False)
class JobsListed(Message, bubble=False):
    jobs: list[Job]


@dataclass(eq=False)
class OperationStarted(Message, bubble=False):
    """A mutating call was accepted: ASR started the job in `handle`."""

    kind: str
    item: ProtectedItem | None
    handle: OperationHandle
    attempt: int = 1
    note: str = ""  # set when nothing was sent: a job already running on the target is followed instead
    job_name: str = ""  # for job actions: the job acted upon


class FailoverStarted(OperationStarted, bubble=False):
    pass


class CommitStarted(OperationStarted, bubble=False):
    pass


class CancelStarted(OperationStarted, bubble=False):
    pass


class ReprotectStarted(OperationStarted, bubble=False):
    pass


class JobActionAccepted(OperationStarted, bubble=False):
    """Cancel, restart or resume was accepted for a job."""


@dataclass(eq=False)
class OperationFailed(Message, bubble=False):
    kind: str
    item: ProtectedItem | None
    error: BaseException
    job_name: str = ""


@dataclass(eq=False)
class LossGrew(Message, bubble=False):
    """Nothing was sent: the data loss accepted (`was`, a core.recovery.PointOption) grew to `now` meanwhile."""

    item: ProtectedItem
    was: Any
    now: Any
    points: list[RecoveryPoint]


@dataclass(eq=False)
class RetryChanged(Message, bubble=False):
    """An automatic reprotect retry was scheduled, fired, ran out or was cancelled."""

    item_id: str
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(eq=False)
class SessionResumed(Message, bubble=False):
    """The journal of earlier sessions was read; `results` are core.resume.Resumed entries."""

    results: list[Any]
    error: BaseException | None = None


@dataclass(eq=False)
class BackendNotice(Message, bubble=False):
    """The backend is waiting on Azure (throttled, no answer) and says why; posted from whichever thread waits."""

    text: str


@dataclass(eq=False)
class RequestRehearsed(Message, bubble=False):
    """A rehearsal stopped a request: what would have been sent (core.rehearsal.RehearsedRequest)."""

    request: Any


# -- the fleet (Resource Graph) -------------------------------------------------------------------------------


@dataclass(eq=False)
class FleetReady(Message, bubble=False):
    fleet: Any  # core.fleet.FleetReader


@dataclass(eq=False)
class FleetVaultsLoaded(Message, bubble=False):
    vaults: list[Any]  # core.fleet.VaultSummary
    generation: int


@dataclass(eq=False)
class FleetItemsPage(Message, bubble=False):
    entries: list[Any]  # core.fleet.FleetItem
    generation: int
    summaries: list[Any]  # core.fleet.VaultSummary: copies of the vault rows counted so far that these items moved


@dataclass(eq=False)
class FleetLoaded(Message, bubble=False):
    jobs: list[Any]  # core.fleet.FleetJob
    generation: int
    read_at: datetime
    requests: int
    summaries: list[Any]  # core.fleet.VaultSummary, every item and job counted in


@dataclass(eq=False)
class FleetLoadFailed(Message, bubble=False):
    generation: int
    what: str
    error: BaseException
