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
