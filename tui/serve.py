"""`avs-failback serve`: the dashboard in a browser through textual-serve, on loopback only, reached over SSH.

A browser session can read the dashboard and type into it (with --allow-real-vault, send a failover with the
operator's token). So beyond the loopback address: every URL carries a random secret made for this run (printed
to the operator only, never in the command the sessions run), the Host header must name the served address (a
DNS-rebinding page names its own), the WebSocket's Origin must be the served page's, and only so many sessions
may be open at once. The page is sent with no-referrer, no-store and no framing.
"""

from __future__ import annotations

import argparse
import hmac
import secrets
import shlex
import socket
import sys
from pathlib import Path
from typing import Any

from core import numbers

LOOPBACK = "127.0.0.1"
PAGE_DIR = Path(__file__).resolve().parent / "serve_page"
DEFAULT_PORT = 8000
DEFAULT_SESSIONS = 2  # the operator's tab, and the same tab reloaded while the old socket closes
MOST_SESSIONS = 16
# Accepted spellings of the one address the server binds to; anything else is refused, not translated.
_LOOPBACK_NAMES = ("127.0.0.1", "localhost")


class ServeError(Exception):
    exit_code = 2


def _parser() -> argparse.ArgumentParser:
    from cli.options import Formatter, examples_text

    parser = argparse.ArgumentParser(
        prog="avs-failback serve",
        usage="avs-failback serve [OPTIONS]",
        description="Serve the dashboard to a browser on this machine's loopback address (reach it over an SSH "
        "tunnel). Emulated vaults only, unless --allow-real-vault is given.",
        epilog=examples_text(
            ("the demo vault for a browser (prints the address with its secret)", "avs-failback serve"),
            ("a classroom: the lesson picker", "avs-failback serve --train --port 8001"),
            ("from a laptop, then open the printed address", "ssh -L 8000:127.0.0.1:8000 jumpbox"),
        ),
        formatter_class=Formatter,
    )
    parser.add_argument(
        "--port", type=numbers.port, default=DEFAULT_PORT, help=f"loopback port (default {DEFAULT_PORT})"
    )
    parser.add_argument("--host", default=LOOPBACK, help="only 127.0.0.1 is accepted: the server never listens outside")
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--scenario", help="the demo dashboard on this emulator scenario")
    what.add_argument("--train", action="store_true", help="training mode: the lesson picker")
    parser.add_argument("--lesson", help="with --train: open this lesson directly")
    parser.add_argument(
        "--allow-real-vault",
        action="store_true",
        help="serve the dashboard on a real vault (vault options follow); every browser session can act on it",
    )
    parser.add_argument("--speed", type=numbers.speed, help="demo clock: simulated seconds per real second")
    parser.add_argument(
        "--max-sessions",
        type=numbers.count,
        default=DEFAULT_SESSIONS,
        metavar="N",
        help=f"browser sessions open at once (default {DEFAULT_SESSIONS}, at most {MOST_SESSIONS}); more are refused",
    )
    return parser


def build_command(args: argparse.Namespace, passthrough: list[str]) -> str:
    """The command textual-serve starts for each browser session."""
    base = [sys.executable, "-m", "tui.main"]
    if args.train:
        base.append("train")
        if args.lesson:
            base += ["--scenario", args.lesson]
    elif args.scenario or not args.allow_real_vault:
        base += ["demo", "--scenario", args.scenario or "demo"]
        if args.speed is not None:
            base += ["--speed", f"{args.speed:g}"]
    else:
        base += passthrough
    if passthrough and not args.allow_real_vault:
        raise ServeError(
            f"unexpected arguments {' '.join(passthrough)}: vault options need --allow-real-vault "
            "(serve runs emulated vaults only by default)"
        )
    return " ".join(shlex.quote(part) for part in base)


def check_host(host: str) -> str:
    if host.strip().lower() not in _LOOPBACK_NAMES:
        raise ServeError(
            f"refusing to listen on {host!r}: serve binds to {LOOPBACK} only. A browser session can drive "
            f"the dashboard, so reach it through an SSH tunnel instead of exposing it: "
            f"ssh -L {DEFAULT_PORT}:{LOOPBACK}:{DEFAULT_PORT} <this host>"
        )
    return LOOPBACK


