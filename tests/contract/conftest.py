"""The contract suite's backends: the same AzureBackend on the emulator in-process and over real HTTPS."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from core.azure.backend import AzureBackend
from core.bootstrap import EMULATOR_BASE_URL, build_backend
from core.clock import ManualClock
from core.config import Settings, StaticTokenCredential
from core.emulator import ArmEmulator, EmulatorServer, load_scenario
from core.model import VaultRef


@dataclass
class Rig:
    """A backend and the emulator behind it (to advance time, count requests and inject faults)."""

    backend: AzureBackend
    emulator: ArmEmulator
    clock: ManualClock
    how: str


PAGE_SIZE = 7


@pytest.fixture(params=["in-process", "https"])
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rig]:
    clock = ManualClock()
    if request.param == "in-process":
        emulator = ArmEmulator(load_scenario("demo"), clock, base_url=EMULATOR_BASE_URL, page_size=PAGE_SIZE)
        backend = build_backend(Settings(demo=True), emulator=emulator)
        yield Rig(backend, emulator, clock, request.param)
        return
    server = EmulatorServer("demo", clock=clock, state_dir=tmp_path / "emulator")
    info = server.start()
    try:
        assert server.emulator is not None
        server.emulator.page_size = PAGE_SIZE
        backend = AzureBackend(
            VaultRef.parse(info.vault_id),
            StaticTokenCredential("emulator"),
            arm_endpoint=info.url,
            ca_bundle=str(info.ca_file),
            clock=clock,
            simulated=True,
        )
        yield Rig(backend, server.emulator, clock, request.param)
    finally:
        server.stop()


def advance_until(rig: Rig, predicate: Any, *, step: float = 30.0, limit: float = 3600.0) -> None:
    """Move simulated time on until `predicate()` holds (a failover takes minutes of simulated time)."""
    waited = 0.0
    while not predicate():
        assert waited < limit, f"condition still false after {limit:.0f} simulated seconds"
        rig.clock.advance(step)
        waited += step
