"""Keys: one meaning per key on every screen, j/k/g/G in every list, ? and F1, `:` jumps, and the palette."""

from __future__ import annotations

import inspect
from typing import Any

from textual.binding import Binding

import tui.dialogs.command_line
import tui.dialogs.debrief
import tui.screens.commands
import tui.screens.dashboard
import tui.screens.fleet
import tui.screens.help
import tui.screens.job
import tui.screens.jobs
import tui.screens.plans
import tui.screens.preflight
import tui.screens.training
import tui.screens.training_app
import tui.screens.training_dashboard
import tui.screens.training_plans
import tui.screens.verify
import tui.widgets.buttons
import tui.widgets.fleet_tables
import tui.widgets.items_table
import tui.widgets.pane
import tui.widgets.table
from tests.tui.helpers import wait_for, wait_screen
from tests.tui.test_flow import open_dashboard, select
from tui import jumps
from tui.app import FailbackApp
from tui.dialogs.command_line import CommandLine
from tui.palette import GoToProvider
from tui.screens.help import HelpScreen, help_text
from tui.screens.jobs import JobsScreen
from tui.screens.plans import PlansScreen

MODULES = (
    tui.dialogs.command_line,
    tui.dialogs.debrief,
    tui.screens.commands,
    tui.screens.dashboard,
    tui.screens.fleet,
    tui.screens.help,
    tui.screens.job,
    tui.screens.jobs,
    tui.screens.plans,
    tui.screens.preflight,
    tui.screens.training,
    tui.screens.training_app,
    tui.screens.training_dashboard,
    tui.screens.training_plans,
    tui.screens.verify,
    tui.widgets.buttons,
    tui.widgets.fleet_tables,
    tui.widgets.items_table,
    tui.widgets.pane,
    tui.widgets.table,
)

# Actions that say the same thing to the operator under another name (a list's cursor, a pane's scroll…).
SAME_MEANING = {
    "scroll_down": "cursor_down",
    "scroll_up": "cursor_up",
    "cursor_first": "scroll_top",
    "scroll_home": "scroll_top",
    "cursor_last": "scroll_bottom",
    "scroll_end": "scroll_bottom",
    "app.pop_screen": "back",
    "cancel": "back",
    "close": "back",
    "clear_filter": "back",
    "open": "open_job",
    "reload": "refresh",
    "recheck": "refresh",
    "stop_reprotect": "stop_retry",
    "cycle_state": "cycle_stage",
    "fail_back_plan": "fail_back",
    "commit_plan": "commit",
    "reprotect_plan": "reprotect",
    "resume_plan": "job_action('resume')",
    "export_report": "export",
    "app.quit": "quit",
    "app.jobs": "jobs",
    "app.help": "help",
    "app.cycle_speed": "cycle_speed",
    "app.skip_ahead": "skip_ahead",
    "app.debrief": "debrief",
    "app.show_commands": "show_commands",
    "app.plans": "plans",
    "start": "select_cursor",
    "verify_plan": "verify",
}
# F1 (and ?) on the help screen closes it: the same key, the same thing it toggles.
SAME_BY_ID = {"help-close": "help"}


def our_bindings() -> list[tuple[str, Binding]]:
    """Every Binding declared by a class of ours, with the class that declares it."""
    found = []
    classes = [FailbackApp]
    for module in MODULES:
        classes += [c for _, c in inspect.getmembers(module, inspect.isclass) if c.__module__ == module.__name__]
    for cls in classes:
        for binding in cls.__dict__.get("BINDINGS", ()):
            if isinstance(binding, Binding):
                found.append((cls.__name__, binding))
    return found


def meaning(binding: Binding) -> str:
    if binding.id in SAME_BY_ID:
        return SAME_BY_ID[binding.id]
    return SAME_MEANING.get(binding.action, binding.action)


def test_every_binding_has_an_id_and_a_description() -> None:
    missing = [f"{where}: {b.key} → {b.action}" for where, b in our_bindings() if not (b.id and b.description)]
    assert not missing, missing


def test_one_meaning_per_key_across_every_screen() -> None:
    meanings: dict[str, set[str]] = {}
    for _, binding in our_bindings():
        for key in binding.key.split(","):
            meanings.setdefault(key.strip(), set()).add(meaning(binding))
    clashes = {key: sorted(found) for key, found in meanings.items() if len(found) > 1}
    assert not clashes, clashes
    # The keys a k9s or vim user reaches for first.
    assert meanings["j"] == {"cursor_down"} and meanings["k"] == {"cursor_up"}
    assert meanings["g"] == {"scroll_top"} and meanings["G"] == {"scroll_bottom"}
    assert meanings["question_mark"] == {"help"} and meanings["colon"] == {"command_mode"}
    assert meanings["escape"] == {"back"}


def test_no_key_that_ssh_or_tmux_eats() -> None:
    for _, binding in our_bindings():
        for key in binding.key.split(","):
            assert not key.startswith(("alt+", "meta+")), binding
            assert key not in ("ctrl+h", "ctrl+i", "ctrl+m"), binding


async def test_list_keys_move_the_cursor_on_the_dashboard_and_in_the_job_history(app: FailbackApp) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        dashboard = await open_dashboard(pilot)
        table = dashboard.items_table
        assert table.cursor_row == 0
        await pilot.press("j", "j")
        assert table.cursor_row == 2
        await pilot.press("k")
        assert table.cursor_row == 1
        await pilot.press("G")
        assert table.cursor_row == table.row_count - 1
        await pilot.press("g")
        assert table.cursor_row == 0

        await pilot.press("J")
        jobs = await wait_screen(pilot, JobsScreen, "job history")
        await wait_for(pilot, lambda: len(jobs.jobs) > 2, "the history")
        history = jobs.query_one("#history")
        await pilot.press("j", "j")
        assert history.cursor_row == 2  # type: ignore[attr-defined]
        await pilot.press("G")
        assert history.cursor_row == len(jobs.jobs) - 1  # type: ignore[attr-defined]
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is dashboard, "back on the dashboard")


