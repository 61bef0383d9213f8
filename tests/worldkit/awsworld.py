"""The AWS world: moto's ThreadedMotoServer on 127.0.0.1, seeded from a stack's launch contract the
way infra/components/secretstore.py and monitors.py create it (same names, tags, KMS keys, alarms).

What moto cannot do, and what stands in for it here:
- Root MFA: moto's GetAccountSummary always says AccountMFAEnabled 0 and no API changes it; the
  world sets it in moto's in-process IAM backend (`set_root_mfa`), which ThreadedMotoServer shares.
- Alarm actions: moto's SetAlarmState changes the state and runs no action. `AlarmRelay` does what
  CloudWatch does: on a state change it publishes the CloudWatch notification to each SNS action.
- A Lambda rotation: moto's RotateSecret looks the function up and fails when it is absent, after
  recording the rotation settings; the seed relies on those settings (RotationEnabled, rules).
- Alarms on a Route53 metric in us-east-1 and health checks carry no real data; health checks are
  only described, never evaluated.
- Webhook subscriptions are not seeded (moto would POST to the endpoint, outside 127.0.0.0/8); the
  e-mail subscriptions moto confirms at once stand for the confirmed subscriber.
"""
from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from infra.contract import build_contract
from infra.spec.secretspec import TAG_ENV, TAG_SECRET, TAG_STACK

REGION = "eu-west-1"
TAG_MONITOR = "launchready:monitor"


