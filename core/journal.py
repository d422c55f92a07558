"""Append-only session journal: every intent on disk before its request is sent, so a dropped session can resume."""

from __future__ import annotations

import copy
import errno
import fcntl
import getpass
import json
import os
import re
import socket
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.clock import Clock, SystemClock
from core.errors import FailbackError, ServiceError
from core.model import ErrorDetail, Job, JobState, JobTask, OperationHandle, VaultRef
from core.sanitize import JWT, json_text, mask_secrets

JOURNAL_FILE = "journal.jsonl"
APP_DIR = "avs-failback"

# Record kinds this version writes. Readers keep records of any other kind (a newer version may add some).
KINDS = ("intent", "sent", "refused", "abandoned", "attached", "job_update", "job_gone", "note")

_SECRET_KEYS = frozenset(
    {"authorization", "access_token", "accesstoken", "refresh_token", "id_token", "client_secret", "password", "token"}
)
_VAULT_PREFIX = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/"
    r"Microsoft\.RecoveryServices/vaults/(?P<vault>[^/]+)",
    re.IGNORECASE,
)


def default_state_dir() -> Path:
    """The user state directory of the app: core.config's answer when available, else the XDG default."""
    try:
        from core.config import state_dir
    except ImportError:
        base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
        return Path(base) / APP_DIR
    return Path(state_dir())


def default_journal_path() -> Path:
    return default_state_dir() / JOURNAL_FILE


def refuse_secrets(value: Any, _where: str = "record") -> None:
    """Raise ValueError when `value` (recursively) holds something that looks like a bearer token or a JWT.

    The message names where it was found, never the value itself.
    """
    if isinstance(value, str):
        if value.lstrip().lower().startswith("bearer "):
            raise ValueError(f"refusing to journal a bearer token (in {_where})")
        if JWT.search(value):
            raise ValueError(f"refusing to journal what looks like a JWT (in {_where})")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            where = f"{_where}.{key}"
            if str(key).lower() in _SECRET_KEYS and item not in (None, "", False):
                raise ValueError(f"refusing to journal a secret-bearing field (in {where})")
            refuse_secrets(item, where)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            refuse_secrets(item, f"{_where}[{index}]")


def describe_terminal(environ: Mapping[str, str], tty: str | None = None) -> str:
    """Where the operator sits: the SSH client's address and port, the tty and TERM (never the whole env)."""
    parts: list[str] = []
    ssh = environ.get("SSH_CONNECTION", "").split()
    if len(ssh) >= 2:
        parts.append(f"ssh={ssh[0]}:{ssh[1]}")
    tty_name = environ.get("SSH_TTY") or tty
    if tty_name:
        parts.append(f"tty={tty_name}")
    if environ.get("TERM"):
        parts.append(f"term={environ['TERM']}")
    return " ".join(parts)


def _current_tty() -> str | None:
    for fd in (0, 1, 2):
        try:
            if os.isatty(fd):
                return os.ttyname(fd)
        except OSError:
            continue
    return None


def _local_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry inside some containers
        return ""


def format_ts(moment: datetime) -> str:
    """ISO-8601 in UTC with a Z, to the millisecond."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_ts(value: Any) -> datetime | None:
    """A record's timestamp back to an aware datetime; None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def vault_of(arm_id: str) -> str:
    """The vault ARM id that prefixes an item, plan or job id ("" when it has none)."""
    match = _VAULT_PREFIX.match(arm_id or "")
    if not match:
        return ""
    return VaultRef(match["sub"], match["rg"], match["vault"]).arm_id


def _opt_ts(moment: datetime | None) -> str | None:
    return format_ts(moment) if moment else None


def _duration(start: datetime | None, end: datetime | None) -> float | None:
    # ASR reports 0001-01-01 for tasks it skipped: those have no meaningful duration.
    if not start or not end or start.year < 1900 or end.year < 1900:
        return None
    return round((end - start).total_seconds(), 3)


