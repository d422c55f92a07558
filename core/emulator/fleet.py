"""An emulated fleet: many simulated vaults in several subscriptions, behind one ARM host with Resource Graph.

Each vault is an ArmEmulator, exactly as `emulator serve` runs one: the router hands it every request under its
vault id, so a vault opened from the fleet answers ARM as a single-vault emulator does. Beside them the router
answers `POST /providers/Microsoft.ResourceGraph/resources` from an index of every vault's documents (the same
documents their ARM GETs return), queried with the KQL subset of core.emulator.kql, paged with `$skipToken`,
and metered by a per-user quota with Resource Graph's headers and its 429.

Fleet files live in core/emulator/fleets/ (SCENARIOS.md, "Fleets", documents the format).
"""

from __future__ import annotations

import base64
import dataclasses
import email.utils
import hashlib
import json
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from core.clock import SIMULATION_HEADER, Clock
from core.emulator import faults as fk
from core.emulator import kql
from core.emulator.arm import ArmEmulator, EmulatorResponse, RequestStats
from core.emulator.faults import Fault, FaultPlan
from core.emulator.jobs import guid, seeded
from core.emulator.scenario import (
    HEALTHS,
    PROVIDERS,
    STAGES,
    ItemSpec,
    Scenario,
    ScenarioError,
    load_scenario,
    parse_offset,
)
from core.model import VaultRef

FLEET_DIR = Path(__file__).parent / "fleets"
GRAPH_PATH = "/providers/microsoft.resourcegraph/resources"
VAULT_TYPE = "microsoft.recoveryservices/vaults"
ITEM_TYPE = (
    "microsoft.recoveryservices/vaults/replicationfabrics/replicationprotectioncontainers/replicationprotecteditems"
)
JOB_TYPE = "microsoft.recoveryservices/vaults/replicationjobs"
TABLES = ("resources", "recoveryservicesresources")
# Resource Graph's page ceiling ($top at most 1000: the QueryRequestOptions of the 2021-03-01 REST spec).
MAX_PAGE = 1000
_CACHED_RESULTS = 32
_SUPPORT = "Please provide below info when asking for support: timestamp = {stamp}, correlationId = {correlation}."


@dataclass(frozen=True)
class FleetSettings:
    page_size: int = MAX_PAGE  # rows per page when the query sets no $top
    quota: int = 15  # queries per user in each quota window (the docs' example: 15 per 5 seconds)
    quota_window: float = 5.0  # seconds of simulated time
    index_every: float = 0.0  # the index re-reads a vault when its copy is older than this (0: at every query)


@dataclass(frozen=True)
class FleetVault:
    scenario: Scenario
    location: str

    @property
    def ref(self) -> VaultRef:
        return self.scenario.vault


@dataclass(frozen=True)
class Fleet:
    name: str
    title: str
    brief: str
    tenant: str
    subscriptions: tuple[tuple[str, str], ...]  # (id, display name)
    vaults: tuple[FleetVault, ...]
    settings: FleetSettings = FleetSettings()
    faults: tuple[Fault, ...] = ()
    source: str = ""


# -- fleet files ----------------------------------------------------------------------------------------------


def _fail(file: str, path: str, what: str) -> ScenarioError:
    return ScenarioError(file, path, what)


def _obj(file: str, value: Any, path: str, allowed: tuple[str, ...]) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise _fail(file, path, f"expected an object, got {type(value).__name__}")
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise _fail(file, f"{path}.{unknown[0]}", f"unknown key; allowed: {', '.join(allowed)}")
    return value


def _get(file: str, obj: Mapping[str, Any], key: str, path: str, kind: type, default: Any = ...) -> Any:
    if key not in obj:
        if default is ...:
            raise _fail(file, f"{path}.{key}", "required")
        return default
    value = obj[key]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise _fail(file, f"{path}.{key}", f"expected {kind.__name__}, got {type(value).__name__}")
    return value


def _seconds(file: str, obj: Mapping[str, Any], key: str, path: str, default: float) -> float:
    value = obj.get(key, default)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    try:
        return abs(parse_offset(str(value)))
    except ValueError as exc:
        raise _fail(file, f"{path}.{key}", str(exc)) from None


