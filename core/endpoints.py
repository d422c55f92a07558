"""Where the token may go: the configured ARM endpoint's origin (scheme, host, port), and nowhere else.

A list page's nextLink, a redirect's Location and an LRO URL are all written by whoever answered; the tool
follows them only while they stay on the origin the operator configured (core.azure.policies enforces it in
the HTTP pipeline, for raw reads and SDK calls alike).
"""

from __future__ import annotations

import urllib.parse
from typing import NamedTuple

from core.errors import UntrustedEndpoint, UsageError
from core.sanitize import one_line


class Origin(NamedTuple):
    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"


def _split(url: str) -> Origin | None:
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:  # a port that is not a number, or out of range
        return None
    host = parts.hostname or ""
    if parts.scheme.lower() != "https" or not host or parts.username is not None or parts.password is not None:
        return None
    return Origin("https", host.lower().rstrip("."), port or 443)


def origin_of(url: str, what: str = "The ARM endpoint") -> Origin:
    """The origin of a configured endpoint; a usage error when it is not a plain https:// URL."""
    origin = _split(url)
    if origin is None:
        raise UsageError(
            f"{what} must be an https:// URL with a host (and no user name), not {one_line(repr(url), 200)}.",
            hint="Azure SDK bearer authentication refuses plain http; point it at an https:// URL.",
        )
    return origin


def check_same_origin(url: str, pinned: Origin, what: str) -> None:
    """Raise UntrustedEndpoint when `url` (from an answer) leaves the pinned origin."""
    if _split(url) == pinned:
        return
    raise UntrustedEndpoint(
        f"{what} pointed at {one_line(url, 200)}, which is not the configured ARM endpoint {pinned}. "
        "The tool sent no token there and used nothing from it.",
        hint="A proxy or the endpoint is misbehaving, or the answer was tampered with. If the vault really is "
        "served from there, pass --arm-endpoint; otherwise report it with the time and the URL.",
    )


__all__ = ["Origin", "check_same_origin", "origin_of"]
