"""Bytes the dashboard writes to its terminal per second (what an SSH link carries), under a real pty."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import termios
import threading
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, step_env

SCRIPT = ROOT / ".venv" / "bin" / "avs-failback"


class PtyApp:
    """The console script on a pseudo-terminal of a fixed size; a thread drains and counts its output."""

    def __init__(self, args: list[str], width: int = 120, height: int = 36, term: str = "xterm-256color") -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
        env = dict(step_env(), TERM=term, COLUMNS=str(width), LINES=str(height))
        env.pop("NO_COLOR", None)
        self.proc = subprocess.Popen(
            [str(SCRIPT), *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=ROOT,
            env=env,
            start_new_session=True,
            close_fds=True,
        )
        os.close(slave)
        self.master = master
        self.chunks: list[tuple[float, int]] = []
        self.text = bytearray()
        self._stop = False
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while not self._stop:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if not ready:
                continue
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            self.chunks.append((time.monotonic(), len(data)))
            if len(self.text) < 4_000_000:
                self.text.extend(data)

    def wait_for(self, marker: bytes, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while marker not in self.text:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise TimeoutError(f"{marker!r} never reached the terminal")
            time.sleep(0.02)

    def bytes_between(self, start: float, end: float) -> int:
        return sum(n for stamp, n in self.chunks if start <= stamp < end)

    def close(self) -> None:
        self._stop = True
        if self.proc.poll() is None:
            os.write(self.master, b"\x11")  # ctrl+q
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._reader.join(timeout=2)
        os.close(self.master)


def bytes_per_second(scenario: Path, marker: str, *, speed: float, settle: float, window: float) -> dict[str, Any]:
    """Launch on `scenario`, wait for `marker` and `settle` seconds, then count `window` seconds of output."""
    app = PtyApp(["demo", "--scenario", str(scenario), "--speed", str(speed)])
    try:
        app.wait_for(marker.encode(), 30)
        time.sleep(settle)
        start = time.monotonic()
        time.sleep(window)
        end = time.monotonic()
        total = app.bytes_between(start, end)
        writes = sum(1 for stamp, _ in app.chunks if start <= stamp < end)
    finally:
        app.close()
    return {"bytes_per_s": total / (end - start), "bytes": total, "writes": writes, "window_s": end - start}
