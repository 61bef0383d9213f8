"""`launchready report` over one recorded result set (tests/report/results: plan and gate of the
example stack, a hand-made verify with a FAIL, a certificate WARN, an ERROR, DMARC at p=none and
PASSes): every format renders, JSON, JUnit and SARIF validate against their schemas, a bad results
file is one line naming it, and the spec's secret values never reach a report."""
from __future__ import annotations

import json
import re
import shutil
import tomllib
from importlib import import_module
from pathlib import Path
from xml.etree import ElementTree as ET

import jsonschema
import pytest

from infra.findings.render.jsonfmt import json_schema

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
SARIF_SCHEMA = json.loads((ROOT / "tests" / "policies" / "sarif-schema-2.1.0.json").read_text())
JUNIT_XSD = Path(__file__).resolve().parent / "junit.xsd"
SECTIONS = ("Summary", "Declared", "Verified", "Broken — how to fix", "Watch", "Manual checks", "What changed")


@pytest.mark.parametrize("fmt", ["md", "html", "json", "junit", "sarif"])
def test_every_format_renders_from_the_recorded_results_with_the_worst_exit_code(report, results, fmt):
    code, out, err = report("--results", str(results), "--format", fmt)
    assert code == 1, err          # verify failed (1) beats its ERROR (2) and the gate's 0
    assert out.strip() and not err


def test_json_is_a_findings_document_that_keeps_each_commands_part(report, results):
    code, out, _ = report("--results", str(results), "--format", "json")
    doc = json.loads(out)
    jsonschema.validate(doc, json_schema())
    assert (doc["command"], doc["exitCode"], doc["passed"]) == ("report", 1, False)
    parts = {p["command"]: p for p in doc["subject"]["parts"]}
    assert [p["command"] for p in doc["subject"]["parts"]] == ["plan", "gate", "verify"]
    assert (parts["plan"]["exitCode"], parts["gate"]["exitCode"], parts["verify"]["exitCode"]) == (0, 0, 1)
    assert sum(p["findings"] for p in parts.values()) == len(doc["findings"])
    certs = doc["subject"]["watch"]["certificates"]
    assert [(c["host"], c["watch"]) for c in certs][0] == ("app.example.com", True)
    assert doc["subject"]["declared"]["domain"] == "example.com"
    assert {m["id"] for m in doc["subject"]["manualChecks"]} >= {
        "cloudflare-admin-mfa", "aws-admin-mfa", "registrar-lock", "dnssec-ds-at-registrar", "cutover-dns"}


def test_junit_validates_against_the_junit_schema_one_suite_per_command(report, results):
    import xmlschema

    _, out, _ = report("--results", str(results), "--format", "junit")
    xmlschema.XMLSchema(str(JUNIT_XSD)).validate(out.split("\n", 1)[1])
    root = ET.fromstring(out.split("\n", 1)[1])
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert set(suites) == {"launchready-plan.example", "launchready-gate.example", "launchready-verify.example"}
    verify = suites["launchready-verify.example"]
    assert (verify.get("failures"), verify.get("errors")) == ("1", "1")
    assert root.get("failures") == "1" and root.get("errors") == "1"


def test_each_commands_own_junit_validates_too():
    import xmlschema

    from infra.findings.load import load_report
    from infra.findings.render.junit import render_junit

    schema = xmlschema.XMLSchema(str(JUNIT_XSD))
    for name in ("gate", "verify", "plan"):
        rep, _ = load_report(ROOT / "tests" / "report" / "results" / f"{name}.json")
        schema.validate(render_junit(rep).split("\n", 1)[1])


def test_sarif_validates_one_run_per_command_with_its_exit_code(report, results):
    _, out, _ = report("--results", str(results), "--format", "sarif")
    doc = json.loads(out)
    jsonschema.validate(doc, SARIF_SCHEMA)
    runs = {r["tool"]["driver"]["name"]: r for r in doc["runs"]}
    assert set(runs) == {"launchready-plan", "launchready-gate", "launchready-verify"}
    assert [r["invocations"][0]["exitCode"] for r in doc["runs"]] == [0, 0, 1]
    kinds = {r["ruleId"]: r["kind"] for r in runs["launchready-verify"]["results"]}
    assert kinds["hsts-max-age"] == "fail" and kinds["latency-p95"] == "open"


def test_markdown_is_the_handover_checklist(report, results):
    _, md, _ = report("--results", str(results), "--format", "md")
    for section in SECTIONS:
        assert f"## {section}" in md
    assert "| FAIL | `hsts-max-age` | app.example.com |" in md
    assert "serve Strict-Transport-Security: max-age=31536000" in md             # the fix
    assert "| `app.example.com` | **21.5** |" in md                              # certificate to watch
    assert "still p=none" in md and "- [ ] **Registrar lock on example.com**" in md
    assert "`latency-p95` | https://app.example.com/dashboard |" in md          # could not check, with its target


