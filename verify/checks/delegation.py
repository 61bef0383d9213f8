"""Is the zone there at all? (group "dns", runs first): the apex SOA from the queried nameservers.

When it is not — the zone is not delegated (NXDOMAIN from the parent), the nameserver refuses it,
or nothing answers — every other DNS and mail result follows from that one cause; verify/rootcause.py
marks them so a report names the cause once, first, instead of repeating it in every row.
"""
from __future__ import annotations

from ..dnsclient import DnsAnswer, DnsQueryError
from ..expectations import Expectations
from ..model import Verdict, failed, passed
from ..registry import Item, check, checks_of, key

GROUP = "dns"
ZONE_SERVED = "dns-zone-served"


def _plan_zone(exp: Expectations):
    return [Item(exp.domain, (key("rr", exp.domain, "SOA"),))]


@check(ZONE_SERVED, GROUP, "The zone is served: its apex answers with an SOA", plan=_plan_zone)
def judge_zone_served(item: Item, obs) -> Verdict:
    domain = item.target
    ans: DnsAnswer = obs[key("rr", domain, "SOA")]
    if ans.status == "failed":
        # Could not check, like any query that got no answer; the runner makes it ERROR with the type.
        raise DnsQueryError(f"{domain} SOA: {ans.failure}; nothing in the zone can be checked until the "
                            "nameserver answers for it (before cutover: --nameserver pointing at the new provider)")
    if ans.status == "nxdomain":
        parent = ans.soa_owner or "its parent"
        return failed(f"{domain} does not exist in DNS: {parent} answers NXDOMAIN, so the zone is not delegated "
                      "(or not published) and every record below is missing for everyone",
                      f"delegate {domain} at the registrar to the nameservers of the zone (the stack output "
                      "nameServers); before cutover, aim verify at the new provider with --nameserver",
                      answeredBy=parent)
    if ans.status == "nodata" or not ans.records:
        owner = ans.soa_owner or "another zone"
        return failed(f"{domain} is not a zone apex here: it is a name inside {owner}",
                      f"create the zone {domain} (or delegate it from {owner}) so its records can be published",
                      zone=owner)
    return passed(f"{domain} is served (SOA {ans.records[0].split()[0]})", soa=ans.records[0])


CHECKS = checks_of(judge_zone_served)
