"""Waiting on the app without sleeping: poll a condition between pilot pauses."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot


async def wait_for(pilot: Pilot[Any], condition: Callable[[], Any], what: str, timeout: float = 10.0) -> Any:
    """Let the app run until `condition()` is truthy; fail naming `what` after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = condition()
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


def screen_text(pilot: Pilot[Any]) -> str:
    """What the terminal shows now, as plain text."""
    import io

    from rich.console import Console

    app = pilot.app
    console = Console(file=io.StringIO(), width=app.size.width, color_system=None, legacy_windows=False)
    console.print(app.screen._compositor.render_update(full=True))
    return console.file.getvalue()  # type: ignore[attr-defined, no-any-return]


async def wait_screen(pilot: Pilot[Any], kind: type, what: str = "", timeout: float = 10.0) -> Any:
    """Wait until the active screen is a `kind` with its widgets composed; return it."""
    app = pilot.app

    def ready() -> Any:
        screen = app.screen
        return isinstance(screen, kind) and screen.is_mounted and len(screen.children) > 0 and screen

    screen = await wait_for(pilot, ready, what or kind.__name__, timeout)
    await pilot.pause()
    return screen


class FakeRealTime:
    """Stands in for time.monotonic: the debrief's real duration moves only when the test says."""

    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


def lesson_app(name: str, clock: Any, export_dir: Any, *, backend: Any = None, **kwargs: Any) -> Any:
    """A TrainingApp on lesson `name` over the in-process emulator on `clock`, its real time standing still."""
    from datetime import UTC

    from core.bootstrap import build_backend
    from core.config import Settings
    from core.training import load_training
    from tui.screens.training_app import TrainingApp

    lesson = load_training(name)
    if backend is None:
        backend = build_backend(Settings(demo=True, scenario=lesson.scenario), clock=clock)
    kwargs.setdefault("tick_seconds", 0.05)
    kwargs.setdefault("items_refresh_seconds", 3600.0)
    kwargs.setdefault("real_time", FakeRealTime())
    return TrainingApp(
        lesson, clock=clock, backend=backend, tz=UTC, ascii_glyphs=False, export_dir=export_dir, **kwargs
    )
