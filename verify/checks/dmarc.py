"""DMARC checks (group "mail"): one valid record, a policy at least as strict as declared, reports
to the declared addresses, external destinations that accept them. Parsing is checkdmarc's."""
from __future__ import annotations

from infra.knowledge.mailrecords import announces

from ..expectations import Expectations, MailExpectations
from ..model import Verdict, failed, passed, skipped
from ..probes.mailprobes import DmarcObservation
from ..registry import Item, NotApplicable, check, checks_of, key
from .common import GROUP, with_mail

_RANK = {"none": 0, "quarantine": 1, "reject": 2}


@with_mail
def _plan_dmarc(exp: Expectations, m: MailExpectations):
    if m.dmarc is None:
        return NotApplicable("no DMARC policy declared", exp.domain)
    return [Item(f"_dmarc.{m.domain}", (key("dmarc", m.domain),), data=m)]


def _dmarc_hint(m: MailExpectations) -> str:
    d = m.dmarc
    tags = [f"p={d.policy}"]
    if d.subdomain_policy:
        tags.append(f"sp={d.subdomain_policy}")
    if d.adkim:
        tags.append(f"adkim={d.adkim}")
    if d.aspf:
        tags.append(f"aspf={d.aspf}")
    if d.rua:
        tags.append("rua=" + ",".join(d.rua))
    if d.ruf:
        tags.append("ruf=" + ",".join(d.ruf))
    if d.pct != 100:
        tags.append(f"pct={d.pct}")
    return f'publish _dmarc.{m.domain} TXT "v=DMARC1; {"; ".join(tags)}"'


@check("dmarc-record", GROUP, "One valid DMARC record", plan=_plan_dmarc)
def judge_dmarc_record(item: Item, obs) -> Verdict:
    m: MailExpectations = item.data
    o: DmarcObservation = obs[key("dmarc", m.domain)]
    if not o.records:
        instead = ""
        if o.misplaced:
            instead = (f"; a DMARC record is published at {', '.join(o.misplaced)} instead, where receivers never look"
                       + (" (the zone name was appended twice)" if o.misplaced[0].endswith(f".{m.domain}.{m.domain}")
                          or o.misplaced[0] == f"{o.name}.{m.domain}" else ""))
        return failed(f"no DMARC record at {o.name}{instead}: spoofed mail is not rejected and nobody gets reports",
                      _dmarc_hint(m) + (f" and delete the one at {', '.join(o.misplaced)}" if o.misplaced else ""),
                      queried=o.name, answer=o.answer_status, misplaced=list(o.misplaced))
    if len(o.records) > 1:
        return failed(f"{len(o.records)} DMARC records at {o.name}: receivers ignore them all", _dmarc_hint(m),
                      records=list(o.records))
    if o.error:
        return failed(f"DMARC record is invalid: {o.error}", _dmarc_hint(m), record=o.record)
    return passed("DMARC record parses", record=o.record, warnings=list(o.warnings))


def dmarc_effective(o: DmarcObservation, tag: str = "p") -> tuple[str, list[str]]:
    """The policy a receiver applies, and why it is weaker than written: t=y (RFC 9989 testing
    mode: one step weaker) and pct < 100 (RFC 7489: the policy covers only part of failing mail)."""
    p = str(o.tag("p", "none")).lower() if tag == "p" else str(o.tag(tag, o.tag("p", "none"))).lower()
    caveats = []
    pct = dmarc_pct(o)
    if pct is not None and pct < 100:
        caveats.append(f"pct={pct}: the policy applies to only {pct}% of failing mail")
    if str(o.tag("t", "n")).lower() == "y":
        caveats.append("t=y: testing mode, receivers apply one step less than p (RFC 9989)")
    return p, caveats


def dmarc_pct(o: DmarcObservation) -> int | None:
    raw = o.raw_tag("pct")
    if raw is None:
        return None
    try:
        return max(0, min(100, int(raw)))
    except ValueError:
        return 0  # RFC 7489 6.3: an invalid pct is a syntax error, the policy is not applied reliably