def error_detail_record(detail: ErrorDetail) -> dict[str, Any]:
    # ARM's text is kept whole, but a token an endpoint echoed back is not (refuse_secrets would refuse the record).
    return {
        "code": detail.code,
        "message": mask_secrets(detail.message),
        "possible_causes": mask_secrets(detail.possible_causes),
        "recommended_action": mask_secrets(detail.recommended_action),
        "activity_id": detail.activity_id,
        "provider_error_code": detail.provider_error_code,
        "provider_message": mask_secrets(detail.provider_message),
        "task_id": detail.task_id,
        "created": _opt_ts(detail.created),
    }


def _task_record(task: JobTask) -> dict[str, Any]:
    return {
        "task_id": task.task_id,
        "name": task.name,
        "friendly_name": task.friendly_name,
        "state": task.state.value,
        "state_description": task.state_description,
        "start_time": _opt_ts(task.start_time),
        "end_time": _opt_ts(task.end_time),
        "duration_seconds": _duration(task.start_time, task.end_time),
        "errors": [error_detail_record(e) for e in task.errors],
        "child_job_name": task.child_job_name,
        "child_tasks": [_task_record(c) for c in task.child_tasks],
    }


def _error_record(error: FailbackError) -> dict[str, Any]:
    record: dict[str, Any] = {
        "type": type(error).__name__,
        "message": mask_secrets(error.message),
        "hint": error.hint,
        "exit_code": error.exit_code,
        "details": [error_detail_record(d) for d in error.details],
    }
    if isinstance(error, ServiceError):
        record["code"] = error.code
        record["status"] = error.status
        record["activity_id"] = error.activity_id
    return record


@dataclass(frozen=True)
class InFlight:
    """An operation this journal cannot call finished.

    job_name None: the intent was written but no `sent` or `refused` followed — the request may or may not
    have reached Azure. Read the item's currentScenario before sending anything again.
    sent_at: when the `sent` record was written, or the intent's time when there is none.
    An `attached` job with no intent behind it (someone else's job) has intent_id "" and operation "attach".
    """

    intent_id: str
    operation: str
    target_id: str
    target_name: str
    job_name: str | None
    sent_at: datetime | None
    who: str
    vault: str = ""
    session: str = ""
    reason: str = ""


