"""The CLI configured only through the environment, against the emulator's HTTPS server on loopback."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cli.main import main
from core.clock import ManualClock
from core.emulator import EmulatorServer
from core.emulator.server import export_lines

pytestmark = pytest.mark.server


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[dict[str, str], ManualClock]]:
    clock = ManualClock()
    server = EmulatorServer("demo", clock=clock, state_dir=tmp_path / "emulator")
    info = server.start()
    env = {"XDG_STATE_HOME": str(tmp_path / "state")}
    for line in export_lines(info):
        if line.startswith("export "):
            key, _, value = line.removeprefix("export ").partition("=")
            env[key] = value
    for key, value in env.items():  # as an operator would paste the printed export lines
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AVS_FAILBACK_PROFILE", raising=False)
    try:
        yield env, clock
    finally:
        server.stop()


def cli(served: tuple[dict[str, str], ManualClock], *argv: str) -> tuple[int, str, str]:
    _env, clock = served
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), clock=clock, config_path=Path("/nonexistent"), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_items_and_a_failover_over_https(served: Any) -> None:
    code, out, err = cli(served, "items", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["vault"] == served[0]["AVS_FAILBACK_VAULT_ID"]
    ready = next(i for i in data["items"] if i["next_step"] == "Fail back")
    code, out, err = cli(served, "--read-only", "failover", ready["friendly_name"], "--point", "latest", "--yes")
    assert code == 4 and "Read-only" in err
    code, out, err = cli(served, "failover", ready["friendly_name"], "--point", "latest", "--yes", "--wait")
    assert code == 0, err
    assert "Succeeded" in out
    journal = Path(served[0]["XDG_STATE_HOME"]) / "avs-failback" / "journal.jsonl"
    kinds = [json.loads(line)["kind"] for line in journal.read_text(encoding="utf-8").splitlines()]
    assert kinds[:2] == ["intent", "sent"]
    assert "emulator" not in journal.read_text(encoding="utf-8").replace("avs-failback", "")


def test_failover_json_over_https_passes_its_preflight_without_skipping_it(served: Any) -> None:
    """The emulator over real TLS answers as the SDK's models say (datastores in GB, retention in bytes): a
    healthy VM's preflight warns only about what cannot be probed from here, and the failback goes out."""
    code, out, err = cli(served, "preflight", "erp-web-01", "--json")
    assert code == 0, err
    checks = {c["key"]: c for c in json.loads(out)["checks"]}
    assert checks["datastores"]["level"] == "pass"
    assert "vsanDatastore 23.2 TB free of 60.0 TB (39 %)" in checks["datastores"]["detail"]
    assert "R:\\ 1.3 TB free of 2.0 TB (64 %)" in checks["master-target"]["detail"]
    assert [key for key, c in checks.items() if c["level"] != "pass"] == ["network-path"]
    code, out, err = cli(served, "failover", "erp-web-01", "--point", "app-consistent", "--yes", "--wait", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["preflight"] == "warn"
    assert data["job"]["state"] == "Succeeded"
