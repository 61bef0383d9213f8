"""Monitoring section of the stack spec: uptime and latency checks, and where alerts go.

One Route53 health check per public host and per main-flow path (HTTPS, SNI, latency measured);
CloudWatch alarms on health and on time-to-first-byte p95; alarm and OK actions to one SNS topic.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictBool, model_validator

from infra.knowledge.awsprices import DEFAULT_HEALTH_CHECK_QUOTA

from .fields import Hostname, PositiveInt, StrictInt, UrlPath
from .model import Model, SpecView

# The launch baseline: main flows answer within 500 ms at p95.
DEFAULT_LATENCY_MS = 500
# Route53 publishes health-check metrics to CloudWatch in us-east-1 only.
METRICS_REGION = "us-east-1"
CHECKER_REGIONS = ("us-east-1", "us-west-1", "us-west-2", "eu-west-1",
                   "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "sa-east-1")


def _email(value: str) -> str:
    if not re.match(r"^[^@\s,;]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$", value):
        raise ValueError("is not a valid e-mail address")
    return value


def _https(value: str) -> str:
    if not re.match(r"^https://[^\s/]+(/\S*)?$", value):
        raise ValueError("is not an https:// URL (SNS delivers webhooks over HTTPS only here)")
    return value


Email = Annotated[str, AfterValidator(_email)]
HttpsUrl = Annotated[str, AfterValidator(_https)]


class Alerts(Model):
    email: list[Email] = Field(default_factory=list)
    # HTTPS endpoints (Slack/Teams bridges, PagerDuty/Opsgenie SNS integrations); must confirm the subscription.
    webhooks: list[HttpsUrl] = Field(default_factory=list)

    @model_validator(mode="after")
    def _someone(self):
        if not self.email and not self.webhooks:
            raise ValueError("needs at least one email or webhook: an alert nobody receives is no alert")
        return self


class CloudflareAlerts(Model):
    """Cloudflare notification policies for certificate events (issuance failures, expiry)."""

    certificate_events: StrictBool = True
    account_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")  # defaults to zone.accountId
    email: list[Email] = Field(default_factory=list)                            # defaults to alerts.email


class Monitoring(Model):
    latency_threshold_ms: PositiveInt = Field(DEFAULT_LATENCY_MS, description="milliseconds, e.g. 500")
    # p95 per the launch baseline. Route53 documents Average for TimeToFirstByte; if p95 returns no
    # data in an account, the latency alarm stays OK (missing data is not breaching): switch to
    # Average or Maximum then. verify checks that the alarm has data.
    latency_statistic: Literal["p90", "p95", "p99", "Average", "Maximum"] = "p95"
    request_interval: Literal[10, 30] = 30
    failure_threshold: StrictInt = Field(default=3, ge=1, le=10)
    # Checker regions (at least 3); empty = Route53's default set.
    regions: list[Literal[CHECKER_REGIONS]] = Field(default_factory=list)  # type: ignore[valid-type]
    # Hosts to check (explicit hosts or tenant hosts); by default every explicit host and the sampled
    # hosts of each tenant group (tenantGroups[].sample): never every tenant.
    hosts: list[Hostname] | None = None
    # Path to check per host ("/" by default), e.g. api.example.com: /v1/health.
    host_paths: dict[Hostname, UrlPath] = Field(default_factory=dict)
    # Flow names to check on every host that has them; by default every flow. Route53 counts only
    # 2xx/3xx as healthy, so leave out flows that answer GET with 4xx (POST-only endpoints).
    flows: list[str] | None = None
    alerts: Alerts
    cloudflare: CloudflareAlerts | None = None
    # The account's Route53 health-check quota (AWS's default is 200; raised on request): the policy
    # pack refuses a program that declares more.
    health_check_quota: PositiveInt = Field(DEFAULT_HEALTH_CHECK_QUOTA, description="health checks, e.g. 200")

    @model_validator(mode="after")
    def _regions(self):
        if self.regions and len(set(self.regions)) < 3:
            raise ValueError("regions: Route53 needs at least 3 checker regions (or none for its default set)")
        return self

    def checks(self, spec: SpecView) -> list[CheckPlan]:
        """Every health check, in a stable order: one per watched host, then one per main-flow path.
        A tenant group is watched through its sampled hosts: its tenants share origin and flows."""
        names = self.hosts if self.hosts is not None else (
            [h.name for h in spec.hosts] + [n for g in spec.tenant_groups for n in g.sampled])
        watched = [(name, flows) for name in names if (flows := _flows_of(spec, name)) is not None]
        out = [CheckPlan(f"host-{name}", name, self.host_paths.get(name, "/"), None) for name, _ in watched]
        for name, flows in watched:
            for flow, path in flows.items():
                if (self.flows is None or flow in self.flows) and path != self.host_paths.get(name, "/"):
                    out.append(CheckPlan(f"flow-{name}-{flow}", name, path, flow))
        return out

    def cloudflare_account(self, spec: SpecView) -> str | None:
        return (self.cloudflare.account_id if self.cloudflare else None) or spec.zone.account_id

    def problems(self, spec: SpecView) -> list[tuple[tuple, str]]:
        problems: list[tuple[tuple, str]] = []
        for i, name in enumerate(self.hosts or []):
            if _flows_of(spec, name) is None:
                problems.append((("monitoring", "hosts", i), f"{name!r} is not among hosts"))
        for name in self.host_paths:
            if _flows_of(spec, name) is None:
                problems.append((("monitoring", "hostPaths", name), "is not among hosts"))
        declared = {f for h in spec.hosts for f in h.flows} | {f for g in spec.tenant_groups for f in g.flows}
        for i, flow in enumerate(self.flows or []):
            if flow not in declared:
                problems.append((("monitoring", "flows", i), f"{flow!r} is not a flow of any host (known: {', '.join(sorted(declared))})"))
        if self.cloudflare and self.cloudflare.certificate_events and not self.cloudflare_account(spec):
            problems.append((("monitoring", "cloudflare", "accountId"), "is required (or zone.accountId): notification policies belong to an account"))
        return problems


def _flows_of(spec: SpecView, name: str) -> dict[str, str] | None:
    """The flows of an explicit host or of the tenant group serving `name`; None if nobody serves it."""
    host = spec.host(name)
    if host is not None:
        return host.flows
    group = spec.group_of(name)
    return group.flows if group is not None else None


# Route53 HealthCheck.referenceName: the AWS provider appends a 37-character unique id to it to build
# the 64-character CallerReference, so it takes at most 27 (terraform-provider-aws
# internal/service/route53/health_check.go). It forces replacement when changed: it must be stable.
REFERENCE_NAME_MAX = 27


@dataclass(frozen=True)
class CheckPlan:
    key: str                    # stable resource-name stem: host-app.example.com, flow-app.example.com-login
    host: str
    path: str
    flow: str | None

    @property
    def url(self) -> str:
        return f"https://{self.host}{self.path}"

    def alarm_name(self, kind: str) -> str:
        """The CloudWatch alarm on this check: kind "down" (health status) or "slow" (time to first byte).
        verify looks alarms up by the health check's id first, by this name second."""
        return f"launchready {kind}: {self.host}{self.path}"

    @property
    def reference_name(self) -> str:
        """Short, stable and unique per check: a readable stem of the key and 8 hex of its hash."""
        digest = hashlib.sha256(self.key.encode()).hexdigest()[:8]
        stem = re.sub(r"[^a-z0-9-]+", "-", self.key.lower())[:REFERENCE_NAME_MAX - len(digest) - 1].strip("-")
        return f"{stem}-{digest}" if stem else digest
