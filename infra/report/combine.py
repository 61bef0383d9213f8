"""One report from several: the findings of plan, gate and verify side by side, each command's own
exit code kept (a gate's "could not run" is advisory, verify's ERROR is not), the combined code the
worst of them: 1 if any command failed, else 2 if any could not check, else 0 (the model's order)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from infra.findings import Report

# The order of a launch, which is the order parts are shown in.
COMMAND_ORDER = {"plan": 0, "gate": 1, "verify": 2}


@dataclass(frozen=True)
class Part:
    """One command's report and the exit code that command decided (plan: 0)."""

    report: Report
    exit_code: int
    source: str          # the results file it was read from, or "run now"

    @property
    def command(self) -> str:
        return self.report.command


@dataclass(frozen=True)
class CombinedReport(Report):
    """The handover's findings: every part's, in launch order; `code` is the worst part's exit code."""

    code: int = 2

    @property
    def exit_code(self) -> int:
        return self.code


def worst(codes: Sequence[int]) -> int:
    """1 if any failed, else 2 if any could not check, else 0; nothing at all is 2 (nothing was checked)."""
    if not codes:
        return 2
    if 1 in codes:
        return 1
    return 2 if 2 in codes else 0


def part_summary(part: Part) -> dict[str, Any]:
    r = part.report
    return {"command": r.command, "stack": r.stack, "exitCode": part.exit_code, "source": part.source,
            "summary": r.counts(), "errors": list(r.errors), "findings": len(r.findings), "rules": len(r.rules),
            "subject": dict(r.subject)}


def ordered_parts(parts: Sequence[Part]) -> list[Part]:
    return sorted(parts, key=lambda p: (COMMAND_ORDER.get(p.command, 9), p.source))


def combine(stack: str, parts: Sequence[Part], subject: Mapping[str, Any]) -> CombinedReport:
    """The combined report; subject["parts"] says which findings (and rules) came from which command,
    in order, so a reader of the JSON (and `--since`) can tell them apart again."""
    parts = ordered_parts(parts)
    return CombinedReport(
        command="report", stack=stack,
        findings=tuple(f for p in parts for f in p.report.findings),
        rules=tuple(r for p in parts for r in p.report.rules),
        errors=tuple(f"{p.command}: {e}" for p in parts for e in p.report.errors),
        subject={**subject, "parts": [part_summary(p) for p in parts]},
        code=worst([p.exit_code for p in parts]))


def split(report: Report) -> list[Report]:
    """A combined report back into its parts (the inverse of combine, from subject["parts"])."""
    out, f0, r0 = [], 0, 0
    for p in report.subject.get("parts", ()):
        nf, nr = int(p.get("findings", 0)), int(p.get("rules", 0))
        out.append(Report(command=p["command"], stack=p.get("stack", report.stack),
                          findings=report.findings[f0:f0 + nf], rules=report.rules[r0:r0 + nr],
                          errors=tuple(p.get("errors", ())), subject=p.get("subject") or {}))
        f0, r0 = f0 + nf, r0 + nr
    return out
