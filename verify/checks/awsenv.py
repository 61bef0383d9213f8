"""The production env contract in Parameter Store: every declared key present with its declared type
and value, and the launch values production needs (NODE_ENV, APP_URL, COOKIE_SECURE).

Each key is judged by one value check: aws-env-production for the production keys of a production
stack, aws-env-value for the others. SecureString values are never read (no decryption) nor shown.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from ..awsexpect import PRODUCTION_KEYS, AwsExpectations, EnvKeyExpectation
from ..model import Verdict, failed, passed, skipped
from ..probes.awsprobes import EnvObservation, ParameterObservation
from ..registry import Item, NotApplicable, Observations, check, checks_of, key
from .awscommon import GROUP, with_aws


def _item(aws: AwsExpectations, e: EnvKeyExpectation) -> Item:
    return Item(target=e.name, needs=(key("aws-env", aws.env_path),), data=(aws, e))


@with_aws("env contract", lambda a: bool(a.env))
def _plan_keys(aws: AwsExpectations):
    return [_item(aws, e) for e in aws.env]


def _production_judged(aws: AwsExpectations, e: EnvKeyExpectation) -> bool:
    return aws.production and e.key in PRODUCTION_KEYS


@with_aws("env contract", lambda a: bool(a.env))
def _plan_values(aws: AwsExpectations):
    # SecureStrings are not read; production keys of a production stack are aws-env-production's.
    items = [_item(aws, e) for e in aws.env if e.type == "String" and not _production_judged(aws, e)]
    return items or NotApplicable("no plain value to compare (SecureStrings are never read)", aws.env_path or "-")


@with_aws("env contract", lambda a: bool(a.env))
def _plan_production(aws: AwsExpectations):
    if not aws.production:
        return NotApplicable("not a production stack (launchready:environment)", aws.env_path or "-")
    declared = {e.key: e for e in aws.env}
    return [_item(aws, declared[k]) if k in declared
            else NotApplicable(f"{k} is not in the env contract", f"{aws.env_path}/{k}") for k in PRODUCTION_KEYS]


def _param(item: Item, obs: Observations) -> tuple[AwsExpectations, EnvKeyExpectation, ParameterObservation | None]:
    aws, e = item.data
    env: EnvObservation = obs[key("aws-env", aws.env_path)]
    return aws, e, env.get(e.name)


@check("aws-env-key", GROUP, "every env-contract key is in Parameter Store with its declared type", plan=_plan_keys)
def judge_env_key(item: Item, obs: Observations) -> Verdict:
    _, e, p = _param(item, obs)
    if p is None:
        return failed(f"{e.name} is missing", "run `pulumi up` (the env contract is declared in launchready:secrets "
                      "→ env), or check the account and region verify uses", key=e.key, declared_type=e.type)
    if p.type != e.type:
        fix = ("declare it as {secret: <item>} and `pulumi up`: a secret must be a KMS-encrypted SecureString"
               if e.type == "SecureString" else "`pulumi up` restores the declared parameter")
        return failed(f"{e.name} is {p.type}, declared {e.type}", fix, key=e.key, type=p.type, declared_type=e.type)
    return passed(f"{e.name} is a {p.type}", key=e.key, type=p.type)


def _value_item(item: Item, obs: Observations):
    _, e, p = _param(item, obs)
    if p is None:
        return e, None, skipped("missing (reported by aws-env-key)")
    if p.type != "String":
        return e, None, skipped(f"a {p.type} (reported by aws-env-key); its value is not read")
    return e, p, None


@check("aws-env-value", GROUP, "env-contract values in Parameter Store equal the declared ones", plan=_plan_values)
def judge_env_value(item: Item, obs: Observations) -> Verdict:
    e, p, moot = _value_item(item, obs)
    if moot:
        return moot
    if p.value != e.value:
        return failed(f"{e.name} is {p.value!r}, declared {e.value!r}", "`pulumi up` writes the declared value "
                      "(someone changed it by hand; or change the stack file if the new value is right)",
                      key=e.key, live=p.value, declared=e.value)
    return passed(f"{e.name} = {p.value!r}", key=e.key)


def _production_problem(key_: str, value: str, domain: str) -> str | None:
    if key_ == "NODE_ENV" and value != "production":
        return "NODE_ENV must be production (frameworks turn on debug pages and verbose errors otherwise)"
    if key_ == "COOKIE_SECURE" and value.strip().lower() != "true":
        return "COOKIE_SECURE must be true (session cookies would travel over plain HTTP)"
    if key_ == "APP_URL":
        u = urlsplit(value)
        host = (u.hostname or "").lower()
        if u.scheme != "https" or not (host == domain or host.endswith("." + domain)):
            return f"APP_URL must be an https:// URL on {domain} (links in invite and reset mails use it)"
    return None


@check("aws-env-production", GROUP, "production values: NODE_ENV=production, APP_URL https on the portal's domain, "
       "COOKIE_SECURE=true", plan=_plan_production)
def judge_env_production(item: Item, obs: Observations) -> Verdict:
    aws, _ = item.data
    e, p, moot = _value_item(item, obs)
    if moot:
        return moot
    problem = _production_problem(e.key, p.value or "", aws.domain)
    if problem:
        return failed(f"{e.name} is {p.value!r}: {problem}", f"set {e.key} in launchready:secrets → env and "
                      "`pulumi up`", key=e.key, live=p.value, declared=e.value)
    if p.value != e.value:
        return failed(f"{e.name} is {p.value!r}, declared {e.value!r}", "`pulumi up` writes the declared value",
                      key=e.key, live=p.value, declared=e.value)
    return passed(f"{e.name} = {p.value!r}", key=e.key)


CHECKS = checks_of(judge_env_key, judge_env_value, judge_env_production)