def _bulk_items(file: str, entries: Any, path: str) -> tuple[ItemSpec, ...]:
    if not isinstance(entries, list) or not entries:
        raise _fail(file, path, "needs at least one entry")
    items: list[ItemSpec] = []
    seen: set[str] = set()
    for n, raw in enumerate(entries):
        p = f"{path}[{n}]"
        b = _obj(file, raw, p, ("prefix", "count", "stage", "provider", "health", "rpo", "os", "not_ready"))
        count = _get(file, b, "count", p, int)
        if not 1 <= count <= 100_000:
            raise _fail(file, f"{p}.count", f"must be between 1 and 100000, got {count}")
        stage = _get(file, b, "stage", p, str, "ready")
        if stage not in STAGES:
            raise _fail(file, f"{p}.stage", f"{stage!r} is not one of: {', '.join(STAGES)}")
        provider = _get(file, b, "provider", p, str, "InMage")
        if provider not in PROVIDERS:
            raise _fail(file, f"{p}.provider", f"{provider!r} is not one of: {', '.join(PROVIDERS)}")
        health = _get(file, b, "health", p, str, "Normal")
        if health not in HEALTHS:
            raise _fail(file, f"{p}.health", f"{health!r} is not one of: {', '.join(HEALTHS)}")
        not_ready = _get(file, b, "not_ready", p, str, "no-recovery-point" if stage == "not-ready" else "")
        prefix = _get(file, b, "prefix", p, str)
        rpo = _get(file, b, "rpo", p, int, 60)
        width = max(3, len(str(count)))
        for k in range(1, count + 1):
            name = f"{prefix}{k:0{width}d}"
            if name in seen:
                raise _fail(file, f"{p}.prefix", f"generated name {name!r} clashes with another item")
            seen.add(name)
            items.append(
                ItemSpec(
                    name=name,
                    stage=stage,
                    provider=provider,
                    os=_get(file, b, "os", p, str, "Windows"),
                    rpo_seconds=rpo + k % 47,
                    replication_health=health,
                    not_ready=not_ready,
                    job_started=-60.0 - (k % 5) * 60,
                )
            )
    return tuple(items)


def parse_fleet(data: Any, *, file: str, name: str = "") -> Fleet:
    """Validate a fleet file; raises ScenarioError naming the file, the JSON path and what is wrong."""
    top = _obj(file, data, "$", ("title", "brief", "tenant", "settings", "subscriptions", "vaults", "faults"))
    s = _obj(file, top.get("settings", {}), "$.settings", ("page_size", "quota", "quota_window", "index_every"))
    page_size = _get(file, s, "page_size", "$.settings", int, MAX_PAGE)
    if not 1 <= page_size <= MAX_PAGE:
        raise _fail(file, "$.settings.page_size", f"must be between 1 and {MAX_PAGE}")
    settings = FleetSettings(
        page_size=page_size,
        quota=max(1, _get(file, s, "quota", "$.settings", int, 15)),
        quota_window=max(0.001, _seconds(file, s, "quota_window", "$.settings", 5.0)),
        index_every=_seconds(file, s, "index_every", "$.settings", 0.0),
    )
    subs_raw = _get(file, top, "subscriptions", "$", list)
    subscriptions: list[tuple[str, str]] = []
    for n, raw in enumerate(subs_raw):
        sub = _obj(file, raw, f"$.subscriptions[{n}]", ("id", "name"))
        subscriptions.append(
            (_get(file, sub, "id", f"$.subscriptions[{n}]", str), _get(file, sub, "name", "", str, ""))
        )
    known_subs = {sid.lower() for sid, _ in subscriptions}
    vaults: list[FleetVault] = []
    seen: set[str] = set()
    bases: dict[str, Scenario] = {}
    for n, raw in enumerate(_get(file, top, "vaults", "$", list)):
        p = f"$.vaults[{n}]"
        v = _obj(file, raw, p, ("name", "subscription", "resource_group", "location", "scenario", "bulk"))
        sub = _get(file, v, "subscription", p, str)
        if sub.lower() not in known_subs:
            raise _fail(file, f"{p}.subscription", f"{sub!r} is not listed under $.subscriptions")
        ref = VaultRef(sub, _get(file, v, "resource_group", p, str), _get(file, v, "name", p, str))
        if ref.arm_id.lower() in seen:
            raise _fail(file, f"{p}.name", f"the vault {ref.name!r} appears twice in that resource group")
        seen.add(ref.arm_id.lower())
        base_name = _get(file, v, "scenario", p, str, "small")
        if base_name not in bases:
            try:
                bases[base_name] = load_scenario(base_name)
            except ScenarioError as exc:
                raise _fail(file, f"{p}.scenario", str(exc)) from None
        base = bases[base_name]
        location = _get(file, v, "location", p, str, base.location)
        scenario = dataclasses.replace(
            base,
            name=f"{ref.name}",
            title=f"{ref.name} ({location})",
            vault=ref,
            location=location,
            source=file,
            training=None,
        )
        if "bulk" in v:
            # Generated items replace the base's, and with them its plans, history and faults (they name items).
            scenario = dataclasses.replace(
                scenario, items=_bulk_items(file, v["bulk"], f"{p}.bulk"), plans=(), jobs=(), faults=()
            )
        vaults.append(FleetVault(scenario, location))
    if not vaults:
        raise _fail(file, "$.vaults", "needs at least one vault")
    faults = []
    for n, raw in enumerate(top.get("faults", [])):
        try:
            faults.append(Fault.from_json(raw))
        except (TypeError, ValueError) as exc:
            raise _fail(file, f"$.faults[{n}]", str(exc)) from None
    return Fleet(
        name=name or Path(file).stem,
        title=_get(file, top, "title", "$", str),
        brief=_get(file, top, "brief", "$", str, ""),
        tenant=_get(file, top, "tenant", "$", str, "72f988bf-0000-4000-8000-00000000a5b1"),
        subscriptions=tuple(subscriptions),
        vaults=tuple(vaults),
        settings=settings,
        faults=tuple(faults),
        source=file,
    )


