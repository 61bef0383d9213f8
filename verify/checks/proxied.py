"""Proxied hosts (group "dns"): a name the stack puts behind Cloudflare's proxy answers only with
Cloudflare edge addresses. An address outside the published ranges means the proxy is off or
bypassed for that name, and the origin (with its WAF, rate limits and TLS settings skipped) is
reachable by anyone who resolves it."""
from __future__ import annotations

from infra.knowledge.cloudflare import RANGES_AS_OF, is_edge_address

from ..expectations import Expectations, ExpectedRecord
from ..model import Verdict, failed, passed, skipped
from ..registry import Item, NotApplicable, check, checks_of, key

GROUP = "dns"


def _plan_proxied(exp: Expectations):
    names: dict[str, ExpectedRecord] = {}
    for r in exp.records:
        if r.proxied:
            names.setdefault(r.name, r)
    if not names:
        return NotApplicable("the stack declares no proxied host or record", exp.domain)
    return [Item(n, (key("rr", n, "A"), key("rr", n, "AAAA")), data=r) for n, r in names.items()]


@check("dns-proxied-edge-only", GROUP, "Proxied names answer only with Cloudflare edge addresses", plan=_plan_proxied)
def judge_proxied_edge_only(item: Item, obs) -> Verdict:
    r: ExpectedRecord = item.data
    a = obs[key("rr", r.name, "A")].checked()
    aaaa = obs[key("rr", r.name, "AAAA")].checked()
    live = [x for ans in (a, aaaa) if ans.status == "ok" for x in ans.records]
    if not live:
        return skipped("no A/AAAA at the name (reported by dns-record-present)")
    outside = [x for x in live if not is_edge_address(x)]
    if not outside:
        return passed(f"{r.name} answers only with Cloudflare edge addresses", live=live)
    chain = a.cname_chain or aaaa.cname_chain
    via = f" (through the CNAME {' -> '.join(chain)})" if chain else ""
    return failed(f"{r.name} is declared proxied but answers {', '.join(outside)}{via}, outside Cloudflare's "
                  "published edge ranges: the proxy is off or bypassed and the origin is exposed",
                  f"turn the proxy back on for {r.name} (orange cloud; `pulumi up` restores proxied: true) and "
                  "remove any DNS-only record at the name; then consider rotating the origin address, since it "
                  "has been public", outside=outside, live=live, cname_chain=list(chain), ranges_as_of=RANGES_AS_OF)


CHECKS = checks_of(judge_proxied_edge_only)