def test_a_bad_results_file_is_one_line_naming_it(report, results):
    (results / "junk.json").write_text('{"schema": "launchready.findings/v2", "command": "verify"}')
    code, out, err = report("--results", str(results))
    assert code == 2 and not out
    assert err.count("\n") == 1 and "junk.json" in err and "does not match schema" in err
    (results / "junk.json").write_text("not json")
    code, _, err = report("--results", str(results))
    assert code == 2 and "junk.json: not JSON" in err


def test_results_of_another_stack_or_an_empty_dir_are_refused(report, results, tmp_path):
    doc = json.loads((results / "verify.json").read_text())
    (results / "verify.json").write_text(json.dumps({**doc, "stack": "prod"}))
    code, _, err = report("--results", str(results))
    assert code == 2 and "not 'example'" in err
    (tmp_path / "empty").mkdir()
    code, _, err = report("--results", str(tmp_path / "empty"))
    assert code == 2 and "no *.json results" in err


def test_the_worst_part_decides_the_exit_code(report, results):
    (results / "verify.json").unlink()
    code, out, _ = report("--results", str(results), "--format", "md")
    assert code == 0 and "No verify result: the live world was not checked" in out


def test_the_report_is_a_registered_command_and_every_entry_point_loads():
    from infra.cli import ORDER
    from infra.commands import CommandLine

    eps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]["launchready.commands"]
    assert eps["report"] == "infra.report.cli:register" and set(eps) <= set(ORDER)
    import argparse

    sub = argparse.ArgumentParser().add_subparsers()
    for value in eps.values():
        module, _, attr = value.partition(":")
        getattr(import_module(module), attr)(CommandLine(sub))
    assert "report" in sub.choices


def test_templates_ship_as_package_data():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["*"]
    assert "*.j2" in data
    assert {p.name for p in (ROOT / "infra" / "report").glob("*.j2")} == {"handover.md.j2", "handover.html.j2"}


def test_nothing_secret_reaches_any_format(report, results, tmp_path):
    """A stack with secret config values set: the report reads names, never values."""
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    text = (ROOT / "stacks" / "Pulumi.example.yaml").read_text()
    cipher = "v1:S3cr3tCipherTextNeverShown0123456789abcdef=="
    text = text.replace("config:\n", f"config:\n  launchready:smtpPassword:\n    secure: {cipher}\n", 1)
    (stacks / "Pulumi.example.yaml").write_text(text)
    for fmt in ("md", "html", "json", "junit", "sarif"):
        code, out, err = report("--stacks-dir", str(stacks), "--results", str(results), "--format", fmt)
        assert code == 1, err
        assert "S3cr3tCipherText" not in out


def test_outputs_hand_the_ds_record_and_nameservers(report, results, tmp_path):
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"nameServers": ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"],
                                   "dnssecDs": "example.com. 3600 IN DS 2371 13 2 AB12CD", "apiToken": "[secret]"}))
    _, md, _ = report("--results", str(results), "--outputs", str(outputs), "--format", "md")
    assert "example.com. 3600 IN DS 2371 13 2 AB12CD" in md
    assert re.search(r"DNS changes at cutover.*ada\.ns\.cloudflare\.com, bob\.ns\.cloudflare\.com", md)


def test_results_and_verify_are_exclusive(report, results):
    code, _, err = report("--results", str(results), "--verify")
    assert code == 2 and "--verify" in err


def test_without_results_it_runs_plan_and_gate_in_process(report, tmp_path):
    """The default: plan and gate run now, through their entry points (offline), verify only when asked."""
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    shutil.copy(ROOT / "stacks" / "Pulumi.example.yaml", stacks)
    code, out, err = report("--stacks-dir", str(stacks), "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert [p["command"] for p in doc["subject"]["parts"]] == ["plan", "gate"]
    assert all(p["source"] == "run now" for p in doc["subject"]["parts"])
    assert any("No verify result" in m for m in doc["subject"]["watch"]["missing"])


def test_a_tenant_group_is_one_line_in_the_handover_not_a_record_per_tenant(tmp_path):
    from infra.report.handover import declared
    from infra.spec import load_stack
    from tests.stackfiles import CLIENTS, PARTNERS, stack_with, with_groups

    many = {**PARTNERS, "tenants": [f"t{i}" for i in range(400)]}
    doc = declared(load_stack(str(stack_with(tmp_path, with_groups(CLIENTS, many)))), "variant")
    assert [line.split(":")[0] for line in doc["tenantGroups"]] == ["tenant group clients", "tenant group partners"]
    assert "400 tenants under example.com" in doc["tenantGroups"][1]
    names = [r["name"] for r in doc["records"]]
    assert "*.portal.example.com" in names and not any(n.startswith("t1") for n in names)
    assert any("tenant group clients" in r for r in doc["rateLimits"])
    assert doc["monitorCost"].startswith("about $") and "of the account's quota of 200 health checks" in doc["monitorCost"]
