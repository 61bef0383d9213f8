"""Plan entitlements (policies/rules/entitlements.py): a happy resource, one field changed, the exact message."""
from __future__ import annotations

import pytest

from policies.props import RULESET
from policies.rules import entitlements
from policies.rules.entitlements import expression_fields

from .conftest import ZONE, messages, resource

pytestmark = pytest.mark.unit

LOGIN = 'http.host eq "app.example.com" and starts_with(http.request.uri.path, "/login")'


def rs(phase, rules):
    return resource(RULESET, "rs", zoneId=ZONE, kind="zone", phase=phase, name=phase, rules=rules)


def limit(i=0, action="block", period=60, timeout=600, expression=LOGIN, characteristics=("cf.colo.id", "ip.src")):
    return {"ref": f"ratelimit_{i}", "action": action, "expression": expression,
            "ratelimit": {"characteristics": list(characteristics), "period": period,
                          "requestsPerPeriod": 10, "mitigationTimeout": timeout}}


def limits(*rules):
    return [rs("http_ratelimit", list(rules))]


@pytest.fixture
def plan(stack_spec):
    """Put the zone on a plan: plan("pro")."""
    return lambda name: stack_spec({"launchready:zone": {"plan": name}})


def test_without_a_spec_no_entitlement_is_judged(monkeypatch):
    # No plan known: assume Enterprise (refuses nothing these rules check), never block on a guess.
    # (Patched: a program run earlier in the session may leave Pulumi runtime config behind.)
    monkeypatch.setattr(entitlements, "current_spec", lambda: None)
    for rule in ("plan-challenge-timeout", "plan-log-action", "plan-ratelimit-count", "plan-ratelimit-period"):
        assert messages(rule, limits(limit(action="log", period=3600), limit(1), limit(2))) == []


def test_challenge_timeout(plan):
    plan("business")
    assert messages("plan-challenge-timeout", limits(limit(action="managed_challenge", timeout=0))) == []
    assert messages("plan-challenge-timeout", limits(limit(action="managed_challenge", timeout=600))) == [
        "rateLimits[0]: action managed_challenge with 600 s mitigation timeout; on the Business plan a challenge "
        "needs mitigation timeout 0 (a duration needs Enterprise)."]
    assert messages("plan-challenge-timeout", limits(limit(action="block", timeout=600))) == []


def test_challenge_timeout_on_enterprise(plan):
    plan("enterprise")
    assert messages("plan-challenge-timeout", limits(limit(action="js_challenge", timeout=600))) == []


def test_log_action(plan):
    plan("pro")
    assert messages("plan-log-action", limits(limit(action="block"))) == []
    assert messages("plan-log-action", limits(limit(action="log", timeout=0))) == [
        "rateLimits[0]: action log is Enterprise only; the zone is on the Pro plan."]


def test_log_action_on_enterprise(plan):
    plan("enterprise")
    assert messages("plan-log-action", limits(limit(action="log", timeout=0))) == []


def test_ratelimit_count(plan):
    plan("pro")
    assert messages("plan-ratelimit-count", limits(limit(0), limit(1))) == []
    assert messages("plan-ratelimit-count", limits(limit(0), limit(1), limit(2))) == [
        "3 rate-limiting rules; the Pro plan allows 2 (Business allows 5)."]
    disabled = {**limit(2), "enabled": False}
    assert messages("plan-ratelimit-count", limits(limit(0), limit(1), disabled)) == []


def test_ratelimit_period_and_timeout(plan):
    plan("pro")
    assert messages("plan-ratelimit-period", limits(limit(period=60, timeout=3600))) == []
    assert messages("plan-ratelimit-period", limits(limit(period=600))) == [
        "rateLimits[0]: period 600 s is not offered on the Pro plan (offered: 10, 60)."]
    assert messages("plan-ratelimit-period", limits(limit(timeout=86400))) == [
        "rateLimits[0]: mitigation timeout 86400 s is not offered on the Pro plan (offered: 10, 60, 120, 300, 600, 3600)."]
    # A challenge's timeout is plan-challenge-timeout's to judge.
    assert messages("plan-ratelimit-period", limits(limit(action="managed_challenge", timeout=0))) == []


def test_ratelimit_period_on_free(plan):
    plan("free")
    assert messages("plan-ratelimit-period", limits(limit(period=10, timeout=10))) == []
    assert messages("plan-ratelimit-period", limits(limit(period=10, timeout=600))) == [
        "rateLimits[0]: mitigation timeout 600 s is not offered on the Free plan (offered: 10)."]


def test_ratelimit_characteristics(plan):
    plan("business")
    assert messages("plan-ratelimit-characteristics", limits(limit())) == []
    assert messages("plan-ratelimit-characteristics",
                    limits(limit(characteristics=("cf.colo.id", "http.request.headers[\"x-api-key\"]")))) == [
        'rateLimits[0]: counts by http.request.headers["x-api-key"], which the Business plan does not offer '
        "(offered: cf.colo.id, cf.unique_visitor_id, ip.src)."]


def test_ratelimit_fields(plan):
    plan("pro")
    assert messages("plan-ratelimit-fields", limits(limit())) == []
    with_method = f'({LOGIN} and http.request.method in {{"POST"}})'
    assert messages("plan-ratelimit-fields", limits(limit(expression=with_method))) == [
        "rateLimits[0]: the expression uses http.request.method, which the Pro plan does not offer in "
        "rate-limiting rules."]


def test_expression_fields_skip_string_literals():
    assert expression_fields('http.host eq "ip.src.example.com" and starts_with(http.request.uri.path, "/x")') == [
        "http.host", "http.request.uri.path"]


def test_managed_rulesets(plan):
    plan("free")
    free = {"action": "execute", "expression": "true", "actionParameters": {"id": "77454fe2d30c4220b5701f6fdfb893ba"}}
    owasp = {"action": "execute", "expression": "true", "actionParameters": {"id": "4814384a9e5d4991b9815dcfc25d2f1f"}}
    assert messages("plan-managed-rulesets", [rs("http_request_firewall_managed", [free])]) == []
    assert messages("plan-managed-rulesets", [rs("http_request_firewall_managed", [owasp])]) == [
        "the Cloudflare OWASP Core Ruleset needs the Pro plan or higher; the zone is on the Free plan."]


def test_derived_plan_passes_by_construction(stack_spec):
    # No zone.plan: the plan is the cheapest one the declared features need (here: log → Enterprise).
    stack_spec({"launchready:rateLimits": [{"path": "/login", "requests": 10, "action": "log"}]})
    assert messages("plan-log-action", limits(limit(action="log", timeout=0))) == []
