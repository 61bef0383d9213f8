"""Monitors under mocks: a health check per host and flow, every alarm wired to the encrypted topic."""
from __future__ import annotations

import json

import pytest

from infra.spec import load_stack

pytestmark = pytest.mark.unit

CHECK = "aws:route53/healthCheck:HealthCheck"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"
SUB = "aws:sns/topicSubscription:TopicSubscription"
KEY = "aws:kms/key:Key"


def test_a_health_check_for_each_host(example_run):
    checks = {(c.inputs["fqdn"], c.inputs["resourcePath"]) for c in example_run.of_type(CHECK)}
    spec = load_stack("example")
    for host in spec.hosts:
        assert any(fqdn == host.name for fqdn, _ in checks), f"no health check for {host.name}"
    assert ("api.example.com", "/v1/health") in checks
    assert ("app.example.com", "/password/reset") in checks and ("app.example.com", "/login") in checks


def test_health_checks_are_https_with_sni_and_latency(example_run):
    for c in example_run.of_type(CHECK):
        assert c.inputs["type"] == "HTTPS" and c.inputs["port"] == 443
        assert c.inputs["enableSni"] is True and c.inputs["measureLatency"] is True
        assert c.inputs["tags"]["launchready:stack"] == "example" and c.inputs["tags"]["launchready:monitor"]


def test_every_alarm_wired_to_the_topic(example_run):
    (topic,) = example_run.of_type(TOPIC)
    arn = topic.outputs["arn"]
    alarms = example_run.of_type(ALARM)
    assert alarms
    for a in alarms:
        assert a.inputs["alarmActions"] == [arn], a.name
        assert a.inputs["okActions"] == [arn], a.name
        assert a.inputs["region"] == "us-east-1"  # Route53 metrics exist only there
        assert a.inputs["namespace"] == "AWS/Route53"


def test_two_alarms_per_health_check(example_run):
    ids = {c.id for c in example_run.of_type(CHECK)}
    by_check: dict[str, set[str]] = {}
    for a in example_run.of_type(ALARM):
        by_check.setdefault(a.inputs["dimensions"]["HealthCheckId"], set()).add(a.inputs["metricName"])
    assert set(by_check) == ids
    assert all(m == {"HealthCheckStatus", "TimeToFirstByte"} for m in by_check.values())


def test_latency_alarm_is_p95_over_500ms(example_run):
    slow = [a.inputs for a in example_run.of_type(ALARM) if a.inputs["metricName"] == "TimeToFirstByte"]
    assert slow and all(a["extendedStatistic"] == "p95" and a["threshold"] == 500
                        and a["comparisonOperator"] == "GreaterThanThreshold" for a in slow)


def test_latency_threshold_from_the_spec(run_with):
    run = run_with(lambda c: c["launchready:monitoring"].update(latencyThresholdMs=300))
    assert {a.inputs["threshold"] for a in run.of_type(ALARM) if a.inputs["metricName"] == "TimeToFirstByte"} == {300}


def test_topic_encrypted_with_a_key_cloudwatch_may_use(example_run):
    (topic,) = example_run.of_type(TOPIC)
    keys = {k.outputs["arn"]: k for k in example_run.of_type(KEY)}
    key = keys[topic.inputs["kmsMasterKeyId"]]
    assert key.inputs["enableKeyRotation"] is True and key.inputs["region"] == "us-east-1"
    policy = json.loads(key.inputs["policy"])
    cw = [s for s in policy["Statement"] if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
    assert cw and set(cw[0]["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}


def test_subscriptions_from_the_spec(example_run):
    subs = {(s.inputs["protocol"], s.inputs["endpoint"]) for s in example_run.of_type(SUB)}
    assert subs == {("email", "oncall@example.com"), ("https", "https://hooks.example.com/launchready/alerts")}


def test_cloudflare_certificate_notifications(example_run):
    policies = example_run.of_type("cloudflare:index/notificationPolicy:NotificationPolicy")
    assert {p.inputs["alertType"] for p in policies} == {"universal_ssl_event_type", "dedicated_ssl_certificate_event_type"}
    for p in policies:
        assert p.inputs["mechanisms"]["emails"] == [{"id": "oncall@example.com"}]
        assert p.inputs["filters"]["zones"] == ["0" * 32]


def test_contract_lists_the_monitors(example_run):
    mon = example_run.outputs["launchContract"]["monitoring"]
    assert {c["key"] for c in mon["checks"]} == set(example_run.outputs["healthCheckIds"])
    assert len(mon["alarms"]) == 2 * len(mon["checks"])
    assert mon["latencyThresholdMs"] == 500 and mon["metricsRegion"] == "us-east-1"


def test_latency_statistic_can_fall_back_to_average(run_with):
    run = run_with(lambda c: c["launchready:monitoring"].update(latencyStatistic="Average"))
    slow = [a.inputs for a in run.of_type(ALARM) if a.inputs["metricName"] == "TimeToFirstByte"]
    assert slow and all(a["statistic"] == "Average" and "extendedStatistic" not in a for a in slow)


def test_health_check_reference_names_are_short_stable_and_unique():
    """Route53 referenceName: at most 27 characters (the provider appends a 37-character id), unique per
    check, and the same on every run (a change replaces the check and its alarms)."""
    from infra.spec.monitorspec import REFERENCE_NAME_MAX, CheckPlan

    long_key = "flow-" + "tenant-with-a-very-long-name." * 4 + "example.com-dashboard"
    plans = [CheckPlan(key=k, host="h", path="/", flow=None) for k in
             ("flow-app.example.com-dashboard", "flow-app.example.com-dashboarx", long_key, long_key + "2", "x")]
    names = [p.reference_name for p in plans]
    assert all(len(n) <= REFERENCE_NAME_MAX for n in names), names
    assert len(set(names)) == len(names)
    assert names == [CheckPlan(key=p.key, host="h", path="/", flow=None).reference_name for p in plans]
    assert names[0].startswith("flow-app-example")


def test_example_health_checks_carry_valid_reference_names(example_run):
    names = [r.inputs["referenceName"] for r in example_run.of_type("aws:route53/healthCheck:HealthCheck")]
    assert names and all(len(n) <= 27 for n in names) and len(set(names)) == len(names), names
