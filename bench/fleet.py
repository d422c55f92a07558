"""The fleet in the real dashboard: first vault rows, the whole fleet, stalls, filtering, memory, requests.

Run as `python -m bench.fleet --fleet PATH`; prints one JSON line.

The emulated fleet runs in a process of its own over HTTPS (`avs-failback emulator serve --fleet`), its
Resource Graph index built before the dashboard starts, as Azure's is: the figures are the dashboard's work.
The dashboard (FailbackApp on the fleet screen, driven by Textual's pilot, frames rendered to escape sequences
as in a terminal) reads it through Resource Graph. Then, in the same run and against the same server, the
baseline: every vault listed over ARM, as opening each vault in turn would (its subscriptions, its vaults, each
vault's plans and item pages), every request counted on the transport.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import tempfile
import time
from typing import Any

from bench.bigvault import SCRIPT, Probe, _render_frames_like_a_terminal, _send_key, _until
from bench.common import ROOT, emit, free_port, rss_mb, step_env


class FleetServer:
    """`avs-failback emulator serve --fleet PATH` in its own process; its export lines point the dashboard at it."""

    def __init__(self, fleet: str, state_dir: str) -> None:
        env = dict(step_env(), XDG_STATE_HOME=state_dir)
        command = [str(SCRIPT), "emulator", "serve", "--fleet", fleet, "--port", free_port(), "--speed", "1"]
        started = time.perf_counter()
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
        self.ready_s = time.perf_counter() - started

    def settings(self) -> Any:
        from core.config import resolve_settings

        os.environ.update(self.env)
        os.environ.pop("AVS_FAILBACK_VAULT_ID", None)
        return resolve_settings(None)

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


class CountingTransport:
    """azure-core's RequestsTransport, counting what it sends (the dashboard and the baseline share nothing else)."""

    def __new__(cls, **kwargs: Any) -> Any:
        from azure.core.pipeline.transport import RequestsTransport

        class Counting(RequestsTransport):  # type: ignore[misc]
            sent = 0

            def send(self, request: Any, **kw: Any) -> Any:
                Counting.sent += 1
                return super().send(request, **kw)

        return Counting(**kwargs)


def _filter_text(expected_vault: int = 17) -> str:
    return f"v{expected_vault:03d}-vm-12"


async def run_fleet(server: FleetServer, expected: int, size: tuple[int, int]) -> dict[str, Any]:
    probe = Probe()
    _render_frames_like_a_terminal(probe)
    from tui.app import FailbackApp
    from tui.main import tune_collector
    from tui.screens.fleet import FleetScreen

    tune_collector()
    settings = server.settings()
    probe.size = size
    probe.expected = expected
    t0 = time.perf_counter()
    first_vaults: list[float] = []

    def rows() -> int:
        screen = app.screen
        if not isinstance(screen, FleetScreen):
            return 0
        vault_rows = screen.vault_table.row_count
        if vault_rows and not first_vaults:
            first_vaults.append(time.perf_counter())
        return int(screen.item_table.row_count)

    probe.rows = rows
    # The fleet is built as the console script builds it (in the app's worker, after the first frame).
    app = FailbackApp(settings, fleet=True)
    probe.t0 = t0
    watcher = asyncio.ensure_future(probe.watch_loop())
    try:
        async with app.run_test(size=size) as pilot:
            await _until(lambda: probe.full is not None, 180, "the whole fleet")
            screen = app.screen
            await _until(lambda: screen.read_at is not None, 60, "the fleet's jobs")
            whole = time.perf_counter()
            await pilot.pause(0.3)
            load_gap = probe.max_gap
            requests = app.fleet.requests
            await pilot.press("2")
            await pilot.pause(0.2)
            table = screen.item_table
            haystacks = [table._entries[e.id].haystack for e in table.items.values()]
            text = _filter_text()
            wanted = {text[:n]: sum(1 for h in haystacks if text[:n] in h) for n in range(1, len(text) + 1)}
            await pilot.press("slash")
            await pilot.pause()
            probe.max_gap = 0.0
            keys = []
            typed = ""
            for key in text:
                typed += key
                want = wanted[typed]
                start = time.perf_counter()
                _send_key(app, "minus" if key == "-" else key, key)

                def shown(want: int = want, start: float = start) -> float | None:
                    return next((when for when, count in probe.frame_log if when > start and count == want), None)

                await _until(lambda: shown() is not None, 30, f"the filter {typed!r} ({want} rows)")
                keys.append((shown() or start) - start)
                await pilot.pause()
            filter_gap = probe.max_gap
            memory = rss_mb()
    finally:
        probe.stop()
        await watcher
    first = (first_vaults[0] - t0) if first_vaults else None
    baseline = _baseline(settings)
    return {
        "first_vault_rows_s": first,
        "whole_fleet_s": whole - t0,
        "items_shown": probe.expected,
        "max_stall_load_s": load_gap,
        "max_stall_filter_s": filter_gap,
        "filter_key_s": keys,
        "filter_key_max_s": max(keys) if keys else None,
        "filter_key_median_s": sorted(keys)[len(keys) // 2] if keys else None,
        "rss_mb": memory["rss_mb"],
        "peak_rss_mb": memory["peak_rss_mb"],
        "resource_graph_requests": requests,
        **baseline,
    }


def _baseline(settings: Any) -> dict[str, Any]:
    """Every vault listed over ARM: subscriptions, each one's vaults, then each vault's plans and item pages."""
    from azure.core.rest import HttpRequest

    from core.azure.backend import AzureBackend
    from core.config import StaticTokenCredential
    from core.model import VaultRef

    transport = CountingTransport(connection_verify=settings.ca_bundle, connection_data_block_size=1 << 20)
    credential = StaticTokenCredential(os.environ["AVS_FAILBACK_ACCESS_TOKEN"])
    started = time.perf_counter()
    probe = AzureBackend(VaultRef("-", "-", "-"), credential, arm_endpoint=settings.arm_endpoint, transport=transport)

    def get(path: str) -> list[dict[str, Any]]:
        request = HttpRequest("GET", f"{settings.arm_endpoint}{path}?api-version=2024-04-01")
        body = probe._raw_json(request, "A list")
        return list(body.get("value", []))

    items = 0
    vaults = 0
    for sub in get("/subscriptions"):
        for doc in get(f"/subscriptions/{sub['subscriptionId']}/providers/Microsoft.RecoveryServices/vaults"):
            ref = VaultRef.parse(doc["id"])
            backend = AzureBackend(ref, credential, arm_endpoint=settings.arm_endpoint, transport=transport)
            items += len(backend.list_items())
            vaults += 1
    return {
        "arm_baseline_requests": type(transport).sent,
        "arm_baseline_s": time.perf_counter() - started,
        "arm_baseline_items": items,
        "arm_baseline_vaults": vaults,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fleet", required=True, help="a fleet file (bench.scenarios.fleet)")
    parser.add_argument("--items", type=int, required=True, help="how many items the fleet holds")
    parser.add_argument("--size", default="120x36")
    args = parser.parse_args()
    width, height = (int(n) for n in args.size.split("x"))
    state = tempfile.mkdtemp(prefix="avs-bench-fleet-")
    os.environ["XDG_STATE_HOME"] = state
    server = FleetServer(args.fleet, state)
    try:
        result = asyncio.run(run_fleet(server, args.items, (width, height)))
    finally:
        server.close()
        shutil.rmtree(state, ignore_errors=True)
    result.update({"server_ready_s": server.ready_s, "items": args.items})
    emit(result)


if __name__ == "__main__":
    main()
