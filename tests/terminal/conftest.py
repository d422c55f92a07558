"""What the terminal tests share: a tmux pane of a given size on a private server, killed after the test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.terminal.tmux import Tmux


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
