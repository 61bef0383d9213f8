"""Secrets Manager: every declared secret exists, on a customer-managed KMS key that rotates, and is
rotated on time (by its function, or by a person within its declared maximum age).

Secrets are described, never read: no result carries a value.
"""
from __future__ import annotations

from ..awsexpect import AwsExpectations, SecretExpectation
from ..model import Verdict, failed, passed, skipped, warned
from ..probes.awsprobes import SecretObservation
from ..registry import Item, Observations, check, checks_of, key
from .awscommon import GROUP, age_days, day, with_aws

ONE_DAY_GRACE = 1.0  # Secrets Manager starts a due rotation within its rotation window, not to the minute


@with_aws("secrets", lambda a: bool(a.secrets))
def _plan_secrets(aws: AwsExpectations):
    return [Item(target=s.name, needs=(key("aws-secret", s.name),), data=s) for s in aws.secrets]


def _observed(item: Item, obs: Observations) -> tuple[SecretExpectation, SecretObservation]:
    return item.data, obs[key("aws-secret", item.data.name)]


@check("aws-secret-exists", GROUP, "every declared secret exists in Secrets Manager", plan=_plan_secrets)
def judge_secret_exists(item: Item, obs: Observations) -> Verdict:
    s, o = _observed(item, obs)
    if not o.exists:
        return failed(f"{s.name} does not exist", "run `pulumi up` for the stack, or check the account and region "
                      "verify uses (AWS_PROFILE, AWS_REGION)", secret=s.name)
    if o.deleted is not None:
        return failed(f"{s.name} is scheduled for deletion ({day(o.deleted)})",
                      f"restore it: aws secretsmanager restore-secret --secret-id {s.name}", secret=s.name)
    return passed(f"{s.name} exists", arn=o.arn)


@check("aws-secret-kms", GROUP, "secrets are encrypted with a customer-managed KMS key that rotates", plan=_plan_secrets)
def judge_secret_kms(item: Item, obs: Observations) -> Verdict:
    s, o = _observed(item, obs)
    if not o.exists:
        return skipped("the secret does not exist (reported by aws-secret-exists)")
    fix = ("encrypt it with the stack's customer-managed key: aws secretsmanager update-secret --secret-id "
           f"{s.name} --kms-key-id <alias/launchready/...>, or let `pulumi up` restore kmsKeyId")
    # No KmsKeyId in DescribeSecret means the AWS-managed aws/secretsmanager key: no need to ask KMS.
    if o.kms_key_ref is None or "alias/aws/" in o.kms_key_ref:
        return failed(f"{s.name} is encrypted with the AWS-managed key ({o.kms_key_ref or 'aws/secretsmanager'})",
                      fix, kms_key=o.kms_key_ref or "aws/secretsmanager (AWS-managed)")
    if isinstance(o.key, BaseException):
        raise o.key  # could not describe the key: ERROR, with the reason
    k = o.key
    ev = {"kms_key": o.kms_key_ref, "manager": k.manager if k else None}
    if k is None or k.manager != "CUSTOMER":
        return failed(f"{s.name} is encrypted with an AWS-managed key ({o.kms_key_ref or 'aws/secretsmanager'})",
                      fix, **ev)
    if k.state and k.state != "Enabled":
        return failed(f"{s.name}: its KMS key {k.key_id} is {k.state}", "re-enable the key (or cancel its deletion)", **ev)
    if not k.rotation_enabled:
        return failed(f"{s.name}: KMS key {k.key_id} does not rotate its key material",
                      f"aws kms enable-key-rotation --key-id {k.key_id}", **ev)
    return passed(f"{s.name}: customer-managed key {k.key_id}, rotation on", **ev)


@check("aws-secret-rotation", GROUP, "secrets rotate on time: their function's schedule, or a manual maximum age",
       plan=_plan_secrets)
def judge_secret_rotation(item: Item, obs: Observations) -> Verdict:
    s, o = _observed(item, obs)
    if not o.exists:
        return skipped("the secret does not exist (reported by aws-secret-exists)")
    if s.rotation == "lambda":
        return _judge_lambda(s, o)
    if s.rotation == "manual":
        return _judge_manual(s, o)
    return warned(f"{s.name} declares no rotation", "declare `rotation` for it in launchready:secrets: a function "
                  "({lambdaArn, days}) or {manual: true, maxAgeDays, owner}", secret=s.name)


def _judge_lambda(s: SecretExpectation, o: SecretObservation) -> Verdict:
    days = int(s.days or 30)
    ev = {"declared_days": days, "rotation_days": o.rotation_days, "last_rotated": day(o.last_rotated),
          "rotation_lambda": o.rotation_lambda}
    if not o.rotation_enabled:
        return failed(f"{s.name}: rotation is off (declared every {days} days with a function)",
                      f"aws secretsmanager rotate-secret --secret-id {s.name} --rotation-lambda-arn {s.lambda_arn} "
                      f"--rotation-rules AutomaticallyAfterDays={days}, or `pulumi up`", **ev)
    if o.rotation_days is not None and int(o.rotation_days) > days:
        return failed(f"{s.name}: rotates every {o.rotation_days} days, declared {days}",
                      "`pulumi up` restores the declared schedule", **ev)
    since = o.last_rotated or o.created
    if since is None:
        return warned(f"{s.name}: rotation is on but AWS reports no rotation or creation date", None, **ev)
    age = age_days(since)
    if age > days + ONE_DAY_GRACE:
        what = "last rotated" if o.last_rotated else "never rotated since its creation"
        return failed(f"{s.name}: {what} {age:.0f} days ago, rotation due every {days} days",
                      "look at the rotation function's CloudWatch logs (a failed rotation leaves AWSPENDING), then "
                      f"aws secretsmanager rotate-secret --secret-id {s.name}", age_days=round(age, 1), **ev)
    return passed(f"{s.name}: rotated within its {days}-day schedule", age_days=round(age, 1), **ev)


def _judge_manual(s: SecretExpectation, o: SecretObservation) -> Verdict:
    max_age = int(s.max_age_days or 0)
    since = o.last_changed or o.created
    ev = {"max_age_days": max_age, "owner": s.owner, "last_changed": day(since)}
    if since is None:
        return warned(f"{s.name}: AWS reports no last-changed date", None, **ev)
    age = age_days(since)
    if age > max_age:
        return failed(f"{s.name}: the value is {age:.0f} days old, older than its maximum age of {max_age} days "
                      f"(owner: {s.owner})", f"{s.owner}: replace the value at its issuer, store it with `pulumi config "
                      f"set --secret`, bump the item's `version` and run `pulumi up`", age_days=round(age, 1), **ev)
    return passed(f"{s.name}: changed {age:.0f} days ago, within {max_age} days (owner: {s.owner})",
                  age_days=round(age, 1), **ev)


CHECKS = checks_of(judge_secret_exists, judge_secret_kms, judge_secret_rotation)
