"""F1: every key of every screen, with what it does."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from tui.widgets.banner import ModeBanner


def _section(title: str, bindings: list[Binding]) -> Text:
    text = Text()
    text.append(f"{title}\n", style="bold underline")
    for b in bindings:
        key = b.key_display or b.key.replace("slash", "/")
        text.append(f"  {key:<10}", style="bold")
        if b.tooltip:
            # The separator's spaces sit inside the plain span: a dim span starting with a space lost it.
            text.append(f"{b.description} — ")
            text.append(b.tooltip, style="dim")
        else:
            text.append(b.description)
        text.append("\n")
    return text


def help_text() -> Text:
    from tui.app import FailbackApp
    from tui.screens.dashboard import DashboardScreen
    from tui.screens.job import JobScreen
    from tui.screens.jobs import JobsScreen
    from tui.screens.plans import PlansScreen
    from tui.screens.preflight import PreflightScreen
    from tui.screens.verify import VerifyScreen

    text = Text()
    text.append("Keys work over SSH and tmux: letters, F-keys, arrows, Enter, Esc, ctrl+letter.\n")
    text.append("Nothing that changes the vault is one key: a key opens a dialog, a button confirms.\n")
    text.append("ctrl+p opens the command palette with every action by name.\n\n")
    everywhere = {b.key for b in FailbackApp.BINDINGS if isinstance(b, Binding)}
    for title, bindings in (
        ("Everywhere", FailbackApp.BINDINGS),
        ("Dashboard", DashboardScreen.BINDINGS),
        ("Job detail", JobScreen.BINDINGS),
        ("Job history", JobsScreen.BINDINGS),
        ("Verify", VerifyScreen.BINDINGS),
        ("Recovery plans", PlansScreen.BINDINGS),
        ("Preflight", PreflightScreen.BINDINGS),
    ):
        listed = [b for b in bindings if isinstance(b, Binding)]
        if title != "Everywhere":
            # A screen that repeats an app-wide key (only to keep it out of its footer) is not listed twice.
            listed = [b for b in listed if b.key not in everywhere]
        text.append(_section(title, listed))
        text.append("\n")
    text.append("Dialogs\n", style="bold underline")
    text.append(
        "  Tab       move between choices and buttons\n  Space     tick a box, pick a radio button\n"
        "  Enter     press the focused button\n  Esc       back out (nothing is sent)\n"
    )
    return text


class HelpScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="help-back"),
        Binding("f1", "app.pop_screen", "Back", id="help-close", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield ModeBanner()
        with VerticalScroll(id="help"):
            yield Static("Help — every key of every screen", classes="dialog-title")
            yield Static(help_text())
        yield Footer()
