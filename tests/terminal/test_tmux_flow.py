"""The dashboard in a real terminal (tmux): the failback of one VM by keys, and the first screen on other terminals."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable
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


def budget(started: float, what: str) -> Callable[..., float]:
    """`left(cap)`: a step's timeout, at most `cap` seconds and never past FLOW_BUDGET since `started`."""

    def left(cap: float = 30.0) -> float:
        remaining = FLOW_BUDGET - (time.monotonic() - started)
        assert remaining > 0, f"{what} took longer than its budget"
        return min(cap, remaining)

    return left


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


def choose_app_consistent(term: Tmux, left: Callable[..., float], *, already: bool = False) -> None:
    """In the point dialog: latest app-consistent (Down, unless already chosen), its loss ticked, Continue."""
    if not already:
        term.keys("Down")
    term.wait_text("I accept losing", timeout=left())
    term.settle()
    term.keys("Tab", "Space")
    term.wait_regex(r"X\S* I accept losing", "the acknowledgement ticked", timeout=left())
    term.keys("Tab", "Tab", "Enter")


def assert_first_screen(term: Tmux) -> str:
    screen = term.wait_regex(r"^ *\d+ items · .*data read", "the item list to load").string
    assert "SIMULATION" in screen, screen
    assert re.search(r"^ *Name +Stage +Health", screen, re.MULTILINE), screen
    assert "Traceback" not in screen and "Error" not in screen.split("Name", 1)[0], screen
    return screen


def test_fail_back_one_vm_end_to_end_at_80x24(make_terminal: Callable[[int, int], Tmux], tmp_path: Path) -> None:
    term = make_terminal(80, 24)
    left = budget(time.monotonic(), "the failback")
    term.start(app_argv("demo", "--speed", SPEED), app_env(tmp_path, TERM="xterm-256color"))

    assert_first_screen(term)

    # A VM of its own (no plan, no group), found by name: `:` jumps to it, → completing the name.
    term.keys(":")
    term.wait_text(":vm NAME", timeout=left())
    term.settle()
    term.type("vm dc-0")
    term.wait_text("vm dc-01", timeout=left(10))
    term.keys("Right", "Enter")
    screen = term.wait_for(lambda s: ":vm NAME" not in s and "Ready" in row(s, "dc-01"), "dc-01 selected")
    assert row(screen, "dc-01").split()[-1] == "—", "dc-01 should belong to no plan or group"
    # j and k move the cursor, as in any list; k, j comes back to dc-01.
    term.keys("k", "j")
    term.settle()

    # 1. The recovery point: latest app-consistent (the arrow chooses it), which asks for the loss to be acknowledged.
    term.keys("f")
    term.wait_text("Recovery point for dc-01", timeout=left())
    term.settle()
    choose_app_consistent(term, left)

    # 2. The confirmation says what happens; focus starts on Back. On a sped-up clock the loss may grow while it is
    # read: then nothing is sent and the point dialog asks again.
    for _ in range(3):
        screen = term.wait_text("Start failover", timeout=left())
        term.settle()
        assert "Latest app-consistent" in screen and "shuts the Azure VM down" in screen, screen
        term.keys("Right", "Enter")
        screen = term.wait_for(lambda s: "Failover: dc-01" in s or "Choose again" in s, "the job or the question")
        if "Failover: dc-01" in screen:
            break
        choose_app_consistent(term, left, already=True)

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
        lambda s: "x Stop retry" in s and re.search(r"^ Retry (in \d+ s|now) \(attempt", s, re.MULTILINE),
        "the agent-registration retry countdown",
        timeout=left(60),
    )
    assert "95467" in screen and "up to 15 minutes" in " ".join(screen.split()), screen
    assert "as expected" in screen, "an expected failure reads as one"
    countdown = re.search(r"Retry in (\d+) s \(attempt (\d+) of (\d+)\)", screen)
    if countdown is not None:
        assert 2 <= int(countdown.group(2)) <= int(countdown.group(3)) and int(countdown.group(1)) <= 60, screen

    # On its own, a later attempt goes through once the agent has registered.
    term.keys("Escape")
    term.wait_for(lambda s: "Protected" in row(s, "dc-01"), "dc-01 protected to Azure", timeout=left(120))
    term.keys("i")  # at 80x24 the detail comes on demand
    term.wait_text("Protected to Azure", timeout=left())
    assert "Traceback" not in term.screen()

    # ? lists every key, J opens the job history; Esc comes back each time.
    term.keys("?")
    term.wait_text("Every list", timeout=left())
    term.keys("Escape")
    # A key sent right after Esc would reach the app as alt+key: wait for the help to close first.
    term.wait_for(lambda s: "Every list" not in s, "the help closed", timeout=left())
    term.keys("J")
    term.wait_text("Jobs · state: any", timeout=left())
    term.keys("Escape")
    term.wait_for(lambda s: "Protected" in row(s, "dc-01"), "back on the dashboard", timeout=left())


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


