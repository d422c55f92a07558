"""A modernized VM failed back in a real terminal (tmux) at 80×24, by keys alone: the planned failover from Azure,
its cancel back to the Azure VM, the planned failover again, verify, commit, and the reprotect to Azure once the
Mobility agent has registered."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.terminal.test_tmux_flow import assert_first_screen, budget, row
from tests.terminal.tmux import Tmux, app_argv, app_env

pytestmark = [
    pytest.mark.terminal,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (apt-get install tmux)"),
]

NAME = "crm-web-02"
# 15 simulated minutes of agent registration are 15 real seconds here.
SPEED = "60"


def _planned_failover(term: Tmux, left: Callable[..., float]) -> None:
    term.keys("f")
    screen = term.wait_text(f"Recovery point for {NAME}", timeout=left())
    term.settle()
    assert "Crash-consistent, made when the job starts" in screen and "Another point" not in screen, screen
    term.keys("Tab", "Tab", "Enter")  # the hidden acknowledgement is skipped: Back, Continue
    screen = term.wait_text("Start failover", timeout=left())
    term.settle()
    assert "a planned" in screen and "failover from Azure" in screen, screen
    term.keys("Right", "Enter")
    term.wait_text(f"Planned failover: {NAME}", timeout=left())
    screen = term.wait_regex(r"Succeeded \(", "the planned failover to succeed", timeout=left(90)).string
    assert "Shut down the Azure virtual" in screen, screen
    assert "portal" not in screen.lower()
    term.keys("Escape")
    term.wait_for(lambda s: "Verify/commit" in row(s, NAME), f"{NAME} failed over", timeout=left())


def test_modernized_failback_with_a_cancel_at_80x24(make_terminal: Callable[[int, int], Tmux], tmp_path: Path) -> None:  # noqa: F811
    term = make_terminal(80, 24)
    left = budget(time.monotonic(), "the modernized failback")
    term.start(app_argv("demo", "--scenario", "modernized", "--speed", SPEED), app_env(tmp_path, TERM="xterm-256color"))
    assert_first_screen(term)
    term.keys(":")
    term.wait_text(":vm NAME", timeout=left())
    term.settle()
    term.type(f"vm {NAME}")
    term.wait_text(f"vm {NAME}", timeout=left(10))
    term.keys("Enter")
    term.wait_for(lambda s: ":vm NAME" not in s and "Ready" in row(s, NAME), f"{NAME} selected", timeout=left())

    _planned_failover(term, left)

    # B: back to the Azure VM; the cancel job to its end, and the VM is ready to fail back again
    term.keys("B")
    screen = term.wait_text(f"Cancel the planned failover of {NAME}", timeout=left())
    term.settle()
    assert "turns the Azure VM" in screen, screen
    term.keys("Tab", "Enter")  # focus starts on Back
    term.wait_text(f"Cancel failover and resume replication: {NAME}", timeout=left())
    term.wait_regex(r"Succeeded \(", "the cancel to succeed", timeout=left(90))
    term.keys("Escape")
    term.wait_for(lambda s: "Ready" in row(s, NAME), f"{NAME} ready again", timeout=left())

    _planned_failover(term, left)

    # verify, then commit with the name typed
    term.keys("v")
    term.wait_text("Azure VM is off", timeout=left())
    term.settle()
    term.keys("Space", "Tab", "Space", "Tab", "Space", "Tab", "Space")
    term.wait_for(lambda s: s.count("X▌") >= 4, "four checks ticked", timeout=left())
    term.keys("c")
    term.wait_text(f"Type {NAME} to commit", timeout=left())
    term.settle()
    term.type(NAME)
    term.keys("Enter", "Enter")
    term.wait_text(f"Commit: {NAME}", timeout=left())
    term.wait_regex(r"Succeeded \(", "the commit to succeed", timeout=left(60))
    term.keys("Escape")
    term.wait_for(lambda s: "Reprotect needed" in row(s, NAME), f"{NAME} committed", timeout=left())

    # the reprotect to Azure is offered once ASR reports the Mobility agent registered (15 s here)
    deadline = time.monotonic() + left(60)
    while time.monotonic() < deadline:
        term.keys("C-r")
        term.settle()
        term.keys("r")
        screen = term.settle()
        if "Replication appliance" in screen:
            break
        time.sleep(2)
    term.wait_text("Replication appliance", timeout=left())
    term.keys("Tab", "Tab", "Enter")  # the appliances, Back, Reprotect
    term.wait_text(f"Reprotect: {NAME}", timeout=left())
    term.wait_regex(r"Succeeded \(", "the reprotect to succeed", timeout=left(90))
    term.keys("Escape")
    term.wait_for(lambda s: "Protected" in row(s, NAME), f"{NAME} protected to Azure", timeout=left(60))
    screen = term.screen()
    assert "Traceback" not in screen and "portal" not in screen.lower()
