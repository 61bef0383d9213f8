"""Mail authentication checks (group "mail"): SPF, DKIM, DMARC, MX, MTA-STS, TLS-RPT, non-sending names.

Parsing is checkdmarc's (SPF, DMARC, MTA-STS record and policy, TLS-RPT); strictness is judged here,
because checkdmarc accepts `+all`. DKIM keys are parsed with `cryptography`.
"""
from __future__ import annotations

import functools

import base64
import hashlib
import ipaddress

import checkdmarc.mta_sts as cd_sts
import checkdmarc.smtp_tls_reporting as cd_rpt
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key

from ..context import FetchedPolicy, PolicyFetchError
from ..registry import Item, NotApplicable, check, checks_of, key
from ..expectations import DkimExpectation, Expectations, MailExpectations, SpfExpectation
from ..model import Verdict, failed, passed, skipped, warned
from ..probes.mailprobes import DmarcObservation, SpfObservation, SpfTerm, spf_terms

GROUP = "mail"
NO_MAIL = "the stack declares no mail section"


def _with_mail(plan):
    """A mail check's plan: not applicable when the stack declares no mail; else plan(exp, mail)."""
    @functools.wraps(plan)
    def wrapper(exp: Expectations):
        if exp.mail is None:
            return NotApplicable(NO_MAIL, exp.domain)
        return plan(exp, exp.mail)
    return wrapper


# ------------------------------------------------------------------ SPF

@_with_mail
def _plan_spf(exp: Expectations, m: MailExpectations):
    if not m.spf:
        return NotApplicable("no sending providers declared", exp.domain)
    return [Item(s.name, (key("spf", s.name),), data=s) for s in m.spf]


def _spf_hint(s: SpfExpectation) -> str:
    terms = " ".join([*(f"include:{i}" for i in s.includes), *s.other_terms])
    return f'publish one TXT at {s.name}: "v=spf1 {terms} {s.all}"'


@check("spf-valid", GROUP, "One syntactically valid SPF record", plan=_plan_spf)
def judge_spf_valid(item: Item, obs) -> Verdict:
    s: SpfExpectation = item.data
    o: SpfObservation = obs[key("spf", s.name)]
    if not o.records:
        return failed(f"no SPF record at {s.name}: receivers cannot tell who may send", _spf_hint(s),
                      queried=f"{s.name} TXT", records=[])
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


# ------------------------------------------------------------------ DKIM

@_with_mail
def _plan_dkim(exp: Expectations, m: MailExpectations):
    out: list = [Item(d.name, (key("rr", d.name, "TXT"),), data=d) for d in m.dkim]
    if m.ses_dkim_pending:
        out.append(NotApplicable("SES DKIM selectors are tokens known only after apply: pass --outputs "
                                 "(pulumi stack output --json) to check them", f"ses._domainkey.{m.domain}"))
    return out or NotApplicable("no DKIM selectors declared", exp.domain)


def dkim_tags(text: str) -> dict[str, str]:
    tags = {}
    for part in text.split(";"):
        if "=" in part:
            k, v = part.split("=", 1)
            tags[k.strip().lower()] = "".join(v.split())
    return tags


def _dkim_record(item: Item, obs) -> tuple[str | None, dict[str, str], object]:
    ans = obs[key("rr", item.data.name, "TXT")].checked()
    if ans.status != "ok":
        return None, {}, ans
    texts = ans.texts()
    dk = [t for t in texts if "p=" in t.replace(" ", "") or t.replace(" ", "").lower().startswith("v=dkim1")]
    return (dk[0] if dk else None), (dkim_tags(dk[0]) if dk else {}), ans


