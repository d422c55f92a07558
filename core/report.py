"""The incident timeline for the post-incident review, rendered from journal records as Markdown or JSON."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from core.errors import UsageError
from core.journal import parse_ts
from core.model import JobState
from core.sanitize import json_text, markdown, markdown_code, one_line

FORMATS = ("md", "json")
STEP_LABELS = {"job_update": "job", "abandoned": "not sent", "job_gone": "job gone"}


def render_report(
    entries: Sequence[Mapping[str, Any]],
    *,
    fmt: str = "md",
    since: datetime | None = None,
    title: str = "Failback session report",
) -> str:
    """Who did what and when, what was chosen, which jobs ran, how long each task took, what failed and why.

    Tolerates records of unknown kinds and missing fields (older or newer journals): they never raise.
    """
    if fmt not in FORMATS:
        raise UsageError(f"unknown report format {fmt!r}; one of: {', '.join(FORMATS)}")
    records = [dict(r) for r in entries if since is None or _after(r, since)]
    timeline = _Timeline.build(records)
    if fmt == "json":
        return json_text(timeline.as_json(title, since), sort_keys=True, indent=2) + "\n"
    return _Markdown(timeline, title, since).render()


def _after(record: Mapping[str, Any], since: datetime) -> bool:
    moment = parse_ts(record.get("ts"))
    return moment is not None and moment >= since


def _s(record: Any, key: str) -> str:
    value = record.get(key) if isinstance(record, Mapping) else None
    return "" if value is None else str(value)


# A journal is a file: any record may hold any JSON in any field. These read a field as the shape it should have.
def _m(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _l(value: Any) -> list[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, (list, tuple)) else []


def _plain(value: Any, depth: int = 0) -> Any:
    """A raw field for the JSON report, nested at most _DEPTH deep (json.dumps recurses as deep as it goes)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v, depth + 1) for k, v in value.items()} if depth < _DEPTH else "…"
    if isinstance(value, (list, tuple)):
        return [_plain(v, depth + 1) for v in value] if depth < _DEPTH else "…"
    return value


_DEPTH = 32


# ---- the model of a session, built from the records ------------------------------------------------------------


@dataclass
class _Attempt:
    """One operation on one item: the intent, and whatever followed it."""

    intent: dict[str, Any]
    sent: dict[str, Any] | None = None
    refused: dict[str, Any] | None = None
    abandoned: dict[str, Any] | None = None
    attached: list[dict[str, Any]] = field(default_factory=list)
    job_name: str = ""

    @property
    def target_id(self) -> str:
        return _s(self.intent, "target_id")

    @property
    def target_name(self) -> str:
        return _s(self.intent, "target_name") or _last_segment(self.target_id)

    @property
    def operation(self) -> str:
        return _s(self.intent, "operation") or ("attach" if self.intent.get("kind") == "attached" else "")


@dataclass
class _JobView:
    name: str
    latest: dict[str, Any]
    states: list[tuple[str, str]] = field(default_factory=list)  # (state, record ts), in order seen

    @property
    def state(self) -> str:
        return _s(self.latest, "state")

    @property
    def terminal(self) -> bool:
        return self.latest.get("terminal") is True or JobState.parse(self.state).is_terminal


