"""The fleet in a real terminal (tmux): `demo --fleet`, a vault opened over ARM and Esc back, at 80x24 and 200x50."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.terminal.tmux import Tmux, app_argv, app_env

pytestmark = [
    pytest.mark.terminal,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (apt-get install tmux)"),
]


@pytest.mark.parametrize(("width", "height", "term_name"), [(80, 24, "xterm-256color"), (200, 50, "linux")])
def test_open_a_vault_from_the_fleet_and_come_back(
    make_terminal: Callable[[int, int], Tmux], tmp_path: Path, width: int, height: int, term_name: str
) -> None:
    term = make_terminal(width, height)
    term.start(app_argv("demo", "--fleet"), app_env(tmp_path, TERM=term_name))
    screen = term.wait_regex(r"14 vaults · 233 items · read", "the fleet to be read", timeout=40).string
    assert "SIMULATION" in screen and "Resource Graph" in screen and "Traceback" not in screen, screen
    assert re.search(r"^ *Vault +Region +Ready", screen, re.MULTILINE), screen
    # The demo vault, by filter, then Enter: its own dashboard, over ARM.
    term.keys("/")
    term.wait_text("Filter: name", timeout=10)
    term.settle()
    term.type("failback-weu")
    term.wait_text("showing 1", timeout=10)
    term.keys("Enter")  # the filter stays; the keys go back to the table
    term.wait_for(lambda s: "Filter: name" not in s, "the filter box closed", timeout=10)
    term.settle()
    term.keys("Enter")
    screen = term.wait_regex(r"^ *36 items · .*data read", "the demo vault's items over ARM", timeout=40).string
    assert "Esc: fleet" in screen and "rsv-avs-failback-weu" in screen, screen
    term.keys("Escape")
    screen = term.wait_for(lambda s: "14 vaults · 233 items" in s and "Esc: fleet" not in s, "back on the fleet")
    assert "rsv-avs-failback-weu" in screen and "Esc: fleet" not in screen, screen
    # The items tab, filtered to one region's ready items.
    term.keys("Escape", "2")
    for _ in range(10):  # s walks the stages the fleet holds in the lifecycle's order (In Azure comes first)
        term.keys("s")
        term.settle()
        if "stage: Ready" in term.screen():
            break
    term.wait_regex(r"stage: Ready", "the stage filter", timeout=10)
    term.keys("q")
    assert term.wait_exit() == 0