@check("dkim-present", GROUP, "A DKIM key is published for each declared selector", plan=_plan_dkim)
def judge_dkim_present(item: Item, obs) -> Verdict:
    d: DkimExpectation = item.data
    text, tags, ans = _dkim_record(item, obs)
    hint = (f"publish {d.name} CNAME {d.cname_target}" if d.cname_target else
            f"publish the {d.provider or 'provider'}'s DKIM key at {d.name} (TXT v=DKIM1; k=rsa; p=...)")
    if text is None:
        why = "the name does not exist" if ans.status == "nxdomain" else "no DKIM TXT record"
        return failed(f"selector {d.selector}: {why} at {d.name}; mail signed with it fails DKIM", hint,
                      queried=f"{d.name} TXT", answer=ans.status, cname_chain=list(ans.cname_chain))
    keys = [t for t in ans.texts() if "p=" in t.replace(" ", "")]
    if len(keys) > 1:
        return failed(f"selector {d.selector}: {len(keys)} DKIM records at {d.name}; verifiers pick one at random, so "
                      "some signatures fail (a key split into several records instead of several strings, or an old key left)",
                      "keep exactly one TXT record at the selector: " + hint, records=keys)
    if tags.get("v", "DKIM1").upper() != "DKIM1" or "p" not in tags:
        return failed(f"selector {d.selector}: record is not a DKIM key: {text[:80]}", hint, record=text)
    via = f" via CNAME {' -> '.join(ans.cname_chain)}" if ans.cname_chain else ""
    return passed(f"selector {d.selector} published{via}", cname_chain=list(ans.cname_chain))


@check("dkim-not-revoked", GROUP, "DKIM keys are not revoked (empty p=)", plan=_plan_dkim)
def judge_dkim_revoked(item: Item, obs) -> Verdict:
    d: DkimExpectation = item.data
    text, tags, _ = _dkim_record(item, obs)
    if text is None or "p" not in tags:
        return skipped("no DKIM key (reported by dkim-present)")
    if tags["p"] == "":
        return failed(f"selector {d.selector} is revoked (p= is empty): signatures with it fail",
                      f"publish the current key for {d.selector}, or sign with a live selector and remove {d.selector} from the stack",
                      record=text)
    return passed(f"selector {d.selector} has a key")


def dkim_key_info(tags: dict[str, str]) -> tuple[str, int | None]:
    """('rsa', bits) | ('ed25519', 256); raises ValueError when p= is not a usable key."""
    k = tags.get("k", "rsa").lower()
    raw = base64.b64decode(tags["p"], validate=True)
    if k == "ed25519":
        ed25519.Ed25519PublicKey.from_public_bytes(raw)
        return "ed25519", 256
    if k != "rsa":
        raise ValueError(f"unknown key type k={k}")
    pub = load_der_public_key(raw)
    if not isinstance(pub, rsa.RSAPublicKey):
        raise ValueError(f"k=rsa but the key is {type(pub).__name__}")
    return "rsa", pub.key_size


@check("dkim-key-strength", GROUP, "DKIM keys are RSA >= 2048 bits or Ed25519", plan=_plan_dkim)
def judge_dkim_strength(item: Item, obs) -> Verdict:
    d: DkimExpectation = item.data
    text, tags, _ = _dkim_record(item, obs)
    if text is None or not tags.get("p"):
        return skipped("no live DKIM key (reported by dkim-present / dkim-not-revoked)")
    try:
        kind, bits = dkim_key_info(tags)
    except (ValueError, TypeError) as e:
        return failed(f"selector {d.selector}: the public key does not parse ({e}): receivers cannot verify any signature",
                      f"republish the {d.provider or 'provider'}'s key for {d.selector} exactly as given "
                      "(one TXT record; a long key split into 255-byte strings, not into separate records)",
                      record=text, p_length=len(tags.get("p", "")))
    if kind == "rsa" and bits < 2048:
        return failed(f"selector {d.selector}: RSA key of {bits} bits (< 2048; 1024-bit keys are factorable and some receivers reject them)",
                      f"rotate {d.selector} to a 2048-bit RSA key at the provider and publish it", bits=bits, key_type=kind)
    return passed(f"selector {d.selector}: {kind} {bits} bits", bits=bits, key_type=kind)


