"""`launchready gate`: the offline pull-request gate (registered into infra/cli.py's parser)."""
from __future__ import annotations

import argparse
import sys


def register(subparsers) -> None:
    gate = subparsers.add_parser(
        "gate", help="judge a stack with the policy pack offline (mock runtime, no credentials) and scan for secrets",
        description="Run the launch program under Pulumi's mock runtime, judge its resources with every rule of "
                    "the policy pack as `pulumi preview --policy-pack policies` would, and scan the stack file and "
                    "the repository for secrets. Exit 1 on a mandatory violation, 2 if something could not be checked "
                    "(the stack spec or the policy config is invalid, a --root/--scan-path does not exist, an "
                    "explicit --baseline is missing or not valid JSON), 0 otherwise.")
    gate.add_argument("--stack", required=True, help="stack name (stacks/Pulumi.NAME.yaml) or a path to a stack file")
    gate.add_argument("--stacks-dir", default="stacks", help="directory of stack files (default: stacks)")
    gate.add_argument("--format", choices=("text", "json", "sarif", "junit"), default="text",
                      help="output format (default: text)")
    gate.add_argument("--output", "-o", help="write the report to this file instead of standard output")
    gate.add_argument("--policy-config", metavar="FILE",
                      help="policy config JSON, the same form as `pulumi preview --policy-pack-config`")
    gate.add_argument("--root", default=".", help="repository root for the secret scan (default: .)")
    gate.add_argument("--scan-path", action="append", default=[], metavar="PATH",
                      help="file or directory to scan for committed secrets (repeatable; default: the repository)")
    gate.add_argument("--baseline", help="detect-secrets baseline of accepted findings (default: .secrets.baseline, ignored when absent; "
                           "a baseline given here must exist)")
    gate.add_argument("--no-repo-scan", action="store_true", help="skip the repository secret scan")
    gate.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import warnings

    from .gate import GateOptions, run_gate
    from .report import RENDERERS

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    opts = GateOptions(stack=args.stack, stacks_dir=args.stacks_dir, policy_config=args.policy_config,
                       root=args.root, scan_repo=not args.no_repo_scan, scan_paths=list(args.scan_path),
                       baseline=args.baseline)
    try:
        result = run_gate(opts)
    except Exception as exc:  # noqa: BLE001 - the gate never prints a traceback
        print(f"launchready gate: internal error: {type(exc).__name__}", file=sys.stderr)
        return 2
    text = RENDERERS[args.format](result)
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            print(f"launchready gate: cannot write {args.output}: {exc.strerror}", file=sys.stderr)
            return 2
        if args.format != "text":
            print(RENDERERS["text"](result), end="", file=sys.stderr)
    elif result.errors and args.format == "text":
        print(text, end="", file=sys.stderr)
    else:
        print(text, end="")
    return result.exit_code
