"""What the dashboard says about where it is talking to and why it waits: a profile's endpoint on the banner, and
a throttled or silent vault in a toast rather than a frozen screen."""

from __future__ import annotations

import threading
from datetime import UTC

from core.bootstrap import build_backend
from core.clock import ManualClock
from core.config import Settings
from tests.tui.helpers import screen_text, wait_for, wait_screen
from tui.app import FailbackApp


async def test_the_banner_names_a_profile_endpoint() -> None:
    clock = ManualClock()
    notice = "ARM endpoint https://arm.contoso.example (from profile 'p'), not AzureCloud's"
    settings = Settings(demo=True, scenario="small", notices=(notice,))
    app = FailbackApp(settings, backend=build_backend(settings, clock=clock), clock=clock, tz=UTC)
    from tui.screens.dashboard import DashboardScreen

    async with app.run_test(size=(160, 36)) as pilot:
        await wait_screen(pilot, DashboardScreen)
        await wait_for(pilot, lambda: "NOTE: ARM endpoint https://arm.contoso.example" in screen_text(pilot), "note")


async def test_a_wait_in_a_worker_becomes_a_toast() -> None:
    clock = ManualClock()
    backend = build_backend(Settings(demo=True, scenario="small"), clock=clock)
    app = FailbackApp(backend=backend, clock=clock, tz=UTC)
    from tui.screens.dashboard import DashboardScreen

    async with app.run_test(size=(120, 36)) as pilot:
        await wait_screen(pilot, DashboardScreen)
        assert backend.on_notice is not None
        said = "Azure answered HTTP 429 (throttled) and asks to wait 30 s: waiting (attempt 2 of 4)."
        worker = threading.Thread(target=backend.on_notice, args=(said,))
        worker.start()
        worker.join()

        def toasted() -> bool:
            return any(n.title == "Waiting for Azure" and n.message == said for n in app._notifications)

        await wait_for(pilot, toasted, "the toast")