def load_fleet(name_or_path: str) -> Fleet:
    """A bundled fleet by name ("demo") or a fleet file by path."""
    candidate = Path(name_or_path)
    path = candidate if candidate.suffix == ".json" or "/" in name_or_path else FLEET_DIR / f"{name_or_path}.json"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in FLEET_DIR.glob("*.json")))
        raise ScenarioError(str(path), "$", f"no such fleet file (bundled fleets: {known})")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ScenarioError(str(path), f"line {exc.lineno} column {exc.colno}", f"not valid JSON: {exc.msg}") from None
    return parse_fleet(data, file=str(path), name=path.stem)


# -- the emulator ---------------------------------------------------------------------------------------------


@dataclass
class _Copy:
    """What the index holds of one vault: its documents as of one moment."""

    taken: datetime
    items: list[dict[str, Any]]
    jobs: list[dict[str, Any]]


@dataclass
class _Result:
    rows: list[dict[str, Any]]
    columns: list[str] | None
    kinds: dict[str, str]
    pageable: bool
    finish: Callable[[dict[str, Any]], Any] | None = None  # the projection, applied to each page as it is sent


@dataclass
class GraphStats:
    queries: int = 0  # every POST to the Resource Graph endpoint, paged or not, throttled or not
    throttled: int = 0
    rows: int = 0
    log: list[str] = field(default_factory=list)


