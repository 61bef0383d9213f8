"""SPF checks (group "mail"): one valid record, lookup limits, a strict `all`, exactly the
declared senders. Parsing and include resolution are checkdmarc's (verify.probes.mailprobes);
strictness is judged here, because checkdmarc accepts `+all`."""
from __future__ import annotations

import ipaddress

from infra.knowledge.mailrecords import SpfTerm, spf_near_misses, spf_terms

from ..expectations import Expectations, MailExpectations, SpfExpectation
from ..model import Verdict, failed, passed, skipped
from ..probes.mailprobes import SpfObservation
from ..registry import Item, NotApplicable, ProbeFailed, check, checks_of, key
from .common import GROUP, with_mail


@with_mail
def _plan_spf(exp: Expectations, m: MailExpectations):
    if not m.spf:
        return NotApplicable("no sending providers declared", exp.domain)
    return [Item(s.name, (key("spf", s.name),), data=s) for s in m.spf]


def _spf_hint(s: SpfExpectation) -> str:
    terms = " ".join([*(f"include:{i}" for i in s.includes), *s.other_terms])
    return f'publish one TXT at {s.name}: "v=spf1 {terms} {s.all}"'


@with_mail
def _plan_spf_valid(exp: Expectations, m: MailExpectations):
    """spf-valid also asks where a missing record was published by mistake (a few names per record)."""
    if not m.spf:
        return NotApplicable("no sending providers declared", exp.domain)
    return [Item(s.name, (key("spf", s.name), key("near-miss", "spf", s.name, tuple(spf_near_misses(s.name, m.domain)))),
                 data=s) for s in m.spf]


def _spf_missing(item: Item, obs) -> Verdict:
    s: SpfExpectation = item.data
    k = next((k for k in item.needs if k.kind == "near-miss"), None)
    try:  # a hint only: a probe that did not finish is no hint, never an ERROR
        misplaced = tuple(obs[k]) if k is not None else ()
    except ProbeFailed:
        misplaced = ()
    instead, hint = "", _spf_hint(s)
    if misplaced:
        why = spf_near_misses(s.name, "")
        found = ", ".join(f"{n} ({'the zone name was appended twice' if n.startswith(s.name + '.') else why.get(n, '?')})"
                          for n in misplaced)
        instead = f"; an SPF record is published at {found} instead, where receivers never look for {s.name}"
        hint = f"move it: {hint}, and delete the one at {', '.join(misplaced)}"
    return failed(f"no SPF record at {s.name}{instead}: receivers cannot tell who may send", hint,
                  queried=f"{s.name} TXT", records=[], misplaced=list(misplaced))


@check("spf-valid", GROUP, "One syntactically valid SPF record", plan=_plan_spf_valid)
def judge_spf_valid(item: Item, obs) -> Verdict:
    s: SpfExpectation = item.data
    o: SpfObservation = obs[key("spf", s.name)]
    if not o.records:
        return _spf_missing(item, obs)
    if len(o.records) > 1:
        return failed(f"{len(o.records)} SPF records at {s.name}: RFC 7208 makes that a permerror (SPF fails)",
                      "merge them into one: " + _spf_hint(s), records=list(o.records))
    if o.error and not o.limit_exceeded:
        return failed(f"SPF at {s.name} is invalid (permerror, so SPF fails for all mail): {o.error}", _spf_hint(s),
                      record=o.record, error_type=o.error_type)
    return passed(f"SPF at {s.name} parses", record=o.record, warnings=list(o.warnings))


@check("spf-lookups", GROUP, "SPF stays within the DNS lookup limits (10 lookups, 2 void lookups)", plan=_plan_spf)
def judge_spf_lookups(item: Item, obs) -> Verdict:
    s: SpfExpectation = item.data
    o: SpfObservation = obs[key("spf", s.name)]
    if o.record is None or (o.error and not o.limit_exceeded):
        return skipped("no single parsable SPF record (reported by spf-valid)")
    limit = o.limit_exceeded
    if limit == "lookups":
        return failed(f"SPF at {s.name} needs {o.dns_lookups or 'more than 10'} DNS lookups (counting includes of includes); "
                      "receivers stop at 10 and fail SPF (permerror)",
                      "drop a/mx/ptr/include terms that are not declared providers, or flatten nested includes to ip4:/ip6: ranges: "
                      + _spf_hint(s), dns_lookups=o.dns_lookups, record=o.record, error=o.error)
    if limit == "void":
        return failed(f"SPF at {s.name} has {o.void_lookups or 'more than 2'} void lookups (names that do not exist or have "
                      "no address); receivers may stop at 2 and fail SPF (permerror)",
                      "remove the terms that point at names that no longer exist: " + _spf_hint(s),
                      void_lookups=o.void_lookups, record=o.record, error=o.error)
    if o.dns_lookups is None:
        return skipped("no single parsable SPF record (reported by spf-valid)")
    return passed(f"{o.dns_lookups} DNS lookups (limit 10), {o.void_lookups or 0} void (limit 2)",
                  dns_lookups=o.dns_lookups, void_lookups=o.void_lookups)


