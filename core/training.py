"""Training mode: the bundled lessons, a walkthrough that reacts to what the trainee does, and the debrief."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.clock import Clock
from core.failback import is_agent_registration_failure
from core.model import Job, JobState, PointChoice
from core.recovery import duration
from core.sanitize import json_text, markdown, markdown_code

if TYPE_CHECKING:
    from core.emulator.scenario import Scenario

TRAINING_PREFIX = "train-"
# The emulator's scenario directory, named here so that the UI can import this module at start without loading
# the emulator (and azure-core with it) before the first frame.
SCENARIO_DIR = Path(__file__).parent / "emulator" / "scenarios"

# Time control: the clock's own speeds (AcceleratedClock.set_speed); 0 pauses the simulation.
SPEEDS: tuple[float, ...] = (0, 1, 10, 60)

# The default agent-registration window (core.failback.AGENT_REGISTRATION_WINDOW), in minutes, for wording.
_AGENT_MINUTES = 15


def describe_speed(speed: float) -> str:
    """ "paused", "1×", "10×", "60×" (and "2.5×" for any other speed)."""
    if speed <= 0:
        return "paused"
    return f"{speed:g}×"


def next_speed(speed: float) -> float:
    """The speed after `speed` in SPEEDS, wrapping round (a single key cycles through them)."""
    for candidate in SPEEDS:
        if candidate > speed:
            return candidate
    return SPEEDS[0]


# -- the procedure ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    what: str  # what the operator does
    why: str  # why this step exists
    check: str  # how to tell it went right
    can_go_wrong: str  # what goes wrong here, and what to do then


STEPS: tuple[Step, ...] = (
    Step(
        "pick",
        "Pick what to fail back",
        "Find the VM (or the recovery plan) that replicates from Azure to AVS and is ready to fail back.",
        "Only an item replicating back to AVS with at least one recovery point can fail back; a VM that belongs "
        "to a consistency group goes back with its recovery plan, so its group recovers together.",
        "The item shows 'Ready to fail back' and a recent recovery point; for a plan, every VM does.",
        "An item still in initial replication, or one with no recovery point, is not ready: wait, do not force it.",
    ),
    Step(
        "preflight",
        "Run the preflight checks",
        "Check the item before sending anything: direction, allowed operations, recovery points, process server, "
        "master target, datastores, health and jobs already running.",
        "A failover started on a broken path fails halfway, or succeeds and leaves a VM that cannot be protected "
        "again. Ten seconds of reading saves an hour of cleanup.",
        "No FAIL. Read every WARN and decide whether it matters today.",
        "A FAIL means stop: fix the cause (the remedy says how) or escalate, and note it in the report.",
    ),
    Step(
        "point",
        "Choose the recovery point",
        "Latest (crash-consistent, least data lost) or latest app-consistent (applications start clean, more data "
        "lost); for a group, the point common to all of its VMs.",
        "The point decides which writes survive. The choice is the operator's, made with the numbers in front of "
        "them, and written down.",
        "You can say in one sentence how much data your choice gives up and why that is acceptable.",
        "Latest on a group leaves its VMs at different moments; an older point loses writes you may need. An older "
        "point asks you to acknowledge the loss.",
    ),
    Step(
        "failover",
        "Start the failover",
        "Send the unplanned failover from Azure: ASR shuts the Azure VM down and starts the VM in AVS.",
        "It is the moment the service moves; everything before was preparation.",
        "ASR accepts it and returns a job; the item shows 'Failover running'.",
        "Another job already running on the item: follow that job instead of sending a second one.",
    ),
    Step(
        "watch",
        "Watch the job",
        "Follow the failover job task by task until it ends.",
        "A job can stop at any task with a provider error; the task and its error tell you what to fix.",
        "The job ends Succeeded and the item shows 'Failed over: verify, then commit'.",
        "A failed task: read its error, possible causes and recommended action, fix the cause, then restart the "
        "same job rather than starting a new one.",
    ),
    Step(
        "verify",
        "Verify in AVS",
        "Tick the checklist: the VM runs in AVS, its applications answer, VMware Tools run again (ASR disabled them "
        "on Windows VMs), and the Azure VM is off.",
        "Until you commit you can still go back to the Azure VM; after commit you cannot.",
        "Every box ticked, from what you saw, not from what you expect.",
        "An application that does not come up: do not commit; investigate while the Azure VM still exists.",
    ),
    Step(
        "commit",
        "Commit",
        "Commit the failover, typing the item's name to confirm.",
        "Commit deletes the failed-over Azure VM and makes the failback final. It cannot be undone.",
        "The commit job succeeds and the item shows 'Committed: reprotect needed'.",
        "Committing before verifying throws away the way back.",
    ),
    Step(
        "reprotect",
        "Reprotect to Azure",
        "Protect the AVS VM to Azure again, through the process server in Azure that receives its data.",
        "Until it is reprotected the VM has no disaster recovery at all.",
        "The reprotect job (and its Enable replication child job) succeeds; the item shows 'Protected to Azure'.",
        f"For up to {_AGENT_MINUTES} minutes after the VM boots in AVS its Mobility agent is not registered yet and "
        "reprotect fails: wait and retry, the tool counts down.",
    ),
    Step(
        "report",
        "Export the report",
        "Export the session report: what was chosen, when, which jobs ran, what failed.",
        "The incident review, the change record and the next on-call engineer all need it.",
        "The report names each item, the point chosen, the data loss accepted and every job.",
        "Nothing much: export it before you close the session.",
    ),
)
STEP_KEYS: tuple[str, ...] = tuple(s.key for s in STEPS)
_STEP = {s.key: s for s in STEPS}

# A modernized failback (InMageRcmFailback, core/providers/MODERNIZED.md) takes the same steps with other words: a
# planned failover whose point is a type made when the job starts, an appliance in AVS instead of a configuration
# server, and an agent that must register again before ASR offers the reprotect at all.
_MODERNIZED_WORDS: dict[str, Step] = {
    "preflight": Step(
        "preflight",
        "Run the preflight checks",
        "Check the item before sending anything: that ASR offers the planned failover, the replication appliance in "
        "AVS (its health and heartbeat), the target datastore it must reach, the sync state and jobs already "
        "running.",
        "The planned failover runs through the appliance in AVS: with it stale or unhealthy the job stops at its "
        "prerequisite check, and the reprotect after it has nothing to send data through.",
        "No FAIL. Read every WARN and decide whether it matters today.",
        "A FAIL means stop: fix the cause (the remedy says how) or escalate, and note it in the report.",
    ),
    "point": Step(
        "point",
        "Choose the type of recovery point",
        "Crash-consistent (ASR copies what is pending and makes the point when the job starts) or the latest "
        "app-consistent point (applications start clean, the writes since it are lost).",
        "No point is listed to pick from: ASR makes the crash-consistent one at the trigger, so its loss is not "
        "known beforehand. The type decides which writes survive, and it is written down.",
        "You can say in one sentence what your choice gives up and why that is acceptable.",
        "App-consistent on a VM that needs no application consistency gives up writes for nothing; for a database, "
        "crash-consistent means it replays its logs on boot.",
    ),
    "failover": Step(
        "failover",
        "Start the planned failover from Azure",
        "Send the planned failover: ASR makes the point, shuts the Azure VM down and starts the VM in AVS.",
        "It is the moment the service moves; everything before was preparation. Until commit it can still be "
        "cancelled.",
        "ASR accepts it and returns a job; the item shows 'Failover running'.",
        "Another job already running on the item: follow that job instead of sending a second one.",
    ),
    "verify": Step(
        "verify",
        "Verify in AVS",
        "Tick the checklist: the VM runs in AVS, its applications answer, VMware Tools run, and the Azure VM is off "
        "(the planned failover shut it down itself).",
        "Until you commit you can still cancel, and ASR turns the Azure VM on again; after commit you cannot.",
        "Every box ticked, from what you saw, not from what you expect.",
        "An application that does not come up: do not commit; cancel the planned failover or investigate first.",
    ),
    "commit": Step(
        "commit",
        "Commit",
        "Commit the failover, typing the item's name to confirm.",
        "Commit removes the failed-back VM in Azure and ends the chance to cancel. It cannot be undone.",
        "The commit job succeeds; the reprotect back to Azure is what is left.",
        "Committing before verifying throws away the way back.",
    ),
    "reprotect": Step(
        "reprotect",
        "Reprotect to Azure",
        "Protect the AVS VM to Azure again, through the replication appliance in AVS and the forward policy.",
        "Until it is reprotected the VM has no disaster recovery at all.",
        "The reprotect job succeeds; the item replicates to Azure again (initial replication first).",
        f"ASR offers the reprotect only once the VM's Mobility agent has registered again after its boot in AVS, "
        f"up to about {_AGENT_MINUTES} minutes: until then the tool says so, and you wait.",
    ),
}
# Only a modernized failback can be undone before commit (a classic one cannot: failoverCancel is for planned
# failovers). A lesson that asks for it has this step after the job; any other lesson hears a cancel explained.
CANCEL_STEP = Step(
    "cancel",
    "Cancel, then fail back again",
    "Cancel the planned failover: ASR rolls the AVS disks back, turns the Azure VM on again and resumes replication "
    "to AVS. Then run the planned failover again.",
    "Until commit a modernized failback can be undone: the way out when the VM in AVS is not fit to serve, or the "
    "change window closes.",
    "The cancel job succeeds, the item is ready to fail back again, and the second planned failover succeeds.",
    "After a commit nothing can be cancelled; a classic failback never can. Cancel only a finished planned "
    "failover: one still running is cancelled as a job, which is not the same.",
)


def lesson_steps(provider: str, cancel: bool = False) -> tuple[Step, ...]:
    """The procedure a lesson walks: classic STEPS, or the same steps in modernized words (with the cancel)."""
    if provider != "modernized":
        return STEPS
    steps = [_MODERNIZED_WORDS.get(s.key, s) for s in STEPS]
    if cancel:
        steps.insert([s.key for s in steps].index("watch") + 1, CANCEL_STEP)
    return tuple(steps)


# Action ids a UI can map to its key labels for hints (Walkthrough(keys={"failover": "f", ...})).
ACTIONS: dict[str, str] = {
    "select": "select the item",
    "preflight": "preflight",
    "point": "choose point",
    "failover": "fail over",
    "jobs": "jobs",
    "restart": "restart job",
    "verify": "verify",
    "commit": "commit",
    "reprotect": "reprotect",
    "cancel": "cancel the planned failover",
    "report": "export report",
    "speed": "speed",
}


# -- training scenarios ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingScenario:
    name: str
    title: str
    brief: str
    goals: tuple[str, ...]
    focus_items: tuple[str, ...]
    plan: str | None
    expected_point: str | None  # "latest" | "app-consistent" | None when the lesson does not judge it
    point_why: str = ""
    ends_after: str = "reprotect"
    start_stage: str = "ready"  # the stage of the focus items when the lesson starts
    agent_window_minutes: float = 15.0
    source: str = ""  # the file: what Settings(scenario=...) takes to run it
    level: str = "intermediate"  # beginner | intermediate | advanced
    minutes: int = 0  # about how long it takes at 1×; 0 when the file does not say
    provider: str = "classic"  # the focus items' provider key (core.providers): "classic" or "modernized"
    cancel_once: bool = False  # the lesson asks for the planned failover to be cancelled once and run again

    @property
    def steps(self) -> tuple[Step, ...]:
        return lesson_steps(self.provider, self.cancel_once)

    @property
    def length(self) -> str:
        """ "beginner · about 10 min" """
        return self.level + (f" · about {self.minutes} min" if self.minutes else "")

    @property
    def scenario(self) -> str:
        """What to pass as Settings.scenario to run this lesson on the emulator."""
        return self.source or self.name


def _from_scenario(scenario: Scenario) -> TrainingScenario:
    from core.emulator.scenario import ScenarioError

    spec = scenario.training
    if spec is None:
        raise ScenarioError(
            scenario.source or scenario.name,
            "$.training",
            "missing: a training scenario needs a training section (goals, focus; see core/emulator/TRAINING.md)",
        )
    stages = {i.name: i.stage for i in scenario.items}
    providers = {i.name: i.provider for i in scenario.items}
    modernized = providers.get(spec.focus[0]) == "InMageRcmFailback"
    return TrainingScenario(
        name=scenario.name,
        title=scenario.title,
        brief=scenario.brief,
        goals=spec.goals,
        focus_items=spec.focus,
        plan=spec.plan or None,
        expected_point=spec.expected_point or None,
        point_why=spec.point_why,
        ends_after=spec.ends_after,
        start_stage=stages[spec.focus[0]],
        source=scenario.source,
        level=spec.level,
        minutes=spec.minutes,
        provider="modernized" if modernized else "classic",
        cancel_once=spec.cancel_once,
        agent_window_minutes=scenario.settings.rcm_agent_minutes
        if modernized
        else scenario.settings.agent_window_minutes,
    )


def load_training(name_or_path: str | Path) -> TrainingScenario:
    """A bundled lesson by name ("train-single-vm", or "single-vm") or a scenario file with a training section."""
    from core.emulator.scenario import load_scenario

    ref = str(name_or_path)
    bundled = SCENARIO_DIR / f"{TRAINING_PREFIX}{ref}.json"
    if not ref.startswith(TRAINING_PREFIX) and "/" not in ref and not ref.endswith(".json") and bundled.is_file():
        ref = str(bundled)
    return _from_scenario(load_scenario(ref))


def list_training() -> list[TrainingScenario]:
    """Every bundled lesson, validated (a broken bundled file raises ScenarioError rather than vanishing), in the
    order to take them: by level; within one, those that start earlier in the procedure first, and of those the
    ones that go through the whole of it (the failback itself before a lesson that stops at the preflight)."""
    from core.emulator.scenario import STAGES, TRAINING_ENDS, TRAINING_LEVELS

    def order(lesson: TrainingScenario) -> tuple[int, int, int, str]:
        start = STAGES.index(lesson.start_stage) if lesson.start_stage in STAGES else len(STAGES)
        return (TRAINING_LEVELS.index(lesson.level), start, -TRAINING_ENDS.index(lesson.ends_after), lesson.name)

    lessons = [load_training(str(path)) for path in sorted(SCENARIO_DIR.glob(f"{TRAINING_PREFIX}*.json"))]
    return sorted(lessons, key=order)


def check_file(path: str | Path) -> list[str]:
    """[] when the file is a usable training scenario; else messages "FILE: $.json.path: what is wrong"."""
    from core.clock import ManualClock
    from core.emulator import ScenarioError, emulate, load_scenario, rehearse

    try:
        lesson = load_training(path)
        # The checks of the format are not all a lesson needs: build the vault the lesson runs on and read it
        # as a session would, so that a file called valid here also runs.
        rehearse(emulate(load_scenario(lesson.source or str(path)), ManualClock()))
    except ScenarioError as exc:
        return [str(exc)]
    except OSError as exc:
        return [f"{path}: $: cannot be read: {exc.strerror or exc}"]
    except UnicodeDecodeError:
        return [f"{path}: $: not a UTF-8 text file"]
    return []


# -- the walkthrough ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reaction:
    kind: str  # "praise" | "explain" | "warn"
    title: str
    text: str
    mistake: str = ""  # the mistake's key when this reaction catches one


@dataclass(frozen=True)
class Choice:
    step: str
    what: str
    detail: str
    at: datetime  # simulated time


@dataclass(frozen=True)
class Mistake:
    key: str
    step: str
    title: str
    text: str
    at: datetime  # simulated time


@dataclass(frozen=True)
class StepResult:
    key: str
    title: str
    status: str  # "done" | "skipped" (before the lesson or outside it) | "not done"


@dataclass(frozen=True)
class Debrief:
    scenario: str
    title: str
    goals: tuple[str, ...]
    completed: bool
    steps: tuple[StepResult, ...]
    choices: tuple[Choice, ...]
    point: str | None  # the recovery point chosen, as said to the trainee
    data_loss_seconds: float | None  # writes given up by that choice; None when no point was chosen
    mistakes: tuple[Mistake, ...]
    praise: tuple[str, ...]
    simulated_seconds: float
    real_seconds: float
    started: datetime
    ended: datetime

    @property
    def steps_done(self) -> int:
        return sum(1 for s in self.steps if s.status == "done")

    @property
    def steps_expected(self) -> int:
        return sum(1 for s in self.steps if s.status != "skipped")


_POINT_WORDS = {"latest": "Latest", "app-consistent": "Latest app-consistent", "custom": "a chosen point"}
# A modernized failback chooses a type of point (InMageRcmFailbackRecoveryPointType), not a listed one.
_TYPE_WORDS = {"latest": "Crash-consistent", "app-consistent": "Latest app-consistent"}
_CLASSIFY = (
    ("cancel", "cancel"),  # CancelFailover: before "failover", which its name also holds
    ("commit", "commit"),
    ("switch", "reprotect"),
    ("reverse", "reprotect"),
    ("reprotect", "reprotect"),
    ("failover", "failover"),
)


def _point_key(choice: Any) -> str:
    if isinstance(choice, PointChoice):
        return choice.value
    text = str(choice).strip().lower().replace("_", "-").replace(" ", "-")
    if text in ("latesttag", "latest-app-consistent", "app-consistent", "app"):
        return "app-consistent"
    if text in ("latesttime", "latest", "latestprocessed", "latest-processed"):
        return "latest"
    return "custom" if text in ("custom", "chosen") else text


def _operation_of(scenario_name: str) -> str:
    norm = scenario_name.replace(" ", "").replace("-", "").replace("_", "").lower()
    for needle, operation in _CLASSIFY:
        if needle in norm:
            return operation
    return ""


def _state_of(value: Any) -> JobState:
    if isinstance(value, JobState):
        return value
    text = str(value or "").strip().lower()
    for state in JobState:
        if state.value.lower() == text or state.name.lower() == text:
            return state
    if text == "canceled":
        return JobState.CANCELLED
    return JobState.OTHER


def _job_error(job: Job | None, data: Mapping[str, Any]) -> tuple[str, str, str]:
    """(failed task, error message, recommended action) from a Job, or from plain keys the UI passes."""
    task_name, message, action = str(data.get("task", "")), str(data.get("error", "")), str(data.get("action", ""))
    if job is not None:
        for task in job.tasks:
            if task.errors or task.state is JobState.FAILED:
                task_name = task_name or task.friendly_name or task.name
                if task.errors:
                    detail = task.errors[0]
                    message = message or detail.provider_message or detail.message
                    action = action or detail.recommended_action
                break
        if job.errors and not message:
            message = job.errors[0].provider_message or job.errors[0].message
            action = action or job.errors[0].recommended_action
    return task_name, message, action


class Walkthrough:
    """Follows a trainee through STEPS: says what to do next, reacts to what they do, and keeps the debrief.

    The UI reports events with observe(); nothing here talks to the backend, so the same walkthrough serves
    the TUI, the CLI and the tests. Time is the simulation's clock (for the debrief's simulated duration) and
    `real_time` (monotonic seconds) for the real one.
    """

    def __init__(
        self,
        scenario: TrainingScenario,
        clock: Clock,
        *,
        keys: Mapping[str, str] | None = None,
        real_time: Callable[[], float] = time.monotonic,
    ) -> None:
        self.scenario = scenario
        self.clock = clock
        self.keys: dict[str, str] = dict(keys or {})
        self._real_time = real_time
        self.started = clock.now()
        self._real_started = real_time()
        self.steps: tuple[Step, ...] = scenario.steps
        self._steps = {s.key: s for s in self.steps}
        self._status: dict[str, str] = {s.key: "pending" for s in self.steps}
        self._skip_done_before(scenario.start_stage)
        self._skip_outside(scenario.ends_after)
        self.choices: list[Choice] = []
        self.mistakes: list[Mistake] = []
        self.reactions: list[Reaction] = []
        self.point: str | None = None
        self.loss_seconds: float | None = None
        self.preflight_failures: tuple[str, ...] = ()
        self.failed_job = ""  # a job that failed and has not been restarted or replaced yet
        self.waiting_for_agent = False
        self.verified = False
        self.cancelled = 0  # planned failovers cancelled in this lesson
        self._ticks: set[str] = set()
        self._praise: list[str] = []
        self._ended: datetime | None = None
        self._real_ended: float | None = None

    # -- where the trainee is ---------------------------------------------------------------------------

    def _skip_done_before(self, stage: str) -> None:
        before = {
            "failover-running": ("preflight", "point", "failover"),
            "failed-over": ("preflight", "point", "failover", "watch"),
            "commit-running": ("preflight", "point", "failover", "watch", "verify"),
            "committed": ("preflight", "point", "failover", "watch", "verify", "commit"),
        }.get(stage, ())
        for key in before:
            self._status[key] = "skipped"

    def _skip_outside(self, ends_after: str) -> None:
        keys = [s.key for s in self.steps]
        last = keys.index(ends_after)
        for key in keys[last + 1 : -1]:
            self._status[key] = "skipped"

    @property
    def modernized(self) -> bool:
        return self.scenario.provider == "modernized"

    def current(self) -> Step:
        """The first step not yet done; the last step once everything is."""
        for step in self.steps:
            if self._status[step.key] == "pending":
                return step
        return self.steps[-1]

    @property
    def finished(self) -> bool:
        return all(status != "pending" for status in self._status.values())

    def status(self, key: str) -> str:
        """ "pending", "done" or "skipped"."""
        return self._status[key]

    def _done(self, *keys: str) -> None:
        for key in keys:
            if self._status.get(key) == "pending":
                self._status[key] = "done"
        if self.finished and self._ended is None:
            self._ended = self.clock.now()
            self._real_ended = self._real_time()

    # -- hints ------------------------------------------------------------------------------------------

    def _key(self, action: str) -> str:
        label = self.keys.get(action)
        return f"press {label}" if label else f"use '{ACTIONS[action]}'"

    def _target(self) -> str:
        if self.scenario.plan:
            return f"the recovery plan {self.scenario.plan}"
        return " or ".join(self.scenario.focus_items)

    def hint(self, keys: Mapping[str, str] | None = None) -> str:
        """What to do next, naming the action (with its key when the UI gave one)."""
        if keys:
            self.keys.update(keys)
        step = self.current()
        if self.finished:
            return "The lesson is over: read the debrief."
        if step.key == "pick":
            return f"Select {self._target()} ({self._key('select')}); the brief says what is going on."
        if step.key == "preflight":
            return f"Run the preflight checks on {self._target()} before anything else ({self._key('preflight')})."
        if step.key == "point":
            if self.modernized:
                return (
                    "Choose the type of point: crash-consistent, made when the job starts, or the latest "
                    f"app-consistent point, which gives up the writes since it ({self._key('point')})."
                )
            return (
                "Choose the recovery point: compare what Latest and latest app-consistent give up, and whether the "
                f"VMs must agree with each other ({self._key('point')})."
            )
        if step.key == "failover":
            again = "again " if self.cancelled else ""
            what = "the planned failover from Azure" if self.modernized else "the failover"
            return f"Start {what} {again}({self._key('failover')}); read the confirmation before you accept it."
        if step.key == "cancel":
            if self.failed_job:
                restart = self._key("restart")
                return f"The cancel job {self.failed_job} failed: read its error, then restart it ({restart})."
            return (
                f"Cancel the planned failover as the brief asks ({self._key('cancel')}): ASR turns the Azure VM on "
                "again and resumes replication to AVS. Then fail back again."
            )
        if step.key == "watch":
            if self.failed_job:
                return (
                    f"Job {self.failed_job} failed: read the failed task's error and recommended action, then "
                    f"restart it ({self._key('restart')})."
                )
            return (
                f"Watch the job's tasks ({self._key('jobs')}); time runs faster with {self._key('speed')}. "
                "Verification comes when it succeeds."
            )
        if step.key == "verify":
            return (
                f"Verify in AVS ({self._key('verify')}): the VM runs, its applications answer, VMware Tools run, "
                "and the Azure VM is off. Tick each box from what you saw."
            )
        if step.key == "commit":
            if self.failed_job:
                return (
                    f"The commit job {self.failed_job} failed: read its error, then restart it "
                    f"({self._key('restart')})."
                )
            return f"Commit ({self._key('commit')}): it deletes the Azure VM, so type the name only once verified."
        if step.key == "reprotect":
            if self.modernized:
                return (
                    f"Reprotect to Azure ({self._key('reprotect')}): choose the replication appliance and the forward "
                    "policy. ASR offers it once the VM's Mobility agent has registered again after its boot in AVS "
                    f"(up to about {self.scenario.agent_window_minutes:g} minutes): until then, wait."
                )
            if self.waiting_for_agent:
                return (
                    "The Mobility agent is still registering with the configuration server: wait for the countdown, "
                    "the tool retries the reprotect by itself."
                )
            return f"Reprotect to Azure ({self._key('reprotect')}): choose the process server that sends data to Azure."
        if self.preflight_failures and self.scenario.ends_after == "preflight":
            return (
                "Preflight said no: do not fail over. Write down what failed and who you escalated to, then export "
                f"the report ({self._key('report')})."
            )
        return f"Export the session report ({self._key('report')})."

    # -- reacting to events -----------------------------------------------------------------------------

    def observe(self, event: str, **data: Any) -> Reaction | None:
        """React to something the trainee did (or that happened to them); None when there is nothing to say."""
        handler = getattr(self, "_on_" + event.replace("-", "_"), None)
        if handler is None:
            return None
        reaction: Reaction | None = handler(**data)
        if reaction is not None:
            self.reactions.append(reaction)
            if reaction.kind == "praise":
                self._praise.append(reaction.title)
        return reaction

    def _choice(self, step: str, what: str, detail: str = "") -> None:
        self.choices.append(Choice(step, what, detail, self.clock.now()))

    def _mistake(self, key: str, step: str, kind: str, title: str, text: str) -> Reaction:
        if not any(m.key == key for m in self.mistakes):
            self.mistakes.append(Mistake(key, step, title, text, self.clock.now()))
        return Reaction(kind, title, text, mistake=key)

    def _on_item_selected(self, item: str = "", **_: Any) -> Reaction | None:
        wanted = {n.lower() for n in self.scenario.focus_items}
        if self.scenario.plan:
            wanted.add(self.scenario.plan.lower())
        if item.lower() not in wanted:
            return Reaction(
                "explain",
                "Not this lesson's VM",
                f"{item} is part of the vault, but this lesson is about {self._target()}. Look at it if you like; "
                "the steps follow the lesson's VM.",
            )
        first = self._status["pick"] == "pending"
        self._done("pick")
        if first:
            self._choice("pick", f"Selected {item}")
        return None

    _on_plan_selected = _on_item_selected

    def _on_preflight_run(
        self, ok: bool = True, failures: Sequence[str] = (), warnings: Sequence[str] = (), **_: Any
    ) -> Reaction | None:
        self._done("pick", "preflight")
        self.preflight_failures = tuple(failures) if not ok else ()
        self._choice(
            "preflight",
            "Ran the preflight checks",
            "all passed" if ok and not warnings else f"{len(failures)} FAIL, {len(warnings)} WARN",
        )
        if not ok:
            listed = "; ".join(failures) or "see the report"
            stop = (
                " This lesson ends here: the right call is not to fail over."
                if self.scenario.ends_after == "preflight"
                else ""
            )
            return Reaction(
                "explain",
                "Preflight found a FAIL",
                f"Failed: {listed}. A FAIL means the failover would break or leave the VM unprotectable: fix the "
                f"cause the remedy names, or escalate, before sending anything.{stop}",
            )
        if warnings:
            return Reaction(
                "explain",
                "Preflight passed with warnings",
                f"Warnings: {'; '.join(warnings)}. A WARN does not stop you; decide whether it matters today and say "
                "so in the report.",
            )
        return Reaction("praise", "Preflight first", "Every check passed: the path back to AVS is sound.")

    def _on_point_chosen(
        self, choice: Any = "latest", loss_seconds: float | None = 0.0, acknowledged: bool = False, **_: Any
    ) -> Reaction | None:
        key = _point_key(choice)
        words = _TYPE_WORDS if self.modernized else _POINT_WORDS
        self.point = words.get(key, key)
        # A modernized point is made when the job starts: its loss is not known beforehand, never counted as 0 s.
        self.loss_seconds = None if loss_seconds is None else float(loss_seconds)
        self._done("pick", "point")
        given_up = (
            "loss not known beforehand: ASR makes the point when the job starts"
            if self.loss_seconds is None
            else f"about {duration(self.loss_seconds)} of writes given up"
        )
        self._choice("point", f"Recovery point: {self.point}", given_up)
        expected = self.scenario.expected_point
        if self.loss_seconds is None:
            return self._type_reaction(key, expected)
        loss = self.loss_seconds
        if loss >= 1 and key != "latest" and not acknowledged:
            return self._mistake(
                "unacknowledged-loss",
                "point",
                "warn",
                "Data loss not acknowledged",
                f"{self.point} gives up about {duration(loss)} more writes than Latest. That loss is a "
                "decision: acknowledge it knowingly, and be ready to say why in the report.",
            )
        if expected == "app-consistent" and key == "latest":
            return self._mistake(
                "latest-for-group",
                "point",
                "explain",
                "Latest leaves the group out of step",
                "Latest fails each VM over to its own newest point, taken at different moments: the application "
                "servers may hold work the database never wrote, or the reverse, and the database recovers as after "
                "a power cut. The common app-consistent point brings them all back at the same instant, with the "
                "database flushed, at the price of the writes since then.",
            )
        if expected == "latest" and key != "latest":
            return self._mistake(
                "older-point-alone",
                "point",
                "explain",
                "An older point than needed",
                f"{self.point} gives up about {duration(loss)} of writes that Latest would keep. For a VM "
                "that stands alone there is no group to keep in step, and a crash-consistent start is what its "
                "applications are built to survive.",
            )
        return self._expected_praise(expected)

    def _expected_praise(self, expected: str | None) -> Reaction | None:
        """The point the lesson expects was chosen (or the lesson does not judge it: nothing to say)."""
        if expected is None:
            return None
        return Reaction(
            "praise", f"{self.point}: the right call", self.scenario.point_why or "That is the expected choice."
        )

    def _type_reaction(self, key: str, expected: str | None) -> Reaction | None:
        """A modernized choice: a type of point, with no loss to count from (MODERNIZED.md §12)."""
        if expected == "latest" and key != "latest":
            return self._mistake(
                "older-point-alone",
                "point",
                "explain",
                "App-consistent where crash-consistent serves",
                "The latest app-consistent point gives up everything written since it was taken, up to the failback "
                "policy's app-consistent interval. The crash-consistent point is made when the job starts, after "
                "ASR has copied what was pending: for a VM with no database of its own it keeps the most.",
            )
        if expected == "app-consistent" and key == "latest":
            return self._mistake(
                "latest-for-group",
                "point",
                "explain",
                "Crash-consistent where applications need a clean start",
                "A crash-consistent point is what the disks held at one instant: a database on it replays its logs "
                "as after a power cut. The latest app-consistent point starts it clean, at the price of the writes "
                "since that point.",
            )
        return self._expected_praise(expected)

    def _on_failover_requested(self, **_: Any) -> Reaction | None:
        """The trainee asked for the failover (the point dialog is next): nudge now, before anything is sent."""
        if self._status["preflight"] != "pending" or self.preflight_failures:
            return None
        return Reaction(
            "warn",
            "Preflight first?",
            f"You have not read the preflight of {self._target()}. The failover checks only that nothing blocks it; "
            f"the preflight ({self._key('preflight')}) shows every warning too. Back out (Esc) and read it, or go on "
            "knowingly.",
        )

    def _on_failover_started(self, **_: Any) -> Reaction | None:
        skipped_preflight = self._status["preflight"] == "pending"
        resent = self.failed_job
        self._done("pick", "failover")
        if self._status["point"] == "pending":
            self._done("point")
        self._choice("failover", "Started the failover" if not resent else "Started a new failover")
        if resent:
            self.failed_job = ""
            return Reaction(
                "explain",
                "A new job instead of a restart",
                f"That works too, once the cause is fixed. Restarting {resent} would have re-run the same job under "
                "the same name, keeping the failed attempt and the retry together in the job history.",
            )
        if self.preflight_failures:
            return self._mistake(
                "ignored-preflight-fail",
                "failover",
                "warn",
                "Failover started despite a preflight FAIL",
                "Preflight failed on: "
                + "; ".join(self.preflight_failures)
                + ". "
                + _what_breaks(self.preflight_failures),
            )
        if skipped_preflight:
            self._status["preflight"] = "not done"
            return self._mistake(
                "skipped-preflight",
                "failover",
                "warn",
                "Failover without a preflight",
                "The checks read what ASR itself will need: a recovery point, a healthy process server in Azure, "
                "room on the master target and the datastores, no job already running. Without them you learn of "
                "a problem from a failed job, or worse, after the commit.",
            )
        return None

    def _on_attached_to_other_job(self, operation: str = "failover", job: str = "", **_: Any) -> Reaction | None:
        op = _operation_of(operation) or operation
        if op == "failover":
            self._done("pick", "failover")
            if self._status["point"] == "pending":
                self._status["point"] = "skipped"
        self._choice(op if op in self._steps else "watch", f"Followed another operator's {op} job", job)
        return Reaction(
            "explain",
            "Someone else is on this VM",
            f"A {op} job{' (' + job + ')' if job else ''} was already running on the item when you acted: another "
            "operator, or an earlier session. Sending a second operation would only be refused (or worse, race "
            "it), so the tool follows that job instead. Find out who started it before you commit.",
        )

    def _on_job_finished(
        self, state: Any = "", scenario: str = "", operation: str = "", **data: Any
    ) -> Reaction | None:
        job = data.get("job") if isinstance(data.get("job"), Job) else None
        if job is not None:
            state = state or job.state
            scenario = scenario or job.scenario_name
        op = operation or _operation_of(scenario)
        final = _state_of(state)
        name = str(data.get("name") or (job.name if job is not None else ""))
        if final is JobState.SUCCEEDED:
            self.failed_job = ""
            if op == "failover":
                self._done("failover", "watch")
                return None
            if op == "commit":
                self._done("commit")
                return Reaction("praise", "Committed", "The Azure VM is gone; now give the AVS VM its protection back.")
            if op == "reprotect":
                return self._on_reprotect_succeeded()
            if op == "cancel":
                return self._cancelled()
            return None
        if final not in (JobState.FAILED, JobState.CANCELLED):
            return None
        task, message, action = _job_error(job, data)
        agent = is_agent_registration_failure(job) if job is not None else "agent" in message.lower()
        if op == "reprotect" and final is JobState.FAILED and agent:
            return self._on_reprotect_failed_agent()
        self.failed_job = name or "the job"
        where = f" at '{task}'" if task else ""
        said = f" ASR says: {message}" if message else ""
        todo = f" Recommended: {action}" if action else ""
        ended = "was cancelled" if final is JobState.CANCELLED else "failed"
        return Reaction(
            "explain",
            f"The {op or 'job'} {ended}{where}",
            f"The job stopped{where}.{said}{todo} Fix the cause first; then restart the same job, which re-runs it "
            "under the same name and keeps the history in one place, rather than sending a new operation.",
        )

    def _on_cancel_started(self, **_: Any) -> Reaction | None:
        self._choice("cancel", "Cancelled the planned failover")
        return None

    def _cancelled(self) -> Reaction:
        """The cancel job succeeded: the VM runs in Azure again, so the failback is to do again from its point."""
        self.cancelled += 1
        self.failed_job = ""
        in_lesson = "cancel" in self._status
        self._done("cancel")
        # What the cancel undid is undone in the procedure too: the point, the failover and its job, and the checks
        # of a VM in AVS that is no longer running there.
        for key in ("point", "failover", "watch", "verify"):
            if self._status.get(key) == "done":
                self._status[key] = "pending"
        self.verified = False
        self._ticks.clear()
        said = (
            "ASR rolled the AVS disks back, turned the Azure VM on again and resumes replication to AVS: the service "
            "runs where it ran before, and nothing is lost. "
        )
        if in_lesson:
            return Reaction(
                "praise",
                "Cancelled in time",
                said + "Once the cause is fixed, fail back again: choose the point afresh, for ASR makes it at the "
                "new trigger.",
            )
        return Reaction("explain", "Planned failover cancelled", said + "To fail back, run the planned failover again.")

    def _on_job_restarted(self, job: str = "", **_: Any) -> Reaction | None:
        if not self.failed_job:
            return None
        self._choice(self.current().key, "Restarted the failed job", job or self.failed_job)
        self.failed_job = ""
        return Reaction(
            "praise", "Restarted, not resent", "The same job runs again, with its failed attempt on record."
        )

    def _on_verify_ticked(
        self, check: str = "", all_done: bool = False, done: int = 0, total: int = 0, **_: Any
    ) -> Reaction | None:
        if check:
            self._ticks.add(check)
        all_done = all_done or (total > 0 and done >= total)
        if all_done and not self.verified:
            self.verified = True
            self._done("verify")
            self._choice("verify", "Verified in AVS", ", ".join(sorted(self._ticks)))
            return Reaction(
                "praise", "Verified", "Now you know the VM works in AVS before you throw the way back away."
            )
        return None

    def _commit_too_early(self) -> Reaction:
        if self.modernized:
            return self._mistake(
                "commit-before-verify",
                "commit",
                "explain",
                "Verify before you commit",
                "Until commit the planned failover can be cancelled, and ASR turns the Azure VM on again. Commit "
                "removes the VM in Azure and ends that chance: if the VM in AVS does not boot right or an "
                "application does not answer, you find out with no way back. That is why the checklist comes first.",
            )
        return self._mistake(
            "commit-before-verify",
            "commit",
            "explain",
            "Verify before you commit",
            "Commit deletes the failed-over Azure VM: after it, there is no way back to the copy that was running "
            "in Azure. Until then, if the VM in AVS does not boot right or an application does not answer, you can "
            "still investigate with the Azure VM intact. That is why the checklist comes first.",
        )

    def _on_commit_attempted(self, verified: bool | None = None, **_: Any) -> Reaction | None:
        if verified is None:
            verified = self.verified
        if not verified:
            return self._commit_too_early()
        return None

    def _on_commit_started(self, **_: Any) -> Reaction | None:
        self._choice("commit", "Committed the failover")
        if not self.verified and self._status["verify"] == "pending":
            self._status["verify"] = "not done"
            return self._commit_too_early()
        return None

    def _on_reprotect_started(self, since_failover_seconds: float | None = None, **_: Any) -> Reaction | None:
        self._done("commit")
        self._choice("reprotect", "Started the reprotect")
        window = self.scenario.agent_window_minutes * 60
        # ASR offers a modernized reprotect only once the agent has registered: nothing to explain when it is sent.
        if not self.modernized and since_failover_seconds is not None and since_failover_seconds < window:
            return self._agent_window(since_failover_seconds)
        return None

    def _agent_window(self, since: float | None) -> Reaction:
        # Explained, never counted against the trainee: reprotecting right after the commit is the procedure, and
        # the window is ASR's, ridden out by the tool's own retries.
        ago = f" The VM booted in AVS {duration(since)} ago." if since is not None else ""
        return Reaction(
            "explain",
            "The agent-registration window",
            "After a failback the VM boots in AVS and its Mobility agent needs up to "
            f"{self.scenario.agent_window_minutes:g} minutes to register back with the {self._agent_server()}.{ago} "
            "Until it has, reprotect fails with 'agent not installed or not registered'. Nothing is broken: "
            "wait, and the tool retries on its countdown. Reprotecting again and again by hand only adds "
            "failed jobs.",
        )

    def _agent_server(self) -> str:
        return "replication appliance" if self.modernized else "configuration server"

    def _on_reprotect_failed_agent(self, since_failover_seconds: float | None = None, **_: Any) -> Reaction | None:
        self.waiting_for_agent = True
        return self._agent_window(since_failover_seconds)

    def _on_reprotect_succeeded(self, **_: Any) -> Reaction | None:
        self.waiting_for_agent = False
        self.failed_job = ""
        self._done("commit", "reprotect")
        return Reaction(
            "praise", "Protected again", "The VM replicates from AVS to Azure: it has disaster recovery again."
        )

    def _on_report_exported(self, **_: Any) -> Reaction | None:
        self._choice("report", "Exported the report")
        self._done("report")
        if (
            self.scenario.ends_after == "preflight"
            and self.preflight_failures
            and "ignored-preflight-fail" not in {m.key for m in self.mistakes}
        ):
            return Reaction(
                "praise", "Stopped in time", "You read the FAIL and did not start a failover that could not end well."
            )
        return None

    # -- the debrief ------------------------------------------------------------------------------------

    def debrief(self) -> Debrief:
        ended = self._ended or self.clock.now()
        real_end = self._real_ended if self._real_ended is not None else self._real_time()
        steps = tuple(
            StepResult(s.key, s.title, {"pending": "not done"}.get(self._status[s.key], self._status[s.key]))
            for s in self.steps
        )
        return Debrief(
            scenario=self.scenario.name,
            title=self.scenario.title,
            goals=self.scenario.goals,
            completed=self.finished and not any(s.status == "not done" for s in steps),
            steps=steps,
            choices=tuple(self.choices),
            point=self.point,
            data_loss_seconds=self.loss_seconds,
            mistakes=tuple(self.mistakes),
            praise=tuple(dict.fromkeys(self._praise)),
            simulated_seconds=max(0.0, (ended - self.started).total_seconds()),
            real_seconds=max(0.0, real_end - self._real_started),
            started=self.started,
            ended=ended,
        )


def _what_breaks(failures: Sequence[str]) -> str:
    text = " ".join(failures).lower()
    parts = []
    if "recovery point" in text or "point" in text:
        parts.append(
            "With no recovery point the failover job fails at its prerequisite check: nothing moves, and the "
            "failed job is on record."
        )
    if "process server" in text:
        parts.append(
            "The process server in Azure carries the replication: with it down, the failover may start the VM "
            "in AVS but the reprotect afterwards has nothing to send data through, so the VM stays unprotected."
        )
    if "appliance" in text or "datastore" in text:
        parts.append(
            "The planned failover runs through the replication appliance in AVS and writes to its datastore: with "
            "the appliance stale or unhealthy the job stops at its prerequisite check, and with the datastore out "
            "of its reach the VM has nowhere to start."
        )
    if "group" in text:
        parts.append("A VM of a consistency group failed back alone comes back out of step with the rest of its group.")
    if not parts:
        parts.append("The failover runs into the same problem ASR's own checks will meet, halfway through.")
    return " ".join(parts) + " Stop, fix the cause or escalate, and write it down."


# -- rendering ------------------------------------------------------------------------------------------------


def _utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _cell(text: str) -> str:
    return markdown(" ".join(text.split()))


def debrief_json(debrief: Debrief) -> dict[str, Any]:
    data = asdict(debrief)
    for key in ("started", "ended"):
        data[key] = getattr(debrief, key).isoformat()
    for entry in data["choices"] + data["mistakes"]:
        entry["at"] = entry["at"].isoformat()
    data["steps_done"] = debrief.steps_done
    data["steps_expected"] = debrief.steps_expected
    return data


def render_debrief(debrief: Debrief, fmt: str = "md") -> str:
    """The debrief as Markdown (to export or show) or JSON."""
    if fmt == "json":
        return json_text(debrief_json(debrief), indent=2) + "\n"
    if fmt not in ("md", "markdown"):
        raise ValueError(f"unknown debrief format {fmt!r}: md or json")
    lines = [
        # The lesson file's words (title, goals) and the names in it are made inert Markdown: a title cannot
        # open a heading, a goal cannot hold raw HTML.
        f"# Training debrief: {markdown(debrief.title)}",
        "",
        f"SIMULATION — scenario {markdown_code(debrief.scenario)}; no Azure resource was touched.",
        "",
        f"- Result: {'completed' if debrief.completed else 'not completed'}, "
        f"{debrief.steps_done} of {debrief.steps_expected} steps done",
        f"- Simulated time: {duration(debrief.simulated_seconds)} ({_utc(debrief.started)} → {_utc(debrief.ended)})",
        f"- Real time: {duration(debrief.real_seconds)}",
        f"- Mistakes caught: {len(debrief.mistakes)}",
        "",
        "## Data loss accepted",
        "",
    ]
    if debrief.point is None:
        lines.append("No recovery point was chosen in this session.")
    elif debrief.data_loss_seconds is None:
        lines.append(
            f"{markdown(debrief.point)}: the loss was not known beforehand: ASR makes the point when the planned "
            "failover starts, so no figure was counted (and none is taken as zero)."
        )
    else:
        lines.append(
            f"{markdown(debrief.point)}: about {duration(debrief.data_loss_seconds)} of writes given up "
            f"({debrief.data_loss_seconds:.0f} s)."
        )
    titles = (
        {s.key: s.title for s in STEPS} | {CANCEL_STEP.key: CANCEL_STEP.title} | {s.key: s.title for s in debrief.steps}
    )
    lines += ["", "## Choices", ""]
    if debrief.choices:
        lines += ["| Simulated time | Step | Choice | Detail |", "|---|---|---|---|"]
        lines += [
            f"| {c.at.strftime('%H:%M:%S')} | {titles.get(c.step, c.step)} | {_cell(c.what)} | {_cell(c.detail)} |"
            for c in debrief.choices
        ]
    else:
        lines.append("None recorded.")
    lines += ["", "## Mistakes caught", ""]
    if debrief.mistakes:
        for n, m in enumerate(debrief.mistakes, 1):
            step = titles.get(m.step, m.step)
            when = m.at.strftime("%H:%M:%S")
            lines.append(f"{n}. **{markdown(m.title)}** ({markdown(step)}, {when}): {markdown(m.text)}")
    else:
        lines.append("None: every step was taken in order and every choice matched the lesson.")
    lines += ["", "## Steps", "", "| Step | Status |", "|---|---|"]
    lines += [f"| {_cell(s.title)} | {_cell(s.status)} |" for s in debrief.steps]
    if debrief.praise:
        lines += ["", "## Done well", ""] + [f"- {markdown(p)}" for p in debrief.praise]
    lines += ["", "## Learning goals", ""] + [f"- {markdown(g)}" for g in debrief.goals]
    return "\n".join(lines) + "\n"


__all__ = [
    "ACTIONS",
    "CANCEL_STEP",
    "SPEEDS",
    "STEPS",
    "STEP_KEYS",
    "Choice",
    "Debrief",
    "Mistake",
    "Reaction",
    "Step",
    "StepResult",
    "TrainingScenario",
    "Walkthrough",
    "check_file",
    "debrief_json",
    "describe_speed",
    "lesson_steps",
    "list_training",
    "load_training",
    "next_speed",
    "render_debrief",
]
