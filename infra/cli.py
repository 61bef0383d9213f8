"""`launchready`: plan (here), gate (policies/) and verify (verify/) on one command line."""
from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from typing import Optional, Sequence

# Each room contributes its subcommands through register(subparsers).
SUBCOMMAND_MODULES = ("policies.cli", "verify.cli")


def _plan(args: argparse.Namespace) -> int:
    from rich.console import Console

    from infra.mockrun import run_program
    from infra.placeholders import placeholder_notes
    from infra.planview import render_console, render_json
    from infra.spec import SpecError, read_stack_file, stack_name, stack_path

    try:
        source = read_stack_file(stack_path(args.stack, args.stacks_dir))
        run = run_program(source, stack=stack_name(args.stack))
    except SpecError as exc:
        print(exc, file=sys.stderr)
        return 2
    notes = placeholder_notes(run)
    try:
        if args.json:
            print(render_json(run, notes))
        else:
            render_console(run, Console(), notes)
    except BrokenPipeError:  # `launchready plan ... | head`: the reader left, nothing is wrong
        sys.stderr.close()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="launchready", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    plan = sub.add_parser("plan", help="show what the launch program would create (mock runtime, no credentials)")
    plan.add_argument("--stack", required=True, help="stack name (stacks/Pulumi.NAME.yaml) or a path to a stack file")
    plan.add_argument("--stacks-dir", default="stacks", help="directory of stack files (default: stacks)")
    plan.add_argument("--json", action="store_true", help="machine-readable plan")
    plan.set_defaults(func=_plan)
    for name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if not (exc.name and (name == exc.name or name.startswith(exc.name + "."))):
                raise  # a missing dependency inside the room, not a missing room
            continue
        module.register(sub)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
