"""Show the command: for each action taken, the same call as REST, az and Azure PowerShell."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static

from tui.session import ActionRecord
from tui.text import clean, lines
from tui.widgets.banner import ModeBanner
from tui.widgets.pane import Pane


def record_text(record: ActionRecord) -> Text:
    text = Text()
    text.append(f"{record.time:%Y-%m-%d %H:%M:%S} UTC · {clean(record.title)}", style="bold")
    if record.job_name:
        text.append(f" · job {clean(record.job_name)}")
    text.append("\n")
    eq: Any = record.equivalent
    if eq is None or isinstance(eq, str):
        text.append(lines(eq or "No equivalent recorded.") + "\n")
        return text
    for label, body in (("REST", eq.rest), ("az", eq.az), ("PowerShell", eq.powershell)):
        text.append(f"{label}\n", style="underline")
        text.append(lines(body.rstrip()) + "\n\n")
    return text


class CommandsScreen(Screen[None]):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back", id="commands-back")]

    def compose(self) -> ComposeResult:
        yield ModeBanner()
        yield Static("Show the command: what each action was, by hand", classes="pane-title")
        with Pane(id="commands"):
            yield Static("", id="commands-text")
        yield Footer()

    def on_mount(self) -> None:
        actions: list[ActionRecord] = self.app.session.actions  # type: ignore[attr-defined]
        body = self.query_one("#commands-text", Static)
        if not actions:
            body.update(
                "No action taken yet in this session. Fail back, commit or reprotect an item, and the "
                "equivalent REST call, az command and PowerShell appear here."
            )
            return
        text = Text()
        for record in reversed(actions):
            text.append(record_text(record))
            text.append("─" * 40 + "\n", style="dim")
        body.update(text)
        self.query_one("#commands", Pane).focus()
