"""The launch program over tenant groups: what a group costs in resources, rules and monitors."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.stackfiles import CLIENTS, PARTNERS, ROOT, stack_with, with_groups

pytestmark = pytest.mark.unit

RECORD = "cloudflare:index/dnsRecord:DnsRecord"
CHECK = "aws:route53/healthCheck:HealthCheck"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
PACK = "cloudflare:index/certificatePack:CertificatePack"
RULESET = "cloudflare:index/ruleset:Ruleset"


def _rules(run, phase):
    (ruleset,) = [r for r in run.of_type(RULESET) if r.inputs["phase"] == phase]
    return ruleset.inputs["rules"]


def test_a_thousand_tenants_cost_records_only(run_with, example_run):
    big = {**PARTNERS, "tenants": [f"t{i}" for i in range(1000)]}
    run = run_with(with_groups(big))
    grown = {t: len(run.of_type(t)) - len(example_run.of_type(t)) for t in (RECORD, CHECK, ALARM, RULESET)}
    # One record per tenant; the sampled tenant brings one check per flow path besides /, two alarms each.
    assert grown == {RECORD: 1000, CHECK: 2, ALARM: 4, RULESET: 0}


def test_a_wildcard_group_is_one_record_and_one_certificate(run_with, example_run):
    run = run_with(with_groups(CLIENTS))
    names = {r.inputs["name"] for r in run.of_type(RECORD)} - {r.inputs["name"] for r in example_run.of_type(RECORD)}
    assert names == {"*.portal.example.com", "admin.portal.example.com"}
    (pack,) = run.of_type(PACK)
    assert pack.inputs["hosts"] == ["example.com", "portal.example.com", "*.portal.example.com"]
    assert (pack.inputs["type"], pack.inputs["validationMethod"], pack.inputs["validityDays"]) == ("advanced", "txt", 90)
    assert not example_run.of_type(PACK)


def test_edge_rules_cover_a_group_with_one_expression(run_with, example_run):
    run = run_with(with_groups(CLIENTS, PARTNERS, redirects=[{"from": "/signin", "to": "/login", "group": "clients"}]))
    assert len(_rules(run, "http_ratelimit")) == len(_rules(example_run, "http_ratelimit"))
    login = next(r for r in _rules(run, "http_ratelimit") if '"/login"' in r["expression"])
    assert 'http.host wildcard "*.portal.example.com"' in login["expression"]
    assert '"partner0.example.com"' in login["expression"]
    (legacy,) = [r for r in _rules(run, "http_request_dynamic_redirect") if "tenant" in r["description"]]
    assert legacy["actionParameters"]["fromValue"]["targetUrl"] == {"expression": 'concat("https://", http.host, "/login")'}
    assert all(len(r["expression"]) <= 4096 for phase in ("http_ratelimit", "http_request_cache_settings")
               for r in _rules(run, phase))


def test_monitors_watch_the_sample_not_every_tenant(run_with):
    run = run_with(with_groups({**CLIENTS, "tenants": [f"t{i}" for i in range(500)], "sample": 2}))
    watched = {c.inputs["fqdn"] for c in run.of_type(CHECK) if c.inputs["fqdn"].endswith(".portal.example.com")}
    assert watched == {"t0.portal.example.com", "t1.portal.example.com"}
    monthly = run.outputs["launchContract"]["monitoring"]["monthly"]
    assert monthly["healthChecks"] == len(run.of_type(CHECK)) and monthly["alarms"] == len(run.of_type(ALARM))
    assert monthly["quota"] == 200 and monthly["usd"] == pytest.approx(monthly["healthChecks"] * 4.75 + monthly["alarms"] * 0.10)


def test_the_contract_lists_every_tenant_and_sends_the_sample_to_the_full_checks(run_with):
    contract = run_with(with_groups(CLIENTS)).outputs["launchContract"]
    (group,) = contract["tenantGroups"]
    assert group["hosts"] == ["acme.portal.example.com", "globex.portal.example.com", "initech.portal.example.com"]
    assert group["exceptions"] == ["admin.portal.example.com"]
    assert [h["name"] for h in contract["hosts"] if h.get("group") == "clients"] == group["sampled"]


def _plan(path, *extra) -> str:
    return subprocess.run([sys.executable, "-m", "infra.cli", "plan", "--stack", str(path), *extra],
                          capture_output=True, text=True, check=True, env={"COLUMNS": "200", "PATH": ""}).stdout


def test_plan_shows_a_group_as_one_line_and_expands_it_on_request(tmp_path):
    path = stack_with(tmp_path, with_groups({**PARTNERS, "tenants": [f"t{i}" for i in range(300)]}))
    folded = _plan(path)
    assert "tenant group partners: 300 tenants under example.com → A 203.0.113.30 (proxied)" in folded
    assert "300 records A <tenant>" in folded and "t17.example.com" not in folded
    assert "monitors: " in folded and "of the account's quota of 200 health checks" in folded
    expanded = _plan(path, "--expand", "partners")
    assert "A t17.example.com → 203.0.113.30" in expanded
    doc = json.loads(_plan(path, "--json"))
    assert doc["tenantGroups"][0].startswith("tenant group partners: 300 tenants")


def test_expanding_a_group_that_does_not_exist_names_the_known_ones(tmp_path):
    path = stack_with(tmp_path, with_groups(PARTNERS))
    proc = subprocess.run([sys.executable, "-m", "infra.cli", "plan", "--stack", str(path), "--expand", "partner"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and not proc.stdout
    assert proc.stderr.strip() == "launchready plan: --expand 'partner' is not a tenant group (known: partners; or 'all')"


def test_two_runs_of_the_program_list_resources_in_the_same_order(example_run):
    from infra.mockrun import run_program
    from infra.spec import read_stack_file
    again = run_program(read_stack_file(ROOT / "stacks" / "Pulumi.example.yaml"), stack="example")
    assert [r.urn for r in again.resources] == [r.urn for r in example_run.resources]
