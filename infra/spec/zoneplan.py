"""The zone's Cloudflare plan: declared (`zone.plan`), or the cheapest one the declared features need.

Which plan includes what is infra.knowledge.cfplans (one table, with its sources); here the spec
says which of its features need which plan, so `launchready plan` can show why, and the program
can send the values that plan accepts (a challenge's mitigation timeout of 0 below Enterprise).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple, Protocol

from infra.knowledge.cfplans import CHALLENGE_ACTIONS, ENTITLEMENTS, PLANS, cheapest, rank

if TYPE_CHECKING:
    from .model import RateLimit, Waf, Zone


class Spec(Protocol):
    """What the plan is derived from (infra.spec.Spec, which imports this module, provides it)."""

    @property
    def zone(self) -> Zone: ...

    @property
    def rate_limits(self) -> list[RateLimit]: ...

    @property
    def waf(self) -> Waf: ...

# The timeout a blocking rule gets when the stack file gives none: the longest the plan allows up
# to ten minutes (Free allows only 10 s).
DEFAULT_TIMEOUT = 600


class PlanNeed(NamedTuple):
    plan: str        # the cheapest plan that includes the feature
    key: str         # the stack-file key path that declares it
    why: str         # the feature, for a reader


def _rate_limit_needs(i: int, rl: RateLimit) -> list[PlanNeed]:
    key = f"rateLimits[{i}]"
    # The program's expression always names the host (http.host): not a Free field.
    needs = [PlanNeed(cheapest(lambda e: e.expression_fields is None or "http.host" in e.expression_fields),
                      key, "a rate limit per host")]
    if rl.methods:
        needs.append(PlanNeed(cheapest(lambda e: e.expression_fields is None or "http.request.method" in e.expression_fields),
                              f"{key}.methods", "a rate limit per request method"))
    needs.append(PlanNeed(cheapest(lambda e: rl.period in e.periods), f"{key}.period", f"a {rl.period} s period"))
    if rl.action == "log":
        needs.append(PlanNeed(cheapest(lambda e: e.log_action), f"{key}.action", "the log action"))
    elif rl.mitigation_timeout is not None:
        t = rl.mitigation_timeout
        if rl.action in CHALLENGE_ACTIONS:
            if t != 0:
                needs.append(PlanNeed(cheapest(lambda e: not e.challenge_timeout_zero), f"{key}.mitigationTimeout",
                                      f"a {t} s timeout on a {rl.action} action"))
        else:
            needs.append(PlanNeed(cheapest(lambda e: t in e.timeouts), f"{key}.mitigationTimeout", f"a {t} s mitigation timeout"))
    return needs


def plan_needs(spec: Spec) -> list[PlanNeed]:
    """Every feature of the spec that needs more than the Free plan, with that plan."""
    needs: list[PlanNeed] = []
    for i, rl in enumerate(spec.rate_limits):
        needs += _rate_limit_needs(i, rl)
    count = len(spec.rate_limits)
    if count:
        needs.append(PlanNeed(cheapest(lambda e: count <= e.rate_limit_rules), "rateLimits", f"{count} rate-limiting rules"))
    if spec.waf.enabled:
        for j, name in enumerate(spec.waf.managed_rulesets):
            needs.append(PlanNeed(cheapest(lambda e, n=name: n in e.managed_rulesets),
                                  f"waf.managedRulesets[{j}]", f"the {name} managed ruleset"))
    return [n for n in needs if n.plan != PLANS[0]]


def derived_plan(spec: Spec) -> str:
    return max((n.plan for n in plan_needs(spec)), key=rank, default=PLANS[0])


def zone_plan(spec: Spec) -> str:
    """The plan the zone is on: as declared, else the cheapest one the stack's features need."""
    return spec.zone.plan or derived_plan(spec)


def plan_summary(spec: Spec) -> dict:
    """The zone's plan for a reader: which, declared or derived, and the features that need it."""
    plan = zone_plan(spec)
    return {"plan": plan, "declared": spec.zone.plan is not None,
            "neededBy": list(dict.fromkeys(n.why for n in plan_needs(spec) if n.plan == plan))}


def mitigation_timeout(rl: RateLimit, plan: str) -> int:
    """The mitigation timeout the program sends: as declared; else 0 for `log` and, below
    Enterprise, for challenge actions (the API refuses any other value there); else the default,
    cut to what the plan allows."""
    if rl.mitigation_timeout is not None:
        return rl.mitigation_timeout
    ent = ENTITLEMENTS[plan]
    if rl.action == "log" or (rl.action in CHALLENGE_ACTIONS and ent.challenge_timeout_zero):
        return 0
    return max((t for t in ent.timeouts if 0 < t <= DEFAULT_TIMEOUT), default=DEFAULT_TIMEOUT)
