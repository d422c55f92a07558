"""Start-up: from spawning `avs-failback demo` in tmux until a known item's name is on the screen."""

from __future__ import annotations

import os
import shlex
import subprocess
import time
import uuid

from bench.common import ROOT, median, step_env

ITEM = "sql-01"  # the demo vault's first item
SCRIPT = ROOT / ".venv" / "bin" / "avs-failback"
PYTHON = ROOT / ".venv" / "bin" / "python"
# The naive way: every SDK and identity module imported, the vault opened, and only then the interface started.
EAGER = (
    "import sys, azure.identity, azure.mgmt.recoveryservicessiterecovery;"
    "from core.bootstrap import build_backend; from core.config import Settings; from tui.app import FailbackApp;"
    "app = FailbackApp(backend=build_backend(Settings(demo=True, scenario='demo', speed=30.0))); app.run()"
)
# The product with its early read turned off: one core does everything, as for a real vault (which then also
# waits on sign-in and the network).
ONE_CORE = (
    "import sys, core.first_page as f; f.FirstPageReader.start = classmethod(lambda cls, settings: None);"
    "from tui.main import main; sys.exit(main(['demo']))"
)


class Tmux:
    """A private tmux server (its own socket), so nobody else's sessions are touched."""

    def __init__(self, width: int = 120, height: int = 36) -> None:
        self.socket = f"avs-bench-{uuid.uuid4().hex[:8]}"
        self.size = (width, height)
        self.target = "bench:0.0"
        self._tmux("new-session", "-d", "-s", "bench", "-x", str(width), "-y", str(height), "sleep 600")

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=20)
        return done.stdout

    def spawn(self, command: str) -> None:
        self._tmux("respawn-pane", "-k", "-t", self.target, command)

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", self.target)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=20)


def time_to_text(tmux: Tmux, command: str, text: str, timeout: float = 20.0) -> float:
    start = time.perf_counter()
    tmux.spawn(command)
    while time.perf_counter() - start < timeout:
        if text in tmux.screen():
            return time.perf_counter() - start
        time.sleep(0.005)
    raise TimeoutError(f"{text!r} not on screen {timeout:.0f} s after `{command}`:\n{tmux.screen()}")


def _command(program: str, bytecode: bool) -> str:
    term = os.environ.get("BENCH_TERM", "xterm-256color")
    env = step_env(bytecode=bytecode)
    settings = " ".join(
        f"{name}={shlex.quote(env[name])}" for name in ("PYTHONPYCACHEPREFIX", "PYTHONDONTWRITEBYTECODE") if name in env
    )
    unset = "" if not bytecode else "-u PYTHONDONTWRITEBYTECODE "
    return f"cd {shlex.quote(str(ROOT))} && exec env {unset}TERM={term} {settings} {program}"


def measure(runs: int = 7, cold_runs: int = 3) -> dict[str, object]:
    product = f"{shlex.quote(str(SCRIPT))} demo"
    eager = f"{shlex.quote(str(PYTHON))} -c {shlex.quote(EAGER)}"
    one_core = f"{shlex.quote(str(PYTHON))} -c {shlex.quote(ONE_CORE)}"
    tmux = Tmux()
    try:
        time_to_text(tmux, _command(product, True), ITEM)  # fills the bytecode cache; not counted
        time_to_text(tmux, _command(eager, True), ITEM)
        time_to_text(tmux, _command(one_core, True), ITEM)
        ours, naive, single = [], [], []
        for _ in range(runs):  # interleaved, so load from others on the machine hits all alike
            ours.append(time_to_text(tmux, _command(product, True), ITEM))
            naive.append(time_to_text(tmux, _command(eager, True), ITEM))
            single.append(time_to_text(tmux, _command(one_core, True), ITEM))
        cold = [time_to_text(tmux, _command(product, False), ITEM) for _ in range(cold_runs)]
    finally:
        tmux.close()
    return {
        "first_rows_s": median(ours),
        "baseline_first_rows_s": median(naive),
        "no_bytecode_first_rows_s": median(cold),
        "no_early_read_first_rows_s": median(single),
        "runs": ours,
        "no_early_read_runs": single,
        "baseline_runs": naive,
        "no_bytecode_runs": cold,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(measure(int(os.environ.get("BENCH_RUNS", "7"))), indent=1))
