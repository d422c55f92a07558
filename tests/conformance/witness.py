"""Every answer the emulator gives and every body a client sends it, caught on the way and named by its SDK model.

The path of each request says which SDK model its JSON must follow (the operations' own return and input types in
`azure.mgmt.recoveryservicessiterecovery.operations`); the emulator's router is not asked, so a wrong route there
cannot hide a wrong shape here.
"""

from __future__ import annotations

import enum
import json
import re
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from azure.mgmt.recoveryservicessiterecovery import models as sdk
from azure.mgmt.recoveryservicessiterecovery._utils.model_base import SdkJSONEncoder
from azure.mgmt.recoveryservicessiterecovery.models import _models as sdk_models

from core.emulator import ArmEmulator
from tests.conformance.walker import Allowed, Finding, Walker

# Keys a real answer shows Azure sending that the installed SDK's models lack. Nothing else may be allowed.
RECORDED_EXTRAS: tuple[Allowed, ...] = tuple(
    Allowed(
        "ErrorDetail",
        key,
        "Azure/azure-powershell issue #4893 (comment of 2017-11-04): a real 400 answer of ASR printed by "
        "Invoke-RestMethod, error.details[0] = {code, message, possibleCauses, recommendedAction, clientRequestId, "
        "activityId}. No SessionRecords file found shows a synchronous ASR error.",
    )
    for key in ("possibleCauses", "recommendedAction", "clientRequestId", "activityId")
)

# The operation-status answer (GET …/replicationOperationStatus/{job}) has no model in the SDK (its LRO poller reads
# it untyped). Its keys and JSON types as recorded: azure-cli-extensions
# src/site-recovery/azext_site_recovery/tests/latest/recordings/test_siterecovery_V2A_CS_scenarios.yaml, the
# first GET of replicationOperationStatus (offset ~2 900): {"error":null,"id":null,"name":"<job>","properties":null,
# "status":"Succeeded","startTime":"…","endTime":"…","percentComplete":null}.
OPERATION_STATUS_KEYS = ("error", "id", "name", "properties", "status", "startTime", "endTime", "percentComplete")

# Strings of the item-level inputs that the SDK types as plain str, although the plan-level inputs of the same
# operations type them with these enums: the values the SDK knows are those.
TYPED_STRINGS: dict[tuple[str, str], type] = {
    ("UnplannedFailoverInputProperties", "failoverDirection"): sdk.PossibleOperationsDirections,
    ("UnplannedFailoverInputProperties", "sourceSiteOperations"): sdk.SourceSiteOperations,
    ("ReverseReplicationInputProperties", "failoverDirection"): sdk.PossibleOperationsDirections,
}

_PAGE = "page"
_ONE = "one"

# Below the vault: (pattern over the lower-cased segments, '*' for a name) → (page or one, SDK model).
_RESPONSES: tuple[tuple[tuple[str, ...], str, type], ...] = (
    (("replicationprotecteditems",), _PAGE, sdk.ReplicationProtectedItem),
    (("replicationfabrics",), _PAGE, sdk.Fabric),
    (("replicationfabrics", "*"), _ONE, sdk.Fabric),
    (("replicationfabrics", "*", "replicationprotectioncontainers"), _PAGE, sdk.ProtectionContainer),
    (("replicationfabrics", "*", "replicationprotectioncontainers", "*"), _ONE, sdk.ProtectionContainer),
    (
        ("replicationfabrics", "*", "replicationprotectioncontainers", "*", "replicationprotecteditems"),
        _PAGE,
        sdk.ReplicationProtectedItem,
    ),
    (
        ("replicationfabrics", "*", "replicationprotectioncontainers", "*", "replicationprotecteditems", "*"),
        _ONE,
        sdk.ReplicationProtectedItem,
    ),
    (
        ("replicationfabrics", "*", "replicationprotectioncontainers", "*", "replicationprotecteditems", "*")
        + ("recoverypoints",),
        _PAGE,
        sdk.RecoveryPoint,
    ),
    (
        ("replicationfabrics", "*", "replicationprotectioncontainers", "*", "replicationprotecteditems", "*")
        + ("recoverypoints", "*"),
        _ONE,
        sdk.RecoveryPoint,
    ),
    (
        ("replicationfabrics", "*", "replicationprotectioncontainers", "*", "replicationprotecteditems", "*")
        + ("operationresults", "*"),
        _ONE,
        sdk.ReplicationProtectedItem,
    ),
    (("replicationrecoveryplans",), _PAGE, sdk.RecoveryPlan),
    (("replicationrecoveryplans", "*"), _ONE, sdk.RecoveryPlan),
    (("replicationrecoveryplans", "*", "operationresults", "*"), _ONE, sdk.RecoveryPlan),
    (("replicationpolicies",), _PAGE, sdk.Policy),
    (("replicationpolicies", "*"), _ONE, sdk.Policy),
    (("replicationjobs",), _PAGE, sdk.Job),
    (("replicationjobs", "*"), _ONE, sdk.Job),
    (("replicationjobs", "*", "operationresults", "*"), _ONE, sdk.Job),
)

