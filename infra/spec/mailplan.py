"""The mail section (Mail; its parts are in mailspec.py) and its plan: every record the section
publishes, and the problems found while deriving them (SPF over the lookup limit, a DKIM selector
claimed twice, a second SPF record), together.

Everything here is derived from the spec alone; the only mail facts known after apply are the
SES Easy DKIM tokens, which infra turns into records from the identity's outputs. A Spec derives
its plan once (Spec.mail_plan); every reader shares that one plan, so it is never changed after build.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from pydantic import Field

from .errors import parse_path
from .fields import Hostname, in_zone
from .mailcatalog import fill, relative, spf_lookup_cost
from .mailspec import Dmarc, MtaSts, Mx, Provider, Spf, TlsRpt
from .model import Model, SpecView
from .records import PlannedRecord, txt_content, txt_value

SPF_LOOKUP_LIMIT = 10          # RFC 7208 §4.6.4
NULL_MX = "."                  # RFC 7505: "0 ." = this name accepts no mail
# Cloudflare's documented placeholder for a proxied hostname that only a Worker answers.
WORKER_ONLY_AAAA = "100::"


@dataclass(frozen=True)
class SpfTerm:
    term: str                   # include:_spf.google.com, ip4:203.0.113.0/24
    lookups: int
    source: str                 # mail.providers[0] (google-workspace), mail.spf


@dataclass(frozen=True)
class SpfPlan:
    name: str
    terms: tuple[SpfTerm, ...]
    all: str

    @property
    def value(self) -> str:
        return " ".join(["v=spf1", *(t.term for t in self.terms), self.all])

    @property
    def lookups(self) -> int:
        return sum(t.lookups for t in self.terms)

    @property
    def includes(self) -> list[str]:
        return [t.term.split(":", 1)[1] for t in self.terms if t.term.startswith("include:")]


@dataclass(frozen=True)
class DkimPlan:
    provider: str
    selector: str
    name: str
    type: str                   # TXT (a key) or CNAME (delegated to the provider)
    content: str
    source: str


@dataclass
class MailPlan:
    domain: str
    records: list[PlannedRecord] = field(default_factory=list)
    problems: list[tuple[tuple, str]] = field(default_factory=list)
    spf: dict[str, SpfPlan] = field(default_factory=dict)
    dkim: list[DkimPlan] = field(default_factory=list)
    mx: list[tuple[int, str]] = field(default_factory=list)           # apex inbound MX
    ses: list[tuple[int, Provider, str]] = field(default_factory=list)  # (index, provider, sending domain)
    mta_sts_policy: str | None = None
    mta_sts_id: str | None = None
    mta_sts_account_id: str | None = None

    @property
    def primary_ses_domain(self) -> str | None:
        """The SES identity whose DKIM tokens the stack exports (sesDkimTokens): the apex, or the first."""
        domains = [d for _, _, d in self.ses]
        return self.domain if self.domain in domains else (domains[0] if domains else None)

    @classmethod
    def build(cls, mail: Mail, spec: SpecView) -> MailPlan:
        """Derive the plan. Readers use spec.mail_plan, which calls this once per Spec."""
        plan = cls(spec.domain)
        plan._providers(mail, spec)
        plan._spf(mail, spec)
        plan._dmarc(mail)
        plan._mta_sts(mail, spec)
        plan._non_sending(mail, spec)
        plan._declared_duplicates(spec)
        return plan

    def _add(self, name: str, type_: str, content: str, source: str, comment: str,
             priority: int | None = None, proxied: bool = False) -> None:
        if type_ == "TXT":
            content = txt_content(content)
        self.records.append(PlannedRecord(name=name, type=type_, content=content, priority=priority,
                                          proxied=proxied, source=source, comment=comment))

    # -- providers: DKIM, return path, inbound MX ----------------------------------------------------

    def _providers(self, mail: Mail, spec: SpecView) -> None:
        claimed: dict[str, str] = {}
        for i, p in enumerate(mail.providers):
            src = f"mail.providers[{i}]"
            domain = p.domain or spec.domain
            if not in_zone(domain, spec.domain):
                self.problems.append(((*parse_path(src), "domain"), f"{domain!r} is outside the apex domain {spec.domain!r}"))
                continue
            values = p.values(domain)
            self._required_params(p, src, domain)
            self._provider_dkim(p, src, domain, values, claimed)
            self._provider_records(p, src, domain, values, spec)
            if p.managed == "ses":
                self.ses.append((i, p, domain))
        for j, m in enumerate(mail.mx):
            self.mx.append((m.priority, m.host))
            self._add(spec.domain, "MX", m.host, f"mail.mx[{j}]", "inbound mail", m.priority)

    def _required_params(self, p: Provider, src: str, domain: str) -> None:
        """Parameters whose catalog default does not hold for this domain (defaultUnless)."""
        for pname, meta in (p.entry.get("params") or {}).items():
            unless = (meta or {}).get("defaultUnless")
            if unless and unless in domain and pname not in p.params:
                self.problems.append(((*parse_path(src), "params", pname),
                                      f"is required for {p.provider} when the domain contains {unless!r} ({domain}): "
                                      f"copy {meta.get('doc', 'the value the provider shows')}"))

    def _provider_dkim(self, p: Provider, src: str, domain: str, values: dict[str, str],
                       claimed: dict[str, str]) -> None:
        title = p.entry.get("title", p.provider)
        for d in p.entry.get("dkim", []) or []:
            selector = fill(d["selector"], values)
            name = f"{selector}._domainkey.{domain}"
            if name in claimed:
                self.problems.append((parse_path(src), f"DKIM selector {selector!r} ({name}) is already claimed by {claimed[name]}"))
                continue
            claimed[name] = f"{src} ({p.provider})"
            content = fill(d["content"], values)
            self.dkim.append(DkimPlan(p.provider, selector, name, d["type"], content, src))
            self._add(name, d["type"], content, src, f"DKIM for {title}")

    def _provider_records(self, p: Provider, src: str, domain: str, values: dict[str, str], spec: SpecView) -> None:
        """The provider's return-path/feedback records, and its inbound MX when it receives mail."""
        title = p.entry.get("title", p.provider)
        for r in p.entry.get("records", []) or []:
            if r.get("when") and not values.get(r["when"]):
                continue
            self._add(relative(fill(r["name"], values), domain), r["type"], fill(r["content"], values), src,
                      f"{title}: {'return path' if r['type'] == 'CNAME' else 'MAIL FROM feedback'}", r.get("priority"))
        if p.inbound:
            for m in p.entry.get("mx", []) or []:
                host = fill(m["host"], values)
                if domain == spec.domain:
                    self.mx.append((int(m["priority"]), host))
                self._add(domain, "MX", host, src, f"inbound mail via {title}", int(m["priority"]))

    # -- SPF -----------------------------------------------------------------------------------------

    def _spf(self, mail: Mail, spec: SpecView) -> None:
        terms = _provider_spf_terms(mail, spec)
        apex = terms[spec.domain]
        apex[:0] = [SpfTerm(f"ip4:{n}", 0, "mail.spf") for n in mail.spf.ip4] + [SpfTerm(f"ip6:{n}", 0, "mail.spf") for n in mail.spf.ip6]
        for k, inc in enumerate(mail.spf.include):
            # A known include by name (a string), or {domain, lookups} for one the catalog does not know.
            domain, cost = (inc, spf_lookup_cost(inc)) if isinstance(inc, str) else (inc.domain, inc.lookups)
            if cost is None:
                self.problems.append((("mail", "spf", "include", k),
                                      f"{domain!r} has no known SPF lookup cost: write {{domain: {domain}, lookups: N}}"))
                cost = 1
            if f"include:{domain}" not in {t.term for t in apex}:
                apex.append(SpfTerm(f"include:{domain}", cost, "mail.spf"))
        for name, ts in terms.items():
            # Only the apex gets -all/~all from the spec; a MAIL FROM name is only ever an envelope.
            plan = SpfPlan(name, tuple(ts), mail.spf.all if name == spec.domain else "-all")
            self.spf[name] = plan
            if plan.lookups > SPF_LOOKUP_LIMIT:
                who = ", ".join(f"{t.term} {t.lookups} ({t.source})" for t in ts if t.lookups)
                self.problems.append((("mail", "spf"),
                                      f"SPF at {name} needs {plan.lookups} DNS lookups, more than the {SPF_LOOKUP_LIMIT} allowed: {who}"))
            self._add(name, "TXT", plan.value, "mail.spf", f"SPF ({plan.lookups} lookups)")

    # -- DMARC, MTA-STS, TLS-RPT, non-sending names ---------------------------------------------------

    def _dmarc(self, mail: Mail) -> None:
        self._add(f"_dmarc.{self.domain}", "TXT", mail.dmarc.value(), "mail.dmarc", f"DMARC p={mail.dmarc.policy}")

    def _mta_sts(self, mail: Mail, spec: SpecView) -> None:
        if mail.mta_sts is None:
            if mail.tls_rpt is not None:
                self._tls_rpt(mail)
            return
        sts = mail.mta_sts
        patterns = sts.mx or [h for _, h in sorted(self.mx)]
        if not patterns:
            self.problems.append((("mail", "mtaSts"), "needs inbound MX hosts (mail.mx, or a provider with inbound: true): MTA-STS protects mail sent to the domain"))
        self.mta_sts_account_id = sts.account_id or spec.zone.account_id
        if not self.mta_sts_account_id:
            self.problems.append((("mail", "mtaSts", "accountId"), "is required (or zone.accountId): the Cloudflare account the policy Worker runs in"))
        host = f"mta-sts.{spec.domain}"
        if spec.host(host) is not None:
            self.problems.append((("mail", "mtaSts"), f"{host!r} is among hosts; MTA-STS serves its policy there from a Worker"))
        lines = ["version: STSv1", f"mode: {sts.mode}", *(f"mx: {p}" for p in patterns), f"max_age: {sts.max_age}"]
        # RFC 8461 §3.2: CRLF-separated key/value lines.
        self.mta_sts_policy = "\r\n".join(lines) + "\r\n"
        # The id must change whenever the policy does; a digest of the policy does exactly that.
        self.mta_sts_id = hashlib.sha256(self.mta_sts_policy.encode()).hexdigest()[:20]
        self._add(f"_mta-sts.{spec.domain}", "TXT", f"v=STSv1; id={self.mta_sts_id}", "mail.mtaSts", "MTA-STS policy id")
        self._add(host, "AAAA", WORKER_ONLY_AAAA, "mail.mtaSts",
                  "MTA-STS policy host: proxied placeholder, the Worker answers", proxied=True)
        if mail.tls_rpt is not None:
            self._tls_rpt(mail)

    def _tls_rpt(self, mail: Mail) -> None:
        self._add(f"_smtp._tls.{self.domain}", "TXT", "v=TLSRPTv1; rua=" + ",".join(mail.tls_rpt.rua), "mail.tlsRpt", "TLS-RPT")

    def _non_sending(self, mail: Mail, spec: SpecView) -> None:
        senders = {p.domain or spec.domain for p in mail.providers} | {spec.domain}
        for i, name in enumerate(mail.non_sending):
            src = f"mail.nonSending[{i}]"
            if not in_zone(name, spec.domain):
                self.problems.append((("mail", "nonSending", i), f"{name!r} is outside the apex domain {spec.domain!r}"))
                continue
            if name in senders or name in self.spf:
                self.problems.append((("mail", "nonSending", i), f"{name!r} sends mail (it is a provider's domain or carries SPF)"))
                continue
            self._add(name, "MX", NULL_MX, src, "never receives mail (null MX, RFC 7505)", 0)
            self._add(name, "TXT", "v=spf1 -all", src, "never sends mail")
            self._add(f"_dmarc.{name}", "TXT", "v=DMARC1; p=reject", src, "never sends mail: reject anything claiming it")

    def _declared_duplicates(self, spec: SpecView) -> None:
        """A hand-written SPF/DMARC/MTA-STS/TLS-RPT record where mail builds one: two records is a permerror."""
        kinds = {"v=spf1": "SPF", "v=dmarc1": "DMARC", "v=stsv1": "MTA-STS", "v=tlsrptv1": "TLS-RPT"}
        ours = {(r.name, kind) for r in self.records if r.type == "TXT"
                for tag, kind in kinds.items() if txt_value(r.content).lower().startswith(tag)}
        for i, rec in enumerate(spec.records):
            if rec.type != "TXT":
                continue
            kind = next((k for tag, k in kinds.items() if txt_value(rec.content).lower().startswith(tag)), None)
            if kind and (rec.name, kind) in ours:
                where = "add terms under mail.spf" if kind == "SPF" else "declare it under mail"
                self.problems.append((("records", i, "content"),
                                      f"a second {kind} record at {rec.name}; mail builds the one {kind} record there ({where})"))


