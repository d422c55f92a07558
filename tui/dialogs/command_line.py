"""`:` command mode: a one-line prompt at the bottom of the screen, completing targets and names as they are typed."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input, Static

from tui import jumps
from tui.text import plain


def usage_text() -> Text:
    text = Text()
    for index, jump in enumerate(jumps.jumps()):
        if index:
            text.append("  ")
        text.append(jump.usage, style="bold")
    return text


class CommandLine(ModalScreen[None]):
    """Enter runs the line (the target's own screen opens); Esc closes it; → accepts the greyed completion."""

    DEFAULT_CSS = """
    CommandLine {
        align: left bottom;
        background: transparent;
    }
    CommandLine #command-box {
        height: auto;
        width: 100%;
        background: $panel;
    }
    CommandLine #command-row {
        height: 1;
    }
    CommandLine #command-prompt {
        width: 2;
        padding-left: 1;
        text-style: bold;
    }
    CommandLine #command-input {
        height: 1;
        border: none;
        padding: 0;
        width: 1fr;
        background: $panel;
    }
    CommandLine #command-help {
        height: auto;
        padding: 0 1;
        color: $text-muted;
    }
    """
    BINDINGS = [Binding("escape", "close", "Close", id="command-close")]

    def __init__(self, line: str = "", error: str = "") -> None:
        super().__init__()
        self.line = line
        self.error = error

    def compose(self) -> ComposeResult:
        with Vertical(id="command-box"):
            help_line = plain(self.error) if self.error else usage_text()
            yield Static(help_line, id="command-help")
            with Horizontal(id="command-row"):
                yield Static(":", id="command-prompt")
                suggester = SuggestFromList(jumps.completions(self.app), case_sensitive=False)
                yield Input(
                    self.line,
                    placeholder="jobs, plans, vm NAME… (Enter goes, Esc closes)",
                    id="command-input",
                    suggester=suggester,
                )

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted, "#command-input")
    def _run(self, event: Input.Submitted) -> None:
        line = event.value
        app = self.app
        # Closed first, so that the target's screen opens over the screen the line was typed on.
        self.dismiss(None)
        error = jumps.run_line(app, line)
        if error:
            app.push_screen(CommandLine(line, error))

    def action_close(self) -> None:
        self.dismiss(None)
