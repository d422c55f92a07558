"""What every benchmark step shares: the machine, memory readings and running a step in its own process."""

from __future__ import annotations

import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def machine() -> dict[str, Any]:
    return {
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        # Other people's work shares these cores: stalls and latencies are only as quiet as the machine.
        "load_average_1m": os.getloadavg()[0],
    }


def rss_mb(pid: int | str = "self") -> dict[str, float]:
    """Resident memory now and at its peak (VmRSS, VmHWM), in MB, from /proc."""
    found: dict[str, float] = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                key, _, rest = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    found[key] = int(rest.split()[0]) / 1024.0
    except OSError:
        pass
    return {"rss_mb": found.get("VmRSS", 0.0), "peak_rss_mb": found.get("VmHWM", 0.0)}


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


# Python as installed: byte-compiled modules. This machine sets PYTHONDONTWRITEBYTECODE and its venv holds no
# .pyc files, so every start would compile textual and the SDK from source (about a second); the steps keep
# their bytecode in a cache of their own instead of touching the venv.
PYCACHE = Path(tempfile.gettempdir()) / "avs-failback-bench-pycache"


def step_env(*, bytecode: bool = True) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("PYTHONHASHSEED", "0")
    if bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    else:
        # An empty cache that nothing may write to: every module compiled from source at every start, whatever
        # __pycache__ directories the venv may hold by now.
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "avs-failback-bench-no-pycache")
    return env


def run_step(module: str, args: list[str], timeout: float) -> dict[str, Any]:
    """Run `python -m module args` and read the JSON object it prints last; a fresh process per step keeps
    memory figures honest and one step's imports from warming the next."""
    env = step_env()
    proc = subprocess.run(
        [PYTHON, "-m", module, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(
            f"{module} {' '.join(args)} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}\n{proc.stdout[-1000:]}"
        )
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def emit(result: dict[str, Any]) -> None:
    """The last line a step prints: its figures as one JSON object."""
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


def free_port() -> str:
    """A loopback port nobody listens on now, for a server a step starts (`emulator serve` takes no port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return str(probe.getsockname()[1])
