"""`avs-failback serve`: loopback only, emulated vaults unless asked, and how to reach it over SSH."""

from __future__ import annotations

import shlex
import socket
from typing import Any

import pytest

from tui import serve
from tui.main import main


def command_for(*argv: str) -> list[str]:
    args, rest = serve._parser().parse_known_args(list(argv))
    return shlex.split(serve.build_command(args, rest))[1:]


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "example.org", "::1"])
def test_any_other_address_is_refused(host: str, capsys: Any) -> None:
    assert main(["serve", "--host", host]) == 2
    err = capsys.readouterr().err
    assert f"refusing to listen on {host!r}" in err and "ssh -L 8000:127.0.0.1:8000" in err


def test_what_each_browser_session_runs() -> None:
    assert command_for() == ["-m", "tui.main", "demo", "--scenario", "demo"]
    assert command_for("--scenario", "small", "--speed", "60") == [
        "-m", "tui.main", "demo", "--scenario", "small", "--speed", "60",
    ]  # fmt: skip
    assert command_for("--train") == ["-m", "tui.main", "train"]
    assert command_for("--train", "--lesson", "train-preflight") == [
        "-m", "tui.main", "train", "--scenario", "train-preflight",
    ]  # fmt: skip
    assert command_for("--allow-real-vault", "--profile", "prod") == ["-m", "tui.main", "--profile", "prod"]


def test_a_real_vault_needs_the_explicit_flag(capsys: Any) -> None:
    assert main(["serve", "--vault-id", "/subscriptions/x/resourceGroups/y/providers/z/vaults/v"]) == 2
    assert "need --allow-real-vault" in capsys.readouterr().err


def test_a_port_in_use_is_refused_before_serving(capsys: Any) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def test_how_to_reach_names_the_tunnel() -> None:
    text = serve.how_to_reach(8123, "s3cret")
    assert "http://127.0.0.1:8123/s3cret/" in text and "ssh -L 8123:127.0.0.1:8123" in text
