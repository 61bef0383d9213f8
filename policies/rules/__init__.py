"""Every rule of the pack, grouped by area, in catalogue order.

Module names avoid dns/ssl/email/secrets: the engine runs __main__.py with runpy, and such names
would shadow dnspython or the standard library.
"""
from __future__ import annotations

from ..registry import ResourceRule, StackRule
from . import applyrules, dnsrules, edge, mailrules, monitorrules, secretrules

MODULES = (edge, dnsrules, mailrules, secretrules, monitorrules, applyrules)

ALL: list = [obj for module in MODULES for obj in vars(module).values()
             if isinstance(obj, (ResourceRule, StackRule))]

BY_NAME = {rule.name: rule for rule in ALL}
assert len(BY_NAME) == len(ALL), "rule names must be unique"

# Rules that are mandatory in production but only advisory in other environments (staging tunes
# rate limits in log mode, tests certificates with a short HSTS max-age, runs without DNSSEC or
# monitors). Applied as the pack's initial config, which the engine merges under the user's config.
PRODUCTION_ONLY = frozenset({
    "hsts-max-age", "hsts-include-subdomains", "auth-rate-limited", "dnssec-enabled", "dmarc-policy",
    "dmarc-rua", "public-host-health-check", "health-check-alarmed", "topic-has-subscription",
    "alarm-has-actions", "latency-alarm-threshold",
})


# Rule settings that are relaxed outside production (SPF soft fail while senders are migrated).
NON_PRODUCTION_SETTINGS = {
    "spf-strict-all": {"allowSoftfail": True},
}


def initial_config(environment: str) -> dict:
    """Enforcement levels and settings that depend on the stack's environment (launchready:environment)."""
    from ..registry import ADVISORY

    if environment == "production":
        return {}
    out: dict = {name: ADVISORY for name in sorted(PRODUCTION_ONLY) if name in BY_NAME}
    for name, settings in NON_PRODUCTION_SETTINGS.items():
        if name in BY_NAME:
            out[name] = {**({"enforcementLevel": out[name]} if name in out else {}), **settings}
    return out


__all__ = ["ALL", "BY_NAME", "MODULES", "NON_PRODUCTION_SETTINGS", "PRODUCTION_ONLY", "initial_config"]
