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


def banner_text(app: Any) -> str:
    """The mode banner's words in training mode: SIMULATION, and the speed of simulated time."""
    parts = ["SIMULATION — emulated vault, nothing in Azure is touched"]
    if bool(getattr(app, "read_only", False)):
        parts.append("READ-ONLY")
    sim_time: SimulatedTime | None = getattr(app, "sim_time", None)
    if sim_time is not None:
        parts.append("TRAINING, time paused" if sim_time.speed <= 0 else f"TRAINING, time {sim_time.label}")
    return "  ·  ".join(parts)


def label_banner(banner: ModeBanner) -> None:
    """Put the training words on any screen's banner (the job screen's too); repaint only when they change."""
    text = banner_text(banner.app)
    if banner.display and str(banner.content) != text:
        banner.update(text)


class TrainingBanner(ModeBanner):
    """The SIMULATION banner, with the speed of simulated time added."""

    def refresh_modes(self) -> None:
        super().refresh_modes()
        if getattr(self.app, "sim_time", None) is not None:
            self.display = True
            label_banner(self)
