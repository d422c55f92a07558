"""Simulated time under the trainer's control (pause, 1×, 10×, 60×, skip ahead) and the banner that shows it."""

from __future__ import annotations

from typing import Any

from core.training import SPEEDS, describe_speed, next_speed
from tui.widgets.banner import ModeBanner

SKIP_SECONDS = 300.0


class SimulatedTime:
    """The speed of the clock the emulator runs on.

    An AcceleratedClock follows the speed; a ManualClock (tests) has no speed of its own and moves only when
    advanced, so the speed here is what the trainer chose and the clock applies it when it can.
    """

    def __init__(self, clock: Any, speed: float = 1.0) -> None:
        self.clock = clock
        self.speed = float(speed)
        self._apply()

    def _apply(self) -> None:
        setter = getattr(self.clock, "set_speed", None)
        if callable(setter):
            setter(self.speed)

    def set(self, speed: float) -> None:
        if speed not in SPEEDS:
            raise ValueError(f"speed {speed:g} is not one of {', '.join(describe_speed(s) for s in SPEEDS)}")
        self.speed = float(speed)
        self._apply()

    def cycle(self) -> float:
        self.set(next_speed(self.speed))
        return self.speed

    def skip(self, seconds: float = SKIP_SECONDS) -> None:
        self.clock.advance(seconds)

    @property
    def label(self) -> str:
        return describe_speed(self.speed)


class TrainingBanner(ModeBanner):
    """The SIMULATION banner, with the speed of simulated time added."""

    def refresh_modes(self) -> None:
        super().refresh_modes()
        sim_time: SimulatedTime | None = getattr(self.app, "sim_time", None)
        if sim_time is None:
            return
        self.display = True
        words = "time paused" if sim_time.speed <= 0 else f"time {sim_time.label}"
        self.update(f"{self.render_str_base()}  ·  TRAINING, {words}")

    def render_str_base(self) -> str:
        parts = ["SIMULATION — emulated vault, nothing in Azure is touched"]
        if bool(getattr(self.app, "read_only", False)):
            parts.append("READ-ONLY")
        return "  ·  ".join(parts)