@check("spf-strict-all", GROUP, "SPF ends in -all (or ~all where declared), never +all/?all", plan=_plan_spf)
def judge_spf_all(item: Item, obs) -> Verdict:
    s: SpfExpectation = item.data
    o: SpfObservation = obs[key("spf", s.name)]
    if o.parsed is None:
        return skipped("no single parsable SPF record (reported by spf-valid)")
    q = o.all_qualifier()
    redirect = o.redirect()
    via = f" (taken from redirect={redirect}, since the record has no all of its own)" if redirect else ""
    open_inc = o.open_includes()
    if open_inc and q in ("-all", "~all"):
        return failed(f"SPF ends in {q}, but {', '.join(open_inc)} ends in +all (or authorises every address): every host "
                      "matches that include and passes SPF as this domain",
                      f"fix the included record to end in -all/~all, or drop the include: {_spf_hint(s)}",
                      all=q, open_includes=open_inc, record=o.record)
    if q == "-all" or (q == "~all" and s.all == "~all"):
        return passed(f"SPF ends in {q}{via}", all=q, declared=s.all)
    if q == "+all":
        msg = f"SPF ends in +all{via}: every host on the internet may send as this domain"
    elif q == "?all":
        msg = f"SPF ends in ?all (or has no all){via}: unauthorised senders are neutral, not rejected"
    else:
        msg = f"SPF ends in {q}{via}; the stack declares {s.all}"
    return failed(msg, f"end the record with {s.all}: " + _spf_hint(s), all=q, declared=s.all, record=o.record,
                  redirect=redirect)


def _norm_term(t: SpfTerm, name: str) -> str:
    """Comparable text of an authorising term: a:<own name> is `a`, networks in canonical form."""
    v = t.value
    if t.name in ("ip4", "ip6"):
        try:
            v = str(ipaddress.ip_network(v, strict=False))
            if v.endswith("/32") and t.name == "ip4" or v.endswith("/128") and t.name == "ip6":
                v = v.rsplit("/", 1)[0]
        except ValueError:
            pass
    elif t.name in ("a", "mx") and v.split("/")[0] == name:
        v = ""
    return f"{t.name}:{v}" if v else t.name


def _term_risk(t: SpfTerm) -> str:
    if t.name == "ptr":
        return " (ptr is deprecated, RFC 7208 5.5: slow, and authorises any host whose reverse DNS claims the name)"
    if t.name in ("ip4", "ip6"):
        try:
            net = ipaddress.ip_network(t.value, strict=False)
        except ValueError:
            return ""
        if net.prefixlen == 0:
            return " (the whole internet: as permissive as +all)"
        if (net.version == 4 and net.prefixlen < 16) or (net.version == 6 and net.prefixlen < 32):
            return f" ({net.num_addresses:.3g} addresses)"
    return ""


@check("spf-providers", GROUP, "SPF authorises exactly the declared providers (includes and other terms)", plan=_plan_spf)
def judge_spf_providers(item: Item, obs) -> Verdict:
    s: SpfExpectation = item.data
    o: SpfObservation = obs[key("spf", s.name)]
    if o.record is None or (o.error and not o.limit_exceeded):
        return skipped("no single parsable SPF record (reported by spf-valid)")
    live = set(o.includes())
    want = set(s.includes)
    missing, extra = sorted(want - live), sorted(live - want)
    declared_terms = {_norm_term(t, s.name) for x in s.other_terms for t in spf_terms("v=spf1 " + x)}
    live_terms = {_norm_term(t, s.name): t for t in o.other_terms()}
    missing += sorted(declared_terms - set(live_terms))
    extra_terms = sorted(set(live_terms) - declared_terms)
    if not missing and not extra and not extra_terms:
        return passed(f"authorises {', '.join(sorted(live | set(live_terms))) or 'nobody'}", includes=sorted(live),
                      terms=sorted(live_terms))
    parts = []
    if missing:
        parts.append(f"missing {', '.join(missing)} (mail from that provider fails SPF)")
    if extra:
        parts.append(f"undeclared {', '.join(extra)} (may send as the domain)")
    if extra_terms:
        parts.append("undeclared " + ", ".join(x + _term_risk(live_terms[x]) for x in extra_terms) +
                     " (authorise senders the stack does not know about)")
    return failed("SPF " + "; ".join(parts), _spf_hint(s), missing=missing, unexpected=extra + extra_terms,
                  record=o.record)


CHECKS = checks_of(judge_spf_valid, judge_spf_lookups, judge_spf_all, judge_spf_providers)
