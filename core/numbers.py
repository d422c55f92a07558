"""Numbers from the command line, checked before anything is read or sent: finite, in range, whole where counted.

Each is an argparse `type=`: a bad value is a usage error (exit 2) naming the option, before the command runs.
`float()` alone takes "nan", "inf" and "-1": a timeout of NaN waits forever, a negative one gives up after the
failover was sent, a speed of zero or less runs simulated time backwards.
"""

from __future__ import annotations

import argparse
import math

from core.sanitize import one_line

LONGEST_WAIT = 7 * 86400.0  # a week: longer than any ASR job the tool follows
FASTEST_SPEED = 10000.0  # simulated seconds per real second; a day passes in under ten seconds


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{one_line(repr(text), 40)} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{one_line(repr(text), 40)} is not a finite number")
    return value


def seconds(text: str) -> float:
    """A wait in seconds: more than 0, at most a week."""
    value = _number(text)
    if not 0 < value <= LONGEST_WAIT:
        raise argparse.ArgumentTypeError(f"{value:g} s: give a number of seconds above 0, at most {LONGEST_WAIT:g}")
    return value


def speed(text: str) -> float:
    """Simulated seconds per real second: more than 0 (time only runs forward), at most FASTEST_SPEED."""
    value = _number(text)
    if not 0 < value <= FASTEST_SPEED:
        raise argparse.ArgumentTypeError(
            f"{value:g}: the speed of simulated time is above 0, at most {FASTEST_SPEED:g}"
        )
    return value


def count(text: str) -> int:
    """How many: a whole number, 1 or more."""
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{one_line(repr(text), 40)} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value}: give 1 or more")
    return value


def port(text: str) -> int:
    """A TCP port: 1 to 65535."""
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{one_line(repr(text), 40)} is not a port number") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value}: a TCP port is 1 to 65535")
    return value


__all__ = ["FASTEST_SPEED", "LONGEST_WAIT", "count", "port", "seconds", "speed"]
