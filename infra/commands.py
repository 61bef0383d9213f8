"""How a room declares its command: the options every command shares (`--stack`, `--stacks-dir`,
`--format`, `--output`) are defined here once. `infra/cli.py` hands each room's `register(cli)` a
CommandLine; rooms import this module, never the command line above them."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence


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
