"""One line under a training screen naming the lesson's own keys, read from the screen's active bindings."""

from __future__ import annotations

from collections.abc import Iterable

from rich.style import Style
from rich.text import Text
from textual.app import App
from textual.binding import ActiveBinding
from textual.widget import Widget

# The keys a trainee needs on every training screen, in the order they are named.
LESSON_KEY_IDS = (
    "training-walkthrough",
    "training-speed",
    "training-skip",
    "training-debrief",
    "training-report",
)
# On the plans screen: the plan's job and checks, time, the debrief, and F1 (the plan verbs fill the footer).
PLAN_LESSON_KEY_IDS = ("plan-open-job", "plan-preflight", "training-speed", "training-skip", "training-debrief", "help")


def lesson_bindings(active: dict[str, ActiveBinding], ids: Iterable[str]) -> list[ActiveBinding]:
    """The active bindings with these ids, in the order of `ids`; an id not bound here is left out."""
    by_id = {a.binding.id: a for a in active.values() if a.binding.id}
    return [by_id[i] for i in ids if i in by_id]


def click_action(active: ActiveBinding) -> str:
    """The binding's action, named so that a click runs it where the key would."""
    action = active.binding.action
    if "." in action.split("(", 1)[0]:
        return action
    return f"{'app' if isinstance(active.node, App) else 'screen'}.{action}"


class LessonKeys(Widget):
    """Kept apart from the footer, which has no room for them beside the dashboard's verbs at 80 columns."""

    COMPONENT_CLASSES = {"lesson-keys--label", "lesson-keys--key", "lesson-keys--description"}
    DEFAULT_CSS = """
    LessonKeys {
        height: 1;
        width: 1fr;
        padding: 0 1;
        text-wrap: nowrap;
        background: $footer-background;
        /* A key is clicked like the footer's: drawn as a key, not as an underlined link. */
        link-color: $footer-key-foreground;
        link-background: transparent;
        link-style: bold;
        link-color-hover: $footer-key-foreground;
        link-background-hover: $block-hover-background;
        link-style-hover: bold;
        .lesson-keys--label {
            text-style: bold;
            color: $footer-description-foreground;
        }
        .lesson-keys--key {
            text-style: bold;
            color: $footer-key-foreground;
        }
        .lesson-keys--description {
            color: $footer-description-foreground;
        }
    }
    """

    def __init__(self, ids: Iterable[str] = LESSON_KEY_IDS, *, label: str = "Lesson", id: str | None = None) -> None:
        super().__init__(id=id)
        self.ids = tuple(ids)
        self.label = label

    def on_mount(self) -> None:
        # The footer's own signal: a keymap or a check_action change repaints this line too.
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, _screen: object) -> None:
        self.refresh()

    def shown(self) -> list[ActiveBinding]:
        return lesson_bindings(self.screen.active_bindings, self.ids)

    def render(self) -> Text:
        label = self.get_component_rich_style("lesson-keys--label", partial=True)
        key_style = self.get_component_rich_style("lesson-keys--key", partial=True)
        description_style = self.get_component_rich_style("lesson-keys--description", partial=True)
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(self.label, style=label)
        for active in self.shown():
            click = Style(meta={"@click": click_action(active)})
            dim = Style(dim=not active.enabled)
            text.append("  ")
            text.append(self.app.get_key_display(active.binding), style=key_style + dim + click)
            text.append(f" {active.binding.description}", style=description_style + dim)
        return text
