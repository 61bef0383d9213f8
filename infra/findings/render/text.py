"""Plain text: every finding that is not a PASS, with where, what was seen and the fix."""
from __future__ import annotations

import json

from ..model import Report, Status, jsonable
from .common import because, headline, label, ordered, root_cause_note, verdict

EVIDENCE_MAX = 400


def evidence_text(evidence) -> str:
    ev = json.dumps(jsonable(evidence), separators=(", ", ": "))
    return ev if len(ev) <= EVIDENCE_MAX else ev[:EVIDENCE_MAX - 3] + "..."


def render_text(report: Report) -> str:
    out: list[str] = []
    if report.errors:
        return "\n".join([*report.errors, verdict(report)]) + "\n"
    out.append(headline(report))
    for f in ordered(report):
        if f.status in (Status.PASS, Status.SKIPPED):
            continue
        loc = f.location
        out.append("")
        sev = f"  [{f.severity}]" if report.command == "gate" else ""
        out.append(f"{label(f, report):9}  {f.id}{sev}  {loc.where()}")
        out.append(f"  {f.message}" + (f" ({f.error_type})" if f.error_type else "") + because(f))
        if loc.resource_urn:
            out.append(f"  resource: {loc.resource_type} {loc.resource_name}")
        if f.evidence and f.status in (Status.FAIL, Status.WARN):
            out.append(f"  seen: {evidence_text(f.evidence)}")
        # rstrip only: remediation steps hold indented YAML snippets that must stay copyable.
        for i, line in enumerate(f.remediation.splitlines()):
            out.append(("  fix: " if i == 0 else "       ") + line.rstrip())
    out.append("")
    if root_cause_note(report):
        out.append(root_cause_note(report))
    out.append(verdict(report))
    return "\n".join(out) + "\n"
