"""Uptime and latency monitors: Route53 health checks, CloudWatch alarms, one alert topic.

Route53 publishes health-check metrics to CloudWatch in us-east-1 only, and an alarm can notify
only a topic in its own region: so the alarms, the topic and the topic's KMS key all live in
us-east-1, whatever the stack's default region. pulumi-aws 7 takes `region` per resource; that is
used instead of a second explicit aws.Provider, which would not inherit the stack's aws:* config
(profile, assumed role, default tags) and could silently deploy with other credentials.
"""
from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
import pulumi_cloudflare as cloudflare

from infra.components.secretstore import KmsKey
from infra.spec import Spec
from infra.spec.monitorspec import METRICS_REGION, CheckPlan, Monitoring
from infra.spec.secretspec import NAMESPACE, TAG_STACK

TAG_MONITOR = "launchready:monitor"
# Cloudflare alert types for certificate events (Universal SSL and advanced certificates).
CERTIFICATE_ALERT_TYPES = ("universal_ssl_event_type", "dedicated_ssl_certificate_event_type")


def topic_key_policy(account_id: str, partition: str = "aws") -> str:
    """The account administers the key; CloudWatch may use it to publish alarms to the topic.

    With the AWS-managed alias/aws/sns key, alarm notifications to an encrypted topic are dropped:
    CloudWatch cannot be granted use of that key. Hence a customer-managed key with this grant.
    """
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "AccountAdministers", "Effect": "Allow",
             "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"}, "Action": "kms:*", "Resource": "*"},
            {"Sid": "CloudWatchPublishesAlarms", "Effect": "Allow",
             "Principal": {"Service": "cloudwatch.amazonaws.com"},
             "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*"},
        ],
    })


class Monitors(pulumi.ComponentResource):
    """Health checks per host and main flow, their alarms, and the topic the alarms notify."""

    topic_arn: pulumi.Output[str]
    health_check_ids: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, spec: Spec, zone_id: pulumi.Input[str], stack: str,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("launchready:monitoring:Monitors", name, None, opts)
        mon: Monitoring = spec.monitoring
        child = pulumi.ResourceOptions(parent=self)
        tags = {TAG_STACK: stack}
        caller = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=self))
        policy = pulumi.Output.all(caller.account_id, partition.partition).apply(lambda a: topic_key_policy(a[0], a[1] or "aws"))
        self.key = KmsKey(f"{name}-kms", f"launch-ready {stack}: alert topic", f"{NAMESPACE}/{stack}/alerts", tags,
                          policy=policy, region=METRICS_REGION, opts=child)
        topic = aws.sns.Topic(f"{name}-alerts", name=f"{NAMESPACE}-{stack}-alerts", kms_master_key_id=self.key.arn,
                              region=METRICS_REGION, tags=tags, opts=child)
        self.topic_arn = topic.arn
        for i, address in enumerate(mon.alerts.email):
            aws.sns.TopicSubscription(f"{name}-email-{i}", topic=topic.arn, protocol="email", endpoint=address,
                                      region=METRICS_REGION, opts=child)
        for i, url in enumerate(mon.alerts.webhooks):
            # The endpoint must confirm the subscription (SNS posts a SubscribeURL first).
            aws.sns.TopicSubscription(f"{name}-webhook-{i}", topic=topic.arn, protocol="https", endpoint=url,
                                      endpoint_auto_confirms=False, region=METRICS_REGION, opts=child)
        self.health_check_ids = {}
        for check in mon.checks(spec):
            self.health_check_ids[check.key] = self._check(name, check, mon, topic.arn, tags, child)
        account = mon.cloudflare_account(spec)
        if mon.cloudflare and mon.cloudflare.certificate_events and account:
            emails = mon.cloudflare.email or mon.alerts.email
            for alert_type in CERTIFICATE_ALERT_TYPES:
                cloudflare.NotificationPolicy(
                    f"{name}-cf-{alert_type.replace('_', '-')}", account_id=account, alert_type=alert_type,
                    name=f"{spec.domain}: {alert_type.replace('_', ' ')}", enabled=True,
                    description="launch-ready: certificate issuance, renewal and expiry events",
                    mechanisms={"emails": [{"id": e} for e in emails]}, filters={"zones": [zone_id]}, opts=child)
        self.register_outputs({"topicArn": self.topic_arn, "healthCheckIds": self.health_check_ids})

    def _check(self, name: str, check: CheckPlan, mon: Monitoring, topic_arn, tags: dict, child) -> pulumi.Output[str]:
        label = f"{check.host}{check.path}"
        hc = aws.route53.HealthCheck(
            f"{name}-{check.key}", type="HTTPS", fqdn=check.host, port=443, resource_path=check.path,
            # SNI: without it the edge presents no certificate for the host and the check fails.
            enable_sni=True, measure_latency=True, request_interval=mon.request_interval,
            failure_threshold=mon.failure_threshold, regions=list(mon.regions) or None,
            reference_name=check.reference_name,
            tags={**tags, TAG_MONITOR: check.key, "Name": f"{NAMESPACE} {label}"}, opts=child)
        common = dict(namespace="AWS/Route53", dimensions={"HealthCheckId": hc.id}, region=METRICS_REGION,
                      alarm_actions=[topic_arn], ok_actions=[topic_arn], tags={**tags, TAG_MONITOR: check.key},
                      opts=child)
        aws.cloudwatch.MetricAlarm(
            f"{name}-{check.key}-down", name=check.alarm_name("down"),
            alarm_description=f"https://{label} failed its Route53 health check",
            metric_name="HealthCheckStatus", statistic="Minimum", period=60, evaluation_periods=2,
            comparison_operator="LessThanThreshold", threshold=1,
            # No data means the checkers cannot see the host: that is an outage too.
            treat_missing_data="breaching", **common)
        aws.cloudwatch.MetricAlarm(
            f"{name}-{check.key}-slow", name=check.alarm_name("slow"),
            alarm_description=f"{mon.latency_statistic} time to first byte of https://{label} above {mon.latency_threshold_ms} ms",
            metric_name="TimeToFirstByte", period=300, evaluation_periods=3,
            **({"extended_statistic": mon.latency_statistic} if mon.latency_statistic.startswith("p")
               else {"statistic": mon.latency_statistic}),
            datapoints_to_alarm=2, comparison_operator="GreaterThanThreshold", threshold=mon.latency_threshold_ms,
            # Missing latency data is an outage, which the health alarm already reports.
            treat_missing_data="notBreaching", **common)
        return hc.id