def check_port(port: int) -> int:
    if not 1 <= port <= 65535:
        raise ServeError(f"--port {port}: a TCP port is 1 to 65535")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((LOOPBACK, port))
        except OSError as exc:
            raise ServeError(f"cannot listen on {LOOPBACK}:{port}: {exc.strerror or exc}") from exc
    return port


def new_secret() -> str:
    """The secret of one run: 192 random bits, URL-safe."""
    return secrets.token_urlsafe(24)


def page_url(port: int, secret: str) -> str:
    return f"http://{LOOPBACK}:{port}/{secret}/"


def how_to_reach(port: int, secret: str) -> str:
    return (
        f"Serving on {page_url(port, secret)} (this machine only).\n"
        f"From your own machine: ssh -L {port}:{LOOPBACK}:{port} <user>@<this host>\n"
        f"then open {page_url(port, secret)} in a browser. The address holds this run's secret: keep it to "
        "yourself (anyone with it can drive the dashboard); it changes each time serve starts. Keep the same port "
        "on both ends: the page connects back to the address it was served from. Ctrl+C stops the server."
    )


def make_server(command: str, *, port: int, title: str, secret: str, max_sessions: int) -> Any:
    """textual-serve's Server behind the secret, the Host and Origin checks and the session cap."""
    from aiohttp import web
    from textual_serve.server import Server

    allowed_hosts = {f"{LOOPBACK}:{port}", f"localhost:{port}"}
    allowed_origins = {f"http://{host}" for host in allowed_hosts}
    prefix = f"/{secret}/"

    def refused(status: int, text: str) -> Any:
        return web.Response(status=status, text=text + "\n", headers={"Cache-Control": "no-store"})

    @web.middleware
    async def guard(request: web.Request, handler: Any) -> Any:
        if request.host not in allowed_hosts:
            return refused(421, f"This server answers for {LOOPBACK}:{port} only.")
        given = request.path[1 : 1 + len(secret)] if request.path.startswith("/") else ""
        if not hmac.compare_digest(given.encode(), secret.encode()) or not request.path.startswith(prefix):
            return refused(404, "Not found. Open the address that `avs-failback serve` printed.")
        response = await handler(request)
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
        return response

    class GuardedServer(Server):  # type: ignore[misc]
        sessions = 0

        async def _make_app(self) -> web.Application:
            # textual-serve's own routes (page, websocket, static files, downloads), mounted under the secret.
            inner = await super()._make_app()
            root = web.Application(middlewares=[guard])
            root.add_subapp(prefix, inner)
            return root

        async def handle_websocket(self, request: web.Request) -> web.StreamResponse:
            # A page elsewhere (another site, a rebinding name) may open a WebSocket here: browsers send its origin.
            if request.headers.get("Origin", "") not in allowed_origins:
                return refused(403, "Refused: this session did not come from the served page.")
            if GuardedServer.sessions >= max_sessions:
                return refused(503, f"Refused: {max_sessions} sessions are open already (--max-sessions).")
            GuardedServer.sessions += 1
            try:
                response: web.StreamResponse = await super().handle_websocket(request)
                return response
            finally:
                GuardedServer.sessions -= 1

    return GuardedServer(
        command,
        host=LOOPBACK,
        port=port,
        title=title,
        public_url=f"http://{LOOPBACK}:{port}",
        templates_path=PAGE_DIR,  # our page: a title, and no font fetched from outside (offline classrooms)
    )


def main(argv: list[str] | None = None) -> int:
    try:
        args, passthrough = _parser().parse_known_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:  # argparse has said what is wrong
        return 0 if exc.code in (0, None) else ServeError.exit_code
    try:
        check_host(args.host)
        if args.lesson and not args.train:
            raise ServeError("--lesson goes with --train")
        command = build_command(args, passthrough)
        port = check_port(args.port)
        if args.max_sessions > MOST_SESSIONS:
            raise ServeError(f"--max-sessions {args.max_sessions}: at most {MOST_SESSIONS}")
    except ServeError as exc:
        print(f"avs-failback serve: {exc}", file=sys.stderr)
        return exc.exit_code

    mode = "training" if args.train else ("real vault" if args.allow_real_vault and not args.scenario else "simulation")
    secret = new_secret()
    print(how_to_reach(port, secret), flush=True)
    server = make_server(
        command, port=port, title=f"avs-failback ({mode})", secret=secret, max_sessions=args.max_sessions
    )
    server.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
