"""Mail section of the stack spec: who sends for the domain, and the records that prove it.

Providers come from a data catalog (mail_providers.yaml): adding a provider is adding data.
Everything here is derived from the spec alone; the only mail facts known after apply are the
SES Easy DKIM tokens, which infra turns into records from the identity's outputs.
"""
from __future__ import annotations

import functools
import hashlib
import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, Optional, Union

import yaml
from pydantic import AfterValidator, Field, StrictBool, model_validator

from .errors import parse_path
from .fields import Hostname, StrictInt, in_zone
from .model import Model
from .records import PlannedRecord

if TYPE_CHECKING:
    from .spec import Spec

CATALOG_FILE = Path(__file__).with_name("mail_providers.yaml")
SPF_LOOKUP_LIMIT = 10          # RFC 7208 §4.6.4
TXT_STRING_MAX = 255           # bytes per character-string (RFC 1035 §3.3)
NULL_MX = "."                  # RFC 7505: "0 ." = this name accepts no mail
# Cloudflare's documented placeholder for a proxied hostname that only a Worker answers.
WORKER_ONLY_AAAA = "100::"


# -- the provider catalog ----------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def catalog() -> dict:
    """The provider catalog, read once per process."""
    return yaml.safe_load(CATALOG_FILE.read_text())


def provider_ids() -> list[str]:
    return sorted(catalog()["providers"])


def spf_lookup_cost(include: str) -> Optional[int]:
    return catalog()["spf_lookups"].get(include)


_TEMPLATE = re.compile(r"\{(\w+)\}")


def _fill(template: str, values: dict[str, str]) -> str:
    # Defaults may themselves refer to other params (microsoft-365's selector targets), hence the loop.
    text = str(template)
    for _ in range(3):
        text = _TEMPLATE.sub(lambda m: values.get(m.group(1), m.group(0)), text)
    return text


def _relative(label: str, domain: str) -> str:
    """'@' → the domain itself; 'bounce' → bounce.<domain>."""
    return domain if label in ("@", "") else f"{label}.{domain}"


# -- small value types ---------------------------------------------------------------------------------

def _mailto(value: str) -> str:
    if not isinstance(value, str) or not re.match(r"^mailto:[^@\s,;!]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}(![0-9]+[kmgt]?)?$", value):
        raise ValueError("is not a mailto: URI (expected e.g. mailto:dmarc-reports@example.com)")
    return value


def _report_uri(value: str) -> str:
    if isinstance(value, str) and value.startswith("https://") and " " not in value and "," not in value:
        return value
    try:
        return _mailto(value)
    except ValueError:
        raise ValueError("is not a mailto: or https: URI (expected e.g. mailto:tls-reports@example.com)") from None


def _net(value: str, version: int) -> str:
    try:
        net = ipaddress.ip_network(str(value).strip(), strict=False)
    except ValueError:
        net = None
    if net is None or net.version != version:
        raise ValueError(f"is not a valid IPv{version} address or network")
    return str(net.network_address) if net.num_addresses == 1 else str(net)


MailtoUri = Annotated[str, AfterValidator(_mailto)]
ReportUri = Annotated[str, AfterValidator(_report_uri)]
Ip4Net = Annotated[str, AfterValidator(lambda v: _net(v, 4))]
Ip6Net = Annotated[str, AfterValidator(lambda v: _net(v, 6))]
DmarcPolicy = Literal["none", "quarantine", "reject"]


# -- the model -----------------------------------------------------------------------------------------

class Provider(Model):
    """One sending (or receiving) provider from the catalog, with its console-given parameters."""

    provider: str
    # The domain the provider sends as (its DKIM d= and SPF names); the apex unless given.
    domain: Optional[Hostname] = None
    params: dict[str, str] = Field(default_factory=dict)
    # Override the catalog's default for optional SPF includes (see mail_providers.yaml).
    spf_include: Optional[StrictBool] = None
    # Publish the provider's inbound MX at its domain (the domain receives mail there).
    inbound: StrictBool = False

    @model_validator(mode="after")
    def _against_catalog(self):
        entry = catalog()["providers"].get(self.provider)
        if entry is None:
            import difflib

            # Other names people use for a provider, then near-misses (sendgird → sendgrid).
            alias = (catalog().get("aliases") or {}).get(self.provider.lower())
            guess = [alias] if alias else difflib.get_close_matches(self.provider.lower(), provider_ids(), n=1, cutoff=0.75)
            hint = f"did you mean {guess[0]!r}? " if guess else ""
            raise ValueError(f"provider: {self.provider!r} is not in the catalog ({hint}expected one of: {', '.join(provider_ids())})")
        params = entry.get("params", {})
        problems = []
        for name in self.params:
            if name not in params:
                problems.append(f"params.{name}: unknown parameter for {self.provider} (expected one of: {', '.join(params)})")
        for name, meta in params.items():
            meta = meta or {}
            if name not in self.params:
                if "default" not in meta:
                    problems.append(f"params.{name}: is required by {self.provider} ({meta.get('doc', 'see the provider console')})")
                continue
            pattern = meta.get("pattern")
            if pattern and not re.search(pattern, self.params[name]):
                # Never echo the value: DKIM keys are public, but a param may be pasted wrongly.
                problems.append(f"params.{name}: does not look like {meta.get('doc', 'the expected value')}")
        if self.inbound and not entry.get("mx"):
            problems.append(f"inbound: {self.provider} receives no mail (the catalog lists no MX for it)")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def entry(self) -> dict:
        return catalog()["providers"][self.provider]

    @property
    def name(self) -> str:
        return self.provider

    @property
    def managed(self) -> Optional[str]:
        return self.entry.get("managed")

    def values(self, domain: str) -> dict[str, str]:
        meta = self.entry.get("params", {})
        values = {k: str((m or {}).get("default", "")) for k, m in meta.items()}
        values.update(self.params)
        values.update(domain=domain, domainDashed=domain.replace(".", "-"))
        return {k: _fill(v, values) for k, v in values.items()}