def _key_fingerprint(p: str) -> str:
    try:
        raw = base64.b64decode(p, validate=True)
    except ValueError:
        raw = p.encode()
    return "sha256:" + hashlib.sha256(raw).hexdigest()[:16]


@_with_mail
def _plan_dkim_declared_key(exp: Expectations, m: MailExpectations):
    items = [Item(d.name, (key("rr", d.name, "TXT"),), data=d) for d in m.dkim if d.public_key]
    return items or NotApplicable("no DKIM key declared in the stack (delegated selectors are judged by dkim-cname-target)",
                                  exp.domain)


@check("dkim-key-match", GROUP, "The published DKIM key is the one the stack declares", plan=_plan_dkim_declared_key)
def judge_dkim_key_match(item: Item, obs) -> Verdict:
    d: DkimExpectation = item.data
    text, tags, _ = _dkim_record(item, obs)
    if text is None or not tags.get("p"):
        return skipped("no live DKIM key (reported by dkim-present / dkim-not-revoked)")
    live, want = tags["p"], "".join(d.public_key.split())
    if live != want:
        try:
            dkim_key_info(tags)
        except (ValueError, TypeError):
            return skipped("the published key does not parse (reported by dkim-key-strength)")
    if live == want:
        return passed(f"selector {d.selector}: the declared key is published", key=_key_fingerprint(live))
    return failed(f"selector {d.selector}: the published key is not the declared one (a rotation half done, or a stale "
                  f"record): mail signed with the {d.provider or 'provider'}'s current key fails DKIM",
                  f"publish {d.name} TXT with the declared key (run `pulumi up`), or update the stack if the provider rotated it",
                  live_key=_key_fingerprint(live), declared_key=_key_fingerprint(want))


@check("dkim-key-usable", GROUP, "DKIM keys are not in testing mode and allow SHA-256 email signatures", plan=_plan_dkim)
def judge_dkim_usable(item: Item, obs) -> Verdict:
    d: DkimExpectation = item.data
    text, tags, _ = _dkim_record(item, obs)
    if text is None or not tags.get("p"):
        return skipped("no live DKIM key (reported by dkim-present / dkim-not-revoked)")
    problems = []
    flags = [f.strip().lower() for f in tags.get("t", "").split(":") if f.strip()]
    if "y" in flags:
        problems.append("t=y (testing: receivers must treat its signatures as if the mail were unsigned, RFC 6376 3.6.1)")
    hashes = [h.strip().lower() for h in tags.get("h", "").split(":") if h.strip()]
    if hashes and "sha256" not in hashes:
        problems.append(f"h={tags['h']} (only SHA-1, which verifiers must not accept, RFC 8301)")
    services = [x.strip().lower() for x in tags.get("s", "").split(":") if x.strip()]
    if services and "*" not in services and "email" not in services:
        problems.append(f"s={tags['s']} (not usable for email)")
    if problems:
        return failed(f"selector {d.selector}: " + "; ".join(problems),
                      f"republish {d.name} without those tags (v=DKIM1; k={tags.get('k', 'rsa')}; p=...)", record=text)
    return passed(f"selector {d.selector} is usable for email" + (f" (t={tags['t']})" if flags else ""))


@_with_mail
def _plan_dkim_cname(exp: Expectations, m: MailExpectations):
    items = [Item(d.name, (key("rr", d.name, "CNAME"),), data=d) for d in m.dkim if d.cname_target]
    if m.ses_dkim_pending:
        items.append(NotApplicable("SES DKIM tokens unknown: pass --outputs", f"ses._domainkey.{m.domain}"))
    return items or NotApplicable("no CNAME-delegated DKIM selectors declared", exp.domain)


