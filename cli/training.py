"""Training and the emulator: `train` and `emulator serve`."""

from __future__ import annotations

import errno

from cli.context import Context
from cli.options import Commands, Formatter
from core import numbers
from core.errors import UsageError
from core.sanitize import one_line


def cmd_train(ctx: Context) -> int:
    """`train --list` and `train --check FILE`; `train` alone opens the training dashboard (tui.main)."""
    from core.training import check_file, list_training, load_training

    args, io = ctx.args, ctx.io
    if getattr(args, "check", None):
        problems = check_file(args.check)
        if io.json:
            io.emit_json({"file": str(args.check), "valid": not problems, "problems": problems})
        elif problems:
            for problem in problems:
                io.err(problem)
        else:
            io.out(f"{args.check}: a valid training scenario ({load_training(args.check).title})")
        return UsageError.exit_code if problems else 0
    if not getattr(args, "list", False):
        raise UsageError(
            "Usage: avs-failback train [--list [--json] | --check FILE]",
            hint="Without options, `avs-failback train` opens the training dashboard on a terminal.",
        )
    lessons = list_training()
    if io.json:
        io.emit_json(
            [
                {
                    "name": t.name,
                    "title": t.title,
                    "brief": t.brief,
                    "goals": list(t.goals),
                    "focus": list(t.focus_items),
                    "plan": t.plan,
                    "expected_point": t.expected_point,
                    "ends_after": t.ends_after,
                    "level": t.level,
                    "minutes": t.minutes or None,
                    "provider": t.provider,
                    "cancel_once": t.cancel_once,
                }
                for t in lessons
            ]
        )
        return 0
    for t in lessons:
        io.out(f"{t.name}  {t.title} ({t.length})")
        io.out(f"    {t.brief}")
        for goal in t.goals:
            io.out(f"    - {goal}")
        io.out()
    io.out("Start one: avs-failback train (a picker), or avs-failback train --scenario NAME")
    return 0


def cmd_emulator(ctx: Context) -> int:
    args = ctx.args
    if getattr(args, "emulator_command", None) != "serve":
        raise UsageError("Usage: avs-failback emulator serve [--scenario S] [--port N] [--speed X]")
    import core.emulator as emulator

    scenario = getattr(args, "scenario", None) or "demo"
    extra = {"fleet": args.fleet} if getattr(args, "fleet", None) else {}
    try:
        emulator.serve(scenario, port=args.port, speed=getattr(args, "speed", None) or 30.0, **extra)
    except emulator.ScenarioError as exc:
        raise UsageError(
            f"Cannot serve the scenario: {one_line(exc, 400)}",
            hint="`avs-failback train --check FILE` lists what is wrong with a file; bundled: "
            + ", ".join(s.name for s in emulator.list_scenarios()),
        ) from None
    except OSError as exc:
        if exc.errno not in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            raise
        raise UsageError(
            f"Cannot listen on 127.0.0.1:{args.port}: {exc.strerror or exc}.",
            hint="Pick another port with --port N (1024 or above needs no privileges).",
        ) from None
    return 0


def register(commands: Commands) -> None:
    commands.listed("demo", "Training, emulator and shell", "the dashboard on a simulated vault (nothing in Azure)")
    p = commands.add(
        "train",
        "Training, emulator and shell",
        "training lessons: --list, --check FILE (alone: the dashboard)",
        examples=(
            ("the bundled lessons", "avs-failback train --list"),
            ("check a lesson file before class", "avs-failback train --check lesson.json"),
        ),
    )
    p.add_argument("--list", action="store_true", help="the bundled lessons with their brief and goals")
    p.add_argument("--check", metavar="FILE", help="validate a training scenario file (exit 2 with what is wrong)")
    p.set_defaults(run=cmd_train)

    commands.listed("serve", "Training, emulator and shell", "the dashboard in a browser, on loopback")
    p = commands.add(
        "emulator",
        "Training, emulator and shell",
        "the ARM emulator: a simulated vault behind Azure's REST API",
        examples=(
            ("serve the demo vault over HTTPS", "avs-failback emulator serve --scenario demo --port 8443"),
            ("serve an emulated fleet with Resource Graph", "avs-failback emulator serve --fleet demo"),
        ),
        parents=[],
    )
    emu = p.add_subparsers(dest="emulator_command", metavar="serve")
    serve = emu.add_parser("serve", help="serve the emulator over HTTPS on loopback", formatter_class=Formatter)
    serve.add_argument("--scenario", default="demo", metavar="NAME", help="scenario name or file (default demo)")
    serve.add_argument("--port", type=numbers.port, default=8443, metavar="N", help="port on 127.0.0.1 (default 8443)")
    serve.add_argument(
        "--speed", type=numbers.speed, default=30.0, metavar="X", help="simulated seconds per second (default 30)"
    )
    serve.add_argument("--fleet", metavar="NAME", help="serve a fleet of vaults (with Resource Graph) instead")
    p.set_defaults(run=cmd_emulator)
