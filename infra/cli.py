"""`launchready`: one command line over the three rooms (plan: infra, gate: policies, verify: verify).

The rooms' commands are found through the `launchready.commands` entry points that pyproject.toml
declares (name = "module:register"), so this module, in the ground floor, imports no room above it.
What every command shares is defined here once: `--stack`, `--stacks-dir`, `--format`, `--output`,
and how a findings report reaches the terminal or a file.
"""
from __future__ import annotations

import argparse
import sys
import warnings
from importlib.metadata import entry_points
from typing import Callable, Optional, Sequence

ENTRY_POINT_GROUP = "launchready.commands"


class CommandLine:
    """What a room's `register(cli)` gets: the subparsers, and the shared options to put on its command."""

    def __init__(self, subparsers):
        self.subparsers = subparsers

    def add_command(self, name: str, *, help: str, description: str | None = None, formats: Sequence[str] = (),
                    default_format: str | None = None, stack_required: bool = True,
                    handler: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
        p = self.subparsers.add_parser(name, help=help, description=description or help,
                                       formatter_class=argparse.RawDescriptionHelpFormatter)
        p.add_argument("--stack", required=stack_required, metavar="NAME|FILE",
                       help="stack name (stacks/Pulumi.NAME.yaml) or a path to a stack file")
        p.add_argument("--stacks-dir", default="stacks", help="directory of stack files (default: stacks)")
        if formats:
            p.add_argument("--format", choices=tuple(formats), default=default_format or formats[0],
                           help=f"output format (default: {default_format or formats[0]})")
            p.add_argument("--output", "-o", metavar="FILE",
                           help="write the report to this file instead of standard output")
        p.set_defaults(func=handler)
        return p


def emit(report, fmt: str, output: Optional[str], command: str) -> int:
    """Render a findings report in `fmt` to `output` (or stdout) and return its exit code.

    With --output, a short text summary still goes to stderr so a CI log says what happened.
    Input errors in the text/console formats go to stderr.
    """
    from infra.findings.render import RENDERERS

    if fmt == "console" and not output:
        from rich.console import Console

        from infra.findings.render.console import render_console

        render_console(report, Console(stderr=bool(report.errors)))
        return report.exit_code
    text = RENDERERS["text" if fmt == "console" else fmt](report)
    if output:
        try:
            with open(output, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            print(f"launchready {command}: cannot write {output}: {exc.strerror}", file=sys.stderr)
            return 2
        if fmt not in ("text", "console"):
            print(RENDERERS["text"](report), end="", file=sys.stderr)
    elif report.errors and fmt in ("text", "console"):
        print(text, end="", file=sys.stderr)
    else:
        print(text, end="")
    return report.exit_code


def internal_error(command: str, exc: BaseException, debug: bool = False) -> int:
    """The one place an unexpected exception becomes a message: its type, where, and --debug."""
    import traceback

    if debug:
        traceback.print_exception(exc)
    tb = traceback.extract_tb(exc.__traceback__)
    where = f" in {tb[-1].filename.rsplit('/', 1)[-1]}:{tb[-1].lineno}" if tb else ""
    hint = "" if debug else " (run with --debug for the traceback)"
    print(f"launchready {command}: internal error: {type(exc).__name__}{where}{hint}", file=sys.stderr)
    return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="launchready", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--debug", action="store_true", help="print the traceback of an internal error")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    cli = CommandLine(sub)
    commands = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ORDER.get(ep.name, 99))
    for ep in commands:
        ep.load()(cli)
    if not commands:
        parser.epilog = ("no commands are installed: install the project (python3 -m pip install -e .) so its "
                         f"{ENTRY_POINT_GROUP} entry points exist")
    return parser


# The order commands are listed in `launchready --help`: the order of a launch.
ORDER = {"plan": 0, "gate": 1, "verify": 2, "report": 3}


def main(argv: Optional[Sequence[str]] = None) -> int:
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `launchready plan ... | head`: the reader left, nothing is wrong
        sys.stderr.close()
        return 0
    except Exception as exc:  # noqa: BLE001 - never a traceback unless asked for
        return internal_error(args.command, exc, args.debug)


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
