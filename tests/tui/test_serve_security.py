"""`avs-failback serve` run for real on loopback: only the printed address with this run's secret opens the page or
a session, the Host and the WebSocket's Origin must be the served address's, and sessions are capped."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tui import serve

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Served:
    def __init__(self, port: int, url: str, proc: subprocess.Popen[str]) -> None:
        self.port, self.url, self.proc = port, url, proc
        self.secret = url.rstrip("/").rsplit("/", 1)[-1]

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "ws?width=80&height=24"


def start(*argv: str) -> Served:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui.main", "serve", "--port", str(port), "--scenario", "small", *argv],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "TERM": "xterm-256color"},
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    match = re.search(r"Serving on (http://\S+/)", first)
    assert match, first
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return Served(port, match.group(1), proc)
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("serve did not listen")


def stop(served: Served) -> None:
    served.proc.terminate()
    try:
        served.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        served.proc.kill()
        served.proc.wait()


@pytest.fixture
def server() -> Iterator[Served]:
    served = start()
    try:
        yield served
    finally:
        stop(served)


async def get(url: str, **headers: str) -> tuple[int, dict[str, str], str]:
    import aiohttp

    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as answer:
        return answer.status, dict(answer.headers), await answer.text()


async def open_session(url: str, origin: str | None) -> Any:
    """A WebSocket the way the page opens it; the first frame of the dashboard proves the session is live."""
    import aiohttp

    session = aiohttp.ClientSession()
    headers = {"Origin": origin} if origin else {}
    try:
        ws = await session.ws_connect(url, headers=headers, timeout=aiohttp.ClientWSTimeout(ws_receive=30))
    except aiohttp.WSServerHandshakeError as exc:
        await session.close()
        return exc.status
    return session, ws


def test_the_secret_is_long_and_new_each_run() -> None:
    first, second = serve.new_secret(), serve.new_secret()
    assert first != second and len(first) >= 32


async def test_only_the_printed_address_opens_the_page(server: Served) -> None:
    status, headers, page = await get(server.url)
    assert status == 200
    assert f"/{server.secret}/ws" in page and f"/{server.secret}/static/" in page
    assert headers["Referrer-Policy"] == "no-referrer" and headers["X-Frame-Options"] == "DENY"
    assert "no-store" in headers["Cache-Control"]
    # One character changed: never to the character already there, or the "wrong" address is the right one.
    other = "y" if server.secret.endswith("x") else "x"
    near_miss = server.url.replace(server.secret, server.secret[:-1] + other)
    assert near_miss != server.url
    for wrong in (f"http://127.0.0.1:{server.port}/", near_miss):
        status, _, text = await get(wrong)
        assert status == 404 and server.secret not in text
    status, _, _ = await get(f"http://127.0.0.1:{server.port}/{server.secret}/static/js/textual.js")
    assert status == 200


async def test_a_page_under_another_name_is_refused(server: Served) -> None:
    # DNS rebinding: a page at evil.example that resolves to 127.0.0.1 sends its own name as the Host.
    status, _, _ = await get(server.url, Host=f"evil.example:{server.port}")
    assert status == 421


async def test_a_session_needs_the_served_origin(server: Served) -> None:
    for origin in (None, "http://evil.example", f"http://127.0.0.1:{server.port + 1}", "null"):
        assert await open_session(server.ws_url(), origin) == 403
    status = await open_session(server.ws_url().replace(server.secret, "guess"), server.origin)
    assert status == 404
    opened = await open_session(server.ws_url(), server.origin)
    assert not isinstance(opened, int), opened
    session, ws = opened
    try:
        message = await asyncio.wait_for(ws.receive(), timeout=30)
        assert message.data  # the dashboard's first bytes
    finally:
        await ws.close()
        await session.close()


async def test_sessions_are_capped() -> None:
    served = start("--max-sessions", "1")
    try:
        opened = await open_session(served.ws_url(), served.origin)
        assert not isinstance(opened, int), opened
        session, ws = opened
        try:
            await asyncio.wait_for(ws.receive(), timeout=30)
            assert await open_session(served.ws_url(), served.origin) == 503
        finally:
            await ws.close()
            await session.close()
    finally:
        stop(served)


async def test_no_process_shows_the_secret_in_its_command_line(server: Served) -> None:
    opened = await open_session(server.ws_url(), server.origin)
    assert not isinstance(opened, int)
    session, ws = opened
    try:
        await asyncio.wait_for(ws.receive(), timeout=30)
        # `ps` shows every process's command line to every local user: the dashboard's session is running now.
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                assert server.secret.encode() not in cmdline.read_bytes(), cmdline
            except OSError:
                continue
    finally:
        await ws.close()
        await session.close()


def test_max_sessions_is_checked_before_serving(capsys: Any) -> None:
    from tui.main import main

    assert main(["serve", "--max-sessions", "0"]) == 2
    assert main(["serve", "--max-sessions", "99"]) == 2
    assert "--max-sessions" in capsys.readouterr().err
