"""A big vault in the real dashboard, driven by Textual's pilot: first rows, full list, loop stalls, filtering, RSS.

Run as `python -m bench.bigvault --scenario PATH --count N --variant app|datatable`; prints one JSON line.

`app` is the product (FailbackApp on the in-process emulator, backend built in a worker as at launch);
`datatable` is the naive baseline: the built-in DataTable filled with every row at once, filtered by
rebuilding it. Frames are rendered to escape sequences as in a terminal (the headless driver discards
them), so the UI's cost is the one an operator pays.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from typing import Any

from bench.common import ROOT, emit, free_port, rss_mb, step_env

SCRIPT = ROOT / ".venv" / "bin" / "avs-failback"

FILTER_KEYS = "vm-0012"  # each key narrows the list: 10,000 → … → 10 rows


class Probe:
    """Timestamps from inside the app: first page read, frames with rows, and the event loop's longest gap."""

    def __init__(self) -> None:
        self.t0 = time.perf_counter()
        self.first_page: float | None = None
        self.last_frame = 0.0
        self.frames = 0
        self.frame_bytes = 0
        self.rows: Callable[[], int] = lambda: 0
        self.first_rows: float | None = None
        self.full: float | None = None
        self.expected = 0
        self.size = (120, 36)
        self.frame_log: list[tuple[float, int]] = []  # (when, rows in the table) of every frame
        self.max_gap = 0.0
        self._running = True

    def since(self, stamp: float | None) -> float | None:
        return None if stamp is None else stamp - self.t0

    def on_frame(self) -> None:
        now = time.perf_counter()
        self.frames += 1
        self.last_frame = now
        count = self.rows()
        self.frame_log.append((now, count))
        if count and self.first_rows is None:
            self.first_rows = now
        if self.full is None and self.expected and count >= self.expected:
            self.full = now

    async def watch_loop(self) -> None:
        previous = time.perf_counter()
        while self._running:
            await asyncio.sleep(0.002)
            now = time.perf_counter()
            self.max_gap = max(self.max_gap, now - previous)
            previous = now

    def stop(self) -> None:
        self._running = False


def _render_frames_like_a_terminal(probe: Probe) -> None:
    """Let App._display turn frames into escape sequences (as over SSH) and count them, then drop them."""
    from textual.app import App
    from textual.drivers.headless_driver import HeadlessDriver

    HeadlessDriver.is_headless = property(lambda self: False)  # type: ignore[method-assign,assignment]
    HeadlessDriver.write = lambda self, data: _count(probe, data)  # type: ignore[method-assign]
    HeadlessDriver.flush = lambda self: None  # type: ignore[method-assign]
    original = App._display

    def display(self: Any, screen: Any, renderable: Any) -> None:
        original(self, screen, renderable)
        if renderable is not None:
            probe.on_frame()

    App._display = display  # type: ignore[method-assign]


def _count(probe: Probe, data: str) -> None:
    probe.frame_bytes += len(data.encode("utf-8", "replace"))


def _stamp_first_page(probe: Probe) -> None:
    from core.azure.backend import AzureBackend

    original = AzureBackend.iter_item_pages

    def pages(self: Any, filter: str | None = None) -> Any:
        for page in original(self, filter):
            if probe.first_page is None:
                probe.first_page = time.perf_counter()
            yield page

    AzureBackend.iter_item_pages = pages  # type: ignore[method-assign]


async def _until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"gave up waiting for {what} after {timeout:.0f} s")
        await asyncio.sleep(0.001)


def _send_key(app: Any, key: str, char: str) -> None:
    """A key as the terminal driver delivers it (pilot.press would also wait for idle, adding its own time)."""
    from textual import events

    event = events.Key(key, char)
    event.set_sender(app)
    app._driver.send_message(event)


