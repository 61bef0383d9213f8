"""AWS probes: Secrets Manager, KMS, Parameter Store, Route53, CloudWatch, SNS and IAM describe calls
into typed, frozen observations. No verdicts here, and no secret value anywhere: secrets are
described (never GetSecretValue), parameters are read without decryption and a SecureString's value
is dropped, webhook endpoints are cut to scheme and host (a Slack hook URL is a credential).

Every call goes through ctx.aws (verify.awsclient.AwsClients): denied, throttled and unreachable
become AwsUnavailable, which the runner reports as ERROR.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any

from ..awsclient import AwsClients, error_code
from ..registry import probe

NOT_FOUND = ("ResourceNotFoundException", "NotFoundException", "NotFound", "NoSuchEntity", "ParameterNotFound")


def clients(ctx: Any) -> AwsClients:
    if getattr(ctx, "aws", None) is None:
        ctx.aws = AwsClients(timeout=getattr(ctx, "timeout", 3.0))
    return ctx.aws


# ---------------------------------------------------------------- secrets and their keys

@dataclass(frozen=True)
class KeyObservation:
    ref: str                          # what the secret names (alias, id or ARN)
    key_id: str = ""
    manager: str = ""                 # CUSTOMER | AWS
    state: str = ""                   # Enabled, PendingDeletion, ...
    rotation_enabled: bool | None = None  # None: not asked (an AWS-managed key)


@dataclass(frozen=True)
class SecretObservation:
    name: str
    exists: bool
    arn: str = ""
    kms_key_ref: str | None = None    # KmsKeyId as described; None: the AWS-managed key
    # None: the AWS-managed key (not described); an error here is the KMS check's ERROR only
    key: KeyObservation | BaseException | None = None
    rotation_enabled: bool = False
    rotation_lambda: str | None = None
    rotation_days: int | None = None
    last_rotated: _dt.datetime | None = None
    last_changed: _dt.datetime | None = None
    created: _dt.datetime | None = None
    deleted: _dt.datetime | None = None
    tags: tuple[tuple[str, str], ...] = ()

    def tag(self, name: str) -> str | None:
        return dict(self.tags).get(name)


def _describe_key(aws: AwsClients, ref: str) -> KeyObservation | BaseException:
    try:
        meta = aws.call("kms", "describe_key", KeyId=ref)["KeyMetadata"]
        manager = str(meta.get("KeyManager") or "")
        rotation = None
        if manager == "CUSTOMER":
            rotation = bool(aws.call("kms", "get_key_rotation_status", KeyId=meta["KeyId"]).get("KeyRotationEnabled"))
        return KeyObservation(ref=ref, key_id=str(meta.get("KeyId") or ""), manager=manager,
                              state=str(meta.get("KeyState") or ""), rotation_enabled=rotation)
    except Exception as exc:  # noqa: BLE001 - kept for the KMS check's judge, which raises it (ERROR)
        return exc


@probe("aws-secret")
def probe_secret(ctx: Any, name: str) -> SecretObservation:
    aws = clients(ctx)
    try:
        d = aws.call("secretsmanager", "describe_secret", SecretId=name)
    except Exception as exc:
        if error_code(exc) in NOT_FOUND:
            return SecretObservation(name=name, exists=False)
        raise
    ref = d.get("KmsKeyId") or None
    rules = d.get("RotationRules") or {}
    return SecretObservation(
        name=name, exists=True, arn=str(d.get("ARN") or ""), kms_key_ref=ref,
        key=_describe_key(aws, ref) if ref and "alias/aws/" not in ref else None,
        rotation_enabled=bool(d.get("RotationEnabled")), rotation_lambda=d.get("RotationLambdaARN") or None,
        rotation_days=rules.get("AutomaticallyAfterDays"), last_rotated=d.get("LastRotatedDate"),
        last_changed=d.get("LastChangedDate"), created=d.get("CreatedDate"), deleted=d.get("DeletedDate"),
        tags=tuple((str(t["Key"]), str(t["Value"])) for t in d.get("Tags") or ()))


# ---------------------------------------------------------------- the env contract

@dataclass(frozen=True)
class ParameterObservation:
    name: str
    type: str                         # String | StringList | SecureString
    value: str | None                 # None for a SecureString: never decrypted, never kept


@dataclass(frozen=True)
class EnvObservation:
    path: str
    parameters: tuple[ParameterObservation, ...] = ()

    def get(self, name: str) -> ParameterObservation | None:
        return next((p for p in self.parameters if p.name == name), None)


@probe("aws-env")
def probe_env(ctx: Any, path: str) -> EnvObservation:
    # WithDecryption=False: a SecureString comes back encrypted, and its value is dropped right here.
    items = clients(ctx).pages("ssm", "get_parameters_by_path", "Parameters", Path=path, Recursive=True,
                               WithDecryption=False)
    return EnvObservation(path=path, parameters=tuple(
        ParameterObservation(name=str(p["Name"]), type=str(p.get("Type") or ""),
                             value=None if p.get("Type") == "SecureString" else p.get("Value"))
        for p in items))


# ---------------------------------------------------------------- monitors

@dataclass(frozen=True)
class HealthCheckObservation:
    id: str
    caller_reference: str
    type: str
    fqdn: str
    port: int | None
    path: str
    sni: bool
    tags: tuple[tuple[str, str], ...] = ()

    def tag(self, name: str) -> str | None:
        return dict(self.tags).get(name)


@probe("aws-health-checks")
def probe_health_checks(ctx: Any) -> tuple[HealthCheckObservation, ...]:
    aws = clients(ctx)
    checks = aws.pages("route53", "list_health_checks", "HealthChecks")
    tags: dict[str, tuple] = {}
    ids = [c["Id"] for c in checks]
    for i in range(0, len(ids), 10):  # ListTagsForResources takes at most 10 ids
        r = aws.call("route53", "list_tags_for_resources", ResourceType="healthcheck", ResourceIds=ids[i:i + 10])
        for s in r.get("ResourceTagSets") or ():
            tags[s["ResourceId"]] = tuple((str(t["Key"]), str(t["Value"])) for t in s.get("Tags") or ())
    out = []
    for c in checks:
        cfg = c.get("HealthCheckConfig") or {}
        out.append(HealthCheckObservation(
            id=c["Id"], caller_reference=str(c.get("CallerReference") or ""), type=str(cfg.get("Type") or ""),
            fqdn=str(cfg.get("FullyQualifiedDomainName") or "").rstrip(".").lower(), port=cfg.get("Port"),
            path=str(cfg.get("ResourcePath") or "/"), sni=bool(cfg.get("EnableSNI")), tags=tags.get(c["Id"], ())))
    return tuple(out)


@dataclass(frozen=True)
class AlarmObservation:
    name: str
    namespace: str
    metric: str
    dimensions: tuple[tuple[str, str], ...]
    actions_enabled: bool
    alarm_actions: tuple[str, ...]
    ok_actions: tuple[str, ...]
    state: str = ""

    def dimension(self, name: str) -> str | None:
        return dict(self.dimensions).get(name)


@probe("aws-alarms")
def probe_alarms(ctx: Any, region: str) -> tuple[AlarmObservation, ...]:
    alarms = clients(ctx).pages("cloudwatch", "describe_alarms", "MetricAlarms", region=region,
                                AlarmTypes=["MetricAlarm"])
    return tuple(AlarmObservation(
        name=str(a["AlarmName"]), namespace=str(a.get("Namespace") or ""), metric=str(a.get("MetricName") or ""),
        dimensions=tuple((str(d["Name"]), str(d["Value"])) for d in a.get("Dimensions") or ()),
        actions_enabled=bool(a.get("ActionsEnabled", True)), alarm_actions=tuple(a.get("AlarmActions") or ()),
        ok_actions=tuple(a.get("OKActions") or ()), state=str(a.get("StateValue") or "")) for a in alarms)


@dataclass(frozen=True)
class SubscriptionObservation:
    protocol: str
    endpoint: str                     # e-mail address, or scheme://host of a webhook (never its path)
    confirmed: bool


@dataclass(frozen=True)
class TopicObservation:
    name: str
    arn: str | None                   # None: no topic of that name in the region
    subscriptions: tuple[SubscriptionObservation, ...] = ()


def _shown_endpoint(protocol: str, endpoint: str) -> str:
    if protocol in ("http", "https") and "://" in endpoint:
        scheme, rest = endpoint.split("://", 1)
        return f"{scheme}://{rest.split('/', 1)[0].rsplit('@', 1)[-1]}/…"
    return endpoint


def find_topic(aws: AwsClients, region: str, name: str) -> str | None:
    return next((t["TopicArn"] for t in aws.pages("sns", "list_topics", "Topics", region=region)
                 if str(t["TopicArn"]).rsplit(":", 1)[-1] == name), None)


@probe("aws-topic")
def probe_topic(ctx: Any, region: str, name: str) -> TopicObservation:
    aws = clients(ctx)
    arn = find_topic(aws, region, name)
    if arn is None:
        return TopicObservation(name=name, arn=None)
    subs = aws.pages("sns", "list_subscriptions_by_topic", "Subscriptions", region=region, TopicArn=arn)
    return TopicObservation(name=name, arn=arn, subscriptions=tuple(
        SubscriptionObservation(protocol=str(s.get("Protocol") or ""),
                                endpoint=_shown_endpoint(str(s.get("Protocol") or ""), str(s.get("Endpoint") or "")),
                                # SNS lists an unconfirmed subscription with this ARN
                                confirmed=str(s.get("SubscriptionArn") or "") not in ("PendingConfirmation", "Deleted", ""))
        for s in subs))


# ---------------------------------------------------------------- the account

@dataclass(frozen=True)
class AccountObservation:
    root_mfa: bool
    root_access_keys: bool


@probe("aws-account")
def probe_account(ctx: Any) -> AccountObservation:
    summary = clients(ctx).call("iam", "get_account_summary")["SummaryMap"]
    return AccountObservation(root_mfa=int(summary.get("AccountMFAEnabled", 0)) == 1,
                              root_access_keys=int(summary.get("AccountAccessKeysPresent", 0)) > 0)


PROBES = (probe_secret, probe_env, probe_health_checks, probe_alarms, probe_topic, probe_account)
