"""Regenerate screenshots/*.svg (and *.png with rsvg-convert) of every screen and dialog on the frozen demo vault."""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from datetime import UTC
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from core.bootstrap import build_backend  # noqa: E402
from core.clock import ManualClock  # noqa: E402
from core.config import Settings  # noqa: E402
from core.training import load_training  # noqa: E402
from tests.tui.helpers import wait_for, wait_screen  # noqa: E402
from tests.tui.test_flow import open_dashboard, run_job_to_end, select  # noqa: E402
from tests.tui.test_snapshots import settled  # noqa: E402
from tui.app import FailbackApp  # noqa: E402

WIDE = (120, 36)
SMALL = (80, 24)
Scene = Callable[[Any, ManualClock], Awaitable[None]]


class FrozenRealTime:
    """The training debrief measures real time too: frozen here, like the simulated clock."""

    def __call__(self) -> float:
        return 1000.0


def demo_app(clock: ManualClock, scenario: str = "demo") -> FailbackApp:
    """The app the snapshot tests build: the emulator's vault on a ManualClock, UTC, Unicode glyphs
    ("rehearse:NAME": the same vault rehearsed, its operations shown and simulated instead of sent)."""
    rehearse = scenario.startswith("rehearse:")
    scenario = scenario.removeprefix("rehearse:")
    backend = build_backend(Settings(demo=True, scenario=scenario, rehearse=rehearse), clock=clock)
    return FailbackApp(
        backend=backend, clock=clock, tz=UTC, ascii_glyphs=False, tick_seconds=0.05, items_refresh_seconds=3600.0
    )


def training_app(clock: ManualClock, lesson_name: str = "train-single-vm") -> Any:
    from tui.screens.training_app import TrainingApp

    lesson = load_training(lesson_name)
    backend = build_backend(Settings(demo=True, scenario=lesson.scenario), clock=clock)
    return TrainingApp(
        lesson,
        clock=clock,
        backend=backend,
        tz=UTC,
        ascii_glyphs=False,
        export_dir=Path(tempfile.mkdtemp(prefix="avs-failback-shots-")),
        real_time=FrozenRealTime(),
        tick_seconds=0.05,
        items_refresh_seconds=3600.0,
    )


# -- the scenes: each drives a fresh app to the picture ------------------------------------------------------------


async def dashboard(pilot: Any, clock: ManualClock) -> None:
    await settled(pilot)


async def _dialog_on(pilot: Any, name: str, key: str, kind: type) -> Any:
    await settled(pilot)
    await select(pilot, pilot.app.screen, name)
    await settled(pilot)
    await pilot.press(key)
    return await wait_screen(pilot, kind)


async def point_dialog(pilot: Any, clock: ManualClock) -> None:
    from tui.dialogs.point import PointDialog

    await _dialog_on(pilot, "dc-01", "f", PointDialog)
    await pilot.press("down", "enter", "tab", "space")


async def confirm_failover(pilot: Any, clock: ManualClock) -> None:
    from tui.dialogs.confirm_failover import ConfirmFailoverDialog

    await point_dialog(pilot, clock)
    await pilot.press("tab", "tab", "enter")
    await wait_screen(pilot, ConfirmFailoverDialog)


async def modernized_point(pilot: Any, clock: ManualClock) -> None:
    """A modernized VM's failback: a type of point, no list (a planned failover from Azure)."""
    from tui.dialogs.point import PointDialog

    await _dialog_on(pilot, "crm-web-01", "f", PointDialog)


async def modernized_confirm(pilot: Any, clock: ManualClock) -> None:
    from tui.dialogs.confirm_failover import ConfirmFailoverDialog

    await modernized_point(pilot, clock)
    await pilot.click("#continue")
    await wait_screen(pilot, ConfirmFailoverDialog)


async def modernized_cancel(pilot: Any, clock: ManualClock) -> None:
    """B on a finished planned failover: back to the Azure VM, confirmed in a dialog."""
    from tui.dialogs.confirm import ConfirmDialog

    await _dialog_on(pilot, "crm-app-01", "B", ConfirmDialog)


