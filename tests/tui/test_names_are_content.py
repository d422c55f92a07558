"""In the dashboard, names from vCenter and ASR are content, never Textual markup, and never raw control text:
`web-02[/]` does not crash a dialog, `SQL-02 [PROD]` keeps its tag, `[@click=app.quit]` is not an action, and
every widget that shows outside text gives back inert text whatever it is fed."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from core.bootstrap import build_backend
from core.clock import ManualClock
from core.config import Settings
from core.emulator.scenario import SCENARIO_DIR
from core.errors import ServiceError
from core.model import ErrorDetail, HealthError, Job, JobState, JobTask, PointKind
from tests.core.itemfactory import NOW, point, ready_item
from tests.hostile_text import hostile_text, inert
from tests.tui.helpers import screen_text, wait_for, wait_screen
from tui.app import FailbackApp
from tui.glyphs import Glyphs

NAMES = ["web-02[/]", "SQL-02 [PROD]", "[@click=app.quit]quit-vm", "bold-[b]01", "title\x1b]0;owned\x07-01"]


def crafted_scenario(tmp_path: Path, names: list[str]) -> Path:
    data = json.loads((SCENARIO_DIR / "small.json").read_text(encoding="utf-8"))
    data["items"] += [{"name": name, "stage": "ready", "rpo": 30} for name in names]
    data["plans"].append({"name": "rp-[/]", "friendly_name": "[b]plan", "groups": [{"type": "Boot", "items": names}]})
    path = tmp_path / "crafted.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture
def crafted_app(tmp_path: Path) -> FailbackApp:
    clock = ManualClock()
    backend = build_backend(Settings(demo=True, scenario=str(crafted_scenario(tmp_path, NAMES))), clock=clock)
    return FailbackApp(backend=backend, clock=clock, tz=UTC, ascii_glyphs=False, tick_seconds=0.05)


async def select(pilot: Any, app: FailbackApp, name: str) -> None:
    table = app.screen.items_table
    await wait_for(pilot, lambda: any(i.friendly_name == name for i in table.items.values()), f"row {name}")
    item = next(i for i in table.items.values() if i.friendly_name == name)
    table.move_cursor(row=table.get_row_index(item.id))
    await pilot.pause()


async def test_names_with_markup_open_every_dialog_and_keep_their_brackets(crafted_app: FailbackApp) -> None:
    from tui.dialogs.point import PointDialog
    from tui.screens.dashboard import DashboardScreen

    async with crafted_app.run_test(size=(120, 36)) as pilot:
        app = crafted_app
        await wait_screen(pilot, DashboardScreen)
        await wait_for(pilot, lambda: "SQL-02 [PROD]" in screen_text(pilot), "the row of SQL-02 [PROD]")
        shown = screen_text(pilot)
        assert "web-02[/]" in shown and "[@click=app.quit]quit-vm" in shown and "bold-[b]01" in shown
        assert "title\\x1b]0;owned\\x07-01" in shown
        for name in NAMES:
            await select(pilot, app, name)
            await pilot.press("f")
            dialog = await wait_for(pilot, lambda: not isinstance(app.screen, DashboardScreen) and app.screen, "f")
            await pilot.pause()
            text = screen_text(pilot)
            assert app.is_running
            assert "Something went wrong" not in text, text
            if isinstance(dialog, PointDialog):
                shown_name = name.replace("\x1b", "\\x1b").replace("\x07", "\\x07")
                assert "Recovery point for " + shown_name in text
            await pilot.press("escape")
            await wait_screen(pilot, DashboardScreen)


async def test_a_click_on_a_name_is_not_an_action(crafted_app: FailbackApp) -> None:
    from tui.dialogs.point import PointDialog
    from tui.screens.dashboard import DashboardScreen

    async with crafted_app.run_test(size=(120, 36)) as pilot:
        app = crafted_app
        await wait_screen(pilot, DashboardScreen)
        await select(pilot, app, "[@click=app.quit]quit-vm")
        await pilot.press("f")
        dialog = await wait_screen(pilot, PointDialog)
        title = dialog.query_one(".dialog-title")
        text = str(title.render())
        column = text.index("quit-vm")
        await pilot.click(title, offset=(column + 2, 0))
        await pilot.pause()
        assert app.is_running and isinstance(app.screen, PointDialog)
        assert "[@click=app.quit]quit-vm" in text


async def test_a_plan_named_in_markup_shows_on_the_plans_screen(crafted_app: FailbackApp) -> None:
    from tui.screens.dashboard import DashboardScreen
    from tui.screens.plans import PlansScreen

    async with crafted_app.run_test(size=(120, 36)) as pilot:
        await wait_screen(pilot, DashboardScreen)
        await pilot.press("p")
        await wait_screen(pilot, PlansScreen)
        await wait_for(pilot, lambda: "[b]plan" in screen_text(pilot), "the plan named [b]plan")
        assert crafted_app.is_running


async def test_a_toast_and_an_error_dialog_show_arm_text_as_it_is(crafted_app: FailbackApp) -> None:
    from tui.screens.dashboard import DashboardScreen

    async with crafted_app.run_test(size=(120, 36)) as pilot:
        await wait_screen(pilot, DashboardScreen)
        error = ServiceError("ARM says [/b] and \x1b]52;c;eA==\x07", details=(ErrorDetail("[/]", "[@click=app.quit]"),))
        crafted_app.show_error(error, heading="Heading [/]")
        await pilot.pause()
        crafted_app.notify("job [/] for [b]web\x1b[2J", title="[red]x")
        await pilot.pause()
        shown = [n for n in crafted_app._notifications if n.title == "[red]x"]
        # A toast without markup draws its message as Content(message): the words as they are, made inert.
        assert shown and not shown[0].markup and shown[0].message == "job [/] for [b]web\\x1b[2J"
        text = screen_text(pilot)
        assert "ARM says [/b] and \\x1b]52;c;eA==\\x07" in text and "Heading [/]" in text
        assert "[@click=app.quit]" in text and crafted_app.is_running


# -- every text builder of the dashboard, fed anything ---------------------------------------------------------

GLYPHS = Glyphs(False)


def builders(text: str) -> list[Any]:
    """What each widget that shows outside text draws, for an item, a job, an error and a lesson named `text`."""
    from core.preflight import Check, Level, PreflightReport
    from core.training import Reaction
    from tui.dialogs.confirm_failover import failover_summary
    from tui.screens.commands import record_text
    from tui.screens.preflight import report_text
    from tui.session import ActionRecord
    from tui.text import error_text, plain
    from tui.widgets.item_detail import DetailContext, render_detail
    from tui.widgets.job_progress import errors_text, header_text
    from tui.widgets.walkthrough import reaction_text

    error = ErrorDetail(text, text, text, text, text, text, text)
    item = ready_item(
        friendly=text,
        protection_state_description=text,
        multi_vm_group_name=text,
        recovery_plans=(text,),
        health_errors=(HealthError(text, text, possible_causes=text, recommended_action=text),),
    )
    task = JobTask(text, text, text, JobState.FAILED, text, errors=(error,))
    job = Job(text, text, text, text, JobState.IN_PROGRESS, text, tasks=(task,), errors=(error,),
              allowed_actions=(text,), target_object_name=text)  # fmt: skip
    from core.recovery import point_options

    option = point_options([point(3, PointKind.CRASH_CONSISTENT)], NOW)[0]
    check = Check(text, text, Level.WARN, text, text)
    report = PreflightReport(text, (check,))
    from core.model import Datastore, Fabric, MasterTarget, PlanAction, ProcessServer, RetentionVolume
    from tui.dialogs.confirm import leaving_text
    from tui.dialogs.resume import manual_text
    from tui.session import Leaving, exit_note

    served = replace(item, process_server_id="ps-1", master_target_id="mt-1")
    fabric = Fabric(
        "f", text, text, text,
        process_servers=(ProcessServer("ps-1", text, text, health=text),),
        master_targets=(
            MasterTarget("mt-1", text, text, retention_volumes=(RetentionVolume(text),), datastores=(Datastore(text),)),
        ),
    )  # fmt: skip
    leaving = Leaving(jobs=(text,), stops=(text,))
    return [
        render_detail(served, DetailContext(now=NOW, tz=UTC, glyphs=GLYPHS, fabrics=[fabric], blocked=(check,))),
        leaving_text(leaving, simulated=False),
        exit_note(leaving, simulated=False),
        manual_text([(text, PlanAction(text, "ManualActionDetails", text))], text),
        render_detail(item, DetailContext(now=NOW, tz=UTC, glyphs=GLYPHS, job=job)),
        header_text(job, NOW, UTC, GLYPHS),
        errors_text(job),
        error_text(ServiceError(text, details=(error,), hint=text), heading=text),
        failover_summary(item, option, NOW, UTC),
        report_text(report, GLYPHS),
        reaction_text(Reaction("warn", text, text)),
        record_text(ActionRecord(NOW, text, text, text)),
        plain(text),
    ]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_text(12))
def test_every_text_builder_gives_inert_content_whatever_it_is_fed(text: str) -> None:
    from rich.text import Text

    for built in builders(text):
        shown = built.plain if isinstance(built, Text) else str(built)
        assert inert(shown), (text, [c for c in shown if not inert(c)])


async def test_the_items_table_draws_any_name_inert(crafted_app: FailbackApp) -> None:
    from tui.screens.dashboard import DashboardScreen

    async with crafted_app.run_test(size=(120, 36)) as pilot:
        await wait_screen(pilot, DashboardScreen)
        table = crafted_app.screen.items_table

        @settings(max_examples=80, deadline=None)
        @given(hostile_text(10))
        def drawn(name: str) -> None:
            entry = table._entry(ready_item("rpi-x", friendly=name, multi_vm_group_name=name))
            assert all(inert(cell) and "\n" not in cell for cell in entry.cells)

        drawn()


def test_a_table_cell_is_content_not_markup() -> None:
    from tui.widgets.table import _content

    cell = _content("web-02[/] \x1b[2J")
    assert cell.plain == "web-02[/] \\x1b[2J" and not cell.spans


async def test_the_fleet_tables_draw_any_vault_item_or_region_name_inert() -> None:
    """Vault, resource group, region and item names come from Resource Graph: every cell of both fleet tabs is
    inert whatever they hold (the cells are made inert once, in the items table every table is built on)."""
    from core.fleet import FleetItem, VaultSummary
    from core.model import Stage, VaultRef
    from tests.tui.test_fleet import fleet_app, fleet_read

    app = fleet_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await fleet_read(pilot)

        @settings(max_examples=60, deadline=None)
        @given(hostile_text(10))
        def drawn(name: str) -> None:
            ref = VaultRef("00000000-0000-0000-0000-000000000001", name, name)
            vault = VaultSummary(ref, location=name, items=1)
            item = FleetItem(ready_item("rpi-x", friendly=name), ref, Stage.READY, name, None)
            for table, row in ((screen.vault_table, vault), (screen.item_table, item)):
                entry = table._entry(row)
                assert all(inert(cell) and "\n" not in cell for cell in entry.cells), entry.cells

        drawn()
