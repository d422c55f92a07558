"""The dashboard in a real terminal (tmux): the failback of one VM by keys, and the first screen on other terminals."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.terminal.tmux import Tmux, app_argv, app_env

pytestmark = [
    pytest.mark.terminal,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (apt-get install tmux)"),
]

# The whole failback, bounded: on a loaded two-core machine it takes well under a minute.
FLOW_BUDGET = 240.0
# Fast enough for the job to finish in seconds; slow enough that the reprotect is sent while the mobility agent
# is still inside its 15-minute registration window (15 simulated minutes are 15 real seconds here).
SPEED = "60"


@pytest.fixture
def make_terminal(tmp_path: Path) -> Iterator[Callable[[int, int], Tmux]]:
    """`make_terminal(width, height)`: a tmux pane of that size, killed (with its server) after the test."""
    made: list[Tmux] = []

    def make(width: int, height: int) -> Tmux:
        made.append(Tmux(tmp_path, width, height))
        return made[-1]

    try:
        yield make
    finally:
        for term in made:
            term.kill()


def row(screen: str, name: str) -> str:
    """The items-table line of `name` (the first line that starts with it)."""
    for line in screen.splitlines():
        if line.strip().startswith(name + " "):
            return line
    return ""


def colours_used(escaped: str) -> set[tuple[int, ...]]:
    """Every foreground and background colour the SGR sequences name: (n,) for 256-colour, (r, g, b) for true colour."""
    found: set[tuple[int, ...]] = set()
    for params in re.findall(r"\x1b\[([0-9;]*)m", escaped):
        codes = [int(p) for p in params.split(";") if p]
        i = 0
        while i < len(codes):
            if codes[i] in (38, 48) and i + 2 < len(codes) and codes[i + 1] == 5:
                found.add((codes[i + 2],))
                i += 3
            elif codes[i] in (38, 48) and i + 4 < len(codes) and codes[i + 1] == 2:
                found.add(tuple(codes[i + 2 : i + 5]))
                i += 5
            else:
                if 30 <= codes[i] <= 37 or 40 <= codes[i] <= 47 or 90 <= codes[i] <= 107:
                    found.add((-codes[i],))
                i += 1
    return found


def is_grey(colour: tuple[int, ...]) -> bool:
    if len(colour) == 3:
        return colour[0] == colour[1] == colour[2]
    n = colour[0]
    # The 256-colour greys: black, white and the grey ramp (no hue); basic SGR colours count as hues.
    return n in (0, 7, 8, 15, 16, 231) or 232 <= n <= 255


def assert_first_screen(term: Tmux) -> str:
    screen = term.wait_regex(r"^ *\d+ items · .*data read", "the item list to load").string
    assert "SIMULATION" in screen, screen
    assert re.search(r"^ *Name +Stage +Health", screen, re.MULTILINE), screen
    assert "Traceback" not in screen and "Error" not in screen.split("Name", 1)[0], screen
    return screen


def test_fail_back_one_vm_end_to_end_at_80x24(make_terminal: Callable[[int, int], Tmux], tmp_path: Path) -> None:
    term = make_terminal(80, 24)
    started = time.monotonic()
    term.start(app_argv("demo", "--speed", SPEED), app_env(tmp_path, TERM="xterm-256color"))

    def left(cap: float = 30.0) -> float:
        """A step's timeout: at most `cap` seconds, and never past the budget of the whole flow."""
        remaining = FLOW_BUDGET - (time.monotonic() - started)
        assert remaining > 0, "the failback took longer than its budget"
        return min(cap, remaining)

    assert_first_screen(term)

    # A VM of its own (no plan, no group): filter the list down to it.
    term.keys("/")
    term.wait_text("Filter: name", timeout=left())
    term.settle()
    term.type("dc-01")
    term.keys("Enter")
    screen = term.wait_for(lambda s: "showing 1" in s and "Ready" in row(s, "dc-01"), "dc-01 alone, ready")
    assert row(screen, "dc-01").split()[-1] == "—", "dc-01 should belong to no plan or group"

    # 1. The recovery point: latest app-consistent, which asks for the loss to be acknowledged.
    term.keys("f")
    term.wait_text("Recovery point for dc-01", timeout=left())
    term.settle()
    term.keys("Down", "Enter")
    term.wait_text("I accept losing", timeout=left())
    term.settle()
    term.keys("Tab", "Space")
    term.wait_regex(r"X\S* I accept losing", "the acknowledgement ticked", timeout=left())
    term.keys("Tab", "Tab", "Enter")

    # 2. The confirmation says what happens; focus starts on Back.
    screen = term.wait_text("Start failover", timeout=left())
    term.settle()
    assert "Latest app-consistent" in screen and "shuts the Azure VM down" in screen, screen
    term.keys("Tab", "Enter")

    # 3. The job, task by task, to its end.
    term.wait_text("Failover: dc-01", timeout=left())
    screen = term.wait_regex(r"Succeeded \(", "the failover job to succeed", timeout=left(90)).string
    assert "Shut down the virtual machine" in screen, screen
    term.keys("Escape")
    term.wait_for(lambda s: "Verify/commit" in row(s, "dc-01"), "dc-01 failed over", timeout=left())

    # 4. Verify: ASR says the Azure VM is off; the operator ticks the four checks.
    term.keys("v")
    term.wait_text("Azure VM is off", timeout=left())
    term.settle()
    term.keys("Space", "Tab", "Space", "Tab", "Space", "Tab", "Space")
    term.wait_for(lambda s: s.count("X▌") >= 4, "four checks ticked", timeout=left())

    # 5. Commit: the name typed, then the job to its end.
    term.keys("c")
    term.wait_text("Type dc-01 to commit", timeout=left())
    term.settle()
    # The box shows the name as its placeholder: a trailing "?" typed and then erased shows the keys landed.
    term.type("dc-01?")
    term.wait_text("dc-01?", timeout=left(10))
    term.keys("BSpace")
    term.wait_for(lambda s: "dc-01?" not in s, "the ? erased", timeout=left(10))
    term.keys("Enter", "Enter")
    term.wait_text("Commit: dc-01", timeout=left())
    term.wait_regex(r"Succeeded \(", "the commit job to succeed", timeout=left(60))
    term.keys("Escape")
    term.wait_for(lambda s: "Reprotect needed" in row(s, "dc-01"), "dc-01 committed", timeout=left())

    # 6. Reprotect through a healthy process server (listed first); the dialog warns about the other one.
    term.keys("r")
    term.wait_text("Process server", timeout=left())
    screen = term.settle()
    servers = [line.split() for line in screen.splitlines() if re.search(r"\bps-\S+ +\d+\.\d+", line)]
    assert len(servers) >= 2, screen
    healthy, troubled = servers[0], servers[1]
    assert "Normal" in healthy and "Normal" not in troubled, screen
    term.keys("Down")
    term.wait_text("Warning:", timeout=left())
    term.keys("Up")
    term.wait_for(lambda s: "Warning:" not in s, "no warning for the healthy server", timeout=left())
    term.keys("Tab", "Tab", "Tab", "Enter")
    term.wait_text("Reprotect: dc-01", timeout=left())

    # The agent has not registered yet: ASR's error explained, and the countdown to the next attempt with the key
    # that stops it; one "Retrying reprotect" notice, not one per attempt.
    screen = term.wait_for(
        lambda s: "x Stop retry" in s and re.search(r"^ Retrying automatically (in \d+ s|now)", s, re.MULTILINE),
        "the agent-registration retry countdown",
        timeout=left(60),
    )
    assert "95467" in screen and "up to 15 minutes" in screen, screen
    countdown = re.search(r"Retrying automatically in (\d+) s: reprotect attempt (\d+) of (\d+)", screen)
    if countdown is not None:
        assert 2 <= int(countdown.group(2)) <= int(countdown.group(3)) and int(countdown.group(1)) <= 60, screen

    # On its own, a later attempt goes through once the agent has registered.
    term.keys("Escape")
    term.wait_for(lambda s: "Protected" in row(s, "dc-01"), "dc-01 protected to Azure", timeout=left(120))
    term.wait_text("Protected to Azure", timeout=left())
    assert "Traceback" not in term.screen()


