"""Facts about Cloudflare the program, the policy pack and verify share."""
from __future__ import annotations

import ipaddress
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

# The longest rule expression Cloudflare accepts, in any phase on any plan
# (developers.cloudflare.com/ruleset-engine/rules-language/expressions/: "4,096 characters").
MAX_EXPRESSION = 4096
# The API's global rate limit: 1,200 requests per five minutes per user (fundamentals/api/reference/limits).
API_REQUESTS_PER_5_MIN = 1200

# Cloudflare's published edge ranges: a proxied hostname answers only with addresses inside these.
# Source: https://www.cloudflare.com/ips-v4 and https://www.cloudflare.com/ips-v6 (linked from
# https://www.cloudflare.com/ips/). RANGES_AS_OF is the day these were transcribed from the published
# lists (copied, not fetched by code); they change rarely, re-check them against the URLs when it ages.
RANGES_AS_OF = "2026-12-02"
EDGE_RANGES_V4: tuple[str, ...] = (
    "173.245.48.0/20", "103.21.244.0/22", "103.22.200.0/22", "103.31.4.0/22", "141.101.64.0/18",
    "108.162.192.0/18", "190.93.240.0/20", "188.114.96.0/20", "197.234.240.0/22", "198.41.128.0/17",
    "162.158.0.0/15", "104.16.0.0/13", "104.24.0.0/14", "172.64.0.0/13", "131.0.72.0/22",
)
EDGE_RANGES_V6: tuple[str, ...] = (
    "2400:cb00::/32", "2606:4700::/32", "2803:f800::/32", "2405:b500::/32", "2405:8100::/32",
    "2a06:98c0::/29", "2c0f:f248::/32",
)
EDGE_RANGES: tuple[str, ...] = EDGE_RANGES_V4 + EDGE_RANGES_V6
_EDGE_NETWORKS = tuple(ipaddress.ip_network(n) for n in EDGE_RANGES)


def is_edge_address(address: str) -> bool:
    """True when `address` (IPv4 or IPv6 text) lies in one of Cloudflare's published edge ranges."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip.version == n.version and ip in n for n in _EDGE_NETWORKS)
