"""AzureBackend: the Backend protocol over the official ASR SDK (against Azure or the ARM emulator)."""

from __future__ import annotations

import dataclasses
import email.utils
import functools
import json
import queue
import re
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, TypeVar

from core.azure import mapping
from core.clock import SIMULATION_HEADER, Clock, ServerClock
from core.endpoints import origin_of
from core.errors import (
    AuthenticationError,
    ConnectionLost,
    FailbackError,
    MalformedResponse,
    NotFound,
    OperationInProgress,
    PermissionDenied,
    ReadOnlyError,
    ServiceError,
    Throttled,
)
from core.model import (
    AnyReprotectTarget,
    Fabric,
    Job,
    JobFilter,
    OperationHandle,
    PointChoice,
    ProtectedItem,
    RecoveryPlan,
    RecoveryPoint,
    ReprotectTarget,
    VaultRef,
)
from core.providers import CLASSIC, MODERNIZED, ActionRequest, Verb, provider_for
from core.providers.base import forward_policy
from core.sanitize import one_line

API_VERSION = "2025-08-01"
DEFAULT_SCOPE = "https://management.azure.com/.default"
T = TypeVar("T")
# Pages of one list the tool reads at most (10,000 items are 200 pages of 50): a list that never ends, or whose
# nextLink repeats itself, would otherwise read forever and throttle every operator on the subscription.
MAX_PAGES = 5000


def job_name_from_headers(headers: Any) -> str:
    """The ASR job name from a 202's Azure-AsyncOperation or Location URL.

    Whatever the host (regional or not), the casing of the path (`/Subscriptions/`) or the api-version in
    the query, the job name is the last path segment after replicationOperationStatus/ or operationresults/.
    """
    for header in ("Azure-AsyncOperation", "Location"):
        url = _header(headers, header)
        if not url:
            continue
        path = urllib.parse.urlsplit(url).path.rstrip("/")
        parts = path.split("/")
        for marker in ("replicationoperationstatus", "operationresults"):
            lowered = [p.lower() for p in parts]
            if marker in lowered:
                index = lowered.index(marker)
                if index + 1 < len(parts) and parts[index + 1]:
                    return urllib.parse.unquote(parts[index + 1])
    return ""


def _header(headers: Any, name: str) -> str:
    if headers is None:
        return ""
    value = headers.get(name)
    if value is None:
        for key in headers:
            if key.lower() == name.lower():
                return str(headers[key])
        return ""
    return str(value)


def follow_server(headers: Any, server_clock: ServerClock | None) -> bool:
    """Move `server_clock` to the answer's Date (at the emulator's speed, when it states one); True when the answer
    says it comes from the emulator."""
    marker = _header(headers, SIMULATION_HEADER)
    if server_clock is None:
        return bool(marker)
    stamp = _header(headers, "Date")
    if not stamp:
        return bool(marker)
    try:
        when = email.utils.parsedate_to_datetime(stamp)
    except (TypeError, ValueError):
        return bool(marker)
    speed = 1.0
    if marker.startswith("speed="):
        try:
            speed = float(marker.split("=", 1)[1])
        except ValueError:
            speed = 1.0
    server_clock.observe(when, speed)
    return bool(marker)


