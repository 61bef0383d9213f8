"""example-values-replaced: a production stack copied from the example under another name is blocked
until its documentation values are replaced; the shipped `example` stack and non-production stacks
only hear about them (advisory); plan and gate judge with the same predicates."""
from __future__ import annotations

from pathlib import Path

import pytest
from pulumi_policy import EnforcementLevel
from stackfiles import own_values

from infra.findings import Status
from infra.findings.render import render_json, render_sarif, render_text
from policies.props import DNS_RECORD, SNS_SUBSCRIPTION
from policies.rules import initial_config

from .conftest import ZONE, messages, resource
from .test_gate import EXAMPLE, gate, secured

pytestmark = pytest.mark.unit

RULE = "example-values-replaced"


def record(name, rtype="A", content="52.30.1.10"):
    return resource(DNS_RECORD, f"{rtype.lower()}-{name}", zoneId=ZONE, name=name, type=rtype, content=content,
                    proxied=True, ttl=1)


# -- the rule, as the engine runs it ----------------------------------------------------------------------

def test_real_values_pass():
    assert messages(RULE, [record("acme-portal.eu"), record("app.acme-portal.eu", "CNAME", "lb.eu-west-1.elb.amazonaws.com")]) == []


def test_each_value_is_named_once_with_its_resource_and_field():
    found = messages(RULE, [record("acme-portal.eu", content="203.0.113.10"),
                            record("www.acme-portal.eu", content="203.0.113.10"),
                            record("app.example.com")])
    assert found == [
        "203.0.113.10 is a documentation address (RFC 5737/3849), nobody's server: DnsRecord 'a-acme-portal.eu' field content (and 1 more).",
        "the domain example.com is reserved for documentation (RFC 2606): DnsRecord 'a-app.example.com' field name.",
    ]


def test_account_lambda_and_dkim_placeholders():
    fake_dkim = '"v=DKIM1; k=rsa; p=MIIBIjANBgkqFAKEexampleKEY"'
    found = messages(RULE, [
        resource("cloudflare:index/workersScript:WorkersScript", "worker", accountId="0123456789abcdef0123456789abcdef"),
        resource("aws:secretsmanager/secretRotation:SecretRotation", "rotation",
                 rotationLambdaArn="arn:aws:lambda:eu-west-1:123456789012:function:rotate"),
        record("google._domainkey.acme-portal.eu", "TXT", fake_dkim),
    ])
    assert found == [
        "0123456789abcdef0123456789abcdef is the example's placeholder Cloudflare account id: WorkersScript 'worker' field accountId.",
        "arn:aws:lambda:eu-west-1:123456789012:function:rotate is in AWS's documentation account 123456789012: SecretRotation 'rotation' field rotationLambdaArn.",
        "the DKIM key published at google._domainkey.acme-portal.eu is the example's fake, not a public key: DnsRecord 'txt-google._domainkey.acme-portal.eu' field content.",
    ]


def test_an_alert_webhook_is_named_without_its_credential():
    token = "T0AAAAAAA/B0BBBBBBB/abcdef1234567890abcdef12"
    found = messages(RULE, [resource(SNS_SUBSCRIPTION, "monitors-webhook-0", protocol="https",
                                     endpoint=f"https://hooks.example.com/services/{token}")])
    assert found == ["https://hooks.example.com/[secret] is an address in a reserved domain (RFC 2606), which nobody reads: "
                     "TopicSubscription 'monitors-webhook-0' field endpoint."]
    assert "abcdef1234567890" not in found[0]


# -- the levels: production blocks, the template stack and other environments advise ---------------------

@pytest.mark.parametrize("environment,stack,level", [
    ("production", "prod", None), ("production", None, None), ("production", "example", EnforcementLevel.ADVISORY),
    ("staging", "staging", EnforcementLevel.ADVISORY), ("development", "example", EnforcementLevel.ADVISORY),
])
def test_initial_level(environment, stack, level):
    assert initial_config(environment, stack).get(RULE) == level


def test_the_pack_learns_the_stack_name_the_engine_hands_it(monkeypatch):
    from policies.context import stack_name

    monkeypatch.setenv("PULUMI_STACK", "example")
    assert stack_name() == "example"
    monkeypatch.delenv("PULUMI_STACK")
    assert stack_name() is None


# -- the gate ------------------------------------------------------------------------------------------

def _copy(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"Pulumi.{name}.yaml"
    path.write_text(secured(text))
    return path


def test_a_production_copy_of_the_example_fails_on_exactly_this_rule(tmp_path):
    path = _copy(tmp_path, "prod", EXAMPLE.read_text())
    result = gate(path)
    assert result.exit_code == 1
    assert {f.id for f in result.of(Status.FAIL)} == {RULE}, render_text(result)
    lines = path.read_text().splitlines()

    def line_of(fragment: str) -> str:
        (found,) = [f for f in result.of(Status.FAIL) if fragment in f.message]
        return lines[found.location.line - 1]
    # Each value is named once, at the stack-file line that holds it.
    assert "launchready:domain: example.com" in line_of("the domain example.com ")
    assert "origin: 203.0.113.10" in line_of("203.0.113.10 ")
    assert "origin: 203.0.113.20" in line_of("203.0.113.20 ")
    assert "accountId: 0123456789abcdef0123456789abcdef" in line_of("Cloudflare account id")
    assert "lambdaArn: arn:aws:lambda" in line_of("AWS's documentation account")
    assert "dkimKey:" in line_of("DKIM key")
    assert "email: [oncall@example.com]" in line_of("oncall@example.com ")
    assert "webhooks: [https://hooks.example.com" in line_of("https://hooks.example.com")
    assert len(result.of(Status.FAIL)) == 8
    for fmt in (render_text, render_json, render_sarif):
        assert RULE in fmt(result)


def test_the_same_copy_passes_once_its_values_are_replaced(tmp_path):
    result = gate(_copy(tmp_path, "prod", own_values(EXAMPLE.read_text())))
    assert result.exit_code == 0, render_text(result)
    assert RULE not in {f.id for f in result.findings}


def test_the_example_stack_passes_with_the_advisory_shown():
    result = gate(EXAMPLE)
    assert result.exit_code == 0
    warned = [f for f in result.of(Status.WARN) if f.id == RULE]
    assert warned and {f.level for f in warned} == {"advisory"}
    assert "203.0.113.10 is a documentation address" in render_text(result)


def test_a_staging_copy_is_advised_not_blocked(tmp_path):
    text = EXAMPLE.read_text().replace("launchready:environment: production", "launchready:environment: staging")
    result = gate(_copy(tmp_path, "stage", text))
    assert RULE not in {f.id for f in result.of(Status.FAIL)}
    assert RULE in {f.id for f in result.of(Status.WARN)}


def test_plan_and_gate_agree_on_what_is_a_placeholder(tmp_path):
    """The plan's advisories and the rule share infra/knowledge/placeholders.py: both see the
    example's values, neither sees a stack of one's own."""
    from infra.mockrun import run_program
    from infra.placeholders import placeholder_notes
    from infra.spec import parse_spec, read_stack_file

    for text, expected in ((EXAMPLE.read_text(), True), (own_values(EXAMPLE.read_text()), False)):
        path = _copy(tmp_path, "prod", text)
        source = read_stack_file(path)
        notes = placeholder_notes(run_program(source, stack="prod", spec=parse_spec(source)))
        fails = [f for f in gate(path).of(Status.FAIL) if f.id == RULE]
        assert bool(notes) is expected and bool(fails) is expected, (notes, fails)
