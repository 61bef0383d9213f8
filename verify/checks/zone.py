"""DNS checks (group "dns"): declared records, NS delegation, CAA, DNSSEC, dangling CNAMEs."""
from __future__ import annotations

import ipaddress
import re

import dns.dnssec
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype

from infra.knowledge.takeover import takeover_service

from ..dnsclient import CNAME_LOOP, DnsAnswer, DnsQueryError
from ..expectations import Expectations, ExpectedRecord
from ..model import Verdict, failed, passed, skipped
from ..registry import Item, NotApplicable, check, checks_of, key

GROUP = "dns"

# ------------------------------------------------------------------ declared records

def _plan_records(exp: Expectations):
    if not exp.records:
        return NotApplicable("the stack declares no host or extra records")
    items = []
    for r in exp.records:
        needs = (key("rr", r.name, "A"), key("rr", r.name, "AAAA")) if r.proxied else (key("rr", r.name, r.type),)
        items.append(Item(target=f"{r.name} {r.type}", needs=needs, data=r))
    return items


def _present(item: Item, obs) -> tuple[bool, DnsAnswer]:
    r: ExpectedRecord = item.data
    if r.proxied:
        a = obs[key("rr", r.name, "A")].checked()
        aaaa = obs[key("rr", r.name, "AAAA")].checked()
        return (a.status == "ok" or aaaa.status == "ok"), (a if a.status == "ok" else aaaa)
    ans = obs[key("rr", r.name, r.type)].checked()
    return ans.status == "ok", ans


def _add_record_hint(r: ExpectedRecord) -> str:
    prio = f"{r.priority} " if r.priority is not None else ""
    ttl = "auto" if r.ttl == 1 else str(r.ttl)
    return (f"publish {r.name} {r.type} {prio}{r.content} (ttl {ttl}{', proxied' if r.proxied else ''}) "
            f"as declared in {r.source or 'the stack'}: run `pulumi up`, or fix the record in Cloudflare")


@check("dns-record-present", GROUP, "Each declared record is published", plan=_plan_records)
def judge_record_present(item: Item, obs) -> Verdict:
    r: ExpectedRecord = item.data
    ok, ans = _present(item, obs)
    if ok:
        how = "proxied (answers with edge addresses)" if r.proxied else f"{len(ans.records)} record(s)"
        return passed(f"{r.name} {r.type} is published, {how}", answer=list(ans.records))
    if ans.cname_chain and r.type != "CNAME":
        # The name is a CNAME whose target has no address: one problem, reported (with the
        # takeover-prone service and the declared record) by dns-dangling-cname.
        return skipped(f"{r.name} serves a CNAME to {ans.cname_chain[-1]} instead of the declared {r.type}, "
                       "and it leads nowhere (reported by dns-dangling-cname)")
    why = "the name does not exist (NXDOMAIN)" if ans.status == "nxdomain" else f"no {('A/AAAA' if r.proxied else r.type)} data at the name"
    return failed(f"{r.name} {r.type} is missing: {why}", _add_record_hint(r),
                  expected=r.content, status=ans.status)


def _normalise(rtype: str, value: str) -> str:
    v = value.strip()
    if rtype in ("A", "AAAA"):
        try:
            return str(ipaddress.ip_address(v))
        except ValueError:
            return v
    if rtype in ("CNAME", "NS"):
        return v.rstrip(".").lower()
    if rtype == "MX":
        parts = v.split()
        return f"{int(parts[0])} {parts[1].rstrip('.').lower()}" if len(parts) == 2 else v.lower()
    if rtype == "TXT":
        return v
    return " ".join(v.lower().rstrip(".").split())


def _live_values(rtype: str, ans: DnsAnswer) -> list[str]:
    if rtype == "TXT":
        return ans.texts()
    return [_normalise(rtype, x) for x in ans.records]


def _declared_value(rtype: str, content: str) -> str:
    """A declared value as it is compared: TXT in zone-file quotes is unquoted and joined."""
    if rtype == "TXT" and content.lstrip().startswith('"'):
        return "".join(m.replace('\\"', '"') for m in re.findall(r'"((?:[^"\\]|\\.)*)"', content))
    return _normalise(rtype, content)