class Journal:
    """JSON lines, append-only, shared safely by several app instances (O_APPEND, one write per line, fsync).

    Thread-safe: workers may record from their threads.
    """

    def __init__(
        self,
        path: Path | None = None,
        *,
        clock: Clock | None = None,
        who: str = "",
        host: str | None = None,
        terminal: str | None = None,
        session_id: str | None = None,
        vault: VaultRef | None = None,
    ) -> None:
        self.path = Path(path) if path is not None else default_journal_path()
        self.clock: Clock = clock or SystemClock()
        self.who = who
        self.host = socket.gethostname() if host is None else host
        self.terminal = describe_terminal(os.environ, _current_tty()) if terminal is None else terminal
        self.session_id = session_id or uuid.uuid4().hex
        self.user = _local_user()
        self.vault = vault.arm_id if vault else ""
        self._lock = threading.Lock()
        self._records: list[dict[str, Any]] = []
        self._offset = 0
        self._inode: tuple[int, int] | None = None
        # 1-based line numbers that could not be read: a record torn by a kill, or damage. Shown, never fatal.
        self.unreadable_lines: list[int] = []
        self._lines_read = 0

    # ---- writing ---------------------------------------------------------------------------------------------

    def intent(
        self,
        operation: str,
        *,
        vault: VaultRef,
        target_id: str,
        target_name: str,
        recovery_point: str = "",
        recovery_point_time: datetime | None = None,
        data_loss_seconds: float | None = None,
        acknowledged_loss: bool = False,
        details: Mapping[str, Any] | None = None,
    ) -> str:
        """Record what is about to be sent; returns its id once the record is on disk."""
        intent_id = uuid.uuid4().hex
        self._append(
            "intent",
            vault.arm_id,
            {
                "intent": intent_id,
                "operation": operation,
                "target_id": target_id,
                "target_name": target_name,
                "recovery_point": recovery_point,
                "recovery_point_time": _opt_ts(recovery_point_time),
                "data_loss_seconds": data_loss_seconds,
                "acknowledged_loss": acknowledged_loss,
                "details": dict(details or {}),
            },
        )
        self.vault = vault.arm_id
        return intent_id

    def sent(self, intent_id: str, handle: OperationHandle, rehearsed: Mapping[str, Any] | None = None) -> None:
        """The request was accepted: record the ASR job it started. A rehearsal records the request it did not send
        (method, url, body, call) and the simulated job it went on with: such an intent is never in flight."""
        intent = self._find_intent(intent_id)
        extra = {"rehearsed": dict(rehearsed)} if rehearsed is not None else {}
        self._append(
            "sent",
            self._vault_for(handle.target_id, intent),
            {
                "intent": intent_id,
                "operation": handle.operation,
                "job_name": handle.job_name,
                "target_id": handle.target_id,
                "target_name": handle.target_name,
                "request_id": handle.request_id,
                "retry_after": handle.retry_after,
                **extra,
            },
        )

    def refused(self, intent_id: str, error: FailbackError) -> None:
        """The request failed before any job started."""
        intent = self._find_intent(intent_id)
        self._append(
            "refused",
            self._vault_for("", intent),
            {
                "intent": intent_id,
                "operation": (intent or {}).get("operation", ""),
                "target_id": (intent or {}).get("target_id", ""),
                "target_name": (intent or {}).get("target_name", ""),
                "error": _error_record(error),
            },
        )

    def abandon(self, intent_id: str, reason: str) -> None:
        """Close an intent whose request never reached Azure (no job on the item), or that the operator dropped."""
        intent = self._find_intent(intent_id)
        self._append(
            "abandoned",
            self._vault_for("", intent),
            {
                "intent": intent_id,
                "operation": (intent or {}).get("operation", ""),
                "target_id": (intent or {}).get("target_id", ""),
                "target_name": (intent or {}).get("target_name", ""),
                "reason": reason,
            },
        )

    def attached(self, target_id: str, job_name: str, reason: str, target_name: str = "") -> None:
        """Following a job this instance did not start now (a resume, or another operator's job)."""
        self._append(
            "attached",
            self._vault_for(target_id, None),
            {
                "target_id": target_id,
                "target_name": target_name or self._name_of(target_id),
                "job_name": job_name,
                "reason": reason,
            },
        )

    def job_update(self, job: Job) -> None:
        """Record the job's state; once per (job, state), whichever instance sees it first."""

        def fields() -> dict[str, Any]:
            return {
                "job_name": job.name,
                "job_id": job.id,
                "state": job.state.value,
                "state_description": job.state_description,
                "terminal": job.state.is_terminal,
                "scenario_name": job.scenario_name,
                "friendly_name": job.friendly_name,
                "target_id": job.target_object_id,
                "target_name": job.target_object_name,
                "start_time": _opt_ts(job.start_time),
                "end_time": _opt_ts(job.end_time),
                "duration_seconds": _duration(job.start_time, job.end_time),
                "tasks": [_task_record(t) for t in job.tasks],
                "errors": [error_detail_record(e) for e in job.errors],
            }

        def seen(records: list[dict[str, Any]]) -> bool:
            return any(
                r.get("kind") == "job_update" and r.get("job_name") == job.name and r.get("state") == job.state.value
                for r in records
            )

        self._append("job_update", self._vault_for(job.id or job.target_object_id, None), fields(), unless=seen)

    def job_gone(self, job_name: str, reason: str) -> None:
        """ASR no longer knows the job (deleted with its item, or aged out): it is no longer in flight."""
        self._append("job_gone", self.vault, {"job_name": job_name, "reason": mask_secrets(reason)})

    def note(self, text: str, **fields: Any) -> None:
        """Free text for the timeline (a checklist ticked, a decision taken), with optional fields."""
        vault = fields.pop("vault", None)
        vault_id = vault.arm_id if isinstance(vault, VaultRef) else str(vault or self.vault)
        self._append("note", vault_id, {"text": text, "fields": fields})

    # ---- reading ---------------------------------------------------------------------------------------------

    def entries(self, since: datetime | None = None) -> list[dict[str, Any]]:
        """Every readable record in file order (records of unknown kinds included)."""
        with self._lock:
            self._refresh()
            records = copy.deepcopy(self._records)
        if since is None:
            return records
        return [r for r in records if (ts := parse_ts(r.get("ts"))) is not None and ts >= since]

    def in_flight(self) -> list[InFlight]:
        """Operations with no known end, oldest first: re-attach to those with a job name, check the others."""
        with self._lock:
            self._refresh()
            return _in_flight(self._records)

    # ---- internals -------------------------------------------------------------------------------------------

    def _find_intent(self, intent_id: str) -> dict[str, Any] | None:
        with self._lock:
            self._refresh()
            for record in reversed(self._records):
                if record.get("kind") == "intent" and record.get("intent") == intent_id:
                    return dict(record)
        return None

    def _name_of(self, target_id: str) -> str:
        with self._lock:
            self._refresh()
            for record in reversed(self._records):
                if record.get("target_id") == target_id and record.get("target_name"):
                    return str(record["target_name"])
        return ""

    def _vault_for(self, arm_id: str, intent: Mapping[str, Any] | None) -> str:
        return vault_of(arm_id) or str((intent or {}).get("vault") or "") or self.vault

    def _append(
        self,
        kind: str,
        vault: str,
        fields: Mapping[str, Any],
        *,
        unless: Callable[[list[dict[str, Any]]], bool] | None = None,
    ) -> None:
        record: dict[str, Any] = {
            "ts": format_ts(self.clock.now()),
            "kind": kind,
            "session": self.session_id,
            "who": self.who,
            "user": self.user,
            "host": self.host,
            "terminal": self.terminal,
            "vault": vault,
        }
        record.update(fields)
        refuse_secrets(record)
        # json_text: a lone surrogate (valid JSON from ARM, not encodable as UTF-8) is written as its escape
        line = json_text(record, separators=(",", ":"), default=str) + "\n"
        if "\n" in line[:-1]:  # json.dumps escapes newlines; this guards the one-line invariant regardless
            raise ValueError("a journal record must be one line")
        data = line.encode("utf-8")
        with self._lock:
            fd = self._open_for_append()
            try:
                # An exclusive lock makes "check, then write" atomic across app instances (job_update's
                # once-per-state rule); O_APPEND alone already keeps whole lines from interleaving.
                fcntl.flock(fd, fcntl.LOCK_EX)
                try:
                    self._refresh()
                    if unless is not None and unless(self._records):
                        return
                    if self._ends_torn(fd):
                        # A writer was killed mid-line: end that fragment so this record stays readable.
                        data = b"\n" + data
                    _write_all(fd, data)
                    os.fsync(fd)
                finally:
                    fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)

    def _open_for_append(self) -> int:
        parent = self.path.parent
        if not parent.exists():
            _make_private_dirs(parent)
        existed = self.path.exists()
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
        try:
            st = os.fstat(fd)
            if st.st_mode & 0o077 and st.st_uid == os.getuid():
                os.fchmod(fd, 0o600)
            if not existed:
                _fsync_dir(parent)  # the new file's directory entry must survive a crash too
        except BaseException:
            os.close(fd)
            raise
        return fd

    @staticmethod
    def _ends_torn(fd: int) -> bool:
        size = os.fstat(fd).st_size
        return size > 0 and os.pread(fd, 1, size - 1) != b"\n"

    def _refresh(self) -> None:
        """Read what was appended since the last read; start over if the file was replaced or truncated."""
        try:
            handle = open(self.path, "rb")  # noqa: SIM115 - closed below
        except FileNotFoundError:
            self._reset()
            return
        with handle:
            st = os.fstat(handle.fileno())
            identity = (st.st_dev, st.st_ino)
            if identity != self._inode or st.st_size < self._offset:
                self._reset()
                self._inode = identity
            handle.seek(self._offset)
            chunk = handle.read()
        # Only whole lines are consumed: a line without its newline is either being written right now or was
        # torn by a kill; in both cases it is left for later (a torn one is ended by the next append).
        end = chunk.rfind(b"\n")
        if end < 0:
            return
        for raw in chunk[: end + 1].splitlines():
            self._lines_read += 1
            if not raw.strip():
                continue
            record = _parse_line(raw)
            if record is None:
                self.unreadable_lines.append(self._lines_read)
            else:
                self._records.append(record)
        self._offset += end + 1

    def _reset(self) -> None:
        self._records = []
        self._offset = 0
        self._inode = None
        self._lines_read = 0
        self.unreadable_lines = []


