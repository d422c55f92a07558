"""The raw bytes the dashboard writes to a real terminal (tmux) while it shows VMs whose names hold escape
sequences: the window title, the clipboard, the screen and the line order stay the dashboard's."""

from __future__ import annotations

import json
import shlex
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.emulator.scenario import SCENARIO_DIR
from tests.terminal.tmux import Tmux, app_argv, app_env

pytestmark = [
    pytest.mark.terminal,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (apt-get install tmux)"),
]

NAMES = {
    "title": "title\x1b]0;owned\x07-01",  # would set the window title
    "clipboard": "clip\x1b]52;c;cm0gLXJmIH4=\x07-02",  # would write the clipboard (OSC 52)
    "clear": "clear\x1b[2J\x1b[H-03",  # would clear the screen
    "c1": "csi\x9b31m-04",  # an 8-bit control sequence introducer
    "bidi": "bidi\u202e50-vm-05",  # would reverse the rest of the line
    "markup": "web-02[/]",
}


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Tmux]:
    term = Tmux(tmp_path, 120, 36)
    try:
        yield term
    finally:
        term.kill()


def test_the_dashboard_writes_no_escape_sequence_from_a_name(tmp_path: Path, terminal: Tmux) -> None:
    data = json.loads((SCENARIO_DIR / "small.json").read_text(encoding="utf-8"))
    data["items"] += [{"name": name, "stage": "ready", "rpo": 30} for name in NAMES.values()]
    scenario = tmp_path / "crafted.json"
    scenario.write_text(json.dumps(data), encoding="utf-8")
    raw = tmp_path / "pane.raw"
    # The app waits a moment, so that the recording is on before its first byte.
    command = f"sleep 1; exec {shlex.join(app_argv('demo', '--scenario', str(scenario)))}"
    terminal.start(["sh", "-c", command], app_env(tmp_path, TERM="xterm-256color"))
    terminal.record(raw)
    terminal.wait_text("clip\\x1b]52;c;cm0gLXJmIH4=")
    for key in ("Down", "Down", "Down", "Down", "Down", "Down", "f"):
        terminal.keys(key)
    terminal.wait_text("Recovery point for")
    terminal.keys("Escape")
    time.sleep(0.5)
    written = raw.read_bytes()
    assert written, "the recording caught the app's output"
    assert b"\x1b]0;owned" not in written and b"\x1b]52;c;cm0g" not in written
    assert b"\x1b[2J\x1b[H-03" not in written and "\x9b".encode() not in written and "\u202e".encode() not in written
    screen = terminal.screen()
    assert "title\\x1b]0;owned\\x07-01" in screen and "web-02[/]" in screen and "bidi\\u202e50-vm-05" in screen
    title = terminal._tmux("display-message", "-p", "-t", "app", "#{pane_title}").stdout
    assert "owned" not in title
    buffers = terminal._tmux("list-buffers", check=False).stdout
    assert "rm -rf" not in buffers and "cm0g" not in buffers
