"""Every test runs with its own state and config directories: nothing a test does lands in the user's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _private_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    home = tmp_path_factory.mktemp("home")
    for name, sub in (("XDG_STATE_HOME", "state"), ("XDG_CONFIG_HOME", "config"), ("XDG_CACHE_HOME", "cache")):
        path = Path(home) / sub
        path.mkdir()
        monkeypatch.setenv(name, str(path))
    # Never reach for a real sign-in from a test.
    names = ("AVS_FAILBACK_VAULT_ID", "AVS_FAILBACK_PROFILE", "AVS_FAILBACK_ACCESS_TOKEN", "AVS_FAILBACK_ARM_ENDPOINT")
    for name in names:
        monkeypatch.delenv(name, raising=False)
    yield
