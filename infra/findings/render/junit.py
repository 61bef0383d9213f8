"""JUnit XML, for a CI test tab: one test case per rule or check, its findings inside."""
from __future__ import annotations

from xml.etree import ElementTree as ET

from ..model import Finding, Report, RuleInfo, Status
from .common import COULD_NOT_RUN


def _case_text(fs: list[Finding]) -> str:
    return "\n".join(f"{f.location.where()}: {f.message}" for f in fs)


def _fill(case: ET.Element, rule: RuleInfo, found: list[Finding], report: Report) -> str:
    """Fill one test case; returns its outcome: passed, failure, error or skipped."""
    if rule.level == "disabled":
        ET.SubElement(case, "skipped", message="disabled by policy config")
        return "skipped"
    by = {s: [f for f in found if f.status is s] for s in Status}
    outcome = "passed"
    if by[Status.FAIL]:
        what = "mandatory violation(s)" if report.command == "gate" else "failed"
        fail = ET.SubElement(case, "failure", message=f"{len(by[Status.FAIL])} {what}", type=rule.severity)
        fail.text = _case_text(by[Status.FAIL]) + ("\n\nfix: " + rule.remediation if rule.remediation else "")
        outcome = "failure"
    elif by[Status.ERROR] and report.error_blocks:
        err = ET.SubElement(case, "error", message=f"{len(by[Status.ERROR])} could not be checked")
        err.text = _case_text(by[Status.ERROR])
        outcome = "error"
    elif by[Status.ERROR]:
        # Not run is not passed: JUnit's "skipped", which no CI reads as a failure (the exit code agrees).
        ET.SubElement(case, "skipped", message=f"{COULD_NOT_RUN}: an unknown preview value on "
                                               f"{len(by[Status.ERROR])} resource(s)")
        outcome = "skipped"
    elif found and all(f.status is Status.SKIPPED for f in found):
        ET.SubElement(case, "skipped", message=found[0].message)
        outcome = "skipped"
    notes = [f"{'advisory' if report.command == 'gate' else 'warning'}: {f.location.where()}: {f.message}"
             for f in by[Status.WARN]]
    if report.command == "gate":
        notes += [f"{COULD_NOT_RUN}: {f.location.where()}: {f.message}" for f in by[Status.ERROR]]
    if notes:
        ET.SubElement(case, "system-out").text = "\n".join(notes)
    return outcome


def render_junit(report: Report) -> str:
    name = f"launchready-{report.command}"
    suites = ET.Element("testsuites", name=name)
    suite = ET.SubElement(suites, "testsuite", name=f"{name}.{report.stack}")
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    if report.errors:
        case = ET.SubElement(suite, "testcase", classname="spec", name="stack-spec")
        err = ET.SubElement(case, "error", message="the stack spec or its options are invalid: nothing was checked")
        err.text = "\n".join(report.errors)
        counts.update(tests=1, errors=1)
    else:
        by_id: dict[str, list[Finding]] = {}
        for f in report.findings:
            by_id.setdefault(f.id, []).append(f)
        rules = list(report.rules) + [RuleInfo(id=i, area=fs[0].area, title=i) for i, fs in by_id.items()
                                      if i not in {r.id for r in report.rules}]
        for rule in rules:
            case = ET.SubElement(suite, "testcase", classname=rule.area or "launchready", name=rule.id)
            outcome = _fill(case, rule, by_id.get(rule.id, []), report)
            counts["tests"] += 1
            key = {"failure": "failures", "error": "errors", "skipped": "skipped"}.get(outcome)
            if key:
                counts[key] += 1
    for k, v in counts.items():
        suite.set(k, str(v))
        if k != "skipped":  # <testsuites> has no "skipped" in the JUnit schema CI validators use (Jenkins xunit)
            suites.set(k, str(v))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