async def _type_filter(pilot: Any, probe: Probe, expected_for: Callable[[str], int], open_key: str) -> list[float]:
    """Per key: from the key press until a frame shows exactly the rows that match the text so far."""
    # Counted before typing starts: the counting must not stall the loop the keys are timed on.
    wanted = {FILTER_KEYS[:n]: expected_for(FILTER_KEYS[:n]) for n in range(1, len(FILTER_KEYS) + 1)}
    await pilot.press(open_key)
    await pilot.pause()
    probe.max_gap = 0.0
    times = []
    text = ""
    for key in FILTER_KEYS:
        text += key
        want = wanted[text]
        start = time.perf_counter()
        _send_key(pilot.app, "minus" if key == "-" else key, key)

        def shown(want: int = want, start: float = start) -> float | None:
            return next((when for when, rows in probe.frame_log if when > start and rows == want), None)

        await _until(lambda: shown() is not None, 20, f"the filter {text!r} ({want} rows)")
        times.append((shown() or start) - start)
        await pilot.pause()
    return times


class RemoteVault:
    """The emulator in a process of its own, over HTTPS on loopback: the vault is elsewhere, as Azure is, so
    the figures are the dashboard's own work and not the simulation's (which then runs on another core)."""

    def __init__(self, scenario: str, state_dir: str) -> None:
        env = dict(step_env(), XDG_STATE_HOME=state_dir)
        command = [str(SCRIPT), "emulator", "serve", "--scenario", scenario, "--port", free_port(), "--speed", "1"]
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
        self.env: dict[str, str] = {}
        assert self.proc.stdout is not None
        while len(self.env) < 4:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("the emulator server ended before it printed where it listens")
            if line.startswith("export "):
                name, _, value = line[len("export ") :].strip().partition("=")
                self.env[name] = value

    def settings(self) -> Any:
        from core.config import resolve_settings

        os.environ.update(self.env)  # the credential reads the placeholder token from the environment
        return resolve_settings(None)

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


async def run_app(scenario: str, count: int, width: int, height: int, remote: bool = False) -> dict[str, Any]:
    probe = Probe()
    _render_frames_like_a_terminal(probe)
    _stamp_first_page(probe)
    from core.config import Settings
    from tui.app import FailbackApp
    from tui.main import tune_collector
    from tui.widgets import items_table

    probe.expected = count
    probe.size = (width, height)
    tune_collector()  # as the console script does before it runs the app
    state = tempfile.mkdtemp(prefix="avs-bench-state-")
    os.environ["XDG_STATE_HOME"] = state  # the dashboard's journal and the server's test CA stay in the run
    server = RemoteVault(scenario, state) if remote else None
    try:
        settings = server.settings() if server is not None else Settings(demo=True, scenario=scenario, speed=1.0)
        return await _measure_app(probe, FailbackApp(settings), items_table)
    finally:
        # A failed run must not leave a server listening or state behind.
        if server is not None:
            server.close()
        shutil.rmtree(state, ignore_errors=True)


async def _measure_app(probe: Probe, app: Any, items_table: Any) -> dict[str, Any]:
    probe.t0 = time.perf_counter()

    def rows() -> int:
        try:
            return int(app.screen.query_one(items_table.ItemsTable).row_count)
        except Exception:  # noqa: BLE001 - before the dashboard is mounted there is no table
            return 0

    probe.rows = rows
    watcher = asyncio.ensure_future(probe.watch_loop())
    try:
        async with app.run_test(size=probe.size) as pilot:
            await _until(lambda: probe.full is not None, 120, "the full list")
            await pilot.pause(0.3)
            load_gap = probe.max_gap
            table = app.screen.query_one(items_table.ItemsTable)
            items = list(table.items.values())

            def expected_for(text: str) -> int:
                return sum(1 for item in items if items_table.matches(item, text, None))

            keys = await _type_filter(pilot, probe, expected_for, "slash")
            filter_gap = probe.max_gap
            memory = rss_mb()
    finally:
        probe.stop()
        await watcher
    return _result(probe, load_gap, filter_gap, keys, memory)