_ITEM = ("replicationfabrics", "*", "replicationprotectioncontainers", "*", "replicationprotecteditems", "*")
# POST actions: the SDK input model of the body (None: the SDK sends no body).
REQUESTS: tuple[tuple[tuple[str, ...], type | None], ...] = (
    ((*_ITEM, "unplannedfailover"), sdk.UnplannedFailoverInput),
    ((*_ITEM, "plannedfailover"), sdk.PlannedFailoverInput),
    ((*_ITEM, "failovercancel"), None),
    ((*_ITEM, "failovercommit"), None),
    ((*_ITEM, "reprotect"), sdk.ReverseReplicationInput),
    (("replicationrecoveryplans", "*", "unplannedfailover"), sdk.RecoveryPlanUnplannedFailoverInput),
    (("replicationrecoveryplans", "*", "plannedfailover"), sdk.RecoveryPlanPlannedFailoverInput),
    (("replicationrecoveryplans", "*", "failovercancel"), None),
    (("replicationrecoveryplans", "*", "failovercommit"), None),
    (("replicationrecoveryplans", "*", "reprotect"), None),
    (("replicationjobs", "*", "cancel"), None),
    (("replicationjobs", "*", "restart"), None),
    (("replicationjobs", "*", "resume"), sdk.ResumeJobParams),
)

_VAULT = re.compile(r"^/subscriptions/[^/]+/resourcegroups/[^/]+/providers/microsoft\.recoveryservices/vaults/[^/]+")


def _below_vault(url: str) -> tuple[str, ...]:
    path = urllib.parse.unquote(urllib.parse.urlsplit(url).path)
    match = _VAULT.match(path.lower())
    if match is None:
        return ()
    return tuple(s for s in path[match.end() :].split("/") if s)


def _matches(pattern: tuple[str, ...], segments: tuple[str, ...]) -> bool:
    if len(pattern) != len(segments):
        return False
    return all(p == "*" or p == s.lower() for p, s in zip(pattern, segments, strict=True))


@dataclass
class Exchange:
    method: str
    url: str
    status: int
    request: Any  # the body sent, parsed (None: no body)
    response: Any  # the body answered, parsed (None: no body)

    @property
    def segments(self) -> tuple[str, ...]:
        return _below_vault(self.url)

    def __str__(self) -> str:
        return f"{self.method} {'/'.join(self.segments)} → {self.status}"


def response_model(exchange: Exchange) -> tuple[str, type] | None:
    for pattern, kind, model in _RESPONSES:
        if _matches(pattern, exchange.segments):
            return kind, model
    return None


def request_model(exchange: Exchange) -> tuple[bool, type | None]:
    """(known route, SDK input model or None for a body-less action)."""
    for pattern, model in REQUESTS:
        if _matches(pattern, exchange.segments):
            return True, model
    return False, None


