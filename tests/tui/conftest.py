"""The dashboard on the emulator's demo vault with a frozen clock: what pilot and snapshot tests start from."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from typing import Any

import pytest

from core.bootstrap import build_backend
from core.clock import ManualClock
from core.config import Settings
from tui.app import FailbackApp

SIZE = (120, 36)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def demo_backend(clock: ManualClock) -> Any:
    return build_backend(Settings(demo=True, scenario="demo"), clock=clock)


@pytest.fixture
def make_app(clock: ManualClock) -> Callable[..., FailbackApp]:
    """Build the app on a fresh demo vault: `make_app(scenario="demo", read_only=False)`.

    Time is frozen (ManualClock, UTC display, ASCII-independent glyphs), so snapshots are stable: advance `clock`
    to move jobs along.
    """

    def make(scenario: str = "demo", *, read_only: bool = False, **kwargs: Any) -> FailbackApp:
        backend = build_backend(Settings(demo=True, scenario=scenario, read_only=read_only), clock=clock)
        kwargs.setdefault("tick_seconds", 0.05)
        kwargs.setdefault("items_refresh_seconds", 3600.0)
        return FailbackApp(backend=backend, clock=clock, tz=UTC, ascii_glyphs=False, **kwargs)

    return make


@pytest.fixture
def app(make_app: Callable[..., FailbackApp]) -> FailbackApp:
    return make_app()