def _plan_content(exp: Expectations):
    """One item per declared DNS-only name and type (the whole set is compared), one per proxied record."""
    if not exp.records:
        return NotApplicable("the stack declares no host or extra records")
    items, seen = [], set()
    for r in exp.records:
        if r.proxied:
            items.append(Item(f"{r.name} {r.type}", (key("rr", r.name, "A"), key("rr", r.name, "AAAA")), data=(r, ())))
            continue
        if (r.name, r.type) in seen:
            continue
        seen.add((r.name, r.type))
        values = [_expected_content(x) for x in exp.records if (x.name, x.type) == (r.name, r.type)]
        values += [c for n, t, c in exp.other_declared if (n, t) == (r.name, r.type)]
        declared = tuple(dict.fromkeys(_declared_value(r.type, c) for c in values))
        items.append(Item(f"{r.name} {r.type}", (key("rr", r.name, r.type),), data=(r, declared)))
    return items


def _expected_content(r: ExpectedRecord) -> str:
    return f"{r.priority} {r.content}" if r.type == "MX" and r.priority is not None else r.content


@check("dns-record-content", GROUP, "Each declared name serves exactly the declared values", plan=_plan_content)
def judge_record_content(item: Item, obs) -> Verdict:
    r, declared = item.data
    if r.proxied:
        return skipped("proxied through Cloudflare: the public answer is the edge's addresses, not the origin "
                       "(reported by dns-proxied-edge-only)")
    ans = obs[key("rr", r.name, r.type)].checked()
    if ans.status != "ok":
        return skipped("record absent (reported by dns-record-present)")
    live = _live_values(r.type, ans)
    if ans.cname_chain and r.type != "CNAME":
        return failed(f"{r.name} answers through a CNAME ({' -> '.join(ans.cname_chain)}) instead of its own {r.type}",
                      _add_record_hint(r), declared=list(declared), live=live)
    extra = [v for v in live if v not in declared]
    missing = [v for v in declared if v not in live]
    if not extra and not missing:
        return passed(f"{r.name} {r.type} = {', '.join(live)}", declared=list(declared), live=live)
    evidence = {"declared": list(declared), "live": live, "extra": extra, "missing": missing}
    if not missing:
        return failed(f"{r.name} {r.type} also serves {', '.join(extra)}, which the stack does not declare "
                      f"(declared: {', '.join(declared)}): a stale value still answers",
                      f"delete the extra {r.type} value(s) {', '.join(extra)} at {r.name} in Cloudflare "
                      "(`pulumi up` does not remove records it does not manage)", **evidence)
    return failed(f"{r.name} {r.type} is {', '.join(live)}; declared {', '.join(declared)}", _add_record_hint(r)
                  + (f"; delete {', '.join(extra)}" if extra else ""), **evidence)


@check("dns-record-ttl", GROUP, "Declared TTLs are published (DNS-only records)", plan=_plan_records)
def judge_record_ttl(item: Item, obs) -> Verdict:
    r: ExpectedRecord = item.data
    if r.proxied:
        return skipped("proxied records get Cloudflare's automatic TTL")
    if r.ttl == 1:
        return skipped("automatic TTL declared (Cloudflare chooses)")
    ok, ans = _present(item, obs)
    if not ok:
        return skipped("record absent (reported by dns-record-present)")
    if ans.ttl == r.ttl:
        return passed(f"TTL {ans.ttl}", ttl=ans.ttl)
    if ans.ttl is not None and ans.ttl < r.ttl and not ans.authoritative:
        return passed(f"TTL {ans.ttl} (a cache counting down from {r.ttl})", ttl=ans.ttl)
    return failed(f"{r.name} {r.type} TTL is {ans.ttl}; declared {r.ttl}", _add_record_hint(r),
                  expected=r.ttl, live=ans.ttl)


# ------------------------------------------------------------------ NS, CAA

