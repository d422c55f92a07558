"""Job tracking on a read budget: one ARM read per interval covers every running job, however many."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from core.backend import Backend
from core.clock import Clock
from core.errors import FailbackError, JobFailed, NotFound, Throttled
from core.model import Job, JobFilter, JobState

# States a job can still leave: these are the ones a batched list read asks for.
RUNNING_STATES = ("NotStarted", "InProgress", "Suspended")


@dataclass
class _Tracked:
    name: str
    due: datetime
    job: Job | None = None
    polls: int = 0


@dataclass
class TrackerStats:
    reads: int = 0
    errors: int = 0
    last_poll: datetime | None = None
    read_times: list[float] = field(default_factory=list)  # monotonic times of reads, for reads-per-minute


class JobTracker:
    """Follows ASR jobs and their tasks.

    - With few jobs it GETs each one (`replicationJobs/{name}`: what a Site Recovery Operator may read);
      from `batch_threshold` jobs on it reads them all with one filtered list per interval, then one GET per
      job that left the running states (to read its final tasks and errors). Reads per minute therefore do
      not grow with the number of jobs.
    - Intervals are in the backend's clock (simulated seconds in the demo), floored in real time.
    - A 429's Retry-After, or an error, pushes every poll back (exponential, capped).
    """

    def __init__(
        self,
        backend: Backend,
        clock: Clock | None = None,
        *,
        interval: float = 10.0,
        batch_threshold: int = 3,
        follow_children: bool = True,
        min_real_delay: float = 0.2,
        max_backoff: float = 120.0,
    ) -> None:
        self.backend = backend
        self.clock = clock or getattr(backend, "clock", None) or _BackendClock(backend)
        self.interval = interval
        self.batch_threshold = batch_threshold
        self.follow_children = follow_children
        self.min_real_delay = min_real_delay
        self.max_backoff = max_backoff
        self.jobs: dict[str, Job] = {}
        self.stats = TrackerStats()
        self.last_error: FailbackError | None = None
        # Jobs ASR no longer knows (deleted, or a name from an old journal): no longer polled, each with why.
        self.gone: dict[str, NotFound] = {}
        self._tracked: dict[str, _Tracked] = {}
        self._backoff_until: datetime | None = None
        self._error_streak = 0

    # -- what is tracked --------------------------------------------------------------------------------

    @property
    def tracked(self) -> list[str]:
        return list(self._tracked)

    def track(self, job_name: str, first_poll_after: float | None = None) -> None:
        if not job_name or job_name in self._tracked:
            return
        delay = 0.0 if first_poll_after is None else min(first_poll_after, self.interval)
        self._tracked[job_name] = _Tracked(job_name, self.clock.now() + timedelta(seconds=delay))

    def untrack(self, job_name: str) -> None:
        self._tracked.pop(job_name, None)

    # -- polling ----------------------------------------------------------------------------------------

    def next_delay(self) -> float:
        """Real seconds until the next poll is due (the UI schedules its timer with this)."""
        if not self._tracked:
            return max(self.min_real_delay, self._to_real(self.interval))
        now = self.clock.now()
        due = min(t.due for t in self._tracked.values())
        if self._backoff_until and self._backoff_until > due:
            due = self._backoff_until
        wait = max(0.0, (due - now).total_seconds())
        return max(self.min_real_delay, self._to_real(wait))

    def _to_real(self, clock_seconds: float) -> float:
        speed = getattr(self.clock, "speed", 1.0) or 0.0
        if speed <= 0:  # a manual clock: time moves when a test says so; check back soon
            return self.min_real_delay
        return clock_seconds / speed

    def poll(self) -> list[Job]:
        """Read what is due; return the jobs that changed. Blocking: call it from a worker thread."""
        now = self.clock.now()
        if self._backoff_until and now < self._backoff_until:
            return []
        due = [t for t in self._tracked.values() if t.due <= now]
        if not due:
            return []
        changed: list[Job] = []
        try:
            if len(self._tracked) >= self.batch_threshold:
                fresh = self._poll_batched(due)
            else:
                fresh = [job for t in due if (job := self._get_or_gone(t.name)) is not None]
            self._error_streak = 0
            self._backoff_until = None
            self.last_error = None
        except FailbackError as exc:
            self._on_error(exc, now)
            return []
        for job in fresh:
            if self._record(job):
                changed.append(job)
        self.stats.last_poll = self.clock.now()
        return changed

    def _poll_batched(self, due: list[_Tracked]) -> list[Job]:
        running = self.backend.list_jobs(JobFilter(states=RUNNING_STATES))
        self._count_read()
        by_name = {job.name: job for job in running}
        gone = [t for t in due if t.name not in by_name]
        # Jobs that left the running states: one more list, of every job started since the earliest of them,
        # reads their final states together. Many jobs often finish in the same minute (a plan's VMs, a batch
        # started at once): a GET each would spend the minute's budget on them.
        starts = [t.job.start_time for t in gone if t.job is not None and t.job.start_time is not None]
        if len(gone) > 1 and starts:
            finished = self.backend.list_jobs(JobFilter(start_time=min(starts)))
            self._count_read()
            by_name.update((job.name, job) for job in finished if job.state.is_terminal and _complete(job))
        fresh = []
        for t in due:
            if t.name in by_name:
                fresh.append(by_name[t.name])
            elif (job := self._get_or_gone(t.name)) is not None:
                # finished and not listed (or never seen running): one GET for its final state, tasks and errors
                fresh.append(job)
        return fresh

    def _get_or_gone(self, name: str) -> Job | None:
        """The job; None when ASR no longer knows it: it leaves the tracked jobs, and the others are read on."""
        try:
            return self._get(name)
        except NotFound as exc:
            self._tracked.pop(name, None)
            self.gone[name] = exc
            return None

    def _get(self, name: str) -> Job:
        job = self.backend.get_job(name)
        self._count_read()
        return job

    def _count_read(self) -> None:
        self.stats.reads += 1
        stamp = time.monotonic()
        self.stats.read_times.append(stamp)
        # keep a bounded window
        if len(self.stats.read_times) > 1000:
            del self.stats.read_times[:500]

    def _record(self, job: Job) -> bool:
        before = self.jobs.get(job.name)
        self.jobs[job.name] = job
        entry = self._tracked.get(job.name)
        if entry is not None:
            entry.job = job
            entry.polls += 1
            if job.state.is_terminal:
                self._tracked.pop(job.name, None)
            else:
                entry.due = self.clock.now() + timedelta(seconds=self.interval)
        if self.follow_children and not job.state.is_terminal:
            for task in job.tasks:
                for child in (task, *task.child_tasks):
                    if child.child_job_name and child.child_job_name not in self.jobs:
                        self.track(child.child_job_name)
        return before != job

    def _on_error(self, exc: FailbackError, now: datetime) -> None:
        self.last_error = exc
        self.stats.errors += 1
        self._error_streak += 1
        if isinstance(exc, Throttled):
            wait = 60.0
        else:
            wait = min(self.max_backoff, self.interval * (2 ** min(self._error_streak, 6)))
        self._backoff_until = now + timedelta(seconds=wait)

    def reads_per_minute(self, window: float = 60.0) -> float:
        cutoff = time.monotonic() - window
        return sum(1 for t in self.stats.read_times if t >= cutoff) * 60.0 / window

    # -- blocking wait, for the CLI -----------------------------------------------------------------------

    def wait(
        self,
        job_name: str,
        on_update: Callable[[Job], None] | None = None,
        timeout: float | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> Job:
        """Follow one job to its end; raise JobFailed (with the job's errors) if it fails or is cancelled.

        `timeout` is in the backend clock's seconds.
        """
        self.track(job_name)
        started = self.clock.now()
        pause = sleep or self.clock.sleep
        while True:
            for changed in self.poll():
                if on_update is not None:
                    on_update(changed)
            job = self.jobs.get(job_name)
            if job_name in self.gone and job_name not in self._tracked:
                raise self.gone[job_name]
            if job is not None and job.state.is_terminal:
                if job.state in (JobState.FAILED, JobState.CANCELLED):
                    details = job.errors or tuple(e for t in job.tasks for e in t.errors)
                    raise JobFailed(
                        f"Job {job.friendly_name or job.scenario_name} ({job.name}) ended {job.state.word}.",
                        details=details,
                        hint="Read the errors above; `avs-failback job NAME` shows every task.",
                    )
                return job
            if self.last_error is not None and not isinstance(self.last_error, Throttled) and self._error_streak >= 5:
                raise self.last_error
            if timeout is not None and (self.clock.now() - started).total_seconds() > timeout:
                raise JobFailed(f"Gave up waiting for job {job_name} after {timeout:.0f} s; it is still running.")
            due_in = self._clock_seconds_until_due()
            pause(max(0.5, due_in))

    def _clock_seconds_until_due(self) -> float:
        if not self._tracked:
            return self.interval
        now = self.clock.now()
        due = min(t.due for t in self._tracked.values())
        if self._backoff_until and self._backoff_until > due:
            due = self._backoff_until
        return max(0.0, (due - now).total_seconds())


def _complete(job: Job) -> bool:
    """A listed job carries what a GET would tell (its tasks, or its errors), so no GET is needed for it."""
    return bool(job.tasks or job.errors)


class _BackendClock:
    """Adapts a backend's now() for trackers built without an explicit clock."""

    speed = 1.0

    def __init__(self, backend: Backend) -> None:
        self._backend = backend

    def now(self) -> datetime:
        return self._backend.now()

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))
