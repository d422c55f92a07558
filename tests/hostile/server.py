"""A small hostile HTTPS server of our own: loopback only, bounded in time and size, fronting the emulator.

`Hostile.front` answers for the configured ARM endpoint: every request goes to an in-process emulator, and a test's
`rewrite(request, answer)` may change the answer first (a nextLink to elsewhere, a 307, a 429, a 5 MB error).
`Hostile.other` is a second origin on another port with the same test CA, so that only the client's pinning —
not TLS — can keep the token from it: it records what it is sent and answers a plausible page of a planted VM.

Both are served by the emulator's own HTTPS handler (core.emulator.server), so the wire is the same as `emulator
serve`'s. Bounds: each server answers at most MAX_REQUESTS requests (then drops connections, so a client that
loops fails instead of spinning), hands a rewrite at most MAX_BODY bytes of a request body, waits at most TIMEOUT
seconds on a socket and delays no answer longer than that.
"""

from __future__ import annotations

import http.server
import json
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.clock import ManualClock
from core.emulator import ArmEmulator, EmulatorResponse, load_scenario
from core.emulator.server import _make_handler, generate_test_ca

MAX_REQUESTS = 300
MAX_BODY = 1 << 20
TIMEOUT = 10.0
TOKEN = "hostile-test-token-7f3a9c1e5b"
PLANTED = "planted-vm-from-elsewhere"


@dataclass
class Seen:
    method: str
    path: str
    authorization: str


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    number: int  # 1-based, per server


Rewrite = Callable[[Request, EmulatorResponse], EmulatorResponse]


@dataclass
class _Origin:
    url: str
    seen: list[Seen] = field(default_factory=list)
    httpd: Any = None
    thread: threading.Thread | None = None

    def tokens_received(self) -> list[str]:
        return [s.authorization for s in self.seen if s.authorization]


def planted_page(path: str) -> EmulatorResponse:
    """What the other origin answers: a list page with one VM in it, in ARM's shape."""
    doc = {
        "id": f"{path.split('?')[0]}/{PLANTED}",
        "name": PLANTED,
        "type": "Microsoft.RecoveryServices/vaults/replicationFabrics/replicationProtectionContainers/"
        "replicationProtectedItems",
        "properties": {"friendlyName": PLANTED, "protectionState": "Protected", "allowedOperations": []},
    }
    body = json.dumps({"value": [doc], "nextLink": None}).encode()
    return EmulatorResponse(200, {"Content-Type": "application/json", "Content-Length": str(len(body))}, body)


Answer = Callable[[Request], EmulatorResponse]


class _Answerer:
    """What the emulator's own HTTPS handler serves from: records each request, and answers through `answer`."""

    def __init__(self, origin: _Origin, answer: Answer) -> None:
        self.origin = origin
        self.answer = answer
        self.base_url = origin.url

    def handle(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> EmulatorResponse:
        path = url.removeprefix(self.base_url)
        if len(self.origin.seen) >= MAX_REQUESTS:  # a client in a loop: it fails instead of spinning on
            return EmulatorResponse(503, {}, b"", drop=True)
        self.origin.seen.append(Seen(method, path, headers.get("Authorization", "")))
        body = body[:MAX_BODY] if body else body
        response = self.answer(Request(method, path, headers, body, len(self.origin.seen)))
        response.delay = min(response.delay, TIMEOUT)
        return response


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


@dataclass
class Hostile:
    front: _Origin
    other: _Origin
    emulator: ArmEmulator
    clock: ManualClock
    ca_file: Path
    rewrite: Rewrite | None = None

    @property
    def vault_id(self) -> str:
        return self.emulator.vault.arm_id

    def env(self) -> dict[str, str]:
        """What an operator would export to point the CLI at the front server."""
        return {
            "AVS_FAILBACK_ARM_ENDPOINT": self.front.url,
            "AVS_FAILBACK_CA_BUNDLE": str(self.ca_file),
            "AVS_FAILBACK_VAULT_ID": self.vault_id,
            "AVS_FAILBACK_ACCESS_TOKEN": TOKEN,
        }

    def _front_answer(self, request: Request) -> EmulatorResponse:
        response = self.emulator.handle(
            request.method, self.emulator.base_url + request.path, request.headers, request.body
        )
        return self.rewrite(request, response) if self.rewrite is not None else response


def _start(origin: _Origin, context: ssl.SSLContext, answer: Answer) -> None:
    handler = _make_handler(_Answerer(origin, answer))  # type: ignore[arg-type]  # it needs handle and base_url
    handler.timeout = TIMEOUT
    origin.httpd.RequestHandlerClass = handler
    origin.httpd.socket = context.wrap_socket(origin.httpd.socket, server_side=True)
    origin.thread = threading.Thread(target=origin.httpd.serve_forever, name="hostile", daemon=True)
    origin.thread.start()


def _bind() -> _Origin:
    httpd = _Server(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    httpd.timeout = TIMEOUT
    return _Origin(f"https://127.0.0.1:{httpd.server_address[1]}", httpd=httpd)


@contextmanager
def hostile(tmp_path: Path, scenario: str = "small", *, page_size: int | None = None) -> Iterator[Hostile]:
    """Both servers up for the test's duration, torn down after (each join bounded by TIMEOUT)."""
    ca, cert, key = generate_test_ca(tmp_path / "hostile-ca")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    front, other = _bind(), _bind()
    clock = ManualClock()
    emulator = ArmEmulator(load_scenario(scenario), clock, base_url=front.url, page_size=page_size)
    rig = Hostile(front, other, emulator, clock, ca)
    _start(front, context, rig._front_answer)
    _start(other, context, lambda request: planted_page(request.path))
    try:
        yield rig
    finally:
        for origin in (front, other):
            origin.httpd.shutdown()
            origin.httpd.server_close()
            if origin.thread is not None:
                origin.thread.join(timeout=TIMEOUT)


def with_json(response: EmulatorResponse, change: Callable[[dict[str, Any]], None]) -> EmulatorResponse:
    """The answer with its JSON body changed in place by `change`."""
    body = json.loads(response.body)
    change(body)
    data = json.dumps(body).encode()
    return EmulatorResponse(response.status, {**response.headers, "Content-Length": str(len(data))}, data)


def answer(status: int, headers: dict[str, str] | None = None, body: Any = None) -> EmulatorResponse:
    data = json.dumps(body).encode() if body is not None else b""
    base = {"Content-Type": "application/json"} if body is not None else {}
    return EmulatorResponse(status, {**base, **(headers or {})}, data)