def _plan_ns(exp: Expectations):
    if not exp.nameservers:
        return NotApplicable("no nameservers declared (give --outputs with the zone's nameServers)", exp.domain)
    return [Item(exp.domain, (key("rr", exp.domain, "NS"),), data=exp.nameservers)]


@check("dns-ns-delegation", GROUP, "The zone is delegated to the expected nameservers", plan=_plan_ns)
def judge_ns(item: Item, obs) -> Verdict:
    want = set(item.data)
    ans = obs[key("rr", item.target, "NS")].checked()
    live = {x.rstrip(".").lower() for x in ans.records}
    if live == want:
        return passed(f"NS = {', '.join(sorted(live))}", live=sorted(live))
    return failed(f"NS is {', '.join(sorted(live)) or 'missing'}; expected {', '.join(sorted(want))}",
                  f"set the nameservers at the registrar to {', '.join(sorted(want))}",
                  missing=sorted(want - live), unexpected=sorted(live - want))


def _climb(name: str, apex: str) -> tuple[str, ...]:
    """`name`, then each parent up to and including the apex (RFC 8659 3: the relevant CAA set)."""
    labels = name.split(".")
    out = tuple(".".join(labels[i:]) for i in range(len(labels) - len(apex.split(".")) + 1))
    return out if out and out[-1] == apex else (apex,)


def _plan_caa(exp: Expectations):
    """The apex, then every declared name inside the zone: each judged on its relevant CAA set."""
    if not exp.caa_issuers:
        return NotApplicable("the stack declares no CAA issuers", exp.domain)
    d = exp.domain
    hosts = dict.fromkeys([d, *(r.name for r in exp.records if r.name.endswith("." + d))])
    return [Item(h, tuple(key("rr", n, "CAA") for n in _climb(h, d)), data=exp) for h in hosts]


_CAA_KNOWN_TAGS = {"issue", "issuewild", "iodef", "contactemail", "contactphone", "issuemail", "issuevmc"}


def _caa_problems(exp: Expectations, rrset) -> tuple[list[str], list[str], set[str]]:
    """(problems, critical unknown tags, issue values) of one CAA set against the declared issuers."""
    want = set(exp.caa_issuers)
    issue, wild, critical = set(), set(), []
    for rd in rrset or []:
        tag = rd.tag.decode().lower()
        value = rd.value.decode().split(";")[0].strip().lower()
        (issue if tag == "issue" else wild if tag == "issuewild" else set()).add(value)
        if rd.flags & 128 and tag not in _CAA_KNOWN_TAGS:
            critical.append(tag)
    problems = []
    if issue != want:
        problems.append(f"issue is {sorted(issue) or 'absent'}, declared {sorted(want)}")
    if exp.caa_forbid_wildcard and wild != {""}:
        problems.append(f"issuewild is {sorted(wild) or 'absent'}, declared ';' (no wildcard issuance)")
    elif not exp.caa_forbid_wildcard and wild - want - {""}:
        problems.append(f"issuewild allows {sorted(wild - want - {''})}, not among the declared issuers")
    if critical:
        problems.append(f"critical flag (128) on unknown tag(s) {', '.join(sorted(critical))}: every CA must refuse "
                        "to issue (RFC 8659 4.1), so renewals will fail")
    return problems, critical, issue


def _caa_hint(exp: Expectations, owner: str, critical: list[str]) -> str:
    hint = "publish " + ", ".join(f'{owner} CAA 0 issue "{i}"' for i in sorted(exp.caa_issuers)) + \
        (f', {owner} CAA 0 issuewild ";"' if exp.caa_forbid_wildcard else "")
    return hint + (" and remove the critical " + ", ".join(sorted(critical)) + " record(s)" if critical else "")


@check("dns-caa", GROUP, "CAA allows exactly the declared certificate authorities, at the apex and every declared host",
       plan=_plan_caa)
