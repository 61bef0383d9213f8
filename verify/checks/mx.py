"""MX checks (group "mail"): the domain's MX, the MAIL FROM (bounce) subdomains' MX, and MX hosts
that have addresses of their own."""
from __future__ import annotations

import ipaddress

from ..expectations import Expectations, MailExpectations
from ..model import Verdict, failed, passed
from ..registry import Item, NotApplicable, check, checks_of, key
from .common import GROUP, with_mail


@with_mail
def _plan_mx(exp: Expectations, m: MailExpectations):
    if not m.mx:
        return NotApplicable("no MX declared (the domain receives no mail here)", exp.domain)
    return [Item(m.domain, (key("rr", m.domain, "MX"),), data=m)]


def mx_set(ans) -> set[tuple[int, str]]:
    out = set()
    for r in ans.records:
        pref, host = r.split()
        out.add((int(pref), host.rstrip(".").lower()))
    return out


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.rstrip("."))
        return True
    except ValueError:
        return False


def _mx_text(mx: set[tuple[int, str]]) -> str:
    return ", ".join("0 . (null MX)" if h == "" else f"{p} {h}" for p, h in sorted(mx)) or "missing"


def _mx_verdict(name: str, live: set[tuple[int, str]], want: set[tuple[int, str]], sending: bool, what: str) -> Verdict:
    hint = "publish " + ", ".join(f"{name} MX {p} {h}" for p, h in sorted(want)) + \
        (" and remove the others" if live - want else "")
    if live == want:
        return passed(f"MX = {_mx_text(live)}", live=sorted(live))
    notes = []
    if (0, "") in live:
        notes.append("a null MX says the name accepts no mail at all (RFC 7505)" +
                     ("; receivers also reject mail whose MAIL FROM is a null-MX name (RFC 7505 4.2)" if sending else ""))
    ips = [h for _, h in live if _is_ip(h)]
    if ips:
        notes.append(f"{', '.join(ips)} is an IP address: MX must name a host (RFC 5321 5.1), senders look it up as a name")
    return failed(f"{what} MX is {_mx_text(live)}; declared {_mx_text(want)}" + "".join(f". {n[0].upper()}{n[1:]}" for n in notes), hint,
                  missing=sorted(want - live), unexpected=sorted(live - want), live=sorted(live))


@check("mx", GROUP, "MX records as declared", plan=_plan_mx)
def judge_mx(item: Item, obs) -> Verdict:
    m: MailExpectations = item.data
    ans = obs[key("rr", m.domain, "MX")].checked()
    live = mx_set(ans) if ans.status == "ok" else set()
    return _mx_verdict(m.domain, live, set(m.mx), sending=bool(m.spf), what=m.domain)


@with_mail
def _plan_mail_from_mx(exp: Expectations, m: MailExpectations):
    names = sorted({n for n, _, _ in m.mail_from_mx})
    items = [Item(n, (key("rr", n, "MX"),), data=(m, {(p, h) for x, p, h in m.mail_from_mx if x == n})) for n in names]
    return items or NotApplicable("no provider MX at a subdomain (MAIL FROM) declared", exp.domain)


@check("mail-from-mx", GROUP, "MAIL FROM (bounce) subdomains publish the provider's MX, never a null MX", plan=_plan_mail_from_mx)
def judge_mail_from_mx(item: Item, obs) -> Verdict:
    m, want = item.data
    ans = obs[key("rr", item.target, "MX")].checked()
    live = mx_set(ans) if ans.status == "ok" else set()
    if not live:
        why = "the name does not exist" if ans.status == "nxdomain" else "no MX"
        return failed(f"{item.target}: {why}; the provider cannot use it as MAIL FROM (SES falls back to its own "
                      "domain, so SPF no longer aligns for DMARC) and bounces are lost",
                      "publish " + ", ".join(f"{item.target} MX {p} {h}" for p, h in sorted(want)), expected=sorted(want))
    return _mx_verdict(item.target, live, want, sending=True, what=f"MAIL FROM {item.target}")


@with_mail
def _plan_mx_hosts(exp: Expectations, m: MailExpectations):
    hosts = sorted({h for _, h in m.mx} | {h for _, _, h in m.mail_from_mx})
    items = [Item(h, (key("rr", h, "A"), key("rr", h, "AAAA")), data=h) for h in hosts if h and not _is_ip(h)]
    return items or NotApplicable("no MX hosts declared", exp.domain)


@check("mx-hosts", GROUP, "MX hosts have addresses of their own (no CNAME, no dangling host)", plan=_plan_mx_hosts)
def judge_mx_hosts(item: Item, obs) -> Verdict:
    a = obs[key("rr", item.target, "A")].checked()
    aaaa = obs[key("rr", item.target, "AAAA")].checked()
    chain = a.cname_chain or aaaa.cname_chain
    if chain:
        return failed(f"MX host {item.target} is an alias (CNAME -> {' -> '.join(chain)}): RFC 2181 10.3 and RFC 5321 5.1 "
                      "forbid it, and some senders refuse to deliver",
                      f"point the MX at the canonical name {chain[-1]} (and list that in the MTA-STS policy), or give "
                      f"{item.target} its own A/AAAA records", cname_chain=list(chain))
    if a.status != "ok" and aaaa.status != "ok":
        what = "does not exist (NXDOMAIN)" if "nxdomain" in (a.status, aaaa.status) else "has no A/AAAA"
        return failed(f"MX host {item.target} {what}: mail to it cannot be delivered",
                      f"fix the MX to the provider's current host, or publish A/AAAA for {item.target}",
                      a=a.status, aaaa=aaaa.status)
    return passed(f"{item.target} has addresses", addresses=[*a.records, *aaaa.records])


CHECKS = checks_of(judge_mx, judge_mail_from_mx, judge_mx_hosts)
