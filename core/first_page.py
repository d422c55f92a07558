"""The vault's first page of items, read by a short-lived child process while the dashboard is still loading.

Launch is CPU-bound: the interface (Textual) and the vault side (azure-core, the emulator, the first request) each
take a couple of hundred milliseconds, one after the other on one core. Forked before the interface loads, a
child process reads the first page on the other core and hands it over through a pipe; the dashboard shows those
rows the moment it is drawn, then opens the vault itself and reads the list again, in place.

Only for the emulated vault: on Azure the child would have to sign in on its own (a second token request, and a
device-code prompt it could not show), so a real vault is opened by the dashboard alone.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.model import ProtectedItem, VaultRef

# Past this the child is given up on (and killed): the dashboard reads the vault itself anyway.
DEFAULT_TIMEOUT = 10.0


@dataclass(frozen=True)
class FirstPage:
    """What the child read: the first page of items, the vault's clock when it did, and which vault."""

    items: list[ProtectedItem]
    now: datetime
    vault: VaultRef


def _read_first_page(settings: Any) -> FirstPage:
    from core.bootstrap import build_backend

    backend = build_backend(settings)
    page: list[ProtectedItem] = next(iter(backend.iter_item_pages()), [])
    return FirstPage(items=list(page), now=backend.now(), vault=backend.vault)


def _child(settings: Any, write_fd: int) -> int:
    # The child never touches the operator's terminal: whatever a library prints goes nowhere.
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    sys.stdout = sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - lives as long as the child
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        data = pickle.dumps(_read_first_page(settings), protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException:  # noqa: BLE001 - any failure means "no early page"; the dashboard reads the vault itself
        return 1
    view = memoryview(data)
    while view:
        written = os.write(write_fd, view)
        view = view[written:]
    return 0


class FirstPageReader:
    """The parent's end: poll() without waiting, or wait(timeout) from a worker thread."""

    def __init__(self, pid: int, read_fd: int) -> None:
        self.pid = pid
        self._fd: int | None = read_fd
        self._chunks: list[bytes] = []
        self._lock = threading.Lock()  # held by whoever is reading the pipe
        self._pid_lock = threading.Lock()  # a signal is never sent to a pid already reaped (and maybe reused)
        self._reaped = False
        self._done = False
        self._page: FirstPage | None = None

    @classmethod
    def start(cls, settings: Any) -> FirstPageReader | None:
        """Fork the reader, or None where it does not apply (a real vault, no fork on this platform).

        Call it before any thread exists (before the interface is imported): a fork copies only the calling thread,
        and a lock another thread held at that moment would never be released in the child.
        """
        if not getattr(settings, "demo", False) or not hasattr(os, "fork"):
            return None
        read_fd, write_fd = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(read_fd)
            os.close(write_fd)
            return None
        if pid == 0:  # the child
            code = 1
            try:
                os.close(read_fd)
                code = _child(settings, write_fd)
            finally:
                os._exit(code)
        os.close(write_fd)
        return cls(pid, read_fd)

    @property
    def done(self) -> bool:
        return self._done

    def poll(self, timeout: float = 0.0) -> FirstPage | None:
        """The page if the child has finished writing it within `timeout` seconds; never gives the child up."""
        return self.wait(timeout, give_up=False)

    def wait(self, timeout: float = DEFAULT_TIMEOUT, *, give_up: bool = True) -> FirstPage | None:
        """The page, waiting up to `timeout` seconds for the child; None if it failed or is not done.

        On a timeout with `give_up` the child is killed: no page will come.
        """
        deadline = time.monotonic() + timeout
        with self._lock:
            while not self._done and self._fd is not None:
                remaining = deadline - time.monotonic()
                ready, _, _ = select.select([self._fd], [], [], max(0.0, remaining))
                if not ready:
                    if give_up:
                        self._finish(kill=True)
                    break
                chunk = os.read(self._fd, 1 << 16)
                if chunk:
                    self._chunks.append(chunk)
                    continue
                self._finish(kill=False)
            return self._page

    def close(self) -> None:
        """Give up on the page (the dashboard is leaving, or already read the vault). Never waits on a reader."""
        if self._lock.acquire(blocking=False):
            try:
                if not self._done:
                    self._finish(kill=True)
            finally:
                self._lock.release()
        else:
            # A worker is waiting in wait(): the killed child closes the pipe, and that worker finishes up.
            self._kill()

    def _kill(self) -> None:
        with self._pid_lock:
            if not self._reaped:
                try:
                    os.kill(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def _finish(self, *, kill: bool) -> None:
        self._done = True
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if kill:
            self._kill()
        else:
            self._page = self._decode(b"".join(self._chunks))
        self._chunks = []
        with self._pid_lock:
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass
            self._reaped = True

    @staticmethod
    def _decode(data: bytes) -> FirstPage | None:
        if not data:
            return None  # the child failed before writing
        try:
            # Our own child, over a pipe only it and this process hold: pickle is safe here.
            page = pickle.loads(data)  # noqa: S301
        except Exception:  # noqa: BLE001 - a torn or foreign payload: no early page
            return None
        return page if isinstance(page, FirstPage) else None
