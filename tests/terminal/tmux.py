"""A real terminal for the dashboard: a detached tmux session on a private socket, keys in, screen text out."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# Shown by the wrapper once the app has exited, so that a crash stays on screen to be read.
EXITED = "[avs-failback exited with status"


class Tmux:
    """One tmux server of our own (its own socket under the test's tmp dir), running one command in one pane."""

    def __init__(self, workdir: Path, width: int, height: int) -> None:
        self.workdir = workdir
        self.socket = workdir / "tmux.sock"
        self.width = width
        self.height = height
        self.started = False

    def _tmux(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        # -u: UTF-8 on the pane's side whatever the locale of the test runner; -f: no user tmux.conf.
        return subprocess.run(
            ["tmux", "-u", "-f", os.devnull, "-S", str(self.socket), *args],
            capture_output=True,
            text=True,
            check=check,
            timeout=10,
        )

    def start(self, argv: list[str], env: Mapping[str, str]) -> None:
        """Run `argv` in the pane with exactly `env` added on top of a minimal environment."""
        assignments = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        command = (
            f"cd {shlex.quote(str(REPO))} && env -i PATH={shlex.quote(os.environ.get('PATH', '/usr/bin:/bin'))} "
            f"HOME={shlex.quote(str(self.workdir))} LANG=C.UTF-8 {assignments} {shlex.join(argv)}; "
            f"echo '{EXITED}' $?; sleep 600"
        )
        self._tmux("new-session", "-d", "-s", "app", "-x", str(self.width), "-y", str(self.height), "sh", "-c", command)
        self.started = True
        # A detached session otherwise follows the size of whichever client attaches last; there is none.
        self._tmux("set-option", "-t", "app", "window-size", "manual", check=False)
        self._tmux("resize-window", "-t", "app", "-x", str(self.width), "-y", str(self.height), check=False)

    def record(self, path: Path) -> None:
        """From now on, every byte the pane's program writes is appended to `path`, raw, as the terminal gets it."""
        self._tmux("pipe-pane", "-o", "-t", "app", f"cat >> {shlex.quote(str(path))}")

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "app").stdout

    def screen_with_attributes(self) -> str:
        """The screen with its SGR escape sequences (colours, bold…), as tmux holds them."""
        return self._tmux("capture-pane", "-p", "-e", "-t", "app").stdout

    def keys(self, *keys: str) -> None:
        """tmux key names (Enter, Tab, Escape, Space, Down, Up, or a single character), one at a time."""
        for key in keys:
            self._tmux("send-keys", "-t", "app", key)
            # The app reads a burst as one paste on some terminals; a key at a time is what a person sends.
            time.sleep(0.05)

    def type(self, text: str) -> None:
        self._tmux("send-keys", "-t", "app", "-l", text)

    def wait_for(self, condition: Callable[[str], object], what: str, timeout: float = 20.0) -> str:
        """Poll the screen until `condition(screen)` is truthy; fail naming `what`, with the screen, at the deadline."""
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.screen()
            if EXITED in text and EXITED not in what:
                raise AssertionError(f"the app exited while waiting for {what}:\n{text}")
            if condition(text):
                return text
            time.sleep(0.1)
        raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}; the screen:\n{text}")

    def settle(self, quiet: float = 0.3, timeout: float = 5.0) -> str:
        """Wait until the screen has not changed for `quiet` seconds: a dialog just drawn has its focus set."""
        deadline = time.monotonic() + timeout
        text = self.screen()
        since = time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.05)
            now = self.screen()
            if now != text:
                text, since = now, time.monotonic()
            elif time.monotonic() - since >= quiet:
                break
        return text

    def wait_text(self, needle: str, timeout: float = 20.0) -> str:
        return self.wait_for(lambda s: needle in s, repr(needle), timeout)

    def wait_regex(self, pattern: str, what: str = "", timeout: float = 20.0) -> re.Match[str]:
        regex = re.compile(pattern, re.MULTILINE)
        text = self.wait_for(lambda s: regex.search(s), what or pattern, timeout)
        match = regex.search(text)
        assert match is not None
        return match

    def wait_exit(self, timeout: float = 15.0) -> int:
        """Wait for the app to end; its exit status, and the screen it left, for the caller to check."""
        match = self.wait_regex(re.escape(EXITED) + r" (\d+)", EXITED, timeout)
        return int(match.group(1))

    def kill(self) -> None:
        if self.started:
            self._tmux("kill-server", check=False)
            self.started = False


def app_argv(*args: str) -> list[str]:
    """The console entry (`avs-failback`) run by this interpreter, so that the venv's packages are used."""
    return [sys.executable, "-c", "import sys; from tui.main import main; sys.exit(main())", *args]


def app_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    dirs = {}
    for name, sub in (("XDG_STATE_HOME", "state"), ("XDG_CONFIG_HOME", "config"), ("XDG_CACHE_HOME", "cache")):
        path = tmp_path / sub
        path.mkdir(exist_ok=True)
        dirs[name] = str(path)
    return {**dirs, **extra}
