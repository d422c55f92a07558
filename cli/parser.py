"""The whole command line: every command group registered, and the top-level help grouped as an incident runs."""

from __future__ import annotations

import argparse
import sys
import textwrap
from typing import Any

from cli import (
    browse,
    completion,
    fleet,
    incident,
    jobs,
    operations,
    plan_reprotect,
    plans,
    preflight,
    reprotect,
    training,
)
from cli.options import GROUPS, WIDTH, Commands, Formatter, common_options, examples_text, output_options

SUMMARY = "Fail VMware VMs back from Azure to Azure VMware Solution with Azure Site Recovery."
EXIT_CODES = (
    "Exit codes: 0 done, 1 unexpected error (a bug: please report it), 2 usage, 3 operation failed, 4 not "
    "allowed now, 5 not found, 6 sign-in, 130 interrupted, 141 output closed (| head)."
)
TOP_EXAMPLES = (
    ("the dashboard on the simulated demo vault", "avs-failback demo"),
    ("the demo vault's items as a table", "avs-failback items --demo -o table"),
    ("names of the items ready to fail back", "avs-failback items --demo -o json --query \"[?stage=='ready'].name\""),
    ("completion for bash, in ~/.bashrc", 'eval "$(avs-failback completion bash)"'),
)


class TopParser(argparse.ArgumentParser):
    """The program's parser: its help lists the commands by group, each with its one-line summary."""

    commands: Commands | None = None

    def format_help(self) -> str:
        width = WIDTH
        lines = [
            "usage: avs-failback [COMMAND] [OPTIONS]",
            "",
            *textwrap.wrap(
                f"{SUMMARY} Without a command: the dashboard on the configured vault. "
                "`avs-failback COMMAND --help` shows a command's options and examples.",
                width,
                break_on_hyphens=False,
            ),
        ]
        groups = self.commands.groups if self.commands else {}
        name_width = max((len(n) for entries in groups.values() for n, _ in entries), default=10) + 2
        for group in GROUPS:
            entries = groups.get(group, [])
            if not entries:
                continue
            lines += ["", f"{group}:"]
            for name, summary in entries:
                wrapped = textwrap.wrap(summary, width - name_width - 2) or [""]
                lines.append(f"  {name:<{name_width}}{wrapped[0]}")
                lines += [" " * (name_width + 2) + more for more in wrapped[1:]]
        formatter = Formatter(self.prog)
        for section in self._action_groups:
            actions = [
                a
                for a in section._group_actions
                if not isinstance(a, argparse._SubParsersAction | argparse._HelpAction)
            ]
            if actions:
                formatter.start_section(f"Options for every command: {section.title}")
                formatter.add_arguments(actions)
                formatter.end_section()
        lines += ["", formatter.format_help().strip("\n")]
        lines += ["", examples_text(*TOP_EXAMPLES), "", *textwrap.wrap(EXIT_CODES, width)]
        return "\n".join(lines) + "\n"

    def print_help(self, file: Any = None) -> None:
        self._print_message(self.format_help(), file or sys.stdout)


def build_parser() -> TopParser:
    common, output = common_options(), output_options()
    parser = TopParser(prog="avs-failback", parents=[common, output], description=SUMMARY, formatter_class=Formatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=argparse.ArgumentParser)
    commands = Commands(sub, [common, output])
    browse.register(commands)
    fleet.register(commands, common_options(fleet=True))
    preflight.register(commands)
    operations.register(commands)
    reprotect.register(commands)
    plans.register(commands)
    plan_reprotect.register(commands)
    jobs.register(commands)
    incident.register(commands, common)
    training.register(commands)
    completion.register(commands)
    parser.commands = commands
    for name, command in sub.choices.items():
        command.usage = _usage(name, command)
    return parser


def _usage(name: str, parser: argparse.ArgumentParser) -> str:
    """A short usage line (argparse's own lists every shared option: 14 lines for `failover`)."""
    words = [f"avs-failback {name}"]
    for action in parser._actions:
        if action.option_strings:
            continue
        if isinstance(action, argparse._SubParsersAction):
            words.append("{" + ",".join(action.choices) + "} ...")
            continue
        metavar = str(action.metavar or action.dest)
        if isinstance(action.choices, dict | list | tuple) and action.metavar is None:
            metavar = "{" + ",".join(str(c) for c in action.choices) + "}"
        words.append(f"[{metavar}]" if action.nargs == "?" else metavar)
    if any(a.option_strings and not isinstance(a, argparse._HelpAction) for a in parser._actions):
        words.append("[OPTIONS]")
    return " ".join(words)
