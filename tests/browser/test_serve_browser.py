"""`avs-failback serve` in headless Chromium: the page opens its terminal session and the item list arrives.

textual-serve draws into a canvas, so the test reads what the browser received instead: it drives Chromium over
the DevTools protocol and watches the page's websocket frames (the dashboard's own output) for the lesson's VMs.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="/usr/bin/chromium is missing (Debian's chromium package; .ci/run installs it)"
)
ROOT = Path(__file__).resolve().parents[2]
ITEMS = (b"web-shop-01", b"intranet-01", b"build-01")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def until(condition: Any, what: str, timeout: float = 30.0) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (result := condition()):
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
    return result


def accepts(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def printed_url(proc: subprocess.Popen[str]) -> str:
    """The page's address as serve prints it for the operator: with this run's secret in it."""
    assert proc.stdout is not None
    first = proc.stdout.readline()
    match = re.search(r"Serving on (http://\S+/)", first)
    assert match, first
    return match.group(1)


@pytest.fixture
def served() -> Iterator[tuple[int, subprocess.Popen[str]]]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui.main", "serve", "--port", str(port), "--scenario", "train-single-vm"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "TERM": "xterm-256color"},
    )
    try:
        yield port, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class DevTools:
    """Just enough of the Chrome DevTools protocol: commands with ids, events collected as they come."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.next_id = 0
        self.events: list[dict[str, Any]] = []
        self.replies: dict[int, dict[str, Any]] = {}

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        ident = self.next_id
        await self.ws.send_json({"id": ident, "method": method, "params": params})
        while ident not in self.replies:
            await self.read_one()
        return self.replies.pop(ident)

    async def read_one(self) -> None:
        message = json.loads((await self.ws.receive()).data)
        if "id" in message:
            self.replies[message["id"]] = message
        else:
            self.events.append(message)

    def received(self) -> bytes:
        """Everything the page's websockets received, binary frames decoded."""
        out = b""
        for event in self.events:
            if event.get("method") == "Network.webSocketFrameReceived":
                response = event["params"]["response"]
                data = response["payloadData"]
                out += base64.b64decode(data) if response.get("opcode") == 2 else data.encode()
        return out


@pytest.fixture
async def browser() -> AsyncIterator[DevTools]:
    import aiohttp

    profile = tempfile.mkdtemp(prefix="chromium-")
    proc = subprocess.Popen(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--remote-debugging-port=0",
            "--window-size=1280,800",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    active = Path(profile) / "DevToolsActivePort"
    try:
        await until(lambda: active.exists() and active.read_text().strip(), "Chromium's DevTools port")
        port = int(active.read_text().split()[0])
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/json/list") as answer:
                targets = await answer.json()
            page = next(t for t in targets if t["type"] == "page")
            async with session.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                yield DevTools(ws)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def test_the_served_dashboard_loads_in_chromium_and_shows_the_items(served: Any, browser: DevTools) -> None:
    port, server = served
    await until(lambda: accepts(port) or server.poll() is not None, "the server to listen")
    assert server.poll() is None, server.stdout.read() if server.stdout else ""

    await browser.send("Network.enable")
    await browser.send("Page.enable")
    url = printed_url(server)
    await browser.send("Page.navigate", url=url)

    async def items_arrived() -> None:
        # A frame reaches the page in several websocket messages: the rows may come before the banner above them.
        while not all(name in browser.received() for name in (*ITEMS, b"SIMULATION")):
            await browser.read_one()

    await asyncio.wait_for(items_arrived(), timeout=45)
    sockets = [e["params"]["url"] for e in browser.events if e.get("method") == "Network.webSocketCreated"]
    secret = url.rstrip("/").rsplit("/", 1)[-1]
    assert any(ws.startswith(f"ws://127.0.0.1:{port}/{secret}/ws") for ws in sockets)

    state = await browser.send("Runtime.evaluate", expression="document.body.className")
    assert "-first-byte" in state["result"]["result"]["value"], "the page shows the terminal, not its intro"
    title = await browser.send("Runtime.evaluate", expression="document.title")
    assert title["result"]["result"]["value"] == "avs-failback (simulation)"
    # Nothing from outside this server (a classroom may be offline): no web font, no script from elsewhere.
    requested = [
        e["params"]["request"]["url"] for e in browser.events if e.get("method") == "Network.requestWillBeSent"
    ]
    assert requested and all(url.startswith((f"http://127.0.0.1:{port}/", "data:")) for url in requested), requested
    shot = await browser.send("Page.captureScreenshot", format="png")
    assert base64.b64decode(shot["result"]["data"]).startswith(b"\x89PNG")
