"""WAF rules: Cloudflare's managed rulesets deployed, and not in log-only mode."""
from __future__ import annotations

from infra.knowledge.cloudflare import MANAGED_RULESETS, RULESET_TITLES

from ..props import PHASE_WAF, enabled_rules, get, rulesets, zone_label, zones
from ..registry import HIGH, MANDATORY, stack_rule


@stack_rule(
    "waf-managed-rules", area="edge", severity=HIGH, enforcement=MANDATORY,
    description="Cloudflare's managed WAF ruleset is deployed on every zone (entry-point ruleset of http_request_firewall_managed).",
    remediation="""
In stacks/Pulumi.<stack>.yaml set `launchready:waf` → `enabled: true` and list at least
`managedRulesets: [cloudflare, owasp]`. The managed rules block known exploits (SQL injection,
known CVEs) before they reach the portal.""",
    config={"requiredRulesets": {"type": "array", "items": {"type": "string"},
                                 "default": [MANAGED_RULESETS["cloudflare"].id],
                                 "description": "Managed ruleset ids that must be executed on every zone."}},
    spec_keys=("waf.enabled", "waf.managedRulesets", "waf"),
)
def waf_managed_rules(resources, config):
    for zone in zones(resources):
        executed: dict[str, str] = {}
        for rs in rulesets(resources, zone, PHASE_WAF):
            for rule in enabled_rules(rs.props):
                if get(rule, "action") != "execute":
                    continue
                rid = str(get(rule, "actionParameters", "id", default=""))
                overrides = get(rule, "actionParameters", "overrides", default={})
                if get(overrides, "enabled") is False:
                    continue
                executed[rid] = str(get(overrides, "action", default="") or "")
        for rid in config["requiredRulesets"]:
            name = RULESET_TITLES.get(rid, rid)
            if rid not in executed:
                yield f"{zone_label(resources, zone)}: the {name} is not deployed."
            elif executed[rid] == "log":
                yield f"{zone_label(resources, zone)}: the {name} is deployed in log-only mode (overrides.action 'log')."


# This module's rules, in catalogue order (policies.rules.MODULES collects them).
RULES = (
    waf_managed_rules,
)