async def modernized_reprotect_to_avs(pilot: Any, clock: ManualClock) -> None:
    """r on a modernized VM in Azure: the appliance, a datastore it reaches, the log storage account."""
    from tui.dialogs.appliance_reprotect import ApplianceReprotectDialog

    await _dialog_on(pilot, "crm-queue-01", "r", ApplianceReprotectDialog)


async def _failover_started(pilot: Any, clock: ManualClock) -> Any:
    from tui.screens.job import JobScreen

    await confirm_failover(pilot, clock)
    await pilot.press("tab", "enter")
    return await wait_screen(pilot, JobScreen)


async def job_progress(pilot: Any, clock: ManualClock) -> None:
    app = pilot.app
    await _failover_started(pilot, clock)
    # Part-way through: the shutdown done, the synchronisation running.
    clock.advance(150)
    now = clock.now()
    app.schedule_poll(0.0)
    await wait_for(pilot, lambda: app.tracker.stats.last_poll == now and not app._polling, "a poll")


async def rehearsal(pilot: Any, clock: ManualClock) -> None:
    """A rehearsed failover: the request shown instead of sent, and the simulated job under REHEARSAL."""
    app = pilot.app
    await _failover_started(pilot, clock)
    await wait_for(pilot, lambda: any("POST" in n.message for n in app._notifications), "the request shown")
    clock.advance(150)
    now = clock.now()
    app.schedule_poll(0.0)
    await wait_for(pilot, lambda: app.tracker.stats.last_poll == now and not app._polling, "a poll")


async def show_commands(pilot: Any, clock: ManualClock) -> None:
    from tui.screens.commands import CommandsScreen

    await _failover_started(pilot, clock)
    await pilot.press("e")
    await wait_screen(pilot, CommandsScreen)


async def verify(pilot: Any, clock: ManualClock) -> None:
    from tui.screens.verify import VerifyScreen

    screen = await _dialog_on(pilot, "hr-app-01", "v", VerifyScreen)
    await wait_for(pilot, lambda: "Azure VM is off" in str(screen.query_one("#azure-off").render()), "shutdown read")
    await pilot.press("space", "tab", "space")


async def commit(pilot: Any, clock: ManualClock) -> None:
    from tui.dialogs.commit import CommitDialog

    await _dialog_on(pilot, "hr-app-01", "c", CommitDialog)
    await pilot.press(*"hr-app-01")


async def reprotect(pilot: Any, clock: ManualClock) -> None:
    from tui.dialogs.reprotect import ReprotectDialog

    await _dialog_on(pilot, "wiki-01", "r", ReprotectDialog)


async def reprotect_retry(pilot: Any, clock: ManualClock) -> None:
    from tui.dialogs.reprotect import ReprotectDialog
    from tui.screens.job import JobScreen

    app = pilot.app
    # This lesson's vault has no job running at the start: the dashboard loaded is settled enough.
    screen = await open_dashboard(pilot)
    await select(pilot, screen, "crm-app-01")
    item = screen.items_table.selected
    app.start_commit(item)
    committing = await wait_screen(pilot, JobScreen)
    await run_job_to_end(pilot, clock, committing.job_name)
    await pilot.press("escape")
    await wait_for(pilot, lambda: app.screen is screen, "the dashboard")
    await wait_for(pilot, lambda: screen.check_action("reprotect", ()) is True, "reprotect allowed")
    await pilot.press("r")
    await wait_screen(pilot, ReprotectDialog)
    await pilot.press("tab", "tab", "tab", "enter")
    first = await wait_for(
        pilot,
        lambda: isinstance(app.screen, JobScreen) and app.screen.job_name != committing.job_name and app.screen,
        "the reprotect job",
    )
    await run_job_to_end(pilot, clock, first.job_name, step=20.0)
    await wait_for(pilot, lambda: app.session.retries.get(item.id), "the retry countdown")
    clock.advance(17)  # a few seconds into the countdown
    await pilot.pause(0.2)