def judge_caa(item: Item, obs) -> Verdict:
    exp: Expectations = item.data
    host, apex = item.target, exp.domain
    names = _climb(host, apex)
    answers = [(n, obs[key("rr", n, "CAA")].checked()) for n in names]
    owner, ans = next(((n, a) for n, a in answers if a.status == "ok" and a.records), (apex, answers[-1][1]))
    if ans.status != "ok":
        if host != apex:
            return skipped(f"no CAA set at {host} or above it up to {apex} (reported for {apex})")
        return failed(f"no CAA record at {apex}: any CA may issue certificates", _caa_hint(exp, apex, []),
                      expected=sorted(exp.caa_issuers))
    problems, critical, issue = _caa_problems(exp, ans.rrset)
    if host != apex and owner == apex:
        if problems:
            return skipped(f"{host} inherits the CAA set at {apex} (reported there)")
        return passed(f"{host} inherits the CAA set at {apex}: issue = {', '.join(sorted(issue))}",
                      owner=owner, live=list(ans.records))
    if problems and owner != apex:
        whose = f"{host} has its own CAA set" if owner == host else f"{host} takes the CAA set at {owner}"
        barred = sorted(set(exp.caa_issuers) - issue) if issue else []
        consequence = f": {', '.join(barred)} cannot issue for {host} (renewals fail)" if barred else ""
        return failed(f"{whose}, which replaces {apex}'s for this name (RFC 8659 3); " + "; ".join(problems)
                      + consequence,
                      f"remove the CAA records at {owner} so it inherits {apex}'s, or {_caa_hint(exp, owner, critical)}",
                      owner=owner, live=list(ans.records), declared=sorted(exp.caa_issuers))
    if problems:
        return failed("CAA " + "; ".join(problems), _caa_hint(exp, apex, critical), live=list(ans.records))
    return passed(f"CAA at {owner} issue = {', '.join(sorted(issue))}", owner=owner, live=list(ans.records))


# ------------------------------------------------------------------ DNSSEC

def _plan_dnssec(exp: Expectations):
    if not exp.dnssec:
        return NotApplicable("DNSSEC is not declared for this stack", exp.domain)
    d = exp.domain
    return [Item(d, (key("rr-dnssec", d, "DNSKEY"), key("rr", d, "DS")))]


@check("dnssec", GROUP, "DNSSEC: the parent's DS matches a signing key of the zone", plan=_plan_dnssec)
def judge_dnssec(item: Item, obs) -> Verdict:
    d = item.target
    keys = obs[key("rr-dnssec", d, "DNSKEY")].checked()
    ds = obs[key("rr", d, "DS")].checked()
    enable = "enable DNSSEC on the Cloudflare zone and add the DS record it shows at the registrar"
    if keys.status != "ok":
        return failed(f"{d} publishes no DNSKEY: the zone is not signed", enable, dnskey=keys.status)
    if ds.status != "ok":
        if ds.soa_owner == d:
            # The answer came from the child zone itself: the parent is not visible through this server.
            raise DnsQueryError(f"the parent of {d} is not served by the queried nameserver(s); DS cannot be read")
        return failed(f"no DS for {d} at the parent ({ds.soa_owner or 'parent zone'}): validators treat the zone as unsigned",
                      "add the DS record Cloudflare shows (DNS > Settings > DNSSEC) at the registrar",
                      dnskeys=len(keys.records))
    matched = []
    for ds_rd in ds.rrset:
        for k in keys.rrset:
            try:
                cand = dns.dnssec.make_ds(dns.name.from_text(d), k, ds_rd.digest_type)
            except Exception:
                continue
            if cand == ds_rd:
                matched.append((ds_rd, k))
    if not matched:
        return failed(f"the DS at the parent matches none of {d}'s DNSKEYs: validation fails (SERVFAIL for validating resolvers)",
                      "replace the DS at the registrar with the one Cloudflare currently shows",
                      ds=list(ds.records), dnskey_tags=sorted(dns.dnssec.key_id(k) for k in keys.rrset))
    if keys.rrsig_rrset is None:
        return failed(f"{d} DNSKEY set is not signed (no RRSIG)", enable, dnskeys=list(keys.records))
    try:
        dns.dnssec.validate(keys.rrset, keys.rrsig_rrset, {dns.name.from_text(d): keys.rrset})
    except dns.dnssec.ValidationFailure as e:
        return failed(f"the DNSKEY RRSIG does not validate: {e}", "re-sign the zone / re-enable DNSSEC at Cloudflare",
                      rrsigs=list(keys.rrsigs))
    ds_rd, k = matched[0]
    return passed(f"DS (key tag {ds_rd.key_tag}, algorithm {ds_rd.algorithm}) matches a signing key; DNSKEY RRSIG valid",
                  ds=[str(x) for x, _ in matched])