class Witness:
    """Catches every exchange with an in-process emulator (its handle is wrapped; nothing else changes)."""

    def __init__(self, emulator: ArmEmulator) -> None:
        self.emulator = emulator
        self.exchanges: list[Exchange] = []
        answer: Callable[..., Any] = emulator.handle

        def spy(method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> Any:
            response = answer(method, url, headers, body)
            self.exchanges.append(
                Exchange(
                    method.upper(),
                    url,
                    response.status,
                    json.loads(body) if body else None,
                    json.loads(response.body) if response.body else None,
                )
            )
            return response

        emulator.handle = spy  # type: ignore[method-assign]

    def take(self) -> list[Exchange]:
        """The exchanges caught since the last call."""
        caught, self.exchanges = self.exchanges, []
        return caught


def check_response(exchange: Exchange, walker: Walker) -> list[Finding]:
    """The answer's JSON against its SDK model: a page, a resource, an error envelope, an operation status."""
    body = exchange.response
    where = str(exchange)
    if exchange.status >= 400:
        return _tag(walker.walk(body, sdk.ErrorResponse), where)
    if exchange.segments and exchange.segments[0].lower() == "replicationoperationstatus":
        return _tag(check_operation_status(body, walker), where)
    if exchange.method == "POST":
        # Every ASR action answers 202 with an empty body (ASR_API.md §1.2, recorded).
        return [] if body is None else [Finding("$", "-", f"{where}: a POST answered a body")]
    if body is None:
        return [] if exchange.status == 202 else [Finding("$", "-", f"{where}: an empty answer")]
    found = response_model(exchange)
    if found is None:
        return [Finding("$", "-", f"{where}: no SDK model is known for this path")]
    kind, model = found
    if kind == _ONE:
        return _tag(walker.walk(body, model), where)
    problems: list[Finding] = []
    if not isinstance(body, dict):
        return [Finding("$", "page", f"{where}: a list page is not a JSON object")]
    for key in body:
        if key not in ("value", "nextLink"):
            problems.append(Finding(f"$.{key}", "page", f"{where}: a list page has only value and nextLink"))
    link = body.get("nextLink")
    if link is not None and not isinstance(link, str):
        problems.append(Finding("$.nextLink", "page", f"{where}: nextLink is a string or null"))
    values = body.get("value")
    if not isinstance(values, list):
        return [*problems, Finding("$.value", "page", f"{where}: value is a JSON array")]
    for index, doc in enumerate(values):
        problems.extend(_tag(walker.walk(doc, model, f"$.value[{index}]"), where))
    return problems


def check_operation_status(body: Any, walker: Walker) -> list[Finding]:
    if not isinstance(body, dict):
        return [Finding("$", "operation status", "not a JSON object")]
    problems = [
        Finding(f"$.{key}", "operation status", "key not in the recorded operation status")
        for key in body
        if key not in OPERATION_STATUS_KEYS
    ]
    for key in ("name", "status"):
        if not isinstance(body.get(key), str):
            problems.append(Finding(f"$.{key}", "operation status", "expected a JSON string"))
    for key in ("startTime", "endTime"):
        problems.extend(walker.walk_hint(body.get(key), datetime | None, f"$.{key}", "operation status"))
    for key in ("id", "properties", "percentComplete"):
        if body.get(key) is not None:
            problems.append(Finding(f"$.{key}", "operation status", "recorded as null; nothing shows another value"))
    if body.get("error") is not None:
        problems.extend(walker.walk(body["error"], sdk.ErrorDetail, "$.error"))
    return problems


def _tag(found: list[Finding], where: str) -> list[Finding]:
    return [Finding(f.path, f.model, f"{where}: {f.problem}") for f in found]


def through_attributes(value: Any) -> Any:
    """JSON rebuilt from a model's typed attributes only: a key the SDK does not model, or one under an
    instanceType it does not know, is gone; an enum becomes its value again."""
    if isinstance(value, sdk_models._Model):
        out: dict[str, Any] = {}
        for attr, rest in type(value)._attr_to_rest_field.items():  # type: ignore[attr-defined]
            got = getattr(value, attr)
            if got is not None:
                out[rest._rest_name] = through_attributes(got)
        return out
    if isinstance(value, list):
        return [through_attributes(v) for v in value]
    if isinstance(value, dict):
        return {k: through_attributes(v) for k, v in value.items()}
    if isinstance(value, enum.Enum):
        return value.value
    return value


def check_request(exchange: Exchange, walker: Walker) -> list[Finding]:
    """A body the client sent, against the SDK input model of its action: every key known (enums too), and the
    same JSON after the SDK reads it into the model and writes it again, through the typed attributes and
    through the SDK's own encoder (as the operations send a model)."""
    where = str(exchange)
    known, model = request_model(exchange)
    if not known:
        return [Finding("$", "-", f"{where}: no SDK operation is known for this POST")]
    body = exchange.request
    if model is None:
        return [] if body is None else [Finding("$", "-", f"{where}: the SDK sends no body here, the client did")]
    if body is None:
        return [Finding("$", model.__name__, f"{where}: no body, the SDK's {model.__name__} was expected")]
    problems = _tag(walker.walk(body, model), where)
    try:
        built = model(body)
        again = through_attributes(built)
        sent = json.loads(json.dumps(model(**_kwargs(built)), cls=SdkJSONEncoder, exclude_readonly=True))
    except Exception as exc:  # whatever the SDK trips on, said as a finding
        return [*problems, Finding("$", model.__name__, f"{where}: the SDK could not read it: {exc!r}")]
    if again != body:
        problems.append(Finding("$", model.__name__, f"{where}: read into the model and back, {body} became {again}"))
    if sent != body:
        problems.append(Finding("$", model.__name__, f"{where}: the SDK's encoder writes {sent}, not {body}"))
    return problems


def _kwargs(built: Any) -> dict[str, Any]:
    return {attr: getattr(built, attr) for attr in type(built)._attr_to_rest_field if getattr(built, attr) is not None}
