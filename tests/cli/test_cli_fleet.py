"""`fleet` and `fleet items` on the emulated fleet: Resource Graph's counts against each vault's own ARM listing."""

from __future__ import annotations

import io
import json
from collections import Counter
from typing import Any

from cli.main import main
from core.clock import ManualClock

CLOCK = ManualClock()


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), clock=CLOCK, env={}, stdin=io.StringIO(""), stdout=out, stderr=err)
    return code, out.getvalue(), " ".join(err.getvalue().split())


def _json(*argv: str) -> dict[str, Any]:
    code, out, err = run(*argv, "--json")
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    return data


def test_fleet_counts_equal_each_vaults_listing_over_arm() -> None:
    fleet = _json("fleet", "--demo")
    vaults = fleet["vaults"]
    assert len({v["subscription_id"] for v in vaults}) >= 3 and len(vaults) >= 12
    assert fleet["source"] == "resource-graph" and fleet["simulated"] is True
    for vault in vaults:
        listed = _json("items", "--demo", "--fleet", "demo", "--vault-id", vault["id"])
        assert listed["vault"].lower() == vault["id"].lower()
        over_arm = Counter(item["stage"] for item in listed["items"])
        assert {k: n for k, n in vault["stages"].items() if n} == dict(over_arm), vault["name"]
        assert vault["items"] == len(listed["items"])
    assert fleet["totals"]["items"] == sum(v["items"] for v in vaults)


def test_fleet_reads_the_whole_fleet_in_a_few_resource_graph_requests() -> None:
    fleet = _json("fleet", "--demo")
    # vaults, items (one page of up to 1000) and jobs: one query each
    assert fleet["resource_graph_requests"] == 3


def test_subscriptions_narrow_the_fleet_and_repeat() -> None:
    everything = _json("fleet", "--demo")["vaults"]
    subs = sorted({v["subscription_id"] for v in everything})
    one = _json("fleet", "--demo", "--subscription", subs[0])["vaults"]
    assert one and {v["subscription_id"] for v in one} == {subs[0]}
    two = _json("fleet", "--demo", "--subscription", subs[0], "--subscription", subs[1])["vaults"]
    assert {v["subscription_id"] for v in two} == set(subs[:2])
    assert len(two) > len(one)


def test_fleet_items_filter_by_stage_and_region() -> None:
    items = _json("fleet", "items", "--demo", "--stage", "ready", "--region", "westeurope")["items"]
    assert items and all(i["stage"] == "ready" and i["location"] == "westeurope" for i in items)
    everything = _json("fleet", "items", "--demo")["items"]
    expected = [i for i in everything if i["stage"] == "ready" and i["location"] == "westeurope"]
    assert len(items) == len(expected)
    assert {i["vault_name"] for i in items} >= {"rsv-avs-failback-weu", "rsv-avs-weu-sap"}


def test_text_output_fits_80_columns_and_says_where_the_data_comes_from() -> None:
    for argv in (("fleet", "--demo"), ("fleet", "items", "--demo", "--stage", "failed-over")):
        code, out, err = run(*argv)
        assert code == 0, err
        assert all(len(line) <= 80 for line in out.splitlines())
        assert "Resource Graph" in out


def test_bad_stage_is_a_usage_error_and_vault_filters_need_items() -> None:
    code, _, err = run("fleet", "items", "--demo", "--stage", "flying")
    assert code == 2 and "unknown stage" in err
    code, _, err = run("fleet", "--demo", "--stage", "ready")
    assert code == 2 and "fleet items" in err