def _provider_spf_terms(mail: Mail, spec: SpecView) -> dict[str, list[SpfTerm]]:
    """SPF includes the providers need, by the name that carries them (the apex or a MAIL FROM name)."""
    terms: dict[str, list[SpfTerm]] = {spec.domain: []}
    for i, p in enumerate(mail.providers):
        domain = p.domain or spec.domain
        if not in_zone(domain, spec.domain):
            continue
        values = p.values(domain)
        for s in p.entry.get("spf", []) or []:
            wanted = s.get("default", True) if p.spf_include is None else p.spf_include
            if not wanted:
                continue
            name = relative(fill(s["name"], values), domain)
            inc = s["include"]
            term = SpfTerm(f"include:{inc}", spf_lookup_cost(inc) or 1, f"mail.providers[{i}] {p.provider}")
            if term.term not in {t.term for t in terms.setdefault(name, [])}:
                terms[name].append(term)
    return terms


# -- the section itself --------------------------------------------------------------------------------
# Here, above its parts (mailspec.py) and beside its plan, so the plan reads the section's own type
# and the section hands out its plan without either importing the other.

class Mail(Model):
    providers: list[Provider] = Field(default_factory=list)
    spf: Spf = Spf()
    dmarc: Dmarc = Dmarc()
    mx: list[Mx] = Field(default_factory=list)
    mta_sts: MtaSts | None = None
    tls_rpt: TlsRpt | None = None
    # Names that never send mail (parked subdomains, web-only hosts): null MX, -all, p=reject.
    non_sending: list[Hostname] = Field(default_factory=list)

    # -- derived facts: one plan per Spec (Spec.mail_plan), shared by every reader ------------------
    def plan(self, spec: SpecView) -> MailPlan:
        """The mail plan of `spec`: the Spec's own cached plan when this is its mail section."""
        if getattr(spec, "mail", None) is self:
            cached = getattr(spec, "mail_plan", None)
            if cached is not None:
                return cached
        return MailPlan.build(self, spec)

    def records(self, spec: SpecView) -> list[PlannedRecord]:
        return list(self.plan(spec).records)  # a list of its own: the plan is shared

    def problems(self, spec: SpecView) -> list[tuple[tuple, str]]:
        return list(self.plan(spec).problems)
