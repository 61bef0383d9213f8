"""Monitoring rules: alarms that reach someone, topics with subscribers, a health check per public host."""
from __future__ import annotations

from ..context import current_spec
from ..props import (
    DNS_RECORD,
    HEALTH_CHECK,
    METRIC_ALARM,
    SNS_SUBSCRIPTION,
    SNS_TOPIC,
    as_list,
    fmt_num,
    get,
    num,
    of_type,
    record_name,
)
from ..registry import HIGH, MANDATORY, MEDIUM, resource_rule, stack_rule


@resource_rule(
    "alarm-has-actions", area="monitoring", types=[METRIC_ALARM], severity=HIGH, enforcement=MANDATORY,
    description="Every CloudWatch alarm has alarm actions enabled and notifies someone (alarmActions not empty).",
    remediation="""
Keep the alerting topic in `launchready:monitoring` (stacks/Pulumi.<stack>.yaml): the program wires
every alarm's alarm and OK actions to it. An alarm without actions changes colour in the console
and nobody hears about it.""",
    spec_keys=("monitoring",),
)
def alarm_has_actions(props, config):
    name = get(props, "name") or get(props, "alarmName") or "alarm"
    if get(props, "actionsEnabled") is False:
        yield f"{name}: actionsEnabled is false."
    if not as_list(get(props, "alarmActions")):
        yield f"{name}: no alarmActions; nobody is notified when it fires."


def _ids(resource) -> set[str]:
    ids = {resource.urn}
    for key in ("arn", "id", "name"):
        value = get(resource.props, key)
        if isinstance(value, str) and value:
            ids.add(value)
    return ids


def _depends_on(resource, target) -> bool:
    """The engine's dependency list says `resource` was built from `target`'s outputs."""
    return any(d.urn == target.urn for d in (getattr(resource, "dependencies", None) or []))


@stack_rule(
    "topic-has-subscription", area="monitoring", severity=HIGH, enforcement=MANDATORY,
    description="Every SNS topic alarms publish to has at least one subscription (e-mail, HTTPS webhook, ...).",
    remediation="""
Add a subscriber to `launchready:monitoring` in stacks/Pulumi.<stack>.yaml (an e-mail address of
the on-call rota, or an HTTPS webhook such as PagerDuty/Slack). E-mail subscriptions must be
confirmed from the inbox after `pulumi up`.""",
    spec_keys=("monitoring",),
)
def topic_has_subscription(resources, config):
    subs = of_type(resources, SNS_SUBSCRIPTION)
    for topic in of_type(resources, SNS_TOPIC):
        # Dependencies first: at preview the subscription's topic ARN may still be unknown.
        if not any(_depends_on(s, topic) for s in subs) and not any(
                str(get(s.props, "topic", default="")) in _ids(topic) for s in subs):
            yield (f"topic {get(topic.props, 'name') or topic.name} has no subscription.", topic.urn)


def _public_hosts(resources) -> list[tuple[str, str]]:
    """(host, urn of its record): the portal hosts of the stack spec, else (no spec) every proxied
    web record."""
    spec = current_spec()
    names = {h.name.lower() for h in spec.hosts} if spec is not None else None
    out = []
    for r in of_type(resources, DNS_RECORD):
        name = record_name(r.props)
        if str(get(r.props, "type", default="")).upper() not in ("A", "AAAA", "CNAME"):
            continue
        if names is not None:
            if name in names:
                out.append((name, r.urn))
        elif get(r.props, "proxied") is True and not name.startswith(("*", "_", "mta-sts.")):
            out.append((name, r.urn))
    return list(dict.fromkeys(out))


