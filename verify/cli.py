"""`launchready verify`: audit the live zone, mail authentication, TLS, HTTP and main-flow latency
against the stack spec.

Exit codes: 0 every check passed (WARN/SKIPPED allowed), 1 a check failed, 2 something could not be
checked and nothing failed, nothing was checked at all (no check selected, or every one SKIPPED), or
the input was bad (unknown stack, bad --nameserver, unreadable, malformed or masked outputs).
"""
from __future__ import annotations

import argparse
import math
import ssl
import sys
from collections.abc import Sequence

FORMATS = ("console", "text", "json", "sarif", "junit", "md")


def register(cli) -> argparse.ArgumentParser:
    p = cli.add_command("verify", help="check the live DNS, mail, TLS, HTTP and latency against the stack spec",
                        description=__doc__, formats=FORMATS, stack_required=False, handler=handle)
    p.add_argument("--outputs", metavar="FILE", help="JSON of `pulumi stack output --json` (SES DKIM tokens, nameServers)")
    p.add_argument("--nameserver", action="append", default=[], metavar="IP[:PORT]",
                   help="query this server instead of the system resolver (repeatable); for pre-cutover checks")
    p.add_argument("--connect-to", action="append", default=[], metavar="HOST:PORT:ADDR:PORT",
                   help="curl-style pin for every TLS and HTTP connection (repeatable): audit a staging edge or a new "
                        "origin before DNS moves; an empty HOST matches any host (`:443:ADDR:PORT`, as in curl)")
    p.add_argument("--ca-file", metavar="PEM", help="trust only these CAs for TLS and HTTPS (instead of the system store)")
    p.add_argument("--samples", type=int, default=20, metavar="N", help="latency samples per main flow (default 20)")
    p.add_argument("--concurrency", type=int, default=4, metavar="N",
                   help="latency requests in flight at once per flow (default 4)")
    p.add_argument("--tenant-concurrency", type=int, default=16, metavar="N",
                   help="tenant hosts checked at once in each tenant group's sweep (default 16)")
    p.add_argument("--active", action="store_true",
                   help="also run state-changing and throttle probes of the portal (CSRF, login throttle); refused on a "
                        "production stack unless portal.allowActiveInProduction")
    p.add_argument("--browser", nargs="?", const="auto", metavar="PATH",
                   help="measure Largest Contentful Paint in Chromium (the system's, or PATH); without it lcp is SKIPPED")
    p.add_argument("--fire-drill", action="store_true",
                   help="set each declared CloudWatch alarm to ALARM, check the alert topic delivers, set it back to "
                        "OK (pages the alert subscribers); without it alarm-fire-drill is SKIPPED")
    p.add_argument("--only", action="append", default=[], metavar="ID|GROUP", help="run only these checks (comma-separated, repeatable)")
    p.add_argument("--skip", action="append", default=[], metavar="ID|GROUP", help="skip these checks (comma-separated, repeatable)")
    p.add_argument("--timeout", type=float, default=3.0, help="seconds per DNS query / HTTPS fetch (default 3)")
    p.add_argument("--deadline", type=float, default=60.0, help="seconds for the whole run (default 60)")
    p.add_argument("--list", action="store_true", help="list check ids and groups, then exit")
    return p


def _split(values: Sequence[str]) -> list[str]:
    return [x.strip() for v in values for x in v.split(",") if x.strip()]


def _fail(msg: str) -> int:
    print(f"launchready verify: {msg}", file=sys.stderr)
    return 2


