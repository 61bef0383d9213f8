"""What changed since an earlier report: new failures, fixed items, new warnings, items no longer
reported, and certificates whose days left went down (or up: renewed).

A finding is the same item from run to run when its id and what it points at agree: the live
target (verify), the resource URN (gate), else its message (plan advisories, stack-wide rules).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from infra.findings import Finding, Report, Status

from .handover import EXPIRY_CHECK

BROKEN = (Status.FAIL, Status.ERROR)


def item_key(f: Finding) -> tuple[str, str]:
    return f.id, f.target or f.location.resource_urn or f.message


def _brief(f: Finding, before: Finding | None = None) -> dict[str, Any]:
    return {"id": f.id, "where": f.target or f.location.where(), "message": f.message, "status": f.status.value,
            "before": before.status.value if before else "not reported"}


def _index(findings: Sequence[Finding]) -> dict[tuple[str, str], Finding]:
    out: dict[tuple[str, str], Finding] = {}
    for f in findings:
        key = item_key(f)
        # the worst status wins when one item is reported twice (plan and gate both name an unset secret)
        if key not in out or _rank(f) < _rank(out[key]):
            out[key] = f
    return out


def _rank(f: Finding) -> int:
    return {Status.FAIL: 0, Status.ERROR: 1, Status.WARN: 2, Status.PASS: 3, Status.SKIPPED: 4}[f.status]


def _days(f: Finding | None) -> float | None:
    if f is None or f.id != EXPIRY_CHECK:
        return None
    days = f.evidence.get("days_left")
    return float(days) if isinstance(days, (int, float)) else None


def certificate_changes(old: dict, new: dict) -> list[dict[str, Any]]:
    out = []
    for key, f in new.items():
        now, then = _days(f), _days(old.get(key))
        if now is None or then is None or round(now, 1) == round(then, 1):
            continue
        out.append({"host": f.target, "before": then, "now": now, "change": round(now - then, 1),
                    "renewed": now > then, "status": f.status.value})
    return sorted(out, key=lambda c: c["now"])


def changes(earlier: Report, now: Report, since: str) -> dict[str, Any]:
    old, new = _index(earlier.findings), _index(now.findings)
    out: dict[str, Any] = {"since": since, "earlierGeneratedAt": earlier.subject.get("generatedAt", ""),
                           "newFailures": [], "fixed": [], "newWarnings": [], "stillBroken": 0, "gone": []}
    for key, f in new.items():
        before = old.get(key)
        if f.status in BROKEN and (before is None or before.status not in BROKEN):
            out["newFailures"].append(_brief(f, before))
        elif f.status in BROKEN:
            out["stillBroken"] += 1
        elif f.status is Status.PASS and before is not None and before.status in (*BROKEN, Status.WARN):
            out["fixed"].append(_brief(f, before))
        elif f.status is Status.WARN and (before is None or before.status is Status.PASS):
            out["newWarnings"].append(_brief(f, before))
    # an item that was broken and is no longer reported at all: fixed, or no longer checked; said as such
    out["gone"] = [_brief(f) for key, f in old.items() if key not in new and f.status in (*BROKEN, Status.WARN)]
    out["certificates"] = certificate_changes(old, new)
    return out
