"""The early first page: a forked child reads it through the real backend and hands it over, or gives up cleanly."""

from __future__ import annotations

import os
import sys
import time

import pytest

import core.first_page as first_page
from core.bootstrap import build_backend
from core.config import Settings
from core.first_page import FirstPage, FirstPageReader

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the early read needs os.fork (not on Windows)")

DEMO = Settings(demo=True, scenario="demo", speed=30.0)


def _gone(pid: int) -> bool:
    """True once the child has exited and been reaped (no zombie left behind)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_the_child_reads_the_same_first_page_as_the_backend() -> None:
    reader = FirstPageReader.start(DEMO)
    assert reader is not None
    page = reader.wait(30.0)
    assert isinstance(page, FirstPage)
    expected = next(iter(build_backend(DEMO).iter_item_pages()))
    assert [i.id for i in page.items] == [i.id for i in expected]
    assert [i.protection_state for i in page.items] == [i.protection_state for i in expected]
    assert page.vault == build_backend(DEMO).vault
    assert page.now.tzinfo is not None
    assert reader.done and _gone(reader.pid)
    assert reader.wait(0.0) is page  # asking again gives the same page, without another read


def test_a_real_vault_is_not_read_early() -> None:
    assert FirstPageReader.start(Settings(demo=False)) is None


def test_a_failing_child_gives_no_page_and_leaves_no_process() -> None:
    reader = FirstPageReader.start(Settings(demo=True, scenario="no-such-scenario"))
    assert reader is not None
    assert reader.wait(30.0) is None
    assert reader.done and _gone(reader.pid)


def test_poll_never_waits_and_a_slow_child_is_killed_on_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    def slow(settings: object) -> FirstPage:
        time.sleep(60)
        raise AssertionError("unreachable: the parent kills this child")

    monkeypatch.setattr(first_page, "_read_first_page", slow)
    reader = FirstPageReader.start(DEMO)
    assert reader is not None
    started = time.monotonic()
    assert reader.poll() is None
    assert reader.poll(0.05) is None  # a short grace before the first frame
    assert not reader.done  # polling, even with a grace, gives nothing up
    assert reader.wait(0.3) is None
    assert time.monotonic() - started < 10
    assert reader.done and _gone(reader.pid)


def test_close_kills_a_running_child_and_is_idempotent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(first_page, "_read_first_page", lambda settings: time.sleep(60))
    reader = FirstPageReader.start(DEMO)
    assert reader is not None
    reader.close()
    assert reader.done and _gone(reader.pid)
    reader.close()
    assert reader.poll() is None


def test_the_child_never_writes_to_the_terminal(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    def noisy(settings: object) -> FirstPage:
        print("child stdout")
        print("child stderr", file=sys.stderr)
        os.write(1, b"raw fd 1\n")
        raise RuntimeError("and then it fails")

    monkeypatch.setattr(first_page, "_read_first_page", noisy)
    reader = FirstPageReader.start(DEMO)
    assert reader is not None
    assert reader.wait(30.0) is None
    out, err = capfd.readouterr()
    assert "child" not in out + err and "raw fd" not in out


def test_a_torn_payload_is_no_page() -> None:
    assert FirstPageReader._decode(b"") is None
    assert FirstPageReader._decode(b"\x80\x05not a pickle") is None
