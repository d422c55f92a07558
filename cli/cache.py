"""The names shell completion offers: the last listing of items, plans and jobs, kept a short while on disk.

TAB must never reach the network (a sign-in, a throttled vault, a dropped VPN would freeze the shell), so
completion reads only this file. `items`, `plans` and `jobs` refresh it after a listing. It holds names only, under
the vault's id (no token, no address), in the user's cache folder with owner-only permissions, and is ignored once
older than `TTL_SECONDS`. `AVS_FAILBACK_COMPLETION_CACHE=off` turns it off.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cli.context import Context

TTL_SECONDS = 15 * 60  # long enough for one incident's commands, short enough not to offer yesterday's VMs
KINDS = ("items", "plans", "jobs")
MAX_VAULTS = 20
MAX_NAMES = 5000


def cache_file(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_CACHE_HOME") or os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "avs-failback" / "names.json"


def enabled(env: Mapping[str, str] | None = None) -> bool:
    value = (env or os.environ).get("AVS_FAILBACK_COMPLETION_CACHE", "")
    return value.strip().lower() not in ("off", "0", "false", "no")


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) and isinstance(data.get("vaults"), dict) else {}


def _clean(names: Sequence[str]) -> list[str]:
    """Names a shell can offer: printable, without tabs or line breaks (a crafted VM name stays out)."""
    return [n for n in dict.fromkeys(names) if isinstance(n, str) and n and n.isprintable()][:MAX_NAMES]


def store(vault: str, names: Mapping[str, Sequence[str]], *, path: Path, now: float | None = None) -> None:
    """Merge one vault's fresh names into the cache file (written whole, then renamed into place)."""
    data = _load(path) or {"vaults": {}}
    stamp = time.time() if now is None else now
    entry = data["vaults"].get(vault) if isinstance(data["vaults"].get(vault), dict) else {}
    for kind, values in names.items():
        if kind in KINDS:
            entry[kind] = {"written": stamp, "names": _clean(values)}
    data["vaults"][vault] = entry
    data["last"] = vault
    if len(data["vaults"]) > MAX_VAULTS:
        newest = sorted(
            data["vaults"],
            key=lambda v: max((k.get("written", 0) for k in data["vaults"][v].values()), default=0),
            reverse=True,
        )
        data["vaults"] = {v: data["vaults"][v] for v in newest[:MAX_VAULTS]}
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".names-", suffix=".json")  # created 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def names(kind: str, *, path: Path, vault: str | None = None, now: float | None = None) -> list[str]:
    """The cached names of `kind` for `vault` (default: the vault listed last), or none when they are stale."""
    data = _load(path)
    key = vault if vault in data.get("vaults", {}) else data.get("last")
    entry = data.get("vaults", {}).get(key) if isinstance(key, str) else None
    found = entry.get(kind) if isinstance(entry, dict) else None
    if not isinstance(found, dict):
        return []
    age = (time.time() if now is None else now) - float(found.get("written", 0))
    if not 0 <= age <= TTL_SECONDS:
        return []
    return _clean(found.get("names") or [])


def remember(ctx: Context, **listed: Sequence[str]) -> None:
    """After a listing: keep its names for completion. Never fails the command (a read-only home is fine)."""
    if ctx.backend_given or not enabled(ctx.env):
        return
    try:
        store(ctx.backend.vault.arm_id, listed, path=cache_file(ctx.env))
    except (OSError, ValueError, TypeError):
        return
