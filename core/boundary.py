"""The last line of every command: any failure becomes a documented exit code and a clear message, never a
traceback.

The codes (README, `--help`): 0 done, 1 an unexpected error (a bug in the tool), 2 usage, 3 the operation failed,
4 not allowed now, 5 not found, 6 sign-in, 130 interrupted.
"""

from __future__ import annotations

import os
import sys

from core.errors import ConnectionLost, FailbackError, UsageError

EXIT_CODES = {
    0: "done",
    1: "unexpected error (a bug in avs-failback)",
    2: "usage error",
    3: "operation failed",
    4: "not allowed now",
    5: "not found",
    6: "sign-in failed",
    130: "interrupted",
}
DEBUG_ENV = "AVS_FAILBACK_DEBUG"


class InternalError(FailbackError):
    """Something the tool did not foresee: a bug. It still ends with one clear line and a documented code."""

    exit_code = 1
    hint = (
        f"This is a bug in avs-failback; nothing more was sent. Run the command again with {DEBUG_ENV}=1 for "
        "the details, and report it."
    )


def failure(exc: BaseException) -> FailbackError:
    """`exc` as one of our errors: its message, hint and exit code."""
    if isinstance(exc, FailbackError):
        return exc
    if "azure.core" in sys.modules:
        from azure.core.exceptions import AzureError

        if isinstance(exc, AzureError):
            from core.azure.backend import translate_error

            return translate_error(exc)
    if isinstance(exc, RecursionError):
        return UsageError(
            "An input was nested too deeply to read (a file or an answer with thousands of levels).",
            hint="Check the files the command reads (config, scenario, journal); nothing was sent.",
        )
    if isinstance(exc, UnicodeError):
        reason = getattr(exc, "reason", "") or exc
        return UsageError(f"Text that is not valid UTF-8: {reason}.", hint="Save the file as UTF-8, then retry.")
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return ConnectionLost(f"The network failed: {exc}")
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        return UsageError(
            f"{exc.strerror or exc}{where}.",
            hint="Check that the file or folder exists and that you may read and write it.",
        )
    if isinstance(exc, MemoryError):
        return InternalError("Out of memory.", hint="Something answered with far more data than a vault holds.")
    return InternalError(f"Unexpected error: {type(exc).__name__}: {exc}")


def debugging() -> bool:
    """With AVS_FAILBACK_DEBUG set, the traceback of an unexpected error is printed too (for a bug report)."""
    return bool(os.environ.get(DEBUG_ENV, "").strip())


__all__ = ["DEBUG_ENV", "EXIT_CODES", "InternalError", "debugging", "failure"]
