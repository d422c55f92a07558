"""The ARM emulator: a simulated Recovery Services vault behind the real ARM REST surface."""

from typing import TYPE_CHECKING

from core.emulator.arm import ArmEmulator, EmulatorResponse, RequestStats, emulate, rehearse
from core.emulator.faults import Fault, FaultPlan
from core.emulator.scenario import Scenario, ScenarioError, ScenarioInfo, list_scenarios, load_scenario
from core.emulator.transport import EmulatorTransport
from core.emulator.vault import ArmError

if TYPE_CHECKING:
    from core.emulator.server import EmulatorServer, ServerInfo, generate_test_ca, serve

_SERVER_NAMES = ("EmulatorServer", "ServerInfo", "generate_test_ca", "serve")


def __getattr__(name: str) -> object:
    # The HTTPS server (http.server, ssl, cryptography) loads only when asked for: the in-process demo never is.
    if name in _SERVER_NAMES:
        from core.emulator import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ArmEmulator",
    "ArmError",
    "EmulatorResponse",
    "EmulatorServer",
    "EmulatorTransport",
    "Fault",
    "FaultPlan",
    "RequestStats",
    "Scenario",
    "ScenarioError",
    "ScenarioInfo",
    "ServerInfo",
    "generate_test_ca",
    "emulate",
    "list_scenarios",
    "load_scenario",
    "rehearse",
    "serve",
]
