"""Putting a handover report together: the combined findings, what is declared, what to watch, the
manual checks and, given an earlier report, what changed."""
from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from infra.findings import Report
from infra.findings.load import ResultsError, read_json, report_from_dict, validate
from infra.spec import Spec

from . import handover, history
from .combine import CombinedReport, Part, combine


def read_outputs(path: str | None) -> dict[str, Any]:
    """`pulumi stack output --json`; only nameServers and dnssecDs are ever read from it."""
    if not path:
        return {}
    data = read_json(Path(path))
    if not isinstance(data, dict):
        raise ResultsError(f"--outputs {path}: must hold a JSON object (pulumi stack output --json)")
    return data


def read_earlier(path: str) -> Report:
    """An earlier report (or any findings/v2 document) to compare with."""
    doc = read_json(Path(path))
    validate(doc, f"--since {path}")
    if "advisories" in doc and "schema" not in doc:
        raise ResultsError(f"--since {path}: a plan document; give an earlier `launchready report --format json`")
    return report_from_dict(doc)


def build_report(spec: Spec, stack: str, stack_file: str, parts: Sequence[Part], outputs: Mapping[str, Any],
                 earlier: Report | None = None, since: str | None = None) -> CombinedReport:
    facts = handover.outputs_facts(outputs)
    findings = [f for p in parts for f in p.report.findings]
    subject = {
        "generatedAt": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "stackFile": stack_file, "domain": spec.domain, "environment": spec.environment,
        "declared": handover.declared(spec, stack, outputs),
        "manualChecks": handover.manual_checks(spec, stack, facts),
        "watch": {"certificates": handover.certificates(findings), "dmarc": handover.dmarc_notes(spec, findings),
                  "missing": handover.missing_commands([p.command for p in parts], stack)},
        "changes": None,
    }
    report = combine(stack, parts, subject)
    if earlier is not None:
        changes = history.changes(earlier, report, since or "")
        report = replace(report, subject={**report.subject, "changes": changes})
    return report
