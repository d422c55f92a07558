"""The lesson picker: every bundled training scenario with its title, brief and goals; Enter starts one."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from core.training import TrainingScenario
from tui.text import clean, lines, plain
from tui.widgets.pane import Pane
from tui.widgets.speed import TrainingBanner


def lesson_text(lesson: TrainingScenario) -> Text:
    # A lesson is a file anyone may write: its words are content, made inert.
    text = Text()
    text.append(f"{clean(lesson.title)}\n", style="bold")
    text.append(f"{clean(lesson.length).capitalize()}\n\n")
    text.append_text(lines(lesson.brief))
    text.append("\n\n")
    text.append("You will learn to\n", style="bold")
    for goal in lesson.goals:
        text.append(f"  • {clean(goal)}\n")
    text.append("\n")
    target = f"the recovery plan {lesson.plan}" if lesson.plan else ", ".join(lesson.focus_items)
    text.append("Works on: ", style="bold")
    text.append(f"{clean(target)}\n")
    text.append("Scenario: ", style="bold")
    text.append(clean(lesson.name))
    return text


def short_title(lesson: TrainingScenario) -> str:
    """The title without its "Training:" prefix, which every lesson shares."""
    title = lesson.title.removeprefix("Training:").strip() or lesson.name
    return title[0].upper() + title[1:]


def option_text(lesson: TrainingScenario) -> Text:
    """The lesson's title, its level and length under it."""
    text = plain(short_title(lesson))
    text.append(f"\n  {clean(lesson.length)}", style="dim")
    return text


class TrainingPickerScreen(Screen[TrainingScenario]):
    """Dismisses with the chosen lesson."""

    BINDINGS = [
        Binding("enter", "start", "Start lesson", id="training-start", tooltip="Open the dashboard on this lesson"),
        Binding("q", "app.quit", "Quit", id="training-quit", show=False),
    ]

    def __init__(self, lessons: list[TrainingScenario]) -> None:
        super().__init__()
        self.lessons = lessons

    def compose(self) -> ComposeResult:
        yield TrainingBanner()
        yield Static(
            "Training: the lessons in the order to take them (↑↓ to read, Enter starts one)", classes="pane-title"
        )
        with Horizontal(id="lesson-picker"):
            yield OptionList(
                *[Option(option_text(lesson), id=lesson.name) for lesson in self.lessons],
                id="lessons",
            )
            with Pane(id="lesson-detail"):
                yield Static("", id="lesson-text")
        yield Footer()

    def on_mount(self) -> None:
        options = self.query_one("#lessons", OptionList)
        options.focus()
        if self.lessons:
            options.highlighted = 0
            self._show(0)

    @property
    def highlighted(self) -> TrainingScenario | None:
        index = self.query_one("#lessons", OptionList).highlighted
        return self.lessons[index] if index is not None and 0 <= index < len(self.lessons) else None

    def _show(self, index: int | None) -> None:
        if index is None or not 0 <= index < len(self.lessons):
            return
        self.query_one("#lesson-text", Static).update(lesson_text(self.lessons[index]))

    @on(OptionList.OptionHighlighted, "#lessons")
    def _moved(self, event: OptionList.OptionHighlighted) -> None:
        self._show(event.option_index)

    @on(OptionList.OptionSelected, "#lessons")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.lessons[event.option_index])

    def action_start(self) -> None:
        lesson = self.highlighted
        if lesson is not None:
            self.dismiss(lesson)