@check("dkim-cname-target", GROUP, "Delegated DKIM selectors point at the provider (SES tokens)", plan=_plan_dkim_cname)
def judge_dkim_cname(item: Item, obs) -> Verdict:
    d: DkimExpectation = item.data
    ans = obs[key("rr", d.name, "CNAME")].checked()
    live = [x.rstrip(".").lower() for x in ans.records]
    if ans.status != "ok":
        return skipped(f"no CNAME at {d.name} (presence is judged by dkim-present)")
    if d.cname_target in live:
        return passed(f"{d.name} -> {d.cname_target}")
    return failed(f"{d.name} points at {', '.join(live)}; expected {d.cname_target}",
                  f"publish {d.name} CNAME {d.cname_target}", live=live, expected=d.cname_target)


# ------------------------------------------------------------------ DMARC

_RANK = {"none": 0, "quarantine": 1, "reject": 2}


@_with_mail
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
        if not any(t.replace(" ", "").lower().startswith("v=dmarc1") for t in ans.texts()):
            unauth.append(dest)
    if unauth:
        return failed(f"report destination(s) {', '.join(unauth)} do not accept reports for {m.domain}: reporters will drop them",
                      "; ".join(f'ask {d} to publish {m.domain}._report._dmarc.{d} TXT "v=DMARC1"' for d in unauth),
                      unauthorised=unauth)
    return passed(f"{', '.join(sorted(o.authorizations))} authorise reports for {m.domain}")


# ------------------------------------------------------------------ MX

@_with_mail
def _plan_mx(exp: Expectations, m: MailExpectations):
    if not m.mx:
        return NotApplicable("no MX declared (the domain receives no mail here)", exp.domain)
    return [Item(m.domain, (key("rr", m.domain, "MX"),), data=m)]


def _mx_set(ans) -> set[tuple[int, str]]:
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
    live = _mx_set(ans) if ans.status == "ok" else set()
    return _mx_verdict(m.domain, live, set(m.mx), sending=bool(m.spf), what=m.domain)


@_with_mail
def _plan_mail_from_mx(exp: Expectations, m: MailExpectations):
    names = sorted({n for n, _, _ in m.mail_from_mx})
    items = [Item(n, (key("rr", n, "MX"),), data=(m, {(p, h) for x, p, h in m.mail_from_mx if x == n})) for n in names]
    return items or NotApplicable("no provider MX at a subdomain (MAIL FROM) declared", exp.domain)


@check("mail-from-mx", GROUP, "MAIL FROM (bounce) subdomains publish the provider's MX, never a null MX", plan=_plan_mail_from_mx)
def judge_mail_from_mx(item: Item, obs) -> Verdict:
    m, want = item.data
    ans = obs[key("rr", item.target, "MX")].checked()
    live = _mx_set(ans) if ans.status == "ok" else set()
    if not live:
        why = "the name does not exist" if ans.status == "nxdomain" else "no MX"
        return failed(f"{item.target}: {why}; the provider cannot use it as MAIL FROM (SES falls back to its own "
                      "domain, so SPF no longer aligns for DMARC) and bounces are lost",
                      "publish " + ", ".join(f"{item.target} MX {p} {h}" for p, h in sorted(want)), expected=sorted(want))
    return _mx_verdict(item.target, live, want, sending=True, what=f"MAIL FROM {item.target}")


@_with_mail
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


# ------------------------------------------------------------------ MTA-STS, TLS-RPT

@_with_mail
def _plan_sts(exp: Expectations, m: MailExpectations):
    if m.mta_sts is None:
        return NotApplicable("MTA-STS not declared", exp.domain)
    return [Item(f"_mta-sts.{m.domain}", (key("rr", f"_mta-sts.{m.domain}", "TXT"),), data=m)]


@check("mta-sts-record", GROUP, "MTA-STS TXT record (_mta-sts) is valid", plan=_plan_sts)
def judge_sts_record(item: Item, obs) -> Verdict:
    ans = obs[key("rr", item.target, "TXT")].checked()
    recs = [t for t in ans.texts() if t.replace(" ", "").lower().startswith("v=stsv1")]
    hint = f'publish {item.target} TXT "v=STSv1; id=<YYYYMMDDnn>" and change id whenever the policy changes'
    if len(recs) != 1:
        return failed(f"{len(recs) or 'no'} MTA-STS record(s) at {item.target}", hint, records=recs)
    try:
        parsed = cd_sts.parse_mta_sts_record(recs[0])
    except cd_sts.MTASTSError as e:
        return failed(f"MTA-STS record invalid: {e}", hint, record=recs[0])
    return passed(f"MTA-STS id={parsed['tags'].get('id')}", record=recs[0])


