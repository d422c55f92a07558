"""The detail pane tells a datastore's space as ASR reports it: "7168.5" GB free is about 7 TB; a blank figure is
"not reported", never 0."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import Static

from tests.cli.test_datastore_figures import ITEM, SEVEN_TB_AND_A_BLANK, figures_scenario
from tests.tui.helpers import wait_for
from tests.tui.test_flow import open_dashboard, select


async def test_the_detail_pane_shows_each_datastore_s_space(make_app: Any, tmp_path: Path) -> None:
    app = make_app(str(figures_scenario(tmp_path, SEVEN_TB_AND_A_BLANK)))
    async with app.run_test(size=(120, 36)) as pilot:
        dashboard = await open_dashboard(pilot)
        await select(pilot, dashboard, ITEM)
        body = dashboard.query_one("#detail-body", Static)

        def shown() -> str:
            text = str(body.render())
            return text if "Datastore" in text else ""

        text = await wait_for(pilot, shown, "the servers in the detail pane")
        assert "Datastore vsanDatastore 7.0 TB free of 20.0 TB (35 %)" in text
        assert "Datastore anf-datastore-01 free space not reported" in text
        assert "Retention R:\\ 1.3 TB free of 2.0 TB (64 %)" in text
        assert " 0 GB" not in text and "0 MB" not in text


def test_the_detail_pane_words_a_master_target_s_health_as_the_preflight_does() -> None:
    """An answer without healthErrors says nothing of the master target's health: "not reported", never Normal."""
    from core.model import HealthError
    from core.preflight import master_target_health
    from tests.core.itemfactory import NOW, ready_item
    from tests.core.test_preflight import fabrics, mt
    from tui.glyphs import Glyphs
    from tui.widgets.item_detail import DetailContext, render_detail

    def line(target: Any) -> str:
        ctx = DetailContext(now=NOW, tz=None, glyphs=Glyphs(ascii_only=False), fabrics=fabrics(master_target=target))
        text = str(render_detail(ready_item(), ctx))
        return next(row.strip() for row in text.splitlines() if row.strip().startswith("Master target"))

    unreported = mt(health_reported=False)
    assert line(unreported) == "Master target mt-avs-01 · health not reported · heartbeat 1m 00s ago"
    assert master_target_health(unreported) == "not reported"
    warned = mt(health_errors=(HealthError("78094", "Low space", severity="Warning"),))
    assert "· health Warning ·" in line(warned)
    assert "· health Normal ·" in line(mt())  # an empty list: no errors
