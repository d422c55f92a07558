"""Shell completion: commands, options and their values from the parser, names from the last listing only."""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cli import cache
from cli.completion import DASHBOARD_OPTIONS, FILES, SCRIPTS, SERVE_OPTIONS, candidates
from cli.main import main
from cli.parser import build_parser

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def complete(words: list[str], cache_dir: Path) -> list[str]:
    return candidates(build_parser(), words, cache=cache_dir / "avs-failback" / "names.json")


def list_demo(cache_dir: Path, command: str = "items") -> None:
    out = io.StringIO()
    assert (
        main(
            [command, "--demo", "-o", "none"], stdout=out, stderr=io.StringIO(), env={"XDG_CACHE_HOME": str(cache_dir)}
        )
        == 0
    )


def test_commands_complete_from_the_parser_and_the_dashboard_commands(cache_dir: Path) -> None:
    found = complete(["p"], cache_dir)
    assert {
        "points",
        "plans",
        "plan",
        "plan-failover",
        "plan-commit",
        "plan-cancel",
        "plan-reprotect",
        "preflight",
    } == set(found)
    everything = complete([""], cache_dir)
    assert {"demo", "serve", "items", "completion", "fleet"} <= set(everything)
    assert not any(c.startswith("_") for c in everything)


def test_options_and_their_values(cache_dir: Path) -> None:
    assert "--point" in complete(["failover", "sql-01", "--p"], cache_dir)
    assert set(complete(["items", "-o", ""], cache_dir)) == {"table", "json", "jsonc", "yaml", "tsv", "none"}
    assert complete(["items", "--output=t"], cache_dir) == ["table", "tsv"]
    assert "ready" in complete(["items", "--stage", ""], cache_dir)
    assert "InProgress" in complete(["jobs", "--state", ""], cache_dir)
    assert "demo" in complete(["items", "--scenario", ""], cache_dir)
    assert complete(["capture", "-o", ""], cache_dir) == [FILES]  # a file: the shell completes paths
    assert complete(["completion", ""], cache_dir) == ["bash", "zsh", "fish"]
    assert complete(["emulator", ""], cache_dir) == ["serve"]
    assert "--port" in complete(["emulator", "serve", "--p"], cache_dir)
    assert "--ascii" in complete(["demo", "--as"], cache_dir)
    assert "--max-sessions" in complete(["serve", "--m"], cache_dir)


def test_names_come_from_the_last_listing_and_nothing_before_it(cache_dir: Path) -> None:
    assert complete(["failover", "sql"], cache_dir) == []  # nothing listed yet: nothing offered, nothing fetched
    list_demo(cache_dir)
    list_demo(cache_dir, "plans")
    assert "sql-01" in complete(["failover", "sql"], cache_dir)
    assert "sql-01" in complete(["--demo", "points", ""], cache_dir)
    assert complete(["failover", "sql-01", ""], cache_dir) == []  # one item per command
    assert "rp-erp" in complete(["plan-failover", "rp-"], cache_dir)
    assert {"sql-01", "rp-erp"} <= set(complete(["preflight", ""], cache_dir))
    path = cache_dir / "avs-failback" / "names.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    data = json.loads(path.read_text())
    entry = data["vaults"][data["last"]]
    assert set(entry) == {"items", "plans"}
    assert "sql-01" in entry["items"]["names"] and not any("/" in n for n in entry["items"]["names"])
    assert set(entry["items"]) == {"written", "names"}  # names and when: nothing else of the vault


def test_the_cache_goes_stale_and_refuses_crafted_names(cache_dir: Path) -> None:
    path = cache_dir / "names.json"
    cache.store("vault-a", {"items": ["ok-01", "evil\x1b]0;pwned\x07", "tab\tname"]}, path=path, now=time.time() - 10)
    assert cache.names("items", path=path) == ["ok-01"]
    cache.store("vault-a", {"items": ["ok-01"]}, path=path, now=time.time() - cache.TTL_SECONDS - 1)
    assert cache.names("items", path=path) == []
    path.write_text("not json")
    assert cache.names("items", path=path) == []


def test_a_filtered_listing_does_not_shrink_the_cache(cache_dir: Path) -> None:
    list_demo(cache_dir)
    every = complete(["failover", ""], cache_dir)
    assert main(["items", "--demo", "--stage", "ready", "-o", "none"], stdout=io.StringIO(), stderr=io.StringIO(),
                env={"XDG_CACHE_HOME": str(cache_dir)}) == 0  # fmt: skip
    assert complete(["failover", ""], cache_dir) == every