@_with_mail
def _plan_sts_policy(exp: Expectations, m: MailExpectations):
    if m.mta_sts is None:
        return NotApplicable("MTA-STS not declared", exp.domain)
    return [Item(f"https://mta-sts.{m.domain}/.well-known/mta-sts.txt", (key("mta-sts-policy", m.domain),), data=m)]


def _policy(o: FetchedPolicy) -> dict:
    return cd_sts.parse_mta_sts_policy(o.text)


@check("mta-sts-policy", GROUP, "MTA-STS policy is served and in the declared mode", plan=_plan_sts_policy)
def judge_sts_policy(item: Item, obs) -> Verdict:
    m: MailExpectations = item.data
    o: FetchedPolicy = obs[key("mta-sts-policy", m.domain)]
    hint = (f"serve https://mta-sts.{m.domain}/.well-known/mta-sts.txt (200, text/plain, valid certificate) with "
            f"version: STSv1, mode: {m.mta_sts.mode}, one mx: line per MX host, max_age: >= {m.mta_sts.max_age_min}")
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


@_with_mail
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
    hosts = sorted(h for _, h in (_mx_set(mx) if mx.status == "ok" else set()) if h)
    if not hosts:
        return skipped("no MX hosts to cover")
    uncovered = [h for h in hosts if not cd_sts.mx_in_mta_sts_patterns(h, pol["mx"])]
    if uncovered:
        return failed(f"MX host(s) {', '.join(uncovered)} not matched by the policy's mx ({', '.join(pol['mx'])}): "
                      "senders enforcing MTA-STS will refuse to deliver to them",
                      "add mx: lines for " + ", ".join(uncovered) + " to the policy, then bump the _mta-sts id",
                      uncovered=uncovered, patterns=list(pol["mx"]))
    return passed(f"policy covers {', '.join(hosts)}", patterns=list(pol["mx"]))


@_with_mail
def _plan_rpt(exp: Expectations, m: MailExpectations):
    if m.tls_rpt_rua is None:
        return NotApplicable("TLS-RPT not declared", exp.domain)
    n = f"_smtp._tls.{m.domain}"
    return [Item(n, (key("rr", n, "TXT"),), data=m)]


@check("tls-rpt", GROUP, "TLS-RPT record is valid and reports go to the declared addresses", plan=_plan_rpt)
def judge_tls_rpt(item: Item, obs) -> Verdict:
    m: MailExpectations = item.data
    ans = obs[key("rr", item.target, "TXT")].checked()
    hint = f'publish {item.target} TXT "v=TLSRPTv1; rua={",".join(m.tls_rpt_rua) or "mailto:tls-reports@" + m.domain}"'
    recs = [t for t in ans.texts() if t.replace(" ", "").lower().startswith("v=tlsrptv1")]
    if len(recs) != 1:
        return failed(f"{len(recs) or 'no'} TLS-RPT record(s) at {item.target}", hint, records=recs)
    try:
        parsed = cd_rpt.parse_smtp_tls_reporting_record(recs[0])
    except cd_rpt.SMTPTLSReportingError as e:
        return failed(f"TLS-RPT record invalid: {e}", hint, record=recs[0])
    rua = parsed["tags"]["rua"]["value"]
    rua = [rua] if isinstance(rua, str) else list(rua)
    missing = [a for a in m.tls_rpt_rua if a.lower() not in [x.lower() for x in rua]]
    if missing:
        return failed(f"TLS-RPT rua lacks {', '.join(missing)}", hint, live=rua)
    return passed(f"TLS-RPT rua = {', '.join(rua)}", rua=rua)