async def jobs(pilot: Any, clock: ManualClock) -> None:
    from tui.screens.jobs import JobsScreen

    await settled(pilot)
    await pilot.press("J")
    await wait_screen(pilot, JobsScreen)
    await pilot.pause(0.2)


async def job_detail(pilot: Any, clock: ManualClock) -> None:
    from tui.screens.job import JobScreen

    # From the job history: the failover of hr-app-01, finished, every task with its duration.
    await jobs(pilot, clock)
    await pilot.press(*["down"] * 7, "enter")
    screen = await wait_screen(pilot, JobScreen)
    await wait_for(pilot, lambda: screen.job is not None and screen.job.state.is_terminal, "the finished job")
    await pilot.pause(0.2)


async def help_screen(pilot: Any, clock: ManualClock) -> None:
    from tui.screens.help import HelpScreen

    await settled(pilot)
    await pilot.press("f1")
    await wait_screen(pilot, HelpScreen)


async def plans(pilot: Any, clock: ManualClock) -> None:
    from tui.screens.plans import PlansScreen

    await settled(pilot)
    await pilot.press("p")
    await wait_screen(pilot, PlansScreen)
    await pilot.pause(0.5)


async def modernized_plan_confirm(pilot: Any, clock: ManualClock) -> None:
    """A modernized plan's failback: the preflight passed, a type of point chosen, the planned failover confirmed."""
    from tui.dialogs.confirm import ConfirmDialog
    from tui.dialogs.point import PointDialog
    from tui.screens.plans import PlansScreen
    from tui.screens.preflight import PreflightGate

    await settled(pilot)
    await pilot.press("p")
    screen = await wait_screen(pilot, PlansScreen)
    await wait_for(pilot, lambda: screen.views and not screen.loading, "plans read")
    await pilot.press("f")
    gate = await wait_screen(pilot, PreflightGate)
    await wait_for(pilot, lambda: gate.report is not None, "the report")
    await pilot.click("#continue")
    await wait_screen(pilot, PointDialog)
    await pilot.click("#continue")
    await wait_screen(pilot, ConfirmDialog)
    await pilot.pause(0.3)


async def preflight(pilot: Any, clock: ManualClock) -> None:
    from tui.screens.preflight import PreflightScreen

    await settled(pilot)
    await select(pilot, pilot.app.screen, "dc-01")
    await pilot.press("F")
    screen = await wait_screen(pilot, PreflightScreen)
    await wait_for(pilot, lambda: not [w for w in pilot.app.workers if w.is_running and w.group != "poll"], "checks")
    await pilot.pause(0.2)
    del screen


async def _lesson(pilot: Any) -> Any:
    from tests.tui.test_training import open_lesson
    from tests.tui.test_training import select as select_in_lesson

    screen = await open_lesson(pilot)
    await select_in_lesson(pilot, screen, "web-shop-01")
    await pilot.pause(0.2)
    return screen


async def training(pilot: Any, clock: ManualClock) -> None:
    await _lesson(pilot)


async def debrief(pilot: Any, clock: ManualClock) -> None:
    from tui.dialogs.debrief import DebriefDialog
    from tui.dialogs.point import PointDialog

    await _lesson(pilot)
    # One mistake to talk about: an older point than the lesson needs, without a preflight.
    await pilot.press("f")
    await wait_screen(pilot, PointDialog)
    await pilot.press("down", "enter", "tab", "space", "tab", "tab", "enter")
    await pilot.pause(0.2)
    await pilot.press("escape")
    await pilot.pause(0.2)
    await pilot.press("d")
    await wait_screen(pilot, DebriefDialog)


async def fleet(pilot: Any, clock: ManualClock) -> None:
    from tui.screens.fleet import FleetScreen

    screen = await wait_screen(pilot, FleetScreen)
    await wait_for(pilot, lambda: screen.read_at is not None and not screen.loading, "the fleet to be read")


