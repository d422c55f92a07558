"""A minimal operator session for the process-death tests: configured from the environment like the CLI, it sends
one operation through Operations (optionally following its job), or resumes; run in a subprocess and killed."""

from __future__ import annotations

import json
import sys

from core.bootstrap import build_backend
from core.config import resolve_settings
from core.errors import FailbackError
from core.journal import Journal
from core.model import PointChoice
from core.operations import Operations
from core.resume import resume
from core.tracker import JobTracker


def _item(backend: object, name: str):  # type: ignore[no-untyped-def]
    from core.failback import resolve_item

    return resolve_item(backend.list_items(), name)  # type: ignore[attr-defined]


def main(argv: list[str]) -> int:
    """`send OPERATION ITEM [--track]` or `resume`. Prints one JSON line per event on stdout."""
    settings = resolve_settings()
    backend = build_backend(settings)
    journal = Journal(vault=backend.vault, who="oncall")

    def say(**event: object) -> None:
        print(json.dumps(event), flush=True)

    try:
        if argv[0] == "send":
            operation, name = argv[1], argv[2]
            ops = Operations(backend, journal)
            item = _item(backend, name)
            if operation == "failover":
                started = ops.failover(item, PointChoice.LATEST)
            elif operation == "commit":
                started = ops.commit(item)
            else:
                raise SystemExit(f"unknown operation {operation!r}")
            say(event="started", job=started.handle.job_name, attached=started.attached)
            if "--track" in argv:
                tracker = JobTracker(backend, interval=3600)
                tracker.track(started.handle.job_name)
                for job in tracker.poll():
                    journal.job_update(job)
                say(event="tracking", job=started.handle.job_name)
                sys.stdin.readline()  # stays here, following the job, until the test kills it
            return 0
        if argv[0] == "resume":
            tracker = JobTracker(backend, interval=3600)
            for done in resume(backend, journal, tracker):
                say(event="resumed", target=done.target_name, job=done.job_name, how=done.how, text=done.text)
            for job in tracker.poll():
                journal.job_update(job)
            say(event="tracked", jobs=sorted(tracker.tracked))
            return 0
    except FailbackError as exc:
        say(event="error", type=type(exc).__name__, message=exc.message, hint=exc.hint)
        return exc.exit_code
    raise SystemExit(f"usage: send OPERATION ITEM [--track] | resume (got {argv})")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