# ------------------------------------------------------------------ non-sending names

def _plan_non_sending(kind: str):
    @_with_mail
    def plan(exp: Expectations, m: MailExpectations):
        if not m.non_sending:
            return NotApplicable("no non-sending names declared", exp.domain)
        items = []
        for n in m.non_sending:
            if kind == "mx":
                needs = (key("rr", n, "MX"),)
            elif kind == "spf":
                needs = (key("spf", n),)
            else:
                needs = (key("dmarc", n),) + ((key("dmarc", m.domain),) if n != m.domain else ())
            items.append(Item(n, needs, data=m))
        return items
    return plan


@check("non-sending-null-mx", GROUP, "Non-sending names publish a null MX (0 .)", plan=_plan_non_sending("mx"))
def judge_ns_mx(item: Item, obs) -> Verdict:
    ans = obs[key("rr", item.target, "MX")].checked()
    live = sorted(ans.records) if ans.status == "ok" else []
    if live == ["0 ."]:
        return passed("null MX (RFC 7505)")
    return failed(f"{item.target} MX is {', '.join(live) or 'absent'}; a name that never receives mail should say so",
                  f"publish {item.target} MX 0 . (and nothing else)", live=live)


@check("non-sending-spf", GROUP, "Non-sending names publish v=spf1 -all", plan=_plan_non_sending("spf"))
def judge_ns_spf(item: Item, obs) -> Verdict:
    o: SpfObservation = obs[key("spf", item.target)]
    hint = f'publish {item.target} TXT "v=spf1 -all"'
    if o.record is None:
        return failed(f"{item.target} has {len(o.records) or 'no'} SPF record(s): spoofers may send as it", hint,
                      records=list(o.records))
    if o.parsed and not o.parsed.get("mechanisms") and not o.parsed.get("redirect") and o.all_qualifier() == "-all":
        return passed("v=spf1 -all")
    return failed(f"{item.target} SPF is {o.record!r}; a non-sending name should authorise nobody", hint, record=o.record)


@check("non-sending-dmarc", GROUP, "Non-sending names are covered by DMARC p=reject", plan=_plan_non_sending("dmarc"))
def judge_ns_dmarc(item: Item, obs) -> Verdict:
    m: MailExpectations = item.data
    own: DmarcObservation = obs[key("dmarc", item.target)]
    hint = f'publish _dmarc.{item.target} TXT "v=DMARC1; p=reject"'
    if own.tags is not None:
        p, caveats = dmarc_effective(own)
        if p == "reject" and not caveats:
            return passed("own DMARC p=reject")
        return failed(f"_dmarc.{item.target} has p={p}" + "".join(f"; {c}" for c in caveats), hint, record=own.record)
    if item.target != m.domain:
        org: DmarcObservation = obs[key("dmarc", m.domain)]
        if org.tags is not None:
            sp, caveats = dmarc_effective(org, "sp")
            if sp == "reject" and not caveats:
                return passed(f"inherits sp=reject from _dmarc.{m.domain}")
            return failed(f"{item.target} inherits sp={sp} from _dmarc.{m.domain}" + "".join(f"; {c}" for c in caveats),
                          hint, record=org.record)
    return failed(f"no DMARC policy covers {item.target}", hint, own=own.records or own.answer_status,
                  organizational=f"_dmarc.{m.domain}")


CHECKS = checks_of(
    judge_spf_valid, judge_spf_lookups, judge_spf_all, judge_spf_providers,
    judge_dkim_present, judge_dkim_revoked, judge_dkim_strength, judge_dkim_key_match, judge_dkim_usable, judge_dkim_cname,
    judge_dmarc_record, judge_dmarc_policy, judge_dmarc_rua, judge_dmarc_auth,
    judge_mx, judge_mail_from_mx, judge_mx_hosts,
    judge_sts_record, judge_sts_policy, judge_sts_mx, judge_tls_rpt,
    judge_ns_mx, judge_ns_spf, judge_ns_dmarc,
)
