"""Every screen reads its data again on the dashboard's rhythm, and not while another screen is in front."""

from __future__ import annotations

from typing import Any


def read_interval(app: Any) -> float:
    """Real seconds between two reads: the app's interval, or two simulated minutes on a sped-up demo clock (never
    more often than every 5 s), so that the ages shown do not drift far from what ASR holds."""
    seconds = float(app.items_refresh_seconds)
    clock = app.clock or getattr(app.backend, "clock", None)
    speed = getattr(clock, "speed", 1.0) or 0.0
    if speed > 1:
        seconds = min(seconds, max(5.0, 120.0 / speed))
    return seconds


class PeriodicRead:
    """Mixed into a Screen. `schedule_read()` after each read; `read_again()` does the read; `resume_reads()` from
    on_screen_resume reads at once when a read fell due while the screen was behind another."""

    _read_timer: Any = None
    _read_missed = False

    def read_again(self) -> None:  # pragma: no cover - every screen that mixes this in has its own
        raise NotImplementedError

    def schedule_read(self) -> None:
        if self._read_timer is not None:
            self._read_timer.stop()
        self._read_timer = self.set_timer(read_interval(self.app), self._read_due)  # type: ignore[attr-defined]

    def _read_due(self) -> None:
        if self.app.screen is not self:  # type: ignore[attr-defined]
            # Paused while a dialog or another screen is in front; read again as soon as it is back.
            self._read_missed = True
            self.schedule_read()
            return
        self._read_missed = False
        self.read_again()

    def resume_reads(self) -> None:
        if self._read_missed:
            self._read_missed = False
            self.read_again()
