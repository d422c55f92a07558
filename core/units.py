"""Sizes as ASR reports them, said in words: GB figures, bytes, and "not reported" when a figure is unknown."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# What the product says of a figure ASR did not report, or reported in a form that cannot be read. Never 0.
NOT_REPORTED = "not reported"

_GIB = 1024**3


def gb_text(gb: float | None) -> str:
    """A size given in GB, in the unit a person reads it in: "7.0 TB", "158 GB", "512 MB".

    Binary steps (1 TB = 1024 GB), as vCenter shows a datastore; ASR's datastore figures are in GB (SDK DataStore).
    """
    if gb is None:
        return NOT_REPORTED
    if gb >= 1024:
        return f"{gb / 1024:,.1f} TB"
    if gb >= 1:
        return f"{gb:,.0f} GB"
    return f"{gb * 1024:,.0f} MB"


def bytes_text(count: int | None) -> str:
    """A size given in bytes (a retention volume's, a disk's), in the same words as gb_text."""
    return NOT_REPORTED if count is None else gb_text(count / _GIB)


def space_text(free: float | None, capacity: float | None, say: Callable[[Any], str]) -> str:
    """Free space in words, e.g. "7.0 TB free of 60.0 TB (12 %)"; what is unknown is said to be; `say` words
    one figure (gb_text, bytes_text)."""
    if free is None:
        return "free space not reported"
    if capacity is None:
        return f"{say(free)} free (size not reported)"
    pct = free_percent(free, capacity)
    if pct is None:
        return f"{say(free)} free of {say(capacity)} (more free than its size: ASR's figures disagree)"
    return f"{say(free)} free of {say(capacity)} ({pct:.0f} %)"


def free_percent(free: float | None, capacity: float | None) -> float | None:
    """The free share in percent, or None when either figure is unknown or they disagree (more free than there is)."""
    if free is None or capacity is None or capacity <= 0 or free > capacity:
        return None
    return 100.0 * free / capacity
