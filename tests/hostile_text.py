"""Hypothesis strategies for text an attacker controls: VM names set in vCenter, ARM error text, files."""

from __future__ import annotations

import unicodedata

from hypothesis import strategies as st

# What a terminal acts on: C0 and C1 controls, DEL, and the invisible format characters that reorder or hide text.
DANGEROUS_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}
KEPT = {"\u200c", "\u200d"}  # zero-width (non-)joiners: scripts and emoji need them

CONTROLS = ["\x1b", "\x9b", "\x07", "\x08", "\n", "\r", "\t", "\x00", "\x7f", "\u202e", "\u2066", "\ufeff", "\u2028"]
SEQUENCES = ["\x1b]0;owned\x07", "\x1b]52;c;cHduZWQ=\x07", "\x1b[2J", "\x1b[31m", "\x9b1m", "\ud800"]
MARKUP = ["[b]", "[/]", "[/b]", "[@click=app.quit]", "[link=https://e]", "[PROD]", "\\[", "[red on blue]"]
MARKDOWN = ["# ", "## ", "- ", "1. ", "> ", "`", "```", "|", "<img src=x onerror=alert(1)>", "*", "_", "[a](b)"]
SHELL = ["'", '"', "$(id)", "`id`", "; rm -rf ~", "\u2019", "#"]


def hostile_text(max_size: int = 12) -> st.SearchStrategy[str]:
    pieces = st.one_of(
        st.characters(codec="utf-8"),
        st.characters(categories=["Cc", "Cf", "Zl", "Zp"]),
        st.sampled_from(CONTROLS + SEQUENCES + MARKUP + MARKDOWN + SHELL),
    )
    return st.lists(pieces, min_size=1, max_size=max_size).map("".join)


def inert(text: str) -> bool:
    """No character a terminal would act on (line breaks excepted: check those where a line is expected)."""
    return all(c in KEPT or c == "\n" or unicodedata.category(c) not in DANGEROUS_CATEGORIES for c in text)
