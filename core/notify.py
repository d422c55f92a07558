"""Telling the operator outside the screen they look at: a job ended or waits for them, an agent window opened.

Three ways, each optional: the terminal bell; a desktop notification through the terminal's own escape (OSC 9,
shown by iTerm2, Windows Terminal, WezTerm, kitty, foot, ConEmu; OSC 777 by VTE terminals such as GNOME Terminal,
urxvt and foot); and a command the operator names (`--notify-command`), run with the event as one JSON object on
its standard input, through /bin/sh — enough to post to a chat webhook with curl while the tool holds no webhook.
An event carries names and states, never a token.

The escapes travel inside the terminal stream, so they pass SSH; inside tmux they are wrapped in tmux's passthrough
(tmux 3.3 and later shows them when `allow-passthrough` is on). Which escape a terminal shows cannot be asked over
SSH, so `auto` uses one only where the environment names a terminal known to show it (TERM_PROGRAM, LC_TERMINAL,
WT_SESSION, KITTY_WINDOW_ID, VTE_VERSION, TERM): unknown means off, and `--notify-desktop osc9|osc777` turns it on.
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from core.failback import agent_window
from core.model import Job, JobState, ProtectedItem
from core.plans import waiting_task
from core.sanitize import one_line

DESKTOP_CHOICES = ("auto", "osc9", "osc777", "off")
COMMAND_TIMEOUT = 20.0  # seconds a notify command may take before it is stopped
_TITLE = "avs-failback"


@dataclass(frozen=True)
class Event:
    """What happened, worded for a person and typed for a script."""

    kind: str  # job-succeeded | job-failed | job-cancelled | job-waiting | agent-window-open
    text: str  # "Failover of sql-01 succeeded"
    at: datetime
    job: str = ""
    item: str = ""
    vault: str = ""
    simulated: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "event": self.kind,
            "text": self.text,
            "at": self.at.isoformat().replace("+00:00", "Z"),
            "job": self.job,
            "item": self.item,
            "vault": self.vault,
            "simulated": self.simulated,
        }


def job_event(job: Job, at: datetime, *, item: str = "", vault: str = "", simulated: bool = False) -> Event | None:
    """The event a watched job's new state is worth, or None (still running, nothing asked of anyone)."""
    what = one_line(job.friendly_name or job.scenario_name or job.name)
    target = one_line(item or job.target_object_name)
    subject = f"{what}: {target}" if target and target.lower() not in what.lower() else what
    if job.state is JobState.SUCCEEDED:
        kind, text = "job-succeeded", f"{subject} succeeded"
    elif job.state is JobState.FAILED:
        kind, text = "job-failed", f"{subject} FAILED"
    elif job.state is JobState.CANCELLED:
        kind, text = "job-cancelled", f"{subject} was cancelled"
    elif waiting_task(job):
        kind, text = "job-waiting", f"{subject} waits for you: {one_line(waiting_task(job))}"
    else:
        return None
    return Event(kind, text, at, job=job.name, item=target, vault=vault, simulated=simulated)


def windows_opened(items: Iterable[ProtectedItem], before: datetime, now: datetime) -> list[ProtectedItem]:
    """The committed VMs whose agent-registration window ended between `before` and `now` (reprotect can go)."""
    from core.failback import derive_stage
    from core.model import Stage

    opened = []
    for item in items:
        if derive_stage(item) is not Stage.COMMITTED:
            continue
        then, nowish = agent_window(item, before), agent_window(item, now)
        if then is not None and nowish is not None and then[1] > 0 >= nowish[1]:
            opened.append(item)
    return opened


def window_event(item: ProtectedItem, at: datetime, *, vault: str = "", simulated: bool = False) -> Event:
    name = one_line(item.friendly_name or item.name)
    text = f"The agent window of {name} has passed: reprotect it now"
    return Event("agent-window-open", text, at, item=name, vault=vault, simulated=simulated)


def desktop_escape(env: Mapping[str, str]) -> str:
    """`osc9`, `osc777` or `off`: what `auto` picks for the terminal the environment names."""
    program = env.get("TERM_PROGRAM", "").lower()
    term = env.get("TERM", "").lower()
    if (
        program in ("iterm.app", "wezterm")
        or env.get("LC_TERMINAL", "").lower() == "iterm2"
        or env.get("WT_SESSION")
        or env.get("KITTY_WINDOW_ID")
        or env.get("ConEmuPID")
        or term.startswith("foot")
        or term == "xterm-kitty"
    ):
        return "osc9"
    if env.get("VTE_VERSION") or "rxvt" in term:
        return "osc777"
    return "off"


