"""The gate over generated stacks with tenant groups: a 1,000-tenant explicit group below a subdomain and
a wildcard group pass every rule (their auth flows rate limited by one expression each, their certificates
ordered, their expressions short, their monitors within the quota); monitors beyond the quota are blocked
with the count named."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from stackfiles import OWN_DOMAIN, own_values

from infra.findings import Status
from infra.findings.render import render_text
from infra.spec import load_stack
from policies.gate import GateOptions, run_gate

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "stacks" / "Pulumi.example.yaml"
SECRET_KEYS = ("cloudflare:apiToken", "launchready:smtpPassword", "launchready:stripeApiKey")
WILDCARD = f"*.teams.{OWN_DOMAIN}"


def tenant_stack(tmp_path: Path, name: str, sample: int = 2) -> Path:
    doc = yaml.safe_load(own_values(EXAMPLE.read_text()))
    config = doc["config"]
    config.update({key: {"secure": "v1:not-decrypted-here"} for key in SECRET_KEYS})
    config["launchready:tenantGroups"] = [
        {"name": "clients", "domain": f"clients.{OWN_DOMAIN}", "origin": "portal-lb.acme-hosting.net",
         "tenants": [f"t{i:04d}" for i in range(1000)], "sample": sample,
         "flows": {"login": "/login", "dashboard": "/dashboard"}},
        {"name": "teams", "domain": f"teams.{OWN_DOMAIN}", "origin": "portal-lb.acme-hosting.net", "wildcard": True,
         "tenants": ["alpha", "beta"], "except": ["admin"], "certificateAuthority": "google",
         "flows": {"login": "/login", "reset": "/password/reset"}},
    ]
    path = tmp_path / f"Pulumi.{name}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def gate(path: Path, tmp_path: Path, allow_wildcard: bool = True):
    policy = tmp_path / "policy-config.json"
    # A tenant group's wildcard is accepted by no-wildcard-records as declared; allowing it by name too
    # changes nothing (test_the_wildcard_of_a_group_needs_no_policy_config runs without it).
    policy.write_text(json.dumps({"no-wildcard-records": {"allowed": [WILDCARD] if allow_wildcard else []}}))
    return run_gate(GateOptions(stack=str(path), root=str(ROOT), scan_repo=False, policy_config=str(policy)))


def test_a_thousand_tenants_and_a_wildcard_group_pass(tmp_path):
    result = gate(tenant_stack(tmp_path, "tenants"), tmp_path)
    assert result.errors == ()
    assert result.of(Status.FAIL) == [], render_text(result)
    assert result.exit_code == 0
    judged = {r.id: r.level for r in result.rules}
    assert all(judged[rule] == "mandatory" for rule in {"health-check-quota", "certificate-pack-valid", "certificate-pack-caa", "rule-expression-length",
            "proxied-subdomain-certificate", "auth-rate-limited", "cache-never-private"})


def test_monitors_beyond_the_quota_are_blocked_with_the_count(tmp_path):
    path = tenant_stack(tmp_path, "sampled", sample=300)
    spec = load_stack(str(path))
    count = len(spec.monitoring.checks(spec))
    assert count > 200
    result = gate(path, tmp_path)
    failed = result.of(Status.FAIL)
    assert [f.id for f in failed] == ["health-check-quota"], render_text(result)
    assert failed[0].message.startswith(
        f"the stack declares {count:,} Route53 health checks; the account quota is 200 (monitoring.healthCheckQuota;")
    assert "tenantGroups[].sample" in failed[0].message
    assert result.exit_code == 1


def test_the_wildcard_of_a_group_needs_no_policy_config(tmp_path):
    result = gate(tenant_stack(tmp_path, "tenants"), tmp_path, allow_wildcard=False)
    assert result.of(Status.FAIL) == [], render_text(result)


def test_a_declared_host_under_a_wildcard_group_is_not_the_groups_to_rate_limit(tmp_path):
    """The program leaves a declared host under the wildcard out of the group's rules (it has its own
    record, so the wildcard does not answer for it); the gate must not ask the group's rule to cover it."""
    path = tenant_stack(tmp_path, "hostunder")
    doc = yaml.safe_load(path.read_text())
    doc["config"]["launchready:hosts"].append({"name": f"billing.teams.{OWN_DOMAIN}", "origin": "52.30.1.40"})
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    result = gate(path, tmp_path)
    assert [f for f in result.of(Status.FAIL) if f.id == "auth-rate-limited"] == [], render_text(result)


def test_an_apex_wildcard_group_passes_beside_the_declared_hosts(tmp_path):
    path = tenant_stack(tmp_path, "apexwild")
    doc = yaml.safe_load(path.read_text())
    doc["config"]["launchready:tenantGroups"] = [
        {"name": "everyone", "domain": OWN_DOMAIN, "origin": "portal-lb.acme-hosting.net", "wildcard": True,
         "tenants": ["alpha", "beta"], "flows": {"login": "/login"}}]
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    result = gate(path, tmp_path, allow_wildcard=False)
    assert result.of(Status.FAIL) == [], render_text(result)