class SpfInclude(Model):
    domain: Hostname
    lookups: StrictInt = Field(ge=1, le=10)


class Spf(Model):
    """Extra SPF terms at the apex; the provider includes are added from the catalog."""

    # -all unless the spec says so: ~all (softfail) is for a rollout, and policies flag it in production.
    all: Literal["-all", "~all"] = "-all"
    ip4: list[Ip4Net] = Field(default_factory=list)
    ip6: list[Ip6Net] = Field(default_factory=list)
    # A known include by name, or {domain, lookups} for one the catalog does not know.
    include: list[Union[Hostname, SpfInclude]] = Field(default_factory=list)


class Dmarc(Model):
    policy: DmarcPolicy = "reject"
    subdomain_policy: Optional[DmarcPolicy] = None
    rua: list[MailtoUri] = Field(default_factory=list)
    ruf: list[MailtoUri] = Field(default_factory=list)
    adkim: Literal["r", "s"] = "r"
    aspf: Literal["r", "s"] = "r"
    pct: StrictInt = Field(default=100, ge=0, le=100, description="percent, 0..100, without %")
    # p=none only while rolling out (watching rua reports before enforcing); say so explicitly.
    staged_rollout: StrictBool = False

    @model_validator(mode="after")
    def _staged(self):
        if "none" in (self.policy, self.subdomain_policy) and not self.staged_rollout:
            key = "policy" if self.policy == "none" else "subdomainPolicy"
            raise ValueError(f"{key}: 'none' is allowed only during a staged rollout (set stagedRollout: true)")
        return self

    def value(self) -> str:
        parts = ["v=DMARC1", f"p={self.policy}"]
        if self.subdomain_policy:
            parts.append(f"sp={self.subdomain_policy}")
        parts += [f"adkim={self.adkim}", f"aspf={self.aspf}"]
        if self.pct != 100:
            parts.append(f"pct={self.pct}")
        if self.rua:
            parts.append("rua=" + ",".join(self.rua))
        if self.ruf:
            parts += ["ruf=" + ",".join(self.ruf), "fo=1"]
        return "; ".join(parts)


class Mx(Model):
    host: Hostname
    priority: StrictInt = Field(default=10, ge=0, le=65535)


class MtaSts(Model):
    """MTA-STS (RFC 8461): the policy is served by a Cloudflare Worker at mta-sts.<domain>."""

    mode: Literal["enforce", "testing", "none"] = "enforce"
    max_age: StrictInt = Field(default=604800, ge=86400, le=31557600, description="seconds, e.g. 604800")
    # mx patterns of the policy; by default the apex MX hosts.
    mx: list[str] = Field(default_factory=list)
    # The Cloudflare account the Worker runs in (defaults to zone.accountId).
    account_id: Optional[str] = Field(default=None, pattern=r"^[0-9a-f]{32}$")


class TlsRpt(Model):
    rua: list[ReportUri] = Field(min_length=1)


class Mail(Model):
    providers: list[Provider] = Field(default_factory=list)
    spf: Spf = Spf()
    dmarc: Dmarc = Dmarc()
    mx: list[Mx] = Field(default_factory=list)
    mta_sts: Optional[MtaSts] = None
    tls_rpt: Optional[TlsRpt] = None
    # Names that never send mail (parked subdomains, web-only hosts): null MX, -all, p=reject.
    non_sending: list[Hostname] = Field(default_factory=list)

    # -- derived facts -------------------------------------------------------------------------------
    def plan(self, spec: "Spec") -> "MailPlan":
        return MailPlan.build(self, spec)

    def records(self, spec: "Spec") -> list[PlannedRecord]:
        return self.plan(spec).records

    def problems(self, spec: "Spec") -> list[tuple[tuple, str]]:
        return self.plan(spec).problems


