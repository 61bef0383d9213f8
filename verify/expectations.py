"""What verify expects, as plain frozen dataclasses: a thin adapter over the stack spec.

Judges depend on these, never on the pydantic model, so a spec refactor touches only `from_spec`.
DNS records come from the launch contract (infra.contract.build_contract, which infra exports as
`launchContract`), so infra and verify cannot disagree about what the zone should contain. Facts
known only after apply come from the `pulumi stack output --json` file, under the names infra
exports (infra/program.py): `sesDkimTokens` and `nameServers`.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from infra.contract import build_contract
from infra.knowledge.mailrecords import dkim_tags
from infra.spec.records import is_per_tenant

from .awsexpect import AwsExpectations, aws_from_spec
from .portalexpect import PortalExpectations, portal_from_spec
from .tenantexpect import TenantGroupExpectation, tenants_from_contract
from .webexpect import WebExpectations, web_from_spec


@dataclass(frozen=True)
class ExpectedRecord:
    name: str
    type: str
    content: str
    ttl: int = 1  # 1 = automatic (Cloudflare picks; 300 s)
    proxied: bool = False
    priority: int | None = None
    source: str = ""


@dataclass(frozen=True)
class SpfExpectation:
    name: str                       # where the SPF TXT lives (apex, MAIL FROM subdomain)
    includes: tuple[str, ...]       # include: domains, exactly these providers
    all: str = "-all"               # "-all" or "~all" (only where the spec says so)
    other_terms: tuple[str, ...] = ()  # declared ip4:/ip6:/a/mx terms, if any


@dataclass(frozen=True)
class DkimExpectation:
    selector: str
    name: str                       # <selector>._domainkey.<domain>
    provider: str = ""
    cname_target: str | None = None  # e.g. <token>.dkim.amazonses.com (SES Easy DKIM)
    public_key: str | None = None    # the p= the spec declares, when it declares one


@dataclass(frozen=True)
class DmarcExpectation:
    policy: str = "reject"          # none | quarantine | reject: the live policy must be at least this
    subdomain_policy: str | None = None
    rua: tuple[str, ...] = ()       # mailto: URIs
    ruf: tuple[str, ...] = ()
    pct: int = 100
    adkim: str | None = None
    aspf: str | None = None


@dataclass(frozen=True)
class MtaStsExpectation:
    mode: str = "enforce"
    mx: tuple[str, ...] = ()        # declared policy mx patterns (may be empty: derive from MX)
    max_age_min: int = 86400


@dataclass(frozen=True)
class MailExpectations:
    domain: str
    spf: tuple[SpfExpectation, ...] = ()
    dkim: tuple[DkimExpectation, ...] = ()
    dmarc: DmarcExpectation | None = None
    mx: tuple[tuple[int, str], ...] = ()      # (preference, host); empty: domain receives no mail here
    mta_sts: MtaStsExpectation | None = None
    tls_rpt_rua: tuple[str, ...] | None = None  # None: TLS-RPT not declared
    non_sending: tuple[str, ...] = ()
    ses_dkim_pending: bool = False  # SES is declared but no tokens were given (--outputs)
    # Provider MX at subdomains (SES MAIL FROM feedback, a provider's inbound subdomain): (name, pref, host)
    mail_from_mx: tuple[tuple[str, int, str], ...] = ()


@dataclass(frozen=True)
class Expectations:
    stack: str
    domain: str
    records: tuple[ExpectedRecord, ...] = ()   # edge records judged by dns-record-* checks
    caa_issuers: tuple[str, ...] = ()
    caa_forbid_wildcard: bool = False
    dnssec: bool = False
    nameservers: tuple[str, ...] = ()          # expected NS set (declared or from outputs)
    mail: MailExpectations | None = None
    mta_sts_policy_url: str | None = None
    # DNS-only values the contract publishes that are not in `records` (the mail section's, judged
    # by the mail checks): (name, type, content; MX as "priority host"). dns-record-content compares
    # a live set with every value declared at its name and type, so an apex TXT declared beside the
    # mail section's SPF is not an "extra" value.
    other_declared: tuple[tuple[str, str, str], ...] = ()
    web: WebExpectations | None = None          # hosts, redirects, TLS, headers, flows (verify.webexpect)
    portal: PortalExpectations | None = None    # the portal's accounts, orgs and journeys (verify.portalexpect)
    aws: AwsExpectations | None = None          # secrets, env contract, monitors, account (verify.awsexpect)
    tenants: tuple[TenantGroupExpectation, ...] = ()  # tenant host groups, swept host by host (verify.tenantexpect)

    def with_mail(self, mail: MailExpectations | None) -> Expectations:
        return replace(self, mail=mail)


# ------------------------------------------------------------------------------ outputs

class OutputsError(ValueError):
    pass


# The outputs verify reads (infra/program.py exports them under exactly these names): lists of strings.
OUTPUT_NAMES = ("sesDkimTokens", "nameServers")
MASKED = "[secret]"  # what `pulumi stack output --json` prints for a secret output without --show-secrets


def read_outputs(path: str | Path | None) -> dict[str, Any]:
    """The JSON of `pulumi stack output --json`. Values are never echoed in errors (they may be secret)."""
    if path is None:
        return {}
    shown = repr(str(path))
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise OutputsError(f"cannot read --outputs file {shown}: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise OutputsError(f"--outputs file {shown} is not UTF-8 text (byte {e.start})") from None
    try:
        data = json.loads(text)
    except ValueError as e:
        raise OutputsError(f"--outputs file {shown} is not JSON (line {getattr(e, 'lineno', '?')})") from None
    if not isinstance(data, dict):
        raise OutputsError(f"--outputs file {shown} must hold a JSON object (pulumi stack output --json)")
    check_outputs(data, f"--outputs file {shown}")
    return data


def check_outputs(outputs: Mapping[str, Any], where: str = "stack outputs") -> None:
    """Raise OutputsError unless every output verify reads is a list of strings, unmasked.

    A masked value ("[secret]") must never become an expectation: it would be judged as a DKIM
    selector or a nameserver called "[secret]".
    """
    for name in OUTPUT_NAMES:
        if name not in outputs:
            continue
        v = outputs[name]
        if v == MASKED or (isinstance(v, list) and MASKED in v):
            raise OutputsError(f"{where}: {name} is masked ({MASKED!r}); re-run "
                               "`pulumi stack output --json --show-secrets` to give verify its value")
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            got = type(v).__name__ if not isinstance(v, list) else "a list with " + ", ".join(
                sorted({type(x).__name__ for x in v if not isinstance(x, str)}))
            raise OutputsError(f"{where}: {name} must be a list of strings (got {got})")


def _names(outputs: Mapping[str, Any], name: str) -> list[str]:
    check_outputs(outputs)
    return list(outputs.get(name) or [])


def ses_tokens(outputs: Mapping[str, Any]) -> tuple[str, ...]:
    """The SES Easy DKIM tokens infra exports as `sesDkimTokens` (infra/program.py)."""
    return tuple(t.strip().lower() for t in _names(outputs, "sesDkimTokens") if t.strip())


# ------------------------------------------------------------------------------ from the spec

def _norm(name: str) -> str:
    return str(name).strip().rstrip(".").lower()


def contract_records(spec: Any) -> list[Mapping[str, Any]]:
    """The records infra publishes, from the launch contract (infra.contract.build_contract)."""
    return list(build_contract(spec)["records"])


def from_spec(spec: Any, *, stack: str = "", outputs: Mapping[str, Any] | None = None) -> Expectations:
    outputs = outputs or {}
    domain = _norm(spec.domain)
    records: list[ExpectedRecord] = []
    caa_issuers: list[str] = []
    forbid_wild = False
    mail_from_mx: list[tuple[str, int, str]] = []
    other: list[tuple[str, str, str]] = []
    contract = build_contract(spec)
    for r in contract["records"]:
        source = str(r["source"] or "")
        rtype = str(r["type"]).upper()
        content = str(r["content"])
        if rtype == "CAA":
            parts = content.split(None, 2)
            if len(parts) == 3 and parts[1] == "issue":
                caa_issuers.append(parts[2].strip('"').split(";")[0].strip().lower())
            elif len(parts) == 3 and parts[1] == "issuewild" and parts[2].strip('"').strip() == ";":
                forbid_wild = True
            continue
        if is_per_tenant(source, str(r["name"])):
            continue  # one record per tenant of an explicit group: swept and summarised by the tenant checks
        name = _norm(r["name"])
        value = (name, rtype, f"{r['priority'] or 0} {content}" if rtype == "MX" else content)
        if source.startswith("mail.providers") and rtype == "MX" and name != domain and content.strip().rstrip("."):
            # MAIL FROM (bounce) MX: judged by mail-from-mx (null MX and alias checks, one finding)
            mail_from_mx.append((name, int(r["priority"] or 0), _norm(content)))
            other.append(value)
            continue
        if source.startswith("mail"):
            # Mail records are judged by the mail checks (one finding per problem), except the
            # provider records no mail check covers: MAIL FROM MX/SPF-less names, return-path CNAMEs.
            judged_by_mail = (not source.startswith("mail.providers") or "._domainkey." in name
                              or (rtype == "MX" and name == domain))
            if judged_by_mail:
                if not r["proxied"]:
                    other.append(value)
                continue
        records.append(ExpectedRecord(
            name=name, type=rtype, content=content, ttl=int(r["ttl"] or 1), proxied=bool(r["proxied"]),
            priority=r["priority"], source=source,
        ))
    # The expected NS set is known only after apply (the zone's nameServers output).
    ns = _names(outputs, "nameServers")
    return Expectations(
        stack=stack, domain=domain, records=tuple(records), caa_issuers=tuple(caa_issuers),
        caa_forbid_wildcard=forbid_wild, dnssec=bool(getattr(spec, "dnssec", False)),
        nameservers=tuple(sorted(_norm(n) for n in ns)), other_declared=tuple(other),
        mail=_with_mail_from_mx(mail_from_spec(spec, outputs), mail_from_mx),
        web=web_from_spec(spec, contract), portal=portal_from_spec(spec), aws=aws_from_spec(spec, stack, contract),
        tenants=tenants_from_contract(contract),
    )


def _with_mail_from_mx(mail: MailExpectations | None, mx: list) -> MailExpectations | None:
    if mail is None:
        return None
    return replace(mail, mail_from_mx=tuple(sorted(set(mx))))


_DMARC_RANK = {"none": 0, "quarantine": 1, "reject": 2}


def mail_from_spec(spec: Any, outputs: Mapping[str, Any]) -> MailExpectations | None:
    """From the spec's own mail plan (infra.spec.mailplan.MailPlan): the records infra publishes."""
    mail = getattr(spec, "mail", None)
    if mail is None:
        return None
    domain = _norm(spec.domain)
    plan = mail.plan(spec)
    spf = tuple(
        SpfExpectation(name=_norm(name), includes=tuple(_norm(i) for i in p.includes), all=p.all,
                       other_terms=tuple(t.term for t in p.terms if not t.term.startswith("include:")))
        for name, p in plan.spf.items())
    dkim: list[DkimExpectation] = []
    for d in plan.dkim:
        if d.type == "CNAME":
            dkim.append(DkimExpectation(selector=d.selector, name=_norm(d.name), provider=d.provider,
                                        cname_target=_norm(d.content)))
        else:
            tags = dkim_tags(d.content.replace('" "', "").strip('"'))
            dkim.append(DkimExpectation(selector=d.selector, name=_norm(d.name), provider=d.provider,
                                        public_key=tags.get("p") or None))
    tokens = ses_tokens(outputs)
    ses_pending = False
    for _i, _p, ses_domain in plan.ses:
        if not tokens:
            ses_pending = True
            continue
        for t in tokens:
            dkim.append(DkimExpectation(selector=t, name=f"{t}._domainkey.{_norm(ses_domain)}", provider="ses",
                                        cname_target=f"{t}.dkim.amazonses.com"))
    dm = mail.dmarc
    dmarc = DmarcExpectation(policy=dm.policy, subdomain_policy=dm.subdomain_policy, rua=tuple(dm.rua),
                             ruf=tuple(dm.ruf), pct=dm.pct, adkim=dm.adkim, aspf=dm.aspf)
    mta_sts = None
    if mail.mta_sts is not None:
        mta_sts = MtaStsExpectation(mode=mail.mta_sts.mode, mx=tuple(mail.mta_sts.mx),
                                    max_age_min=mail.mta_sts.max_age)
    return MailExpectations(
        domain=domain, spf=spf, dkim=tuple(dkim), dmarc=dmarc, mx=tuple((int(p), _norm(h)) for p, h in plan.mx),
        mta_sts=mta_sts, tls_rpt_rua=tuple(mail.tls_rpt.rua) if mail.tls_rpt is not None else None,
        non_sending=tuple(_norm(n) for n in mail.non_sending), ses_dkim_pending=ses_pending)
