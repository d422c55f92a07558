"""Shell completion for bash, zsh and fish: commands, options, their values, and names from the last listing.

`avs-failback completion SHELL` prints a small script; on TAB it runs `avs-failback __complete SHELL WORD…`,
which answers from the parser and the local cache of names (`cli.cache`) — never from the network.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING

from cli.cache import cache_file, names
from core.model import JobState, Stage

if TYPE_CHECKING:
    from cli.context import Context
    from cli.options import Commands
    from cli.parser import TopParser

SHELLS = ("bash", "zsh", "fish")
FILES = ":files"  # the script completes a path here: the shell knows the file system better than we do
# The dashboard's own commands are parsed by its entry (tui/main.py, tui/serve.py); a test keeps these in step.
DASHBOARD_OPTIONS = (
    "--vault-id", "--subscription", "--resource-group", "--vault", "--profile", "--device-code", "--tenant",
    "--arm-endpoint", "--ca-bundle", "--read-only", "--rehearse", "--demo", "--scenario", "--speed", "--ascii",
    "--notify-command", "--notify-desktop", "--no-bell", "--fleet", "--help",
)  # fmt: skip
SERVE_OPTIONS = (
    "--port", "--host", "--scenario", "--train", "--lesson", "--speed", "--max-sessions", "--allow-real-vault",
    "--help",
)  # fmt: skip

BASH = r"""# avs-failback completion for bash: eval "$(avs-failback completion bash)" in ~/.bashrc
_avs_failback() {
    local IFS=$'\n' line
    local -a found
    found=($(avs-failback __complete bash "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
    if [[ "${found[0]}" == ":files" ]]; then
        compopt -o default 2>/dev/null
        COMPREPLY=()
        return 0
    fi
    COMPREPLY=("${found[@]}")
}
complete -F _avs_failback avs-failback
"""
ZSH = r"""#compdef avs-failback
# avs-failback completion for zsh: source <(avs-failback completion zsh) in ~/.zshrc, after compinit
_avs_failback() {
    local -a found
    found=("${(@f)$(avs-failback __complete zsh "${(@)words[2,CURRENT]}" 2>/dev/null)}")
    if [[ "${found[1]}" == ":files" ]]; then
        _files
        return
    fi
    (( ${#found} )) && [[ -n "${found[1]}" ]] && compadd -Q -- "${found[@]}"
}
compdef _avs_failback avs-failback
"""
FISH = r"""# avs-failback completion for fish: avs-failback completion fish | source (or save it in
# ~/.config/fish/completions/avs-failback.fish)
function __avs_failback_complete
    set -l tokens (commandline -opc) (commandline -ct)
    set -l found (avs-failback __complete fish $tokens[2..-1] 2>/dev/null)
    if test "$found[1]" = ":files"
        __fish_complete_path (commandline -ct)
    else
        printf '%s\n' $found
    end
end
complete -c avs-failback -f -a '(__avs_failback_complete)'
"""
SCRIPTS = {"bash": BASH, "zsh": ZSH, "fish": FISH}


def cmd_completion(ctx: Context) -> int:
    ctx.io.stdout.write(SCRIPTS[ctx.args.shell])
    return 0


def register(commands: Commands) -> None:
    p = commands.add(
        "completion",
        "Training, emulator and shell",
        "print the shell completion script for bash, zsh or fish",
        description="Print a completion script: commands, options, their values, and item, plan and job names "
        "from your last `items`, `plans` or `jobs` listing (kept 15 minutes, never fetched on TAB).",
        examples=(
            ("bash, in ~/.bashrc", 'eval "$(avs-failback completion bash)"'),
            ("zsh, in ~/.zshrc after compinit", "source <(avs-failback completion zsh)"),
            ("fish", "avs-failback completion fish > ~/.config/fish/completions/avs-failback.fish"),
        ),
        parents=[],
    )
    p.add_argument("shell", choices=SHELLS, help="bash, zsh or fish")
    p.set_defaults(run=cmd_completion)


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _option(parser: argparse.ArgumentParser, word: str) -> argparse.Action | None:
    return parser._option_string_actions.get(word.split("=", 1)[0])


def _takes_value(action: argparse.Action | None) -> bool:
    return action is not None and action.nargs != 0


def _scenarios() -> list[str]:
    import core

    folder = Path(core.__file__).parent / "emulator" / "scenarios"
    return sorted(p.stem for p in folder.glob("*.json"))


def _values(action: argparse.Action) -> list[str]:
    if action.choices:
        return [str(c) for c in action.choices]
    dest = action.dest
    if dest == "stage":
        return [s.key for s in Stage]
    if dest == "state":
        return [s.value for s in JobState]
    if dest == "scenario":
        return _scenarios()
    metavar = str(action.metavar or "")
    if metavar in ("FILE", "PEM") or dest in ("output_file", "check", "ca_bundle"):
        return [FILES]
    return []


# What a positional argument names, by its metavar: the names come from the last listing of that kind.
_NAMED = {"ITEM": ("items",), "PLAN": ("plans",), "NAME": ("jobs",), "ITEM|PLAN": ("items", "plans")}


def _positional_values(parser: argparse.ArgumentParser, filled: int, cache: Path) -> list[str]:
    """The values of the command's next positional argument: its choices, or the cached names its metavar says."""
    positionals = [a for a in parser._actions if not a.option_strings]
    if filled >= len(positionals):
        return []
    action = positionals[filled]
    if action.choices:
        return [str(c) for c in action.choices]
    return [name for kind in _NAMED.get(str(action.metavar), ()) for name in names(kind, path=cache)]


def candidates(parser: TopParser, words: Sequence[str], cache: Path | None = None) -> list[str]:
    """What may come at the last of `words` (the words after the program's name, the one being typed last)."""
    cache = cache or cache_file()
    current = words[-1] if words else ""
    before = [w for w in words[:-1]]
    # bash splits `--output=json` into `--output`, `=`, `json`: put them back together.
    if before and before[-1] == "=" and len(before) >= 2:
        before = before[:-2] + [before[-2] + "="]
        current = before.pop() + current
    if current.startswith("--") and "=" in current:
        before.append(current.split("=", 1)[0])
        current = current.split("=", 1)[1]
    commands = _subparsers(parser)
    listed = [name for entries in (parser.commands.groups if parser.commands else {}).values() for name, _ in entries]
    command: str | None = None
    sub: argparse.ArgumentParser = parser
    filled = 0
    dashboard: tuple[str, ...] = ()
    index = 0
    while index < len(before):
        word = before[index]
        if word.startswith("-"):
            if dashboard:
                index += 1
                continue
            if _takes_value(_option(sub, word)) and "=" not in word:
                index += 1
        elif command is None:
            command = word
            if word in commands:
                sub = commands[word]
            else:
                dashboard = DASHBOARD_OPTIONS if word != "serve" else SERVE_OPTIONS
        elif command == "emulator" and word == "serve" and "serve" in _subparsers(sub):
            sub = _subparsers(sub)["serve"]
        else:
            filled += 1
        index += 1
    last = before[-1] if before else ""
    if last.startswith("-") and not dashboard:
        action = _option(sub, last)
        if _takes_value(action):
            assert action is not None
            found = _values(action)
            return found if found == [FILES] else [v for v in found if v.startswith(current)]
    if dashboard and last in ("--scenario",):
        return [s for s in _scenarios() if s.startswith(current)]
    if current.startswith("-"):
        options = dashboard or sorted(o for o in sub._option_string_actions if o.startswith("--") or o == "-o")
        return [o for o in options if o.startswith(current)]
    if command is None:
        return [c for c in dict.fromkeys(listed + sorted(commands)) if c.startswith(current) and not c.startswith("_")]
    if dashboard:
        return []
    return [v for v in _positional_values(sub, filled, cache) if v.startswith(current)]


def _escape_for(shell: str, word: str) -> str:
    if shell == "bash" and word != FILES:
        return re.sub(r"([^\w@%+=:,./-])", r"\\\1", word)
    return word


def complete(argv: Sequence[str], stdout: IO[str] | None = None) -> int:
    """`avs-failback __complete SHELL WORD…`: one candidate per line. Never raises, never reaches the network."""
    from cli.parser import build_parser

    out = stdout or sys.stdout
    if not argv or argv[0] not in SHELLS:
        return 2
    try:
        found = candidates(build_parser(), list(argv[1:]) or [""])
    except Exception:  # a completion that fails must not print a traceback into the operator's prompt
        return 1
    for word in found:
        out.write(_escape_for(argv[0], word) + "\n")
    return 0