def translate_error(exc: BaseException) -> FailbackError:
    """Any azure-core / azure-identity / transport exception to one of our types, ASR details kept."""
    from azure.core import exceptions as az

    if isinstance(exc, FailbackError):
        return exc
    if isinstance(exc, az.ClientAuthenticationError) and getattr(exc, "response", None) is None:
        return AuthenticationError(f"Could not get a token to call Azure: {_first_line(exc)}")
    if isinstance(exc, (az.ServiceRequestError, az.ServiceResponseError)):
        return ConnectionLost(f"The request to Azure Resource Manager did not complete: {_first_line(exc)}")
    if isinstance(exc, az.DecodeError):
        return MalformedResponse(f"Azure sent a response that is not valid JSON: {_first_line(exc)}")
    if isinstance(exc, az.HttpResponseError):
        response = exc.response
        status = getattr(response, "status_code", None) or exc.status_code
        body: Any = None
        if response is not None:
            try:
                body = json.loads(response.text())
            except (ValueError, TypeError, AttributeError):
                body = None
        code, message, details = mapping.arm_error_details(body)
        message = message or _first_line(exc)
        activity = next((d.activity_id for d in details if d.activity_id), "")
        if response is not None and not activity:
            # Both response types azure-core raises with carry headers; its common base does not declare them.
            activity = _header(getattr(response, "headers", {}), "x-ms-correlation-request-id")
        kwargs: dict[str, Any] = {"code": code, "status": status, "details": details, "activity_id": activity}
        if status == 401:
            return AuthenticationError(f"Azure refused the sign-in (401 {code}): {message}", details=details)
        if status == 403:
            return PermissionDenied(f"Not allowed (403 {code}): {message}", details=details)
        if status == 404:
            return NotFound(f"Not found (404 {code}): {message}", details=details)
        if status == 409:
            return OperationInProgress(f"Conflict (409 {code}): {message}", **kwargs)
        if status == 429:
            return Throttled(f"Throttled (429 {code}): {message}", **kwargs)
        if status is not None and status >= 500:
            hint = (
                "Azure had a problem answering. Wait a minute and try again; if it persists, check "
                "status.azure.com and quote the activity id to support."
            )
        else:
            hint = "Azure refused the request: read ASR's recommended action above, fix what it names, then retry."
        return ServiceError(f"Azure answered {status} {code}: {message}", hint=hint, **kwargs)
    if isinstance(exc, (ValueError, KeyError, TypeError)):
        return MalformedResponse(f"The response could not be read: {_first_line(exc)}")
    if isinstance(exc, az.AzureError):
        return ServiceError(f"Azure error: {_first_line(exc)}")
    if isinstance(exc, OSError):
        return ConnectionLost(f"Network error: {_first_line(exc)}")
    return FailbackError(f"Unexpected error: {type(exc).__name__}: {_first_line(exc)}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _read_ahead(pages: Iterator[T], depth: int = 2) -> Iterator[T]:
    """Pages read ahead in a thread of their own: the next request is on the wire (and the vault busy answering
    it) while this page is mapped and shown. Errors arrive in page order; closing the iterator stops the reader."""
    slots: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                slots.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            for page in pages:
                if not put(("page", page)):
                    return
        except BaseException as exc:  # handed to the reader of the pages, in order
            put(("error", exc))
            return
        put(("end", None))

    threading.Thread(target=read, name="item-pages", daemon=True).start()
    try:
        while True:
            kind, value = slots.get()
            if kind == "page":
                yield value
            elif kind == "error":
                raise value
            else:
                return
    finally:
        stop.set()


# A list page's last member, when it is nextLink: `, "nextLink": "…"}` or `, "nextLink": null}` closing the body.
# JSON escapes every quote inside a string, so an unescaped `"nextLink"` here is a key, and the `}` that ends the
# body after its value closes the top-level object.
_LINK_AT_END = re.compile(rb',\s*"nextLink"\s*:\s*("(?:[^"\\]|\\.)*"|null)\s*\}\s*\Z')
_TAIL = 16384


def _next_link_at_end(raw: bytes) -> tuple[bool, str | None]:
    """(True, nextLink) when the body ends with its nextLink member; (False, None) when it must be parsed."""
    match = _LINK_AT_END.search(raw, max(0, len(raw) - _TAIL))
    if match is None:
        return False, None
    try:
        link = json.loads(match.group(1))
    except ValueError:
        return False, None
    return (True, link) if link is None or isinstance(link, str) else (False, None)


def _page_json(page: bytes | dict[str, Any]) -> dict[str, Any]:
    """A list page parsed (once) and checked for the ARM shape {value: [...], nextLink}."""
    if isinstance(page, dict):
        body: Any = page
    else:
        try:
            body = json.loads(page)
        except ValueError as exc:  # UnicodeDecodeError is a ValueError too
            raise MalformedResponse(f"A list page was not valid JSON: {exc}") from exc
    if not isinstance(body, dict) or not isinstance(body.get("value", []), list):
        raise MalformedResponse("A list page did not have the ARM shape {value: [...], nextLink}.")
    return body


class _LinkGuard:
    """The nextLinks of one list: each new, and at most MAX_PAGES of them."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.seen: set[str] = set()

    def check(self, link: str) -> None:
        if link in self.seen:
            raise MalformedResponse(
                f"{self.what} from Azure named a page it had already sent as its next page ({one_line(link, 200)}); "
                f"the tool stopped reading after {len(self.seen)} pages rather than loop.",
                hint="The endpoint answered a list in a loop. Retry later; if it persists, report it with the time.",
            )
        if len(self.seen) >= MAX_PAGES:
            raise MalformedResponse(
                f"{self.what} from Azure ran past {MAX_PAGES} pages; the tool stopped reading.",
                hint="A vault's lists are far shorter: the endpoint is misbehaving. Report it with the time.",
            )
        self.seen.add(link)


def _paged(pager: Any, what: str) -> Iterator[Any]:
    """The models of an SDK pager, its nextLinks held by _LinkGuard before each next page is requested."""
    follow = _LinkGuard(what)
    pages = pager.by_page()
    for page in pages:
        yield from page
        link = getattr(pages, "continuation_token", None)
        if link:
            follow.check(str(link))


def _read_pipeline(credential: Any, kwargs: dict[str, Any], guards: dict[str, Any]) -> Any:
    """The SDK client's policies (same retry, auth, hooks and transport), built from azure-core alone.

    Reads of raw JSON go through it, so the first rows wait neither for the SDK's import nor for its models.
    `guards` are this pipeline's own redirect and retry policies (a policy instance belongs to one pipeline).
    """
    from azure.core.pipeline import Pipeline

    return Pipeline(kwargs["transport"], read_policies(credential, kwargs, guards))


def guards_for(pinned: Any, notice: Callable[[str], None], kwargs: dict[str, Any]) -> dict[str, Any]:
    """A pipeline's redirect and retry policies: held to the ARM origin, and saying every wait. New ones for each
    pipeline (a policy instance belongs to one)."""
    from core.azure.policies import AnnouncedRetryPolicy, PinnedRedirectPolicy

    return {
        "redirect_policy": PinnedRedirectPolicy(pinned, **kwargs),
        "retry_policy": AnnouncedRetryPolicy(notice, **kwargs),
    }


def pipeline_kwargs(
    *,
    credential_scopes: list[str] | None = None,
    ca_bundle: str | None = None,
    transport: Any = None,
    retry_total: int = 3,
    observe: Callable[[Any], None] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The azure-core options of every client here (timeouts, retries, CA, transport, the answer hook)."""
    kwargs: dict[str, Any] = {
        "retry_total": retry_total,
        "retry_backoff_max": 8,
        "connection_timeout": 10,
        "read_timeout": 30,
        "polling_interval": 0,
        # Bodies are read whole (a page of items is ~300 KB): 4 KB blocks cost a Python round per block.
        "connection_data_block_size": 1 << 20,
    }
    if credential_scopes:
        kwargs["credential_scopes"] = credential_scopes
    if ca_bundle:
        kwargs["connection_verify"] = ca_bundle
    if transport is not None:
        kwargs["transport"] = transport
    if observe is not None:
        kwargs["raw_response_hook"] = observe
    kwargs.update(extra or {})
    if "transport" not in kwargs:
        from azure.core.pipeline.transport import RequestsTransport

        # One connection pool for the raw reads and the SDK client.
        kwargs["transport"] = RequestsTransport(**kwargs)
    return kwargs


def read_policies(credential: Any, kwargs: dict[str, Any], guards: dict[str, Any]) -> list[Any]:
    """The policies every read goes through, in the SDK clients' order; the Resource Graph client runs on them
    too, so the fleet and each vault share one way of signing, retrying and observing requests. `guards` holds
    the pipeline's own redirect and retry policies (`guards_for`)."""
    from azure.core.pipeline import policies
    from azure.mgmt.core.policies import (
        ARMAutoResourceProviderRegistrationPolicy,
        ARMChallengeAuthenticationPolicy,
        ARMHttpLoggingPolicy,
    )

    options = {k: v for k, v in kwargs.items() if k not in ("transport", "credential_scopes", "polling_interval")}
    options.setdefault("sdk_moniker", "avs-failback")
    scopes = kwargs.get("credential_scopes") or [DEFAULT_SCOPE]
    chain: list[Any] = [
        policies.RequestIdPolicy(**options),
        policies.HeadersPolicy(**options),
        policies.UserAgentPolicy(**options),
        policies.ProxyPolicy(**options),
        policies.ContentDecodePolicy(**options),
        ARMAutoResourceProviderRegistrationPolicy(),
        guards["redirect_policy"],
        guards["retry_policy"],
        ARMChallengeAuthenticationPolicy(credential, *scopes, **options),
        policies.CustomHookPolicy(**options),
        policies.NetworkTraceLoggingPolicy(**options),
        policies.DistributedTracingPolicy(**options),
        policies.SensitiveHeaderCleanupPolicy(**options),
        ARMHttpLoggingPolicy(**options),
    ]
    return chain


class AzureBackend:
    """One Recovery Services vault through SiteRecoveryManagementClient.

    Reads map ARM JSON into core.model; operations start the ASR action with polling=False, take the job name
    from the 202's headers and return at once. Every SDK import happens here, lazily, so the UI's first frame
    does not wait for it.
    """

    def __init__(
        self,
        vault: VaultRef,
        credential: Any,
        *,
        arm_endpoint: str = "https://management.azure.com",
        credential_scopes: list[str] | None = None,
        ca_bundle: str | None = None,
        transport: Any = None,
        clock: Clock | None = None,
        read_only: bool = False,
        simulated: bool = False,
        retry_total: int = 3,
        client_kwargs: dict[str, Any] | None = None,
        rehearse: bool = False,
    ) -> None:
        self.vault = vault
        self.read_only = read_only
        self.simulated = simulated
        # Without a clock of our own, follow the service's Date header (and an emulator's speed).
        self._server_clock = ServerClock() if clock is None else None
        self.clock: Clock = clock or self._server_clock  # type: ignore[assignment]
        self.arm_endpoint = arm_endpoint.rstrip("/")
        # Only this origin receives the token or is believed (nextLinks, redirects): core.azure.policies.
        self._pinned = origin_of(self.arm_endpoint)
        # Told about every wait between retries (throttling, timeouts), so that a slow vault is never silent.
        self.on_notice: Callable[[str], None] | None = None
        self._who: str | None = None
        # Over the network the page reader waits for each answer: parsing a page then overlaps that wait. A
        # transport handed in (the in-process emulator) answers on the reader's own time, with no wait to overlap.
        self._parse_while_waiting = transport is None and "transport" not in (client_kwargs or {})
        kwargs = pipeline_kwargs(
            credential_scopes=credential_scopes,
            ca_bundle=ca_bundle,
            transport=transport,
            retry_total=retry_total,
            observe=self._observe,
            extra=client_kwargs,
        )
        # A rehearsal: the transport under both pipelines sends reads only and stops every other request unsent
        # (core.rehearsal), whatever asks for it.
        self.rehearsal_transport: Any = None
        if rehearse:
            from core.rehearsal import RehearsalTransport

            self.rehearsal_transport = kwargs["transport"] = RehearsalTransport(kwargs["transport"])
        self._credential = credential
        self._client_kwargs = kwargs
        self._sdk_client: Any = None
        self._sdk_lock = threading.Lock()
        self._reads = _read_pipeline(credential, kwargs, self._guards())
        self._plans_lock = threading.Lock()
        self._plan_membership: dict[str, tuple[str, ...]] | None = None

    # -- plumbing ----------------------------------------------------------------------------------------

    @property
    def _client(self) -> Any:
        """The SDK client, built on first use: importing it costs about a tenth of a second that the first
        rows do not wait for (items, plans and fabrics are read as raw JSON through the same policies)."""
        if self._sdk_client is None:
            with self._sdk_lock:
                if self._sdk_client is None:
                    from azure.mgmt.recoveryservicessiterecovery import SiteRecoveryManagementClient

                    self._sdk_client = SiteRecoveryManagementClient(
                        self._credential,
                        self.vault.subscription_id,
                        base_url=self.arm_endpoint,
                        **self._client_kwargs,
                        **self._guards(),
                    )
        return self._sdk_client

    def _guards(self) -> dict[str, Any]:
        return guards_for(self._pinned, self._notice, self._client_kwargs)

    def _notice(self, text: str) -> None:
        if self.on_notice is not None:
            self.on_notice(text)

    def signed_in_as(self) -> str:
        """The signed-in identity's name as its token states it, for the journal's `who`; "" when the token is
        not a JWT (a placeholder) or no token can be had (the first request then says why)."""
        if self._who is None:
            from core.identity import identity_name

            scope = (self._client_kwargs.get("credential_scopes") or [DEFAULT_SCOPE])[0]
            try:
                self._who = one_line(identity_name(self._credential, scope), 200)
            except FailbackError:
                self._who = ""
        return self._who

    def now(self) -> datetime:
        return self.clock.now()

    def _observe(self, pipeline_response: Any) -> None:
        """Every answer: follow the server's clock, and notice an emulator (it says so in a header)."""
        if follow_server(pipeline_response.http_response.headers, self._server_clock):
            self.simulated = True

    @property
    def _rg(self) -> str:
        return self.vault.resource_group

    @property
    def _name(self) -> str:
        return self.vault.name

    def _call(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except Exception as exc:  # every failure leaves as one of our types
            raise translate_error(exc) from exc

    def _guard_write(self, what: str) -> None:
        if self.read_only:
            raise ReadOnlyError(f"Read-only mode: {what} was not sent.")

    def _start(self, operation: str, target_id: str, target_name: str, begin: Callable[..., Any]) -> OperationHandle:
        """Run a begin_* call with polling off; the job name comes from the 202's headers."""
        captured: dict[str, Any] = {}

        def hook(pipeline_response: Any) -> None:
            self._observe(pipeline_response)
            http = pipeline_response.http_response
            captured["status"] = http.status_code
            captured["headers"] = dict(http.headers)

        # retry_total=0: azure-core would resend a POST answered 5xx, or 429 with Retry-After; an ASR action
        # must go out once. Whether a lost answer started a job is for the caller to find out (core.operations).
        self._call(lambda: begin(polling=False, raw_response_hook=hook, retry_total=0))
        headers = captured.get("headers") or {}
        name = job_name_from_headers(headers)
        if not name:
            raise MalformedResponse(
                f"{operation}: Azure accepted the request (HTTP {captured.get('status')}) but named no job in "
                "Azure-AsyncOperation or Location. Look for the job in `jobs` before retrying."
            )
        from core.azure.policies import MAX_RETRY_AFTER

        retry_after = _header(headers, "Retry-After")
        try:
            delay = float(retry_after) if retry_after else None
        except ValueError:
            delay = None
        if delay is not None and not 0 <= delay <= MAX_RETRY_AFTER:  # NaN and infinity fail this too
            delay = None
        return OperationHandle(
            operation=operation,
            job_name=name,
            target_id=target_id,
            target_name=target_name,
            retry_after=delay,
            request_id=_header(headers, "x-ms-request-id"),
        )

    # -- reads -------------------------------------------------------------------------------------------

    def _raw_pages(self, url: str) -> Iterator[dict[str, Any]]:
        """GET a list and follow nextLink verbatim (re-adding api-version, as the SDK pager does)."""
        for page in self._raw_page_bodies(url):
            yield _page_json(page)

    def _raw_page_bodies(self, url: str) -> Iterator[bytes | dict[str, Any]]:
        """The pages of a list as they arrive: the body's bytes when its nextLink could be read from its end,
        else the page already parsed. Parsing a page (a few hundred KB) is then left to whoever reads the pages,
        while the next request is on the wire."""
        from azure.core.rest import HttpRequest

        next_url: str | None = url
        follow = _LinkGuard("A list")
        while next_url:
            follow.check(next_url)
            parsed = urllib.parse.urlsplit(next_url)
            pairs = urllib.parse.parse_qsl(parsed.query, keep_blank_values=True)
            query = [(k, v) for k, v in pairs if k != "api-version"]
            query.append(("api-version", API_VERSION))
            encoded = urllib.parse.urlencode(query, quote_via=urllib.parse.quote)
            request = HttpRequest("GET", urllib.parse.urlunsplit(parsed._replace(query=encoded)))
            request.headers["Accept"] = "application/json"
            raw = self._raw_bytes(request, "A list page")
            found, link = _next_link_at_end(raw)
            page: bytes | dict[str, Any] = raw
            if not found:
                page = _page_json(raw)
                link = page.get("nextLink")
            yield page
            next_url = str(link) if link else None

    def _read(self, request: Any, what: str) -> Any:
        """Send a GET through the read pipeline; the pipeline response of a 200, or our error for anything else."""
        pipeline_response = self._call(lambda: self._reads.run(request))
        response = pipeline_response.http_response
        if response.status_code != 200:
            self._call(response.raise_for_status)
            raise ServiceError(f"{what} answered HTTP {response.status_code}", status=response.status_code)
        return pipeline_response

    def _raw_bytes(self, request: Any, what: str) -> bytes:
        """The answer's body as it came."""
        return bytes(self._read(request, what).http_response.content)

    def _raw_json(self, request: Any, what: str) -> Any:
        """The JSON the read pipeline's decode policy already parsed (not parsed twice)."""
        pipeline_response = self._read(request, what)
        response = pipeline_response.http_response
        body = pipeline_response.context.get("deserialized_data")
        if body is None:
            try:
                body = json.loads(response.text())
            except ValueError as exc:
                raise MalformedResponse(f"{what} was not valid JSON: {exc}") from exc
        return body

    def _raw_get(self, url: str) -> dict[str, Any]:
        from azure.core.rest import HttpRequest

        request = HttpRequest("GET", f"{url}?api-version={API_VERSION}", headers={"Accept": "application/json"})
        body = self._raw_json(request, "A read")
        if not isinstance(body, dict):
            raise MalformedResponse("A read did not answer a JSON object.")
        return body

    def _raw_list(self, suffix: str) -> Iterator[dict[str, Any]]:
        for body in self._raw_pages(self._vault_url(suffix)):
            yield from (doc for doc in body.get("value", []) if isinstance(doc, dict))

    def _vault_url(self, suffix: str) -> str:
        vault = self.vault
        segments = (vault.subscription_id, vault.resource_group, vault.name)
        sub, group, name = (urllib.parse.quote(part, safe="") for part in segments)
        path = f"/subscriptions/{sub}/resourceGroups/{group}/providers/Microsoft.RecoveryServices/vaults/{name}"
        return f"{self.arm_endpoint}{path}/{suffix}"

    def plan_membership(self, refresh: bool = False) -> dict[str, tuple[str, ...]]:
        """Item id (lower-case) → names of the recovery plans it belongs to (ASR items do not say)."""
        with self._plans_lock:
            if self._plan_membership is None or refresh:
                membership: dict[str, list[str]] = {}
                for plan in self.list_plans():
                    for item_id in plan.item_ids:
                        membership.setdefault(item_id.lower(), []).append(plan.name)
                self._plan_membership = {k: tuple(v) for k, v in membership.items()}
            return self._plan_membership

    def _with_plans(self, item: ProtectedItem, membership: dict[str, tuple[str, ...]]) -> ProtectedItem:
        plans = membership.get(item.id.lower())
        return dataclasses.replace(item, recovery_plans=plans) if plans else item

    def iter_item_pages(self, filter: str | None = None) -> Iterator[list[ProtectedItem]]:
        url = self._vault_url("replicationProtectedItems")
        if filter:
            url += "?" + urllib.parse.urlencode({"$filter": filter}, quote_via=urllib.parse.quote)
        membership = self.plan_membership(refresh=True)
        pages = self._raw_page_bodies(url) if self._parse_while_waiting else self._raw_pages(url)
        for page in _read_ahead(pages):
            body = _page_json(page)
            items = [self._with_plans(mapping.protected_item(doc), membership) for doc in body.get("value", [])]
            yield items

    def list_items(self, filter: str | None = None) -> list[ProtectedItem]:
        return [item for page in self.iter_item_pages(filter) for item in page]

    def list_items_with_sdk_models(self, filter: str | None = None) -> list[ProtectedItem]:
        """The same list through the SDK's pager and model objects (slower on big vaults; kept as a baseline)."""

        def run() -> list[ProtectedItem]:
            pager = self._client.replication_protected_items.list(self._rg, self._name, filter=filter)
            return [mapping.protected_item(model.as_dict()) for model in _paged(pager, "The list of items")]

        return self._call(run)

    def get_item(self, item_id: str) -> ProtectedItem:
        fabric = mapping.segment(item_id, "replicationFabrics")
        container = mapping.segment(item_id, "replicationProtectionContainers")
        name = mapping.segment(item_id, "replicationProtectedItems")
        if not (fabric and container and name):
            raise NotFound(f"{item_id!r} is not a replicated item id")
        model = self._call(
            lambda: self._client.replication_protected_items.get(self._rg, self._name, fabric, container, name)
        )
        item = self._call(lambda: mapping.protected_item(model.as_dict()))
        membership = self._plan_membership or {}
        return self._with_plans(item, membership)

    def list_recovery_points(self, item: ProtectedItem) -> list[RecoveryPoint]:
        def run() -> list[RecoveryPoint]:
            pager = self._client.recovery_points.list_by_replication_protected_items(
                self._rg, self._name, item.fabric_name, item.container_name, item.name
            )
            read, unreadable = [], []
            for model in _paged(pager, "The recovery points"):
                try:
                    read.append(mapping.recovery_point(model.as_dict()))
                except MalformedResponse as exc:
                    unreadable.append(exc)
            # A point whose time cannot be read cannot be chosen, and the others still can; but a list of nothing
            # but such points is not "no recovery point".
            if unreadable and not read:
                raise unreadable[0]
            return read

        # One point listed twice (a list read while points come in) is one point: every screen keys points by id.
        points = list({p.id.lower(): p for p in reversed(self._call(run))}.values())
        return sorted(points, key=lambda p: p.time, reverse=True)

    def list_fabrics(self) -> list[Fabric]:
        fabrics = []
        for listed in self._raw_list("replicationFabrics"):
            # The list omits nothing we need on the emulator, but Azure trims customDetails in lists:
            # a GET per fabric returns the process servers, master targets and run-as accounts.
            name = urllib.parse.quote(str(listed.get("name", "")), safe="")
            full = self._raw_get(self._vault_url(f"replicationFabrics/{name}"))
            fabrics.append(self._call(functools.partial(mapping.fabric, full)))
        return fabrics

    def list_plans(self) -> list[RecoveryPlan]:
        docs = list(self._raw_list("replicationRecoveryPlans"))
        return [self._call(functools.partial(mapping.recovery_plan, doc)) for doc in docs]

    def get_plan(self, name: str) -> RecoveryPlan:
        model = self._call(lambda: self._client.replication_recovery_plans.get(self._rg, self._name, name))
        return self._call(lambda: mapping.recovery_plan(model.as_dict()))

    def list_jobs(self, job_filter: JobFilter | None = None) -> list[Job]:
        from core.equivalents import job_filter_text

        odata = job_filter_text(job_filter) or None
        ops = self._client.replication_jobs

        def run() -> list[Job]:
            pager = ops.list(self._rg, self._name, filter=odata)
            return [mapping.job(m.as_dict()) for m in _paged(pager, "The list of jobs")]

        return self._call(run)

    def get_job(self, name: str) -> Job:
        model = self._call(lambda: self._client.replication_jobs.get(self._rg, self._name, name))
        return self._call(lambda: mapping.job(model.as_dict()))

    # -- operations ----------------------------------------------------------------------------------------

    # The only place that knows the SDK's method for each item action; every body comes from the item's provider.
    _ITEM_ACTIONS = {
        "unplannedFailover": "begin_unplanned_failover",
        "plannedFailover": "begin_planned_failover",
        "failoverCancel": "begin_failover_cancel",
        "failoverCommit": "begin_failover_commit",
        "reProtect": "begin_reprotect",
    }
    _WHAT = {
        Verb.FAILOVER: "the failover",
        Verb.CANCEL: "the cancel",
        Verb.COMMIT: "the commit",
        Verb.REPROTECT: "the reprotect",
    }

    def start_item_action(self, item: ProtectedItem, request: ActionRequest) -> OperationHandle:
        """Send one item action (POST {item}/{operation}) and return its job at once."""
        self._guard_write(self._WHAT[request.verb])
        begin = getattr(self._client.replication_protected_items, self._ITEM_ACTIONS[request.operation])
        where = (self._rg, self._name, item.fabric_name, item.container_name, item.name)
        args = where if request.body is None else (*where, request.body)
        return self._start(request.verb.value, item.id, item.friendly_name, lambda **kw: begin(*args, **kw))

    def unplanned_failover(
        self, item: ProtectedItem, choice: PointChoice, recovery_point_id: str = ""
    ) -> OperationHandle:
        return self.start_item_action(item, CLASSIC.failover_request(item, choice, recovery_point_id))

    def planned_failover(self, item: ProtectedItem, choice: PointChoice) -> OperationHandle:
        return self.start_item_action(item, MODERNIZED.failover_request(item, choice))

    def failover_cancel(self, item: ProtectedItem) -> OperationHandle:
        return self.start_item_action(item, MODERNIZED.cancel_request(item))

    def commit(self, item: ProtectedItem) -> OperationHandle:
        return self.start_item_action(item, provider_for(item).commit_request(item))

    def list_policies(self) -> list[tuple[str, str, str]]:
        """(id, name, provider instanceType) of the vault's replication policies."""

        def run() -> list[tuple[str, str, str]]:
            found = []
            pager = self._client.replication_policies.list(self._rg, self._name)
            for model in _paged(pager, "The list of replication policies"):
                doc = model.as_dict()
                details = (doc.get("properties") or {}).get("providerSpecificDetails") or {}
                found.append((str(doc.get("id", "")), str(doc.get("name", "")), str(details.get("instanceType", ""))))
            return found

        return self._call(run)

    def forward_policy_id(self) -> str:
        """The AVS → Azure (InMageAzureV2) replication policy that reprotect needs, when the vault has exactly one."""
        return forward_policy("InMageAzureV2", self.list_policies())

    def reprotect(self, item: ProtectedItem, target: AnyReprotectTarget) -> OperationHandle:
        """Reprotect through the item's provider; a classic target without a policy gets the vault's one forward
        (InMageAzureV2) policy."""
        provider = provider_for(item)
        if isinstance(target, ReprotectTarget) and (provider is MODERNIZED or not target.policy_id):
            self._guard_write("the reprotect")
            target = provider.complete_target(item, target, self.list_policies())
        return self.start_item_action(item, provider.reprotect_request(item, target))

    def plan_unplanned_failover(self, plan: RecoveryPlan, choice: PointChoice) -> OperationHandle:
        """Failback of a whole plan: one InMage entry in the provider list, direction RecoveryToPrimary.

        ASR_API.md §0.1: PowerShell only adds the plan's InMage input for RecoveryToPrimary (the plan's fabrics
        stay fixed); no recording shows it on the wire.
        """
        self._guard_write("the plan failover")
        from core.equivalents import plan_failover_body

        body = plan_failover_body(choice)
        ops = self._client.replication_recovery_plans
        return self._start(
            "plan-failover",
            plan.id,
            plan.friendly_name,
            lambda **kw: ops.begin_unplanned_failover(self._rg, self._name, plan.name, body, **kw),
        )

    def plan_planned_failover(self, plan: RecoveryPlan, choice: PointChoice) -> OperationHandle:
        """A modernized plan's failback: one InMageRcmFailback entry, RecoveryToPrimary, the type always sent and
        useMultiVmSyncPoint as PowerShell writes it (MODERNIZED.md §9; no recording shows it on the wire)."""
        self._guard_write("the plan failover")
        from core.providers.modernized import plan_planned_failover_body

        body = plan_planned_failover_body(choice)
        ops = self._client.replication_recovery_plans
        return self._start(
            "plan-failover",
            plan.id,
            plan.friendly_name,
            lambda **kw: ops.begin_planned_failover(self._rg, self._name, plan.name, body, **kw),
        )

    def plan_failover_cancel(self, plan: RecoveryPlan) -> OperationHandle:
        self._guard_write("the plan cancel")
        ops = self._client.replication_recovery_plans
        return self._start(
            "plan-cancel",
            plan.id,
            plan.friendly_name,
            lambda **kw: ops.begin_failover_cancel(self._rg, self._name, plan.name, **kw),
        )

    def plan_commit(self, plan: RecoveryPlan) -> OperationHandle:
        self._guard_write("the plan commit")
        ops = self._client.replication_recovery_plans
        return self._start(
            "plan-commit",
            plan.id,
            plan.friendly_name,
            lambda **kw: ops.begin_failover_commit(self._rg, self._name, plan.name, **kw),
        )

    def cancel_job(self, name: str) -> OperationHandle:
        self._guard_write("the job cancel")
        ops = self._client.replication_jobs
        return self._start("cancel", name, name, lambda **kw: ops.begin_cancel(self._rg, self._name, name, **kw))

    def restart_job(self, name: str) -> OperationHandle:
        self._guard_write("the job restart")
        ops = self._client.replication_jobs
        return self._start("restart", name, name, lambda **kw: ops.begin_restart(self._rg, self._name, name, **kw))

    def resume_job(self, name: str, comment: str = "") -> OperationHandle:
        self._guard_write("the job resume")
        ops = self._client.replication_jobs
        from core.equivalents import resume_body

        params = resume_body(comment)
        return self._start(
            "resume", name, name, lambda **kw: ops.begin_resume(self._rg, self._name, name, params, **kw)
        )