def handle(args: argparse.Namespace) -> int:
    from . import engine
    from .dnsclient import NameserverSpecError, parse_nameserver
    from .expectations import OutputsError, from_spec, read_outputs
    from .fetch import ConnectToError, parse_connect_to

    checks = engine.load_all()
    if args.list:
        for c in checks.values():
            print(f"{c.id:24} {c.group:6} {c.title}")
        return 0
    if not args.stack:
        return _fail("--stack NAME is required")
    # NaN passes any comparison ("nan <= 0" is False) and would disable every probe timeout
    if not all(math.isfinite(v) and v > 0 for v in (args.timeout, args.deadline)):
        return _fail("--timeout and --deadline must be finite positive numbers of seconds")
    if not (1 <= args.samples <= 1000 and 1 <= args.concurrency <= 64 and 1 <= args.tenant_concurrency <= 256):
        return _fail("--samples must be 1..1000, --concurrency 1..64 and --tenant-concurrency 1..256")
    browser = None
    if args.browser:
        from .probes.browserprobes import find_browser

        browser = find_browser(args.browser)
        if browser is None:
            return _fail(f"--browser: no Chromium found ({args.browser if args.browser != 'auto' else 'chromium not on PATH'})")
    try:
        nameservers = [parse_nameserver(n) for n in args.nameserver]
        connect_to = dict(parse_connect_to(c) for c in args.connect_to)
        only, skip = _split(args.only), _split(args.skip)
        engine.select(checks, only, skip)
        outputs = read_outputs(args.outputs)
    except (NameserverSpecError, ConnectToError, OutputsError, engine.SelectionError) as e:
        return _fail(str(e))
    ssl_context = None
    if args.ca_file:
        # Loaded once, here: a file that is not a PEM bundle is bad input, not an ERROR per fetch.
        try:
            ssl_context = ssl.create_default_context(cafile=args.ca_file)
        except ssl.SSLError as e:
            return _fail(f"--ca-file {args.ca_file!r} is not a PEM bundle of CA certificates ({e.reason or e})")
        except (OSError, ValueError) as e:
            return _fail(f"cannot read --ca-file {args.ca_file!r}: {getattr(e, 'strerror', None) or e}")
    from infra.spec import SpecError, parse_spec, read_stack_file, stack_name, stack_path

    path = stack_path(args.stack, args.stacks_dir)
    try:
        spec = parse_spec(read_stack_file(path))
    except SpecError as e:
        print(str(e), file=sys.stderr)
        return 2
    exp = from_spec(spec, stack=stack_name(args.stack), outputs=outputs)
    return run_and_render(exp, args.format, output=args.output, stack_file=str(path), nameservers=nameservers,
                          timeout=args.timeout, deadline=args.deadline, only=only, skip=skip,
                          ssl_context=ssl_context, connect_to=connect_to, samples=args.samples,
                          concurrency=args.concurrency, browser=browser, active=args.active,
                          fire_drill=args.fire_drill, tenant_concurrency=args.tenant_concurrency)


def run_and_render(exp, fmt: str, output: str | None = None, stack_file: str | None = None, **kw) -> int:
    from dataclasses import replace

    from .audit import audit

    if fmt == "console" and not output:
        report = _audit_with_progress(exp, audit, **kw)
    else:
        report = audit(exp, **kw)
    if stack_file:  # SARIF points code scanning at the stack file that declared what failed
        report = replace(report, subject={**report.subject, "stackFile": stack_file})
    return _emit(report, fmt, output)


def _audit_with_progress(exp, audit, **kw):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from .engine import RunEvents

    err = Console(stderr=True)
    with Progress(SpinnerColumn(), TextColumn("[progress.description]{task.description}"), BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=err, transient=True) as progress:
        task = progress.add_task(f"probing {exp.domain}", total=None)
        events = RunEvents(on_plan=lambda n: progress.update(task, total=n),
                           on_probe_done=lambda k: progress.update(task, advance=1, description=f"{k.kind} {k.args[0] if k.args else ''}"))
        return audit(exp, events=events, **kw)


def _emit(report, fmt: str, output: str | None) -> int:
    from infra.findings.output import emit

    code = emit(report, fmt, output, "verify")
    if report.nothing_checked:
        # exit 2 like bad input: an empty run must never read as "all checks passed"
        print("launchready verify: nothing was checked (no check selected, or every one SKIPPED)", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Standalone form (`python -m verify.cli ...`), same options as `launchready verify`."""
    from infra.commands import CommandLine

    parser = argparse.ArgumentParser(prog="launchready")
    register(CommandLine(parser.add_subparsers(dest="command", required=True)))
    args = parser.parse_args(["verify", *(argv if argv is not None else sys.argv[1:])])
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