async def fleet_items(pilot: Any, clock: ManualClock) -> None:
    await fleet(pilot, clock)
    await pilot.press("2", "s")
    await pilot.pause()


SCENES: list[tuple[str, tuple[int, int], str, Scene]] = [
    ("fleet", WIDE, "fleet:demo", fleet),
    ("fleet-items", WIDE, "fleet:demo", fleet_items),
    ("dashboard", WIDE, "demo", dashboard),
    ("dashboard-80x24", SMALL, "demo", dashboard),
    ("point-choice", WIDE, "demo", point_dialog),
    ("confirm-failover", WIDE, "demo", confirm_failover),
    ("modernized-point-choice", WIDE, "modernized", modernized_point),
    ("modernized-confirm-failover", WIDE, "modernized", modernized_confirm),
    ("modernized-cancel", WIDE, "modernized", modernized_cancel),
    ("modernized-plan-confirm", WIDE, "modernized", modernized_plan_confirm),
    ("modernized-reprotect-to-avs", WIDE, "modernized", modernized_reprotect_to_avs),
    ("job-progress", WIDE, "demo", job_progress),
    ("rehearsal", WIDE, "rehearse:demo", rehearsal),
    ("verify", WIDE, "demo", verify),
    ("commit", WIDE, "demo", commit),
    ("reprotect", WIDE, "demo", reprotect),
    ("reprotect-retry", WIDE, "train-agent-window", reprotect_retry),
    ("jobs", WIDE, "demo", jobs),
    ("job-detail", WIDE, "demo", job_detail),
    ("show-command", WIDE, "demo", show_commands),
    ("help", WIDE, "demo", help_screen),
    ("plans", WIDE, "demo", plans),
    ("preflight", WIDE, "demo", preflight),
    ("training", WIDE, "lesson:train-single-vm", training),
    ("debrief", WIDE, "lesson:train-single-vm", debrief),
]


async def shoot(name: str, size: tuple[int, int], source: str, scene: Scene, out: Path) -> Path:
    clock = ManualClock()
    if source.startswith("lesson:"):
        app = training_app(clock, source.split(":", 1)[1])
    elif source.startswith("fleet:"):
        from core.bootstrap import build_fleet

        reader = build_fleet(Settings(demo=True, fleet=source.split(":", 1)[1]), clock=clock)
        app = FailbackApp(clock=clock, tz=UTC, ascii_glyphs=False, tick_seconds=3600.0, fleet=reader)
    else:
        app = demo_app(clock, source)
    path = out / f"{name}.svg"
    async with app.run_test(size=size) as pilot:
        await scene(pilot, clock)
        await pilot.pause()
        app.save_screenshot(filename=path.name, path=str(out))
    return path


def to_png(svg: Path) -> Path | None:
    converter = shutil.which("rsvg-convert")
    if converter is None:
        return None
    png = svg.with_suffix(".png")
    subprocess.run([converter, "--zoom", "1", "-o", str(png), str(svg)], check=True)
    return png


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help="only these screenshots (default: all)")
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args(argv)
    wanted = [s for s in SCENES if not args.names or s[0] in args.names]
    if not wanted:
        parser.error(f"no such screenshot; one of: {', '.join(s[0] for s in SCENES)}")
    if shutil.which("rsvg-convert") is None:
        print("rsvg-convert not found (Debian: apt-get install librsvg2-bin): SVGs only.", file=sys.stderr)
    failed = 0
    for name, size, source, scene in wanted:
        try:
            svg = asyncio.run(shoot(name, size, source, scene, args.out))
        except Exception as exc:  # one broken screen must not hide the others: report it and go on
            failed += 1
            print(f"FAILED {name}: {type(exc).__name__}: {exc}", file=sys.stderr)
            continue
        png = to_png(svg)
        print(f"{svg.relative_to(REPO) if svg.is_relative_to(REPO) else svg}" + (f" + {png.name}" if png else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
