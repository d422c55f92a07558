"""A lesson in a real 80x24 terminal (tmux), on a console TERM and on xterm: every key the trainee needs is drawn."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.terminal.tmux import Tmux, app_argv, app_env

pytestmark = [
    pytest.mark.terminal,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (apt-get install tmux)"),
]

SHOWN = ("w Walkthrough", "n Speed", "5 +5 min", "d Debrief", "E Report", "f Fail back", "f1 Help", "^p palette")


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Tmux]:
    term = Tmux(tmp_path, 80, 24)
    try:
        yield term
    finally:
        term.kill()


@pytest.mark.parametrize("term_name", ["linux", "xterm-256color"])
def test_lesson_keys_drawn_at_80x24(terminal: Tmux, tmp_path: Path, term_name: str) -> None:
    terminal.start(app_argv("train", "--scenario", "train-single-vm"), app_env(tmp_path, TERM=term_name))
    screen = terminal.wait_regex(r"^ *\d+ items · .*data read", "the lesson's items").string
    screen = terminal.wait_for(lambda s: all(key in s for key in SHOWN), "the lesson line and the footer")
    lines = screen.rstrip("\n").splitlines()
    assert len(lines) <= 24 and all(len(line) <= 80 for line in lines), screen
    assert "Lesson" in lines[-2] and "f1 Help" in lines[-1], screen

    terminal.keys("F1")
    help_screen = terminal.wait_text("Training lesson")
    for key, description in (("w", "Walkthrough"), ("n", "Speed"), ("5", "+5 min"), ("d", "Debrief"), ("E", "Report")):
        assert re.search(rf"^ +{re.escape(key)} +{re.escape(description)} — ", help_screen, re.MULTILINE), help_screen
    terminal.keys("Escape")
    terminal.wait_text("E Report")
    terminal.keys("C-q")
    assert terminal.wait_exit() == 0
