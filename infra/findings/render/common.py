"""What every renderer says the same way: labels, the verdict line, the order of findings."""
from __future__ import annotations

from ..model import Finding, Report, Status

COULD_NOT_RUN = "could not run"   # a gate rule that met an unknown preview value
# Where each command documents its rule and check ids (the SARIF rules' helpUri).
DOCS = {"gate": "docs/policies.md", "verify": "docs/verify.md", "plan": "docs/stack-spec.md"}

# GitHub code scanning reads properties.security-severity (CVSS-like, 0-10) for its severity column.
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "1.0"}

_ORDER = {Status.FAIL: 0, Status.ERROR: 1, Status.WARN: 2, Status.SKIPPED: 3, Status.PASS: 4}


def label(f: Finding, report: Report) -> str:
    """MANDATORY / ADVISORY / COULD NOT RUN for the gate (the engine's words), the status otherwise."""
    if report.command == "gate":
        return {Status.FAIL: "MANDATORY", Status.WARN: "ADVISORY", Status.ERROR: COULD_NOT_RUN.upper()}.get(
            f.status, f.status.value)
    return f.status.value


def ordered(report: Report) -> list[Finding]:
    if report.command == "verify":
        return list(report.findings)  # the runner's order: checks as registered, then target
    return sorted(report.findings, key=lambda f: (_ORDER[f.status], f.area, f.id, f.location.file or "",
                                                  f.location.line or 0))


def headline(report: Report) -> str:
    s = report.subject
    where = f" ({report.stack_file})" if report.stack_file else ""
    if report.command == "gate":
        active = [r for r in report.rules if r.level != "disabled"]
        return (f"launchready gate: stack {report.stack}{where}: {s.get('resources', 0)} resources, "
                f"{len(active)} rules and checks")
    if report.command == "verify":
        return f"launchready verify: {s.get('domain', '')} (stack {report.stack or '-'})"
    return f"launchready {report.command}: stack {report.stack}{where}"


def verdict(report: Report) -> str:
    """The closing line: counts, the verdict in words, and the exit code."""
    code = report.exit_code
    if report.errors:
        return f"{report.command}: not run (fix the errors above); exit 2"
    if report.command == "gate":
        fails, warns, unrun = (len(report.of(s)) for s in (Status.FAIL, Status.WARN, Status.ERROR))
        extra = f", {unrun} {COULD_NOT_RUN}" if unrun else ""
        return (f"{fails} mandatory, {warns} advisory violation(s){extra}: "
                f"{'FAILED' if fails else 'passed'} (exit {code})")
    counts = report.counts()
    words = {0: "all checks passed", 1: "a check failed",
             2: "some checks could not be carried out (ERROR), none failed"}[code]
    if report.nothing_checked:
        words = "nothing was checked (no check selected, or every one SKIPPED)"
    return "  ".join(f"{k} {v}" for k, v in counts.items()) + f"; exit {code}: {words}"


def because(f: Finding) -> str:
    """' (because of <id>)' for a finding that follows from a root cause, else ''."""
    return f" (because of {f.cause})" if f.cause else ""


def root_cause_note(report: Report) -> str:
    """'N results follow from <id>: fix that first' when a root cause explains other findings."""
    causes: dict[str, int] = {}
    for f in report.findings:
        if f.cause:
            causes[f.cause] = causes.get(f.cause, 0) + 1
    return "; ".join(f"{n} result(s) follow from {cause}: fix that first" for cause, n in causes.items())
