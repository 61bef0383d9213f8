"""Plan entitlements: what the zone's Cloudflare plan lets it declare, judged before apply.

Pulumi's mocks accept any rate-limiting rule; the Cloudflare API refuses, at `pulumi up`, a rule the
zone's plan does not include. Each rule here reads the plan from the typed spec (`zone.plan`, else
the cheapest plan the stack's features need: infra/spec/zoneplan.py) and the entitlements from one
table with its sources (infra/knowledge/cfplans.py).

Without a spec (no stack config reached the pack) the plan is unknown and these rules judge
nothing: they assume Enterprise, the plan that refuses nothing they check, rather than block a
deploy on a guess. What no plan accepts is judged without a spec by `ratelimit-period-allowed`.
"""
from __future__ import annotations

import re

from infra.knowledge.cfplans import (
    CHALLENGE_ACTIONS,
    COLO,
    ENTITLEMENTS,
    MANAGED_RULES_AVAILABILITY,
    RATE_LIMIT_AVAILABILITY,
    RATE_LIMIT_PARAMETERS,
    Entitlements,
    cheapest,
    title,
)
from infra.knowledge.cloudflare import MANAGED_RULESETS

from ..context import current_spec
from ..props import (
    PHASE_RATELIMIT,
    PHASE_WAF,
    RULESET,
    as_list,
    enabled_rules,
    fmt_num,
    get,
    num,
    ratelimit_keys,
    rule_label,
)
from ..registry import HIGH, MANDATORY, resource_rule

_DECLARE = "Declare the zone's real plan as `launchready:zone` → `plan:` (free, pro, business, enterprise) so the gate judges against it."


def _plan() -> tuple[str, Entitlements] | None:
    spec = current_spec()
    if spec is None:
        return None
    return spec.plan, ENTITLEMENTS[spec.plan]


def _limits(props):
    """(label, rule) of each enabled rate-limiting rule of an http_ratelimit ruleset."""
    if get(props, "phase") != PHASE_RATELIMIT:
        return []
    return [(rule_label(rule, i), rule) for i, rule in enumerate(enabled_rules(props))]


def _needs(predicate) -> str:
    return title(cheapest(predicate))


def _locator(message: str, resource, spec) -> list[str]:
    return ratelimit_keys(message, (("action log", "action"), ("timeout", "mitigationTimeout"), ("period", "period"),
                                    ("http.request.method", "methods")), fallback=("rateLimits", "zone.plan", "zone"))


@resource_rule(
    "plan-challenge-timeout", area="apply", types=[RULESET], severity=HIGH, enforcement=MANDATORY,
    description=("Below Enterprise, a rate-limiting rule with a challenge action (managed_challenge, js_challenge, "
                 f"challenge) has mitigation timeout 0; the API refuses any other value ({RATE_LIMIT_PARAMETERS})."),
    remediation=f"""
Remove `mitigationTimeout` from the entry in `launchready:rateLimits` (stacks/Pulumi.<stack>.yaml):
the program then sends 0 for a challenge below Enterprise (a visitor who passes the challenge is
counted again from zero). Or use `action: block` to keep a duration. {_DECLARE}""",
    spec_keys=("rateLimits", "zone.plan"), locator=_locator,
)
def plan_challenge_timeout(props, config):
    plan = _plan()
    if plan is None or not plan[1].challenge_timeout_zero:
        return
    for label, rule in _limits(props):
        action, timeout = str(get(rule, "action", default="")), get(rule, "ratelimit", "mitigationTimeout")
        if action in CHALLENGE_ACTIONS and num(timeout) != 0:
            shown = "no" if timeout is None else f"{fmt_num(timeout)} s"
            yield (f"{label}: action {action} with {shown} mitigation timeout; on the {title(plan[0])} plan a "
                   f"challenge needs mitigation timeout 0 (a duration needs Enterprise).")