def test_the_cache_can_be_turned_off(cache_dir: Path) -> None:
    env = {"XDG_CACHE_HOME": str(cache_dir), "AVS_FAILBACK_COMPLETION_CACHE": "off"}
    assert main(["items", "--demo", "-o", "none"], stdout=io.StringIO(), stderr=io.StringIO(), env=env) == 0
    assert not (cache_dir / "avs-failback" / "names.json").exists()


def test_dashboard_option_lists_match_the_dashboard_parsers() -> None:
    from tui.main import _parser as dashboard
    from tui.serve import _parser as serve

    def longs(parser: object) -> set[str]:
        return {o for o in parser._option_string_actions if o.startswith("--")}  # type: ignore[attr-defined]

    assert set(DASHBOARD_OPTIONS) == longs(dashboard())
    assert set(SERVE_OPTIONS) == longs(serve())


def _shell_env(cache_dir: Path) -> dict[str, str]:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "XDG_CACHE_HOME": str(cache_dir)}


def test_the_completion_command_prints_each_script() -> None:
    for shell, script in SCRIPTS.items():
        out = io.StringIO()
        assert main(["completion", shell], stdout=out, stderr=io.StringIO()) == 0
        assert out.getvalue() == script and "__complete" in script


def test_bash_completes_commands_and_cached_names(cache_dir: Path) -> None:
    list_demo(cache_dir)
    show = '_avs_failback; printf "%s\\n" "${COMPREPLY[@]}"'
    script = SCRIPTS["bash"] + (
        f"COMP_WORDS=(avs-failback fail); COMP_CWORD=1; {show}; echo ---\n"
        f"COMP_WORDS=(avs-failback failover sql); COMP_CWORD=2; {show}; echo ---\n"
        f'COMP_WORDS=(avs-failback items -o ""); COMP_CWORD=3; {show}\n'
    )
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60, env=_shell_env(cache_dir))
    assert done.returncode == 0, done.stderr
    first, second, third = done.stdout.split("---\n")
    assert first.split() == ["failover"]
    assert "sql-01" in second.split()
    assert set(third.split()) == {"table", "json", "jsonc", "yaml", "tsv", "none"}


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed (.ci/run installs it with apt-get)")
def test_zsh_completes_commands_and_cached_names(cache_dir: Path) -> None:
    list_demo(cache_dir)
    # compadd and compdef exist only inside zsh's completion system: stand-ins print what they are given.
    script = (
        'compdef() { :; }\ncompadd() { shift 2; print -l -- "$@"; }\n_files() { print FILES; }\n'
        + SCRIPTS["zsh"]
        + "words=(avs-failback fail); CURRENT=2; _avs_failback; echo ---\n"
        + "words=(avs-failback failover sql); CURRENT=3; _avs_failback; echo ---\n"
        + "words=(avs-failback capture -o ''); CURRENT=4; _avs_failback\n"
    )
    done = subprocess.run(
        ["zsh", "-f", "-c", script], capture_output=True, text=True, timeout=60, env=_shell_env(cache_dir)
    )
    assert done.returncode == 0, done.stderr
    first, second, third = done.stdout.split("---\n")
    assert first.split() == ["failover"]
    assert "sql-01" in second.split()
    assert third.split() == ["FILES"]


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed (.ci/run installs it with apt-get)")
def test_fish_completes_commands_and_cached_names(cache_dir: Path) -> None:
    list_demo(cache_dir)
    script = SCRIPTS["fish"] + "complete -C 'avs-failback fail'; echo ---; complete -C 'avs-failback failover sql'\n"
    done = subprocess.run(
        ["fish", "--no-config", "-c", script], capture_output=True, text=True, timeout=60, env=_shell_env(cache_dir)
    )
    assert done.returncode == 0, done.stderr
    first, second = done.stdout.split("---\n")
    assert [line.split("\t")[0] for line in first.splitlines()] == ["failover"]
    assert "sql-01" in [line.split("\t")[0] for line in second.splitlines()]


def test_tab_never_fails_loudly() -> None:
    out = io.StringIO()
    assert main(["__complete", "tcsh", "x"], stdout=out) == 2 and out.getvalue() == ""
    assert main(["__complete", "bash", "failover", "--point", ""], stdout=out) == 0