def _parse_line(raw: bytes) -> dict[str, Any] | None:
    try:
        record = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):  # RecursionError: nested past the stack
        return None
    return record if isinstance(record, dict) else None


def _write_all(fd: int, data: bytes) -> None:
    written = os.write(fd, data)
    if written != len(data):
        # A short write to a regular file means the disk is full or a quota hit: the line is torn on disk,
        # and readers will skip it. Say so rather than pretend the intent is recorded.
        raise OSError(errno.ENOSPC, f"journal write was cut short ({written} of {len(data)} bytes)")


def _make_private_dirs(directory: Path) -> None:
    missing: list[Path] = []
    probe = directory
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            continue
        os.chmod(path, 0o700)  # mkdir's mode is filtered by the umask


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on a directory; the file itself is synced regardless
    finally:
        os.close(fd)


def _records_of(records: list[dict[str, Any]], kind: str) -> Iterator[tuple[int, dict[str, Any]]]:
    return ((i, r) for i, r in enumerate(records) if r.get("kind") == kind)


def _in_flight(records: list[dict[str, Any]]) -> list[InFlight]:
    finished_jobs = {
        str(r.get("job_name"))
        for _, r in _records_of(records, "job_update")
        if r.get("terminal") is True or JobState.parse(str(r.get("state") or "")).is_terminal
    } | {str(r.get("job_name")) for _, r in _records_of(records, "job_gone")}
    closed = {str(r.get("intent")) for kind in ("refused", "abandoned") for _, r in _records_of(records, kind)}
    closed |= {str(r.get("intent")) for _, r in _records_of(records, "sent") if r.get("rehearsed")}
    sent = {str(r.get("intent")): r for _, r in _records_of(records, "sent")}

    result: list[InFlight] = []
    covered_jobs: set[str] = set()
    for index, intent in _records_of(records, "intent"):
        intent_id = str(intent.get("intent") or "")
        if not intent_id or intent_id in closed:
            continue
        target_id = str(intent.get("target_id") or "")
        job_name: str | None = None
        sent_at = parse_ts(intent.get("ts"))
        if intent_id in sent:
            job_name = str(sent[intent_id].get("job_name") or "") or None
            sent_at = parse_ts(sent[intent_id].get("ts")) or sent_at
        else:
            later = _later_on_target(records, index, target_id)
            if later is not None and later.get("kind") == "intent":
                continue  # a newer intent on the item supersedes it: that one was sent after checking the item
            if later is not None:
                job_name = str(later.get("job_name") or "") or None  # resumed: the job found on the item
        if job_name is not None:
            covered_jobs.add(job_name)
            if job_name in finished_jobs:
                continue
        result.append(
            InFlight(
                intent_id=intent_id,
                operation=str(intent.get("operation") or ""),
                target_id=target_id,
                target_name=str(intent.get("target_name") or ""),
                job_name=job_name,
                sent_at=sent_at,
                who=str(intent.get("who") or ""),
                vault=str(intent.get("vault") or ""),
                session=str(intent.get("session") or ""),
            )
        )
    for _, attach in _records_of(records, "attached"):
        job_name = str(attach.get("job_name") or "")
        if not job_name or job_name in covered_jobs or job_name in finished_jobs:
            continue
        covered_jobs.add(job_name)
        result.append(
            InFlight(
                intent_id="",
                operation="attach",
                target_id=str(attach.get("target_id") or ""),
                target_name=str(attach.get("target_name") or ""),
                job_name=job_name,
                sent_at=parse_ts(attach.get("ts")),
                who=str(attach.get("who") or ""),
                vault=str(attach.get("vault") or ""),
                session=str(attach.get("session") or ""),
                reason=str(attach.get("reason") or ""),
            )
        )
    return result


def _later_on_target(records: list[dict[str, Any]], index: int, target_id: str) -> dict[str, Any] | None:
    """The first intent or attachment on the same item after records[index], if any."""
    if not target_id:
        return None
    for record in records[index + 1 :]:
        if record.get("target_id") == target_id and record.get("kind") in ("intent", "attached"):
            return record
    return None
