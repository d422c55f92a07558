"""The emulator over real HTTPS on loopback, with a throwaway test CA, for the CLI and end-to-end tests."""

from __future__ import annotations

import datetime as dt
import http.server
import ipaddress
import json
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.clock import AcceleratedClock, Clock
from core.emulator.arm import EmulatorResponse, emulate
from core.emulator.scenario import load_scenario

if TYPE_CHECKING:
    from core.emulator.transport import Answering


@dataclass(frozen=True)
class ServerInfo:
    url: str
    ca_file: Path
    vault_id: str


def default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "avs-failback" / "emulator"


def generate_test_ca(dir: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 and localhost: (ca_pem, server_cert_pem, server_key_pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    dir.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "avs-failback emulator test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_pem, cert_pem, key_pem = dir / "ca.pem", dir / "server.pem", dir / "server-key.pem"
    ca_pem.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_bytes = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(key_pem, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key_bytes)
    return ca_pem, cert_pem, key_pem


def _make_handler(emulator: Answering) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "avs-failback-emulator"
        # The headers and the body leave in separate writes (and TLS records): with Nagle's algorithm the last
        # segment of a page would wait for the client's delayed ACK.
        disable_nagle_algorithm = True

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            try:
                answer = emulator.handle(self.command, emulator.base_url + self.path, dict(self.headers.items()), body)
            except Exception as exc:  # a bug in the simulation must not kill a training session's connection
                payload = {"error": {"code": "InternalServerError", "message": f"emulator fault: {exc}", "details": []}}
                data = json.dumps(payload).encode()
                # Without a length, a keep-alive client waits for the body's end until its read timeout.
                headers = {"Content-Type": "application/json", "Content-Length": str(len(data))}
                answer = EmulatorResponse(500, headers, data)
            if answer.drop:
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            if answer.delay:
                time.sleep(answer.delay)
            # send_response_only: the Date header is the emulator's simulated time, not the host's.
            self.send_response_only(answer.status)
            self.send_header("Server", self.version_string())
            for name, value in answer.headers.items():
                if name.lower() != "server":
                    self.send_header(name, value)
            self.end_headers()
            self.wfile.write(answer.body)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

        def log_message(self, format: str, *args: Any) -> None:
            # Request lines would echo nothing secret, but the terminal belongs to the operator's export lines.
            return

    return Handler


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


class EmulatorServer:
    """The HTTPS emulator in a background thread: start() → ServerInfo; stop()."""

    def __init__(
        self,
        scenario: str = "demo",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        speed: float = 30.0,
        state_dir: Path | None = None,
        clock: Clock | None = None,
        fleet: str | None = None,
    ) -> None:
        self.scenario_name = scenario
        self.fleet_name = fleet
        self.host = host
        self.port = port
        self.clock = clock or AcceleratedClock(speed)
        self.state_dir = state_dir or default_state_dir()
        self.emulator: Answering | None = None
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    def _bind(self) -> ServerInfo:
        ca_pem, cert_pem, key_pem = generate_test_ca(self.state_dir)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(cert_pem, key_pem)
        scenario = load_scenario(self.scenario_name) if self.fleet_name is None else None
        # Bind first: the emulator's absolute URLs must carry the real port (port 0 picks a free one).
        httpd = _Server((self.host, self.port), http.server.BaseHTTPRequestHandler, bind_and_activate=True)
        port = httpd.server_address[1]
        url = f"https://{self.host}:{port}"
        if scenario is not None:
            single = emulate(scenario, self.clock, base_url=url)
            vault_id = single.vault.arm_id
            self.emulator = single
        else:
            from core.emulator.fleet import FleetEmulator, load_fleet

            fleet = FleetEmulator(load_fleet(str(self.fleet_name)), self.clock, base_url=url)
            fleet.warm()  # Resource Graph has indexed the vaults before anyone asks
            vault_id = fleet.vault.arm_id
            self.emulator = fleet
        httpd.RequestHandlerClass = _make_handler(self.emulator)
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
        self._httpd = httpd
        return ServerInfo(url, ca_pem, vault_id)

    def start(self) -> ServerInfo:
        info = self._bind()
        assert self._httpd is not None
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="arm-emulator", daemon=True)
        self._thread.start()
        return info

    def bind(self) -> ServerInfo:
        """Listen without serving yet (serve() then serves in the calling thread)."""
        return self._bind()

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


def export_lines(info: ServerInfo) -> list[str]:
    return [
        f"export AVS_FAILBACK_ARM_ENDPOINT={info.url}",
        f"export AVS_FAILBACK_CA_BUNDLE={info.ca_file}",
        f"export AVS_FAILBACK_VAULT_ID={info.vault_id}",
        "# The emulator accepts any non-empty bearer token: the next value is a placeholder, not a secret.",
        "export AVS_FAILBACK_ACCESS_TOKEN=emulator",
    ]


def serve(
    scenario: str = "demo",
    *,
    host: str = "127.0.0.1",
    port: int = 8443,
    speed: float = 30.0,
    state_dir: Path | None = None,
    ready: Callable[[ServerInfo], None] | None = None,
    fleet: str | None = None,
) -> None:
    """Serve the emulator (a vault, or a fleet of them) over HTTPS until interrupted; prints the lines that point
    the CLI at it."""
    server = EmulatorServer(scenario, host=host, port=port, speed=speed, state_dir=state_dir, fleet=fleet)
    info = server.bind()
    httpd = server._httpd
    assert httpd is not None
    if ready is not None:
        ready(info)
    what = f"fleet {fleet!r}" if fleet else f"scenario {scenario!r}"
    print(f"ARM emulator: {what}, simulated time ×{speed:g}, listening on {info.url}", flush=True)
    for line in export_lines(info):
        print(line, flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
