"""What the operator's terminal can show: the one rule the dashboard and the command line share."""

from __future__ import annotations

import locale
import os
from collections.abc import Mapping

# Consoles whose fonts lack the stage glyphs (● ◆ ◇ ▶ ✓ ✗): the Linux console and the old serial terminals.
ASCII_TERMS = ("linux", "vt100", "vt220", "dumb")


def ascii_asked(env: Mapping[str, str]) -> bool:
    """The operator asked for ASCII glyphs (AVS_FAILBACK_ASCII set, and not to 0)."""
    return env.get("AVS_FAILBACK_ASCII", "").strip() not in ("", "0")


def wants_ascii(env: Mapping[str, str] | None = None) -> bool:
    """True on the Linux console, a non-UTF-8 locale, or when the operator asks for it (AVS_FAILBACK_ASCII=1)."""
    env = os.environ if env is None else env
    if ascii_asked(env) or env.get("TERM", "") in ASCII_TERMS:
        return True
    encoding = (locale.getpreferredencoding(False) or "").lower().replace("-", "")
    return bool(encoding) and encoding not in ("utf8", "utf16", "utf32")
