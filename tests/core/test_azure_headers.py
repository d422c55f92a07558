"""Job-name extraction from real-world 202 headers, and ARM error translation."""

from __future__ import annotations

import json

import pytest
from azure.core.exceptions import HttpResponseError, ServiceRequestError
from azure.core.rest import HttpRequest

from core.azure.backend import job_name_from_headers, translate_error
from core.equivalents import job_filter_text
from core.errors import (
    AuthenticationError,
    ConnectionLost,
    NotFound,
    OperationInProgress,
    PermissionDenied,
    ServiceError,
    Throttled,
)
from core.model import JobFilter

JOB = "5d7c0a7e-8a43-4bd6-9e1e-2f0f6d3c9b11"
VAULT = "/Subscriptions/1111/resourceGroups/rg-dr/providers/Microsoft.RecoveryServices/vaults/vault-avs"
ITEM = f"{VAULT}/replicationFabrics/cs-avs/replicationProtectionContainers/cloud_1/replicationProtectedItems/vm-1"


@pytest.mark.parametrize(
    "headers",
    [
        # as recorded: regional host, capital Subscriptions, the service's internal api-version
        {
            "Location": f"https://centraluseuap.management.azure.com{ITEM}/operationresults/{JOB}?api-version=2021-06-01",
            "Azure-AsyncOperation": f"https://centraluseuap.management.azure.com{VAULT}/replicationOperationStatus/{JOB}"
            "?api-version=2021-06-01",
        },
        # only Location, lower-case header name, other api-version, trailing slash
        {"location": f"https://management.azure.com{ITEM.lower()}/operationResults/{JOB}/?api-version=2025-08-01"},
        # only Azure-AsyncOperation, a sovereign host and no query
        {"Azure-AsyncOperation": f"https://management.chinacloudapi.cn{VAULT}/replicationoperationstatus/{JOB}"},
    ],
)
def test_job_name_from_real_world_headers(headers: dict[str, str]) -> None:
    assert job_name_from_headers(headers) == JOB


def test_no_job_name_when_headers_do_not_carry_one() -> None:
    assert job_name_from_headers({"Location": "https://management.azure.com/somewhere/else"}) == ""
    assert job_name_from_headers({}) == ""


class _Response:
    """The minimum of an azure.core HttpResponse that HttpResponseError reads."""

    def __init__(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
        self.status_code = status
        self.reason = "reason"
        self._text = json.dumps(body) if not isinstance(body, str) else body
        self.headers = headers or {}
        self.request = HttpRequest("POST", "https://management.azure.com/x")
        self.content_type = "application/json"

    def text(self, encoding: str | None = None) -> str:
        return self._text

    def body(self) -> bytes:
        return self._text.encode()


def _error(status: int, body: object) -> HttpResponseError:
    return HttpResponseError(response=_Response(status, body))  # type: ignore[arg-type]


ASR_BODY = {
    "error": {
        "code": "BadRequest",
        "message": "The operation failed.",
        "details": [
            {
                "code": "28031",
                "message": "The virtual machine is not in a state that allows failover.",
                "possibleCauses": "A job is already running on the item.",
                "recommendedAction": "Wait for the running job to finish and retry.",
                "activityId": "abc-123 ActivityId: def-456",
            }
        ],
    }
}


def test_asr_details_survive_translation() -> None:
    err = translate_error(_error(400, ASR_BODY))
    assert isinstance(err, ServiceError)
    assert err.code == "BadRequest"
    assert err.status == 400
    (detail,) = err.details
    assert detail.code == "28031"
    assert detail.possible_causes == "A job is already running on the item."
    assert detail.recommended_action == "Wait for the running job to finish and retry."
    assert err.activity_id == "abc-123 ActivityId: def-456"


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (401, AuthenticationError),
        (403, PermissionDenied),
        (404, NotFound),
        (409, OperationInProgress),
        (429, Throttled),
    ],
)
def test_status_maps_to_our_types(status: int, kind: type) -> None:
    err = translate_error(_error(status, ASR_BODY))
    assert isinstance(err, kind)
    assert err.hint


def test_forbidden_names_the_role() -> None:
    err = translate_error(_error(403, {"error": {"code": "AuthorizationFailed", "message": "no"}}))
    assert "Site Recovery Operator" in err.hint


def test_non_json_error_body_still_gives_a_message() -> None:
    err = translate_error(_error(502, "<html>Bad gateway</html>"))
    assert isinstance(err, ServiceError)
    assert "502" in err.message


def test_transport_failure_is_connection_lost() -> None:
    assert isinstance(translate_error(ServiceRequestError("connection reset")), ConnectionLost)


def test_job_filter_is_written_as_powershell_does() -> None:
    from datetime import UTC, datetime

    odata = job_filter_text(JobFilter(states=("InProgress", "Failed"), start_time=datetime(2025, 1, 1, tzinfo=UTC)))
    assert odata == (
        "StartTime eq '2025-01-01T00:00:00.0000000Z' and ( JobStatus eq 'InProgress' or JobStatus eq 'Failed' )"
    )
    assert job_filter_text(JobFilter()) == ""