# -- the plan: records and problems, derived together ----------------------------------------------------

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
    mta_sts_policy: Optional[str] = None
    mta_sts_id: Optional[str] = None
    mta_sts_account_id: Optional[str] = None

    @property
    def primary_ses_domain(self) -> Optional[str]:
        """The SES identity whose DKIM tokens the stack exports (sesDkimTokens): the apex, or the first."""
        domains = [d for _, _, d in self.ses]
        return self.domain if self.domain in domains else (domains[0] if domains else None)

    @classmethod
    def build(cls, mail: Mail, spec: "Spec") -> "MailPlan":
        plan = cls(spec.domain)
        plan._providers(mail, spec)
        plan._spf(mail, spec)
        plan._dmarc(mail)
        plan._mta_sts(mail, spec)
        plan._non_sending(mail, spec)
        plan._declared_duplicates(spec)
        return plan

    def _declared_duplicates(self, spec: "Spec") -> None:
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

    def _add(self, name: str, type_: str, content: str, source: str, comment: str,
             priority: Optional[int] = None, proxied: bool = False) -> None:
        if type_ == "TXT":
            content = txt_content(content)
        self.records.append(PlannedRecord(name=name, type=type_, content=content, priority=priority,
                                          proxied=proxied, source=source, comment=comment))

    def _providers(self, mail: Mail, spec: "Spec") -> None:
        claimed: dict[str, str] = {}
        for i, p in enumerate(mail.providers):
            src = f"mail.providers[{i}]"
            domain = p.domain or spec.domain
            if not in_zone(domain, spec.domain):
                self.problems.append(((*parse_path(src), "domain"), f"{domain!r} is outside the apex domain {spec.domain!r}"))
                continue
            values = p.values(domain)
            title = p.entry.get("title", p.provider)
            for pname, meta in (p.entry.get("params") or {}).items():
                unless = (meta or {}).get("defaultUnless")
                if unless and unless in domain and pname not in p.params:
                    self.problems.append(((*parse_path(src), "params", pname),
                                          f"is required for {p.provider} when the domain contains {unless!r} ({domain}): "
                                          f"copy {meta.get('doc', 'the value the provider shows')}"))
            for d in p.entry.get("dkim", []) or []:
                selector = _fill(d["selector"], values)
                name = f"{selector}._domainkey.{domain}"
                if name in claimed:
                    self.problems.append((parse_path(src), f"DKIM selector {selector!r} ({name}) is already claimed by {claimed[name]}"))
                    continue
                claimed[name] = f"{src} ({p.provider})"
                content = _fill(d["content"], values)
                self.dkim.append(DkimPlan(p.provider, selector, name, d["type"], content, src))
                self._add(name, d["type"], content, src, f"DKIM for {title}")
            for r in p.entry.get("records", []) or []:
                if r.get("when") and not values.get(r["when"]):
                    continue
                self._add(_relative(_fill(r["name"], values), domain), r["type"], _fill(r["content"], values), src,
                          f"{title}: {'return path' if r['type'] == 'CNAME' else 'MAIL FROM feedback'}", r.get("priority"))
            if p.inbound:
                for m in p.entry.get("mx", []) or []:
                    host = _fill(m["host"], values)
                    if domain == spec.domain:
                        self.mx.append((int(m["priority"]), host))
                    self._add(domain, "MX", host, src, f"inbound mail via {title}", int(m["priority"]))
            if p.managed == "ses":
                self.ses.append((i, p, domain))
        for j, m in enumerate(mail.mx):
            self.mx.append((m.priority, m.host))
            self._add(spec.domain, "MX", m.host, f"mail.mx[{j}]", "inbound mail", m.priority)

    def _spf(self, mail: Mail, spec: "Spec") -> None:
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
                name = _relative(_fill(s["name"], values), domain)
                inc = s["include"]
                term = SpfTerm(f"include:{inc}", spf_lookup_cost(inc) or 1, f"mail.providers[{i}] {p.provider}")
                if term.term not in {t.term for t in terms.setdefault(name, [])}:
                    terms[name].append(term)
        apex = terms[spec.domain]
        apex[:0] = [SpfTerm(f"ip4:{n}", 0, "mail.spf") for n in mail.spf.ip4] + [SpfTerm(f"ip6:{n}", 0, "mail.spf") for n in mail.spf.ip6]
        for k, inc in enumerate(mail.spf.include):
            domain, cost = (inc.domain, inc.lookups) if isinstance(inc, SpfInclude) else (inc, spf_lookup_cost(inc))
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

    def _dmarc(self, mail: Mail) -> None:
        self._add(f"_dmarc.{self.domain}", "TXT", mail.dmarc.value(), "mail.dmarc", f"DMARC p={mail.dmarc.policy}")

    def _mta_sts(self, mail: Mail, spec: "Spec") -> None:
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

    def _non_sending(self, mail: Mail, spec: "Spec") -> None:
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


def txt_content(value: str) -> str:
    """Cloudflare TXT content: as is when it fits one string, else 255-byte quoted strings."""
    data = value.encode()
    if len(data) <= TXT_STRING_MAX and '"' not in value:
        return value
    chunks = [data[i:i + TXT_STRING_MAX].decode() for i in range(0, len(data), TXT_STRING_MAX)]
    return " ".join('"' + c.replace("\\", "\\\\").replace('"', '\\"') + '"' for c in chunks)


def txt_value(content: str) -> str:
    """The inverse of txt_content: what a resolver hands back joined."""
    if not content.startswith('"'):
        return content
    return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', content)).replace('\\"', '"').replace("\\\\", "\\")