@dataclass
class _Timeline:
    records: list[dict[str, Any]]
    attempts: list[_Attempt]
    jobs: dict[str, _JobView]

    @classmethod
    def build(cls, records: list[dict[str, Any]]) -> _Timeline:
        attempts: list[_Attempt] = []
        by_intent: dict[str, _Attempt] = {}
        jobs: dict[str, _JobView] = {}
        for record in records:
            kind = record.get("kind")
            intent_id = _s(record, "intent")
            if kind == "intent":
                attempt = _Attempt(intent=record)
                attempts.append(attempt)
                if intent_id:
                    by_intent[intent_id] = attempt
            elif kind in ("sent", "refused", "abandoned") and intent_id in by_intent:
                attempt = by_intent[intent_id]
                setattr(attempt, str(kind), record)
                if kind == "sent":
                    attempt.job_name = _s(record, "job_name")
            elif kind in ("sent", "refused", "abandoned"):
                # The intent is older than the report's window (or lost): the step still belongs in the report.
                orphan = _Attempt(intent={**record, "kind": "intent"})
                setattr(orphan, str(kind), record)
                orphan.job_name = _s(record, "job_name") if kind == "sent" else ""
                attempts.append(orphan)
            elif kind == "attached":
                cls._attach(attempts, record)
            elif kind == "job_update":
                name = _s(record, "job_name")
                view = jobs.setdefault(name, _JobView(name, record))
                view.latest = record
                view.states.append((_s(record, "state"), _s(record, "ts")))
        return cls(records, attempts, jobs)

    @staticmethod
    def _attach(attempts: list[_Attempt], record: dict[str, Any]) -> None:
        job_name = _s(record, "job_name")
        target_id = _s(record, "target_id")
        for attempt in reversed(attempts):
            if job_name and attempt.job_name == job_name:
                attempt.attached.append(record)
                return
            if attempt.target_id == target_id and not attempt.job_name and attempt.sent is None:
                if attempt.refused is None and attempt.abandoned is None:
                    # A resumed session found this job on the item: it is what the unconfirmed request started.
                    attempt.job_name = job_name
                    attempt.attached.append(record)
                    return
                break
        attempts.append(_Attempt(intent=record, attached=[record], job_name=job_name))

    def outcome(self, attempt: _Attempt) -> str:
        if attempt.refused is not None:
            return "Refused"
        if attempt.abandoned is not None:
            return "Abandoned (not sent)"
        job = self.jobs.get(attempt.job_name) if attempt.job_name else None
        if job is not None:
            return JobState.parse(job.state).word if job.terminal else f"Running ({JobState.parse(job.state).word})"
        if attempt.job_name:
            return "Sent, no outcome recorded"
        return "Unconfirmed: intent recorded, no reply"

    def items(self) -> list[tuple[str, list[_Attempt]]]:
        grouped: dict[str, list[_Attempt]] = {}
        for attempt in self.attempts:
            grouped.setdefault(attempt.target_id or attempt.target_name, []).append(attempt)
        return list(grouped.items())

    def sessions(self) -> list[dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for record in self.records:
            key = _s(record, "session")
            if key not in found:
                found[key] = {
                    "session": key,
                    "who": _s(record, "who"),
                    "user": _s(record, "user"),
                    "host": _s(record, "host"),
                    "terminal": _s(record, "terminal"),
                    "first": _s(record, "ts"),
                    "last": _s(record, "ts"),
                    "records": 0,
                }
            entry = found[key]
            entry["records"] += 1
            entry["last"] = _s(record, "ts") or entry["last"]
            entry["who"] = entry["who"] or _s(record, "who")
        return list(found.values())

    def vaults(self) -> list[str]:
        return sorted({_s(r, "vault") for r in self.records if r.get("vault")})

    # ---- JSON ------------------------------------------------------------------------------------------------

    def rehearsed(self) -> list[dict[str, Any]]:
        """The requests a rehearsal did not send, in journal order."""
        found = []
        for record in self.records:
            request = _m(record.get("rehearsed")) if record.get("kind") == "sent" else {}
            if request:
                found.append(
                    {
                        "ts": _s(record, "ts"),
                        "target_name": _s(record, "target_name"),
                        "operation": _s(record, "operation"),
                        "job_name": _s(record, "job_name"),
                        "method": _s(request, "method"),
                        "url": _s(request, "url"),
                        "call": _s(request, "call"),
                        "body": request.get("body"),
                    }
                )
        return found

    def as_json(self, title: str, since: datetime | None) -> dict[str, Any]:
        stamps = [_s(r, "ts") for r in self.records if r.get("ts")]
        return {
            "title": title,
            "since": _iso(since),
            "first": stamps[0] if stamps else None,
            "last": stamps[-1] if stamps else None,
            "record_count": len(self.records),
            "vaults": self.vaults(),
            "sessions": self.sessions(),
            "items": [
                {
                    "target_id": key,
                    "target_name": attempts[-1].target_name,
                    "outcome": self.outcome(attempts[-1]),
                    "attempts": [self._attempt_json(a) for a in attempts],
                }
                for key, attempts in self.items()
            ],
            "jobs": [self._job_json(job) for job in self.jobs.values()],
            "rehearsed_requests": [r | {"body": _plain(r["body"])} for r in self.rehearsed()],
            "steps": [_step(r) | {"ts": _s(r, "ts"), "who": _actor(r)} for r in self.records],
            "notes": [
                {"ts": _s(r, "ts"), "who": _actor(r), "text": _s(r, "text"), "fields": _plain(_m(r.get("fields")))}
                for r in self.records
                if r.get("kind") == "note"
            ],
        }

    def _attempt_json(self, attempt: _Attempt) -> dict[str, Any]:
        intent = attempt.intent
        return {
            "intent_id": _s(intent, "intent"),
            "operation": attempt.operation,
            "intended_at": _s(intent, "ts"),
            "who": _actor(intent),
            "host": _s(intent, "host"),
            "terminal": _s(intent, "terminal"),
            "session": _s(intent, "session"),
            "vault": _s(intent, "vault"),
            "recovery_point": _s(intent, "recovery_point"),
            "recovery_point_time": intent.get("recovery_point_time"),
            "data_loss_seconds": intent.get("data_loss_seconds"),
            "acknowledged_loss": bool(intent.get("acknowledged_loss")),
            "details": _plain(_m(intent.get("details"))),
            "sent_at": _s(attempt.sent, "ts") if attempt.sent else None,
            "request_id": _s(attempt.sent, "request_id") if attempt.sent else "",
            "job_name": attempt.job_name,
            "refused": _plain(_m(attempt.refused).get("error")),
            "abandoned_reason": _s(attempt.abandoned, "reason") if attempt.abandoned else None,
            "attached": [{"ts": _s(a, "ts"), "who": _actor(a), "reason": _s(a, "reason")} for a in attempt.attached],
            "outcome": self.outcome(attempt),
        }

    @staticmethod
    def _job_json(job: _JobView) -> dict[str, Any]:
        latest = job.latest
        return {
            "job_name": job.name,
            "job_id": _s(latest, "job_id"),
            "state": job.state,
            "terminal": job.terminal,
            "scenario_name": _s(latest, "scenario_name"),
            "friendly_name": _s(latest, "friendly_name"),
            "target_id": _s(latest, "target_id"),
            "target_name": _s(latest, "target_name"),
            "start_time": latest.get("start_time"),
            "end_time": latest.get("end_time"),
            "duration_seconds": latest.get("duration_seconds"),
            "tasks": _plain(_l(latest.get("tasks"))),
            "errors": _plain(_l(latest.get("errors"))),
            "states_seen": [{"state": s, "ts": ts} for s, ts in job.states],
        }


def _actor(record: Mapping[str, Any]) -> str:
    return _s(record, "who") or _s(record, "user")


def _step(record: Mapping[str, Any]) -> dict[str, str]:
    """A record as one line of the timeline: kind, item and a short detail in words."""
    kind = _s(record, "kind")
    item = _s(record, "target_name") or _last_segment(_s(record, "target_id"))
    if kind == "intent":
        parts = [f"about to send {_s(record, 'operation')}"]
        if record.get("recovery_point"):
            parts.append(f"recovery point {_point(record)}")
        if record.get("data_loss_seconds") is not None:
            parts.append(f"data loss {human_seconds(record.get('data_loss_seconds'))}")
        if record.get("acknowledged_loss"):
            parts.append("loss acknowledged")
        details = record.get("details") or {}
        if isinstance(details, Mapping) and details.get("preflight") == "skipped":
            parts.append(f"preflight FAIL overridden: {_s(details, 'preflight_reason')}")
        detail = "; ".join(parts)
    elif kind == "sent" and _m(record.get("rehearsed")):
        request = _m(record.get("rehearsed"))
        detail = (
            f"{_s(record, 'operation')} REHEARSED, not sent: {_s(request, 'method')} "
            f"{_s(request, 'url').split('?', 1)[0]}; simulated job {_s(record, 'job_name')}"
        )
    elif kind == "sent":
        detail = f"{_s(record, 'operation')} accepted: job {_s(record, 'job_name')}"
    elif kind == "refused":
        detail = f"{_s(record, 'operation')} refused: {_error_line(_m(record.get('error')))}"
    elif kind == "abandoned":
        detail = f"{_s(record, 'operation')} not sent: {_s(record, 'reason')}"
    elif kind == "attached":
        detail = f"following job {_s(record, 'job_name')}: {_s(record, 'reason')}"
    elif kind == "job_update":
        # A job ASR names no kind for is "job X", not "job job X".
        what = _s(record, "friendly_name") or _s(record, "scenario_name")
        state = JobState.parse(_s(record, "state")).word.lower()
        detail = f"{what + ' ' if what else ''}job {_s(record, 'job_name')} {state}"
        if record.get("duration_seconds") is not None:
            detail += f" after {human_seconds(record.get('duration_seconds'))}"
    elif kind == "job_gone":
        detail = f"job {_s(record, 'job_name')} is no longer known to ASR: {_s(record, 'reason')}"
    elif kind == "note":
        fields = _m(record.get("fields"))
        extra = ", ".join(f"{k}={v}" for k, v in sorted(fields.items(), key=lambda kv: str(kv[0])))
        detail = _s(record, "text") + (f" ({extra})" if extra else "")
    else:
        detail = ""
    return {"kind": kind or "?", "item": item, "detail": detail}


def _error_line(error: Mapping[str, Any]) -> str:
    code = _s(error, "code") or _s(error, "type")
    status = f" (HTTP {error['status']})" if error.get("status") else ""
    return f"{code}{status}: {_s(error, 'message')}".strip(": ")


def _point(record: Mapping[str, Any]) -> str:
    point = _last_segment(_s(record, "recovery_point"))
    moment = parse_ts(record.get("recovery_point_time"))
    return f"{point} ({_utc(moment)} UTC)" if moment else point


def _last_segment(arm_id: str) -> str:
    return arm_id.rstrip("/").rsplit("/", 1)[-1] if "/" in arm_id else arm_id


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _utc(moment: datetime | None) -> str:
    # ASR writes 0001-01-01 (skipped tasks) or 1753-01-01 (idle) where there is no time: show none.
    if moment is None or moment.year < 1900:
        return ""
    try:
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    except (OverflowError, ValueError):  # a year-9999 time with an offset leaves the calendar in UTC
        return ""


def human_seconds(value: Any) -> str:
    """A span to the second, in the largest useful units: 38s, 53m 00s, 2h 01m 30s, 1d 02h 00m."""
    if value is None:
        return "unknown"
    try:
        total = int(round(float(value)))
    except (TypeError, ValueError, OverflowError):  # not a number, NaN, infinite
        return one_line(value, 40)
    sign, total = ("-", -total) if total < 0 else ("", total)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        text = f"{days}d {hours:02d}h {minutes:02d}m"
    elif hours:
        text = f"{hours}h {minutes:02d}m {seconds:02d}s"
    elif minutes:
        text = f"{minutes}m {seconds:02d}s"
    else:
        text = f"{seconds}s"
    return sign + text


# ---- Markdown ----------------------------------------------------------------------------------------------------


class _Md(str):
    """Markdown already made inert (a code span): a table cell takes it as it is."""


def _cell(value: Any) -> str:
    if isinstance(value, _Md):
        return value.replace("|", "\\|") or "—"
    return markdown(" ".join(_text(value).split())) or "—"


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _yes_no(value: Any) -> str:
    return "yes" if value else "no"


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return lines


class _Markdown:
    def __init__(self, timeline: _Timeline, title: str, since: datetime | None) -> None:
        self.t = timeline
        self.title = title
        self.since = since
        self.out: list[str] = []

    def render(self) -> str:
        self.out.append(f"# {markdown(' '.join(self.title.split()))}")
        self.out.append("")
        self._summary()
        if self.t.records:
            self._rehearsed()
            self._people()
            self._items()
            self._steps()
            self._jobs()
            self._refusals()
            self._notes()
        return "\n".join(self.out).rstrip() + "\n"

    def _ts(self, value: Any) -> str:
        return _utc(parse_ts(value))

    def _summary(self) -> None:
        records = self.t.records
        stamps = [parse_ts(r.get("ts")) for r in records]
        known = [s for s in stamps if s is not None]
        lines = []
        if known:
            lines.append(f"- Period: {_utc(min(known))} UTC to {_utc(max(known))} UTC")
        if self.since is not None:
            lines.append(f"- Records since {_utc(self.since)} UTC only")
        lines += [f"- Vault: {markdown_code(v)}" for v in self.t.vaults()]
        lines.append(f"- Journal records: {len(records)}")
        self.out += lines + [""]
        if not records:
            self.out.append("No journal records in this period.")

    def _rehearsed(self) -> None:
        """A rehearsal's runbook: every request the tool would have sent, in order, with its body."""
        requests = self.t.rehearsed()
        if not requests:
            return
        self.out += [
            "## Rehearsed requests (none was sent)",
            "",
            "REHEARSAL: the vault was read live; these requests were shown and recorded instead of being sent, and "
            "the jobs in this report are simulated. In order, as the SDK built them:",
            "",
        ]
        for n, request in enumerate(requests, 1):
            self.out.append(
                f"{n}. {self._ts(request['ts'])} UTC, {markdown(request['target_name'] or '?')}: "
                f"{markdown_code(request['method'] + ' ' + request['url'])}"
                + (f" (SDK {markdown_code(request['call'])})" if request["call"] else "")
            )
            body = request["body"]
            text = "(no body)" if body is None else json_text(_plain(body), sort_keys=True, indent=2)
            fence = "~~~~" if "```" in text else "```"
            self.out += ["", f"   {fence}json"] + [f"   {line}" for line in text.splitlines()] + [f"   {fence}", ""]

    def _people(self) -> None:
        self.out += ["## Who and where", ""]
        rows = [
            (
                s["who"],
                s["user"],
                s["host"],
                s["terminal"],
                s["session"][:12],
                self._ts(s["first"]),
                self._ts(s["last"]),
            )
            for s in self.t.sessions()
        ]
        self.out += _table(("who", "local user", "host", "terminal", "session", "from (UTC)", "to (UTC)"), rows)
        self.out.append("")

    def _items(self) -> None:
        if not self.t.attempts:
            return
        self.out += ["## Outcome per item", ""]
        rows = []
        for _, attempts in self.t.items():
            for attempt in attempts:
                intent = attempt.intent
                loss = intent.get("data_loss_seconds")
                rows.append(
                    (
                        attempt.target_name,
                        attempt.operation,
                        _point(intent) if intent.get("recovery_point") else "",
                        human_seconds(loss) if loss is not None else "",
                        _yes_no(intent.get("acknowledged_loss")) if intent.get("recovery_point") or loss else "",
                        _Md(markdown_code(attempt.job_name)),
                        self.t.outcome(attempt),
                    )
                )
        headers = ("item", "operation", "recovery point", "data loss", "loss acknowledged", "job", "outcome")
        self.out += _table(headers, rows)
        self.out.append("")

    def _steps(self) -> None:
        self.out += ["## Steps", ""]
        rows = []
        for record in self.t.records:
            step = _step(record)
            label = STEP_LABELS.get(step["kind"], step["kind"])
            rows.append((self._ts(record.get("ts")), _actor(record), label, step["item"], step["detail"]))
        self.out += _table(("time (UTC)", "who", "step", "item", "detail"), rows)
        self.out.append("")

    def _jobs(self) -> None:
        if not self.t.jobs:
            return
        self.out += ["## Jobs", ""]
        for job in self.t.jobs.values():
            latest = job.latest
            what = markdown(_s(latest, "friendly_name") or _s(latest, "scenario_name") or "Job")
            target = markdown(_s(latest, "target_name") or _last_segment(_s(latest, "target_id")))
            heading = f"### {what}: {target}" if target else f"### {what}"
            self.out += [f"{heading} ({JobState.parse(job.state).word})", ""]
            self.out.append(f"- Job name: {markdown_code(job.name)}")
            if latest.get("start_time"):
                self.out.append(f"- Started: {self._ts(latest.get('start_time'))} UTC")
            if latest.get("end_time"):
                self.out.append(f"- Ended: {self._ts(latest.get('end_time'))} UTC")
            if latest.get("duration_seconds") is not None:
                self.out.append(f"- Took: {human_seconds(latest.get('duration_seconds'))}")
            self.out.append("")
            tasks = _l(latest.get("tasks"))
            if tasks:
                rows: list[tuple[Any, ...]] = []
                for task, depth in _walk_tasks(tasks):
                    name = ("↳ " * depth) + (_s(task, "friendly_name") or _s(task, "name"))
                    skipped = _s(task, "state_description").lower() == "skipped"
                    state = "Skipped" if skipped else JobState.parse(_s(task, "state")).word
                    duration = task.get("duration_seconds")
                    rows.append(
                        (
                            name,
                            state,
                            self._ts(task.get("start_time")),
                            self._ts(task.get("end_time")),
                            human_seconds(duration) if duration is not None else "",
                        )
                    )
                self.out += _table(("task", "state", "started (UTC)", "ended (UTC)", "duration"), rows)
                self.out.append("")
            errors = _l(latest.get("errors"))
            for task, _ in _walk_tasks(tasks):
                errors += [e for e in _l(task.get("errors")) if e not in errors]
            if errors:
                self.out += ["Errors:", ""]
                self._errors(errors)

    def _errors(self, errors: Sequence[Mapping[str, Any]]) -> None:
        for error in errors:
            code = _s(error, "code") or _s(error, "provider_error_code") or "error"
            self.out.append(f"- **{markdown(code)}**: {markdown(' '.join(_s(error, 'message').split()))}")
            for label, key in (
                ("Provider error", "provider_error_code"),
                ("Provider message", "provider_message"),
                ("Possible causes", "possible_causes"),
                ("Recommended action", "recommended_action"),
                ("Activity id", "activity_id"),
            ):
                value = " ".join(_s(error, key).split())
                if value and not (key == "provider_error_code" and value == code):
                    self.out.append(f"  - {label}: {markdown(value)}")
        self.out.append("")

    def _refusals(self) -> None:
        refused = [a for a in self.t.attempts if a.refused is not None]
        if not refused:
            return
        self.out += ["## Refused requests", ""]
        for attempt in refused:
            record = attempt.refused or {}
            error = _m(record.get("error"))
            self.out.append(f"### {markdown(attempt.operation)}: {markdown(attempt.target_name)}")
            self.out.append("")
            self.out.append(f"- At: {self._ts(record.get('ts'))} UTC")
            self.out.append(f"- Error: {markdown(_error_line(error))}")
            if error.get("activity_id"):
                self.out.append(f"- Activity id: {markdown(_s(error, 'activity_id'))}")
            if error.get("hint"):
                self.out.append(f"- What to do: {markdown(_s(error, 'hint'))}")
            self.out.append("")
            details = _l(error.get("details"))
            if details:
                self._errors(details)

    def _notes(self) -> None:
        notes = [r for r in self.t.records if r.get("kind") == "note"]
        if not notes:
            return
        self.out += ["## Notes", ""]
        for note in notes:
            who = markdown(_actor(note)) or "unknown"
            self.out.append(f"- {self._ts(note.get('ts'))} UTC, {who}: {markdown(_step(note)['detail'])}")
        self.out.append("")


def _walk_tasks(tasks: Sequence[Mapping[str, Any]], depth: int = 0) -> list[tuple[Mapping[str, Any], int]]:
    found: list[tuple[Mapping[str, Any], int]] = []
    for task in tasks:
        if not isinstance(task, Mapping):
            continue
        found.append((task, depth))
        if depth < _DEPTH:
            found += _walk_tasks(_l(task.get("child_tasks")), depth + 1)
    return found
