"""Apply-time validity: configurations the Cloudflare API rejects during `pulumi up`, caught in the PR.

These are not weaknesses but failures waiting to happen half-way through a deploy (some resources
created, others not), so they are mandatory. So is the failure that waits until just after the
deploy: a production stack still carrying the example's placeholder values (example-values-replaced).
"""
from __future__ import annotations

import json
import re
from collections import defaultdict

from infra.knowledge.awsprices import DEFAULT_HEALTH_CHECK_QUOTA, PRICED_AS_OF, health_check_usd
from infra.knowledge.placeholders import (
    DOC_ACCOUNT,
    address_host,
    dkim_key_is_fake,
    is_doc_account_function,
    is_doc_ip,
    is_fake_account_id,
    reserved_domain,
)
from infra.spec.monitorspec import REFERENCE_NAME_MAX
from infra.spec.redact import redact

from ..context import current_spec
from ..props import (
    DNS_RECORD,
    HEALTH_CHECK,
    NOTIFICATION_POLICY,
    PHASE_RATELIMIT,
    PHASE_REDIRECT,
    RULESET,
    SNS_SUBSCRIPTION,
    as_list,
    caa_parts,
    enabled_rules,
    fmt_num,
    get,
    num,
    of_type,
    plain,
    ratelimit_keys,
    record_name,
    rule_label,
    strings,
)
from ..registry import ADVISORY, HIGH, LOW, MANDATORY, MEDIUM, resource_rule, stack_rule


@stack_rule(
    "one-entrypoint-ruleset-per-phase", area="apply", severity=HIGH, enforcement=MANDATORY,
    description="A zone has at most one entry-point ruleset (kind 'zone') per phase; Cloudflare rejects a second one at apply.",
    remediation="""
Put all rules of a phase into the one ruleset the launch program declares for it
(infra/components/rulesets.py builds one per phase from the stack file). If you added a
`cloudflare.Ruleset` by hand, move its rules into the matching section of
stacks/Pulumi.<stack>.yaml (redirects, waf, rateLimits, cache, headers) and delete it.""",
)
def one_entrypoint_ruleset_per_phase(resources, config):
    seen = defaultdict(list)
    for r in of_type(resources, RULESET):
        if get(r.props, "kind") == "zone":
            seen[(str(get(r.props, "zoneId", default="")), str(get(r.props, "phase", default="")))].append(r)
    for (zone, phase), found in seen.items():
        if len(found) > 1:
            names = ", ".join(r.name for r in found)
            yield (f"{len(found)} entry-point rulesets for phase {phase} in zone {zone}: {names}.", found[1].urn)


RATE_LIMIT_PERIODS = [10, 60, 120, 300, 600, 3600]
MITIGATION_TIMEOUTS = [0, 10, 60, 120, 300, 600, 3600, 86400]


@resource_rule(
    "ratelimit-period-allowed", area="apply", types=[RULESET], severity=HIGH, enforcement=MANDATORY,
    description="Rate-limit rules use a period (and mitigation timeout) Cloudflare accepts: period in {10, 60, 120, 300, 600, 3600} seconds.",
    remediation="""
In `launchready:rateLimits` (stacks/Pulumi.<stack>.yaml) use `period: 60` (or 10, 120, 300, 600,
3600) and adjust `requests` to keep the same rate (e.g. 5 per 30 s → 10 per 60 s).
`mitigationTimeout` must be one of 0, 10, 60, 120, 300, 600, 3600 or 86400. Which values your
plan allows is listed under Security → WAF → Rate limiting rules in the dashboard.""",
    config={
        "allowedPeriods": {"type": "array", "items": {"type": "number"}, "default": RATE_LIMIT_PERIODS,
                           "description": "Accepted counting periods, in seconds."},
        "allowedMitigationTimeouts": {"type": "array", "items": {"type": "number"}, "default": MITIGATION_TIMEOUTS,
                                      "description": "Accepted mitigation timeouts, in seconds."},
    },
    spec_keys=("rateLimits",),
    locator=lambda message, resource, spec: _ratelimit_locator(message),
)
def ratelimit_period_allowed(props, config):
    if get(props, "phase") != PHASE_RATELIMIT:
        return
    periods = {float(p) for p in config["allowedPeriods"]}
    timeouts = {float(t) for t in config["allowedMitigationTimeouts"]}
    for i, rule in enumerate(as_list(get(props, "rules"))):
        label = rule_label(rule, i)
        rl = get(rule, "ratelimit")
        if rl is None:
            yield f"{label}: no ratelimit block."
            continue
        period = num(get(rl, "period"))
        if period not in periods:
            yield (f"{label}: period {fmt_num(get(rl, 'period'))} s is not accepted "
                   f"(allowed: {', '.join(fmt_num(p) for p in sorted(periods))}).")
        timeout = get(rl, "mitigationTimeout")
        if timeout is not None and num(timeout) not in timeouts:
            yield (f"{label}: mitigation timeout {fmt_num(timeout)} s is not accepted "
                   f"(allowed: {', '.join(fmt_num(t) for t in sorted(timeouts))}).")
        requests = num(get(rl, "requestsPerPeriod"))
        if requests is not None and (requests < 1 or requests != int(requests)):
            yield f"{label}: requests per period {fmt_num(requests)} is not a positive whole number."