def _result(
    probe: Probe, load_gap: float, filter_gap: float, keys: list[float], memory: dict[str, float]
) -> dict[str, Any]:
    first_rows = probe.since(probe.first_rows) or 0.0
    first_page = probe.since(probe.first_page) or 0.0
    return {
        "first_page_s": first_page,
        "first_rows_s": first_rows,
        "first_rows_after_page_s": first_rows - first_page,
        "full_list_s": probe.since(probe.full),
        "max_stall_load_s": load_gap,
        "max_stall_filter_s": filter_gap,
        "filter_key_s": keys,
        "filter_key_median_s": sorted(keys)[len(keys) // 2] if keys else None,
        "filter_key_max_s": max(keys) if keys else None,
        "rss_mb": memory["rss_mb"],
        "peak_rss_mb": memory["peak_rss_mb"],
        "frames": probe.frames,
        "frame_bytes": probe.frame_bytes,
    }


async def run_datatable(scenario: str, count: int, width: int, height: int) -> dict[str, Any]:
    """The naive baseline: read every page, then one add_rows with every row; filter by clearing and refilling."""
    probe = Probe()
    _render_frames_like_a_terminal(probe)
    _stamp_first_page(probe)
    from textual import on, work
    from textual.app import App, ComposeResult
    from textual.message import Message
    from textual.widgets import DataTable, Input

    from core.bootstrap import build_backend
    from core.config import Settings
    from core.failback import derive_stage

    class Listed(Message):
        def __init__(self, items: list[Any]) -> None:
            super().__init__()
            self.items = items

    def cells(item: Any) -> tuple[str, ...]:
        stage = derive_stage(item)
        return (
            item.friendly_name,
            f"{stage.glyph} {stage.short}",
            item.replication_health,
            str(item.last_recovery_point_time),
            ", ".join(item.recovery_plans),
            item.provider.value,
            item.active_location,
        )

    class Naive(App[None]):
        CSS = "DataTable { height: 1fr; } Input { display: none; } Input.-on { display: block; }"
        BINDINGS = [("slash", "filter", "Filter")]

        def compose(self) -> ComposeResult:
            yield Input(id="filter")
            yield DataTable(cursor_type="row")

        def on_mount(self) -> None:
            table = self.query_one(DataTable)
            table.add_columns("Name", "Stage", "Health", "Newest point", "Plans", "Provider", "Active")
            table.focus()
            self.items: list[Any] = []
            self.load()

        @work(thread=True, exit_on_error=False)
        def load(self) -> None:
            backend = build_backend(Settings(demo=True, scenario=scenario, speed=1.0))
            self.post_message(Listed(backend.list_items()))

        def on_listed(self, message: Listed) -> None:
            self.items = message.items
            self.query_one(DataTable).add_rows(cells(i) for i in self.items)

        def action_filter(self) -> None:
            box = self.query_one(Input)
            box.add_class("-on")
            box.focus()

        @on(Input.Changed)
        def refill(self, event: Input.Changed) -> None:
            table = self.query_one(DataTable)
            table.clear()
            needle = event.value.lower()
            table.add_rows(cells(i) for i in self.items if needle in i.friendly_name.lower())

    app = Naive()
    probe.expected = count
    probe.rows = lambda: int(app.query_one(DataTable).row_count) if app.is_running and app.screen.children else 0
    watcher = asyncio.ensure_future(probe.watch_loop())
    async with app.run_test(size=(width, height)) as pilot:
        await _until(lambda: probe.full is not None, 120, "the full list")
        await pilot.pause(0.3)
        load_gap = probe.max_gap
        probe.max_gap = 0.0
        items = app.items

        def expected_for(text: str) -> int:
            return sum(1 for item in items if text.lower() in item.friendly_name.lower())

        keys = await _type_filter(pilot, probe, expected_for, "slash")
        filter_gap = probe.max_gap
        memory = rss_mb()
    probe.stop()
    await watcher
    return _result(probe, load_gap, filter_gap, keys, memory)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenario", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--variant", choices=("app", "datatable"), default="app")
    parser.add_argument("--size", default="120x36")
    parser.add_argument("--remote", action="store_true", help="the vault in its own process, over HTTPS")
    args = parser.parse_args()
    width, height = (int(n) for n in args.size.split("x"))
    if args.variant == "app":
        result = asyncio.run(run_app(args.scenario, args.count, width, height, remote=args.remote))
    else:
        result = asyncio.run(run_datatable(args.scenario, args.count, width, height))
    result.update({"variant": args.variant, "items": args.count, "remote": args.remote})
    emit(result)


if __name__ == "__main__":
    main()