def escape_for(event: Event, mode: str, *, in_tmux: bool) -> str:
    """The bytes that ring and (per mode) notify: BEL, then the OSC sequence, wrapped for tmux when inside it."""
    # The text is inert (one_line) and may not end the sequence early: no ESC, BEL or ST inside.
    text = one_line(event.text, 200).replace(";", ",")
    if mode == "osc9":
        seq = f"\x1b]9;{_TITLE}: {text}\x07"
    elif mode == "osc777":
        seq = f"\x1b]777;notify;{_TITLE};{text}\x07"
    else:
        return "\a"
    if in_tmux:
        seq = "\x1bPtmux;" + seq.replace("\x1b", "\x1b\x1b") + "\x1b\\"
    return "\a" + seq


@dataclass
class Notifier:
    """Says each event once, by every way configured. Never raises: a notification that fails is said on `warn`."""

    write: Callable[[str], None] | None = None  # the terminal (None: no bell, no desktop escape)
    desktop: str = "off"  # osc9 | osc777 | off (resolved from auto by `for_terminal`)
    bell: bool = True
    command: str = ""
    in_tmux: bool = False
    warn: Callable[[str], None] | None = None
    sent: list[Event] = field(default_factory=list)
    _told: set[tuple[str, str, str]] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def for_terminal(
        cls,
        write: Callable[[str], None] | None,
        env: Mapping[str, str],
        *,
        desktop: str = "auto",
        command: str = "",
        bell: bool = True,
        warn: Callable[[str], None] | None = None,
    ) -> Notifier:
        mode = desktop_escape(env) if desktop == "auto" else desktop
        return cls(write, mode, bell, command, in_tmux=bool(env.get("TMUX")), warn=warn)

    def notify(self, event: Event) -> bool:
        """Say `event` (once: the same kind for the same job or item is said one time). True when it was new."""
        key = (event.kind, event.job, event.item)
        with self._lock:
            if key in self._told:
                return False
            self._told.add(key)
            self.sent.append(event)
        if self.write is not None and (self.bell or self.desktop != "off"):
            escape = escape_for(event, self.desktop, in_tmux=self.in_tmux)
            if not self.bell:
                escape = escape.removeprefix("\a")
            try:
                self.write(escape)
            except (OSError, ValueError):
                pass  # the terminal went away; the command below may still say it
        if self.command:
            threading.Thread(target=self._run, args=(event,), name="notify-command", daemon=True).start()
        return True

    def _run(self, event: Event) -> None:
        try:
            # Through the shell, as an editor or a git hook is run: the operator's own line, with its variables
            # (a webhook's URL kept in the environment, not on the command line) and its pipes.
            done = subprocess.run(
                ["/bin/sh", "-c", self.command],
                input=json.dumps(event.as_json()) + "\n",
                text=True,
                capture_output=True,
                timeout=COMMAND_TIMEOUT,
                check=False,
            )
        except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
            self._warn(f"The notify command could not run ({one_line(exc, 200)}): check --notify-command.")
            return
        if done.returncode != 0:
            self._warn(f"The notify command ended with exit code {done.returncode}: check --notify-command.")

    def _warn(self, text: str) -> None:
        if self.warn is not None:
            try:
                self.warn(text)
            except Exception:  # noqa: BLE001  the warning's own channel failed: nothing more to do
                return


def stream_writer(stream: IO[str]) -> Callable[[str], None] | None:
    """A writer for `stream` when it is a terminal (escapes mean nothing in a file or a pipe), else None."""
    isatty = getattr(stream, "isatty", None)
    if not (isatty and isatty()):
        return None

    def write(text: str) -> None:
        stream.write(text)
        stream.flush()

    return write


__all__ = [
    "DESKTOP_CHOICES",
    "Event",
    "Notifier",
    "desktop_escape",
    "escape_for",
    "job_event",
    "stream_writer",
    "window_event",
    "windows_opened",
]
