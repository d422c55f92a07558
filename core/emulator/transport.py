"""In-process transport: azure-core's real RequestsTransport over a requests adapter that calls the emulator."""

from __future__ import annotations

import http
import io
import time
from typing import Any, Protocol

import requests
import urllib3
from azure.core.pipeline.transport import RequestsTransport
from requests.adapters import HTTPAdapter

from core.clock import Clock, ManualClock
from core.emulator.arm import EmulatorResponse


class Answering(Protocol):
    """What the transport calls: one simulated vault (ArmEmulator) or a fleet of them (FleetEmulator)."""

    base_url: str
    clock: Clock

    def handle(self, method: str, url: str, headers: Any, body: bytes | None) -> EmulatorResponse: ...


def _body_bytes(body: Any) -> bytes | None:
    if body is None:
        return None
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    if hasattr(body, "read"):
        data = body.read()
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    return b"".join(part if isinstance(part, bytes) else str(part).encode() for part in body)


class EmulatorAdapter(HTTPAdapter):
    """Answers from the emulator instead of a socket, and builds the Response with requests' own code."""

    def __init__(self, emulator: Answering) -> None:
        super().__init__()
        self.emulator = emulator

    def _wait(self, seconds: float) -> None:
        clock = self.emulator.clock
        if isinstance(clock, ManualClock):
            clock.advance(seconds)
        else:
            time.sleep(seconds)

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        answer = self.emulator.handle(
            request.method or "GET",
            request.url or "",
            {k: str(v) for k, v in request.headers.items()},
            _body_bytes(request.body),
        )
        if answer.drop:
            raise requests.ConnectionError(
                "('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))",
                request=request,
            )
        if answer.delay:
            read_timeout = timeout[1] if isinstance(timeout, tuple) else timeout
            if read_timeout is not None and answer.delay > float(read_timeout):
                self._wait(float(read_timeout))
                raise requests.ReadTimeout(f"Read timed out. (read timeout={read_timeout})", request=request)
            self._wait(answer.delay)
        try:
            reason = http.HTTPStatus(answer.status).phrase
        except ValueError:
            reason = ""
        raw = urllib3.HTTPResponse(
            body=io.BytesIO(answer.body),
            headers=answer.headers,
            status=answer.status,
            reason=reason,
            preload_content=False,
            decode_content=False,
            request_url=request.url,
        )
        return self.build_response(request, raw)


class _NoNetworkAdapter(HTTPAdapter):
    """Anything not addressed to the emulator fails loudly: an in-process vault never touches the network."""

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        raise requests.ConnectionError(f"in-process emulator transport: no network for {request.url}", request=request)


class EmulatorTransport(RequestsTransport):  # type: ignore[misc]
    """azure-core's RequestsTransport, unchanged, over a session whose only route leads to the emulator."""

    def __init__(self, emulator: Answering, **kwargs: Any) -> None:
        session = requests.Session()
        session.trust_env = False
        session.mount("https://", _NoNetworkAdapter())
        session.mount("http://", _NoNetworkAdapter())
        session.mount(emulator.base_url, EmulatorAdapter(emulator))
        kwargs.setdefault("session", session)
        kwargs.setdefault("session_owner", False)
        kwargs.setdefault("connection_data_block_size", 1 << 20)  # a page is read in one block, not seventy
        super().__init__(**kwargs)
        self.emulator = emulator

    def sleep(self, duration: float) -> None:
        # Retry backoff and LRO polling sleep here: simulated time moves instead of real time.
        clock = self.emulator.clock
        if isinstance(clock, ManualClock):
            clock.advance(duration)