async def test_question_mark_opens_help_and_closes_it(app: FailbackApp) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        dashboard = await open_dashboard(pilot)
        await pilot.press("question_mark")
        await wait_screen(pilot, HelpScreen, "help")
        text = help_text(dashboard).plain
        assert "Every list" in text and "Go to (: then a target" in text
        for _, binding in our_bindings():
            # The lesson's keys are listed by a lesson's F1 (tests/training); a dialog's under "Dialogs".
            skip = ("items-", "buttons-", "dialog-", "command-", "debrief-", "training-", "quit-plans")
            if binding.id and not binding.id.startswith(skip):
                assert binding.description in text, binding
        await pilot.press("j")  # the help scrolls: it is longer than the screen
        await pilot.pause()
        assert app.screen.query_one("#help").scroll_y > 0
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: app.screen is dashboard, "help closed")
        # Typed into the filter, ? and : are text, not keys.
        await pilot.press("slash", "question_mark", "colon")
        await pilot.pause()
        assert app.screen is dashboard and dashboard.items_table.filter_text == "?:"


async def test_command_mode_jumps_to_a_vm_a_plan_and_the_jobs(app: FailbackApp) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        dashboard = await open_dashboard(pilot)
        # A filter hides dc-01: jumping to it clears the filter, so the cursor never rests on a hidden row.
        await pilot.press("slash", *"sql", "enter")
        await pilot.pause()
        assert dashboard.items_table.row_count == 1
        await pilot.press("colon")
        line = await wait_screen(pilot, CommandLine, "the command line")
        await pilot.press(*"vm dc-0")
        await pilot.pause()
        assert line.query_one("#command-input")._suggestion == "vm dc-01"  # type: ignore[attr-defined]
        await pilot.press("right", "enter")
        await wait_for(pilot, lambda: app.screen is dashboard, "the dashboard")
        await pilot.pause()
        assert dashboard.items_table.selected.friendly_name == "dc-01"  # type: ignore[union-attr]
        assert dashboard.items_table.filter_text == "" and dashboard.items_table.row_count > 1

        await pilot.press("colon", *"plans rp-billing", "enter")
        plans = await wait_screen(pilot, PlansScreen, "plans")
        await wait_for(pilot, lambda: plans.selected is not None, "the plans")
        assert plans.selected.plan.name == "rp-billing"  # type: ignore[union-attr]

        # From the plans screen, :vm goes back down to the dashboard.
        await pilot.press("colon", *"vm file-01", "enter")
        await wait_for(pilot, lambda: app.screen is dashboard, "back on the dashboard")
        assert dashboard.items_table.selected.friendly_name == "file-01"  # type: ignore[union-attr]

        await pilot.press("colon", *"jobs", "enter")
        await wait_screen(pilot, JobsScreen, "jobs")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is dashboard, "back")

        # A target that does not exist: the line opens again with what went wrong and what exists.
        await pilot.press("colon", *"fleat", "enter")
        again = await wait_screen(pilot, CommandLine, "the command line again")
        assert "No target :fleat" in str(again.query_one("#command-help").render())
        assert again.query_one("#command-input").value == "fleat"  # type: ignore[attr-defined]
        await pilot.press("escape")
        await pilot.press("colon", *"vm nosuchvm", "enter")
        again = await wait_screen(pilot, CommandLine, "the command line again")
        assert "No replicated item named 'nosuchvm'" in str(again.query_one("#command-help").render())


def test_a_screen_adds_its_own_target_to_the_registry() -> None:
    calls: list[str] = []
    jumps.register(
        jumps.Jump("demo-target", "A target added elsewhere", lambda app, arg: calls.append(arg) or "", argument="X")
    )
    try:
        assert jumps.run_line(object(), ":demo-target  abc ") == ""
        assert calls == ["abc"]
        assert "demo-target" in jumps.completions(object())
        assert jumps.run_line(object(), "jobs extra").startswith(":jobs takes no argument")
    finally:
        jumps._JUMPS.pop("demo-target")


async def test_palette_lists_every_key_of_the_screen_with_its_key(app: FailbackApp) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        dashboard = await open_dashboard(pilot)
        await select(pilot, dashboard, "wiki-01")  # committed: reprotect is possible
        titles = {c.title for c in app.get_system_commands(dashboard)}
        for key, active in dashboard.active_bindings.items():
            if active.binding.id and active.enabled and not active.binding.system:
                shown = app.get_key_display(active.binding)
                assert any(t.startswith(active.binding.description) and shown in t for t in titles), (key, titles)
        assert "Reprotect… (r)" in titles


async def test_palette_goes_to_a_vm_and_a_plan(app: FailbackApp) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        dashboard = await open_dashboard(pilot)
        provider = GoToProvider(dashboard)
        hits: list[Any] = [hit async for hit in provider.search("print")]
        assert [h.text for h in hits] == ["VM print-01"]
        hits[0].command()
        await pilot.pause()
        assert dashboard.items_table.selected.friendly_name == "print-01"  # type: ignore[union-attr]
        hits = [hit async for hit in provider.search("rp-intr")]
        assert [h.text for h in hits] == ["Plan rp-intranet"]
        hits[0].command()
        plans = await wait_screen(pilot, PlansScreen, "plans")
        await wait_for(pilot, lambda: plans.selected is not None, "the plans")
        assert plans.selected.plan.name == "rp-intranet"  # type: ignore[union-attr]