@resource_rule(
    "plan-log-action", area="apply", types=[RULESET], severity=HIGH, enforcement=MANDATORY,
    description=f"The `log` action of a rate-limiting rule is Enterprise only ({RATE_LIMIT_PARAMETERS}).",
    remediation=f"""
In `launchready:rateLimits` (stacks/Pulumi.<stack>.yaml) use `action: managed_challenge` (people
pass, scripts are stopped; the Security Events log shows how often it fired, which serves the same
tuning purpose) or `action: block`. {_DECLARE}""",
    spec_keys=("rateLimits", "zone.plan"), locator=_locator,
)
def plan_log_action(props, config):
    plan = _plan()
    if plan is None or plan[1].log_action:
        return
    for label, rule in _limits(props):
        if get(rule, "action") == "log":
            yield f"{label}: action log is Enterprise only; the zone is on the {title(plan[0])} plan."


@resource_rule(
    "plan-ratelimit-count", area="apply", types=[RULESET], severity=HIGH, enforcement=MANDATORY,
    description=f"The zone has no more rate-limiting rules than its plan allows: Free 1, Pro 2, Business 5, Enterprise 100 ({RATE_LIMIT_AVAILABILITY}).",
    remediation=f"""
Merge entries of `launchready:rateLimits` (stacks/Pulumi.<stack>.yaml) that share a rate: one
entry with `path: /password/` covers /password/reset and /password/forgot; an entry without
`hosts` covers every host serving the path. Keep the authentication paths (login, reset, invite,
token) limited first. {_DECLARE}""",
    spec_keys=("rateLimits", "zone.plan"), locator=_locator,
)
def plan_ratelimit_count(props, config):
    plan = _plan()
    limits = _limits(props)
    if plan is None or len(limits) <= plan[1].rate_limit_rules:
        return
    needed = cheapest(lambda e: len(limits) <= e.rate_limit_rules)
    yield (f"{len(limits)} rate-limiting rules; the {title(plan[0])} plan allows {plan[1].rate_limit_rules} "
           f"({title(needed)} allows {ENTITLEMENTS[needed].rate_limit_rules}).")


@resource_rule(
    "plan-ratelimit-period", area="apply", types=[RULESET], severity=HIGH, enforcement=MANDATORY,
    description=("A rate-limiting rule's counting period and (for block) mitigation timeout are ones the plan offers: "
                 "periods Free 10 s, Pro up to 60 s, Business up to 600 s, Enterprise up to 3600 s; timeouts Free 10 s, "
                 f"Pro 10 s to 1 h, Business and Enterprise 10 s to 1 day ({RATE_LIMIT_AVAILABILITY})."),
    remediation=f"""
In `launchready:rateLimits` (stacks/Pulumi.<stack>.yaml) pick a `period` the plan offers and scale
`requests` to keep the rate (60 per 600 s → 10 per 60 s is stricter, and allowed on Pro), and a
`mitigationTimeout` within the plan's range (or remove it: the program then sends the longest
the plan allows up to 600 s). {_DECLARE}""",
    spec_keys=("rateLimits", "zone.plan"), locator=_locator,
)
def plan_ratelimit_period(props, config):
    plan = _plan()
    if plan is None:
        return
    name, ent = plan
    for label, rule in _limits(props):
        period = num(get(rule, "ratelimit", "period"))
        if period is not None and period not in ent.periods:
            yield (f"{label}: period {fmt_num(period)} s is not offered on the {title(name)} plan "
                   f"(offered: {', '.join(str(p) for p in sorted(ent.periods))}).")
        timeout = num(get(rule, "ratelimit", "mitigationTimeout"))
        if timeout is not None and str(get(rule, "action", default="")) not in CHALLENGE_ACTIONS | {"log"} \
                and timeout not in ent.timeouts:
            yield (f"{label}: mitigation timeout {fmt_num(timeout)} s is not offered on the {title(name)} plan "
                   f"(offered: {', '.join(str(t) for t in sorted(ent.timeouts))}).")


