"""The command line's help teaches: every command listed by group, every option explained, examples that parse,
and all of it within 80 columns."""

from __future__ import annotations

import argparse
import io
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from cli.main import main
from cli.options import GROUPS
from cli.parser import build_parser

ROOT = Path(__file__).resolve().parents[2]


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _every_parser() -> dict[str, argparse.ArgumentParser]:
    found: dict[str, argparse.ArgumentParser] = {}
    for name, sub in _subparsers(build_parser()).items():
        found[name] = sub
        for inner, nested in _subparsers(sub).items():
            found[f"{name} {inner}"] = nested
    return found


COMMANDS = sorted(_every_parser())


def _help_of(argv: list[str]) -> str:
    """The help as the console script prints it (the dashboard's entry routes --help too)."""
    done = subprocess.run(
        [sys.executable, "-m", "tui.main", *argv], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "COLUMNS": "200"},  # a wide terminal: the help still keeps to 80
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return done.stdout


def test_the_program_help_lists_every_command_under_its_group_within_80_columns() -> None:
    text = _help_of(["--help"])
    assert max(len(line) for line in text.splitlines()) <= 80
    for group in GROUPS:
        assert f"\n{group}:\n" in text
    parser = build_parser()
    assert parser.commands is not None
    listed = {name for entries in parser.commands.groups.values() for name, _ in entries}
    # the commands of the old help and those it left out alike
    for name in ("items", "points", "failover", "commit", "cancel", "reprotect", "jobs", "job", "plans", "plan",
                 "plan-failover", "plan-commit", "plan-reprotect", "preflight", "report", "resume", "capture",
                 "fleet", "train", "demo", "serve", "emulator", "completion"):  # fmt: skip
        assert name in listed
        assert f"\n  {name} " in text
    assert set(_subparsers(parser)) <= listed
    for option in ("--vault-id", "-o FORMAT", "--query JMESPATH", "--only-show-errors", "--notify-command"):
        assert option in text
    assert "Examples:" in text and "Exit codes:" in text


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_help_explains_every_option_and_ends_with_examples(command: str) -> None:
    parser = _every_parser()[command]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            continue
        assert action.help and action.help != argparse.SUPPRESS, f"{command}: {action.dest} has no help"
    text = parser.format_help()
    too_wide = [line for line in text.splitlines() if len(line) > 80]
    assert too_wide == [], too_wide
    assert text.splitlines()[0].startswith(f"usage: avs-failback {command}")
    if command != "emulator serve":
        examples = [line.strip() for line in text.split("Examples:", 1)[1].splitlines() if line.startswith("  ")]
        commands = [line for line in examples if not line.startswith("#")]
        assert 2 <= len(commands) <= 3, f"{command}: {commands}"


def _example_commands() -> list[str]:
    out = []
    for command in COMMANDS:
        text = _every_parser()[command].epilog or ""
        out += [line.strip() for line in text.splitlines() if line.strip().startswith("avs-failback ")]
    return out


@pytest.mark.parametrize("example", _example_commands())
def test_every_example_in_the_help_parses(example: str) -> None:
    words = shlex.split(example)
    cut = next((n for n, w in enumerate(words) if w in (">", "|", "<")), len(words))  # a shell's redirection
    argv = words[1:cut]
    if argv[0] in ("demo", "serve"):
        return
    args = build_parser().parse_args(argv)
    assert callable(args.run)


@pytest.mark.parametrize("argv", [["demo", "--help"], ["serve", "--help"]])
def test_the_dashboard_and_serve_help_fit_80_columns_and_explain_every_option(argv: list[str]) -> None:
    text = _help_of(argv)
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "Examples:" in text
    # an option line without a help text would end at its metavar with nothing beside or below it
    lines = text.splitlines()
    for n, line in enumerate(lines):
        if line.startswith("  -") and len(line.split()) <= 2 and not line.rstrip().endswith("}"):
            assert n + 1 < len(lines) and lines[n + 1].startswith(" " * 10), f"no help for: {line}"


def test_no_command_prints_the_grouped_help_and_exits_2() -> None:
    out = io.StringIO()
    code = main([], stdout=out, stderr=io.StringIO())
    assert code == 2
    assert "Fail back one VM:" in out.getvalue()
