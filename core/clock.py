"""Clocks: the real one, a manual one for tests, and an accelerated one for the demo and training.

The emulator runs on one of these, and so does everything in core that computes an age ("38 seconds
ago"), so that simulated time and the ages shown agree.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

# The header by which the ARM emulator marks every answer as simulated and states its clock's speed
# ("speed=30"); ServerClock follows it.
SIMULATION_HEADER = "x-avs-failback-simulation"


class Clock(Protocol):
    def now(self) -> datetime:
        """Aware UTC datetime."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait `seconds` of this clock's time (real time divided by the speed)."""
        ...

    @property
    def speed(self) -> float:
        """Simulated seconds per real second (1 for the real clock, 0 when paused)."""
        ...


class SystemClock:
    speed = 1.0

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))


class ManualClock:
    """Moves only when told to: tests advance it explicitly; sleep() advances it instantly."""

    speed = 0.0

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 11, 25, 14, 0, 0, tzinfo=UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> datetime:
        with self._lock:
            self._now += timedelta(seconds=seconds)
            return self._now

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)


class AcceleratedClock:
    """Real time times `speed`, from a start instant. speed 0 pauses; changing speed keeps continuity."""

    def __init__(self, speed: float = 1.0, start: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._base_sim = start or datetime.now(UTC)
        self._base_real = time.monotonic()
        self._speed = float(speed)

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> datetime:
        with self._lock:
            elapsed = time.monotonic() - self._base_real
            return self._base_sim + timedelta(seconds=elapsed * self._speed)

    def set_speed(self, speed: float) -> None:
        with self._lock:
            elapsed = time.monotonic() - self._base_real
            self._base_sim = self._base_sim + timedelta(seconds=elapsed * self._speed)
            self._base_real = time.monotonic()
            self._speed = max(0.0, float(speed))

    def advance(self, seconds: float) -> None:
        """Jump ahead (trainers skip a wait)."""
        with self._lock:
            self._base_sim += timedelta(seconds=seconds)

    def sleep(self, seconds: float) -> None:
        if self._speed <= 0:
            time.sleep(min(seconds, 0.5))
            return
        time.sleep(max(0.0, seconds / self._speed))


class ServerClock:
    """The clock of the service we talk to: its last `Date` header, moved on by our elapsed time × its speed.

    ARM stamps every answer; following it keeps ages right when the operator's machine clock is off, and
    keeps them in simulated time when the service is an emulator running faster than real time.
    Before the first answer it is the real clock.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._base: datetime | None = None
        self._base_real = 0.0
        self._speed = 1.0

    @property
    def speed(self) -> float:
        return self._speed

    def observe(self, server_time: datetime, speed: float = 1.0) -> None:
        with self._lock:
            self._base = server_time.astimezone(UTC)
            self._base_real = time.monotonic()
            self._speed = max(0.0, speed)

    def now(self) -> datetime:
        with self._lock:
            if self._base is None:
                return datetime.now(UTC)
            return self._base + timedelta(seconds=(time.monotonic() - self._base_real) * self._speed)

    def sleep(self, seconds: float) -> None:
        if self._speed <= 0:
            time.sleep(min(max(0.0, seconds), 0.5))
            return
        time.sleep(max(0.0, seconds / self._speed))
