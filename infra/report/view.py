"""The handover as the templates read it: sections of plain values, built from a combined report
alone (its findings and its subject), so a report read back from JSON renders the same."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from infra.findings import Finding, Report, Status
from infra.findings.render.text import evidence_text

from .combine import split

_SEVERITY = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
VERDICTS = {0: ("ready", "Ready: nothing failed, and everything that was checked passed."),
            1: ("broken", "Not ready: something failed. See “Broken — how to fix”."),
            2: ("unproven", "Not proven: something could not be checked (nothing failed), or nothing was checked.")}
COMMAND_TITLES = {"plan": "plan (what the program would create)", "gate": "gate (policy pack, before apply)",
                  "verify": "verify (the live world, after apply)"}


def finding_view(f: Finding, command: str) -> dict[str, Any]:
    return {"id": f.id, "command": command, "status": f.status.value, "severity": f.severity, "area": f.area or "other",
            "where": f.target or f.location.where(), "message": f.message, "remediation": f.remediation,
            "evidence": evidence_text(f.evidence) if f.evidence else "", "errorType": f.error_type or "",
            "cause": f.cause, "resource": f.location.resource_name}


def _views(parts: Sequence[Report], *statuses: Status, dedupe: bool = False) -> list[dict[str, Any]]:
    """Findings of these statuses, most severe first; with dedupe, an item two commands report
    (plan and gate both name an unset secret) is shown once, naming both."""
    out: dict[tuple, dict[str, Any]] = {}
    for part in parts:
        for i, f in enumerate(part.findings):
            if f.status not in statuses:
                continue
            key = (f.id, f.target or f.location.resource_urn, f.message) if dedupe else (part.command, i)
            if key in out:
                out[key]["command"] += f", {part.command}"
                continue
            out[key] = finding_view(f, part.command)
    return sorted(out.values(), key=lambda v: (_SEVERITY.get(v["severity"], 5), v["area"], v["id"]))


def grouped(views: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Findings of one id together, the fix said once (an id on eight resources is one thing to do)."""
    groups: dict[str, dict[str, Any]] = {}
    for v in views:
        g = groups.setdefault(v["id"], {"id": v["id"], "status": v["status"], "severity": v["severity"], "area": v["area"],
                                        "command": v["command"], "remediation": v["remediation"], "occurrences": []})
        g["occurrences"].append(v)
        if v["remediation"] and v["remediation"] not in g["remediation"]:
            g["remediation"] = "\n".join(x for x in (g["remediation"], v["remediation"]) if x)
        if v["command"] not in g["command"]:
            g["command"] += f", {v['command']}"
    return list(groups.values())


def _verified(parts: Sequence[Report]) -> list[dict[str, Any]]:
    by_area: dict[str, list[dict[str, Any]]] = {}
    for part in parts:
        for f in part.findings:
            if f.status is Status.PASS:
                by_area.setdefault(f.area or "other", []).append(finding_view(f, part.command))
    return [{"area": area, "findings": items} for area, items in sorted(by_area.items())]


def build(report: Report) -> dict[str, Any]:
    """The template context of a combined report."""
    s = report.subject
    parts = split(report)
    kind, words = VERDICTS[report.exit_code]
    watch = dict(s.get("watch") or {})
    warnings = grouped(_views(parts, Status.WARN, dedupe=True))
    certs = [c for c in watch.get("certificates", []) if c.get("watch")]
    ctx = {
        "stack": report.stack, "domain": s.get("domain", ""), "environment": s.get("environment", ""),
        "generatedAt": s.get("generatedAt", ""), "stackFile": s.get("stackFile", ""),
        "exitCode": report.exit_code, "verdict": kind, "verdictText": words,
        "parts": [{**p, "title": COMMAND_TITLES.get(p["command"], p["command"])} for p in s.get("parts", [])],
        "declared": s.get("declared") or {},
        "verified": _verified(parts), "skipped": _views(parts, Status.SKIPPED),
        "broken": grouped(_views(parts, Status.FAIL)), "couldNotCheck": _views(parts, Status.ERROR),
        "warnings": warnings, "certificates": watch.get("certificates", []), "certificatesToWatch": certs,
        "dmarc": watch.get("dmarc", []), "missing": watch.get("missing", []),
        "manual": s.get("manualChecks") or [], "changes": s.get("changes"),
    }
    ctx["counts"] = {"broken": sum(len(g["occurrences"]) for g in ctx["broken"]), "couldNotCheck": len(ctx["couldNotCheck"]),
                     "watch": sum(len(g["occurrences"]) for g in warnings) + len(certs) + len(ctx["dmarc"]) + len(ctx["missing"]),
                     "manual": len(ctx["manual"]), "warnings": sum(len(g["occurrences"]) for g in warnings), "verified": sum(len(a["findings"]) for a in ctx["verified"])}
    return ctx
