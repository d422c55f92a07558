"""`:` command mode's targets (`:jobs`, `:plans`, `:vm NAME`…): a small registry another screen adds its own to.

A target is a name, a line of help, and what it does with the rest of the line. `register()` adds one (a screen's
module calls it where the app imports it at start, importing the screen itself lazily inside `run`); the command
line, its completion and F1 read the registry, so a new target needs nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Jump:
    name: str
    help: str
    # (app, the rest of the line) → "" when done, else what went wrong, said under the command line.
    run: Callable[[Any, str], str]
    argument: str = ""  # how the help names its argument ("NAME"), "" when it takes none
    aliases: tuple[str, ...] = ()
    # The arguments it offers for completion ("vm sql-01"), read when the command line opens.
    complete: Callable[[Any], Iterable[str]] | None = None

    @property
    def usage(self) -> str:
        return f":{self.name} {self.argument}".rstrip()


_JUMPS: dict[str, Jump] = {}


def register(jump: Jump) -> Jump:
    """Add (or replace, by name) a target."""
    _JUMPS[jump.name] = jump
    return jump


def jumps() -> list[Jump]:
    return list(_JUMPS.values())


def find(word: str) -> Jump | None:
    word = word.strip().lower()
    for jump in _JUMPS.values():
        if word == jump.name or word in jump.aliases:
            return jump
    return None


def parse(line: str) -> tuple[str, str]:
    """ ": vm  sql-01 " → ("vm", "sql-01")."""
    text = line.strip().removeprefix(":").strip()
    word, _, rest = text.partition(" ")
    return word.lower(), rest.strip()


def run_line(app: Any, line: str) -> str:
    """Run a command line; "" when it ran, else what went wrong (nothing was done)."""
    word, argument = parse(line)
    if not word:
        return ""
    jump = find(word)
    if jump is None:
        return f"No target :{word}. Targets: " + ", ".join(j.usage for j in _JUMPS.values())
    if argument and not jump.argument:
        return f":{jump.name} takes no argument ({jump.help.lower()})."
    return jump.run(app, argument)


def completions(app: Any) -> list[str]:
    """Every target by name, then each one's arguments: what the command line suggests as it is typed."""
    out = [j.name for j in _JUMPS.values()]
    for jump in _JUMPS.values():
        if jump.complete is not None:
            out.extend(f"{jump.name} {arg}" for arg in jump.complete(app))
    return out


# -- the dashboard's own targets -----------------------------------------------------------------------------


def _dashboard(app: Any) -> Any:
    from tui.screens.dashboard import DashboardScreen

    return next((s for s in getattr(app, "screen_stack", ()) if isinstance(s, DashboardScreen)), None)


def _vm_names(app: Any) -> list[str]:
    dashboard = _dashboard(app)
    if dashboard is None or not dashboard.is_mounted:
        return []
    return sorted((i.friendly_name or i.name for i in dashboard.items_table.items.values()), key=str.lower)


def _plan_names(app: Any) -> list[str]:
    dashboard = _dashboard(app)
    if dashboard is None or not dashboard.is_mounted:
        return []
    return sorted({p for i in dashboard.items_table.items.values() for p in i.recovery_plans}, key=str.lower)


def _go_vm(app: Any, name: str) -> str:
    if not name:
        return "Name the VM: :vm NAME (→ completes a name as you type)."
    dashboard = _dashboard(app)
    if dashboard is None or not dashboard.is_mounted:
        return "The dashboard is not open."
    blocked = app.leave_to(dashboard)
    if blocked:
        return blocked
    return dashboard.select_named(name)


def _go_plans(app: Any, name: str) -> str:
    app.action_plans(select=name)
    return ""


def _go_dashboard(app: Any, _: str) -> str:
    dashboard = _dashboard(app)
    return app.leave_to(dashboard) if dashboard is not None else "The dashboard is not open."


def _go_fleet(app: Any, _: str) -> str:
    """Back to the fleet's view; the vault opened from it is kept, and what it started is followed again on return."""
    if getattr(app, "fleet", None) is None:
        return "No fleet in this session: `avs-failback fleet` (or `avs-failback demo --fleet`) opens one."
    from tui.screens.fleet import FleetScreen

    stack = list(app.screen_stack)
    fleet = next((screen for screen in stack if isinstance(screen, FleetScreen)), None)
    if fleet is None:
        return "The fleet is not open."
    for screen in stack[stack.index(fleet) + 1 :]:
        why = getattr(screen, "why_stay", lambda: "")()
        if why:
            return str(why)
    if app.backend is not None:
        app.close_vault()
    return ""


def _simple(action: str) -> Callable[[Any, str], str]:
    def run(app: Any, _: str) -> str:
        getattr(app, f"action_{action}")()
        return ""

    return run


register(Jump("vm", "Select a VM on the dashboard", _go_vm, argument="NAME", aliases=("item",), complete=_vm_names))
register(
    Jump(
        "plans",
        "Recovery plans (NAME: that plan)",
        _go_plans,
        argument="[NAME]",
        aliases=("plan",),
        complete=_plan_names,
    )
)
register(Jump("jobs", "Job history", _simple("jobs"), aliases=("job",)))
register(Jump("preflight", "Preflight of the selected item or plan, and the vault", _simple("preflight")))
register(Jump("commands", "Show the command of each action taken", _simple("show_commands")))
register(Jump("dashboard", "Back to the dashboard", _go_dashboard, aliases=("home", "items", "vms")))
register(Jump("fleet", "Back to the fleet of vaults (when the session has one)", _go_fleet, aliases=("vaults",)))
register(Jump("help", "Every key of every screen", _simple("help")))
register(Jump("quit", "Leave (asks first while work runs)", _simple("quit"), aliases=("q",)))
