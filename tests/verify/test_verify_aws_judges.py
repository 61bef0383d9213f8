"""The AWS judges on hand-made observations: no network, no moto."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from infra.findings import Status
from infra.spec import load_stack
from verify.awsclient import AwsAccessDenied, translate
from verify.checks import awsaccount, awsenv, awsmonitors, awssecrets
from verify.expectations import from_spec
from verify.probes.awsdrill import DrillObservation, _alarm_of
from verify.probes.awsprobes import (
    AccountObservation,
    AlarmObservation,
    EnvObservation,
    HealthCheckObservation,
    KeyObservation,
    ParameterObservation,
    SecretObservation,
    SubscriptionObservation,
    TopicObservation,
    _shown_endpoint,
)
from verify.registry import Item, NotApplicable, Observations, key

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime.now(dt.UTC)
KEY = KeyObservation(ref="arn:aws:kms:eu-west-1:1:key/k", key_id="k", manager="CUSTOMER", state="Enabled",
                     rotation_enabled=True)


@pytest.fixture(scope="module")
def aws():
    return from_spec(load_stack("example", ROOT / "stacks"), stack="example").aws


def _secret_item(aws, name):
    s = next(x for x in aws.secrets if x.item == name)
    return Item(target=s.name, needs=(key("aws-secret", s.name),), data=s)


def _judge_secret(judge, aws, name, **obs):
    item = _secret_item(aws, name)
    base = dict(name=item.data.name, exists=True, kms_key_ref=KEY.ref, key=KEY, created=NOW, last_changed=NOW)
    return judge(item, Observations.of({item.needs[0]: SecretObservation(**{**base, **obs})}))


def test_secret_exists(aws):
    assert _judge_secret(awssecrets.judge_secret_exists, aws, "smtp-password").status is Status.PASS
    assert _judge_secret(awssecrets.judge_secret_exists, aws, "smtp-password", exists=False).status is Status.FAIL
    assert _judge_secret(awssecrets.judge_secret_exists, aws, "smtp-password", deleted=NOW).status is Status.FAIL


@pytest.mark.parametrize("obs, status", [
    ({}, Status.PASS),
    ({"kms_key_ref": None, "key": None}, Status.FAIL),                      # the AWS-managed default
    ({"kms_key_ref": "alias/aws/secretsmanager", "key": None}, Status.FAIL),
    ({"key": KeyObservation(ref="x", key_id="k", manager="AWS")}, Status.FAIL),
    ({"key": KeyObservation(ref="x", key_id="k", manager="CUSTOMER", state="Enabled", rotation_enabled=False)},
     Status.FAIL),
    ({"key": KeyObservation(ref="x", key_id="k", manager="CUSTOMER", state="PendingDeletion",
                            rotation_enabled=True)}, Status.FAIL),
    ({"exists": False}, Status.SKIPPED),
])
def test_secret_kms(aws, obs, status):
    assert _judge_secret(awssecrets.judge_secret_kms, aws, "smtp-password", **obs).status is status


def test_secret_kms_key_not_describable_is_an_error(aws):
    with pytest.raises(AwsAccessDenied):
        _judge_secret(awssecrets.judge_secret_kms, aws, "smtp-password", key=AwsAccessDenied("kms: denied"))


@pytest.mark.parametrize("obs, status", [
    ({"rotation_enabled": True, "rotation_days": 90, "last_rotated": NOW - dt.timedelta(days=10)}, Status.PASS),
    ({"rotation_enabled": True, "rotation_days": 90, "created": NOW - dt.timedelta(days=5)}, Status.PASS),
    ({"rotation_enabled": False}, Status.FAIL),
    ({"rotation_enabled": True, "rotation_days": 120}, Status.FAIL),
    ({"rotation_enabled": True, "rotation_days": 90, "last_rotated": NOW - dt.timedelta(days=95)}, Status.FAIL),
    ({"rotation_enabled": True, "rotation_days": 90, "created": NOW - dt.timedelta(days=200)}, Status.FAIL),
])
def test_lambda_rotation(aws, obs, status):
    assert _judge_secret(awssecrets.judge_secret_rotation, aws, "smtp-password", **obs).status is status


def test_manual_rotation_by_last_changed_date(aws):
    fresh = _judge_secret(awssecrets.judge_secret_rotation, aws, "stripe-api-key",
                          last_changed=NOW - dt.timedelta(days=300))
    assert fresh.status is Status.PASS
    old = _judge_secret(awssecrets.judge_secret_rotation, aws, "stripe-api-key",
                        last_changed=NOW - dt.timedelta(days=400))
    assert old.status is Status.FAIL
    assert "older than its maximum age of 365 days (owner: billing@example.com)" in old.message


def _env_obs(aws, **changes):
    params = {e.name: ParameterObservation(e.name, e.type, e.value) for e in aws.env}
    for k, v in changes.items():
        name = f"{aws.env_path}/{k}"
        if v is None:
            params.pop(name)
        else:
            params[name] = ParameterObservation(name, *v)
    return Observations.of({key("aws-env", aws.env_path): EnvObservation(aws.env_path, tuple(params.values()))})


def _env_verdicts(judge, plan, aws, **changes):
    from verify.expectations import Expectations

    obs = _env_obs(aws, **changes)
    items = plan(Expectations(stack="example", domain="example.com", aws=aws))
    return {i.target.rsplit("/", 1)[1]: judge(i, obs).status for i in items if not isinstance(i, NotApplicable)}


def test_env_key_present_and_typed(aws):
    assert set(_env_verdicts(awsenv.judge_env_key, awsenv._plan_keys, aws).values()) == {Status.PASS}
    got = _env_verdicts(awsenv.judge_env_key, awsenv._plan_keys, aws, MAIL_FROM=None,
                        JWT_SECRET=("String", "plain"))
    assert {k for k, s in got.items() if s is Status.FAIL} == {"MAIL_FROM", "JWT_SECRET"}


def test_env_value_and_production_split_the_keys(aws):
    values = _env_verdicts(awsenv.judge_env_value, awsenv._plan_values, aws, SMTP_HOST=("String", "other"),
                           NODE_ENV=("String", "development"))
    assert "NODE_ENV" not in values and "JWT_SECRET" not in values   # judged elsewhere / never read
    assert {k for k, s in values.items() if s is Status.FAIL} == {"SMTP_HOST"}
    prod = _env_verdicts(awsenv.judge_env_production, awsenv._plan_production, aws,
                         NODE_ENV=("String", "development"), APP_URL=("String", "http://app.example.com"),
                         COOKIE_SECURE=("String", "false"))
    assert prod == {"NODE_ENV": Status.FAIL, "APP_URL": Status.FAIL, "COOKIE_SECURE": Status.FAIL}
    assert awsenv._production_problem("APP_URL", "https://app.evil-example.com", "example.com")
    assert awsenv._production_problem("APP_URL", "https://app.example.com/x", "example.com") is None
    missing = _env_verdicts(awsenv.judge_env_production, awsenv._plan_production, aws, NODE_ENV=None)
    assert missing["NODE_ENV"] is Status.SKIPPED   # reported by aws-env-key


def _hc(e, **over):
    base = dict(id="hc1", caller_reference=f"{e.reference_name}-x", type="HTTPS", fqdn=e.host, port=443, path=e.path,
                sni=True, tags=(("launchready:stack", "example"), ("launchready:monitor", e.key)))
    return HealthCheckObservation(**{**base, **over})


@pytest.mark.parametrize("over, status", [
    ({}, Status.PASS),
    ({"tags": ()}, Status.PASS),                                   # found by its CallerReference
    ({"tags": (), "caller_reference": "other"}, Status.FAIL),      # not found
    ({"sni": False}, Status.FAIL),
    ({"type": "HTTP"}, Status.FAIL),
    ({"path": "/elsewhere"}, Status.FAIL),
])
def test_health_check(aws, over, status):
    e = aws.health_checks[0]
    item = Item(target=e.label, needs=(key("aws-health-checks"),), data=(aws, e))
    assert awsmonitors.judge_health_check(item, Observations.of({key("aws-health-checks"): (_hc(e, **over),)})).status \
        is status


TOPIC = "arn:aws:sns:us-east-1:1:launchready-example-alerts"


def _alarm_verdict(aws, alarm_over=None, topic=TOPIC, hc=True):
    a = aws.alarms[0]
    e = aws.health_check(a.check)
    alarm = AlarmObservation(**{**dict(name=a.name, namespace="AWS/Route53", metric=a.metric,
                                       dimensions=(("HealthCheckId", "hc1"),), actions_enabled=True,
                                       alarm_actions=(TOPIC,), ok_actions=(TOPIC,)), **(alarm_over or {})})
    obs = Observations.of({key("aws-health-checks"): (_hc(e),) if hc else (),
                           key("aws-alarms", aws.metrics_region): (alarm,),
                           key("aws-topic", aws.metrics_region, aws.topic_name): TopicObservation(aws.topic_name, topic)})
    return awsmonitors.judge_alarm(Item(target=a.name, data=(aws, a)), obs).status


def test_alarm(aws):
    assert _alarm_verdict(aws) is Status.PASS
    assert _alarm_verdict(aws, {"alarm_actions": ()}) is Status.FAIL
    assert _alarm_verdict(aws, {"actions_enabled": False}) is Status.FAIL
    assert _alarm_verdict(aws, {"alarm_actions": ("arn:aws:sns:us-east-1:1:other",)}) is Status.FAIL
    assert _alarm_verdict(aws, {"ok_actions": ()}) is Status.WARN
    assert _alarm_verdict(aws, {"dimensions": (("HealthCheckId", "other"),)}) is Status.FAIL   # found by name
    assert _alarm_verdict(aws, {"metric": "Other", "name": "x"}) is Status.FAIL                # none at all
    assert _alarm_verdict(aws, hc=False) is Status.SKIPPED


@pytest.mark.parametrize("subs, status", [
    ((SubscriptionObservation("email", "oncall@example.com", True),), Status.PASS),
    ((), Status.FAIL),
    ((SubscriptionObservation("email", "oncall@example.com", False),), Status.FAIL),   # pending only
    ((SubscriptionObservation("email", "a@example.com", True),
      SubscriptionObservation("https", "https://hooks.example.com/…", False)), Status.WARN),
])
def test_alert_topic(aws, subs, status):
    k = key("aws-topic", aws.metrics_region, aws.topic_name)
    obs = Observations.of({k: TopicObservation(aws.topic_name, TOPIC, subs)})
    assert awsmonitors.judge_alert_topic(Item(target="t", data=aws), obs).status is status
    none = Observations.of({k: TopicObservation(aws.topic_name, None)})
    assert awsmonitors.judge_alert_topic(Item(target="t", data=aws), none).status is Status.FAIL


def test_fire_drill_judge_and_plan(aws):
    from dataclasses import replace

    from verify.expectations import Expectations

    exp = Expectations(stack="example", domain="example.com", aws=aws)
    assert isinstance(awsmonitors._plan_drill(exp), NotApplicable)
    items = awsmonitors._plan_drill(replace(exp, aws=replace(aws, fire_drill=True)))
    assert len(items) == len(aws.alarms)
    k = items[0].data
    a, b = aws.alarms[0].name, aws.alarms[1].name

    def verdict(name, **d):
        obs = Observations.of({k: DrillObservation(topic_arn=TOPIC, **d)})
        return awsmonitors.judge_fire_drill(Item(target=name, data=k), obs).status

    assert verdict(a, delivered=(a,), restored=(a,)) is Status.PASS
    assert verdict(b, delivered=(a,), restored=(a, b)) is Status.FAIL
    assert verdict(a, delivered=(a,), problems=((a, "set OK: denied"),)) is Status.WARN
    assert verdict(a, missing=(a,)) is Status.SKIPPED
    with pytest.raises(RuntimeError):
        verdict(a, problems=((a, "set ALARM: denied"),))


def test_account():
    item = Item(target="account", needs=(key("aws-account"),))

    def v(judge, **o):
        return judge(item, Observations.of({key("aws-account"): AccountObservation(**o)})).status

    assert v(awsaccount.judge_root_mfa, root_mfa=True, root_access_keys=False) is Status.PASS
    assert v(awsaccount.judge_root_mfa, root_mfa=False, root_access_keys=False) is Status.FAIL
    assert v(awsaccount.judge_root_access_keys, root_mfa=True, root_access_keys=True) is Status.FAIL
    assert v(awsaccount.judge_root_access_keys, root_mfa=True, root_access_keys=False) is Status.PASS


def test_no_aws_section_is_not_applicable():
    from verify.expectations import Expectations

    exp = Expectations(stack="s", domain="example.com")
    for plan in (awssecrets._plan_secrets, awsenv._plan_keys, awsmonitors._plan_checks, awsaccount._plan_account):
        assert isinstance(plan(exp), NotApplicable)


def test_errors_are_translated_and_endpoints_hidden():
    from botocore.exceptions import ClientError, EndpointConnectionError

    denied = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "DescribeSecret")
    assert type(translate(denied, "describe_secret")).__name__ == "AwsAccessDenied"
    throttled = ClientError({"Error": {"Code": "ThrottlingException"}}, "ListHealthChecks")
    assert type(translate(throttled, "x")).__name__ == "AwsThrottled"
    assert type(translate(EndpointConnectionError(endpoint_url="http://127.0.0.1:9"), "x")).__name__ == "AwsUnreachable"
    other = ClientError({"Error": {"Code": "ResourceNotFoundException"}}, "DescribeSecret")
    assert translate(other, "x") is other
    assert _shown_endpoint("https", "https://user:pw@hooks.slack.com/services/T0/B0/secret") == "https://hooks.slack.com/…"  # pragma: allowlist secret
    assert _alarm_of('{"Message": "{\\"AlarmName\\": \\"a\\", \\"NewStateValue\\": \\"ALARM\\"}"}') == ("a", "ALARM")
    assert _alarm_of("not json") is None


def test_missing_credentials_are_looked_up_once():
    """botocore's chain ends at the instance-metadata service, seconds off EC2: once per run."""
    from verify.awsclient import AwsClients, AwsNotConfigured

    class NoCreds:
        calls = 0
        region_name = "eu-west-1"

        def get_credentials(self):
            NoCreds.calls += 1
            return None

    clients = AwsClients(session=NoCreds())
    for _ in range(5):
        with pytest.raises(AwsNotConfigured, match="--skip aws"):
            clients.session()
    assert NoCreds.calls == 1
