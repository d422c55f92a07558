"""The options every command shares, the help formatter, and how a command is registered with its examples."""

from __future__ import annotations

import argparse
import shutil
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from cli.formats import FORMAT_HELP, FORMATS
from core import numbers

WIDTH = 80  # every help screen fits 80 columns: the on-call laptop's split terminal, a serial console

# The groups of `avs-failback --help`, in the order an incident meets them.
GROUPS = (
    "Browse",
    "Fail back one VM",
    "Recovery plans",
    "Jobs",
    "After an incident",
    "Training, emulator and shell",
)


class Formatter(argparse.HelpFormatter):
    """argparse's help at 80 columns; paragraphs are filled, indented lines (examples) are kept as written."""

    def __init__(self, prog: str) -> None:
        width = min(WIDTH, max(40, shutil.get_terminal_size((WIDTH, 24)).columns))
        super().__init__(prog, width=width, max_help_position=26)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        out = []
        for para in text.split("\n\n"):
            if any(line.startswith(" ") for line in para.splitlines()):
                out.append("\n".join(indent + line for line in para.splitlines()))
            else:
                out.append(
                    textwrap.fill(" ".join(para.split()), width, initial_indent=indent, subsequent_indent=indent)
                )
        return "\n\n".join(out)


def examples_text(*pairs: tuple[str, str]) -> str:
    """An epilog of examples: what it does, then the command, as az's help shows them."""
    lines = ["Examples:"]
    for what, command in pairs:
        lines.append(f"  # {what}")
        lines.append(f"  {command}")
    return "\n".join(lines)


@dataclass
class Commands:
    """The subcommands, and which help group each belongs to (for the top-level help and completion)."""

    sub: Any
    parents: list[argparse.ArgumentParser]
    groups: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    def add(
        self,
        name: str,
        group: str,
        summary: str,
        *,
        description: str = "",
        examples: Sequence[tuple[str, str]] = (),
        parents: Sequence[argparse.ArgumentParser] | None = None,
    ) -> argparse.ArgumentParser:
        self.groups.setdefault(group, []).append((name, summary))
        return self.sub.add_parser(  # type: ignore[no-any-return]
            name,
            parents=list(self.parents if parents is None else parents),
            help=summary,
            description=description or (summary[0].upper() + summary[1:] + "."),
            epilog=examples_text(*examples) if examples else None,
            formatter_class=Formatter,
        )

    def listed(self, name: str, group: str, summary: str) -> None:
        """A command the dashboard's entry runs (demo, serve): in the help and completion, not parsed here."""
        self.groups.setdefault(group, []).append((name, summary))


def item_argument(p: argparse.ArgumentParser) -> None:
    """The VM a command acts on (completion offers the names of the last `items` listing)."""
    p.add_argument("item", metavar="ITEM", help="friendly name, item name or ARM id")


def plan_argument(p: argparse.ArgumentParser) -> None:
    """The recovery plan a command acts on (completion offers the names of the last `plans` listing)."""
    p.add_argument("plan", metavar="PLAN", help="friendly name, name or ARM id of the plan")


def output_options() -> argparse.ArgumentParser:
    """How the answer is printed, as az prints it (accepted before or after the command)."""
    parent = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    out = parent.add_argument_group("output")
    out.add_argument("-o", "--output", dest="output_format", choices=FORMATS, metavar="FORMAT", help=FORMAT_HELP)
    out.add_argument("--json", action="store_true", help="the same as -o json (stable keys, UTC times)")
    out.add_argument(
        "--query", metavar="JMESPATH", help="a JMESPath query on the result before printing (a listing: its rows)"
    )
    out.add_argument("--only-show-errors", action="store_true", help="print errors only: no notes or warnings")
    return parent


def add_vault_options(group: Any, *, subscription: dict[str, Any]) -> None:
    """Which vault, and how to sign in to it: the dashboard's entry and every command take these alike."""
    group.add_argument("--vault-id", metavar="ARM_ID", help="the Recovery Services vault's resource id")
    group.add_argument("--subscription", metavar="ID", **subscription)
    group.add_argument("--resource-group", metavar="NAME", help="resource group of the vault")
    group.add_argument("--vault", metavar="NAME", help="vault name")
    group.add_argument("--profile", metavar="NAME", help="a [profiles.NAME] table of the config file")
    group.add_argument("--device-code", action="store_true", help="sign in with a device code (SSH sessions)")
    group.add_argument("--tenant", metavar="ID", help="Microsoft Entra tenant to sign in to")
    group.add_argument("--arm-endpoint", metavar="URL", help="ARM endpoint (sovereign cloud, emulator)")
    group.add_argument("--ca-bundle", metavar="PEM", help="CA bundle to trust for the ARM endpoint")
    group.add_argument("--read-only", action="store_true", help="refuse every change to the vault")
    group.add_argument(
        "--rehearse",
        action="store_true",
        help="read the vault live, send nothing that changes it: show and journal each request instead",
    )


def add_notify_options(group: Any) -> None:
    """Being told when a followed job ends, outside the text on screen."""
    group.add_argument("--notify-command", metavar="CMD", help="run CMD with each event as JSON on its standard input")
    group.add_argument(
        "--notify-desktop",
        choices=("auto", "osc9", "osc777", "off"),
        help="a desktop notification through the terminal (auto: only where the terminal is known to show it)",
    )
    group.add_argument("--no-bell", action="store_true", help="do not ring the terminal bell")


def common_options(fleet: bool = False) -> argparse.ArgumentParser:
    """Options accepted before or after the command (defaults suppressed so a later copy does not reset them).

    `fleet`: the fleet's --subscription names the subscriptions to read (repeatable), not a vault's."""
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    vault = common.add_argument_group("vault and sign-in")
    if fleet:
        subscription: dict[str, Any] = {"action": "append", "help": "a subscription to read (repeat for several)"}
    else:
        subscription = {"help": "subscription of the vault (with --resource-group, --vault)"}
    add_vault_options(vault, subscription=subscription)
    vault.add_argument("--auth", choices=("default", "device-code", "cli", "token"), help="how to sign in")
    vault.add_argument("--demo", action="store_true", help="use the built-in simulated vault (no Azure)")
    vault.add_argument("--scenario", metavar="NAME", help="emulator scenario (with --demo or emulator serve)")
    vault.add_argument("--speed", type=numbers.speed, metavar="X", help="simulated seconds per real second (demo)")
    vault.add_argument(
        "--fleet", metavar="NAME", help="with --demo: the emulated fleet NAME (and --vault-id: one vault)"
    )
    add_notify_options(common.add_argument_group("being told when a job ends (--wait, --watch)"))
    return common


def stream_is_unicode(stream: IO[str]) -> bool:
    encoding = (getattr(stream, "encoding", None) or "utf-8").lower()
    return "utf" in encoding
