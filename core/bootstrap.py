"""The composition root: settings in, a ready Backend out. The CLI, the TUI and the tests all build here."""

from __future__ import annotations

from typing import Any

from core.clock import AcceleratedClock, Clock
from core.config import Settings, StaticTokenCredential, make_credential
from core.errors import UsageError
from core.sanitize import one_line

# The in-process emulator answers on a host that cannot exist on any network, over https:// because the
# SDK's bearer-token policy refuses plain http.
EMULATOR_BASE_URL = "https://emulator.avs-failback.invalid"


def build_backend(settings: Settings, *, clock: Clock | None = None, emulator: Any = None) -> Any:
    """An AzureBackend: on Azure (or another ARM endpoint) from settings, or on the in-process emulator.

    With settings.demo the emulator runs settings.scenario on `clock` (default: real time × settings.speed),
    and no real credential is ever constructed.
    """
    from core.azure.backend import AzureBackend

    if settings.demo and settings.fleet and emulator is None:
        # One vault of an emulated fleet, as the fleet's dashboard opens it.
        if settings.vault is None:
            raise UsageError(f"--fleet {settings.fleet} names a fleet: pass --vault-id of one of its vaults.")
        fleet = build_fleet(settings, clock=clock)
        return fleet.open_vault(settings.vault)
    if settings.demo or emulator is not None:
        from core.emulator import EmulatorTransport, ScenarioError, emulate, load_scenario

        if emulator is None:
            sim_clock = clock or AcceleratedClock(speed=settings.speed)
            try:
                emulator = emulate(load_scenario(settings.scenario), sim_clock, base_url=EMULATOR_BASE_URL)
            except ScenarioError as exc:
                raise UsageError(
                    f"Cannot run the scenario: {one_line(exc, 400)}",
                    hint="`avs-failback train --check FILE` lists what is wrong with a file; the bundled scenarios "
                    "are listed by `avs-failback train --list` (and demo, small).",
                ) from None
        backend = AzureBackend(
            emulator.vault,
            StaticTokenCredential("emulator"),
            arm_endpoint=emulator.base_url,
            transport=EmulatorTransport(emulator),
            clock=emulator.clock,
            read_only=settings.read_only,
            simulated=True,
            retry_total=3,
            rehearse=settings.rehearse,
        )
        return rehearsing(backend, settings)
    if settings.vault is None:
        raise UsageError(
            "No vault given.",
            hint=(
                "Pass --vault-id /subscriptions/…/resourceGroups/…/providers/Microsoft.RecoveryServices/vaults/…, "
                "or --subscription/--resource-group/--vault, or --profile NAME, or set AVS_FAILBACK_VAULT_ID. "
                "To try the tool without Azure: avs-failback demo"
            ),
        )
    credential = make_credential(settings)
    live = AzureBackend(
        settings.vault,
        credential,
        arm_endpoint=settings.arm_endpoint,
        credential_scopes=[settings.credential_scope],
        ca_bundle=settings.ca_bundle,
        clock=clock,
        read_only=settings.read_only,
        simulated=False,
        rehearse=settings.rehearse,
    )
    return rehearsing(live, settings)


def rehearsing(backend: Any, settings: Settings) -> Any:
    """The backend as it is, or, for a rehearsal, wrapped so that its steps go on on a simulation of the vault."""
    if not settings.rehearse:
        return backend
    from core.rehearsal import RehearsalBackend

    return RehearsalBackend(backend, backend.rehearsal_transport)


def build_fleet(settings: Settings, *, clock: Clock | None = None, emulator: Any = None) -> Any:
    """A core.fleet.FleetReader: Resource Graph over the fleet, and a way to open each vault over ARM.

    With settings.demo the emulated fleet settings.fleet runs on `clock`; no real credential is ever constructed.
    Otherwise the credential of the settings serves Resource Graph and every vault opened from it.
    """
    from core.azure.backend import AzureBackend
    from core.azure.graph import ResourceGraphReader
    from core.fleet import FleetReader
    from core.model import VaultRef

    if settings.demo or emulator is not None:
        from core.emulator import EmulatorTransport
        from core.emulator.fleet import FleetEmulator, load_fleet

        if emulator is None:
            sim_clock = clock or AcceleratedClock(speed=settings.speed)
            emulator = FleetEmulator(load_fleet(settings.fleet or "demo"), sim_clock, base_url=EMULATOR_BASE_URL)
        fake = StaticTokenCredential("emulator")
        graph = ResourceGraphReader(
            fake, arm_endpoint=emulator.base_url, transport=EmulatorTransport(emulator), clock=emulator.clock
        )

        def open_emulated(ref: VaultRef) -> Any:
            return AzureBackend(
                ref,
                fake,
                arm_endpoint=emulator.base_url,
                transport=graph.transport,
                clock=emulator.clock,
                read_only=settings.read_only,
                simulated=True,
            )

        return FleetReader(
            graph, open_emulated, subscriptions=settings.subscriptions, simulated=True, read_only=settings.read_only
        )
    credential = make_credential(settings)
    scopes = [settings.credential_scope]
    graph = ResourceGraphReader(
        credential,
        arm_endpoint=settings.arm_endpoint,
        credential_scopes=scopes,
        ca_bundle=settings.ca_bundle,
        clock=clock,
    )

    def open_azure(ref: VaultRef) -> Any:
        return AzureBackend(
            ref,
            credential,
            arm_endpoint=settings.arm_endpoint,
            credential_scopes=scopes,
            ca_bundle=settings.ca_bundle,
            transport=graph.transport,
            clock=clock,
            read_only=settings.read_only,
        )

    return FleetReader(graph, open_azure, subscriptions=settings.subscriptions, read_only=settings.read_only)
