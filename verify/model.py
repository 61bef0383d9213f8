"""The result model every verify check returns and every renderer consumes.

A result is frozen and typed. "Could not check" (ERROR, SKIPPED) is never a verdict: only PASS,
WARN and FAIL say something about the world. Ids are stable; messages may change.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Mapping


class Status(str, enum.Enum):
    PASS = "PASS"
    WARN = "WARN"
    FAIL = "FAIL"
    ERROR = "ERROR"      # the check could not be carried out (DNS timeout, SERVFAIL, exception)
    SKIPPED = "SKIPPED"  # the check does not apply, or an earlier result makes it moot

    @property
    def is_verdict(self) -> bool:
        return self in (Status.PASS, Status.WARN, Status.FAIL)


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


@dataclass(frozen=True)
class CheckResult:
    check_id: str
    group: str
    target: str
    status: Status
    message: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    remediation: str | None = None
    error_type: str | None = None  # the exception class name when status is ERROR
    duration_ms: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.check_id,
            "group": self.group,
            "target": self.target,
            "status": self.status.value,
            "message": self.message,
            "evidence": _jsonable(self.evidence),
            "remediation": self.remediation,
            "error_type": self.error_type,
            "duration_ms": round(self.duration_ms, 1),
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def nothing_checked(results: "list[CheckResult] | tuple[CheckResult, ...]") -> bool:
    """No result, or every result SKIPPED: the run said nothing about the world."""
    return all(r.status is Status.SKIPPED for r in results)


def exit_code(results: "list[CheckResult] | tuple[CheckResult, ...]") -> int:
    """0 all pass (WARN/SKIPPED allowed), 1 a check failed, 2 something could not be checked and
    nothing failed, or nothing was checked at all (no results, or all SKIPPED: never "all passed")."""
    statuses = {r.status for r in results}
    if Status.FAIL in statuses:
        return 1
    if Status.ERROR in statuses or nothing_checked(results):
        return 2
    return 0


@dataclass(frozen=True)
class Report:
    stack: str
    domain: str
    nameservers: tuple[str, ...]
    started_at: str
    duration_s: float
    results: tuple[CheckResult, ...]
    deadline_hit: bool = False

    @property
    def exit_code(self) -> int:
        return exit_code(self.results)

    @property
    def nothing_checked(self) -> bool:
        return nothing_checked(self.results)

    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in Status}
        for r in self.results:
            out[r.status.value] += 1
        return out
