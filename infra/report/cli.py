"""`launchready report`: the handover report (a `launchready.commands` entry point)."""
from __future__ import annotations

import argparse
import sys

from .formats import FORMATS

DESCRIPTION = """\
One handover report of a stack from what plan, gate and verify found: what is declared, what was
verified (with evidence), what is broken and how to fix it, what to watch (warnings, certificates
nearing expiry, DMARC still at p=none), the checks no automation can make, and, with --since, what
changed since an earlier report.

With --results DIR it reads the JSON results the commands wrote there (plan.json, gate.json,
verify.json: `launchready gate --stack S --format json --output DIR/gate.json`; any *.json of the
findings schema is read, and a file that is not is an error). Without it, it runs plan and gate now
(offline), and verify too with --verify.

Exit code: the worst of the included results: 1 if any failed, else 2 if any could not check (or a
results file, the stack or an option is bad), else 0."""


def register(cli) -> None:
    p = cli.add_command("report", help="the handover report: declared, verified, broken, to watch, manual checks, changes",
                        description=DESCRIPTION, formats=FORMATS, default_format="md", handler=run)
    p.add_argument("--results", metavar="DIR", help="read plan/gate/verify JSON results from DIR instead of running them")
    p.add_argument("--since", metavar="EARLIER.json",
                   help="an earlier `launchready report --format json`: say what changed since (new failures, fixed "
                        "items, certificate days left)")
    p.add_argument("--outputs", metavar="FILE",
                   help="JSON of `pulumi stack output --json`: the nameServers and dnssecDs to hand the registrar "
                        "(passed to verify with --verify)")
    p.add_argument("--verify", action="store_true", help="without --results: run verify too (needs the network, or pins)")
    p.add_argument("--nameserver", action="append", default=[], metavar="IP[:PORT]", help="with --verify: passed to verify")
    p.add_argument("--connect-to", action="append", default=[], metavar="HOST:PORT:ADDR:PORT",
                   help="with --verify: passed to verify")
    p.add_argument("--ca-file", metavar="PEM", help="with --verify: passed to verify")


def _fail(msg: str) -> int:
    print(f"launchready report: {msg}", file=sys.stderr)
    return 2


def _verify_args(args: argparse.Namespace) -> list[str]:
    out = [x for n in args.nameserver for x in ("--nameserver", n)]
    out += [x for c in args.connect_to for x in ("--connect-to", c)]
    out += ["--ca-file", args.ca_file] if args.ca_file else []
    return out + (["--outputs", args.outputs] if args.outputs else [])


def run(args: argparse.Namespace) -> int:
    from infra.findings.load import ResultsError
    from infra.spec import SpecError, parse_spec, read_stack_file, stack_name, stack_path

    from .build import build_report, read_earlier, read_outputs

    if args.results and (args.verify or args.nameserver or args.connect_to or args.ca_file):
        return _fail("--verify and its pins run verify now; with --results, verify's results come from DIR")
    path = stack_path(args.stack, args.stacks_dir)
    try:
        spec = parse_spec(read_stack_file(path))
    except SpecError as exc:
        print(exc, file=sys.stderr)
        return 2
    name = stack_name(args.stack)
    try:
        outputs = read_outputs(args.outputs)
        earlier = read_earlier(args.since) if args.since else None
        if args.results:
            from .collect import from_dir

            parts = from_dir(args.results, name)
        else:
            from .collect import run_commands

            commands = ["plan", "gate"] + (["verify"] if args.verify else [])
            parts = run_commands(commands, args.stack, args.stacks_dir, {"verify": _verify_args(args)})
    except ResultsError as exc:
        return _fail(str(exc))
    report = build_report(spec, name, str(path), parts, outputs, earlier, args.since)
    return write(report, args.format, args.output)


def write(report, fmt: str, output: str | None) -> int:
    from .formats import render
    from .view import VERDICTS

    text = render(report, fmt)
    if not output:
        sys.stdout.write(text)
        return report.exit_code
    try:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        return _fail(f"cannot write {output}: {exc.strerror}")
    counts = "  ".join(f"{k} {v}" for k, v in report.counts().items())
    print(f"launchready report: {output}: {counts}; exit {report.exit_code}: {VERDICTS[report.exit_code][1]}",
          file=sys.stderr)
    return report.exit_code


def main(argv=None) -> int:
    """Standalone form (`python -m infra.report.cli ...`), the same options as `launchready report`."""
    from infra.commands import CommandLine

    parser = argparse.ArgumentParser(prog="launchready")
    register(CommandLine(parser.add_subparsers(dest="command", required=True)))
    args = parser.parse_args(["report", *(argv if argv is not None else sys.argv[1:])])
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
