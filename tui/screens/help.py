"""F1: every key of every screen, with what it does, the keys of the screen it was opened from first."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Static

from tui.widgets.banner import ModeBanner
from tui.widgets.pane import Pane

_KEY_NAMES = {"slash": "/", "question_mark": "?", "colon": ":", "escape": "Esc", "enter": "Enter"}


def key_label(binding: Binding) -> str:
    """ "ctrl+r", "?", "f1 / ?": how a person reads the keys of a binding."""
    if binding.key_display:
        return binding.key_display
    return " / ".join(_KEY_NAMES.get(k.strip(), k.strip()) for k in binding.key.split(","))


def _section(title: str, bindings: list[Binding]) -> Text:
    text = Text()
    text.append(f"{title}\n", style="bold underline")
    for b in bindings:
        key = key_label(b)
        text.append(f"  {key:<10}", style="bold")
        if b.tooltip:
            # The separator's spaces sit inside the plain span: a dim span starting with a space lost it.
            text.append(f"{b.description} — ")
            text.append(b.tooltip, style="dim")
        else:
            text.append(b.description)
        text.append("\n")
    return text


def origin_sections(
    origin: Screen[Any] | None, listed: set[str], everywhere: set[str]
) -> list[tuple[str, list[Binding]]]:
    """The keys the screen F1 was pressed on answers to, that the per-screen lists leave out (a lesson's keys).

    Read from the screen's active bindings, so a key bound only while something runs is found without a list kept
    by hand. Grouped by the node that binds them, under its BINDING_GROUP_TITLE. Textual's own bindings carry no id
    (every binding of ours has one) and are left to the Dialogs paragraph; an app-wide key is left to "Everywhere".
    """
    if origin is None:
        return []
    groups: dict[str, list[Binding]] = {}
    seen = set(listed)
    for key, active in origin.active_bindings.items():
        binding = active.binding
        if not binding.id or binding.id in seen or binding.system or key in everywhere:
            continue
        seen.add(binding.id)
        node = active.node
        title = node.BINDING_GROUP_TITLE or ("This screen" if node is origin else "Also here")
        # The key it answers to now (a keymap may have moved it), not the one it was declared with.
        groups.setdefault(title, []).append(replace(binding, key=key))
    return list(groups.items())


def help_text(origin: Screen[Any] | None = None) -> Text:
    from tui.app import FailbackApp
    from tui.screens.dashboard import DashboardScreen
    from tui.screens.fleet import FleetScreen
    from tui.screens.job import JobScreen
    from tui.screens.jobs import JobsScreen
    from tui.screens.plans import PlansScreen
    from tui.screens.preflight import PreflightScreen
    from tui.screens.verify import VerifyScreen

    screens: list[tuple[str, list[BindingType]]] = [
        ("Everywhere", FailbackApp.BINDINGS),
        ("Dashboard", DashboardScreen.BINDINGS),
        ("Job detail", JobScreen.BINDINGS),
        ("Job history", JobsScreen.BINDINGS),
        ("Verify", VerifyScreen.BINDINGS),
        ("Recovery plans", PlansScreen.BINDINGS),
        ("Preflight", PreflightScreen.BINDINGS),
        ("Fleet (avs-failback fleet)", FleetScreen.BINDINGS),
    ]
    from tui import jumps
    from tui.widgets.table import LIST_BINDINGS

    screens.insert(1, ("Every list (beside the arrows, PgUp/PgDn, Home/End)", LIST_BINDINGS))
    from tui.widgets.items_table import ItemsTable

    listed = {b.id for _, bindings in screens for b in bindings if isinstance(b, Binding) and b.id}
    # The items table's arrows, Home/End and Enter are the list keys every table has: said in the intro of the list.
    listed |= {b.id for b in ItemsTable.BINDINGS if isinstance(b, Binding) and b.id}

    text = Text()
    text.append("Keys work over SSH and tmux: letters, F-keys, arrows, Enter, Esc, ctrl+letter.\n")
    text.append("Nothing that changes the vault is one key: a key opens a dialog, a button confirms.\n")
    text.append("ctrl+p opens the command palette with every action by name, and : jumps by name.\n\n")
    everywhere = {b.key for b in FailbackApp.BINDINGS if isinstance(b, Binding)}
    # First, where the reader is: the keys of the screen they came from that no list below names.
    for title, found in origin_sections(origin, listed, everywhere):
        text.append(_section(title, found))
        text.append("\n")
    for title, bindings in screens:
        shown = [b for b in bindings if isinstance(b, Binding)]
        if title != "Everywhere":
            # A screen that repeats an app-wide key (only to keep it out of its footer) is not listed twice.
            shown = [b for b in shown if b.key not in everywhere]
        text.append(_section(title, shown))
        text.append("\n")
    text.append("Go to (: then a target; → completes)\n", style="bold underline")
    for jump in jumps.jumps():
        text.append(f"  {jump.usage:<16}", style="bold")
        text.append(f"{jump.help}\n")
    text.append("\n")
    text.append("Dialogs\n", style="bold underline")
    text.append(
        "  Tab       move between choices and buttons\n  ↑ ↓       choose an option (the one shown is the one chosen)\n"
        "  ← →       move between buttons\n  Space     tick a box\n  Enter     press the focused button\n"
        "  PgUp/PgDn scroll a long dialog (its buttons stay in view)\n  Esc       back out (nothing is sent)\n"
    )
    return text


class HelpScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="help-back"),
        Binding("f1,question_mark", "app.pop_screen", "Back", id="help-close", show=False),
    ]

    def __init__(self, origin: Screen[Any] | None = None) -> None:
        super().__init__()
        self._origin = origin

    @property
    def origin(self) -> Screen[Any] | None:
        """The screen F1 was pressed on: given, or the one under this screen on the stack."""
        if self._origin is not None:
            return self._origin
        stack = self.app.screen_stack
        below = stack[: stack.index(self)] if self in stack else stack
        return below[-1] if below else None

    def compose(self) -> ComposeResult:
        yield ModeBanner()
        with Pane(id="help"):
            yield Static("Help — every key of every screen", classes="dialog-title")
            yield Static(help_text(self.origin))
        yield Footer()
