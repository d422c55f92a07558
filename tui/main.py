"""The console script: the dashboard (no subcommand, or `demo`); every other subcommand goes to the CLI."""

from __future__ import annotations

import argparse
import gc
import sys
import threading
from dataclasses import replace

from core import numbers

TUI_COMMANDS = (None, "demo", "tui", "train", "fleet")


def _parser() -> argparse.ArgumentParser:
    from cli.options import Formatter, add_notify_options, add_vault_options, examples_text

    parser = argparse.ArgumentParser(
        prog="avs-failback",
        usage="avs-failback [demo] [OPTIONS]",
        description="The dashboard. Without a command: on the configured vault (a profile, or the options "
        "below). `demo`: on a simulated vault, nothing in Azure is touched. `train`: the training lessons. "
        "`avs-failback --help` lists every command of the command line.",
        epilog=examples_text(
            ("the demo vault at 30 simulated seconds per second", "avs-failback demo"),
            ("a real vault, signing in with a device code over SSH", "avs-failback --vault-id ARM_ID --device-code"),
            ("the emulated fleet of vaults", "avs-failback demo --fleet"),
        ),
        formatter_class=Formatter,
    )
    parser.add_argument("command", nargs="?", help="demo (a simulated vault), tui, train or fleet")
    add_vault_options(
        parser.add_argument_group("vault and sign-in"),
        subscription={"help": "subscription of the vault (or, with fleet, one to read)"},
    )
    demo = parser.add_argument_group("the simulated vault")
    demo.add_argument("--demo", action="store_true", help="the dashboard on the in-process emulator")
    demo.add_argument("--scenario", metavar="NAME", help="emulator scenario for demo (default: demo)")
    demo.add_argument(
        "--speed", type=numbers.speed, metavar="X", help="demo clock: simulated seconds per real second (default 30)"
    )
    demo.add_argument(
        "--fleet",
        nargs="?",
        const="demo",
        metavar="NAME",
        help="start on the fleet (every vault, from Resource Graph); with demo: the emulated fleet NAME",
    )
    screen = parser.add_argument_group("screen and being told")
    screen.add_argument("--ascii", action="store_true", help="ASCII glyphs only (consoles without Unicode fonts)")
    add_notify_options(screen)
    return parser


def _wants_tui(argv: list[str]) -> bool:
    if any(a in ("-h", "--help") for a in argv):
        # The dashboard's own help for `demo --help` and `tui --help`; the program's (every command) otherwise.
        positional = [a for a in argv if not a.startswith("-")]
        return bool(positional) and positional[0] in ("demo", "tui")
    try:
        args, extra = _parser().parse_known_args(argv)
    except SystemExit:
        return False
    return args.command in TUI_COMMANDS and not extra


def _every(option: str, argv: list[str]) -> tuple[str, ...]:
    """Every value given to a repeatable option (`--subscription A --subscription B`, or `--subscription=A`)."""
    found = []
    for n, arg in enumerate(argv):
        if arg == option and n + 1 < len(argv):
            found.append(argv[n + 1])
        elif arg.startswith(option + "="):
            found.append(arg.split("=", 1)[1])
    return tuple(part.strip() for value in found for part in value.split(",") if part.strip())


def tune_collector() -> None:
    """Keep the garbage collector's full passes off a big vault.

    Ten thousand items are hundreds of thousands of long-lived objects; a full pass over them froze the screen
    for 100-200 ms at a time while they loaded. What is alive once the UI is imported is frozen out of the
    passes, and full passes come after a thousand young ones instead of ten. Reference counting still frees
    everything that has no cycles the moment it is dropped.
    """
    gc.freeze()
    gc.set_threshold(700, 10, 1000)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "serve":
        from tui.serve import main as serve_main

        return serve_main(argv[1:])
    if argv and argv[0] == "train" and _wants_tui(argv) and not any(a in ("-h", "--help") for a in argv):
        return _train(_parser().parse_args(argv))
    if not _wants_tui(argv):
        from cli.main import main as cli_main

        return cli_main(argv)

    args = _parser().parse_args(argv)
    from core.config import Settings, resolve_settings
    from core.errors import FailbackError

    fleet = args.command == "fleet" or args.fleet is not None
    try:
        if args.command == "demo":
            settings = Settings(
                demo=True,
                scenario=args.scenario or "demo",
                speed=args.speed if args.speed is not None else 30.0,
                read_only=args.read_only,
                rehearse=bool(getattr(args, "rehearse", False)),
                fleet=(args.fleet or "demo") if fleet else "",
            )
        elif fleet:
            # The fleet's --subscription names a subscription to read, not a vault's (repeatable).
            subscriptions = _every("--subscription", argv)
            args.subscription = None
            settings = replace(resolve_settings(args), subscriptions=subscriptions, fleet="")
        else:
            settings = resolve_settings(args)
    except FailbackError as exc:
        from core.sanitize import message

        print(f"avs-failback: {message(exc.message)}", file=sys.stderr)
        if exc.hint:
            print(f"  {exc.hint}", file=sys.stderr)
        return exc.exit_code

    from core.first_page import FirstPageReader

    # Forked before Textual is imported: the first rows are read on the other core. Only while this is the one
    # thread (a fork copies no other, nor releases the locks they hold); so it is here, at start-up.
    early = threading.active_count() == 1 and not fleet
    reader = FirstPageReader.start(settings) if early else None
    try:
        from tui.app import FailbackApp

        tune_collector()
        app = FailbackApp(
            settings, ascii_glyphs=True if args.ascii else None, first_page=reader, fleet=True if fleet else None
        )
        app.run()
    finally:
        if reader is not None:
            reader.close()
    _say_exit(app)
    return int(app.return_code or 0)


def _say_exit(app: object) -> None:
    """What still runs, said once the terminal is back (the dashboard's own screen is gone by then)."""
    note = str(getattr(app, "exit_note", "") or "")
    if note:
        print(note, flush=True)


def _train(args: argparse.Namespace) -> int:
    """`avs-failback train`: the lesson picker, or `--scenario NAME|FILE` straight into one lesson."""
    from core.emulator.scenario import ScenarioError
    from core.training import load_training
    from tui.screens.training_app import TrainingApp

    lesson = None
    if args.scenario:
        try:
            lesson = load_training(args.scenario)
        except (ScenarioError, OSError) as exc:
            from core.sanitize import message

            print(f"avs-failback train: {message(exc)}", file=sys.stderr)
            return 2
    speed = args.speed if args.speed is not None else 1.0
    app = TrainingApp(lesson, speed=speed, ascii_glyphs=True if args.ascii else None)
    app.run()
    _say_exit(app)
    return int(app.return_code or 0)


if __name__ == "__main__":
    sys.exit(main())