@resource_rule(
    "plan-ratelimit-characteristics", area="apply", types=[RULESET], severity=HIGH, enforcement=MANDATORY,
    description=("A rate-limiting rule counts by characteristics its plan offers: besides cf.colo.id, only the IP "
                 f"(ip.src) on Free and Pro, IP or IP with NAT support on Business; more on Enterprise ({RATE_LIMIT_AVAILABILITY})."),
    remediation=f"""
The launch program counts per IP (`cf.colo.id`, `ip.src`). A rule counting by header, cookie,
host, path or ASN was added by hand: count by IP, or move the zone to Enterprise (with Advanced
Rate Limiting for most characteristics). {_DECLARE}""",
    spec_keys=("rateLimits", "zone.plan"), locator=_locator,
)
def plan_ratelimit_characteristics(props, config):
    plan = _plan()
    if plan is None or plan[1].characteristics is None:
        return
    allowed = plan[1].characteristics | {COLO}
    for label, rule in _limits(props):
        extra = [str(c) for c in as_list(get(rule, "ratelimit", "characteristics")) if str(c) not in allowed]
        if extra:
            yield (f"{label}: counts by {', '.join(extra)}, which the {title(plan[0])} plan does not offer "
                   f"(offered: {', '.join(sorted(allowed))}).")


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_FIELD = re.compile(r"\b(?:http|ip|cf|raw)\.[a-z0-9_.]+")


def expression_fields(expression: str) -> list[str]:
    """The fields a rule expression reads, in order, without those inside string literals."""
    return list(dict.fromkeys(_FIELD.findall(_STRING.sub('""', expression))))


@resource_rule(
    "plan-ratelimit-fields", area="apply", types=[RULESET], severity=HIGH, enforcement=MANDATORY,
    description=("A rate-limiting rule's expression uses only fields its plan offers: Free the path only, Pro adds the "
                 f"host, URI and query, Business adds the method, source IP and user agent ({RATE_LIMIT_AVAILABILITY})."),
    remediation=f"""
The program's expressions name the host (`http.host`, Pro and up) and, for an entry with
`methods`, the method (`http.request.method`, Business and up). On Pro remove `methods` from the
entry in `launchready:rateLimits` (stacks/Pulumi.<stack>.yaml): the limit then counts every
method on the path. {_DECLARE}""",
    spec_keys=("rateLimits", "zone.plan"), locator=_locator,
)
def plan_ratelimit_fields(props, config):
    plan = _plan()
    if plan is None or plan[1].expression_fields is None:
        return
    allowed = plan[1].expression_fields
    for label, rule in _limits(props):
        extra = [f for f in expression_fields(str(get(rule, "expression", default=""))) if f not in allowed]
        if extra:
            yield (f"{label}: the expression uses {', '.join(extra)}, which the {title(plan[0])} plan does not "
                   f"offer in rate-limiting rules.")


_BY_ID = {r.id: name for name, r in MANAGED_RULESETS.items()}


@resource_rule(
    "plan-managed-rulesets", area="apply", types=[RULESET], severity=HIGH, enforcement=MANDATORY,
    description=("The managed WAF rulesets executed are ones the plan includes: the Cloudflare Managed Ruleset, the OWASP "
                 f"Core Ruleset and the Exposed Credentials Check need Pro or higher ({MANAGED_RULES_AVAILABILITY})."),
    remediation=f"""
On Free, remove `cloudflare`, `owasp` and `exposed-credentials` from `launchready:waf` →
`managedRulesets` (stacks/Pulumi.<stack>.yaml); Free zones run the Cloudflare Free Managed Ruleset
without configuration. The portal's launch baseline (waf-managed-rules) needs Pro. {_DECLARE}""",
    spec_keys=("waf.managedRulesets", "zone.plan"),
)
def plan_managed_rulesets(props, config):
    plan = _plan()
    if plan is None or get(props, "phase") != PHASE_WAF:
        return
    for rule in enabled_rules(props):
        name = _BY_ID.get(str(get(rule, "actionParameters", "id", default="")))
        if get(rule, "action") == "execute" and name is not None and name not in plan[1].managed_rulesets:
            yield (f"the {MANAGED_RULESETS[name].title} needs the {_needs(lambda e, n=name: n in e.managed_rulesets)} "
                   f"plan or higher; the zone is on the {title(plan[0])} plan.")


# This module's rules, in catalogue order (policies.rules.MODULES collects them).
RULES = (
    plan_challenge_timeout, plan_log_action, plan_ratelimit_count, plan_ratelimit_period,
    plan_ratelimit_characteristics, plan_ratelimit_fields, plan_managed_rulesets,
)
