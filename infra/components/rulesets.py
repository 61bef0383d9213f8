"""The zone's entry-point rulesets: one per phase, each built from a pure function of the spec.

Phases: redirects (http_request_dynamic_redirect), WAF managed rules (http_request_firewall_managed),
rate limits (http_ratelimit), cache (http_request_cache_settings), response headers
(http_response_headers_transform). Cloudflare allows exactly one entry-point ruleset per phase per
zone, so each phase is declared once, here.
"""
from __future__ import annotations

import pulumi
import pulumi_cloudflare as cloudflare

from infra.edgerules import PHASES
from infra.spec import Spec
from infra.spec.adoptspec import adopted_rulesets

# -- component -------------------------------------------------------------------------------------

class EdgeRules(pulumi.ComponentResource):
    """One entry-point ruleset per phase that has rules."""

    def __init__(self, name: str, zone_id: pulumi.Input[str], spec: Spec,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("launchready:edge:Rules", name, None, opts)
        self.rulesets: dict[str, cloudflare.Ruleset] = {}
        # An existing zone refuses a second entry point for a phase that has rules: adopt (import) it.
        adopt = adopted_rulesets(spec.zone)
        for phase, (short, build) in PHASES.items():
            rules = build(spec)
            if not rules:
                continue
            self.rulesets[phase] = cloudflare.Ruleset(
                f"{name}-{short}", zone_id=zone_id, kind="zone", phase=phase,
                name=f"launchready {short}", description=f"launch-ready {short} for {spec.domain}",
                rules=rules, opts=pulumi.ResourceOptions(parent=self, import_=adopt.get(phase)),
            )
        self.register_outputs({"phases": sorted(self.rulesets)})
