"""What the AWS checks expect of the deployed stack: secrets, the env contract, monitors, from the
launch contract.

Like verify.webexpect, plain frozen dataclasses built from infra.contract.build_contract (the stack
output `launchContract`), so infra and verify cannot disagree about names, tags or alarms. The
contract writes stack-dependent names as templates ("launchready/{stack}/smtp-password"); verify
knows which stack it checks and fills them in here. Judges read these, never the pydantic model.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from infra.contract import build_contract

# The env keys whose production value is a launch requirement, judged by aws-env-production (in a
# production stack) instead of by equality with the declared value.
PRODUCTION_KEYS = ("NODE_ENV", "APP_URL", "COOKIE_SECURE")


@dataclass(frozen=True)
class SecretExpectation:
    item: str                         # the spec's item name (stripe-api-key)
    name: str                         # the Secrets Manager name (launchready/<stack>/<item>)
    rotation: str | None = None       # "lambda", "manual" or None (not declared)
    lambda_arn: str | None = None
    days: int | None = None           # a Lambda rotation's schedule
    max_age_days: int | None = None   # a manual rotation's maximum age
    owner: str | None = None


@dataclass(frozen=True)
class EnvKeyExpectation:
    key: str                          # NODE_ENV
    name: str                         # /launchready/<stack>/env/NODE_ENV
    type: str                         # String | SecureString
    value: str | None = None          # the declared value of a String (never known for a SecureString)


@dataclass(frozen=True)
class HealthCheckExpectation:
    key: str                          # host-app.example.com, flow-app.example.com-login
    host: str
    path: str
    reference_name: str               # what infra gives Route53 (the CallerReference starts with it)

    @property
    def label(self) -> str:
        return f"https://{self.host}{self.path}"


@dataclass(frozen=True)
class AlarmExpectation:
    check: str                        # the HealthCheckExpectation.key it watches
    name: str                         # launchready down: app.example.com/
    metric: str                       # HealthCheckStatus | TimeToFirstByte


@dataclass(frozen=True)
class AwsExpectations:
    stack: str
    domain: str
    production: bool = True
    secrets: tuple[SecretExpectation, ...] = ()
    kms_alias: str | None = None
    env_path: str | None = None
    env: tuple[EnvKeyExpectation, ...] = ()
    metrics_region: str = "us-east-1"
    topic_name: str | None = None
    health_checks: tuple[HealthCheckExpectation, ...] = ()
    alarms: tuple[AlarmExpectation, ...] = ()
    subscribers: int = 0              # declared alert addresses and webhooks
    # --fire-drill: set each alarm to ALARM, see the topic deliver, set it back (opt-in: it pages people)
    fire_drill: bool = False

    def health_check(self, key: str) -> HealthCheckExpectation | None:
        return next((c for c in self.health_checks if c.key == key), None)

    @property
    def monitored(self) -> bool:
        return self.topic_name is not None


def _fill(template: str, stack: str) -> str:
    return template.replace("{stack}", stack)


def _secrets(contract: Mapping[str, Any], stack: str) -> tuple[tuple[SecretExpectation, ...], str | None]:
    sec = contract.get("secrets")
    if not sec:
        return (), None
    out = []
    for i in sec["items"]:
        r = i.get("rotation") or {}
        out.append(SecretExpectation(
            item=i["name"], name=_fill(i["secretName"], stack), rotation=r.get("type"), lambda_arn=r.get("lambdaArn"),
            days=r.get("days"), max_age_days=r.get("maxAgeDays"), owner=r.get("owner")))
    return tuple(out), _fill(sec["kmsAlias"], stack)


def _env(contract: Mapping[str, Any], stack: str) -> tuple[tuple[EnvKeyExpectation, ...], str | None]:
    env = contract.get("env")
    if not env:
        return (), None
    path = _fill(env["path"], stack)
    return tuple(EnvKeyExpectation(key=k, name=f"{path}/{k}", type=v["type"], value=v.get("value"))
                 for k, v in env["keys"].items()), path


def aws_from_spec(spec: Any, stack: str, contract: Mapping[str, Any] | None = None) -> AwsExpectations:
    c = contract if contract is not None else build_contract(spec)
    stack = stack or "dev"
    secrets, alias = _secrets(c, stack)
    env, path = _env(c, stack)
    mon = c.get("monitoring")
    checks: tuple[HealthCheckExpectation, ...] = ()
    alarms: tuple[AlarmExpectation, ...] = ()
    if mon:
        checks = tuple(HealthCheckExpectation(key=x["key"], host=x["host"], path=x["path"],
                                              reference_name=x["referenceName"]) for x in mon["checks"])
        alarms = tuple(AlarmExpectation(check=a["check"], name=a["name"], metric=a["metric"]) for a in mon["alarms"])
    return AwsExpectations(
        stack=stack, domain=str(c["domain"]).lower().rstrip("."), production=c["environment"] == "production",
        secrets=secrets, kms_alias=alias, env_path=path, env=env,
        metrics_region=mon["metricsRegion"] if mon else "us-east-1",
        topic_name=_fill(mon["topicName"], stack) if mon else None, health_checks=checks, alarms=alarms,
        subscribers=len(mon["alerts"]["email"]) + len(mon["alerts"]["webhooks"]) if mon else 0,
    )
