"""The training debrief: choices, data loss accepted, time taken, mistakes caught; exported as Markdown."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Button, Markdown, Static

from core.training import Debrief, render_debrief
from tui.dialogs.base import Dialog
from tui.text import plain
from tui.widgets.banner import ModeBanner
from tui.widgets.buttons import ButtonRow
from tui.widgets.speed import TrainingBanner


def export_path(directory: Path, debrief: Debrief) -> Path:
    """A file name that says which lesson and when (simulated time), never overwriting an earlier export."""
    return unique_path(directory, f"debrief-{debrief.scenario}-{debrief.ended.strftime('%Y%m%d-%H%M%S')}")


def unique_path(directory: Path, stem: str) -> Path:
    """`stem.md` in `directory`, or `stem-2.md`, `stem-3.md`… when it exists already."""
    candidate = directory / f"{stem}.md"
    n = 2
    while candidate.exists():
        candidate = directory / f"{stem}-{n}.md"
        n += 1
    return candidate


def write_private(path: Path, text: str) -> None:
    """Write a training export readable by its owner only: it names the trainee's choices and mistakes."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)


class DebriefDialog(Dialog[Path]):
    """Dismisses with the path of the exported file, or None when closed without exporting."""

    BINDINGS = [
        Binding("E", "export", "Export Markdown", id="debrief-export", tooltip="Write the debrief to a file"),
    ]

    def __init__(self, debrief: Debrief, export_dir: Path) -> None:
        super().__init__()
        self.debrief = debrief
        self.export_dir = export_dir
        self.exported: Path | None = None

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            # Training's banner from the first frame: the speed of simulated time, not only SIMULATION.
            yield TrainingBanner() if type(widget) is ModeBanner else widget

    def body(self) -> ComposeResult:
        d = self.debrief
        state = "Lesson complete" if d.completed else "Lesson not complete yet"
        yield Static(plain(f"Debrief: {d.title} ({state})"), classes="dialog-title")
        with Vertical(classes="dialog-section", id="debrief-scroll"):
            yield Markdown(render_debrief(d, "md"), id="debrief-text")
        yield Static("E exports the debrief as Markdown.", id="export-path")
        with ButtonRow():
            yield Button("Export Markdown", id="export", variant="primary")
            yield Button("Close", id="close")

    def on_mount(self) -> None:
        self.query_one("#export", Button).focus()

    def action_export(self) -> None:
        path = export_path(self.export_dir, self.debrief)
        try:
            write_private(path, render_debrief(self.debrief, "md"))
        except OSError as exc:
            self.query_one("#export-path", Static).update(plain(f"Could not write {path}: {exc.strerror or exc}"))
            return
        self.exported = path
        self.query_one("#export-path", Static).update(plain(f"Saved to {path}"))
        self.notify(str(path), title="Debrief exported", timeout=15)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "export":
            self.action_export()
        else:
            self.dismiss(self.exported)
