"""The result model every verify check returns and every renderer consumes.

A result is frozen and typed. "Could not check" (ERROR, SKIPPED) is never a verdict: only PASS,
WARN and FAIL say something about the world. Ids are stable; messages may change.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from infra.findings import Finding, Location, Report, Status

__all__ = ["Finding", "Report", "Status", "Verdict", "failed", "passed", "result", "skipped", "verify_report", "warned"]


@dataclass(frozen=True)
class Verdict:
    """What a judge says about one target: the runner adds the check id, group and target."""

    status: Status
    message: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    remediation: str | None = None


def passed(message: str, **evidence: Any) -> Verdict:
    return Verdict(Status.PASS, message, evidence)


def warned(message: str, remediation: str | None = None, **evidence: Any) -> Verdict:
    return Verdict(Status.WARN, message, evidence, remediation)


def failed(message: str, remediation: str, **evidence: Any) -> Verdict:
    return Verdict(Status.FAIL, message, evidence, remediation)


def skipped(reason: str, **evidence: Any) -> Verdict:
    return Verdict(Status.SKIPPED, reason, evidence)


def result(check_id: str, group: str, target: str, status: Status, message: str,
           evidence: Mapping[str, Any] | None = None, remediation: str | None = None,
           error_type: str | None = None, duration_ms: float = 0.0) -> Finding:
    """A verify result as a finding of the one model: the check id, its group as the area, the
    target (host, record name) as the location."""
    return Finding(id=check_id, status=status, message=message, area=group, evidence=dict(evidence or {}),
                   remediation=remediation or "", location=Location(target=target), error_type=error_type,
                   duration_ms=duration_ms)


def verify_report(stack: str, domain: str, nameservers: tuple[str, ...], started_at: str, duration_s: float,
                  results: tuple[Finding, ...], deadline_hit: bool = False, stack_file: str | None = None) -> Report:
    return Report(command="verify", stack=stack, findings=tuple(results),
                  subject={"domain": domain, "nameservers": list(nameservers), "started_at": started_at,
                           "duration_s": duration_s, "deadline_hit": deadline_hit,
                           **({"stackFile": stack_file} if stack_file else {})})