class FleetEmulator:
    """Many ArmEmulators behind one host, and the Resource Graph endpoint over all of them."""

    def __init__(self, fleet: Fleet, clock: Clock, *, base_url: str = "https://management.azure.com") -> None:
        self.fleet = fleet
        self.clock = clock
        self.base_url = base_url.rstrip("/")
        self.faults = FaultPlan([dataclasses.replace(f) for f in fleet.faults])
        self.graph_stats = GraphStats()
        self.stats = RequestStats()  # the router's own answers (subscription lists, unknown vaults)
        self._lock = threading.RLock()
        self._vaults: dict[tuple[str, str, str], ArmEmulator] = {}
        self._locations: dict[str, str] = {}
        for spec in fleet.vaults:
            ref = spec.ref
            key = (ref.subscription_id.lower(), ref.resource_group.lower(), ref.name.lower())
            self._vaults[key] = ArmEmulator(spec.scenario, clock, base_url=self.base_url)
            self._locations[ref.arm_id.lower()] = spec.location
        self._copies: dict[str, _Copy] = {}
        self._results: dict[str, _Result] = {}
        self._quota: dict[str, tuple[datetime, int]] = {}  # user → (window start, queries in it)
        self._ids = seeded(f"graph/{fleet.name}")

    # -- lookups for tests, trainers and the composition root

    @property
    def vaults(self) -> list[ArmEmulator]:
        return list(self._vaults.values())

    @property
    def vault(self) -> VaultRef:
        """The first vault (what `emulator serve` names in its export lines)."""
        return self.fleet.vaults[0].ref

    def emulator_for(self, ref: VaultRef) -> ArmEmulator:
        key = (ref.subscription_id.lower(), ref.resource_group.lower(), ref.name.lower())
        if key not in self._vaults:
            raise KeyError(f"no vault {ref.arm_id} in the fleet")
        return self._vaults[key]

    def arm_requests(self) -> int:
        """ARM requests answered by every vault and by the router (Resource Graph excluded)."""
        return self.stats.total + sum(em.stats.total for em in self._vaults.values())

    def warm(self) -> None:
        """Index every vault now, as Resource Graph has before anyone asks (the benchmark's server does this)."""
        with self._lock:
            now = self.clock.now()
            for em in self._vaults.values():
                self._copy(em, now, force=True)

    # -- HTTP

    def handle(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> EmulatorResponse:
        split = urllib.parse.urlsplit(url)
        path = urllib.parse.unquote(split.path)
        lowered = path.lower().rstrip("/")
        if lowered == GRAPH_PATH:
            query = {k.lower(): v for k, v in urllib.parse.parse_qsl(split.query, keep_blank_values=True)}
            with self._lock:
                return self._graph(method, path, query, {k.lower(): v for k, v in headers.items()}, body)
        segs = [s for s in path.split("/") if s]
        low = [s.lower() for s in segs]
        if (
            len(segs) >= 8
            and low[0] == "subscriptions"
            and low[2] == "resourcegroups"
            and low[4:7] == ["providers", "microsoft.recoveryservices", "vaults"]
        ):
            emulator = self._vaults.get((low[1], low[3], low[7]))
            if emulator is not None:
                return emulator.handle(method, url, headers, body)
        with self._lock:
            return self._router(method, low, split.query, headers)

    def _router(self, method: str, low: list[str], query: str, headers: Mapping[str, str]) -> EmulatorResponse:
        """What no vault answers: the subscriptions and their vaults (ARM's own lists), or a 404."""
        self.stats.total += 1
        self.stats.reads += method == "GET"
        auth = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
        if not auth.lower().startswith("bearer ") or not auth[7:].strip():
            return self._arm_error(401, "AuthenticationFailed", "The 'Authorization' header is missing.")
        subs = {sid.lower(): (sid, label) for sid, label in self.fleet.subscriptions}
        if method == "GET" and low == ["subscriptions"]:
            value = [
                {
                    "id": f"/subscriptions/{sid}",
                    "subscriptionId": sid,
                    "displayName": label,
                    "state": "Enabled",
                    "tenantId": self.fleet.tenant,
                }
                for sid, label in self.fleet.subscriptions
            ]
            return self._json(200, {"value": value, "nextLink": None})
        if (
            method == "GET"
            and len(low) == 5
            and low[0] == "subscriptions"
            and low[2:] == ["providers", "microsoft.recoveryservices", "vaults"]
            and low[1] in subs
        ):
            value = [
                self._vault_doc(spec.ref) for spec in self.fleet.vaults if spec.ref.subscription_id.lower() == low[1]
            ]
            return self._json(200, {"value": value, "nextLink": None})
        if len(low) >= 2 and low[0] == "subscriptions" and low[1] not in subs:
            return self._arm_error(404, "SubscriptionNotFound", f"The subscription '{low[1]}' could not be found.")
        return self._arm_error(
            404,
            "ResourceNotFound",
            f"No resource matches '/{'/'.join(low)}' in this fleet. For more details please go to "
            "https://aka.ms/ARMResourceNotFoundFix",
        )

    # -- Resource Graph

    def _graph(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes | None
    ) -> EmulatorResponse:
        stats = self.graph_stats
        stats.queries += 1
        now = self.clock.now()
        if method != "POST":
            return self._refuse(405, "MethodNotAllowed", "Resource Graph queries are POSTs.", "MethodNotAllowed")
        auth = headers.get("authorization", "")
        if not auth.lower().startswith("bearer ") or not auth[7:].strip():
            return self._refuse(401, "AuthenticationFailed", "No bearer token.", "AuthenticationFailed")
        user = hashlib.sha256(auth[7:].strip().encode()).hexdigest()[:16]  # the quota is per user, not per token text
        try:
            payload = json.loads(body or b"")
        except ValueError:
            payload = None
        options = payload.get("options") or {} if isinstance(payload, dict) else {}
        token = options.get("$skipToken") if isinstance(options, dict) else None
        top = options.get("$top") if isinstance(options, dict) else None
        size = top if isinstance(top, int) and 1 <= top <= MAX_PAGE else self.fleet.settings.page_size
        page = self._page_of(token, size)
        take = self.faults.take_request_fault
        if take(method, path, page, frozenset({fk.THROTTLE})):
            stats.throttled += 1
            return self._throttled(user, now, forced=True)
        remaining, resets = self._spend(user, now)
        if remaining < 0:
            stats.throttled += 1
            return self._throttled(user, now)
        quota_headers = {"x-ms-user-quota-remaining": str(remaining), "x-ms-user-quota-resets-after": resets}
        server = take(method, path, page, frozenset({fk.SERVER_ERROR}))
        if server:
            return self._refuse(
                server.status,
                "InternalServerError",
                "An unexpected query execution error occurred.",
                "InternalServerError",
            )
        if take(method, path, page, frozenset({fk.DROP})):
            return EmulatorResponse(0, {}, b"", drop=True)
        slow = take(method, path, page, frozenset({fk.SLOW}))
        if not query.get("api-version"):
            return self._refuse(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required.",
                "MissingApiVersionParameter",
            )
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            return self._refuse(400, "InvalidRequestContent", "The request needs a 'query' string.", "BadRequest")
        if payload.get("managementGroups"):
            return self._refuse(
                400,
                "UnsupportedScope",
                "This emulator has no management groups: give subscriptions, or no scope.",
                "BadRequest",
            )
        fmt = options.get("resultFormat", "objectArray") if isinstance(options, dict) else "objectArray"
        if fmt not in ("objectArray", "table"):
            return self._refuse(400, "UnsupportedResultFormat", f"resultFormat {fmt!r} is not emulated.", "BadRequest")
        if top is not None and (not isinstance(top, int) or not 1 <= top <= MAX_PAGE):
            return self._refuse(400, "InvalidTop", f"$top must be between 1 and {MAX_PAGE}.", "BadRequest")
        if token:
            found = self._decode(token)
            if found is None:
                return self._refuse(400, "InvalidSkipToken", "The $skipToken is not valid.", "BadRequest")
            key, offset = found
        else:
            key, offset = self._evaluate(payload, now)
            if isinstance(key, EmulatorResponse):
                return key
        result = self._results.get(key)
        if result is None:
            return self._refuse(400, "ExpiredSkipToken", "The $skipToken has expired; query again.", "BadRequest")
        rows = result.rows[offset : offset + size]
        if result.finish is not None:
            rows = [result.finish(row) for row in rows]
        more = offset + size < len(result.rows)
        body_out: dict[str, Any] = {
            "totalRecords": len(result.rows),
            "count": len(rows),
            "resultTruncated": "true" if more and not result.pageable else "false",
            "facets": [],
            "data": _table(rows, result) if fmt == "table" else rows,
        }
        if more and result.pageable:
            body_out["$skipToken"] = self._encode(key, offset + size)
        stats.rows += len(rows)
        response = self._json(200, body_out, quota_headers)
        if slow:
            response.delay = slow.delay
        if take(method, path, page, frozenset({fk.MALFORMED})):
            response.body = response.body[: max(1, len(response.body) // 2)]
        return response

    def _evaluate(self, payload: dict[str, Any], now: datetime) -> tuple[Any, int]:
        text = payload["query"]
        try:
            parsed = kql.parse(text, TABLES, kql.Context(now=now))
        except kql.KqlError as exc:
            return self._query_error(exc), 0
        scope = payload.get("subscriptions")
        wanted = {s.lower() for s in scope if isinstance(s, str)} if isinstance(scope, list) else None
        rows = self._table(parsed.table, wanted, now)
        out, finish = parsed.run_lazy(rows)
        columns = parsed.columns
        # Resource Graph pages a result unless the query limits it or every column is dynamic (paging-results doc).
        kinds = [parsed.column_kinds.get(c, "dynamic") for c in (columns or ["id"])]
        pageable = not parsed.limited and any(k != "dynamic" for k in kinds)
        key = guid(self._ids)
        if len(self._results) >= _CACHED_RESULTS:
            self._results.pop(next(iter(self._results)))
        self._results[key] = _Result(out, columns, parsed.column_kinds, pageable, finish)
        self.graph_stats.log.append(text.split("|", 1)[0].strip())
        return key, 0

    def _table(self, table: str, wanted: set[str] | None, now: datetime) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for spec in self.fleet.vaults:
            ref = spec.ref
            if wanted is not None and ref.subscription_id.lower() not in wanted:
                continue
            if table == "resources":
                rows.append(self._vault_doc(ref))
                continue
            copy = self._copy(self.emulator_for(ref), now)
            rows.extend(copy.items)
            rows.extend(copy.jobs)
        return rows

    def _copy(self, em: ArmEmulator, now: datetime, force: bool = False) -> _Copy:
        key = em.vault.arm_id.lower()
        copy = self._copies.get(key)
        every = self.fleet.settings.index_every
        if force or copy is None or (now - copy.taken).total_seconds() >= every:
            items, jobs = em.documents()
            common = self._row_columns(em.vault)
            copy = _Copy(
                now,
                [
                    {**common, "id": d["id"], "name": d["name"], "type": ITEM_TYPE, "properties": d["properties"]}
                    for d in items
                ],
                [
                    {**common, "id": d["id"], "name": d["name"], "type": JOB_TYPE, "properties": d["properties"]}
                    for d in jobs
                ],
            )
            self._copies[key] = copy
        return copy

    def _row_columns(self, ref: VaultRef) -> dict[str, Any]:
        # Resource Graph adds these to every row; which values ASR's child resources get is UNCONFIRMED (their ARM
        # documents carry no location): the fleet reads the region from the vault's own row.
        return {
            "tenantId": self.fleet.tenant,
            "kind": "",
            "location": "",
            "resourceGroup": ref.resource_group.lower(),
            "subscriptionId": ref.subscription_id,
            "managedBy": "",
            "sku": None,
            "plan": None,
            "tags": None,
            "identity": None,
            "zones": None,
            "extendedLocation": None,
        }

    def _vault_doc(self, ref: VaultRef) -> dict[str, Any]:
        return {
            **self._row_columns(ref),
            "id": ref.arm_id,
            "name": ref.name,
            "type": VAULT_TYPE,
            "location": self._locations.get(ref.arm_id.lower(), ""),
            "sku": {"name": "RS0", "tier": "Standard"},
            "properties": {"provisioningState": "Succeeded"},
        }

    # -- quota, tokens, answers

    def _spend(self, user: str, now: datetime) -> tuple[int, str]:
        """One query from `user`: (queries left in the window after it, or -1 when over; time until it resets)."""
        window = timedelta(seconds=self.fleet.settings.quota_window)
        start, used = self._quota.get(user, (now, 0))
        if now - start >= window:
            start, used = now, 0
        left = self.fleet.settings.quota - used - 1
        if left >= 0:
            self._quota[user] = (start, used + 1)
        return left, _hms(start + window - now)

    def _throttled(self, user: str, now: datetime, forced: bool = False) -> EmulatorResponse:
        window = timedelta(seconds=self.fleet.settings.quota_window)
        start, _ = self._quota.get(user, (now, 0))
        if forced:
            start = now
            self._quota[user] = (now, self.fleet.settings.quota)
        headers = {"x-ms-user-quota-remaining": "0", "x-ms-user-quota-resets-after": _hms(start + window - now)}
        # No Retry-After: no source shows one on Resource Graph's 429 (UNCONFIRMED); its quota headers say when.
        message = (
            "Client application has been throttled and should not attempt to repeat the request until an amount "
            "of time has elapsed. Please see https://aka.ms/resourcegraph-throttling for help."
        )
        return self._graph_error(429, "RateLimiting", [("RateLimiting", message)], headers)

    def _page_of(self, token: Any, size: int) -> int:
        """Which page (1-based) of pages of `size` rows a request asks for: what a fault's `page` counts."""
        found = self._decode(token) if isinstance(token, str) and token else None
        if found is None:
            return 1
        return found[1] // size + 1

    @staticmethod
    def _encode(key: str, offset: int) -> str:
        return base64.b64encode(json.dumps({"$r": key, "$o": offset}).encode()).decode()

    @staticmethod
    def _decode(token: Any) -> tuple[str, int] | None:
        if not isinstance(token, str):
            return None
        try:
            data = json.loads(base64.b64decode(token.encode(), validate=True))
        except (ValueError, TypeError):
            return None
        if isinstance(data, dict) and isinstance(data.get("$r"), str) and isinstance(data.get("$o"), int):
            return data["$r"], data["$o"]
        return None

    def _query_error(self, exc: kql.KqlError) -> EmulatorResponse:
        detail = {"line": exc.line, "characterPositionInLine": exc.column, "token": exc.token}
        return self._graph_error(
            400,
            "BadRequest",
            [
                (
                    "InvalidQuery",
                    "Query is invalid. Please refer to the documentation for the Azure Resource Graph "
                    "service and fix the error before retrying.",
                ),
                (exc.code, exc.code, detail),
            ],
        )

    def _refuse(self, status: int, detail: str, message: str, code: str = "BadRequest") -> EmulatorResponse:
        return self._graph_error(status, code, [(detail, message)])

    def _graph_error(
        self, status: int, code: str, details: list[tuple[Any, ...]], headers: dict[str, str] | None = None
    ) -> EmulatorResponse:
        """Resource Graph's error envelope: a support line as the message, the reasons in details."""
        correlation = guid(self._ids)
        stamp = self.clock.now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")
        entries = []
        for entry in details:
            item: dict[str, Any] = {"code": entry[0], "message": entry[1]}
            if len(entry) > 2:
                item.update(entry[2])
            entries.append(item)
        envelope = {
            "error": {
                "code": code,
                "message": _SUPPORT.format(stamp=stamp, correlation=correlation),
                "details": entries,
            }
        }
        return self._json(status, envelope, headers)

    def _arm_error(self, status: int, code: str, message: str) -> EmulatorResponse:
        return self._json(status, {"error": {"code": code, "message": message, "target": None, "details": []}})

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> EmulatorResponse:
        body = json.dumps(payload).encode()
        out = {
            "Cache-Control": "no-cache",
            "x-ms-request-id": guid(self._ids),
            "x-ms-correlation-request-id": guid(self._ids),
            "Date": email.utils.format_datetime(self.clock.now().astimezone(UTC), usegmt=True),
            SIMULATION_HEADER: f"speed={self.clock.speed:g}",
            "Content-Type": "application/json; charset=utf-8",
            **(headers or {}),
            "Content-Length": str(len(body)),
        }
        return EmulatorResponse(status, out, body)


# A KQL column kind as the table format's column type (SDK ColumnDataType: string, integer, number, boolean,
# object). Dates and timespans travel as strings; the type Resource Graph gives them there: UNCONFIRMED.
_COLUMN_TYPES = {"string": "string", "integer": "integer", "number": "number", "boolean": "boolean"}


def _table(rows: list[dict[str, Any]], result: _Result) -> dict[str, Any]:
    """A page in the `table` result format (SDK Table): the columns once, each row as its values in their order.
    Without a projection that fixes them, the columns are the page's keys in the order first seen."""
    names = result.columns or list(dict.fromkeys(key for row in rows for key in row))
    columns = [{"name": n, "type": _COLUMN_TYPES.get(result.kinds.get(n, "dynamic"), "object")} for n in names]
    return {"columns": columns, "rows": [[row.get(n) for n in names] for row in rows]}


def _hms(delta: timedelta) -> str:
    seconds = max(0, int(-(-delta.total_seconds() // 1)))
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