def test_fail_back_a_plan_end_to_end_at_80x24(make_terminal: Callable[[int, int], Tmux], tmp_path: Path) -> None:
    term = make_terminal(80, 24)
    left = budget(time.monotonic(), "the plan failback")
    term.start(app_argv("demo", "--speed", SPEED), app_env(tmp_path, TERM="xterm-256color"))

    assert_first_screen(term)
    # The plans, and the last classic one (G, then k): Billing, two VMs in one boot group.
    term.keys("p")
    term.wait_regex(r"4 plans · data read", "the plans", timeout=left())
    term.settle()
    term.keys("G")
    term.wait_text("(rp-edge)", timeout=left())
    term.keys("k")
    term.wait_text("Billing  (rp-billing)", timeout=left())

    # 1. Preflight, shown before the point; nothing blocks, Continue has the focus (and stays in view under the text).
    term.keys("f")
    term.wait_text("Billing: ready to fail back", timeout=left())
    term.settle()
    term.keys("Enter")
    # 2. The point: the group rule in words, Latest (chosen), its worst case VM by VM.
    screen = term.wait_text("Recovery point for the plan Billing", timeout=left())
    term.settle()
    assert "at most about" in " ".join(term.screen().split()), screen
    term.keys("Tab", "Tab", "Enter")
    # 3. The confirmation restates the loss; Back has the focus, the arrow moves to Start.
    screen = term.wait_text("Fail back the plan Billing?", timeout=left())
    term.settle()
    assert "Writes given up:" in " ".join(screen.split()), screen
    term.keys("Right", "Enter")
    term.wait_text("Failover:", timeout=left())
    term.wait_regex(r"Succeeded \(", "the plan failover to succeed", timeout=left(90))
    term.keys("Escape")

    # 4. Verify each VM from the plan's own checklist, then commit from there.
    term.wait_for(lambda s: "v Verify" in s, "the plan failed over", timeout=left(60))
    term.keys("v")
    term.wait_text("Verify the plan Billing before committing it", timeout=left())
    for vm in range(2):
        term.settle()
        if vm:
            term.keys("j")
            term.settle()
        term.keys("Enter")
        term.wait_text("before committing", timeout=left())
        term.wait_text("Azure VM is off", timeout=left())
        term.settle()
        term.keys("Space", "Tab", "Space", "Tab", "Space", "Tab", "Space")
        term.wait_for(lambda s: s.count("X▌") >= 4, "four checks ticked", timeout=left())
        term.keys("Escape")
        term.wait_text(f"{vm + 1} of 2 VMs fully checked", timeout=left())
    term.settle()
    term.keys("c")
    term.wait_text("Type rp-billing to commit", timeout=left())
    term.settle()
    term.type("rp-billing")
    term.wait_text("rp-billing", timeout=left(10))
    term.keys("Enter", "Enter")
    term.wait_text("Commit", timeout=left())
    term.wait_regex(r"Succeeded \(", "the plan commit to succeed", timeout=left(90))
    term.keys("Escape")

    # 5. Reprotect the plan through one process server; the agent window is ridden out on the screen itself.
    term.wait_for(lambda s: "Next: Reprotect the plan" in " ".join(s.split()), "the plan committed", timeout=left(60))
    term.keys("r")
    term.wait_text("Reprotect the plan Billing from AVS to Azure", timeout=left())
    screen = term.settle()
    assert "booted in AVS" in " ".join(screen.split()), screen
    term.keys("Tab", "Tab", "Tab", "Enter")
    term.wait_text("Reprotect of the plan Billing", timeout=left())
    term.wait_for(
        lambda s: "Billing AVS → Azure: done" in s and s.count("Protected to Azure") >= 2,
        "both VMs protected to Azure",
        timeout=left(150),
    )
    assert "Traceback" not in term.screen()


def test_quitting_while_a_job_runs_asks_and_says_what_still_runs(
    make_terminal: Callable[[int, int], Tmux], tmp_path: Path
) -> None:
    term = make_terminal(80, 24)
    term.start(app_argv("demo", "--speed", "1"), app_env(tmp_path, TERM="xterm-256color"))
    assert_first_screen(term)
    term.keys(":")
    term.wait_text(":vm NAME")
    term.type("vm dc-01")
    term.keys("Enter")
    term.wait_for(lambda s: ":vm NAME" not in s, "the command line closed")
    term.settle()
    term.keys("f")
    term.wait_text("Recovery point for dc-01")
    term.settle()
    term.keys("Tab", "Tab", "Enter")  # Latest, Continue
    term.wait_text("Start failover")
    term.settle()
    term.keys("Right", "Enter")
    term.wait_text("Failover: dc-01")
    term.settle()
    term.keys("Escape")
    term.wait_for(lambda s: "Failover" in row(s, "dc-01") or "Failing over" in row(s, "dc-01") or "q" in s, "back")
    term.settle()
    term.keys("q")
    screen = term.wait_text("Quit while work is still running?")
    assert "Failover: dc-01" in screen and "Stay" in screen, screen
    term.settle()
    term.keys("Right", "Enter")
    status = term.wait_exit()
    screen = term.screen()
    assert status == 0 and "1 job of the simulated vault was still running" in screen, screen
