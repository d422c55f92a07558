"""ArmEmulator: the ARM REST surface of the simulated vault (routing, auth, LRO headers, paging, faults, counts)."""

from __future__ import annotations

import copy
import email.utils
import functools
import json
import re
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from core.clock import SIMULATION_HEADER, Clock
from core.emulator import faults as fk
from core.emulator import odata, shapes
from core.emulator.faults import Fault, FaultPlan
from core.emulator.jobs import SimJob, guid, seeded
from core.emulator.scenario import Scenario, ScenarioError
from core.emulator.vault import ArmError, SimItem, SimPlan, Vault
from core.model import VaultRef

# The api-version ASR writes into the LRO URLs it hands out (its internal one, not the client's).
LRO_API_VERSION = "2021-06-01"
# Seconds of simulated time a client should wait between polls, as ASR's Retry-After: 30.
POLL_SECONDS = 30.0
_READ_LIMIT = 12000
_WRITE_LIMIT = 1200


@dataclass
class EmulatorResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    drop: bool = False  # the connection drops before any answer
    delay: float = 0.0  # real seconds before the answer arrives

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class RequestStats:
    total: int = 0
    reads: int = 0
    writes: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    log: list[tuple[str, str]] = field(default_factory=list)

    def count(self, kind: str) -> int:
        return self.by_kind.get(kind, 0)


Handler = Callable[[dict[str, str], dict[str, str], Any], "EmulatorResponse | tuple[int, Any]"]

_ITEM = (
    "replicationfabrics",
    "{fabric}",
    "replicationprotectioncontainers",
    "{container}",
    "replicationprotecteditems",
    "{item}",
)
_FAULT_SHAPING = frozenset({fk.MALFORMED, fk.UNKNOWN_ENUM, fk.UNKNOWN_INSTANCE_TYPE})