@pytest.mark.parametrize(
    ("size", "env"),
    [
        ((200, 50), {"TERM": "xterm-256color"}),
        ((80, 24), {"TERM": "linux"}),
        ((80, 24), {"TERM": "xterm-256color", "NO_COLOR": "1"}),
    ],
    ids=["200x50", "term-linux", "no-color"],
)
def test_first_screen_renders(
    make_terminal: Callable[[int, int], Tmux], tmp_path: Path, size: tuple[int, int], env: dict[str, str]
) -> None:
    term = make_terminal(*size)
    term.start(app_argv("demo"), app_env(tmp_path, **env))
    screen = assert_first_screen(term)
    lines = screen.splitlines()
    assert len(lines) <= size[1] and all(len(line) <= size[0] for line in lines)
    if env["TERM"] == "linux":
        # The console's fonts lack the stage glyphs: the ASCII ones are used.
        assert re.search(r"^ *\S+ +o Ready", screen, re.MULTILINE), screen
    if "NO_COLOR" in env:
        colours = colours_used(term.screen_with_attributes())
        assert colours and all(is_grey(c) for c in colours), sorted(colours)
    # Quitting leaves a clean exit, not a traceback.
    term.keys("C-q")
    status = term.wait_exit()
    assert "Traceback" not in term.screen() and status == 0, term.screen()