def _ratelimit_locator(message: str) -> list[str]:
    return ratelimit_keys(message, ((": period", "period"), ("mitigation timeout", "mitigationTimeout"),
                                    ("requests per period", "requests")))


PROXIABLE = ("A", "AAAA", "CNAME")


@resource_rule(
    "proxied-record-type", area="apply", types=[DNS_RECORD], severity=HIGH, enforcement=MANDATORY,
    description="Only A, AAAA and CNAME records can be proxied; Cloudflare rejects proxied TXT, MX, CAA, SRV, NS... records.",
    remediation="""
Set `proxied: false` (or remove `proxied`) on the record in `launchready:records`
(stacks/Pulumi.<stack>.yaml). Only web traffic to A/AAAA/CNAME names goes through the proxy.""",
    spec_keys=("records",),
)
def proxied_record_type(props, config):
    rtype = str(get(props, "type", default="")).upper()
    if get(props, "proxied") is True and rtype not in PROXIABLE:
        yield f"{record_name(props)} {rtype} is proxied; only {', '.join(PROXIABLE)} records can be."


_CAA_TAGS = ("issue", "issuewild", "iodef")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", re.I)


@resource_rule(
    "caa-well-formed", area="apply", types=[DNS_RECORD], severity=MEDIUM, enforcement=MANDATORY,
    description="CAA records are well formed (RFC 8659): flags 0 or 128, tag issue/issuewild/iodef, a CA domain (or ';') for issue tags, a mailto:/https: URL for iodef.",
    remediation="""
List CAs in `launchready:caa` (stacks/Pulumi.<stack>.yaml) as bare domains: `letsencrypt.org`,
`pki.goog` — no quotes, no 'issue', no https://. For a hand-written CAA in `launchready:records`,
use content like `0 issue "letsencrypt.org"`.""",
    spec_keys=("caa", "records"),
)
def caa_well_formed(props, config):
    if str(get(props, "type", default="")).upper() != "CAA":
        return
    name = record_name(props)
    flags, tag, value = caa_parts(props)
    if tag is None:
        yield f"{name}: CAA has neither structured data nor 'flags tag value' content."
        return
    if num(flags) not in (0.0, 128.0):
        yield f"{name}: CAA flags {fmt_num(flags)} are invalid (0, or 128 for critical)."
    tag = str(tag)
    value = str(value or "").strip()
    if tag not in _CAA_TAGS:
        yield f"{name}: CAA tag {tag!r} is not one of {', '.join(_CAA_TAGS)}."
    elif tag in ("issue", "issuewild"):
        ca = value.split(";")[0].strip()
        if ca and not _DOMAIN.match(ca):
            yield f"{name}: CAA {tag} value {value!r} does not name a CA domain (e.g. letsencrypt.org) or ';'."
        elif not ca and not value.startswith(";"):
            yield f"{name}: CAA {tag} value is empty (use ';' to forbid issuance)."
    elif not re.match(r"^(mailto:[^@\s]+@[^@\s]+|https?://\S+)$", value):
        yield f"{name}: CAA iodef value {value!r} is not a mailto: or https: URL."


