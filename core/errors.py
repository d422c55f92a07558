"""Our own error types: every failure that leaves core is one of these, carrying what the operator needs."""

from __future__ import annotations

from core.model import ErrorDetail


class FailbackError(Exception):
    """Base of every error core raises. `hint` says what to do next, in plain words."""

    exit_code = 1
    hint = ""

    def __init__(
        self, message: str, *, hint: str = "", details: tuple[ErrorDetail, ...] = (), listing: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message)
        self.message = message
        if hint:
            self.hint = hint
        self.details = details
        # Lines laid out under the message (the candidates of an ambiguous name): the message stays one line.
        self.listing = listing

    def __str__(self) -> str:
        return self.message


class UsageError(FailbackError):
    """Bad input from the operator: a malformed vault id, an unknown item name, a missing option."""

    exit_code = 2


class NotAllowedNow(FailbackError):
    """The action is not possible in the item's current stage (nothing was sent)."""

    exit_code = 4


class ReadOnlyError(NotAllowedNow):
    hint = "The tool was started with --read-only. Start it without --read-only to act on the vault."


class NotFound(FailbackError):
    exit_code = 5
    hint = "Check the name or id, or refresh: the item may have been deleted or renamed meanwhile."


class AuthenticationError(FailbackError):
    exit_code = 6
    hint = (
        "Sign in again: run `az login` (or use --device-code over SSH), or set AVS_FAILBACK_ACCESS_TOKEN "
        "to a fresh token."
    )


class PermissionDenied(AuthenticationError):
    hint = (
        "Your identity lacks a role on this vault. Failback needs Site Recovery Operator (or Site Recovery "
        "Contributor); Site Recovery Reader is enough to browse with --read-only."
    )


class ServiceError(FailbackError):
    """ARM or ASR answered with an error. Carries the ARM code, HTTP status and ASR's details."""

    exit_code = 3

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        status: int | None = None,
        hint: str = "",
        details: tuple[ErrorDetail, ...] = (),
        activity_id: str = "",
    ) -> None:
        super().__init__(message, hint=hint, details=details)
        self.code = code
        self.status = status
        self.activity_id = activity_id


class OperationInProgress(ServiceError):
    exit_code = 4
    hint = "Another operation is running on this item. Wait for its job to finish (see `jobs`), then retry."


class Throttled(ServiceError):
    hint = "Azure Resource Manager is throttling requests. Wait a minute and retry; the tool slows its polling."


class ConnectionLost(FailbackError):
    exit_code = 3
    hint = "The connection to Azure dropped or timed out. Check the network (VPN, proxy) and retry; nothing was lost."


class UntrustedEndpoint(FailbackError):
    """An answer pointed somewhere other than the configured ARM endpoint (a nextLink, a redirect)."""

    exit_code = 3


class MalformedResponse(FailbackError):
    exit_code = 3
    hint = "The service sent a response the tool could not read. Retry; if it persists, report it with the activity id."


class JobFailed(FailbackError):
    """A tracked ASR job ended Failed or Cancelled; its errors are in `details`."""

    exit_code = 3