# ------------------------------------------------------------------ dangling CNAMEs

def _plan_cnames(exp: Expectations):
    """Every declared name, once: the CNAME the spec declares there, or any CNAME the zone serves
    instead of the declared record (a leftover pointing at a service is a takeover risk too)."""
    targets: dict[str, ExpectedRecord] = {}
    for r in exp.records:
        if r.type == "CNAME" or r.name not in targets:
            targets[r.name] = r
    items = [Item(n, (key("cname-chain", n, _declared_target(r)),), data=r) for n, r in targets.items()]
    return items or NotApplicable("the stack declares no host or extra records", exp.domain)


def _declared_target(r: ExpectedRecord) -> str | None:
    return r.content.rstrip(".").lower() if r.type == "CNAME" else None


@check("dns-dangling-cname", GROUP, "CNAMEs served at declared names resolve (no dangling CNAME to claim)",
       plan=_plan_cnames)
def judge_dangling(item: Item, obs) -> Verdict:
    r: ExpectedRecord = item.data
    o = obs[key("cname-chain", r.name, _declared_target(r))]
    if o.target is None:
        if r.type != "CNAME" and o.cname.status == "nodata":
            return passed(f"{r.name} serves no CNAME (declared {r.type}): nothing to dangle")
        return skipped("no CNAME published at the name (reported by dns-record-present)")
    loop = next((x for x in (o.target_a, o.target_aaaa) if x is not None and x.failure_type == CNAME_LOOP), None)
    if loop is not None:
        # the target's chain, from the declared name: status -> loop -> status
        names = list(loop.cname_chain)
        if names and names[0] != r.name:
            names = [r.name, *names]
        if r.name in names[1:]:
            names = names[:names.index(r.name, 1) + 1]
        return failed(f"{r.name} is in a CNAME loop: {' -> '.join(names)}; nothing at these names resolves, "
                      "so every record and mail check on them fails",
                      "point one CNAME of the loop at a real target (or replace it with the declared record)",
                      loop=names, cause_names=sorted(set(names)))
    a, aaaa = o.target_a.checked(), o.target_aaaa.checked()
    what_declared = f"a proxied {r.type}" if r.proxied else f"{r.type} {r.content}"
    served = "" if r.type == "CNAME" else f" (the stack declares {what_declared} here, not a CNAME)"
    if a.status == "ok" or aaaa.status == "ok":
        return passed(f"{r.name} -> {o.target} resolves{served}", addresses=[*a.records, *aaaa.records])
    chain = [o.target, *[c for c in (a.cname_chain or aaaa.cname_chain) if c != o.target]]
    final = chain[-1]
    service = next((takeover_service(c) for c in reversed(chain) if takeover_service(c)), None)
    what = "does not exist (NXDOMAIN)" if "nxdomain" in (a.status, aaaa.status) else "has no A/AAAA"
    via = f" (via {' -> '.join(chain[:-1])})" if len(chain) > 1 else ""
    svc = (f"; {final} is a {service} name, and {service} lets anyone claim an unclaimed name: a subdomain "
           "takeover risk" if service else "")
    fix = f"remove the CNAME {r.name}" + (f" and publish the declared {what_declared} (`pulumi up`)" if served else "")
    return failed(f"{r.name} is a dangling CNAME{served}: {final}{via} {what}{svc}",
                  f"{fix}, or re-create the {service or 'target'} resource {final} before anyone else does",
                  target=o.target, chain=chain, service=service, declared_type=r.type)


CHECKS = checks_of(judge_record_present, judge_record_content, judge_record_ttl, judge_ns, judge_caa, judge_dnssec,
                   judge_dangling)