@resource_rule(
    "redirect-rule-valid", area="apply", types=[RULESET], severity=MEDIUM, enforcement=MANDATORY,
    description="Dynamic redirect rules have a target URL (value or expression) and a redirect status Cloudflare accepts (301, 302, 303, 307, 308).",
    remediation="""
In `launchready:redirects` (stacks/Pulumi.<stack>.yaml) give each redirect a `to` (a path such as
/login or an https:// URL) and a `status` of 301 or 308 (permanent) or 302/307 (temporary).""",
    spec_keys=("redirects",),
)
def redirect_rule_valid(props, config):
    if get(props, "phase") != PHASE_REDIRECT:
        return
    for i, rule in enumerate(enabled_rules(props)):
        if get(rule, "action") != "redirect":
            continue
        label = get(rule, "ref") or f"rules[{i}]"
        fv = get(rule, "actionParameters", "fromValue")
        if fv is None:
            yield f"rule {label!r}: redirect without fromValue."
            continue
        status = num(get(fv, "statusCode", default=301))
        if status not in (301.0, 302.0, 303.0, 307.0, 308.0):
            yield f"rule {label!r}: status {fmt_num(status)} is not a redirect status Cloudflare accepts."
        if not (get(fv, "targetUrl", "value") or get(fv, "targetUrl", "expression")):
            yield f"rule {label!r}: no target URL."


def _quota(config) -> tuple[int, str]:
    """The account's health-check quota and where it was declared: the stack's
    monitoring.healthCheckQuota, else (no stack config reached the pack) the rule's config."""
    spec = current_spec()
    if spec is not None and spec.monitoring is not None:
        return spec.monitoring.health_check_quota, "monitoring.healthCheckQuota"
    return int(config["maxHealthChecks"]), "the policy config's maxHealthChecks"


def _monthly_usd(checks) -> float:
    """What these health checks cost a month at AWS list prices (a non-AWS endpoint, its options)."""
    total = 0.0
    for hc in checks:
        kind = str(get(hc.props, "type", default="")).upper()
        total += health_check_usd(https=kind.startswith("HTTPS"), latency=get(hc.props, "measureLatency") is True,
                                  fast_interval=num(get(hc.props, "requestInterval")) == 10.0,
                                  string_match=kind.endswith("STR_MATCH"))
    return round(total, 2)


@stack_rule(
    "health-check-quota", area="apply", severity=HIGH, enforcement=MANDATORY,
    description=(f"The stack declares no more Route53 health checks than the account's quota (AWS's default is "
                 f"{DEFAULT_HEALTH_CHECK_QUOTA} per account; `launchready:monitoring` → `healthCheckQuota`); beyond it "
                 "`pulumi up` fails with TooManyHealthChecks part-way through, some monitors created and others not."),
    remediation="""
Declare fewer checks in stacks/Pulumi.<stack>.yaml: watch a tenant group through a few hosts
(`launchready:tenantGroups` → `sample`, e.g. 2), list the hosts to watch (`monitoring.hosts`), or
check fewer flows per host (`monitoring.flows`, e.g. [login]). Or raise the quota before the deploy
(Service Quotas → Amazon Route 53 → "Health checks per account"; other stacks in the account count
too) and declare the granted value as `monitoring.healthCheckQuota`. Without stack config (a pack
run on resources alone) the quota is the rule's `maxHealthChecks`:
{"health-check-quota": {"maxHealthChecks": 1000}}.""",
    config={"maxHealthChecks": {"type": "integer", "minimum": 1, "default": DEFAULT_HEALTH_CHECK_QUOTA,
                                "description": "Route53 health checks the account may hold, when the stack declares no monitoring.healthCheckQuota."}},
    spec_keys=("monitoring.healthCheckQuota", "monitoring.flows", "monitoring"),
    locator=lambda message, resource, spec: _quota_locator(spec),
)
def health_check_quota(resources, config):
    checks = of_type(resources, HEALTH_CHECK)
    quota, declared = _quota(config)
    if len(checks) > quota:
        yield (f"the stack declares {len(checks):,} Route53 health checks; the account quota is {quota:,} ({declared}; "
               f"AWS default {DEFAULT_HEALTH_CHECK_QUOTA}, shared by every stack in the account). They would cost about "
               f"${_monthly_usd(checks):,.2f} a month (AWS list prices, {PRICED_AS_OF}). Watch fewer: "
               "tenantGroups[].sample, monitoring.hosts, monitoring.flows; or raise the quota with AWS and declare it "
               "as monitoring.healthCheckQuota.")


