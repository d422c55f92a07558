"""What this run of the dashboard remembers: operations started, commands shown, checks ticked, retries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from core.model import AnyReprotectTarget, Job, OperationHandle, ProtectedItem
from core.sanitize import one_line

# The agent usually registers within minutes; a retry every minute of backend time is what the
# portal's guidance amounts to ("wait a few minutes and retry").
RETRY_INTERVAL = timedelta(seconds=60)

# What the operator checks on the AVS side before committing; ticked by hand.
MANUAL_CHECKS: tuple[tuple[str, str], ...] = (
    ("boots", "The VM booted in the AVS private cloud and answers on the network"),
    ("apps", "Its applications respond (log in, run a smoke test)"),
    ("tools", "VMware Tools run on the AVS VM (ASR re-enables them at failback on Windows)"),
    ("data", "The data is as recent as the chosen recovery point promised"),
)


@dataclass(frozen=True)
class ActionRecord:
    """An action the operator took, with what to type to do the same by hand."""

    time: datetime
    title: str
    job_name: str
    equivalent: object | None  # core.equivalents.Equivalent; None when it could not be built


@dataclass(frozen=True)
class StartedOperation:
    kind: str  # failover | commit | reprotect
    item_id: str
    item_name: str
    handle: OperationHandle
    target: AnyReprotectTarget | None = None
    attempt: int = 1


@dataclass
class AgentRetry:
    """A reprotect that failed only because the mobility agent had not registered yet."""

    item: ProtectedItem
    target: AnyReprotectTarget
    attempt: int  # the attempt that will run next
    due: datetime
    deadline: datetime
    max_attempts: int
    last_job: str = ""
    running: bool = False

    def seconds_left(self, now: datetime) -> float:
        return max(0.0, (self.due - now).total_seconds())


@dataclass
class Session:
    actions: list[ActionRecord] = field(default_factory=list)
    started: dict[str, StartedOperation] = field(default_factory=dict)  # by job name
    submitting: set[tuple[str, str]] = field(default_factory=set)  # (kind, item id or job name)
    retries: dict[str, AgentRetry] = field(default_factory=dict)  # by item id
    retry_deadlines: dict[str, datetime] = field(default_factory=dict)  # by item id: first failure + window
    retries_stopped: set[str] = field(default_factory=set)  # item ids whose operator stopped the retries
    ticked: dict[str, set[str]] = field(default_factory=dict)  # item id -> manual checks ticked
    jobs: dict[str, Job] = field(default_factory=dict)  # latest state of every job seen
    # Jobs the operator is answerable for: started (or followed instead of sending) from this run, or resumed
    # from the journal. What quitting asks about, beside the retries; the vault's other jobs are not ours.
    own: set[str] = field(default_factory=set)
    # What the last preflight before a failover said, by item or plan id, for the journal (core.preflight.decision).
    preflight: dict[str, dict[str, Any]] = field(default_factory=dict)

    def is_submitting(self, kind: str, key: str) -> bool:
        return (kind, key) in self.submitting

    def record_job(self, job: Job) -> bool:
        """Store a job; True when it is new or changed."""
        before = self.jobs.get(job.name)
        self.jobs[job.name] = job
        return before != job

    def job_for_item(self, item: ProtectedItem) -> Job | None:
        """The item's running job, else the last job this session started on it, else the newest seen."""
        if item.running_job_name and item.running_job_name in self.jobs:
            return self.jobs[item.running_job_name]
        mine = [s.handle.job_name for s in self.started.values() if s.item_id == item.id]
        for name in reversed(mine):
            if name in self.jobs:
                return self.jobs[name]
        related = [j for j in self.jobs.values() if job_targets(j, item)]
        related.sort(key=lambda j: j.start_time.timestamp() if j.start_time else 0.0)
        return related[-1] if related else None

    def item_id_for_job(self, job: Job) -> str:
        started = self.started.get(job.name)
        return started.item_id if started else ""

    def running_jobs(self) -> list[Job]:
        return [j for j in self.jobs.values() if j.is_running]

    def own_running_jobs(self) -> list[Job]:
        """Our jobs still running, oldest first; a job not read yet counts as running (it was just started)."""
        found = [self.jobs.get(name) for name in self.own]
        unread = sorted(name for name, job in zip(self.own, found, strict=True) if job is None)
        running = sorted(
            (j for j in found if j is not None and j.is_running),
            key=lambda j: (j.start_time.timestamp() if j.start_time else 0.0, j.name),
        )
        placeholder = [_unread_job(name) for name in unread]
        return [*running, *placeholder]


def _unread_job(name: str) -> Job:
    from core.model import JobState

    return Job(id="", name=name, scenario_name="", friendly_name="", state=JobState.NOT_STARTED, state_description="")


@dataclass(frozen=True)
class Leaving:
    """What quitting now would leave behind, each worded for the question and for the line printed on exit."""

    jobs: tuple[str, ...] = ()  # "Failover: dc-01 (job 7f3a…)"
    stops: tuple[str, ...] = ()  # what ends with the dashboard: retries, a plan reprotect, a request on its way

    def __bool__(self) -> bool:
        return bool(self.jobs or self.stops)


def leaving(session: Session, now: datetime, loops: tuple[str, ...] = ()) -> Leaving:
    """What quitting now leaves: our running jobs (they go on in Azure) and what stops with the dashboard."""
    jobs = tuple(f"{j.title or 'Job'} (job {j.name})" for j in session.own_running_jobs())
    stops = [
        f"{r.item.friendly_name or r.item.name}: the automatic reprotect retry "
        + ("being sent now" if r.running else f"{r.attempt} of {r.max_attempts}, due in {int(r.seconds_left(now))} s")
        + " (the VM stays unprotected until it is reprotected again)"
        for r in session.retries.values()
    ]
    stops.extend(loops)
    stops.extend(
        f"A {kind.replace('-', ' ')} request on its way: its answer would go unread here (resume settles it)"
        for kind, _ in sorted(session.submitting)
    )
    return Leaving(jobs, tuple(stops))


def exit_note(left: Leaving, *, simulated: bool) -> str:
    """The line printed after the dashboard closes, so the terminal says what still runs and how to follow it."""
    lines = []
    n = len(left.jobs)
    if n and simulated:
        lines.append(
            f"{n} job{'s' if n != 1 else ''} of the simulated vault {'were' if n != 1 else 'was'} still running; "
            "the simulation ends with the dashboard."
        )
    elif n:
        lines.append(
            f"{n} job{'s' if n != 1 else ''} still run{'s' if n == 1 else ''} in Azure; `avs-failback resume` follows "
            "them again."
        )
    if left.stops and not simulated:
        lines.append("Stopped with the dashboard: " + "; ".join(one_line(stop) for stop in left.stops) + ".")
    return "\n".join(lines)


def job_targets(job: Job, item: ProtectedItem) -> bool:
    """Whether a job acts on an item (ASR names the target by id, name or friendly name)."""
    if item.running_job_name and item.running_job_name == job.name:
        return True
    target = job.target_object_id.lower()
    if target and target in (item.id.lower(), item.name.lower()):
        return True
    return bool(job.target_object_name) and job.target_object_name == item.friendly_name
