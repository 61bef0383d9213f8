"""`launchready gate`: the offline pull-request gate (a `launchready.commands` entry point)."""
from __future__ import annotations

import argparse

DESCRIPTION = """\
Run the launch program under Pulumi's mock runtime, judge its resources with every rule of the policy
pack as `pulumi preview --policy-pack policies` would, and scan the stack file and the repository for
secrets. Exit 1 on a mandatory violation, 2 if something could not be checked (the stack spec or the
policy config is invalid, a --root/--scan-path does not exist, an explicit --baseline is missing or
not valid JSON), 0 otherwise."""


def register(cli) -> None:
    gate = cli.add_command(
        "gate", help="judge a stack with the policy pack offline (mock runtime, no credentials) and scan for secrets",
        description=DESCRIPTION, formats=("text", "console", "json", "sarif", "junit", "md"), handler=run)
    gate.add_argument("--policy-config", metavar="FILE",
                      help="policy config JSON, the same form as `pulumi preview --policy-pack-config`")
    gate.add_argument("--root", default=".", help="repository root for the secret scan (default: .)")
    gate.add_argument("--scan-path", action="append", default=[], metavar="PATH",
                      help="file or directory to scan for committed secrets (repeatable; default: the repository)")
    gate.add_argument("--baseline", help="detect-secrets baseline of accepted findings (default: .secrets.baseline, "
                                         "ignored when absent; a baseline given here must exist)")
    gate.add_argument("--no-repo-scan", action="store_true", help="skip the repository secret scan")


def run(args: argparse.Namespace) -> int:
    from infra.findings.output import emit

    from .gate import GateOptions, run_gate

    opts = GateOptions(stack=args.stack, stacks_dir=args.stacks_dir, policy_config=args.policy_config,
                       root=args.root, scan_repo=not args.no_repo_scan, scan_paths=list(args.scan_path),
                       baseline=args.baseline)
    return emit(run_gate(opts), args.format, args.output, "gate")