def _quota_locator(spec) -> list[str]:
    """The tenant group with the largest sample (the usual cause), else the monitoring keys."""
    groups = [(g.sample, i) for i, g in enumerate(getattr(spec, "tenant_groups", None) or []) if g.sample > 1]
    return [f"tenantGroups[{max(groups)[1]}].sample"] if groups else []


@resource_rule(
    "health-check-reference-name", area="apply", types=[HEALTH_CHECK], severity=HIGH, enforcement=MANDATORY,
    description="A Route53 health check's referenceName has at most 27 characters: the AWS provider appends a 37-character id to build the 64-character caller reference and rejects a longer name (terraform-provider-aws internal/service/route53/health_check.go).",
    remediation="""
The program derives each health check's reference name from its host and flow, cut to 27
characters with a hash that keeps it unique (infra/spec/monitorspec.py, CheckPlan.reference_name).
A longer name comes from a change to that code: keep the result at 27 characters or fewer, and
stable (changing it replaces the health check and its alarms).""",
    spec_keys=("monitoring",),
)
def health_check_reference_name(props, config):
    name = get(props, "referenceName")
    if isinstance(name, str) and len(name) > REFERENCE_NAME_MAX:
        yield (f"referenceName {name!r} has {len(name)} characters; the AWS provider accepts at most "
               f"{REFERENCE_NAME_MAX}.")


@resource_rule(
    "ruleset-no-duplicate-rules", area="apply", types=[RULESET], severity=LOW, enforcement=ADVISORY,
    description="A ruleset has no two enabled rules with the same expression, action and settings: the copy never changes the outcome, but counts against the plan's rule quota (rate limiting: 1 on Free, 2 on Pro, 5 on Business).",
    remediation="""
Delete the repeated entry from the matching section of stacks/Pulumi.<stack>.yaml (usually
`launchready:rateLimits`: two entries with the same path, hosts and methods). If the two were
meant to differ (another host, another method, a stricter limit), change the copy accordingly.""",
    spec_keys=("rateLimits",),
    locator=lambda message, resource, spec: _ratelimit_locator(message),
)
def ruleset_no_duplicate_rules(props, config):
    seen: dict[tuple[str, str], str] = {}
    for i, rule in enumerate(as_list(get(props, "rules"))):
        if get(rule, "enabled", default=True) is False:
            continue
        key = (str(get(rule, "expression", default="")).strip(), str(get(rule, "action", default="")),
               json.dumps(plain(get(rule, "actionParameters", default={})), sort_keys=True),
               json.dumps(plain(get(rule, "ratelimit", default={})), sort_keys=True))
        label = rule_label(rule, i)
        if key in seen:
            yield f"{label} repeats {seen[key]} (same expression, action and settings)."
        else:
            seen[key] = label


# What each kind of example value is called in a message, and how the locator recognises the
# stack-file value behind it (the same predicates, applied to the spec's leaves).
_EXAMPLE_KINDS = {
    "domain": ("is reserved for documentation (RFC 2606)", lambda leaf, shown: False),
    "address": ("is a documentation address (RFC 5737/3849), nobody's server",
                lambda leaf, shown: leaf == shown and is_doc_ip(leaf)),
    "account": ("is the example's placeholder Cloudflare account id",
                lambda leaf, shown: leaf == shown and is_fake_account_id(leaf)),
    "lambda": (f"is in AWS's documentation account {DOC_ACCOUNT}",
               lambda leaf, shown: leaf == shown and is_doc_account_function(leaf)),
    "dkim": ("is the example's fake, not a public key",
             lambda leaf, shown: "DKIM1" in leaf and dkim_key_is_fake(leaf)),
    "alert": ("is an address in a reserved domain (RFC 2606), which nobody reads",
              lambda leaf, shown: redact(leaf) == shown and reserved_domain(address_host(leaf)) is not None),
}


