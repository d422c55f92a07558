"""`avs-failback serve`: the dashboard in a browser through textual-serve, on loopback only, reached over SSH."""

from __future__ import annotations

import argparse
import shlex
import socket
import sys
from pathlib import Path

from core import numbers

LOOPBACK = "127.0.0.1"
PAGE_DIR = Path(__file__).resolve().parent / "serve_page"
DEFAULT_PORT = 8000
# Accepted spellings of the one address the server binds to; anything else is refused, not translated.
_LOOPBACK_NAMES = ("127.0.0.1", "localhost")


class ServeError(Exception):
    exit_code = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="avs-failback serve",
        description="Serve the dashboard to a browser on this machine's loopback address (reach it over an SSH "
        "tunnel). Emulated vaults only, unless --allow-real-vault is given.",
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


def how_to_reach(port: int) -> str:
    return (
        f"Serving on http://{LOOPBACK}:{port} (this machine only).\n"
        f"From your own machine: ssh -L {port}:{LOOPBACK}:{port} <user>@<this host>\n"
        f"then open http://{LOOPBACK}:{port} in a browser. Keep the same port on both ends: the page connects "
        "back to the address it was served from. Ctrl+C stops the server."
    )


def main(argv: list[str] | None = None) -> int:
    args, passthrough = _parser().parse_known_args(list(sys.argv[1:] if argv is None else argv))
    try:
        host = check_host(args.host)
        if args.lesson and not args.train:
            raise ServeError("--lesson goes with --train")
        command = build_command(args, passthrough)
        port = check_port(args.port)
    except ServeError as exc:
        print(f"avs-failback serve: {exc}", file=sys.stderr)
        return exc.exit_code

    from textual_serve.server import Server

    mode = "training" if args.train else ("real vault" if args.allow_real_vault and not args.scenario else "simulation")
    print(how_to_reach(port), flush=True)
    server = Server(
        command,
        host=host,
        port=port,
        title=f"avs-failback ({mode})",
        public_url=f"http://{host}:{port}",
        templates_path=PAGE_DIR,  # our page: a title, and no font fetched from outside (offline classrooms)
    )
    server.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
