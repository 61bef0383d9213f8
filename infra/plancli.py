"""`launchready plan`: what the launch program would create, run under Pulumi's mock runtime."""
from __future__ import annotations

import argparse
import sys


def register(cli) -> None:
    p = cli.add_command("plan", help="show what the launch program would create (mock runtime, no credentials)",
                        formats=("console", "json"), handler=run)
    p.add_argument("--json", action="store_const", const="json", dest="format",
                   help="the same as --format json")
    p.add_argument("--expand", action="append", default=[], metavar="GROUP",
                   help="list every record of a tenant group (repeat, or 'all'); by default a group is one line")


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from infra.mockrun import run_program
    from infra.placeholders import placeholder_advisories, secret_advisories
    from infra.planview import render_console, render_json
    from infra.spec import SpecError, parse_spec, read_stack_file, stack_name, stack_path

    try:
        # The stack file is read and the spec built once, here; the program is given that spec.
        source = read_stack_file(stack_path(args.stack, args.stacks_dir))
        spec = parse_spec(source)
        unknown = [g for g in args.expand if g != "all" and spec.group(g) is None]
        if unknown:
            known = ", ".join(g.name for g in spec.tenant_groups) or "none in this stack"
            print(f"launchready plan: --expand {unknown[0]!r} is not a tenant group (known: {known}; or 'all')",
                  file=sys.stderr)
            return 2
        planned = run_program(source, stack=stack_name(args.stack), spec=spec)
    except SpecError as exc:
        print(exc, file=sys.stderr)
        return 2
    # Plan advisories are findings of the one model: secret keys not set yet (the program ran with a
    # placeholder for them), values that look copied from the example.
    advisories = secret_advisories(source, spec, stack_name(args.stack)) + placeholder_advisories(planned, source.file)
    try:
        out = open(args.output, "w", encoding="utf-8") if args.output else None  # noqa: SIM115 - closed below
    except OSError as exc:
        print(f"launchready plan: cannot write {args.output}: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        if args.format == "json":
            print(render_json(planned, advisories), file=out or sys.stdout)
        else:
            render_console(planned, Console(file=out, width=120) if out else Console(), advisories, args.expand)
    finally:
        if out:
            out.close()
    return 0