@stack_rule(
    "public-host-health-check", area="monitoring", severity=HIGH, enforcement=MANDATORY,
    description="Every public (proxied) host has a Route53 HTTPS health check, so an outage alerts the team before customers report it.",
    remediation="""
Declare monitors in `launchready:monitoring` (stacks/Pulumi.<stack>.yaml): the program creates an
HTTPS health check per public host and per main-flow path, with alarms to the alert topic. To
exempt a host that is not meant to be monitored, set
{"public-host-health-check": {"exempt": ["legacy.example.com"]}} in the policy config.""",
    config={"exempt": {"type": "array", "items": {"type": "string"}, "default": [],
                       "description": "Public hosts that need no health check."}},
    spec_keys=("monitoring", "hosts"),
)
def public_host_health_check(resources, config):
    checked = {}
    for hc in of_type(resources, HEALTH_CHECK):
        fqdn = str(get(hc.props, "fqdn", default="") or "").lower().rstrip(".")
        checked.setdefault(fqdn, []).append(str(get(hc.props, "type", default="")))
    exempt = {e.lower().rstrip(".") for e in config["exempt"]}
    for host, urn in _public_hosts(resources):
        if host in exempt:
            continue
        if host not in checked:
            yield (f"{host} has no health check.", urn)
        elif not any(t.startswith("HTTPS") for t in checked[host]):
            yield (f"{host} is health-checked over {', '.join(sorted(set(checked[host])))}, not HTTPS.", urn)


@stack_rule(
    "health-check-alarmed", area="monitoring", severity=MEDIUM, enforcement=MANDATORY,
    description="Every Route53 health check has a CloudWatch alarm on its HealthCheckStatus metric (a health check alone notifies nobody).",
    remediation="""
The monitoring component creates one alarm per health check (namespace AWS/Route53, metric
HealthCheckStatus, dimension HealthCheckId, in us-east-1). Restore it if the program was changed
to skip it, and keep `launchready:monitoring` declaring an alert topic.""",
    spec_keys=("monitoring",),
)
def health_check_alarmed(resources, config):
    alarms = of_type(resources, METRIC_ALARM)
    # Dependencies first: at preview a new health check's id is unknown.
    depended = {d.urn for a in alarms for d in (getattr(a, "dependencies", None) or [])}
    watched: set[str] = set()
    for alarm in alarms:
        watched.add(str(get(alarm.props, "dimensions", "HealthCheckId", default="")))
        for q in as_list(get(alarm.props, "metricQueries")):
            watched.add(str(get(q, "metric", "dimensions", "HealthCheckId", default="")))
    watched.discard("")
    for hc in of_type(resources, HEALTH_CHECK):
        if hc.urn in depended or _ids(hc) & watched:
            continue
        yield (f"health check for {get(hc.props, 'fqdn') or hc.name} has no alarm.", hc.urn)



@stack_rule(
    "latency-alarm-threshold", area="monitoring", severity=MEDIUM, enforcement=MANDATORY,
    description="Latency alarms (Route53 TimeToFirstByte) fire at or below maxThresholdMs, so a slow portal alerts the team before customers give up (launch target: p95 under 500 ms).",
    remediation="""
Set `launchready:monitoring` → `latencyThresholdMs` in stacks/Pulumi.<stack>.yaml back to the
launch baseline (500), or at most the limit in the message. If the alarm is noisy, find the slow
flow rather than raising the threshold: an alarm at several seconds fires only after customers
have noticed. A different agreed limit goes in the policy config:
{"latency-alarm-threshold": {"maxThresholdMs": 800}}.""",
    config={"maxThresholdMs": {"type": "number", "exclusiveMinimum": 0, "default": 1000,
                               "description": "Highest acceptable latency alarm threshold, in milliseconds."}},
    spec_keys=("monitoring.latencyThresholdMs", "monitoring"),
)
def latency_alarm_threshold(resources, config):
    limit = float(config["maxThresholdMs"])
    slow: dict[float, list] = {}
    for alarm in of_type(resources, METRIC_ALARM):
        if get(alarm.props, "metricName") != "TimeToFirstByte":
            continue
        threshold = num(get(alarm.props, "threshold"))
        if threshold is not None and threshold > limit:
            slow.setdefault(threshold, []).append(alarm)
    # One finding per threshold (the program gives every latency alarm the same one), not per alarm.
    for threshold, alarms in sorted(slow.items()):
        first = get(alarms[0].props, "name") or alarms[0].name
        others = f" and {len(alarms) - 1} other latency alarm(s)" if len(alarms) > 1 else ""
        yield (f"{first}{others} {'fire' if others else 'fires'} only above {fmt_num(threshold)} ms time to first byte; the limit is "
               f"{fmt_num(limit)} ms.", alarms[0].urn)


# This module's rules, in catalogue order (policies.rules.MODULES collects them).
RULES = (
    alarm_has_actions, topic_has_subscription, public_host_health_check, health_check_alarmed,
    latency_alarm_threshold,
)
