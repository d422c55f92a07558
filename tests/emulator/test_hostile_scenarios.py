"""Careless and crafted scenario files: refused with file, path and what, by the CLI, `emulator serve` and
`train --check` alike; never a traceback, and never a file called valid that the emulator then cannot run."""

from __future__ import annotations

import io
import json
import socket
from pathlib import Path
from typing import Any

import pytest

from cli.main import main
from core.emulator.scenario import SCENARIO_DIR
from core.training import check_file


def lesson(tmp_path: Path, change: Any, name: str = "lesson.json") -> Path:
    data = json.loads((SCENARIO_DIR / "train-single-vm.json").read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), config_path=Path("/nonexistent"), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


# Each of these passed the format's checks and then crashed the emulator (or the checks themselves).
CRAFTED = {
    "page-size-infinity": lambda d: d.setdefault("settings", {}).update(page_size=float("inf")),
    "since-1e300": lambda d: d["items"][0].update(since=1e300),
    "job-started-far-future": lambda d: d["items"][0].update(job_started="99999999d"),
    "rpo-huge": lambda d: d["items"][0].update(rpo=10**20),
    "retention-huge": lambda d: d.setdefault("settings", {}).update(retention_hours=1e300),
    "points-every-nanosecond": lambda d: d.setdefault("settings", {}).update(crash_interval_minutes=1e-9),
    "fault-after-1e300": lambda d: d.setdefault("faults", []).append(
        {"kind": "item-deleted", "item": d["items"][0]["name"], "after": 1e300}
    ),
    "fault-delay-negative": lambda d: d.setdefault("faults", []).append({"kind": "slow", "delay": -1}),
    "fault-count-text": lambda d: d.setdefault("faults", []).append({"kind": "throttle", "count": "many"}),
}


@pytest.mark.parametrize("change", CRAFTED.values(), ids=CRAFTED.keys())
def test_train_check_refuses_what_the_emulator_cannot_run(tmp_path: Path, change: Any) -> None:
    path = lesson(tmp_path, change)
    problems = check_file(path)
    assert problems and str(path) in problems[0]
    code, out, err = cli("train", "--check", str(path))
    assert code == 2 and "Traceback" not in err


@pytest.mark.parametrize("change", CRAFTED.values(), ids=CRAFTED.keys())
def test_the_demo_refuses_a_crafted_scenario_in_one_clear_error(tmp_path: Path, change: Any) -> None:
    path = lesson(tmp_path, change)
    code, out, err = cli("--demo", "--scenario", str(path), "items")
    assert code == 2, err
    assert err.startswith("error: Cannot run the scenario") and "Traceback" not in err


@pytest.mark.parametrize(
    ("write", "words"),
    [
        (lambda p: None, "no such scenario file"),
        (lambda p: p.write_text("{not json", encoding="utf-8"), "not valid JSON"),
        (lambda p: p.write_bytes(b'{"title": "caf\xe9"}'), "not a UTF-8 text file"),
        (lambda p: p.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8"), "nested too deeply"),
        (lambda p: p.mkdir(), "no such scenario file"),
    ],
    ids=["missing", "not-json", "not-utf8", "deeply-nested", "a-folder"],
)
def test_an_unreadable_scenario_is_a_usage_error_everywhere(tmp_path: Path, write: Any, words: str) -> None:
    path = tmp_path / "broken.json"
    write(path)
    for argv in (("--demo", "--scenario", str(path), "items"), ("emulator", "serve", "--scenario", str(path))):
        code, out, err = cli(*argv)
        assert code == 2, (argv, err)
        assert words in " ".join(err.split()) and "Traceback" not in err
    assert check_file(path) and words in check_file(path)[0]


def test_an_unknown_scenario_name_lists_the_bundled_ones() -> None:
    code, out, err = cli("--demo", "--scenario", "no-such-drill", "items")
    assert code == 2
    assert "no such scenario file" in " ".join(err.split()) and "small" in err


def test_emulator_serve_on_a_port_in_use_is_a_usage_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, out, err = cli("emulator", "serve", "--port", str(port))
    assert code == 2 and f"Cannot listen on 127.0.0.1:{port}" in err


@pytest.mark.parametrize("argv", [("--port", "0"), ("--port", "70000"), ("--speed", "nan"), ("--speed", "-5")])
def test_emulator_serve_numbers_are_checked_before_serving(argv: tuple[str, ...], capsys: Any) -> None:
    from cli.main import build_parser

    # parsed only: were the number let through, the command would serve until interrupted
    with pytest.raises(SystemExit) as stop:
        build_parser().parse_args(["emulator", "serve", *argv])
    assert stop.value.code == 2
    assert f"argument {argv[0]}" in capsys.readouterr().err


def test_a_cancelled_child_job_ends_its_reprotect_and_the_vault_answers_on() -> None:
    from core.bootstrap import build_backend
    from core.clock import ManualClock
    from core.config import Settings
    from core.emulator import ArmEmulator, load_scenario
    from core.model import JobState

    clock = ManualClock()
    emulator = ArmEmulator(load_scenario("demo"), clock, base_url="https://emulator.avs-failback.invalid")
    backend = build_backend(Settings(demo=True), clock=clock, emulator=emulator)
    committed = next(i for i in backend.list_items() if i.friendly_name == "build-01")
    fabric = backend.list_fabrics()[0]
    from core.model import ReprotectTarget

    target = ReprotectTarget(fabric.process_servers[0].id, fabric.master_targets[0].id, policy_id="")
    handle = backend.reprotect(committed, target)
    child = ""
    for _ in range(60):
        clock.advance(10)
        backend.get_job(handle.job_name)
        running = [j for j in emulator.simulation.jobs.values() if j.extra.get("parent") == handle.job_name]
        if running and running[0].running:
            child = running[0].name
            break
    assert child, "the reprotect started its Enable replication child job"
    backend.cancel_job(child)
    clock.advance(60)
    parent = backend.get_job(handle.job_name)
    assert parent.state is JobState.FAILED
    assert any("ended Cancelled" in e.message for t in parent.tasks for e in t.errors)
    assert backend.list_items() and backend.list_jobs()  # and the vault still answers


def test_the_server_fallback_answer_has_a_length(tmp_path: Path) -> None:
    import http.client
    import ssl

    from core.clock import ManualClock
    from core.emulator import EmulatorServer

    server = EmulatorServer("small", clock=ManualClock(), state_dir=tmp_path / "emulator")
    info = server.start()
    try:
        assert server.emulator is not None

        def broken(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("a simulation bug")

        server.emulator.handle = broken  # type: ignore[method-assign]
        context = ssl.create_default_context(cafile=str(info.ca_file))
        host, port = info.url.removeprefix("https://").split(":")
        connection = http.client.HTTPSConnection(host, int(port), context=context, timeout=10)
        connection.request("GET", "/anything", headers={"Authorization": "Bearer x"})
        response = connection.getresponse()
        assert response.status == 500
        length = response.getheader("Content-Length")
        assert length is not None, "without a length a keep-alive client waits for the end of the body"
        assert b"a simulation bug" in response.read(int(length))
        connection.close()
    finally:
        server.stop()
