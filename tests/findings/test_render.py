"""The shared renderers format one findings Report the same way for every command: each status is
shown as what it is (could-not-check is never passed or failed), SARIF and JSON validate against
their schemas, JUnit counts what CI counts, Markdown fits a step summary."""
from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import jsonschema
import pytest

from infra.findings import Finding, Location, Report, RuleInfo, Status
from infra.findings.render import FORMATS, RENDERERS
from infra.findings.render.jsonfmt import json_schema

pytestmark = pytest.mark.unit

SARIF_SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "policies" / "sarif-schema-2.1.0.json").read_text())


def verify_report(*statuses: Status) -> Report:
    findings = tuple(
        Finding(id=f"check-{s.value.lower()}", status=s, area="dns", message=f"{s.value} | <b>message</b>",
                evidence={"seen": ["a", "b"]} if s is Status.FAIL else {},
                remediation="publish it" if s in (Status.FAIL, Status.WARN) else "",
                location=Location(target=f"{s.value.lower()}.example.com"),
                error_type="TimeoutError" if s is Status.ERROR else None)
        for s in statuses)
    rules = tuple(RuleInfo(id=f.id, area="dns", title=f"title of {f.id}") for f in findings)
    return Report(command="verify", stack="prod", findings=findings, rules=rules,
                  subject={"domain": "example.com", "nameservers": ["127.0.0.1:53"], "duration_s": 0.1,
                           "stackFile": "stacks/Pulumi.prod.yaml"})


ALL = (Status.PASS, Status.WARN, Status.FAIL, Status.ERROR, Status.SKIPPED)


@pytest.mark.parametrize("statuses,code", [
    ((Status.PASS, Status.WARN, Status.SKIPPED), 0),
    ((Status.PASS, Status.ERROR), 2),
    ((Status.ERROR, Status.FAIL), 1),
    ((Status.SKIPPED,), 2),
    ((), 2),
])
def test_verify_exit_code_says_could_not_check_apart_from_failed(statuses, code):
    assert verify_report(*statuses).exit_code == code


def test_gate_exit_code_keeps_could_not_run_advisory():
    f = Finding(id="r", status=Status.ERROR, level="advisory", message="can't run")
    assert Report(command="gate", stack="s", findings=(f,)).exit_code == 0
    assert Report(command="gate", stack="s", findings=(), errors=("bad spec",)).exit_code == 2


def test_json_validates_and_keeps_every_status():
    doc = json.loads(RENDERERS["json"](verify_report(*ALL)))
    jsonschema.validate(doc, json_schema())
    assert doc["summary"] == {s.value: 1 for s in ALL} and doc["exitCode"] == 1 and doc["passed"] is False
    by = {f["id"]: f for f in doc["findings"]}
    assert by["check-error"]["errorType"] == "TimeoutError" and by["check-fail"]["location"]["target"] == "fail.example.com"


def test_sarif_validates_and_maps_status_to_kind():
    doc = json.loads(RENDERERS["sarif"](verify_report(*ALL)))
    jsonschema.validate(doc, SARIF_SCHEMA)
    run = doc["runs"][0]
    kinds = {r["ruleId"]: (r["kind"], r["level"]) for r in run["results"]}
    assert kinds == {"check-pass": ("pass", "none"), "check-warn": ("fail", "warning"), "check-fail": ("fail", "error"),
                     "check-error": ("open", "none"), "check-skipped": ("notApplicable", "none")}
    fail = next(r for r in run["results"] if r["ruleId"] == "check-fail")
    assert fail["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "stacks/Pulumi.prod.yaml"
    assert fail["locations"][0]["logicalLocations"] == [{"name": "fail.example.com", "kind": "object"}]
    assert run["tool"]["driver"]["rules"][fail["ruleIndex"]]["id"] == "check-fail"
    assert run["invocations"][0]["exitCode"] == 1


def test_junit_counts_failures_errors_and_skips_as_ci_does():
    root = ET.fromstring(RENDERERS["junit"](verify_report(*ALL)).split("\n", 1)[1])
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("5", "1", "1", "1")
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == ("5", "1", "1", None)
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert cases["check-fail"].find("failure").text.startswith("fail.example.com: FAIL")
    assert cases["check-error"].find("error") is not None
    assert "warning: warn.example.com" in cases["check-warn"].find("system-out").text


def test_markdown_escapes_table_cells_and_names_the_fix():
    md = RENDERERS["md"](verify_report(*ALL))
    assert "### Failed (1)" in md and "### Could not check (1)" in md and "### Warnings (1)" in md
    assert "FAIL \\| &lt;b&gt;message&lt;/b&gt;" in md           # a pipe or tag in a message breaks no table
    assert "<code>check-fail</code>" in md and "publish it" in md
    assert md.rstrip().endswith("exit 1: a check failed**")


def test_text_shows_evidence_and_error_type_and_leaves_passes_out():
    text = RENDERERS["text"](verify_report(*ALL))
    assert "check-pass" not in text and "check-skipped" not in text
    assert 'seen: {"seen": ["a", "b"]}' in text and "(TimeoutError)" in text and "fix: publish it" in text


def test_input_errors_render_as_not_run_in_every_format():
    report = Report(command="verify", stack="prod", errors=("stacks/Pulumi.prod.yaml:3: domain: bad",))
    for fmt, render in RENDERERS.items():
        out = render(report)
        assert "stacks/Pulumi.prod.yaml:3: domain: bad" in out, fmt
        assert "passed" not in out.replace('"passed": false', ""), fmt
    root = ET.fromstring(RENDERERS["junit"](report).split("\n", 1)[1])
    assert root.get("errors") == "1"


def test_redaction_reaches_message_target_and_evidence():
    f = Finding(id="x", status=Status.FAIL, message="token s3cr3t-value", evidence={"k": ["s3cr3t-value"]},
                location=Location(target="s3cr3t-value.example.com"))
    r = f.redacted(lambda t: t.replace("s3cr3t-value", "[secret]"))
    assert "s3cr3t" not in json.dumps(r.to_dict())


def test_every_format_is_offered():
    assert set(FORMATS) == {"console", "text", "json", "sarif", "junit", "md"}


def test_sarif_help_points_at_the_commands_own_catalogue():
    doc = json.loads(RENDERERS["sarif"](verify_report(Status.FAIL)))
    assert doc["runs"][0]["tool"]["driver"]["rules"][0]["helpUri"] == "docs/verify.md#check-fail"
