"""zone.plan: declared, or the cheapest Cloudflare plan the stack's features need; and the mitigation
timeout the program sends on that plan."""
from __future__ import annotations

import pytest

from infra.spec import Spec, SpecError, load_stack
from infra.spec.zoneplan import derived_plan, mitigation_timeout, plan_summary

HOSTS = [{"name": "example.com", "origin": "203.0.113.1"}, {"name": "www.example.com", "origin": "203.0.113.1"}]


def spec(*limits, plan=None, waf=None) -> Spec:
    doc = {"domain": "example.com", "hosts": HOSTS, "rateLimits": list(limits),
           "waf": waf if waf is not None else {"managedRulesets": []}}
    if plan:
        doc["zone"] = {"plan": plan}
    return Spec.model_validate(doc)


def limit(**kw):
    return {"path": "/login", "requests": 10, "period": 10, "mitigationTimeout": 10, **kw}


def test_cheapest_plan_for_what_is_declared():
    assert spec().plan == "free"
    assert spec(waf={"managedRulesets": ["owasp"]}).plan == "pro"
    # The program's expression names the host: not a Free field.
    assert spec(limit()).plan == "pro"
    assert spec(limit(), limit(path="/reset")).plan == "pro"
    assert spec(limit(), limit(path="/reset"), limit(path="/invite")).plan == "business"
    assert spec(limit(methods=["POST"])).plan == "business"
    assert spec(limit(period=600)).plan == "business"
    assert spec(limit(period=3600)).plan == "enterprise"
    assert spec(limit(mitigationTimeout=86400)).plan == "business"
    assert spec(limit(action="log")).plan == "enterprise"
    assert spec(limit(action="managed_challenge", mitigationTimeout=600)).plan == "enterprise"
    assert spec(limit(action="managed_challenge", mitigationTimeout=0)).plan == "pro"
    assert spec(limit(action="managed_challenge", mitigationTimeout=None)).plan == "pro"
    # A value no plan accepts is ratelimit-period-allowed's to report; derivation does not crash on it.
    assert spec(limit(period=30)).plan == "enterprise"


def test_declared_plan_wins_over_the_derived_one():
    s = spec(limit(action="log"), plan="pro")
    assert s.plan == "pro" and derived_plan(s) == "enterprise"
    assert plan_summary(s) == {"plan": "pro", "declared": True, "neededBy": ["a rate limit per host"]}


def test_plan_summary_names_what_needs_the_derived_plan():
    assert plan_summary(spec(limit(action="log"), limit(path="/reset"))) == {
        "plan": "enterprise", "declared": False, "neededBy": ["the log action"]}


def test_shipped_stacks():
    example, staging = load_stack("example"), load_stack("staging")
    assert example.plan == "business" and example.zone.plan is None
    assert plan_summary(example)["neededBy"] == ["a rate limit per request method", "5 rate-limiting rules"]
    assert staging.plan == "business" and staging.zone.plan == "business"


def test_zone_plan_and_timeout_values_are_validated():
    with pytest.raises(Exception, match="free"):
        spec(plan="starter")
    assert spec(limit(mitigationTimeout=0)).rate_limits[0].mitigation_timeout == 0
    with pytest.raises(Exception, match="0 or a positive number"):
        spec(limit(mitigationTimeout=-1))


def test_zone_plan_in_a_stack_file(tmp_path):
    path = tmp_path / "Pulumi.p.yaml"
    path.write_text("config:\n  launchready:domain: example.com\n  launchready:zone:\n    plan: gold\n"
                    "  launchready:hosts:\n    - name: example.com\n      origin: 203.0.113.1\n"
                    "    - name: www.example.com\n      origin: 203.0.113.1\n")
    with pytest.raises(SpecError, match=r"zone\.plan"):
        load_stack(str(path))


@pytest.mark.parametrize(("plan", "action", "declared", "sent"), [
    ("pro", "managed_challenge", None, 0),        # the API refuses anything else below Enterprise
    ("business", "js_challenge", None, 0),
    ("enterprise", "managed_challenge", None, 600),
    ("pro", "block", None, 600),
    ("free", "block", None, 10),                  # Free offers only 10 s
    ("enterprise", "log", None, 0),
    ("pro", "managed_challenge", 600, 600),       # as declared: plan-challenge-timeout reports it
])
def test_mitigation_timeout_sent(plan, action, declared, sent):
    rl = spec(limit(action=action, mitigationTimeout=declared)).rate_limits[0]
    assert mitigation_timeout(rl, plan) == sent
