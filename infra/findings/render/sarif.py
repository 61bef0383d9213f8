"""SARIF 2.1.0, for code scanning: one run, the catalogue as rules, every finding as a result."""
from __future__ import annotations

import json
import os
from typing import Any

from ..model import Finding, Report, RuleInfo, Status
from .common import DOCS, SECURITY_SEVERITY

# A result's kind and level (SARIF §3.27.9-10): only a fail carries a level other than none.
_KIND = {Status.FAIL: ("fail", "error"), Status.WARN: ("fail", "warning"), Status.ERROR: ("open", "none"),
         Status.PASS: ("pass", "none"), Status.SKIPPED: ("notApplicable", "none")}


def _uri(path: str) -> str:
    rel = os.path.relpath(path) if os.path.isabs(path) else path
    return rel.replace(os.sep, "/")


def _rule(r: RuleInfo, docs: str) -> dict[str, Any]:
    level = {"mandatory": "error", "advisory": "warning", "": "error"}.get(r.level, "none")
    return {
        "id": r.id,
        "name": "".join(part.capitalize() for part in r.id.split("-")),
        "shortDescription": {"text": r.title},
        "fullDescription": {"text": r.title},
        "help": {"text": r.remediation or r.title, "markdown": r.remediation or r.title},
        "helpUri": f"{docs}#{r.id}",
        "defaultConfiguration": {"level": level, "enabled": r.level != "disabled"},
        "properties": {"tags": ["security", r.area, r.kind], "security-severity": SECURITY_SEVERITY.get(r.severity, "5.5"),
                       "precision": "high", **({"enforcementLevel": r.level} if r.level else {})},
    }


def _result(f: Finding, report: Report, index: dict[str, int]) -> dict[str, Any]:
    loc = f.location
    location: dict[str, Any] = {"physicalLocation": {
        "artifactLocation": {"uri": _uri(loc.file or report.stack_file or "Pulumi.yaml"), "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": max(1, loc.line or 1)},
    }}
    logical = []
    if loc.resource_urn:
        logical.append({"fullyQualifiedName": loc.resource_urn, "kind": "resource"})
    if loc.target:
        logical.append({"name": loc.target, "kind": "object"})
    if logical:
        location["logicalLocations"] = logical
    kind, level = _KIND[f.status]
    text = f.message + (f"\nfix: {f.remediation}" if f.remediation and f.status in (Status.FAIL, Status.WARN) else "")
    entry: dict[str, Any] = {
        "ruleId": f.id, "kind": kind, "level": level, "message": {"text": text}, "locations": [location],
        "properties": {"status": f.status.value, "severity": f.severity,
                       **({"enforcementLevel": f.level} if f.level else {}),
                       **({"errorType": f.error_type} if f.error_type else {})},
    }
    if f.target:
        # the same check on the same target is the same alert from run to run
        entry["partialFingerprints"] = {"launchreadyTarget/v1": f"{f.id}:{f.target}"}
    if f.id in index:
        entry["ruleIndex"] = index[f.id]
    return entry


def render_sarif(report: Report) -> str:
    rules = list(report.rules)
    known = {r.id for r in rules}
    for f in report.findings:  # a finding of a rule missing from the catalogue still gets a rule entry
        if f.id not in known:
            known.add(f.id)
            rules.append(RuleInfo(id=f.id, area=f.area, title=f.id, severity=f.severity))
    index = {r.id: i for i, r in enumerate(rules)}
    name = f"launchready-{report.command}"
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": name, "informationUri": "https://www.pulumi.com/docs/iac/crossguard/",
                                "version": "0.2.0", "rules": [_rule(r, DOCS.get(report.command, "README.md")) for r in rules]}},
            "automationDetails": {"id": f"{name}/{report.stack}/"},
            "results": [_result(f, report, index) for f in report.findings],
            "invocations": [{"executionSuccessful": not report.errors, "exitCode": report.exit_code,
                             "toolExecutionNotifications": [{"message": {"text": e}, "level": "error"}
                                                            for e in report.errors]}],
        }],
    }
    return json.dumps(doc, indent=2) + "\n"
