"""The walkthrough pane: the lesson's current step, the hint for the next key, and the reactions to the trainee."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from core.training import Reaction, Walkthrough
from tui.text import clean, lines
from tui.widgets.pane import Pane

# How many reactions stay in view: the newest matter, the rest are in the debrief.
SHOWN_REACTIONS = 4

_STEP_MARKS = {
    # status: (glyph, ascii, word)
    "done": ("✓", "[x]", "done"),
    "current": ("▶", ">", "now"),
    "skipped": ("–", "-", "skipped"),
    "not done": ("✗", "!", "missed"),
    "pending": ("·", ".", "to do"),
}
_REACTION_MARKS = {
    "praise": ("✓", "+", "Well done"),
    "explain": ("ℹ", "i", "Why"),
    "warn": ("⚠", "!", "Careful"),
}


def step_lines(walk: Walkthrough, ascii_only: bool = False) -> Text:
    """Every step with a glyph and a word: what is done, what is now, what was skipped or missed."""
    text = Text()
    current = walk.current().key if not walk.finished else ""
    for number, step in enumerate(walk.steps, 1):
        status = walk.status(step.key)
        if step.key == current:
            status = "current"
        glyph, plain, word = _STEP_MARKS.get(status, _STEP_MARKS["pending"])
        mark = plain if ascii_only else glyph
        line = Text(f"{mark} {number}. {step.title} ({word})\n")
        if status == "current":
            line.stylize("bold")
        elif status in ("skipped", "done"):
            line.stylize("dim")
        text.append_text(line)
    text.rstrip()
    return text


def reaction_text(reaction: Reaction, ascii_only: bool = False) -> Text:
    glyph, plain, word = _REACTION_MARKS.get(reaction.kind, _REACTION_MARKS["explain"])
    text = Text()
    # A reaction names the trainee's items, and a lesson file may carry its own words: content, made inert.
    text.append(f"{plain if ascii_only else glyph} {word}: {clean(reaction.title)}\n", style="bold")
    text.append_text(lines(reaction.text))
    return text


class WalkthroughPane(Pane):
    """Docked beside the dashboard on wide terminals; hidden by default on small ones (a key shows it)."""

    DEFAULT_CLASSES = "walkthrough"

    def compose(self) -> ComposeResult:
        yield Static("Walkthrough", classes="pane-title", id="wt-title")
        yield Static("", id="wt-hint", classes="wt-block")
        yield Static("", id="wt-reactions", classes="wt-block")
        yield Static("", id="wt-step", classes="wt-block")
        yield Static("", id="wt-steps", classes="wt-block")
        yield Static("", id="wt-time", classes="wt-block")

    def show(self, walk: Walkthrough, *, ascii_only: bool = False) -> None:
        """Everything but the clock line: called when the trainee does something, not on every tick."""
        if not self.is_mounted:
            return
        step = walk.current()
        number = [s.key for s in walk.steps].index(step.key) + 1
        done = "Lesson complete" if walk.finished else f"Step {number} of {len(walk.steps)}: {step.title}"
        self.query_one("#wt-title", Static).update(f"Walkthrough · {done}")

        hint = Text()
        hint.append("Next: ", style="bold")
        hint.append(clean(walk.hint()))
        self.query_one("#wt-hint", Static).update(hint)

        recent = list(reversed(walk.reactions[-SHOWN_REACTIONS:]))
        reactions = Text()
        for index, reaction in enumerate(recent):
            if index:
                reactions.append("\n\n")
            reactions.append_text(reaction_text(reaction, ascii_only))
        widget = self.query_one("#wt-reactions", Static)
        widget.update(reactions)
        widget.display = bool(recent)

        detail = Text()
        for label, body in (
            ("What", step.what),
            ("Why", step.why),
            ("Check", step.check),
            ("What can go wrong", step.can_go_wrong),
        ):
            detail.append(f"{label}: ", style="bold")
            detail.append(clean(body) + "\n")
        detail.rstrip()
        self.query_one("#wt-step", Static).update(detail)
        self.query_one("#wt-steps", Static).update(step_lines(walk, ascii_only))

    def show_time(self, now: datetime | None, speed_label: str, keys: Any = None) -> None:
        """The simulated clock and its speed: one line, repainted without a new layout."""
        if not self.is_mounted:
            return
        at = now.strftime("%H:%M:%S UTC") if now is not None else "—"
        speed = "paused" if speed_label == "paused" else f"running at {speed_label}"
        keys = keys or {}
        line = f"Simulated time {at}, {speed} ({keys.get('speed', 'n')}: speed, {keys.get('skip', '5')}: +5 min)"
        self.query_one("#wt-time", Static).update(line, layout=False)
