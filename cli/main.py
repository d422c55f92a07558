"""The entry of the command line: parse, run one command, and turn every failure into a code and clear words."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from cli.context import WIDTH, Context, Io
from cli.options import stream_is_unicode
from cli.output import print_error
from cli.parser import build_parser
from core.backend import Backend
from core.boundary import debugging, failure
from core.clock import Clock
from core.errors import FailbackError, UsageError
from core.journal import Journal
from core.sanitize import message, one_line
from core.terminal import ASCII_TERMS, ascii_asked


def main(
    argv: list[str] | None = None,
    *,
    backend: Backend | None = None,
    clock: Clock | None = None,
    env: Mapping[str, str] | None = None,
    config_path: Path | None = None,
    stdin: IO[str] | None = None,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
    journal: Journal | None = None,
) -> int:
    """Run one command; returns the exit code. `backend`/`clock` let tests and the TUI reuse a vault."""
    if argv and argv[0] == "__complete":  # TAB in a shell: answered from the parser and the local cache only
        from cli.completion import complete

        return complete(argv[1:], stdout)
    out = stdout or sys.stdout
    io = Io(stdin or sys.stdin, out, stderr or sys.stderr, unicode=stream_is_unicode(out))
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed the usage
        return 0 if exc.code in (0, None) else UsageError.exit_code
    run = getattr(args, "run", None)
    if run is None:
        parser.print_help(io.stdout)
        return UsageError.exit_code

    def factory() -> Backend:
        if backend is not None:
            return backend
        from core.bootstrap import build_backend
        from core.config import resolve_settings

        settings = resolve_settings(args, env=env, config_path=config_path)
        for notice in settings.notices:
            io.note(notice)
        built: Backend = build_backend(settings, clock=clock)
        return built

    ctx = Context(
        args=args,
        io=io,
        backend_factory=factory,
        clock=clock,
        journal=journal,
        backend_given=backend is not None,
        env=env,
        config_path=config_path,
    )
    try:
        configure_output(io, args, os.environ if env is None else env)
        code: int = run(ctx)
        io.stdout.flush()  # here, not at exit: a reader gone away (`| head`) is answered below
        return code
    except BrokenPipeError:
        _stop_writing(io.stdout)
        return 141  # as a process killed by SIGPIPE: the reader of the output stopped reading
    except KeyboardInterrupt:
        io.err("Interrupted. Anything already sent keeps running in ASR: see `avs-failback jobs`.")
        return 130
    except Exception as exc:  # the boundary: every failure leaves as a documented code and clear words
        error = failure(exc)
        if debugging() and not isinstance(exc, FailbackError):
            for line in traceback.format_exception(exc):
                io.err(line.rstrip("\n"))
        print_error(io, error)
        _keep_whole(ctx, error)
        return error.exit_code


def configure_output(io: Io, args: argparse.Namespace, env: Mapping[str, str]) -> None:
    """-o, --json, --query and --only-show-errors; colour and width from the terminal (NO_COLOR respected)."""
    fmt = getattr(args, "output_format", None) or ("json" if getattr(args, "json", False) else "table")
    query = getattr(args, "query", None)
    if query is not None:
        from cli.formats import compile_query

        io.query = compile_query(query)
    io.format = fmt
    io.json = fmt != "table" or io.query is not None
    io.only_errors = bool(getattr(args, "only_show_errors", False))
    isatty = getattr(io.stdout, "isatty", None)
    terminal = bool(isatty and isatty())
    io.colour = terminal and fmt in ("table", "jsonc") and not env.get("NO_COLOR") and env.get("TERM", "") != "dumb"
    if terminal:
        io.width = max(40, shutil.get_terminal_size((WIDTH, 24)).columns)
    # The Linux console's font lacks ● ◆ ◇ ✓ ✗: the dashboard's rule; piped output keeps its glyphs unless asked.
    if ascii_asked(env) or (terminal and env.get("TERM", "") in ASCII_TERMS):
        io.unicode = False


def _keep_whole(ctx: Context, error: FailbackError) -> None:
    """An error too long for the screen (ARM's text can be megabytes) goes whole into this run's journal."""
    if message(error.message) == one_line(error.message) or ctx.journal is None:
        return
    try:
        ctx.journal.note(f"Error, in full: {error.message}", error_type=type(error).__name__)
    except (OSError, ValueError):
        return  # the journal refuses or cannot take it: the screen already said what matters
    ctx.io.err("  (the whole message is in the journal: `avs-failback report`)")


def _stop_writing(stream: IO[str]) -> None:
    """The reader of `stream` went away: point it at /dev/null, so that Python's flush at exit finds nothing to say."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)
