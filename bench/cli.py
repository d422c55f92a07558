"""The command line as a whole process: `items --demo -o json` from exec to exit, and what TAB costs.

Each command is run `runs` times, round-robin with the others (so the machine's noise falls on all alike), through
the console script as a user runs it, with byte-compiled modules (`bench.common.step_env`). The demo vault is
built in-process by every run, so the figure includes the emulator's start as well as the CLI's imports.
"""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

from bench.common import ROOT, median, step_env

SCRIPT = ROOT / ".venv" / "bin" / "avs-failback"
COMMANDS: dict[str, list[str]] = {
    "items_json": ["items", "--demo", "-o", "json"],
    "items_table": ["items", "--demo", "-o", "table"],
    "items_query": ["items", "--demo", "-o", "tsv", "--query", "[?stage=='ready'].friendly_name"],
    "help": ["--help"],
    "complete": ["__complete", "bash", "failover", ""],  # one TAB
}
FLOOR = [sys.executable, "-c", "pass"]  # the interpreter alone: what no command line in Python can go under


def _once(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{argv[1:]} exited {done.returncode}: {done.stderr.decode(errors='replace')[-400:]}")
    return elapsed


def measure(runs: int) -> dict[str, Any]:
    env = step_env()
    script = str(SCRIPT) if SCRIPT.exists() else None
    base = [script] if script else [sys.executable, "-m", "tui.main"]
    for argv in COMMANDS.values():  # warm the bytecode cache and the page cache once, untimed
        _once(base + argv, env)
    times: dict[str, list[float]] = {name: [] for name in [*COMMANDS, "floor"]}
    for _ in range(runs):
        for name, argv in COMMANDS.items():
            times[name].append(_once(base + argv, env))
        times["floor"].append(_once(FLOOR, env))
    return {
        **{f"{name}_s": median(values) for name, values in times.items()},
        "runs": runs,
        "raw": times,
    }


if __name__ == "__main__":
    import json

    count = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    print(json.dumps(measure(count)))
