"""What each Cloudflare plan lets a zone declare: the entitlements the provider enforces at apply.

Pulumi's mocks accept any rate-limiting rule; the Cloudflare API refuses one the zone's plan does
not include (a `log` action on Pro, a 600 s challenge timeout on Business, a third rule on Pro).
One table, read by the spec (which derives the cheapest plan a stack needs), the program (which
sends the values the plan accepts) and the policy pack (which judges what the program declares).

Sources (developers.cloudflare.com, as stored in cloudflare/cloudflare-docs):
- RATE_LIMIT_AVAILABILITY, /waf/rate-limiting-rules/#availability: rule count, counting periods,
  mitigation timeouts, counting characteristics and expression fields per plan;
- RATE_LIMIT_PARAMETERS, /waf/rate-limiting-rules/parameters/: the API values of `period`
  (10, 60, 120, 300, 600, 3600) and `mitigation_timeout` (0, 10, 60, 120, 300, 600, 3600, 86400);
  "on a Free, Pro, or Business plan ... set mitigation_timeout to 0 when using the actions
  managed_challenge, js_challenge, or challenge"; `log` is listed as an Enterprise-only action;
- MANAGED_RULES_AVAILABILITY, /waf/managed-rules/#availability: the Cloudflare Managed Ruleset and
  the OWASP Core Ruleset need Pro or higher (Free gets only the Cloudflare Free Managed Ruleset).
Where the availability table says "all supported values up to N", the values kept are the API
values up to N (the table's footnote lists more values than the API reference accepts; the
smaller, documented set is the conservative one).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

PlanName = Literal["free", "pro", "business", "enterprise"]
PLANS: tuple[str, ...] = get_args(PlanName)          # cheapest first
TITLES = {"free": "Free", "pro": "Pro", "business": "Business", "enterprise": "Enterprise"}

RATE_LIMIT_AVAILABILITY = "developers.cloudflare.com/waf/rate-limiting-rules/#availability"
RATE_LIMIT_PARAMETERS = "developers.cloudflare.com/waf/rate-limiting-rules/parameters/#for-duration"
MANAGED_RULES_AVAILABILITY = "developers.cloudflare.com/waf/managed-rules/#availability"

CHALLENGE_ACTIONS = frozenset({"challenge", "js_challenge", "managed_challenge"})
# Counting characteristic every rule must carry (counters are per data centre); not a plan feature.
COLO = "cf.colo.id"

_API_PERIODS = (10, 60, 120, 300, 600, 3600)
_API_TIMEOUTS = (0, 10, 60, 120, 300, 600, 3600, 86400)


def _upto(values: tuple[int, ...], top: int, low: int = 1) -> frozenset[int]:
    return frozenset(v for v in values if low <= v <= top)


@dataclass(frozen=True)
class Entitlements:
    rate_limit_rules: int                       # rules in the zone's http_ratelimit entry point
    periods: frozenset[int]                     # counting periods, seconds
    timeouts: frozenset[int]                    # mitigation timeouts of non-challenge actions, seconds
    challenge_timeout_zero: bool                # challenge actions must send mitigation_timeout 0
    log_action: bool                            # action `log` on a rate-limiting rule
    characteristics: frozenset[str] | None      # besides cf.colo.id; None: not restricted here
    expression_fields: frozenset[str] | None    # fields a rule expression may use; None: any
    managed_rulesets: frozenset[str]            # spec names (infra.knowledge.cloudflare) it may execute


_FREE_FIELDS = frozenset({"http.request.uri.path", "cf.bot_management.verified_bot"})
_PRO_FIELDS = _FREE_FIELDS | {"http.host", "http.request.uri", "http.request.full_uri", "http.request.uri.query"}
_BUSINESS_FIELDS = _PRO_FIELDS | {"http.request.method", "ip.src", "http.user_agent"}
_ALL_RULESETS = frozenset({"cloudflare", "owasp", "exposed-credentials"})

ENTITLEMENTS: dict[str, Entitlements] = {
    "free": Entitlements(1, frozenset({10}), frozenset({10}), True, False,
                         frozenset({"ip.src"}), _FREE_FIELDS, frozenset()),
    "pro": Entitlements(2, _upto(_API_PERIODS, 60), _upto(_API_TIMEOUTS, 3600, low=10), True, False,
                        frozenset({"ip.src"}), _PRO_FIELDS, _ALL_RULESETS),
    "business": Entitlements(5, _upto(_API_PERIODS, 600), _upto(_API_TIMEOUTS, 86400, low=10), True, False,
                             frozenset({"ip.src", "cf.unique_visitor_id"}), _BUSINESS_FIELDS, _ALL_RULESETS),
    # Enterprise: 100 rules is the documented ceiling (the contract decides); characteristics and
    # fields beyond IP depend on add-ons (Advanced Rate Limiting, Bot Management) and are not judged.
    "enterprise": Entitlements(100, frozenset(_API_PERIODS), frozenset(_API_TIMEOUTS), False, True,
                               None, None, _ALL_RULESETS),
}


def title(plan: str) -> str:
    return TITLES.get(plan, plan)


def cheapest(predicate) -> str:
    """The first plan, cheapest first, whose entitlements satisfy `predicate`; Enterprise when none
    does (a value no plan accepts is for apply-validity rules to report, not a plan to buy)."""
    return next((p for p in PLANS if predicate(ENTITLEMENTS[p])), PLANS[-1])


def rank(plan: str) -> int:
    return PLANS.index(plan)