@dataclass
class AwsWorld:
    endpoint: str
    server: Any
    stack: str
    contract: Mapping[str, Any]
    relay: AlarmRelay | None = None
    ids: dict[str, str] = field(default_factory=dict)   # health-check key -> id

    @property
    def env(self) -> dict[str, str]:
        """What a run needs to reach this world and nothing else (dummy credentials)."""
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": REGION}

    def client(self, service: str, region: str = REGION):
        import boto3

        return boto3.client(service, endpoint_url=self.endpoint, region_name=region,
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def reset(self) -> None:
        import urllib.request

        urllib.request.urlopen(urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST"), timeout=5)

    def stop(self) -> None:
        if self.relay:
            self.relay.stop()
        self.server.stop()


def start(stack: str, spec: Any) -> AwsWorld:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return AwsWorld(endpoint=f"http://{host}:{port}", server=server, stack=stack, contract=build_contract(spec))


def set_root_mfa(on: bool) -> None:
    """moto cannot turn root MFA on through the API (see the module doc): set it in its backend."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.iam.models import iam_backends

    iam_backends[DEFAULT_ACCOUNT_ID]["aws"].account_summary._account_mfa_enabled = 1 if on else 0


def _tags(d: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in d.items()]


def seed(world: AwsWorld) -> AwsWorld:
    """Everything the program creates for the contract's secrets, env and monitoring sections."""
    c, stack = world.contract, world.stack
    key_arn = _kms_key(world, REGION, c["secrets"]["kmsAlias"].replace("{stack}", stack))
    if c.get("secrets"):
        _secrets(world, key_arn)
    if c.get("env"):
        _env(world, key_arn)
    if c.get("monitoring"):
        _monitors(world)
    set_root_mfa(True)
    return world


def _kms_key(world: AwsWorld, region: str, alias: str) -> str:
    kms = world.client("kms", region)
    meta = kms.create_key(Description=f"launch-ready {world.stack}", Tags=[{"TagKey": TAG_STACK, "TagValue": world.stack}])
    kms.enable_key_rotation(KeyId=meta["KeyMetadata"]["KeyId"])
    kms.create_alias(AliasName=alias, TargetKeyId=meta["KeyMetadata"]["KeyId"])
    return meta["KeyMetadata"]["Arn"]


def _secrets(world: AwsWorld, key_arn: str) -> None:
    sm = world.client("secretsmanager")
    for item in world.contract["secrets"]["items"]:
        name = item["secretName"].replace("{stack}", world.stack)
        tags = {TAG_STACK: world.stack, TAG_SECRET: item["name"], **item.get("tags", {})}
        # a value of the world's own: the checks never read it, and it is no one's secret
        sm.create_secret(Name=name, KmsKeyId=key_arn, SecretString=f"world-{uuid.uuid4().hex}", Tags=_tags(tags))
        rotation = item.get("rotation") or {}
        if rotation.get("type") == "lambda":
            try:
                sm.rotate_secret(SecretId=name, RotationLambdaARN=rotation["lambdaArn"],
                                 RotationRules={"AutomaticallyAfterDays": rotation["days"]})
            except sm.exceptions.ResourceNotFoundException:
                pass  # moto has no such function, and has recorded the rotation settings before saying so


def _env(world: AwsWorld, key_arn: str) -> None:
    ssm = world.client("ssm")
    env = world.contract["env"]
    path = env["path"].replace("{stack}", world.stack)
    for k, v in env["keys"].items():
        tags = {TAG_STACK: world.stack, TAG_ENV: k, **({TAG_SECRET: v["secret"]} if "secret" in v else {})}
        if v["type"] == "SecureString":
            ssm.put_parameter(Name=f"{path}/{k}", Type="SecureString", KeyId=key_arn,
                              Value=f"world-{uuid.uuid4().hex}", Tags=_tags(tags))
        else:
            ssm.put_parameter(Name=f"{path}/{k}", Type="String", Value=v["value"], Tags=_tags(tags))


def _monitors(world: AwsWorld) -> None:
    mon = world.contract["monitoring"]
    region = mon["metricsRegion"]
    key_arn = _kms_key(world, region, f"alias/launchready/{world.stack}/alerts")
    sns = world.client("sns", region)
    topic = sns.create_topic(Name=mon["topicName"].replace("{stack}", world.stack),
                             Attributes={"KmsMasterKeyId": key_arn}, Tags=_tags({TAG_STACK: world.stack}))["TopicArn"]
    for address in mon["alerts"]["email"]:
        sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=address)
    r53 = world.client("route53")
    cw = world.client("cloudwatch", region)
    for chk in mon["checks"]:
        hc = r53.create_health_check(
            # the provider's CallerReference: referenceName, a dash, a unique id
            CallerReference=f"{chk['referenceName']}-{uuid.uuid4().hex[:36]}",
            HealthCheckConfig={"Type": "HTTPS", "FullyQualifiedDomainName": chk["host"], "Port": 443,
                               "ResourcePath": chk["path"], "EnableSNI": True, "MeasureLatency": True,
                               "RequestInterval": 30, "FailureThreshold": 3})["HealthCheck"]
        world.ids[chk["key"]] = hc["Id"]
        r53.change_tags_for_resource(ResourceType="healthcheck", ResourceId=hc["Id"], AddTags=_tags(
            {TAG_STACK: world.stack, TAG_MONITOR: chk["key"], "Name": f"launchready {chk['host']}{chk['path']}"}))
    for alarm in mon["alarms"]:
        put_alarm(cw, alarm, world.ids[alarm["check"]], topic)


def put_alarm(cw, alarm: Mapping[str, Any], health_check_id: str, topic: str | None, **over: Any) -> None:
    down = alarm["metric"] == "HealthCheckStatus"
    params = dict(
        AlarmName=alarm["name"], Namespace="AWS/Route53", MetricName=alarm["metric"],
        Dimensions=[{"Name": "HealthCheckId", "Value": health_check_id}], Period=60 if down else 300,
        EvaluationPeriods=2 if down else 3, Threshold=float(alarm["threshold"]),
        ComparisonOperator="LessThanThreshold" if down else "GreaterThanThreshold",
        AlarmActions=[topic] if topic else [], OKActions=[topic] if topic else [],
        TreatMissingData="breaching" if down else "notBreaching")
    params.update({"Statistic": "Minimum"} if down else {"ExtendedStatistic": alarm["statistic"]}
                  if str(alarm["statistic"]).startswith("p") else {"Statistic": alarm["statistic"]})
    params.update(over)
    cw.put_metric_alarm(**params)


class AlarmRelay:
    """What CloudWatch does and moto does not: publish an alarm's state change to its SNS actions."""

    def __init__(self, world: AwsWorld, region: str = "us-east-1"):
        self.cw, self.sns = world.client("cloudwatch", region), world.client("sns", region)
        self.states: dict[str, str] = {a["AlarmName"]: a["StateValue"] for a in self._alarms()}
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="alarm-relay", daemon=True)
        self.thread.start()

    def _alarms(self) -> list[dict]:
        return [a for p in self.cw.get_paginator("describe_alarms").paginate() for a in p["MetricAlarms"]]

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            for a in self._alarms():
                old = self.states.get(a["AlarmName"])
                if old == a["StateValue"]:
                    continue
                self.states[a["AlarmName"]] = a["StateValue"]
                actions = a.get("AlarmActions") if a["StateValue"] == "ALARM" else a.get("OKActions")
                if not a.get("ActionsEnabled", True):
                    continue
                message = json.dumps({"AlarmName": a["AlarmName"], "NewStateValue": a["StateValue"],
                                      "OldStateValue": old, "NewStateReason": a.get("StateReason", "")})
                for arn in actions or ():
                    if ":sns:" in arn:
                        self.sns.publish(TopicArn=arn, Subject=f"ALARM: {a['AlarmName']}"[:100], Message=message)

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(timeout=2)
