"""Facts about Cloudflare the program, the policy pack and verify share."""
from __future__ import annotations

from typing import Literal, NamedTuple, get_args


class ManagedRuleset(NamedTuple):
    id: str
    title: str


# Cloudflare's managed WAF rulesets, by the names the stack spec uses (waf.managedRulesets).
MANAGED_RULESETS: dict[str, ManagedRuleset] = {
    "cloudflare": ManagedRuleset("efb7b8c949ac4650a09736fc376e9aee", "Cloudflare Managed Ruleset"),
    "owasp": ManagedRuleset("4814384a9e5d4991b9815dcfc25d2f1f", "Cloudflare OWASP Core Ruleset"),
    "exposed-credentials": ManagedRuleset("c2e184081120413c86c3ab7e14069605", "Cloudflare Exposed Credentials Check"),
}
# The names a stack file may list, as a type the spec validates against.
ManagedRulesetName = Literal["cloudflare", "owasp", "exposed-credentials"]
assert set(get_args(ManagedRulesetName)) == set(MANAGED_RULESETS), "a managed ruleset without a spec name"
RULESET_TITLES: dict[str, str] = {r.id: r.title for r in MANAGED_RULESETS.values()}