@check("dmarc-policy", GROUP, "DMARC policy at least as strict as declared (p, sp, pct, t)", plan=_plan_dmarc)
def judge_dmarc_policy(item: Item, obs) -> Verdict:
    m: MailExpectations = item.data
    o: DmarcObservation = obs[key("dmarc", m.domain)]
    if o.tags is None:
        return skipped("no valid DMARC record (reported by dmarc-record)")
    want = m.dmarc
    p, caveats = dmarc_effective(o)
    problems = []
    if _RANK.get(p, 0) < _RANK[want.policy]:
        problems.append(f"p={p}, declared p={want.policy}")
    if want.subdomain_policy:
        sp = str(o.tag("sp", p)).lower()
        if _RANK.get(sp, 0) < _RANK[want.subdomain_policy]:
            problems.append(f"sp={sp}, declared sp={want.subdomain_policy}")
    pct = dmarc_pct(o)
    if pct is not None and pct < want.pct:
        problems.append(f"pct={o.raw_tag('pct')}, declared {want.pct}: the policy applies to only {pct}% of failing mail")
    for align, declared in (("adkim", want.adkim), ("aspf", want.aspf)):
        live = str(o.tag(align, "r")).lower()
        if declared == "s" and live != "s":
            problems.append(f"{align}={live}, declared {align}=s (strict alignment)")
    if str(o.tag("t", "n")).lower() == "y" and _RANK[want.policy] > 0:
        problems.append("t=y (testing mode): receivers apply one step less than p (RFC 9989)")
    if problems:
        return failed("DMARC " + "; ".join(problems), _dmarc_hint(m), record=o.record)
    return passed(f"DMARC p={p}" + (f", pct={pct}" if pct not in (None, 100) else ""), policy=p, record=o.record)


@check("dmarc-rua", GROUP, "DMARC aggregate reports go to the declared addresses", plan=_plan_dmarc)
def judge_dmarc_rua(item: Item, obs) -> Verdict:
    m: MailExpectations = item.data
    o: DmarcObservation = obs[key("dmarc", m.domain)]
    if o.tags is None:
        return skipped("no valid DMARC record (reported by dmarc-record)")
    live = [a.lower() for a in o.report_addresses("rua")]
    if not live:
        return failed("DMARC has no rua: nobody receives aggregate reports, so failures go unseen", _dmarc_hint(m),
                      record=o.record, declared=list(m.dmarc.rua))
    missing = [a for a in m.dmarc.rua if a.lower() not in live]
    if missing:
        return failed(f"DMARC rua lacks {', '.join(missing)} (live: {', '.join(live)})", _dmarc_hint(m),
                      missing=missing, live=live)
    return passed(f"rua = {', '.join(live)}", rua=live)


@check("dmarc-rua-authorized", GROUP, "External DMARC report destinations authorise the domain", plan=_plan_dmarc)
def judge_dmarc_auth(item: Item, obs) -> Verdict:
    m: MailExpectations = item.data
    o: DmarcObservation = obs[key("dmarc", m.domain)]
    if o.tags is None:
        return skipped("no valid DMARC record (reported by dmarc-record)")
    if not o.authorizations:
        return skipped("no external report destinations")
    unauth = []
    for dest, ans in sorted(o.authorizations.items()):
        ans.checked()
        if not any(announces(t, "DMARC1") for t in ans.texts()):
            unauth.append(dest)
    if unauth:
        return failed(f"report destination(s) {', '.join(unauth)} do not accept reports for {m.domain}: reporters will drop them",
                      "; ".join(f'ask {d} to publish {m.domain}._report._dmarc.{d} TXT "v=DMARC1"' for d in unauth),
                      unauthorised=unauth)
    return passed(f"{', '.join(sorted(o.authorizations))} authorise reports for {m.domain}")


CHECKS = checks_of(judge_dmarc_record, judge_dmarc_policy, judge_dmarc_rua, judge_dmarc_auth)
