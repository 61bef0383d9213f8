"""Where the parts of a report come from: the JSON files plan, gate and verify wrote to a results
directory, or those commands run now, in this process, through their `launchready.commands` entry
points (the report imports no room above it: it finds them as `launchready` itself does)."""
from __future__ import annotations

import argparse
import io
import tempfile
from collections.abc import Mapping, Sequence
from contextlib import redirect_stderr, redirect_stdout
from importlib.metadata import entry_points
from pathlib import Path

from infra.commands import CommandLine
from infra.findings.load import ResultsError, load_report

from .combine import Part

ENTRY_POINT_GROUP = "launchready.commands"
# The names `launchready report` documents for a results directory; any other *.json of the schema
# is read too (verify-staging.json, ...).
RESULT_FILES = {"plan": "plan.json", "gate": "gate.json", "verify": "verify.json"}


def from_dir(directory: str, stack: str) -> list[Part]:
    """Every *.json in `directory`, validated; a file that is not findings is a ResultsError."""
    root = Path(directory)
    if not root.is_dir():
        raise ResultsError(f"--results {directory}: not a directory")
    files = sorted(root.glob("*.json"))
    if not files:
        raise ResultsError(f"--results {directory}: no *.json results in it (write them with "
                           f"`launchready gate --format json --output {directory}/gate.json`, and the same for plan and verify)")
    parts = []
    for path in files:
        report, code = load_report(path)
        if report.command == "report":
            raise ResultsError(f"{path}: is a report of `launchready report`, not of plan, gate or verify "
                               "(give an earlier report with --since)")
        if report.stack and report.stack != stack:
            raise ResultsError(f"{path}: is a result of stack {report.stack!r}, not {stack!r}")
        parts.append(Part(report, code, str(path)))
    return parts


def _parser(names: Sequence[str]) -> argparse.ArgumentParser:
    found = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    parser = argparse.ArgumentParser(prog="launchready")
    cli = CommandLine(parser.add_subparsers(dest="command", required=True))
    for name in names:
        if name not in found:
            raise ResultsError(f"launchready {name} is not installed (no {ENTRY_POINT_GROUP} entry point {name!r}): "
                               "install the project, or give its results with --results")
        found[name].load()(cli)
    return parser


def run_commands(names: Sequence[str], stack: str, stacks_dir: str,
                 extra: Mapping[str, Sequence[str]] | None = None) -> list[Part]:
    """Run each command with `--format json --output` into a temporary directory and read it back,
    exactly as a results directory would be read. A command's own messages are kept from the
    terminal unless it wrote no results (then they are the reason, and the error says so)."""
    parser = _parser(names)
    parts = []
    with tempfile.TemporaryDirectory(prefix="launchready-report-") as tmp:
        for name in names:
            out = Path(tmp) / RESULT_FILES.get(name, f"{name}.json")
            argv = [name, "--stack", stack, "--stacks-dir", stacks_dir, "--format", "json", "--output", str(out),
                    *(extra or {}).get(name, ())]
            args = parser.parse_args(argv)
            said = io.StringIO()
            with redirect_stderr(said), redirect_stdout(said):
                code = args.func(args)
            if not out.exists() or not out.stat().st_size:
                lines = [line for line in said.getvalue().splitlines() if line.strip()]
                why = lines[-1] if lines else "no message"
                raise ResultsError(f"launchready {name} wrote no results (exit {code}): {why}")
            report, _ = load_report(out)
            parts.append(Part(report, 0 if name == "plan" else code, "run now"))
    return parts
