"""Every rule of the pack, one module per area, in catalogue order.

The registry is filled explicitly: MODULES lists the rule modules, and each module lists its own
rules in a RULES tuple; importing a module defines its rules and registers nothing anywhere.
`ALL` is their concatenation, in the order of docs/policies.md (and of every report), so the
order of MODULES and of each RULES tuple is part of the pack's behaviour.

The edge area (rule.area == "edge") is split by protocol: tls, hsts, waf, ratelimits, headers,
cache. Module names avoid dns/ssl/email/secrets (dnsrules, secretrules): a tool that puts this
folder on sys.path would let such names shadow dnspython or the standard library
(tests/policies/test_policies_layout.py checks every name under policies/).
"""
from __future__ import annotations

from . import (
    apply,
    cache,
    dnsrules,
    edgeapply,
    entitlements,
    headers,
    hsts,
    mail,
    monitoring,
    ratelimits,
    secretrules,
    tls,
    waf,
)

MODULES = (tls, hsts, waf, ratelimits, headers, cache, dnsrules, mail, secretrules, monitoring, apply, edgeapply, entitlements)

ALL: list = [rule for module in MODULES for rule in module.RULES]

BY_NAME = {rule.name: rule for rule in ALL}
assert len(BY_NAME) == len(ALL), "rule names must be unique"

# Rules that are mandatory in production but only advisory in other environments (staging tunes
# rate limits in log mode, tests certificates with a short HSTS max-age, runs without DNSSEC or
# monitors). Applied as the pack's initial config, which the engine merges under the user's config.
PRODUCTION_ONLY = frozenset({
    "hsts-max-age", "hsts-include-subdomains", "auth-rate-limited", "dnssec-enabled", "dmarc-policy",
    "dmarc-rua", "public-host-health-check", "health-check-alarmed", "topic-has-subscription",
    "alarm-has-actions", "latency-alarm-threshold", "example-values-replaced", "secret-rotation-declared",
})

# The template stack this repository ships (stacks/Pulumi.example.yaml): the embedded default of
# `launchready plan` and the gate's documented passing case, so its own placeholder values are
# expected there. Any other stack that keeps them is blocked in production.
TEMPLATE_STACKS = frozenset({"example"})
# Rules that are advisory in a template stack whatever its environment.
ADVISORY_IN_TEMPLATE = frozenset({"example-values-replaced"})


# Rule settings that are relaxed outside production (SPF soft fail while senders are migrated).
NON_PRODUCTION_SETTINGS = {
    "spf-strict-all": {"allowSoftfail": True},
}


def initial_config(environment: str, stack: str | None = None) -> dict:
    """Enforcement levels and settings that depend on the stack's environment (launchready:environment)
    and, for the template stack, on its name (None: not known, judged as any other stack)."""
    from ..registry import ADVISORY

    out: dict = {}
    if stack in TEMPLATE_STACKS:
        out.update({name: ADVISORY for name in sorted(ADVISORY_IN_TEMPLATE) if name in BY_NAME})
    if environment == "production":
        return out
    out.update({name: ADVISORY for name in sorted(PRODUCTION_ONLY) if name in BY_NAME})
    for name, settings in NON_PRODUCTION_SETTINGS.items():
        if name in BY_NAME:
            # An entry with properties always names its level: without one it reaches the engine as
            # level 0, ADVISORY (analyzer.proto), and would silently demote a mandatory rule.
            level = out.get(name) or BY_NAME[name].enforcement_level
            out[name] = {"enforcementLevel": level, **settings}
    return out


__all__ = ["ADVISORY_IN_TEMPLATE", "ALL", "BY_NAME", "MODULES", "NON_PRODUCTION_SETTINGS", "PRODUCTION_ONLY",
           "TEMPLATE_STACKS", "initial_config"]
