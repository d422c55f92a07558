"""Datastore figures as ASR writes them (strings in GB): "7168.5" GB free reads as about 7 TB in the preflight and
`preflight --json`; a blank figure is "not reported" and a warning; neither blocks a failover."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from cli.main import main
from core.bootstrap import build_backend
from core.clock import ManualClock
from core.config import Settings
from core.emulator.scenario import SCENARIO_DIR
from core.failback import resolve_item
from core.preflight import Level, check_item

ITEM = "erp-web-01"  # ready, on its own (no replication group), on master target mt-avs-weu-01


def figures_scenario(directory: Path, datastores: list[dict[str, Any]]) -> Path:
    """The demo vault with the datastores of its master targets replaced (figures are ASR's GB text)."""
    data = json.loads((SCENARIO_DIR / "demo.json").read_text(encoding="utf-8"))
    for target in data["fabrics"][0]["master_targets"]:
        target["datastores"] = datastores
    path = directory / "figures.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


SEVEN_TB_AND_A_BLANK = [
    {"name": "vsanDatastore", "capacity_gb": "20480", "free_gb": "7168.5", "kind": "vSAN"},
    {"name": "anf-datastore-01", "capacity_gb": "", "free_gb": "", "kind": "NFS"},
]


@pytest.fixture
def vault(tmp_path: Path) -> tuple[Any, ManualClock]:
    clock = ManualClock()
    path = figures_scenario(tmp_path, SEVEN_TB_AND_A_BLANK)
    return build_backend(Settings(demo=True, scenario=str(path)), clock=clock), clock


def run(vault: tuple[Any, ManualClock], *argv: str) -> tuple[int, str, str]:
    backend, clock = vault
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), backend=backend, clock=clock, stdin=io.StringIO(""), stdout=out, stderr=err)
    return code, out.getvalue(), " ".join(err.getvalue().split())


def test_the_preflight_reads_gb_and_warns_on_the_blank_one(vault: tuple[Any, ManualClock]) -> None:
    backend, _ = vault
    fabric = next(f for f in backend.list_fabrics() if f.master_targets)
    stores = {d.name: d for d in fabric.master_targets[0].datastores}
    assert stores["vsanDatastore"].free_gb == 7168.5 and stores["vsanDatastore"].capacity_gb == 20480.0
    assert stores["anf-datastore-01"].free_gb is None and stores["anf-datastore-01"].capacity_gb is None
    report = check_item(backend, resolve_item(backend.list_items(), ITEM))
    check = report.check("datastores")
    assert check.level is Level.WARN
    assert check.detail == ("vsanDatastore 7.0 TB free of 20.0 TB (35 %); anf-datastore-01 free space not reported.")
    assert "anf-datastore-01" in check.remedy and "vCenter" in check.remedy
    assert report.ok, report.lines()


def test_preflight_json_says_so_and_exits_zero(vault: tuple[Any, ManualClock]) -> None:
    code, out, err = run(vault, "preflight", ITEM, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["ok"] is True
    check = next(c for c in data["checks"] if c["key"] == "datastores")
    assert check["level"] == "warn"
    assert "vsanDatastore 7.0 TB free of 20.0 TB" in check["detail"]
    assert "anf-datastore-01 free space not reported" in check["detail"]


def test_the_failover_is_not_blocked(vault: tuple[Any, ManualClock]) -> None:
    code, out, err = run(vault, "failover", ITEM, "--point", "latest", "--yes", "--wait", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["preflight"] == "warn"
    assert data["job"]["state"] == "Succeeded"


def test_known_full_datastores_still_block(tmp_path: Path) -> None:
    """The other side of the rule: figures ASR did report, and that say there is no room, block the failover."""
    full = [{"name": "vsanDatastore", "capacity_gb": 20480, "free_gb": 100, "kind": "vSAN"}]
    clock = ManualClock()
    backend = build_backend(Settings(demo=True, scenario=str(figures_scenario(tmp_path, full))), clock=clock)
    code, out, err = run((backend, clock), "failover", ITEM, "--point", "latest", "--yes", "--json")
    assert code == 4
    check = next(c for c in json.loads(out)["preflight"]["checks"] if c["key"] == "datastores")
    assert check["level"] == "fail" and "100 GB free of 20.0 TB (0 %)" in check["detail"]
