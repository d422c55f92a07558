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
