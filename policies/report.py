"""The gate's result model and its renderers (text, JSON, SARIF 2.1.0, JUnit XML).

Renderers only format: every finding, level and location is computed by the gate beforehand.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from typing import Any, Optional
from xml.etree import ElementTree as ET

TOOL_NAME = "launchready-gate"
TOOL_URI = "docs/policies.md"

# A finding from a rule that met an unknown preview value (advisory, as the engine reports it).
COULD_NOT_RUN = "could not run"

# GitHub code scanning reads properties.security-severity (CVSS-like, 0-10) for its severity column.
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}


@dataclass(frozen=True)
class RuleInfo:
    id: str
    area: str
    kind: str                 # resource | stack | gate
    severity: str
    level: str                # the enforcement level in force for this run
    default_level: str
    description: str
    remediation: str


@dataclass(frozen=True)
class Finding:
    rule: str
    level: str                # mandatory | advisory
    severity: str
    area: str
    message: str
    remediation: str
    resource_urn: str = ""
    resource_type: str = ""
    resource_name: str = ""
    file: Optional[str] = None
    line: Optional[int] = None
    unknown: bool = False     # the rule met an unknown preview value (advisory, as in the engine)


@dataclass
class GateResult:
    stack: str
    stack_file: Optional[str]
    findings: list[Finding] = field(default_factory=list)
    rules: list[RuleInfo] = field(default_factory=list)
    resources: int = 0
    errors: list[str] = field(default_factory=list)   # spec or config errors: nothing was judged
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase (program, rules, scans)

    @property
    def mandatory(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "mandatory"]

    @property
    def advisory(self) -> list[Finding]:
        """Advisory violations: the rule ran and found something (not the ones that could not run)."""
        return [f for f in self.findings if f.level == "advisory" and not f.unknown]

    @property
    def could_not_run(self) -> list[Finding]:
        """Rules that met an unknown preview value. The engine downgrades them to advisory, so they do
        not change the exit code, but they are not passes either: every renderer labels them."""
        return [f for f in self.findings if f.unknown]

    @property
    def exit_code(self) -> int:
        if self.errors:
            return 2
        return 1 if self.mandatory else 0


# -- text ------------------------------------------------------------------------------------------

def render_text(result: GateResult) -> str:
    out: list[str] = []
    if result.errors:
        out += result.errors
        out.append("gate: not run (fix the errors above); exit 2")
        return "\n".join(out) + "\n"
    active = [r for r in result.rules if r.level != "disabled"]
    out.append(f"launchready gate: stack {result.stack} ({result.stack_file}): {result.resources} resources, "
               f"{len(active)} rules and checks")
    order = sorted(result.findings, key=lambda f: (f.level != "mandatory", f.unknown, f.area, f.rule, f.file or "", f.line or 0))
    for f in order:
        where = f"{f.file}:{f.line}" if f.file and f.line else (f.file or "")
        out.append("")
        label = COULD_NOT_RUN.upper() if f.unknown else f.level.upper()
        out.append(f"{label:9}  {f.rule}  [{f.severity}]  {where}")
        out.append(f"  {f.message}")
        if f.resource_urn:
            out.append(f"  resource: {f.resource_type} {f.resource_name}")
        # rstrip only: remediation steps hold indented YAML snippets that must stay copyable.
        for i, line in enumerate(f.remediation.splitlines()):
            out.append(("  fix: " if i == 0 else "       ") + line.rstrip())
    out.append("")
    verdict = "FAILED" if result.mandatory else "passed"
    unrun = f", {len(result.could_not_run)} {COULD_NOT_RUN}" if result.could_not_run else ""
    out.append(f"{len(result.mandatory)} mandatory, {len(result.advisory)} advisory violation(s){unrun}: {verdict} "
               f"(exit {result.exit_code})")
    return "\n".join(out) + "\n"


# -- JSON ------------------------------------------------------------------------------------------

def render_json(result: GateResult) -> str:
    return json.dumps({
        "tool": TOOL_NAME,
        "stack": result.stack,
        "stackFile": result.stack_file,
        "passed": result.exit_code == 0,
        "exitCode": result.exit_code,
        "errors": result.errors,
        "resources": result.resources,
        "timings": {k: round(v, 3) for k, v in result.timings.items()},
        "summary": {"mandatory": len(result.mandatory), "advisory": len(result.advisory),
                    "couldNotRun": len(result.could_not_run)},
        "findings": [asdict(f) for f in result.findings],
        "rules": [asdict(r) for r in result.rules],
    }, indent=2) + "\n"


# -- SARIF 2.1.0 -----------------------------------------------------------------------------------

def _uri(path: str) -> str:
    rel = os.path.relpath(path) if os.path.isabs(path) else path
    return rel.replace(os.sep, "/")


def render_sarif(result: GateResult) -> str:
    rules = result.rules
    index = {r.id: i for i, r in enumerate(rules)}
    sarif_rules = []
    for r in rules:
        level = {"mandatory": "error", "advisory": "warning"}.get(r.level, "none")
        sarif_rules.append({
            "id": r.id,
            "name": "".join(part.capitalize() for part in r.id.split("-")),
            "shortDescription": {"text": r.description},
            "fullDescription": {"text": r.description},
            "help": {"text": r.remediation, "markdown": r.remediation},
            "helpUri": f"{TOOL_URI}#{r.id}",
            "defaultConfiguration": {"level": level, "enabled": r.level != "disabled"},
            "properties": {"tags": ["security", r.area, r.kind], "security-severity": SECURITY_SEVERITY.get(r.severity, "5.5"),
                           "precision": "high", "enforcementLevel": r.level},
        })
    results = []
    for f in result.findings:
        file = f.file or result.stack_file or "Pulumi.yaml"
        location: dict[str, Any] = {"physicalLocation": {
            "artifactLocation": {"uri": _uri(file), "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": max(1, f.line or 1)},
        }}
        if f.resource_urn:
            location["logicalLocations"] = [{"fullyQualifiedName": f.resource_urn, "kind": "resource"}]
        entry: dict[str, Any] = {
            "ruleId": f.rule,
            "level": "error" if f.level == "mandatory" else "warning",
            "message": {"text": f.message},
            "locations": [location],
            "properties": {"enforcementLevel": f.level, "severity": f.severity},
        }
        if f.unknown:
            # SARIF's "open": the tool could not tell pass from fail (a kind other than fail takes level none).
            entry.update(kind="open", level="none")
            entry["properties"]["unknown"] = True
        if f.rule in index:
            entry["ruleIndex"] = index[f.rule]
        results.append(entry)
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": TOOL_NAME, "informationUri": "https://www.pulumi.com/docs/iac/crossguard/",
                                "version": "0.1.0", "rules": sarif_rules}},
            "automationDetails": {"id": f"{TOOL_NAME}/{result.stack}/"},
            "results": results,
            "invocations": [{"executionSuccessful": not result.errors, "exitCode": result.exit_code,
                             "toolExecutionNotifications": [{"message": {"text": e}, "level": "error"} for e in result.errors]}],
        }],
    }
    return json.dumps(doc, indent=2) + "\n"


# -- JUnit XML -------------------------------------------------------------------------------------

def render_junit(result: GateResult) -> str:
    suites = ET.Element("testsuites", name=TOOL_NAME)
    by_rule: dict[str, list[Finding]] = {}
    for f in result.findings:
        by_rule.setdefault(f.rule, []).append(f)
    suite = ET.SubElement(suites, "testsuite", name=f"{TOOL_NAME}.{result.stack}")
    tests = failures = skipped = errors = 0
    if result.errors:
        case = ET.SubElement(suite, "testcase", classname="spec", name="stack-spec")
        err = ET.SubElement(case, "error", message="the stack spec or policy config is invalid")
        err.text = "\n".join(result.errors)
        tests, errors = 1, 1
    for r in ([] if result.errors else result.rules):
        tests += 1
        case = ET.SubElement(suite, "testcase", classname=f"{r.area}", name=r.id)
        found = by_rule.get(r.id, [])
        if r.level == "disabled":
            ET.SubElement(case, "skipped", message="disabled by policy config")
            skipped += 1
            continue
        mandatory = [f for f in found if f.level == "mandatory"]
        advisory = [f for f in found if f.level != "mandatory" and not f.unknown]
        unrun = [f for f in found if f.unknown]
        if mandatory:
            failures += 1
            fail = ET.SubElement(case, "failure", message=f"{len(mandatory)} mandatory violation(s)", type=r.severity)
            fail.text = "\n".join(f"{f.file}:{f.line}: {f.message}" for f in mandatory) + "\n\nfix: " + r.remediation
        elif unrun:
            # Not run is not passed: JUnit's "skipped", which no CI reads as a failure (the exit code agrees).
            ET.SubElement(case, "skipped", message=f"{COULD_NOT_RUN}: an unknown preview value on {len(unrun)} resource(s)")
            skipped += 1
        if advisory or unrun:
            out = ET.SubElement(case, "system-out")
            out.text = "\n".join([f"advisory: {f.file}:{f.line}: {f.message}" for f in advisory]
                                  + [f"{COULD_NOT_RUN}: {f.file}:{f.line}: {f.message}" for f in unrun])
    for key, value in (("tests", tests), ("failures", failures), ("errors", errors), ("skipped", skipped)):
        suite.set(key, str(value))
        suites.set(key, str(value))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


RENDERERS = {"text": render_text, "json": render_json, "sarif": render_sarif, "junit": render_junit}