def _parse_time(text: str) -> datetime:
    value = text.strip().replace("z", "Z")
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    value = re.sub(r"(\.\d{6})\d+", r"\1", value)
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class ArmEmulator:
    """A simulated Recovery Services vault answering the ARM paths the ASR SDK calls."""

    def __init__(
        self,
        scenario: Scenario,
        clock: Clock,
        *,
        base_url: str = "https://management.azure.com",
        page_size: int | None = None,
    ) -> None:
        self.scenario = scenario
        self.clock = clock
        self.base_url = base_url.rstrip("/")
        self.vault: VaultRef = scenario.vault
        self.faults = FaultPlan([copy.copy(f) for f in scenario.faults])
        self.stats = RequestStats()
        self.page_size = page_size or scenario.settings.page_size
        self._lock = threading.RLock()
        self._sim = Vault(scenario, clock.now(), self.faults)
        self._item_texts = shapes.ItemDocuments(self._sim)
        # Request and correlation ids: their own stream, so the number of reads never shifts the job names.
        self._request_ids = seeded(f"requests/{self._sim.prefix.lower()}")
        self._hour = -1
        self._hour_reads = 0
        self._hour_writes = 0
        self._routes: list[tuple[str, tuple[str, ...], str, Handler]] = self._build_routes()
        # The request being answered: nextLink and Location-to-self are built from it.
        self._current_path = ""
        self._current_url = ""

    def reseed_jobs(self, salt: str) -> None:
        """New jobs get names from another sequence (core.emulator.vault.Vault.reseed_jobs)."""
        self._sim.reseed_jobs(salt)

    @property
    def simulation(self) -> Vault:
        """The simulated state, for tests and trainers that need to look behind the REST surface."""
        return self._sim

    @property
    def vault_path(self) -> str:
        return self._sim.prefix

    # -- public helpers ------------------------------------------------------------------------------------

    def act_as_other_operator(self, item_name: str, operation: str) -> str:
        """Start failover/commit/reprotect on an item as someone else would; returns the job name."""
        with self._lock:
            now = self.clock.now()
            self._sim.advance(now)
            item = self._sim.find_item(item_name)
            if item is None:
                raise KeyError(f"no item {item_name!r} in the simulated vault")
            op = {"unplannedfailover": "failover", "failovercommit": "commit", "reprotect": "reprotect"}.get(
                operation.lower(), operation.lower()
            )
            if op not in ("failover", "commit", "reprotect"):
                raise ValueError(f"operation must be failover, commit or reprotect, not {operation!r}")
            return self._sim.act_as_other_operator(item, op, now).name

    def item_id(self, name: str) -> str:
        """The ARM id of an item given its friendly name (or RPI name)."""
        with self._lock:
            item = self._sim.find_item(name)
            if item is None:
                raise KeyError(f"no item {name!r} in the simulated vault")
            return self._sim.item_id(item)

    def documents(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Every item and job as a GET of each answers now: what Resource Graph indexes of this vault."""
        with self._lock:
            now = self.clock.now()
            self._sim.advance(now)
            items = [shapes.item(self._sim, it, now) for it in self._sim.items.values()]
            jobs = [shapes.job(self._sim, job, now) for job in self._sim.jobs.values()]
        return items, jobs

    # -- the HTTP surface ----------------------------------------------------------------------------------

    def handle(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> EmulatorResponse:
        with self._lock:
            method = method.upper()
            split = urllib.parse.urlsplit(url)
            path = urllib.parse.unquote(split.path)
            query = {k.lower(): v for k, v in urllib.parse.parse_qsl(split.query, keep_blank_values=True)}
            lowered = {k.lower(): v for k, v in headers.items()}
            kind, handler, params = self._route(method, path)
            self._current_path = path
            self._current_url = path + (f"?{split.query}" if split.query else "")
            self._count(method, path, kind)
            try:
                response = self._answer(method, path, query, lowered, body, handler, params)
            except ArmError as exc:
                response = self._error(exc)
            return self._finish(method, response)

    def _answer(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        headers: dict[str, str],
        body: bytes | None,
        handler: Handler | None,
        params: dict[str, str],
    ) -> EmulatorResponse:
        page = self._page_number(query) if method == "GET" else None
        take = self.faults.take_request_fault
        if take(method, path, page, frozenset({fk.TOKEN_EXPIRED})):
            raise ArmError(
                401,
                "ExpiredAuthenticationToken",
                "The access token expiry UTC time is earlier than current UTC time.",
                headers={
                    "WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/common", '
                    'error="invalid_token", error_description="The access token has expired."'
                },
            )
        auth = headers.get("authorization", "")
        if not auth.lower().startswith("bearer ") or not auth[7:].strip():
            raise ArmError(
                401,
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is missing or is not a bearer token.",
                headers={
                    "WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/common", '
                    'error="invalid_token", error_description="No bearer token."'
                },
            )
        if take(method, path, page, frozenset({fk.FORBIDDEN})):
            raise ArmError(
                403,
                "AuthorizationFailed",
                f"The client does not have authorization to perform action '{self._action_name(method, path)}' "
                f"over scope '{path}' or the scope is invalid. If access was recently granted, please refresh "
                "your credentials.",
            )
        throttle = take(method, path, page, frozenset({fk.THROTTLE}))
        if throttle:
            extra = {} if throttle.retry_after is None else {"Retry-After": str(int(throttle.retry_after))}
            what = "read" if method == "GET" else "write"
            raise ArmError(
                429,
                "SubscriptionRequestsThrottled",
                f"Number of '{what}' requests for subscription '{self.vault.subscription_id}' exceeded the limit. "
                "Please try again after a while.",
                headers=extra,
            )
        server = take(method, path, page, frozenset({fk.SERVER_ERROR}))
        if server:
            code = {500: "InternalServerError", 502: "BadGateway", 503: "ServiceUnavailable", 504: "GatewayTimeout"}
            raise ArmError(
                server.status, code[server.status], "The service is temporarily unavailable. Try again later."
            )
        if take(method, path, page, frozenset({fk.DROP})):
            return EmulatorResponse(0, {}, b"", drop=True)
        slow = take(method, path, page, frozenset({fk.SLOW}))
        if "api-version" not in query or not query["api-version"]:
            raise ArmError(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )
        if handler is None:
            raise ArmError(404, "NotFound", f"No HTTP resource was found that matches the request URI '{path}'.")
        if method == "POST" and take(method, path, page, frozenset({fk.BUSY})):
            raise ArmError(
                409,
                "OperationInProgress",
                "Another operation is in progress on this object.",
                asr_code="28052",
                possible_causes="An operation started by someone else is still running on this object.",
                recommended_action="Wait for the running job to finish, then retry.",
            )
        self._check_vault(params)
        now = self.clock.now()
        self._sim.advance(now)
        payload: Any = None
        if body:
            try:
                payload = json.loads(body)
            except ValueError:
                raise ArmError(
                    400, "InvalidRequestContent", "The request content was invalid and could not be deserialized."
                ) from None
        result = handler(params, query, payload)
        response = result if isinstance(result, EmulatorResponse) else self._json(*result)
        if slow:
            response.delay = slow.delay
        if response.status == 200 and method == "GET":
            shaping = take(method, path, page, _FAULT_SHAPING)
            if shaping is not None:
                response = self._shape(response, shaping)
        return response

    # -- plumbing ------------------------------------------------------------------------------------------

    def _build_routes(self) -> list[tuple[str, tuple[str, ...], str, Handler]]:
        i = _ITEM
        plans = ("replicationrecoveryplans", "{plan}")
        jobs = ("replicationjobs", "{job}")
        return [
            ("GET", ("replicationprotecteditems",), "GET replicationProtectedItems", self._list_items),
            ("GET", ("replicationfabrics",), "GET replicationFabrics", self._list_fabrics),
            ("GET", ("replicationfabrics", "{fabric}"), "GET replicationFabrics/{fabric}", self._get_fabric),
            ("GET", i[:3], "GET replicationProtectionContainers", self._list_containers),
            ("GET", i[:4], "GET replicationProtectionContainers/{container}", self._get_container),
            (
                "GET",
                i[:5],
                "GET replicationProtectionContainers/{container}/replicationProtectedItems",
                self._list_items,
            ),
            ("GET", i, "GET replicationProtectedItems/{item}", self._get_item),
            ("GET", (*i, "recoverypoints"), "GET recoveryPoints", self._list_points),
            ("GET", (*i, "recoverypoints", "{point}"), "GET recoveryPoints/{point}", self._get_point),
            ("POST", (*i, "unplannedfailover"), "POST unplannedFailover", self._item_op("failover")),
            ("POST", (*i, "plannedfailover"), "POST plannedFailover", self._item_op("planned-failover")),
            ("POST", (*i, "failovercancel"), "POST failoverCancel", self._item_op("cancel-failover")),
            ("POST", (*i, "failovercommit"), "POST failoverCommit", self._item_op("commit")),
            ("POST", (*i, "reprotect"), "POST reProtect", self._item_op("reprotect")),
            ("GET", (*i, "operationresults", "{op}"), "GET operationresults/{job}", self._item_result),
            ("GET", plans[:1], "GET replicationRecoveryPlans", self._list_plans),
            ("GET", plans, "GET replicationRecoveryPlans/{plan}", self._get_plan),
            ("POST", (*plans, "unplannedfailover"), "POST recoveryPlan unplannedFailover", self._plan_op("failover")),
            (
                "POST",
                (*plans, "plannedfailover"),
                "POST recoveryPlan plannedFailover",
                self._plan_op("planned-failover"),
            ),
            (
                "POST",
                (*plans, "failovercancel"),
                "POST recoveryPlan failoverCancel",
                self._plan_op("cancel-failover"),
            ),
            ("POST", (*plans, "failovercommit"), "POST recoveryPlan failoverCommit", self._plan_op("commit")),
            ("POST", (*plans, "reprotect"), "POST recoveryPlan reProtect", self._plan_op("reprotect")),
            ("GET", (*plans, "operationresults", "{op}"), "GET recoveryPlan operationresults/{job}", self._plan_result),
            ("GET", ("replicationpolicies",), "GET replicationPolicies", self._list_policies),
            ("GET", ("replicationpolicies", "{policy}"), "GET replicationPolicies/{policy}", self._get_policy),
            ("GET", jobs[:1], "GET replicationJobs", self._list_jobs),
            ("GET", jobs, "GET replicationJobs/{job}", self._get_job),
            ("POST", (*jobs, "cancel"), "POST replicationJobs/{job}/cancel", self._job_op("cancel")),
            ("POST", (*jobs, "restart"), "POST replicationJobs/{job}/restart", self._job_op("restart")),
            ("POST", (*jobs, "resume"), "POST replicationJobs/{job}/resume", self._job_op("resume")),
            (
                "GET",
                (*jobs, "operationresults", "{op}"),
                "GET replicationJobs/{job}/operationresults",
                self._job_result,
            ),
            ("GET", ("replicationoperationstatus", "{op}"), "GET replicationOperationStatus/{job}", self._op_status),
        ]

    def _route(self, method: str, path: str) -> tuple[str, Handler | None, dict[str, str]]:
        segs = [s for s in path.split("/") if s]
        head = [s.lower() for s in segs[:7]]
        shape_ok = (
            len(segs) >= 8
            and head[0] == "subscriptions"
            and head[2] == "resourcegroups"
            and head[4] == "providers"
            and head[5] == "microsoft.recoveryservices"
            and head[6] == "vaults"
        )
        if not shape_ok:
            return f"{method} unknown", None, {}
        params = {"subscription": segs[1], "resource_group": segs[3], "vault": segs[7]}
        rest = segs[8:]
        wrong_method = False
        for route_method, pattern, kind, handler in self._routes:
            if len(pattern) != len(rest):
                continue
            found: dict[str, str] = {}
            for want, got in zip(pattern, rest, strict=True):
                if want.startswith("{"):
                    found[want[1:-1]] = got
                elif want != got.lower():
                    break
            else:
                if route_method != method:
                    wrong_method = True
                    continue
                return kind, handler, {**params, **found}
        if wrong_method:
            return f"{method} unknown", self._method_not_allowed, params
        return f"{method} unknown", None, params

    def _method_not_allowed(self, params: dict[str, str], query: dict[str, str], body: Any) -> tuple[int, Any]:
        raise ArmError(405, "MethodNotAllowed", "The requested method is not allowed on this resource.")

    def _check_vault(self, params: dict[str, str]) -> None:
        ref = self.vault
        if params.get("subscription", "").lower() != ref.subscription_id.lower():
            raise ArmError(
                404,
                "ResourceNotFound",
                f"The Resource 'Microsoft.RecoveryServices/vaults/{params.get('vault')}' under resource group "
                f"'{params.get('resource_group')}' was not found: subscription '{params.get('subscription')}' "
                "holds no such vault.",
            )
        if (
            params.get("resource_group", "").lower() != ref.resource_group.lower()
            or params.get("vault", "").lower() != ref.name.lower()
        ):
            raise ArmError(
                404,
                "ResourceNotFound",
                f"The Resource 'Microsoft.RecoveryServices/vaults/{params.get('vault')}' under resource group "
                f"'{params.get('resource_group')}' was not found. For more details please go to "
                "https://aka.ms/ARMResourceNotFoundFix",
            )

    def _count(self, method: str, path: str, kind: str) -> None:
        self.stats.total += 1
        if method == "GET":
            self.stats.reads += 1
        else:
            self.stats.writes += 1
        self.stats.by_kind[kind] = self.stats.by_kind.get(kind, 0) + 1
        self.stats.log.append((method, path))
        hour = int(self.clock.now().timestamp() // 3600)
        if hour != self._hour:
            self._hour, self._hour_reads, self._hour_writes = hour, 0, 0
        if method == "GET":
            self._hour_reads += 1
        else:
            self._hour_writes += 1

    def _finish(self, method: str, response: EmulatorResponse) -> EmulatorResponse:
        if response.drop:
            return response
        headers = {
            "Cache-Control": "no-cache",
            "Pragma": "no-cache",
            "x-ms-request-id": guid(self._request_ids),
            "x-ms-correlation-request-id": guid(self._request_ids),
            "x-ms-ratelimit-remaining-subscription-reads": str(max(0, _READ_LIMIT - self._hour_reads)),
            "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
            "X-Content-Type-Options": "nosniff",
            # Simulated time, as ARM stamps every answer with its own clock; and a mark that this is a
            # simulation, with the clock's speed, so a client can show SIMULATION and follow the simulated time.
            "Date": email.utils.format_datetime(self.clock.now().astimezone(UTC), usegmt=True),
            SIMULATION_HEADER: f"speed={self.clock.speed:g}",
        }
        if method != "GET":
            headers["x-ms-ratelimit-remaining-subscription-writes"] = str(max(0, _WRITE_LIMIT - self._hour_writes))
        if response.body:
            headers["Content-Type"] = "application/json; charset=utf-8"
        headers.update(response.headers)
        headers["Content-Length"] = str(len(response.body))
        response.headers = headers
        return response

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> EmulatorResponse:
        return EmulatorResponse(status, dict(headers or {}), json.dumps(payload).encode())

    def _error(self, exc: ArmError) -> EmulatorResponse:
        details = []
        if exc.asr_code:
            details.append(
                {
                    "code": exc.asr_code,
                    "message": exc.message,
                    "possibleCauses": exc.possible_causes,
                    "recommendedAction": exc.recommended_action,
                    "activityId": guid(self._request_ids),
                    "clientRequestId": guid(self._request_ids),
                }
            )
        envelope = {"error": {"code": exc.code, "message": exc.message, "target": None, "details": details}}
        return self._json(exc.status, envelope, exc.headers)

    def _shape(self, response: EmulatorResponse, fault: Fault) -> EmulatorResponse:
        if fault.kind == fk.MALFORMED:
            response.body = response.body[: max(1, len(response.body) // 2)]
            return response
        doc = json.loads(response.body)
        docs = doc.get("value", []) if isinstance(doc, dict) and "value" in doc else [doc]
        for entry in docs:
            props = entry.get("properties") if isinstance(entry, dict) else None
            details = props.get("providerSpecificDetails") if isinstance(props, dict) else None
            if not isinstance(props, dict) or not isinstance(details, dict):
                continue
            if fault.kind == fk.UNKNOWN_INSTANCE_TYPE:
                details["instanceType"] = "InMageRcmNextGen"
            else:
                props["replicationHealth"] = "Impaired"
                props["failoverHealth"] = "Impaired"
                props["testFailoverState"] = "MarkedForDeletion2"
                details["protectionStage"] = "DeltaReplicationV3"
        response.body = json.dumps(doc).encode()
        return response

    def _action_name(self, method: str, path: str) -> str:
        """The RBAC operation a request needs, e.g. …/replicationProtectedItems/unplannedFailover/action."""
        rest = [seg for seg in path.split("/") if seg][8:]
        kinds = rest[0::2]  # below the vault, resource types and names alternate
        base = "/".join(["Microsoft.RecoveryServices/vaults", *kinds])
        return f"{base}/action" if method == "POST" else f"{base}/read"

    def _retry_after(self) -> str:
        speed = self.clock.speed
        if speed <= 0:
            # A manual (or paused) clock: a client's sleep moves simulated time 1:1 there (the in-process
            # transport advances a ManualClock), so the unscaled value keeps SDK polling finite.
            return str(int(POLL_SECONDS))
        return str(max(1, round(POLL_SECONDS / speed)))

    def _page_number(self, query: dict[str, str]) -> int:
        token = query.get("skiptoken") or query.get("$skiptoken") or ""
        return int(token) // self.page_size + 1 if token.isdigit() else 1

    def _paged(
        self, path: str, values: list[Any], query: dict[str, str], render: Callable[[Any], Any]
    ) -> tuple[int, Any]:
        """One page of `values`, rendered (only this page: big vaults stay cheap to list)."""
        token = query.get("skiptoken") or query.get("$skiptoken") or "0"
        if not token.isdigit():
            raise ArmError(400, "InvalidSkipToken", f"The skipToken {token!r} is not one this service issued.")
        start = int(token)
        page = values[start : start + self.page_size]
        out: dict[str, Any] = {"value": [render(v) for v in page]}
        if start + self.page_size < len(values):
            pairs = [("api-version", query.get("api-version", ""))]
            if query.get("$filter"):
                pairs.append(("$filter", query["$filter"]))
            pairs.append(("skipToken", str(start + self.page_size)))
            canonical = self._sim.prefix + "/" + "/".join(path.split("/")[9:])
            out["nextLink"] = (
                f"{self.base_url}{canonical}?{urllib.parse.urlencode(pairs, quote_via=urllib.parse.quote)}"
            )
        else:
            out["nextLink"] = None
        return 200, out

    def _paged_text(
        self, path: str, values: list[Any], query: dict[str, str], encode: Callable[[Any], str]
    ) -> EmulatorResponse:
        """As _paged, with each entry already JSON text: the page is joined, not encoded again."""
        status, page = self._paged(path, values, query, encode)
        text = '{"value": [' + ", ".join(page["value"]) + '], "nextLink": ' + json.dumps(page["nextLink"]) + "}"
        return EmulatorResponse(status, {}, text.encode())

    def _accepted(self, job: SimJob, resource_id: str) -> EmulatorResponse:
        location = f"{self.base_url}{resource_id}/operationresults/{job.name}?api-version={LRO_API_VERSION}"
        status = (
            f"{self.base_url}{self._sim.prefix}/replicationOperationStatus/{job.name}?api-version={LRO_API_VERSION}"
        )
        headers = {
            "Location": location,
            "Azure-AsyncOperation": status,
            "Retry-After": self._retry_after(),
            "x-ms-request-id": self._sim.job_id(job.name),
        }
        return EmulatorResponse(202, headers, b"")

    # -- lookups -------------------------------------------------------------------------------------------

    def _item(self, params: dict[str, str]) -> SimItem:
        item = self._sim.items.get(params["item"].lower())
        if (
            item is None
            or item.fabric.name.lower() != params["fabric"].lower()
            or item.container.lower() != params["container"].lower()
        ):
            raise ArmError(
                404,
                "ResourceNotFound",
                f"The replicated item '{params['item']}' was not found in protection container "
                f"'{params['container']}' of fabric '{params['fabric']}'.",
            )
        return item

    def _plan(self, params: dict[str, str]) -> SimPlan:
        plan = self._sim.plans.get(params["plan"].lower())
        if plan is None:
            raise ArmError(
                404, "ResourceNotFound", f"The recovery plan '{params['plan']}' was not found in this vault."
            )
        return plan

    def _job(self, name: str) -> SimJob:
        job = self._sim.jobs.get(name.lower())
        if job is None:
            raise ArmError(404, "ResourceNotFound", f"The job '{name}' was not found in this vault.")
        return job

    # -- handlers ------------------------------------------------------------------------------------------

    def _list_items(self, params: dict[str, str], query: dict[str, str], body: Any) -> EmulatorResponse:
        now = self.clock.now()
        items = list(self._sim.items.values())
        if "fabric" in params:
            fabric = next((f for f in self.scenario.fabrics if f.name.lower() == params["fabric"].lower()), None)
            if fabric is None or params["container"] not in fabric.containers:
                raise ArmError(
                    404, "ResourceNotFound", f"The protection container '{params['container']}' was not found."
                )
            items = [i for i in items if i.fabric is fabric and i.container.lower() == params["container"].lower()]
        text = query.get("$filter", "")
        if text:
            tree = self._parse_filter(text)
            allowed = {
                "recoveryplanname",
                "instancetype",
                "sourcefabricname",
                "vcentername",
                "multivmgroupcreateoption",
            }
            for clause in odata.clauses(tree):
                if clause.prop.lower() not in allowed:
                    raise ArmError(
                        400,
                        "InvalidFilter",
                        f"The filter property {clause.prop!r} is not supported for "
                        "replicated items; use RecoveryPlanName, InstanceType or SourceFabricName.",
                    )
            items = [i for i in items if odata.evaluate(tree, functools.partial(self._item_clause, item=i))]
        return self._paged_text(self._current_path, items, query, lambda i: self._item_texts.text(i, now))

    def _item_clause(self, clause: odata.Clause, item: SimItem) -> bool:
        prop, value = clause.prop.lower(), clause.value.lower()
        if prop == "recoveryplanname":
            hit = any(
                p.lower() == value or self._sim.plans[p.lower()].spec.friendly_name.lower() == value for p in item.plans
            )
        elif prop == "instancetype":
            hit = item.provider.lower() == value
        elif prop == "sourcefabricname":
            hit = item.fabric.name.lower() == value
        else:
            return True
        return hit if clause.op == "eq" else not hit if clause.op == "ne" else True

    def _parse_filter(self, text: str) -> odata.Node:
        try:
            return odata.parse(text)
        except odata.FilterError as exc:
            raise ArmError(400, "InvalidFilter", f"The $filter {text!r} could not be parsed: {exc}.") from None

    def _list_fabrics(self, params: dict[str, str], query: dict[str, str], body: Any) -> tuple[int, Any]:
        now = self.clock.now()
        return 200, {"value": [shapes.fabric(self._sim, f, now) for f in self.scenario.fabrics], "nextLink": None}

    def _fabric(self, params: dict[str, str]) -> Any:
        fabric = next((f for f in self.scenario.fabrics if f.name.lower() == params["fabric"].lower()), None)
        if fabric is None:
            raise ArmError(404, "ResourceNotFound", f"The fabric '{params['fabric']}' was not found in this vault.")
        return fabric

    def _get_fabric(self, params: dict[str, str], query: dict[str, str], body: Any) -> tuple[int, Any]:
        return 200, shapes.fabric(self._sim, self._fabric(params), self.clock.now())

    def _list_containers(self, params: dict[str, str], query: dict[str, str], body: Any) -> tuple[int, Any]:
        fabric = self._fabric(params)
        return 200, {"value": [shapes.container(self._sim, fabric, c) for c in fabric.containers], "nextLink": None}

    def _get_container(self, params: dict[str, str], query: dict[str, str], body: Any) -> tuple[int, Any]:
        fabric = self._fabric(params)
        name = next((c for c in fabric.containers if c.lower() == params["container"].lower()), None)
        if name is None:
            raise ArmError(404, "ResourceNotFound", f"The protection container '{params['container']}' was not found.")
        return 200, shapes.container(self._sim, fabric, name)

    def _get_item(self, params: dict[str, str], query: dict[str, str], body: Any) -> tuple[int, Any]:
        return 200, shapes.item(self._sim, self._item(params), self.clock.now())

    def _list_points(self, params: dict[str, str], query: dict[str, str], body: Any) -> tuple[int, Any]:
        item = self._item(params)
        return 200, {"value": shapes.recovery_points(self._sim, item, self.clock.now()), "nextLink": None}

    def _get_point(self, params: dict[str, str], query: dict[str, str], body: Any) -> tuple[int, Any]:
        item = self._item(params)
        for point in shapes.recovery_points(self._sim, item, self.clock.now()):
            if point["name"] == params["point"]:
                return 200, point
        raise ArmError(404, "ResourceNotFound", f"The recovery point '{params['point']}' was not found for this item.")

    def _item_op(self, operation: str) -> Handler:
        def run(params: dict[str, str], query: dict[str, str], body: Any) -> EmulatorResponse:
            item = self._item(params)
            job = self._sim.start_item_operation(item, operation, body or {}, self.clock.now())
            return self._accepted(job, self._sim.item_id(item))

        return run

    def _item_result(
        self, params: dict[str, str], query: dict[str, str], body: Any
    ) -> EmulatorResponse | tuple[int, Any]:
        item = self._item(params)
        job = self._job(params["op"])
        if job.running:
            return EmulatorResponse(202, {"Retry-After": self._retry_after(), "Location": self._self_url()}, b"")
        return 200, shapes.item(self._sim, item, self.clock.now())

    def _list_plans(self, params: dict[str, str], query: dict[str, str], body: Any) -> tuple[int, Any]:
        now = self.clock.now()
        return 200, {"value": [shapes.plan(self._sim, p, now) for p in self._sim.plans.values()], "nextLink": None}

    def _get_plan(self, params: dict[str, str], query: dict[str, str], body: Any) -> tuple[int, Any]:
        return 200, shapes.plan(self._sim, self._plan(params), self.clock.now())

    def _plan_op(self, operation: str) -> Handler:
        def run(params: dict[str, str], query: dict[str, str], body: Any) -> EmulatorResponse:
            plan = self._plan(params)
            job = self._sim.start_plan_operation(plan, operation, body or {}, self.clock.now())
            return self._accepted(job, self._sim.plan_id(plan))

        return run

    def _plan_result(
        self, params: dict[str, str], query: dict[str, str], body: Any
    ) -> EmulatorResponse | tuple[int, Any]:
        plan = self._plan(params)
        job = self._job(params["op"])
        if job.running:
            return EmulatorResponse(202, {"Retry-After": self._retry_after(), "Location": self._self_url()}, b"")
        return 200, shapes.plan(self._sim, plan, self.clock.now())

    def _list_policies(self, params: dict[str, str], query: dict[str, str], body: Any) -> tuple[int, Any]:
        return 200, {"value": [shapes.policy(self._sim, n, k) for n, k in shapes.policies(self._sim)], "nextLink": None}

    def _get_policy(self, params: dict[str, str], query: dict[str, str], body: Any) -> tuple[int, Any]:
        for name, kind in shapes.policies(self._sim):
            if name.lower() == params["policy"].lower():
                return 200, shapes.policy(self._sim, name, kind)
        raise ArmError(404, "ResourceNotFound", f"The replication policy '{params['policy']}' was not found.")

    def _list_jobs(self, params: dict[str, str], query: dict[str, str], body: Any) -> tuple[int, Any]:
        now = self.clock.now()
        jobs = sorted(self._sim.jobs.values(), key=lambda j: j.created, reverse=True)
        text = query.get("$filter", "")
        if text:
            tree = self._parse_filter(text)
            for clause in odata.clauses(tree):
                if clause.prop.lower() not in _JOB_PROPS:
                    raise ArmError(
                        400,
                        "InvalidFilter",
                        f"The filter property {clause.prop!r} is not a job query "
                        f"parameter; use one of {', '.join(sorted(_JOB_PROPS.values()))}.",
                    )
                if clause.prop.lower() in ("starttime", "endtime"):
                    try:
                        _parse_time(clause.value)
                    except ValueError:
                        raise ArmError(
                            400, "InvalidFilter", f"{clause.prop} {clause.value!r} is not a date and time."
                        ) from None
            jobs = [j for j in jobs if odata.evaluate(tree, functools.partial(_job_clause, job=j))]
        return self._paged(self._current_path, jobs, query, lambda j: shapes.job(self._sim, j, now))

    def _get_job(self, params: dict[str, str], query: dict[str, str], body: Any) -> tuple[int, Any]:
        return 200, shapes.job(self._sim, self._job(params["job"]), self.clock.now())

    def _job_op(self, action: str) -> Handler:
        def run(params: dict[str, str], query: dict[str, str], body: Any) -> EmulatorResponse:
            job = self._job(params["job"])
            now = self.clock.now()
            if action == "cancel":
                self._sim.cancel_job(job, now)
            elif action == "restart":
                self._sim.restart_job(job, now)
            else:
                self._sim.resume_job(job, now)
            return self._accepted(job, self._sim.job_id(job.name))

        return run

    def _job_result(
        self, params: dict[str, str], query: dict[str, str], body: Any
    ) -> EmulatorResponse | tuple[int, Any]:
        job = self._job(params["job"])
        if job.running and job.state != "Suspended":
            return EmulatorResponse(202, {"Retry-After": self._retry_after(), "Location": self._self_url()}, b"")
        return 200, shapes.job(self._sim, job, self.clock.now())

    def _op_status(self, params: dict[str, str], query: dict[str, str], body: Any) -> EmulatorResponse:
        job = self._job(params["op"])
        status = {"Cancelled": "Canceled"}.get(job.state, job.state)
        error = None
        if job.state == "Failed" and job.errors:
            first = job.errors[0][1]
            error = {"code": first.service_code, "message": first.service_message, "details": None}
        payload = {
            "error": error,
            "id": None,
            "name": job.name,
            "properties": None,
            "status": status,
            "startTime": shapes.ts(job.start or job.created),
            "endTime": shapes.ts(job.end),
            "percentComplete": None,
        }
        headers = {"Retry-After": self._retry_after()} if job.running else {}
        return self._json(200, payload, headers)

    def _self_url(self) -> str:
        return f"{self.base_url}{self._current_url}"


_JOB_PROPS = {
    "starttime": "StartTime",
    "endtime": "EndTime",
    "jobstatus": "JobStatus",
    "affectedobjecttypes": "AffectedObjectTypes",
    "jobname": "JobName",
    "fabricid": "FabricId",
    "joboutputtype": "JobOutputType",
    "timezoneoffset": "TimezoneOffset",
}


def _job_clause(clause: odata.Clause, job: SimJob) -> bool:
    prop, value = clause.prop.lower(), clause.value
    if prop == "starttime":
        # ASR reads StartTime/EndTime as the window the job started in, whatever the operator.
        return (job.start or job.created) >= _parse_time(value)
    if prop == "endtime":
        return (job.start or job.created) <= _parse_time(value)
    if prop == "jobstatus":
        hit = job.state.lower() == value.lower()
    elif prop == "affectedobjecttypes":
        hit = job.target_instance_type.lower() == value.lower()
    elif prop == "jobname":
        hit = value.lower() in (job.scenario_name.lower(), job.name.lower())
    elif prop == "fabricid":
        hit = bool(job.fabric_id) and value.lower() in (job.fabric_id.lower(), job.fabric_id.rsplit("/", 1)[-1].lower())
    else:
        return True
    return hit if clause.op != "ne" else not hit


def emulate(
    scenario: Scenario, clock: Clock, *, base_url: str = "https://management.azure.com", page_size: int | None = None
) -> ArmEmulator:
    """The emulator running `scenario`: what demo, training and `emulator serve` start.

    A file that passes the scenario checks yet cannot be simulated is a ScenarioError here, with what went wrong,
    rather than a crash at start-up.
    """
    try:
        return ArmEmulator(scenario, clock, base_url=base_url, page_size=page_size)
    except ScenarioError:
        raise
    except Exception as exc:  # the checks let through a combination the simulation cannot build
        raise ScenarioError(scenario.source or scenario.name, "$", f"the emulator cannot run it: {exc}") from exc


def rehearse(emulator: ArmEmulator) -> None:
    """Read every list a session starts with (items, plans, fabrics, jobs, every page) and the first item's
    recovery points, as the dashboard would; a ScenarioError when the simulation cannot answer one of them."""
    prefix = emulator.base_url + emulator.vault.arm_id
    lists = ("replicationProtectedItems", "replicationRecoveryPlans", "replicationFabrics", "replicationJobs")
    first_item = ""
    for suffix in lists:
        url = f"{prefix}/{suffix}?api-version={LRO_API_VERSION}"
        while url:
            body = _rehearsed(emulator, url)
            if suffix == "replicationProtectedItems" and not first_item and body.get("value"):
                first_item = str(body["value"][0].get("id", ""))
            url = str(body.get("nextLink") or "")
    if first_item:
        _rehearsed(emulator, f"{emulator.base_url}{first_item}/recoveryPoints?api-version={LRO_API_VERSION}")


def _rehearsed(emulator: ArmEmulator, url: str) -> dict[str, Any]:
    answer = emulator.handle("GET", url, {"Authorization": "Bearer rehearsal"}, None)
    if answer.status >= 500:
        where = urllib.parse.urlsplit(url).path.removeprefix(urllib.parse.urlsplit(emulator.base_url).path)
        text = answer.body[:300].decode("utf-8", "replace")
        raise ScenarioError(
            emulator.scenario.source or emulator.scenario.name, "$", f"the emulator cannot answer {where}: {text}"
        )
    try:
        body = answer.json() if answer.status == 200 and answer.body else {}
    except ValueError:  # a malformed-json fault of the scenario answers so on purpose
        return {}
    return body if isinstance(body, dict) else {}
