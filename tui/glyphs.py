"""Glyphs for stages and job states, with an ASCII fallback for consoles whose fonts lack them."""

from __future__ import annotations

import os
from collections.abc import Mapping

from core.model import Job, JobState, Stage
from core.terminal import wants_ascii

__all__ = ["AGENT_WAIT", "Glyphs", "wants_ansi_theme", "wants_ascii"]

# A reprotect refused inside the agent-registration window: failed, but as expected, and retried.
AGENT_WAIT = "Agent wait"


def wants_ansi_theme(env: Mapping[str, str] | None = None) -> bool:
    """16-colour consoles read best with the theme built on the terminal's own palette."""
    env = os.environ if env is None else env
    term = env.get("TERM", "")
    return term in ("linux", "vt100", "vt220") or env.get("COLORTERM", "") == "16"


class Glyphs:
    """Chooses between the Unicode glyph and its ASCII fallback once, for the whole app."""

    def __init__(self, ascii_only: bool) -> None:
        self.ascii_only = ascii_only

    def stage(self, stage: Stage) -> str:
        return stage.ascii_glyph if self.ascii_only else stage.glyph

    def job(self, state: JobState) -> str:
        return state.ascii_glyph if self.ascii_only else state.glyph

    @property
    def arrow(self) -> str:
        return "->" if self.ascii_only else "→"

    @property
    def expected(self) -> str:
        """A failure the tool expected and rides out (retrying): not the cross of one to act on."""
        return "~" if self.ascii_only else "↻"

    @property
    def check(self) -> str:
        return "[x]" if self.ascii_only else "☑"

    @property
    def uncheck(self) -> str:
        return "[ ]" if self.ascii_only else "☐"

    def stage_text(self, stage: Stage) -> str:
        short = stage.short.replace("→", "->") if self.ascii_only else stage.short
        return f"{self.stage(stage)} {short}"

    def job_text(self, state: JobState) -> str:
        return f"{self.job(state)} {state.word}"

    def job_state(self, job: Job) -> str:
        """A job's state for a table cell; an expected failure (the agent window) says so instead of "Failed"."""
        from core.failback import expected_failure

        if expected_failure(job):
            return f"{self.expected} {AGENT_WAIT}"
        return self.job_text(job.state)
