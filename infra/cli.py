"""`launchready`: one command line over the three rooms (plan: infra, gate: policies, verify: verify).

The rooms' commands are found through the `launchready.commands` entry points that pyproject.toml
declares (name = "module:register"), so this module, in the ground floor, imports no room above it.
What every command shares is defined once, below the rooms: the shared options in infra/commands.py,
how a findings report reaches the terminal or a file in infra/findings/output.py.
"""
from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from importlib.metadata import entry_points

from infra.commands import CommandLine, internal_error

ENTRY_POINT_GROUP = "launchready.commands"


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


def main(argv: Sequence[str] | None = None) -> int:
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
