"""MTA-STS checks (group "mail"): the _mta-sts TXT record, the served policy and its mx patterns.
Parsing and pattern matching are checkdmarc's."""
from __future__ import annotations

import checkdmarc.mta_sts as cd_sts

from infra.knowledge.mailrecords import announces

from ..context import FetchedPolicy, PolicyFetchError
from ..expectations import Expectations, MailExpectations
from ..model import Verdict, failed, passed, skipped, warned
from ..registry import Item, NotApplicable, check, checks_of, key
from .common import GROUP, with_mail
from .mx import mx_set


@with_mail
def _plan_sts(exp: Expectations, m: MailExpectations):
    if m.mta_sts is None:
        return NotApplicable("MTA-STS not declared", exp.domain)
    return [Item(f"_mta-sts.{m.domain}", (key("rr", f"_mta-sts.{m.domain}", "TXT"),), data=m)]


@check("mta-sts-record", GROUP, "MTA-STS TXT record (_mta-sts) is valid", plan=_plan_sts)
def judge_sts_record(item: Item, obs) -> Verdict:
    ans = obs[key("rr", item.target, "TXT")].checked()
    recs = [t for t in ans.texts() if announces(t, "STSv1")]
    hint = f'publish {item.target} TXT "v=STSv1; id=<YYYYMMDDnn>" and change id whenever the policy changes'
    if len(recs) != 1:
        return failed(f"{len(recs) or 'no'} MTA-STS record(s) at {item.target}", hint, records=recs)
    try:
        parsed = cd_sts.parse_mta_sts_record(recs[0])
    except cd_sts.MTASTSError as e:
        return failed(f"MTA-STS record invalid: {e}", hint, record=recs[0])
    return passed(f"MTA-STS id={parsed['tags'].get('id')}", record=recs[0])


@with_mail
def _plan_sts_policy(exp: Expectations, m: MailExpectations):
    if m.mta_sts is None:
        return NotApplicable("MTA-STS not declared", exp.domain)
    return [Item(f"https://mta-sts.{m.domain}/.well-known/mta-sts.txt", (key("mta-sts-policy", m.domain),), data=m)]


def _policy(o: FetchedPolicy) -> dict:
    return cd_sts.parse_mta_sts_policy(o.text)


def _host_hint(domain: str, o: FetchedPolicy) -> str:
    host = f"mta-sts.{domain}"
    if "verify_code" in o.evidence:
        return (f"serve {host} with a certificate for {host} from a public CA (e.g. Let's Encrypt, or the CDN's edge "
                "certificate covering it), valid now")
    return f"publish {host} (A/AAAA, or a CNAME to the host serving the policy): it is part of the MTA-STS setup"


@check("mta-sts-policy", GROUP, "MTA-STS policy is served and in the declared mode", plan=_plan_sts_policy)
def judge_sts_policy(item: Item, obs) -> Verdict:
    m: MailExpectations = item.data
    o: FetchedPolicy = obs[key("mta-sts-policy", m.domain)]
    hint = (f"serve https://mta-sts.{m.domain}/.well-known/mta-sts.txt (200, text/plain, valid certificate) with "
            f"version: STSv1, mode: {m.mta_sts.mode}, one mx: line per MX host, max_age: >= {m.mta_sts.max_age_min}")
    if o.problem:
        return failed(f"policy host unusable: {o.problem}", _host_hint(m.domain, o), url=o.url, **o.evidence)
    if o.status == 429 or 500 <= o.status <= 599:
        # the server is overloaded or broken right now: that says nothing about the policy (ERROR)
        raise PolicyFetchError(f"policy URL {o.url} answered HTTP {o.status}; try again later")
    if o.status != 200:
        return failed(f"policy URL answered HTTP {o.status} (RFC 8461 needs 200, no redirects)", hint, status=o.status)
    try:
        pol = _policy(o)["policy"]
    except cd_sts.MTASTSError as e:
        return failed(f"policy does not parse: {e}", hint, url=o.url, body=o.text[:500])
    problems = []
    if pol["mode"] != m.mta_sts.mode and not (m.mta_sts.mode == "testing" and pol["mode"] == "enforce"):
        problems.append(f"mode {pol['mode']}, declared {m.mta_sts.mode}")
    if pol["max_age"] < m.mta_sts.max_age_min:
        problems.append(f"max_age {pol['max_age']} < {m.mta_sts.max_age_min}")
    if problems:
        return failed("MTA-STS policy " + "; ".join(problems), hint, policy=dict(pol))
    ctype = (o.content_type or "").split(";")[0].strip()
    if ctype != "text/plain":
        return warned(f"policy served as {ctype or 'no content type'}; RFC 8461 asks for text/plain", hint, policy=dict(pol))
    return passed(f"mode {pol['mode']}, max_age {pol['max_age']}", policy=dict(pol))


@with_mail
def _plan_sts_mx(exp: Expectations, m: MailExpectations):
    if m.mta_sts is None:
        return NotApplicable("MTA-STS not declared", exp.domain)
    return [Item(m.domain, (key("mta-sts-policy", m.domain), key("rr", m.domain, "MX")), data=m)]


@check("mta-sts-mx", GROUP, "MTA-STS policy mx patterns cover every MX host", plan=_plan_sts_mx)
def judge_sts_mx(item: Item, obs) -> Verdict:
    m: MailExpectations = item.data
    o: FetchedPolicy = obs[key("mta-sts-policy", m.domain)]
    mx = obs[key("rr", m.domain, "MX")].checked()
    try:
        pol = _policy(o)["policy"] if o.status == 200 else None
    except cd_sts.MTASTSError:
        pol = None
    if pol is None:
        return skipped("no parsable policy (reported by mta-sts-policy)")
    hosts = sorted(h for _, h in (mx_set(mx) if mx.status == "ok" else set()) if h)
    if not hosts:
        return skipped("no MX hosts to cover")
    uncovered = [h for h in hosts if not cd_sts.mx_in_mta_sts_patterns(h, pol["mx"])]
    if uncovered:
        return failed(f"MX host(s) {', '.join(uncovered)} not matched by the policy's mx ({', '.join(pol['mx'])}): "
                      "senders enforcing MTA-STS will refuse to deliver to them",
                      "add mx: lines for " + ", ".join(uncovered) + " to the policy, then bump the _mta-sts id",
                      uncovered=uncovered, patterns=list(pol["mx"]))
    return passed(f"policy covers {', '.join(hosts)}", patterns=list(pol["mx"]))


CHECKS = checks_of(judge_sts_record, judge_sts_policy, judge_sts_mx)
