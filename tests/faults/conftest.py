"""The fault matrix's rig: the real AzureBackend on the emulator, a journal, Operations, and a wiretap on the wire."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from azure.core.credentials import AccessToken

from core.azure.backend import AzureBackend
from core.bootstrap import EMULATOR_BASE_URL, build_backend
from core.clock import ManualClock
from core.config import Settings
from core.emulator import ArmEmulator, EmulatorResponse, EmulatorServer, EmulatorTransport, load_scenario
from core.journal import Journal
from core.model import ProtectedItem, VaultRef
from core.operations import Operations


@dataclasses.dataclass(frozen=True)
class Exchange:
    method: str
    path: str
    status: int  # 0: the connection dropped, no answer
    token: str  # kept in memory only, to show which token a request carried


class Wiretap:
    """Records every request the emulator answers, and can act on the vault just before one is answered."""

    def __init__(self, emulator: ArmEmulator) -> None:
        self.emulator = emulator
        self.exchanges: list[Exchange] = []
        self.before: Callable[[str, str], None] | None = None
        # Rewrites a 200's JSON body, for damage no emulator fault produces (a state name from a newer ASR).
        self.rewrite: Callable[[str, str, Any], Any] | None = None
        real = emulator.handle

        def handle(method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> EmulatorResponse:
            path = url.split("?", 1)[0]
            if self.before is not None:
                self.before(method.upper(), path)
            answer = real(method, url, headers, body)
            if self.rewrite is not None and answer.status == 200 and answer.body:
                answer.body = json.dumps(self.rewrite(method.upper(), path, json.loads(answer.body))).encode()
                answer.headers["Content-Length"] = str(len(answer.body))
            auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
            status = 0 if answer.drop else answer.status
            self.exchanges.append(Exchange(method.upper(), path, status, auth[7:] if auth else ""))
            return answer

        emulator.handle = handle  # type: ignore[method-assign]

    def posts(self, suffix: str = "") -> list[Exchange]:
        return [e for e in self.exchanges if e.method == "POST" and e.path.lower().endswith(suffix.lower())]

    def accepted_posts(self) -> list[Exchange]:
        return [e for e in self.posts() if e.status == 202]


@dataclasses.dataclass
class Rig:
    emulator: ArmEmulator
    backend: AzureBackend
    journal: Journal
    ops: Operations
    clock: ManualClock
    wire: Wiretap
    journal_path: Path

    def item(self, name: str) -> ProtectedItem:
        return self.backend.get_item(self.emulator.item_id(name))

    def post_count(self) -> int:
        """POSTs as the emulator's own counters see them."""
        return sum(n for kind, n in self.emulator.stats.by_kind.items() if kind.startswith("POST"))

    def assert_no_operation_twice(self) -> None:
        """No target ever accepted two requests, and no request was refused then silently resent unless the refusal
        said it was not carried out (429 and 5xx before ASR acted)."""
        accepted = [e.path.rsplit("/", 1)[0] for e in self.wire.accepted_posts()]
        assert len(accepted) == len(set(accepted)), f"a target accepted two operations: {accepted}"
        assert self.post_count() == len(self.wire.posts())  # the emulator's own counters agree with the wiretap

    def kinds(self) -> list[str]:
        return [str(r["kind"]) for r in self.journal.entries()]

    def assert_journal_complete(self) -> None:
        """Every intent has its outcome: sent, refused, abandoned, or a job attached on its target after it."""
        records = self.journal.entries()
        assert self.journal.unreadable_lines == []
        closed = {r.get("intent") for r in records if r["kind"] in ("sent", "refused", "abandoned")}
        for index, record in enumerate(records):
            if record["kind"] != "intent" or record["intent"] in closed:
                continue
            later = [
                r for r in records[index + 1 :] if r["kind"] == "attached" and r["target_id"] == record["target_id"]
            ]
            assert later, f"intent {record['operation']} on {record['target_name']} has no outcome"


class RotatingCredential:
    """Hands out a different token each time one is asked for (as a refreshed sign-in does)."""

    def __init__(self, prefix: str = "rotating-token") -> None:
        self.prefix = prefix
        self.issued: list[str] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        token = f"{self.prefix}-{len(self.issued) + 1}"
        self.issued.append(token)
        return AccessToken(token, int(time.time()) + 3600)

    def close(self) -> None:
        return None


def make_rig(tmp_path: Path, *, credential: Any = None, page_size: int | None = None) -> Rig:
    clock = ManualClock()
    emulator = ArmEmulator(load_scenario("demo"), clock, base_url=EMULATOR_BASE_URL, page_size=page_size)
    wire = Wiretap(emulator)
    if credential is None:
        backend = build_backend(Settings(demo=True), emulator=emulator)
    else:
        backend = AzureBackend(
            emulator.vault,
            credential,
            arm_endpoint=emulator.base_url,
            transport=EmulatorTransport(emulator),
            clock=clock,
            simulated=True,
        )
    path = tmp_path / "state" / "journal.jsonl"
    journal = Journal(path, clock=clock, who="oncall-a", host="jump-01", terminal="")
    return Rig(emulator, backend, journal, Operations(backend, journal), clock, wire, path)


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    return make_rig(tmp_path)


@pytest.fixture
def https_rig(tmp_path: Path) -> Iterator[Rig]:
    """The same, over real HTTPS on loopback: real sockets, TLS and timeouts (read timeout 0.5 s)."""
    clock = ManualClock()
    server = EmulatorServer("demo", clock=clock, state_dir=tmp_path / "emulator")
    info = server.start()
    try:
        assert server.emulator is not None
        emulator = server.emulator
        wire = Wiretap(emulator)
        backend = AzureBackend(
            VaultRef.parse(info.vault_id),
            RotatingCredential("https-token"),
            arm_endpoint=info.url,
            ca_bundle=str(info.ca_file),
            clock=clock,
            simulated=True,
            client_kwargs={"read_timeout": 0.5, "retry_backoff_factor": 0.01},
        )
        path = tmp_path / "state" / "journal.jsonl"
        journal = Journal(path, clock=clock, who="oncall-a", host="jump-01", terminal="")
        yield Rig(emulator, backend, journal, Operations(backend, journal), clock, wire, path)
    finally:
        server.stop()
