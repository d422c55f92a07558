"""The debrief: choices, data loss accepted, time taken and mistakes caught, in Markdown and JSON."""

from __future__ import annotations

import json

import pytest

from core.clock import ManualClock
from core.model import PointChoice
from core.training import Walkthrough, load_training, render_debrief
from tests.training.conftest import RealTime


def played() -> Walkthrough:
    """A consistency-group lesson with two mistakes: Latest for the group, and a commit before verifying."""
    clock, real = ManualClock(), RealTime()
    walk = Walkthrough(load_training("train-consistency-group"), clock, real_time=real)
    walk.observe("item-selected", item="rp-orders")
    walk.observe("preflight-run", ok=True, warnings=["Network path Azure → AVS"])
    clock.advance(90)
    walk.observe("point-chosen", choice=PointChoice.LATEST, loss_seconds=38, acknowledged=True)
    walk.observe("failover-started")
    clock.advance(9 * 60)
    walk.observe("job-finished", state="Succeeded", scenario="UnplannedFailover")
    walk.observe("commit-attempted", verified=False)
    walk.observe("verify-ticked", check="applications answer", all_done=True)
    walk.observe("commit-started")
    clock.advance(2 * 60)
    walk.observe("job-finished", state="Succeeded", scenario="CommitFailover")
    clock.advance(20 * 60)
    walk.observe("reprotect-started", since_failover_seconds=22 * 60)
    clock.advance(10 * 60)
    walk.observe("reprotect-succeeded")
    real.now += 25 * 60
    walk.observe("report-exported")
    return walk


def test_markdown_lists_choices_loss_time_and_mistakes() -> None:
    md = render_debrief(played().debrief())
    assert md.startswith("# Training debrief: Training: a recovery plan with a consistency group\n")
    assert "SIMULATION" in md and "`train-consistency-group`" in md
    assert "- Result: completed, 9 of 9 steps done" in md
    assert "- Simulated time: 42 minutes (2026-11-25 14:00:00 UTC → 2026-11-25 14:42:30 UTC)" in md
    assert "- Real time: 25 minutes" in md
    assert "- Mistakes caught: 2" in md
    assert "Latest: about 38 seconds of writes given up (38 s)." in md
    assert (
        "| 14:01:30 | Choose the recovery point | Recovery point: Latest | about 38 seconds of writes given up |" in md
    )
    assert "| 14:00:00 | Pick what to fail back | Selected rp-orders |" in md
    assert "1. **Latest leaves the group out of step** (Choose the recovery point, 14:01:30)" in md
    assert "2. **Verify before you commit** (Commit, 14:10:30)" in md
    assert "| Reprotect to Azure | done |" in md
    assert "- Fail back a recovery plan, not its VMs one by one" in md


def test_json_carries_the_same_facts() -> None:
    data = json.loads(render_debrief(played().debrief(), fmt="json"))
    assert data["scenario"] == "train-consistency-group" and data["completed"] is True
    assert data["point"] == "Latest" and data["data_loss_seconds"] == 38
    assert data["simulated_seconds"] == 42 * 60 + 30 and data["real_seconds"] == 25 * 60
    assert [m["key"] for m in data["mistakes"]] == ["latest-for-group", "commit-before-verify"]
    assert data["mistakes"][0]["at"] == "2026-11-25T14:01:30+00:00"
    assert data["steps_done"] == data["steps_expected"] == 9


def test_an_unfinished_lesson_says_so() -> None:
    walk = Walkthrough(load_training("train-single-vm"), ManualClock(), real_time=RealTime())
    walk.observe("item-selected", item="web-shop-01")
    md = render_debrief(walk.debrief())
    assert "- Result: not completed, 1 of 9 steps done" in md
    assert "No recovery point was chosen in this session." in md
    assert "None: every step was taken in order" in md
    assert "| Run the preflight checks | not done |" in md


def test_time_stops_when_the_lesson_ends() -> None:
    walk = played()
    before = walk.debrief()
    assert isinstance(walk.clock, ManualClock)
    walk.clock.advance(3600)
    assert walk.debrief().simulated_seconds == before.simulated_seconds


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="md or json"):
        render_debrief(played().debrief(), fmt="pdf")
