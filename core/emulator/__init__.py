"""The ARM emulator: a simulated Recovery Services vault behind the real ARM REST surface."""

from core.emulator.arm import ArmEmulator, EmulatorResponse, RequestStats
from core.emulator.faults import Fault, FaultPlan
from core.emulator.scenario import Scenario, ScenarioError, ScenarioInfo, list_scenarios, load_scenario
from core.emulator.server import EmulatorServer, ServerInfo, generate_test_ca, serve
from core.emulator.transport import EmulatorTransport
from core.emulator.vault import ArmError

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
    "list_scenarios",
    "load_scenario",
    "serve",
]
