"""Start-up: from spawning `avs-failback demo` in tmux until a known item's name is on the screen."""

from __future__ import annotations

import os
import shlex
import subprocess
import time
import uuid

from bench.common import ROOT, median, step_env

ITEM = "sql-01"  # the demo vault's first item
OPENED = "data read"  # the status line once the dashboard has read the vault itself: every key is live
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
    """A private tmux server (its own socket), so nobody else's sessions are touched.

    The screen is read through one control-mode client (`tmux -C`) kept open for the whole step: a
    `tmux capture-pane` process every 5 ms would cost about 2 ms of CPU each, close to half of one of the two
    cores the product is being timed on.
    """

    def __init__(self, width: int = 120, height: int = 36) -> None:
        self.socket = f"avs-bench-{uuid.uuid4().hex[:8]}"
        self.size = (width, height)
        self.target = "bench:0.0"
        self._tmux("new-session", "-d", "-s", "bench", "-x", str(width), "-y", str(height), "sleep 600")
        # A control client has no size of its own: the window keeps the one given here.
        self._tmux("set-option", "-t", "bench", "window-size", "manual")
        self._control = subprocess.Popen(
            ["tmux", "-L", self.socket, "-C", "attach-session", "-t", "bench"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self._answer("attach-session")  # the attach answers first, once the client is in
        self._command("refresh-client -f no-output")  # no copy of the pane's output on this channel

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=20)
        return done.stdout

    def _command(self, line: str) -> str:
        """Send one command on the control channel; its output (between %begin and %end)."""
        assert self._control.stdin is not None
        self._control.stdin.write(line + "\n")
        self._control.stdin.flush()
        return self._answer(line)

    def _answer(self, line: str) -> str:
        """The next %begin … %end block on the control channel (notifications in between are skipped)."""
        assert self._control.stdout is not None
        out: list[str] = []
        inside = False
        for raw in self._control.stdout:
            text = raw.rstrip("\n")
            if not inside:
                inside = text.startswith("%begin ")  # anything before is a notification
                continue
            if text.startswith(("%end ", "%error ")):
                if text.startswith("%error "):
                    raise RuntimeError(f"tmux refused {line!r}: {' '.join(out)}")
                return "\n".join(out)
            out.append(text)
        raise RuntimeError(f"the tmux control client ended while answering {line!r}")

    def spawn(self, command: str) -> None:
        self._tmux("respawn-pane", "-k", "-t", self.target, command)

    def blank(self, texts: tuple[str, ...], timeout: float = 10.0) -> None:
        """End what the pane runs and wait until none of `texts` is left on it (a run must not see the last one's)."""
        self.spawn("clear; exec sleep 600")
        deadline = time.monotonic() + timeout
        while any(text in self.screen() for text in texts):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the pane still shows {texts!r} after the previous run ended")
            time.sleep(0.01)

    def screen(self) -> str:
        return self._command(f"capture-pane -p -t {self.target}")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=20)
        try:
            self._control.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._control.kill()


def time_to_text(tmux: Tmux, command: str, text: str, timeout: float = 20.0) -> float:
    return times_to_texts(tmux, command, (text,), timeout)[0]


def times_to_texts(tmux: Tmux, command: str, texts: tuple[str, ...], timeout: float = 20.0) -> list[float]:
    """Seconds from spawning `command` until each of `texts` is first on screen."""
    tmux.blank(texts)
    start = time.perf_counter()
    tmux.spawn(command)
    seen: dict[str, float] = {}
    while time.perf_counter() - start < timeout:
        screen = tmux.screen()
        now = time.perf_counter() - start
        for text in texts:
            if text not in seen and text in screen:
                seen[text] = now
        if len(seen) == len(texts):
            return [seen[t] for t in texts]
        time.sleep(0.005)
    missing = [t for t in texts if t not in seen]
    raise TimeoutError(f"{missing!r} not on screen {timeout:.0f} s after `{command}`:\n{tmux.screen()}")


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
        ours, opened, naive, single = [], [], [], []
        for _ in range(runs):  # interleaved, so load from others on the machine hits all alike
            rows, vault_open = times_to_texts(tmux, _command(product, True), (ITEM, OPENED))
            ours.append(rows)
            opened.append(vault_open)
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
        "vault_open_s": median(opened),
        "vault_open_runs": opened,
        "runs": ours,
        "no_early_read_runs": single,
        "baseline_runs": naive,
        "no_bytecode_runs": cold,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(measure(int(os.environ.get("BENCH_RUNS", "7"))), indent=1))
