"""Monitors: a Route53 health check per declared host and path with the right target, an alarm on
each with actions to the alert topic, a topic someone confirmed; and, with --fire-drill, alarms that
really reach a subscriber.

Health checks are found as infra creates them: by the tags launchready:stack and launchready:monitor,
else by the CallerReference the provider builds from referenceName. Alarms by the health check they
watch (the HealthCheckId dimension), else by name.

A topic whose only subscriptions still wait for confirmation is a FAIL: SNS delivers nothing to a
pending subscription, so nobody hears an alarm. Confirmed and pending together is a WARN.
"""
from __future__ import annotations

from ..awsexpect import AlarmExpectation, AwsExpectations, HealthCheckExpectation
from ..model import Verdict, failed, passed, skipped, warned
from ..probes.awsprobes import AlarmObservation, HealthCheckObservation, TopicObservation
from ..registry import Item, NotApplicable, Observations, check, checks_of, key
from .awscommon import GROUP, with_aws

TAG_MONITOR = "launchready:monitor"   # infra.components.monitors.TAG_MONITOR (verify does not import components)
TAG_STACK = "launchready:stack"


def _topic_key(aws: AwsExpectations):
    return key("aws-topic", aws.metrics_region, aws.topic_name)


def find_health_check(aws: AwsExpectations, e: HealthCheckExpectation,
                      checks: tuple[HealthCheckObservation, ...]) -> HealthCheckObservation | None:
    tagged = [c for c in checks if c.tag(TAG_MONITOR) == e.key and c.tag(TAG_STACK) in (None, aws.stack)]
    by_ref = [c for c in checks if c.caller_reference.startswith(e.reference_name + "-")
              or c.caller_reference == e.reference_name]
    return (tagged or by_ref or [None])[0]


@with_aws("monitoring", lambda a: bool(a.health_checks))
def _plan_checks(aws: AwsExpectations):
    return [Item(target=e.label, needs=(key("aws-health-checks"),), data=(aws, e)) for e in aws.health_checks]


@check("aws-health-check", GROUP, "a Route53 HTTPS health check (SNI) for each declared host and path",
       plan=_plan_checks)
def judge_health_check(item: Item, obs: Observations) -> Verdict:
    aws, e = item.data
    hc = find_health_check(aws, e, obs[key("aws-health-checks")])
    if hc is None:
        return failed(f"no health check for {e.label}", "`pulumi up` creates it (launchready:monitoring); an outage "
                      "of this host would alert nobody", monitor=e.key, reference_name=e.reference_name)
    wrong = []
    if hc.type not in ("HTTPS", "HTTPS_STR_MATCH"):
        wrong.append(f"type {hc.type} (expected HTTPS)")
    if hc.fqdn != e.host:
        wrong.append(f"host {hc.fqdn or '(none)'} (expected {e.host})")
    if hc.path != e.path:
        wrong.append(f"path {hc.path} (expected {e.path})")
    if hc.port not in (None, 443):
        wrong.append(f"port {hc.port} (expected 443)")
    if not hc.sni:
        wrong.append("SNI off (the edge then presents no certificate for the host)")
    ev = {"health_check_id": hc.id, "type": hc.type, "fqdn": hc.fqdn, "path": hc.path, "sni": hc.sni}
    if wrong:
        return failed(f"the health check of {e.label} has {', '.join(wrong)}", "`pulumi up` restores it", **ev)
    return passed(f"health check {hc.id} watches {e.label}", **ev)


@with_aws("monitoring", lambda a: bool(a.alarms))
def _plan_alarms(aws: AwsExpectations):
    needs = (key("aws-health-checks"), key("aws-alarms", aws.metrics_region), _topic_key(aws))
    return [Item(target=a.name, needs=needs, data=(aws, a)) for a in aws.alarms]


def _find_alarm(a: AlarmExpectation, hc: HealthCheckObservation, alarms) -> AlarmObservation | None:
    on_check = [x for x in alarms if x.metric == a.metric and x.dimension("HealthCheckId") == hc.id]
    return (on_check or [x for x in alarms if x.name == a.name] or [None])[0]


