"""The in-process transport under the real SDK, and the HTTPS server reached with the generated CA."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests
from azure.core.credentials import AccessToken
from azure.core.rest import HttpRequest

from core.clock import ManualClock
from core.emulator import ArmEmulator, EmulatorServer, EmulatorTransport, generate_test_ca
from tests.emulator.conftest import AUTH, BASE, url


class _Token:
    """A credential for the emulator, which takes any non-empty bearer token."""

    def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
        return AccessToken("emulator", int(time.time()) + 3600)


def _client(emulator: ArmEmulator):  # type: ignore[no-untyped-def]
    from azure.mgmt.recoveryservicessiterecovery import SiteRecoveryManagementClient

    return SiteRecoveryManagementClient(
        _Token(), emulator.vault.subscription_id, base_url=BASE, transport=EmulatorTransport(emulator), retry_total=3
    )


def test_transport_sleep_moves_a_manual_clock(emulator: ArmEmulator, clock: ManualClock) -> None:
    transport = EmulatorTransport(emulator)
    before = clock.now()
    transport.sleep(42)
    assert (clock.now() - before).total_seconds() == 42


def test_transport_refuses_other_hosts(emulator: ArmEmulator) -> None:
    transport = EmulatorTransport(emulator)
    with pytest.raises(Exception, match="no network"):
        transport.send(HttpRequest("GET", "https://login.microsoftonline.com/x"))


def test_transport_builds_real_responses(emulator: ArmEmulator) -> None:
    transport = EmulatorTransport(emulator)
    response = transport.send(HttpRequest("GET", url(emulator, "replicationFabrics"), headers=AUTH))
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["value"][0]["properties"]["customDetails"]["instanceType"] == "VMware"


def test_sdk_lists_pages_and_runs_a_polled_failover(emulator: ArmEmulator, clock: ManualClock) -> None:
    client = _client(emulator)
    vault = emulator.vault
    items = list(client.replication_protected_items.list(vault.resource_group, vault.name))
    assert len(items) == 5  # three pages of two, followed by the SDK's pager
    plan_items = list(
        client.replication_protected_items.list(
            vault.resource_group, vault.name, filter="RecoveryPlanName eq 'rp-shop'"
        )
    )
    assert sorted(i.properties.friendly_name for i in plan_items) == ["db-01", "web-01", "web-02"]
    web = next(i for i in items if i.properties.friendly_name == "web-01")
    parts = web.id.split("/")
    fabric, container = (
        parts[parts.index("replicationFabrics") + 1],
        parts[parts.index("replicationProtectionContainers") + 1],
    )
    body = {
        "properties": {
            "failoverDirection": "PrimaryToRecovery",
            "sourceSiteOperations": "NotRequired",
            "providerSpecificDetails": {"instanceType": "InMage", "recoveryPointType": "LatestTime"},
        }
    }
    poller = client.replication_protected_items.begin_unplanned_failover(
        vault.resource_group, vault.name, fabric, container, web.name, body
    )
    result = poller.result()  # polls Azure-AsyncOperation, then GETs Location; the transport's sleep moves time
    assert result.properties.protection_state == "UnplannedFailoverCommitPendingStatesBegin"
    assert emulator.stats.count("GET replicationOperationStatus/{job}") >= 2
    assert emulator.stats.count("GET operationresults/{job}") == 1
    jobs = list(client.replication_jobs.list(vault.resource_group, vault.name, filter="JobStatus eq 'Succeeded'"))
    assert any(j.properties.scenario_name == "UnplannedFailover" for j in jobs)


def test_generate_test_ca_writes_a_private_key_only_the_owner_reads(tmp_path: Path) -> None:
    ca, cert, key = generate_test_ca(tmp_path)
    assert ca.read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert cert.exists()
    assert key.stat().st_mode & 0o077 == 0


@pytest.mark.server
def test_https_server_with_generated_ca(tmp_path: Path) -> None:
    server = EmulatorServer("small", port=0, speed=30.0, state_dir=tmp_path)
    info = server.start()
    try:
        assert info.url.startswith("https://127.0.0.1:")
        assert info.vault_id.endswith("/vaults/rsv-avs-dr-weu")
        target = f"{info.url}{info.vault_id}/replicationProtectedItems?api-version=2025-08-01"
        response = requests.get(target, headers=AUTH, verify=str(info.ca_file), timeout=10)
        assert response.status_code == 200
        link = response.json()["nextLink"]
        assert link.startswith(info.url + "/Subscriptions/")
        assert requests.get(link, headers=AUTH, verify=str(info.ca_file), timeout=10).status_code == 200
        assert requests.get(target, verify=str(info.ca_file), timeout=10).status_code == 401
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(target, headers=AUTH, timeout=10)  # the system trust store does not know the test CA
        assert server.emulator is not None
        from core.emulator import Fault

        server.emulator.faults.add(Fault("drop", path="*/replicationjobs"))
        with pytest.raises(requests.ConnectionError):
            requests.get(
                f"{info.url}{info.vault_id}/replicationJobs?api-version=1",
                headers=AUTH,
                verify=str(info.ca_file),
                timeout=10,
            )
    finally:
        server.stop()


def test_export_lines_point_the_cli_at_the_server(tmp_path: Path) -> None:
    from core.emulator.server import ServerInfo, export_lines

    info = ServerInfo(
        "https://127.0.0.1:8443",
        tmp_path / "ca.pem",
        "/subscriptions/s/resourceGroups/g/providers/Microsoft.RecoveryServices/vaults/v",
    )
    lines = export_lines(info)
    exports = dict(line.removeprefix("export ").split("=", 1) for line in lines if line.startswith("export "))
    assert exports == {
        "AVS_FAILBACK_ARM_ENDPOINT": "https://127.0.0.1:8443",
        "AVS_FAILBACK_CA_BUNDLE": str(tmp_path / "ca.pem"),
        "AVS_FAILBACK_VAULT_ID": info.vault_id,
        "AVS_FAILBACK_ACCESS_TOKEN": "emulator",
    }
    assert any(line.startswith("#") and "not a secret" in line for line in lines)
