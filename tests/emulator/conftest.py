"""Fixtures for the emulator tests: a small scenario on a ManualClock, and a terse way to call it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from core.clock import ManualClock
from core.emulator import ArmEmulator, EmulatorResponse, load_scenario

BASE = "https://emulator.test"
API = "api-version=2025-08-01"
AUTH = {"Authorization": "Bearer test-token"}

Call = Callable[..., EmulatorResponse]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def emulator(clock: ManualClock) -> ArmEmulator:
    return ArmEmulator(load_scenario("small"), clock, base_url=BASE)


def url(emulator: ArmEmulator, suffix: str, query: str = API) -> str:
    path = suffix if suffix.startswith("/") else f"{emulator.vault.arm_id}/{suffix}"
    return f"{BASE}{path}" + (f"?{query}" if query else "")


@pytest.fixture
def call(emulator: ArmEmulator) -> Call:
    def run(
        method: str, suffix: str, body: Any = None, *, query: str = API, headers: dict[str, str] | None = None
    ) -> EmulatorResponse:
        raw = json.dumps(body).encode() if body is not None else None
        return emulator.handle(method, url(emulator, suffix, query), AUTH if headers is None else headers, raw)

    return run


def item_path(emulator: ArmEmulator, name: str) -> str:
    """The item's path below the vault, from its ARM id."""
    full = emulator.item_id(name)
    return full.split("/vaults/", 1)[1].split("/", 1)[1]


def failover_body(point_type: str = "LatestTime", point_id: str = "", ssop: str = "NotRequired") -> dict[str, Any]:
    details: dict[str, Any] = {"instanceType": "InMage", "recoveryPointType": point_type}
    if point_id:
        details["recoveryPointId"] = point_id
    return {
        "properties": {
            "failoverDirection": "PrimaryToRecovery",
            "sourceSiteOperations": ssop,
            "providerSpecificDetails": details,
        }
    }


def reprotect_body(emulator: ArmEmulator, call: Call) -> dict[str, Any]:
    fabric = call("GET", "replicationFabrics/avs-weu-prod-01-fabric").json()["properties"]["customDetails"]
    return {
        "properties": {
            "failoverDirection": "RecoveryToPrimary",
            "providerSpecificDetails": {
                "instanceType": "InMageAzureV2",
                "processServerId": fabric["processServers"][0]["id"],
                "masterTargetId": fabric["masterTargetServers"][0]["id"],
                "runAsAccountId": "2",
                "policyId": f"{emulator.vault.arm_id}/replicationPolicies/avs-to-azure",
            },
        }
    }


def job_name(response: EmulatorResponse) -> str:
    return response.headers["Azure-AsyncOperation"].split("?")[0].rsplit("/", 1)[1]
