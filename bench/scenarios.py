"""Scenario files for the benchmarks, derived from the bundled demo vault (same fabrics, same vault)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core.emulator.scenario import load_scenario

DEMO = Path(__file__).resolve().parent.parent / "core" / "emulator" / "scenarios" / "demo.json"


def _base(title: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DEMO.read_text(encoding="utf-8"))
    data["title"] = title
    data["brief"] = "Generated for the benchmarks."
    data["items"] = []
    for key in ("bulk", "plans", "jobs", "faults", "training"):
        data.pop(key, None)
    return data


def _write(directory: Path, name: str, data: dict[str, Any]) -> Path:
    path = directory / f"{name}.json"
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    load_scenario(str(path))  # a broken generator should fail here, not inside a timed run
    return path


def big_vault(directory: Path, count: int) -> Path:
    """`count` items: mostly ready, with a realistic tail of other stages so stage cells differ."""
    data = _base(f"Big vault, {count} items")
    tail = max(1, count // 20)
    data["bulk"] = [
        {"prefix": "vm-", "count": count - 3 * tail, "stage": "ready", "rpo": 60},
        {"prefix": "fo-", "count": tail, "stage": "failed-over"},
        {"prefix": "cm-", "count": tail, "stage": "committed"},
        {"prefix": "pa-", "count": tail, "stage": "protected-to-azure"},
    ]
    return _write(directory, f"big-{count}", data)


def ready_items(directory: Path, count: int) -> Path:
    """`count` ready items, nothing running: the tracking benchmark starts the jobs itself."""
    data = _base(f"{count} ready items")
    data["bulk"] = [{"prefix": "vm-", "count": count, "stage": "ready", "rpo": 60}]
    return _write(directory, f"ready-{count}", data)


def running_jobs(directory: Path, count: int, *, started: str = "-30s") -> Path:
    """The demo's first items plus `count` failovers already running (the dashboard follows them on load)."""
    data = _base(f"{count} failovers running")
    data["items"] = [
        {"name": f"live-{n:02d}", "stage": "failover-running", "job_started": started, "ip": f"10.20.30.{n + 10}"}
        for n in range(1, count + 1)
    ] + [{"name": f"idle-{n:02d}", "stage": "ready", "rpo": 45} for n in range(1, 11)]
    return _write(directory, f"running-{count}", data)


def idle_vault(directory: Path) -> Path:
    """Twenty ready items and nothing running: what an idle dashboard shows."""
    data = _base("Idle vault")
    data["items"] = [{"name": f"idle-{n:02d}", "stage": "ready", "rpo": 45} for n in range(1, 21)]
    return _write(directory, "idle", data)


REGIONS = (
    "westeurope", "northeurope", "francecentral", "uksouth", "eastus", "westus2", "centralus", "southeastasia",
    "australiaeast", "japaneast",
)  # fmt: skip


def fleet(directory: Path, vaults: int, items_per_vault: int, subscriptions: int = 8, quota: int = 15) -> Path:
    """`vaults` vaults of `items_per_vault` items over `subscriptions` subscriptions and ten regions, every stage
    represented: names `v017-vm-123`, so a filter can narrow fifty thousand items key by key."""
    subs = [{"id": f"{n:08x}-0000-4000-8000-{n:012x}", "name": f"bench-{n:02d}"} for n in range(1, subscriptions + 1)]
    tail = max(1, items_per_vault // 25)
    entries = []
    for v in range(1, vaults + 1):
        bulk = [
            {"prefix": f"v{v:03d}-vm-", "count": items_per_vault - 6 * tail, "stage": "ready"},
            {"prefix": f"v{v:03d}-fo-", "count": tail, "stage": "failed-over"},
            {"prefix": f"v{v:03d}-cm-", "count": tail, "stage": "committed"},
            {"prefix": f"v{v:03d}-pa-", "count": 2 * tail, "stage": "protected-to-azure"},
            {"prefix": f"v{v:03d}-mo-", "count": tail, "stage": "ready", "provider": "InMageRcmFailback"},
            {"prefix": f"v{v:03d}-nr-", "count": tail, "stage": "not-ready", "health": "Warning"},
        ]
        entries.append(
            {
                "name": f"rsv-bench-{v:03d}",
                "subscription": subs[v % subscriptions]["id"],
                "resource_group": f"rg-bench-{v % 17:02d}",
                "location": REGIONS[v % len(REGIONS)],
                "scenario": "demo",
                "bulk": bulk,
            }
        )
    data = {
        "title": f"Benchmark fleet, {vaults} vaults × {items_per_vault} items",
        "settings": {"page_size": 1000, "quota": quota, "quota_window": "5s", "index_every": "1h"},
        "subscriptions": subs,
        "vaults": entries,
    }
    path = directory / f"fleet-{vaults}x{items_per_vault}-q{quota}.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    from core.emulator.fleet import load_fleet

    load_fleet(str(path))  # a broken generator should fail here, not inside a timed run
    return path