def _example_values(r):
    """(kind, value as shown, field) of each example value among one resource's properties. A shown
    value is public by construction (a documentation range, a reserved name, a fixed fake id) or
    passed through redact() (a webhook URL may be its own credential)."""
    rtype = r.resource_type
    for field, value in strings(r.props):
        if is_doc_ip(value):
            yield "address", value.strip(), field
        elif is_fake_account_id(value):
            yield "account", value.strip(), field
        elif is_doc_account_function(value):
            yield "lambda", value, field
        elif rtype == DNS_RECORD and field == "name" and reserved_domain(value):
            yield "domain", reserved_domain(value), field
        elif (rtype == DNS_RECORD and field == "content" and "_domainkey." in record_name(r.props)
              and dkim_key_is_fake(value)):
            yield "dkim", f"published at {record_name(r.props)}", field
        elif ((rtype == SNS_SUBSCRIPTION and field == "endpoint") or (rtype == NOTIFICATION_POLICY and field.startswith("mechanisms."))) \
                and reserved_domain(address_host(value)):
            yield "alert", redact(value), field


def _example_locator(message: str, resource, spec) -> list[str]:
    """The stack-file keys holding the value a message names (hosts[0].origin, zone.accountId, ...)."""
    if spec is None:
        return []
    kind = next((k for k, (said, _) in _EXAMPLE_KINDS.items() if said in message), None)
    if kind == "domain":
        return ["domain", "zone.name"]
    if kind is None:
        return []
    shown = message.split(" ", 1)[0]
    matches = _EXAMPLE_KINDS[kind][1]
    return [path for path, leaf in strings(spec.model_dump(by_alias=True, mode="json")) if matches(leaf, shown)]


@stack_rule(
    "example-values-replaced", area="apply", severity=HIGH, enforcement=MANDATORY,
    description="No value copied from the example stack is left: a documentation address (RFC 5737/3849) as an origin, a reserved domain (RFC 2606), the example's Cloudflare account id or DKIM key, a Lambda in AWS's documentation account, alerts to a reserved domain. Mandatory in production, except in the shipped template stack `example`; advisory elsewhere.",
    remediation="""
Replace the example's values in stacks/Pulumi.<stack>.yaml with your own (the finding names the
resource, the field and the stack-file line): `launchready:domain` and `zone.name` (your Cloudflare
zone), `zone.accountId` (Cloudflare dashboard → the account's overview, "Account ID"),
`hosts[].origin` (your servers' addresses or host names), the DKIM key your mail provider's console
shows (`mail.providers[].params.dkimKey`), `secrets.items[].rotation.lambdaArn` (your rotation
Lambda) and `monitoring.alerts` (an inbox or webhook someone reads). `launchready plan --stack
<stack>` lists what is left under "before you apply".""",
    spec_keys=("domain",),
    locator=_example_locator,
)
def example_values_replaced(resources, config):
    found: dict[tuple[str, str], list[tuple[str, str, str, str]]] = {}
    for r in resources:
        for kind, shown, field in _example_values(r):
            found.setdefault((kind, shown), []).append((r.resource_type.rsplit(":", 1)[-1], r.name, field, r.urn))
    for (kind, shown), where in found.items():
        type_, name, field, urn = where[0]
        more = f" (and {len(where) - 1} more)" if len(where) > 1 else ""
        subject = {"dkim": f"the DKIM key {shown}", "domain": f"the domain {shown}"}.get(kind, shown)
        yield (f"{subject} {_EXAMPLE_KINDS[kind][0]}: {type_} '{name}' field {field}{more}.", urn)


# This module's rules, in catalogue order (policies.rules.MODULES collects them).
RULES = (
    one_entrypoint_ruleset_per_phase, ratelimit_period_allowed, proxied_record_type,
    caa_well_formed, redirect_rule_valid, health_check_quota, health_check_reference_name,
    ruleset_no_duplicate_rules, example_values_replaced,
)
