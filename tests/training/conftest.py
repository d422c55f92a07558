"""A lesson on the in-process emulator: the real AzureBackend on a ManualClock, with a Walkthrough watching."""

from __future__ import annotations

from core.bootstrap import build_backend
from core.clock import ManualClock
from core.config import Settings
from core.errors import JobFailed
from core.failback import can_reprotect, is_agent_registration_failure, resolve_item
from core.model import Job, JobState, PointChoice, ProtectedItem, ReprotectTarget
from core.preflight import PreflightReport, check_item
from core.recovery import point_options
from core.tracker import JobTracker
from core.training import Reaction, TrainingScenario, Walkthrough, load_training

VERIFY_CHECKS = ("VM runs in AVS", "applications answer", "VMware Tools running", "Azure VM is off")


class RealTime:
    """A stand-in for time.monotonic that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Lesson:
    """One training scenario played through the backend, reporting each event to a Walkthrough."""

    def __init__(self, name: str) -> None:
        self.training: TrainingScenario = load_training(name)
        self.clock = ManualClock()
        self.backend = build_backend(Settings(demo=True, scenario=self.training.scenario), clock=self.clock)
        self.real = RealTime()
        self.walk = Walkthrough(self.training, self.clock, real_time=self.real)
        self.reactions: list[Reaction] = []

    def see(self, event: str, **data: object) -> Reaction | None:
        reaction = self.walk.observe(event, **data)
        if reaction is not None:
            self.reactions.append(reaction)
        return reaction

    def item(self, name: str) -> ProtectedItem:
        return resolve_item(self.backend.list_items(), name)

    def wait(self, job_name: str) -> Job:
        """Follow a job to its end on the manual clock; a failed job is returned, not raised."""
        try:
            return JobTracker(self.backend, self.clock, interval=15).wait(job_name, timeout=4 * 3600)
        except JobFailed:
            job: Job = self.backend.get_job(job_name)
            return job

    def select(self, name: str) -> Reaction | None:
        return self.see("item-selected", item=name)

    def preflight(self, name: str) -> PreflightReport:
        report = check_item(self.backend, self.item(name))
        self.see(
            "preflight-run",
            ok=report.ok,
            failures=[c.title for c in report.failures],
            warnings=[c.title for c in report.warnings],
        )
        return report

    def choose(self, name: str, choice: PointChoice) -> Reaction | None:
        points = self.backend.list_recovery_points(self.item(name))
        option = next(o for o in point_options(points, self.backend.now()) if o.choice is choice)
        return self.see("point-chosen", choice=option.choice, loss_seconds=option.age_seconds, acknowledged=True)

    def job_finished(self, job: Job) -> Reaction | None:
        return self.see("job-finished", job=job)

    def verify(self) -> None:
        for n, check in enumerate(VERIFY_CHECKS, 1):
            self.real.now += 20  # the trainee reads and ticks
            self.see("verify-ticked", check=check, all_done=n == len(VERIFY_CHECKS))

    def commit(self, name: str) -> Job:
        self.see("commit-attempted", verified=self.walk.verified)
        handle = self.backend.commit(self.item(name))
        self.see("commit-started")
        job = self.wait(handle.job_name)
        self.job_finished(job)
        return job

    def target(self) -> ReprotectTarget:
        fabric = next(f for f in self.backend.list_fabrics() if f.process_servers)
        return ReprotectTarget(
            process_server_id=fabric.process_servers[0].id,
            master_target_id=fabric.master_targets[0].id,
            run_as_account_id=fabric.run_as_accounts[0].id,
            policy_id=self.backend.forward_policy_id(),
        )

    def reprotect(self, name: str, retry_every: float = 120.0) -> list[Job]:
        """Reprotect as the tool does: on an agent-registration failure, wait and send it again."""
        jobs: list[Job] = []
        for _ in range(20):
            item = self.item(name)
            assert can_reprotect(item), can_reprotect(item).reason
            booted = item.last_successful_failover_time
            since = (self.backend.now() - booted).total_seconds() if booted else None
            handle = self.backend.reprotect(item, self.target())
            if not jobs:
                self.see("reprotect-started", since_failover_seconds=since)
            job = self.wait(handle.job_name)
            jobs.append(job)
            if job.state is JobState.FAILED and is_agent_registration_failure(job):
                self.see("reprotect-failed-agent", since_failover_seconds=since)
                self.clock.advance(retry_every)
                continue
            self.job_finished(job)
            return jobs
        raise AssertionError(f"{name} never got reprotected: {[j.state for j in jobs]}")

    def planned_failover(self, name: str, choice: PointChoice = PointChoice.LATEST) -> Job:
        """A modernized failback, as the dashboard sends it: the type of point (no loss to count), then the job."""
        self.see("point-chosen", choice=choice, loss_seconds=None, acknowledged=True)
        handle = self.backend.planned_failover(self.item(name), choice)
        self.see("failover-started")
        job = self.wait(handle.job_name)
        self.job_finished(job)
        return job

    def cancel(self, name: str) -> Job:
        handle = self.backend.failover_cancel(self.item(name))
        self.see("cancel-started")
        job = self.wait(handle.job_name)
        self.job_finished(job)
        return job

    def appliance_target(self) -> ReprotectTarget:
        """The reprotect back to Azure as the form sends it: the healthy appliance's id (its process server)."""
        appliances = [a for f in self.backend.list_fabrics() for a in f.appliances]
        healthy = next(a for a in appliances if a.health == "Normal")
        return ReprotectTarget(process_server_id=healthy.id, master_target_id="")

    def fail_over(self, name: str, choice: PointChoice = PointChoice.LATEST) -> Job:
        handle = self.backend.unplanned_failover(self.item(name), choice)
        self.see("failover-started")
        job = self.wait(handle.job_name)
        self.job_finished(job)
        return job

    def think(self, minutes: float) -> None:
        """The trainee reads the screen: simulated and real time pass."""
        self.clock.advance(minutes * 60)
        self.real.now += minutes * 60 / 30
