"""The ARM read budget of job tracking: JobTracker against one SDK LRO poller per job, in simulated time.

Both run on the in-process emulator with a manual clock, so a simulated minute is a minute of a real
failback (speed 1) and the run takes seconds. Run as `python -m bench.tracking --jobs N --mode tracker|sdk`.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import urllib.parse
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

from bench import scenarios
from bench.common import emit

SIM_LIMIT_S = 30 * 60.0  # a failover takes 6-10 simulated minutes: anything past this is a hang


class ReadLog:
    """Every GET the emulator answers (simulated time), and for each job the times its state was read."""

    def __init__(self, emulator: Any) -> None:
        self.emulator = emulator
        self.gets: list[datetime] = []
        self.seen: dict[str, list[datetime]] = defaultdict(list)
        self.lock = threading.Lock()
        original = emulator.handle

        def handle(method: str, url: str, headers: Any, body: Any) -> Any:
            response = original(method, url, headers, body)
            if method.upper() == "GET":
                with self.lock:
                    self.gets.append(emulator.clock.now())
            return response

        emulator.handle = handle

    def saw(self, name: str) -> None:
        with self.lock:
            self.seen[name].append(self.emulator.clock.now())

    def figures(self, started: dict[str, datetime], finished_at: datetime, t0: datetime) -> dict[str, Any]:
        minutes = max((finished_at - t0).total_seconds(), 1.0) / 60.0
        stamps = sorted((g - t0).total_seconds() for g in self.gets if g >= t0)
        peak = 0
        left = 0
        for right, stamp in enumerate(stamps):
            while stamp - stamps[left] >= 60.0:
                left += 1
            peak = max(peak, right - left + 1)
        stale = 0.0
        for name, begun in started.items():
            times = sorted(t for t in self.seen.get(name, []) if t >= begun)
            marks = [begun, *times]
            gaps = [(b - a).total_seconds() for a, b in zip(marks, marks[1:], strict=False)]
            stale = max(stale, *gaps) if gaps else max(stale, (finished_at - begun).total_seconds())
        return {
            "reads": len(stamps),
            "sim_minutes": minutes,
            "reads_per_min": len(stamps) / minutes,
            "peak_reads_in_60s": peak,
            "max_staleness_s": stale,
        }


def _setup(jobs: int, directory: Path) -> tuple[Any, Any, Any]:
    from core.bootstrap import EMULATOR_BASE_URL
    from core.clock import ManualClock
    from core.emulator import ArmEmulator, load_scenario

    clock = ManualClock()
    path = scenarios.ready_items(directory, jobs)
    emulator = ArmEmulator(load_scenario(str(path)), clock, base_url=EMULATOR_BASE_URL)
    return clock, emulator, path


def run_tracker(jobs: int) -> dict[str, Any]:
    """What the dashboard does: start each failover (polling off), then poll when the tracker says."""
    from core.bootstrap import build_backend
    from core.config import Settings
    from core.model import PointChoice
    from core.tracker import JobTracker

    with tempfile.TemporaryDirectory() as tmp:
        clock, emulator, _path = _setup(jobs, Path(tmp))
        backend = build_backend(Settings(demo=True), emulator=emulator)
        items = backend.list_items()[:jobs]
        log = ReadLog(emulator)
        started: dict[str, datetime] = {}
        t0 = clock.now()
        for item in items:
            handle = backend.unplanned_failover(item, PointChoice.LATEST)
            started[handle.job_name] = clock.now()
        list_jobs, get_job = backend.list_jobs, backend.get_job

        def listed(job_filter: Any = None) -> Any:
            found = list_jobs(job_filter)
            for job in found:
                log.saw(job.name)
            return found

        def got(name: str) -> Any:
            job = get_job(name)
            log.saw(job.name)
            return job

        backend.list_jobs, backend.get_job = listed, got
        tracker = JobTracker(backend, clock)
        for name in started:
            tracker.track(name)
        while tracker.tracked and (clock.now() - t0).total_seconds() < SIM_LIMIT_S:
            tracker.poll()
            wait = tracker._clock_seconds_until_due()
            clock.advance(max(wait, 0.5))
        figures = log.figures(started, clock.now(), t0)
        figures["unfinished"] = len(tracker.tracked)
        figures["states"] = _states(tracker.jobs.values())
        return figures


def _states(jobs: Any) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for job in jobs:
        counts[job.state.value] += 1
    return dict(counts)


class VirtualTime:
    """Sleeps in simulated time for many threads: the clock jumps to the earliest wake-up once every poller
    thread is asleep, so each sleeps exactly as long (in simulated seconds) as it asked."""

    def __init__(self, clock: Any) -> None:
        self.clock = clock
        self.cond = threading.Condition()
        self.wakes: list[datetime] = []

    def sleep(self, seconds: float) -> None:
        from datetime import timedelta

        with self.cond:
            wake = self.clock.now() + timedelta(seconds=seconds)
            self.wakes.append(wake)
            self.cond.notify_all()
            while self.clock.now() < wake:
                self.cond.wait()
            self.wakes.remove(wake)
            self.cond.notify_all()

    def drive(self, alive: Any, limit: datetime) -> None:
        """Advance the clock until no poller thread is left (or the limit passes)."""
        while True:
            with self.cond:
                threads = alive()
                if threads == 0 or self.clock.now() > limit:
                    return
                if len(self.wakes) >= threads:
                    target = min(self.wakes)
                    step = (target - self.clock.now()).total_seconds()
                    if step > 0:
                        self.clock.advance(step)
                    self.cond.notify_all()
                self.cond.wait(0.002)


def run_sdk(jobs: int) -> dict[str, Any]:
    """The naive way: begin_unplanned_failover with the SDK's default polling, one LRO poller per job."""
    from datetime import timedelta

    from azure.mgmt.recoveryservicessiterecovery import SiteRecoveryManagementClient

    from core.azure.backend import AzureBackend
    from core.config import StaticTokenCredential
    from core.emulator import EmulatorTransport
    from core.equivalents import failover_body
    from core.model import PointChoice

    with tempfile.TemporaryDirectory() as tmp:
        clock, emulator, _path = _setup(jobs, Path(tmp))
        virtual = VirtualTime(clock)

        class VirtualSleepTransport(EmulatorTransport):  # type: ignore[misc]
            def sleep(self, duration: float) -> None:
                virtual.sleep(duration)

        reader = AzureBackend(
            emulator.vault,
            StaticTokenCredential("emulator"),
            arm_endpoint=emulator.base_url,
            transport=EmulatorTransport(emulator),
            clock=clock,
            simulated=True,
        )
        items = reader.list_items()[:jobs]
        # Defaults everywhere: polling interval 30 s unless Retry-After says otherwise.
        client = SiteRecoveryManagementClient(
            StaticTokenCredential("emulator"),
            emulator.vault.subscription_id,
            base_url=emulator.base_url,
            transport=VirtualSleepTransport(emulator),
        )
        log = ReadLog(emulator)
        original = emulator.handle

        def handle(method: str, url: str, headers: Any, body: Any) -> Any:
            response = original(method, url, headers, body)
            parts = urllib.parse.urlsplit(url).path.rstrip("/").split("/")
            lowered = [p.lower() for p in parts]
            for marker in ("replicationoperationstatus", "operationresults"):
                if method.upper() == "GET" and marker in lowered:
                    log.saw(parts[lowered.index(marker) + 1])
            return response

        emulator.handle = handle
        started: dict[str, datetime] = {}
        pollers = []
        t0 = clock.now()
        rg, vault = emulator.vault.resource_group, emulator.vault.name
        for item in items:
            captured: dict[str, Any] = {}

            def hook(response: Any, captured: dict[str, Any] = captured) -> None:
                captured.setdefault("headers", dict(response.http_response.headers))

            poller = client.replication_protected_items.begin_unplanned_failover(
                rg,
                vault,
                item.fabric_name,
                item.container_name,
                item.name,
                failover_body(PointChoice.LATEST, ""),
                raw_response_hook=hook,
            )
            from core.azure.backend import job_name_from_headers

            started[job_name_from_headers(captured.get("headers", {}))] = clock.now()
            pollers.append(poller)
        virtual.drive(lambda: sum(1 for p in pollers if not p.done()), t0 + timedelta(seconds=SIM_LIMIT_S))
        figures = log.figures(started, clock.now(), t0)
        figures["unfinished"] = sum(1 for p in pollers if not p.done())
        figures["states"] = {"Succeeded": sum(1 for p in pollers if p.done() and p.status() == "Succeeded")}
        return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, required=True)
    parser.add_argument("--mode", choices=("tracker", "sdk"), required=True)
    args = parser.parse_args()
    result = run_tracker(args.jobs) if args.mode == "tracker" else run_sdk(args.jobs)
    result.update({"jobs": args.jobs, "mode": args.mode})
    emit(result)


if __name__ == "__main__":
    main()
