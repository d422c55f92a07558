"""What every command is handed: its streams, the vault (built on first use), the journal, the operations."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from core.backend import Backend
from core.clock import Clock
from core.journal import Journal
from core.operations import Operations
from core.sanitize import block, one_line

WIDTH = 80

DETAILS_SHOWN = 10  # ASR error details printed with an error; --json and the journal keep them all


def write(stream: IO[str], text: str, end: str = "\n") -> None:
    """Write and flush; a character the stream's encoding lacks (a C locale) goes out as a backslash escape."""
    try:
        stream.write(text + end)
    except UnicodeEncodeError:
        encoding = getattr(stream, "encoding", None) or "ascii"
        stream.write((text + end).encode(encoding, "backslashreplace").decode(encoding))
    stream.flush()


@dataclass
class Io:
    stdin: IO[str]
    stdout: IO[str]
    stderr: IO[str]
    json: bool = False  # the command builds JSON (any -o but table, or a --query): its text output is not printed
    unicode: bool = True
    format: str = "table"
    query: Any = None  # a compiled JMESPath expression (--query)
    colour: bool = False  # SGR colours on standard output (a terminal, NO_COLOR unset)
    width: int = WIDTH  # the columns a table may take
    only_errors: bool = False  # --only-show-errors: notes and warnings are not printed

    # Every line leaves through one_line: whatever a name holds (an escape sequence, a line break), it reaches
    # the terminal as visible text, on the line it was meant for.
    def out(self, text: str = "") -> None:
        write(self.stdout, one_line(text))

    def out_painted(self, text: str) -> None:
        """A line whose only control sequences are our own SGR colours (its cells were made inert before)."""
        write(self.stdout, text)

    def err(self, text: str = "") -> None:
        write(self.stderr, one_line(text))

    def note(self, text: str) -> None:
        """A note or warning on standard error: what the tool waits for, a setting it noticed."""
        if not self.only_errors:
            self.err(f"note: {text}")

    def out_block(self, text: str) -> None:
        """Text whose line breaks are its own (a REST call, a report): each line made inert."""
        write(self.stdout, block(text))

    def emit_json(self, data: Any, rows: str | None = None) -> None:
        """The command's JSON, printed as -o and --query ask; `rows` names the list a listing's rows are in."""
        from cli.formats import render

        fmt = "json" if self.format == "table" and self.query is None else self.format
        lines = render(data, fmt, rows=rows, query=self.query, colour=self.colour, width=self.width)
        for line in lines:
            write(self.stdout, line)

    def is_terminal(self) -> bool:
        isatty = getattr(self.stdin, "isatty", None)
        return bool(isatty and isatty())

    def ask(self, question: str) -> str:
        self.err(question)
        write(self.stderr, "> ", end="")
        line = self.stdin.readline()
        return line.strip()


@dataclass
class Context:
    args: argparse.Namespace
    io: Io
    backend_factory: Callable[[], Backend]
    clock: Clock | None
    journal: Journal | None = None
    backend_given: bool = False
    env: Mapping[str, str] | None = None
    config_path: Path | None = None
    _backend: Backend | None = field(default=None)
    notifier: Any = None
    _operations: Operations | None = field(default=None)

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            self._backend = self.backend_factory()
            if not self.backend_given and hasattr(self._backend, "on_notice"):
                # a throttled or slow vault says what the tool is waiting for, instead of going quiet
                self._backend.on_notice = self.io.note
        return self._backend

    def the_journal(self) -> Journal | None:
        """The session journal. None for the in-process demo vault, nor for a backend handed to main() (tests,
        the TUI): those hand in their own journal when they want one, so the user's journal stays theirs."""
        if self.journal is None and not getattr(self.args, "demo", False) and not self.backend_given:
            who = getattr(self.backend, "signed_in_as", None)
            self.journal = Journal(
                clock=self.clock or getattr(self.backend, "clock", None),
                vault=self.backend.vault,
                who=who() if callable(who) else "",
            )
        return self.journal

    def operations(self) -> Operations:
        """The one Operations of this run: every mutating command sends through it (journaled when there is a
        journal), so a target already busy is attached to, and nothing is sent twice."""
        if self._operations is None:
            clock = self.clock or getattr(self.backend, "clock", None)
            self._operations = Operations(self.backend, self.the_journal(), clock=clock)
        return self._operations

    def note(self, text: str, **fields: Any) -> None:
        """A note in the journal, when this run keeps one."""
        journal = self.the_journal()
        if journal is not None:
            journal.note(text, vault=self.backend.vault, **fields)
