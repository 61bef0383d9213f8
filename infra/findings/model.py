"""The one findings model: what plan advisories, gate violations and verify results all are.

A finding is frozen and typed: a stable id (a rule or check id; messages may change, ids never do),
a status, where it is (file:line, a resource URN, or a host/record), what was seen (evidence) and
how to fix it. "Could not check" (ERROR, SKIPPED) is never a verdict: only PASS, WARN and FAIL say
something about the world. A Report is one command's findings plus the catalogue of what it ran
and the exit code its command decided; renderers (infra/findings/render/) only format a Report.
"""
from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any


class Status(str, enum.Enum):
    PASS = "PASS"
    WARN = "WARN"        # verify: a weakness the stack tolerates; gate: an advisory violation
    FAIL = "FAIL"        # verify: the live world differs; gate: a mandatory violation
    ERROR = "ERROR"      # could not be checked (timeout, SERVFAIL, exception, unknown preview value)
    SKIPPED = "SKIPPED"  # does not apply, or an earlier result makes it moot

    @property
    def is_verdict(self) -> bool:
        return self in (Status.PASS, Status.WARN, Status.FAIL)


# Severity of what a rule or check guards (CVSS-like bands), used by SARIF and the report.
SEVERITIES = ("critical", "high", "medium", "low", "info")


@dataclass(frozen=True)
class Location:
    """Where a finding points: a file and line, a resource, and/or a live target (host, record)."""

    file: str | None = None
    line: int | None = None
    resource_urn: str = ""
    resource_type: str = ""
    resource_name: str = ""
    target: str = ""

    def where(self) -> str:
        """file:line, else the target, else the resource name."""
        if self.file:
            return f"{self.file}:{self.line}" if self.line else self.file
        return self.target or self.resource_name


@dataclass(frozen=True)
class Finding:
    id: str
    status: Status
    message: str
    area: str = ""                      # dns, mail, edge, secrets, monitoring, apply, repository ...
    severity: str = "medium"
    level: str = ""                     # policy enforcement level in force (gate): mandatory | advisory
    evidence: Mapping[str, Any] = field(default_factory=dict)
    remediation: str = ""
    location: Location = Location()
    error_type: str | None = None    # the exception class name when status is ERROR
    duration_ms: float = 0.0
    cause: str = ""                     # the id of the finding that explains this one (its root cause)

    @property
    def target(self) -> str:
        return self.location.target

    def redacted(self, redact) -> Finding:
        """The same finding with `redact(text)` applied to every free text it carries."""
        loc = replace(self.location, resource_name=redact(self.location.resource_name),
                      target=redact(self.location.target))
        return replace(self, message=redact(self.message), location=loc,
                       evidence=_map_strings(self.evidence, redact))

    def to_dict(self) -> dict[str, Any]:
        loc = self.location
        return {
            "id": self.id,
            "status": self.status.value,
            "level": self.level or None,
            "severity": self.severity,
            "area": self.area,
            "message": self.message,
            "evidence": jsonable(self.evidence),
            "remediation": self.remediation or None,
            "location": {"file": loc.file, "line": loc.line, "resourceUrn": loc.resource_urn or None,
                         "resourceType": loc.resource_type or None, "resourceName": loc.resource_name or None,
                         "target": loc.target or None},
            "errorType": self.error_type,
            "durationMs": round(self.duration_ms, 1),
            "cause": self.cause or None,
        }


@dataclass(frozen=True)
class RuleInfo:
    """One entry of the catalogue a command ran: a policy rule, a gate check or a verify check."""

    id: str
    area: str
    title: str
    severity: str = "medium"
    kind: str = "check"          # resource | stack | gate | check
    level: str = ""              # enforcement level in force (gate); "" for verify checks
    default_level: str = ""
    remediation: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "area": self.area, "title": self.title, "severity": self.severity,
                "kind": self.kind, "level": self.level or None, "defaultLevel": self.default_level or None,
                "remediation": self.remediation or None}


def jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _map_strings(value: Any, fn) -> Any:
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, Mapping):
        return {k: _map_strings(v, fn) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_map_strings(v, fn) for v in value)
    return value


# -- exit codes ------------------------------------------------------------------------------------
# Two policies, one per kind of command, both decided here so every renderer shows the same code:
#  verify: 0 all pass (WARN/SKIPPED allowed), 1 a FAIL, 2 an ERROR and no FAIL, or nothing checked.
#  gate:   0 no mandatory violation, 1 a mandatory violation (FAIL). A rule that could not run on an
#          unknown preview value (ERROR) is advisory, as the engine treats it: it does not change
#          the exit code, but no renderer counts it as passed.
# Both: input errors (bad spec, bad policy config) mean nothing was judged: exit 2.

def nothing_checked(findings: Sequence[Finding]) -> bool:
    """No result, or every result SKIPPED: the run said nothing about the world."""
    return all(f.status is Status.SKIPPED for f in findings)


def exit_code(findings: Sequence[Finding], *, errors: Sequence[str] = (), error_blocks: bool = True) -> int:
    if errors:
        return 2
    statuses = {f.status for f in findings}
    if Status.FAIL in statuses:
        return 1
    if error_blocks and (Status.ERROR in statuses or nothing_checked(findings)):
        return 2
    return 0


@dataclass(frozen=True)
class Report:
    """One command's run: its findings, what it ran, and the facts of the run.

    `command` is plan, gate or verify. `subject` holds the run's own facts (stack file, domain,
    nameservers, resources, timings, started_at, duration_s, deadline_hit ...), shown as they are.
    """

    command: str
    stack: str
    findings: tuple[Finding, ...] = ()
    rules: tuple[RuleInfo, ...] = ()
    errors: tuple[str, ...] = ()
    subject: Mapping[str, Any] = field(default_factory=dict)

    @property
    def error_blocks(self) -> bool:
        return self.command != "gate"

    @property
    def exit_code(self) -> int:
        return exit_code(self.findings, errors=self.errors, error_blocks=self.error_blocks)

    @property
    def nothing_checked(self) -> bool:
        return not self.errors and self.error_blocks and nothing_checked(self.findings)

    @property
    def stack_file(self) -> str | None:
        return self.subject.get("stackFile")

    def of(self, *statuses: Status) -> list[Finding]:
        return [f for f in self.findings if f.status in statuses]

    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in Status}
        for f in self.findings:
            out[f.status.value] += 1
        return out