@check("aws-alarm", GROUP, "an alarm on each health check, with actions to the alert topic", plan=_plan_alarms)
def judge_alarm(item: Item, obs: Observations) -> Verdict:
    aws, a = item.data
    e = aws.health_check(a.check)
    hc = find_health_check(aws, e, obs[key("aws-health-checks")]) if e else None
    if hc is None:
        return skipped("its health check is missing (reported by aws-health-check)")
    alarm = _find_alarm(a, hc, obs[key("aws-alarms", aws.metrics_region)])
    topic: TopicObservation = obs[_topic_key(aws)]
    if alarm is None:
        return failed(f"no {a.metric} alarm on health check {hc.id} ({e.label})", "`pulumi up` creates it",
                      health_check_id=hc.id, metric=a.metric)
    ev = {"alarm": alarm.name, "alarm_actions": list(alarm.alarm_actions), "actions_enabled": alarm.actions_enabled}
    if alarm.dimension("HealthCheckId") != hc.id:
        return failed(f"{alarm.name} watches health check {alarm.dimension('HealthCheckId')}, not {hc.id}",
                      "`pulumi up` points it at the right health check", **ev)
    if not alarm.alarm_actions:
        return failed(f"{alarm.name} has no alarm actions: it changes colour and nobody hears", "`pulumi up` "
                      f"restores its actions to the topic {aws.topic_name}", **ev)
    if not alarm.actions_enabled:
        return failed(f"{alarm.name} has its actions disabled", f"aws cloudwatch enable-alarm-actions --alarm-names "
                      f"'{alarm.name}' --region {aws.metrics_region}", **ev)
    if topic.arn is not None and topic.arn not in alarm.alarm_actions:
        return failed(f"{alarm.name} notifies {', '.join(alarm.alarm_actions)}, not the alert topic {topic.arn}",
                      "`pulumi up` restores its actions", **ev)
    if topic.arn is not None and topic.arn not in alarm.ok_actions:
        return warned(f"{alarm.name} does not announce the recovery (no OK action to the alert topic)",
                      "`pulumi up` restores its OK action", **ev)
    return passed(f"{alarm.name} notifies the alert topic", **ev)


@with_aws("monitoring", lambda a: a.monitored)
def _plan_topic(aws: AwsExpectations):
    return [Item(target=aws.topic_name, needs=(_topic_key(aws),), data=aws)]


@check("aws-alert-topic", GROUP, "the alert topic exists and has at least one confirmed subscription", plan=_plan_topic)
def judge_alert_topic(item: Item, obs: Observations) -> Verdict:
    aws: AwsExpectations = item.data
    t: TopicObservation = obs[_topic_key(aws)]
    if t.arn is None:
        return failed(f"no SNS topic {aws.topic_name} in {aws.metrics_region}", "`pulumi up` creates it (alarms can "
                      "notify only a topic in their own region)", region=aws.metrics_region)
    confirmed = [s for s in t.subscriptions if s.confirmed]
    pending = [s.endpoint for s in t.subscriptions if not s.confirmed]
    ev = {"topic": t.arn, "confirmed": [f"{s.protocol}:{s.endpoint}" for s in confirmed], "pending": pending}
    if not t.subscriptions:
        return failed(f"{aws.topic_name} has no subscription: alarms reach nobody",
                      "add alerts.email or alerts.webhooks in launchready:monitoring and `pulumi up`", **ev)
    if not confirmed:
        return failed(f"{aws.topic_name}: no confirmed subscription ({len(pending)} pending confirmation)",
                      "confirm from the inbox (the AWS Notification mail) or the webhook's SubscribeURL", **ev)
    if pending:
        return warned(f"{aws.topic_name}: {len(confirmed)} confirmed, {len(pending)} still pending confirmation",
                      "confirm the pending subscriptions", **ev)
    return passed(f"{aws.topic_name}: {len(confirmed)} confirmed subscription(s)", **ev)


def _plan_drill(exp):
    aws: AwsExpectations | None = exp.aws
    if aws is None or not aws.alarms:
        return NotApplicable("the stack declares no alarms", exp.domain)
    if not aws.fire_drill:
        return NotApplicable("opt-in: run with --fire-drill (it pages the alert subscribers)", aws.topic_name or "-")
    k = key("aws-fire-drill", aws.metrics_region, aws.topic_name, tuple(a.name for a in aws.alarms))
    return [Item(target=a.name, needs=(k,), data=k) for a in aws.alarms]


@check("alarm-fire-drill", GROUP, "--fire-drill: each alarm set to ALARM reaches a confirmed subscriber, then is set "
       "back to OK", plan=_plan_drill)
def judge_fire_drill(item: Item, obs: Observations) -> Verdict:
    d = obs[item.data]
    name = item.target
    if d.topic_arn is None:
        return skipped("no alert topic (reported by aws-alert-topic)")
    if name in d.missing:
        return skipped("no such alarm (reported by aws-alarm)")
    problems = [p for a, p in d.problems if a == name]
    if problems and "set ALARM" in problems[0]:
        raise RuntimeError(f"could not set {name} to ALARM: {problems[0]}")
    ev = {"waited_s": d.waited_s, "restored": name in d.restored}
    if name not in d.delivered:
        return failed(f"{name} was set to ALARM and no notification reached the topic's subscriber within "
                      f"{d.waited_s:g}s", "check the alarm's actions, the topic's KMS key policy (CloudWatch must be "
                      "allowed to use it) and the topic's access policy", **ev)
    if name not in d.restored:
        return warned(f"{name} fired and was delivered, but could not be set back to OK ({'; '.join(problems)})",
                      f"aws cloudwatch set-alarm-state --alarm-name '{name}' --state-value OK --state-reason drill", **ev)
    return passed(f"{name} fired, was delivered and is set back to OK", **ev)


CHECKS = checks_of(judge_health_check, judge_alarm, judge_alert_topic, judge_fire_drill)
